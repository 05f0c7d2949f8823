// Quickstart is the reference platform's own batch example in Go: a frame of
// 1000 rows and 2 columns of random integers 0..9, scored in batches of 50
// rows by 5 executors with 1 CPU and 512 MiB each, every task's model seeing
// the parameter attribute=customer_a.
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

// predict is the model: it reads its parameter as the reference's models
// read os.getenv("attribute", "default_customer"), and scores each row.
func predict(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
	customer, ok := model.LookupEnv(ctx, "attribute")
	if !ok {
		customer = "default_customer"
	}
	a, err := in.Int64Col("A")
	if err != nil {
		return nil, err
	}
	b, err := in.Int64Col("B")
	if err != nil {
		return nil, err
	}
	scores := make([]float64, in.NumRows())
	customers := make([]string, in.NumRows())
	for i := range scores {
		scores[i] = float64(a.Value(i)*10+b.Value(i)) / 99
		customers[i] = customer
	}
	time.Sleep(20 * time.Millisecond) // stands for a real model's work per batch
	return in.WithColumns(frame.Float64s("score", scores), frame.Strings("customer", customers))
}

func main() {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	a, b := make([]int, 1000), make([]int, 1000)
	for i := range a {
		a[i], b[i] = rng.IntN(10), rng.IntN(10)
	}
	df := dataframe.New(series.New(a, series.Int, "A"), series.New(b, series.Int, "B"))

	client := engine.NewClient(model.Func(predict))
	execution, err := client.StartDataFrame(ctx, df, engine.Options{
		BatchSize:  50,
		Executors:  5,
		CPUs:       1,
		Memory:     512,
		Parameters: map[string]string{"attribute": "customer_a"},
	})
	if err != nil {
		log.Fatal(err)
	}
	running, mostRunning := 0, 0
	for ev := range execution.Events() {
		switch ev.Kind {
		case engine.TaskStarted:
			running++
			mostRunning = max(mostRunning, running)
		default:
			running--
		}
	}
	out, err := execution.WaitDataFrame()
	if err != nil {
		log.Fatal(err)
	}

	report := execution.Report()
	inOrder := true
	outA, _ := out.Col("A").Int()
	outB, _ := out.Col("B").Int()
	for i := range a {
		inOrder = inOrder && i < len(outA) && outA[i] == a[i] && outB[i] == b[i]
	}
	fmt.Printf("execution:        %s (%s in %s)\n", execution.ID(), report.State, report.Duration.Round(time.Millisecond))
	fmt.Printf("tasks:            %d\n", report.Tasks)
	fmt.Printf("most in flight:   %d\n", mostRunning)
	fmt.Printf("rows out:         %d\n", out.Nrow())
	fmt.Printf("order matches:    %t\n", inOrder)
	fmt.Println(out.Subset([]int{0, 1, 2, 3, 4}))
}
