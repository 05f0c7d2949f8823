// Quickstart is the reference example of the hosted batch-inference
// platform's Python client (BatchInferenceClient.run, see DESIGN.md), in Go:
// a frame of 1000 rows and 2 columns of random integers 0..9, customer_a and
// customer_b, scored in batches of 50 rows by 5 executors with 1 CPU and
// 512 MiB each. Every task's model reads its parameter attribute=customer_a,
// drops the column it names, as the reference's model does with
// df.drop(attribute), and returns one column, Churn_Probability.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"
	"time"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
)

// predict is the model: it drops the column its parameter attribute names
// and scores each row from the columns left, the mean of their values over
// 9, a probability in [0, 1].
func predict(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
	attribute := model.Getenv(ctx, "attribute")
	in, err := in.Drop(attribute) // as the reference's model does df.drop(attribute)
	if err != nil {
		return nil, fmt.Errorf("the parameter attribute: %w", err)
	}
	features := in.ColumnNames()
	x, err := in.Float64Matrix(nil, features...)
	if err != nil {
		return nil, err
	}
	p := make([]float64, in.NumRows())
	for r := range p {
		for _, v := range x[r*len(features) : (r+1)*len(features)] {
			p[r] += v
		}
		p[r] /= 9 * float64(len(features))
	}
	time.Sleep(20 * time.Millisecond) // stands for a real model's work per batch
	return frame.New(frame.Float64s("Churn_Probability", p))
}

// summary is what the quickstart prints.
type summary struct {
	report      engine.Report
	id          string
	mostRunning int // the most tasks seen in flight at once
	out         dataframe.DataFrame
	inOrder     bool // each output row is its input row's score
}

// run scores the reference example's frame: 1000 rows of two integer
// columns 0..9, batch 50, 5 executors, attribute=customer_a.
func run(ctx context.Context) (summary, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	a, b := make([]int, 1000), make([]int, 1000)
	for i := range a {
		a[i], b[i] = rng.IntN(10), rng.IntN(10)
	}
	df := dataframe.New(series.New(a, series.Int, "customer_a"), series.New(b, series.Int, "customer_b"))

	client := engine.NewClient(model.Func(predict))
	execution, err := client.StartDataFrame(ctx, df, engine.Options{
		BatchSize:  50,
		Executors:  5,
		CPUs:       1,
		Memory:     512,
		Parameters: map[string]string{"attribute": "customer_a"},
	})
	if err != nil {
		return summary{}, err
	}
	s := summary{id: execution.ID()}
	running := 0
	for ev := range execution.Events() {
		switch ev.Kind {
		case engine.TaskStarted:
			running++
			s.mostRunning = max(s.mostRunning, running)
		default:
			running--
		}
	}
	s.out, err = execution.WaitDataFrame()
	if err != nil {
		return summary{}, err
	}
	s.report = execution.Report()
	// customer_a is dropped, so each row's probability is customer_b / 9.
	p := s.out.Col("Churn_Probability").Float()
	s.inOrder = len(p) == len(b)
	for i := range p {
		s.inOrder = s.inOrder && p[i] == float64(b[i])/9
	}
	return s, nil
}

func main() {
	s, err := run(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("execution:        %s (%s in %s)\n", s.id, s.report.State, s.report.Duration.Round(time.Millisecond))
	fmt.Printf("tasks:            %d\n", s.report.Tasks)
	fmt.Printf("most in flight:   %d\n", s.mostRunning)
	fmt.Printf("rows out:         %d\n", s.out.Nrow())
	fmt.Printf("order matches:    %t\n", s.inOrder)
	fmt.Println(s.out.Subset([]int{0, 1, 2, 3, 4}))
}
