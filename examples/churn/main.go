// Churn is the churn example of the batch platform's Python client
// (BatchInferenceClient) in Go: a gradient-boosted
// tree churn model exported to ONNX scores a CSV of customers in batches.
// As in the reference, the parameter "attribute" names a column the model
// drops before scoring; the output is each customer's Churn_Probability.
//
//	go run ./examples/churn
//	go run ./examples/churn -attribute customer_segment -batch 100 -executors 4
//
// churn.onnx and customers.csv are copies of testdata/onnx/churn.onnx and
// churn_customers.csv, made by tools/onnxfixtures.
package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
	"github.com/dfbatch/dfbatch/model/onnx"
)

//go:embed churn.onnx
var churnModel []byte

//go:embed customers.csv
var customersCSV []byte

// features are the model's input columns, in its input order.
var features = []string{"age", "tenure_months", "monthly_charges", "total_charges", "support_calls", "contract_type"}

// dropAttribute wraps the ONNX model's instances: each batch loses the
// column the task's "attribute" parameter names before it is scored.
type dropAttribute struct{ onnx *onnx.Loader }

func (d dropAttribute) Load(ctx context.Context, exec model.Executor) (model.Model, error) {
	m, err := d.onnx.Load(ctx, exec)
	if err != nil {
		return nil, err
	}
	return model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		batch, err := in.Drop(model.Getenv(ctx, "attribute"))
		if err != nil {
			return nil, err
		}
		return m.Predict(ctx, batch)
	}), nil
}

func main() {
	attribute := flag.String("attribute", "customer_segment", "the column the model drops before scoring")
	batch := flag.Int("batch", 100, "rows per task")
	executors := flag.Int("executors", 4, "tasks at once")
	flag.Parse()

	scorer, err := onnx.New("churn.onnx", churnModel, onnx.Options{
		Features: features,
		Outputs:  map[string]string{"probabilities_1": "Churn_Probability"},
		Columns:  []string{"Churn_Probability"},
	})
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "dfbatch-churn-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	input := filepath.Join(dir, "customers.csv")
	if err := os.WriteFile(input, customersCSV, 0o644); err != nil {
		log.Fatal(err)
	}
	output := filepath.Join(dir, "scored.csv")

	client := engine.NewClient(model.WithInputColumns(dropAttribute{scorer}, "customer_id"))
	report, err := client.RunFiles(context.Background(), engine.FileJob{Source: input, Destination: output}, engine.Options{
		BatchSize: *batch, Executors: *executors, CPUs: 1, Memory: 512,
		Parameters: map[string]string{"attribute": *attribute},
	})
	if err != nil {
		log.Fatal(err)
	}
	scored, err := os.ReadFile(output)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("tasks: %d, rows: %d in, %d out, %s\n", report.Tasks, report.RowsIn, report.RowsOut, report.Duration.Round(time.Millisecond))
	lines := 0
	for i, b := range scored {
		if b == '\n' {
			lines++
			if lines == 6 {
				scored = scored[:i+1]
				break
			}
		}
	}
	fmt.Print(string(scored))
}
