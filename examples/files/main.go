// Files is the batch platform's local_file_run (BatchInferenceClient's) in Go: a folder of CSV
// files scored into a folder of Parquet files, streamed, so memory stays
// near (2 x executors) batches however large the files are.
//
//	go run ./examples/files                       # generates 1M rows of input first
//	go run ./examples/files -rows 5000000 -batch 10000 -executors 2
//	go run ./examples/files -src in/ -dst out/ -format csv
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	_ "github.com/dfbatch/dfbatch/frame/parquet" // Parquet, the default output format
	"github.com/dfbatch/dfbatch/model"
)

var features = []string{"age", "tenure", "monthly_spend", "support_calls"}

// churnScore is a stand-in churn model: a logistic score of the features.
func churnScore(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
	x, err := in.Float64Matrix(nil, features...)
	if err != nil {
		return nil, err
	}
	ids, err := in.Col("customer_id")
	if err != nil {
		return nil, err
	}
	weights := []float64{-0.01, -0.05, 0.002, 0.3}
	p := make([]float64, in.NumRows())
	for r := range p {
		z := -0.5
		for j, w := range weights {
			z += w * x[r*len(weights)+j]
		}
		p[r] = 1 / (1 + math.Exp(-z))
	}
	return frame.New(frame.Column{Name: "customer_id", Values: ids}, frame.Float64s("Churn_Probability", p))
}

func main() {
	src := flag.String("src", "", "input file or folder (CSV, Parquet, Arrow or JSON Lines); empty: generate one")
	dst := flag.String("dst", "", "output folder; empty: a temporary folder")
	rows := flag.Int("rows", 1_000_000, "rows to generate when -src is empty")
	batch := flag.Int("batch", 10_000, "rows per task")
	executors := flag.Int("executors", 2, "tasks at once")
	format := flag.String("format", "parquet", "output format: csv, parquet, arrow or jsonl")
	flag.Parse()

	outFormat, err := frame.ParseFormat(*format)
	if err != nil {
		log.Fatal(err)
	}
	tmp, err := os.MkdirTemp("", "dfbatch-files-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	if *src == "" {
		*src = filepath.Join(tmp, "in")
		if err := generate(*src, *rows); err != nil {
			log.Fatal(err)
		}
	}
	if *dst == "" {
		*dst = filepath.Join(tmp, "out")
	}

	start := time.Now()
	client := engine.NewClient(model.Func(churnScore))
	report, err := client.RunFiles(context.Background(), engine.FileJob{Source: *src, Destination: *dst, OutputFormat: outFormat},
		engine.Options{BatchSize: *batch, Executors: *executors})
	elapsed := time.Since(start)
	fmt.Printf("state:      %s\n", report.State)
	fmt.Printf("tasks:      %d finished of %d\n", report.Finished, report.Tasks)
	fmt.Printf("rows:       %d in, %d out, %.2fM rows/s\n", report.RowsIn, report.RowsOut, float64(report.RowsOut)/elapsed.Seconds()/1e6)
	fmt.Printf("outputs:    %v\n", report.Outputs)
	fmt.Printf("peak RSS:   %d MiB\n", peakRSSMiB())
	if err != nil {
		for _, task := range report.Rerun() {
			fmt.Println("re-run", task)
		}
		log.Fatal(err)
	}
}

// generate writes a CSV of n customers to folder/customers.csv.
func generate(folder string, n int) error {
	if err := os.MkdirAll(folder, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(folder, "customers.csv"))
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "customer_id,age,tenure,monthly_spend,support_calls")
	for i := range n {
		fmt.Fprintf(w, "%d,%d,%d,%.2f,%d\n", i, 18+i%60, i%72, 20+float64(i%5000)/50, i%7)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

func peakRSSMiB() int64 {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return -1
	}
	return u.Maxrss / 1024 // Linux reports KiB
}
