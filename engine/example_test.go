package engine_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
)

func ExampleClient_Run() {
	// A model reads its task's parameters as it would environment variables.
	greet := model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		names, err := in.StringCol("name")
		if err != nil {
			return nil, err
		}
		greetings := make([]string, names.Len())
		for i := range greetings {
			greetings[i] = model.Getenv(ctx, "greeting") + ", " + names.Value(i)
		}
		return frame.New(frame.Strings("greeting", greetings))
	})
	df := dataframe.New(series.New([]string{"Ada", "Grace", "Edsger"}, series.String, "name"))

	client := engine.NewClient(greet)
	out, err := client.Run(context.Background(), df, engine.Options{
		BatchSize:  2,
		Executors:  2,
		Parameters: map[string]string{"greeting": "Hello"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out.Col("greeting").Records())
	// Output: [Hello, Ada Hello, Grace Hello, Edsger]
}

func ExampleExecution_Report() {
	// Task 1 fails: the report names its rows so exactly those can be re-run.
	m := model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		if task, _ := model.TaskFrom(ctx); task.Index == 1 {
			return nil, errors.New("scoring service unavailable")
		}
		return in, nil
	})
	in, _ := frame.New(frame.Int64s("id", []int64{0, 1, 2, 3, 4, 5, 6}))
	execution, _ := engine.NewClient(m).Start(context.Background(), in, engine.Options{BatchSize: 3, MaxFailedTasks: 1})
	out, err := execution.Wait()
	// A tolerated failure (MaxFailedTasks) is still an error: the output
	// lacks its rows.
	fmt.Println("rows out:", out.NumRows(), "partial:", errors.Is(err, engine.ErrPartial), "state:", execution.Report().State)
	for _, task := range execution.Report().Rerun() {
		fmt.Println("re-run", task)
	}
	// Output:
	// rows out: 4 partial: true state: partial
	// re-run task 1 (rows 3-5)
}
