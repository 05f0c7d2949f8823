// Python-model scores the churn example of the batch platform's
// Python client (BatchInferenceClient) with a model
// written in Python and pandas (predict.py), from Go: dfbatch starts one
// Python process per executor and sends it the batches; the run's parameter
// "attribute" is a real environment variable inside the process, which
// predict reads with os.getenv, as the reference's models do.
//
//	go run ./examples/python-model
//	go run ./examples/python-model -attribute age -executors 2 -python /usr/bin/python3
//
// It needs a Python 3 with pandas: -python, else $DFBATCH_PYTHON, else the
// first of python3 on the PATH and /usr/bin/python3 that imports pandas
// (Debian: apt-get install python3-pandas). The CLI runs the same script:
//
//	dfbatch run --command "python3 examples/python-model/predict.py" --input examples/python-model/customers.csv --output scored.csv --batch-size 100
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
	"github.com/dfbatch/dfbatch/model/subprocess"
)

//go:embed predict.py
var predictPy []byte

//go:embed customers.csv
var customersCSV []byte

func main() {
	python := flag.String("python", "", "Python 3 interpreter with pandas (default: $DFBATCH_PYTHON, else python3 or /usr/bin/python3 if it has pandas)")
	attribute := flag.String("attribute", "customer_segment", "the column the model drops (the reference's parameter)")
	batch := flag.Int("batch", 100, "rows per task")
	executors := flag.Int("executors", 4, "Python processes scoring at once")
	flag.Parse()
	if err := run(*python, *attribute, *batch, *executors); err != nil {
		log.Fatal(err)
	}
}

func run(python, attribute string, batch, executors int) error {
	if python == "" {
		var err error
		if python, err = subprocess.FindPython("pandas"); err != nil {
			return err
		}
	}
	dir, err := os.MkdirTemp("", "dfbatch-python-model-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "predict.py")
	if err := os.WriteFile(script, predictPy, 0o644); err != nil {
		return err
	}
	input := filepath.Join(dir, "customers.csv")
	if err := os.WriteFile(input, customersCSV, 0o644); err != nil {
		return err
	}
	r, err := frame.OpenFile(input, frame.CSV)
	if err != nil {
		return err
	}
	customers, err := frame.ReadAll(r)
	if err != nil {
		return err
	}

	client := engine.NewClient(subprocess.Command{Args: []string{python, script}})
	e, err := client.Start(context.Background(), customers, engine.Options{
		BatchSize: batch, Executors: executors, CPUs: 1,
		Parameters: map[string]string{"attribute": attribute},
	})
	if err != nil {
		return err
	}
	out, err := e.Wait()
	if err != nil {
		return err
	}
	report := e.Report()
	dropped, err := out.StringCol("dropped")
	if err != nil {
		return err
	}
	fmt.Printf("python:           %s\n", python)
	fmt.Printf("execution:        %s (%s in %s)\n", e.ID(), report.State, report.Duration.Round(time.Millisecond))
	fmt.Printf("tasks:            %d on %d Python processes\n", report.Tasks, executors)
	fmt.Printf("rows out:         %d\n", out.NumRows())
	fmt.Printf("column dropped:   %s (the attribute parameter, as os.getenv saw it)\n", dropped.Value(0))
	fmt.Println(out.Head(5))
	return nil
}
