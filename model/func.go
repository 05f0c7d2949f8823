package model

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/go-gota/gota/dataframe"
)

// Func is a model written as a function of a frame. It is its own loader:
// every executor calls the same function, so it must be safe for concurrent
// use (a pure function is).
type Func func(ctx context.Context, in *frame.Frame) (*frame.Frame, error)

// Predict calls f.
func (f Func) Predict(ctx context.Context, in *frame.Frame) (*frame.Frame, error) { return f(ctx, in) }

// Load returns f itself.
func (f Func) Load(context.Context, Executor) (Model, error) { return f, nil }

// DataFrameFunc is a model written as a function of a gota DataFrame, for
// code that already works on gota. Each batch is converted to a DataFrame
// and the result back, which costs time proportional to the batch; Func
// avoids it. Like Func, it must be safe for concurrent use.
type DataFrameFunc func(ctx context.Context, in dataframe.DataFrame) (dataframe.DataFrame, error)

// Predict converts in to a DataFrame, calls f and converts the result back.
func (f DataFrameFunc) Predict(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
	out, err := f(ctx, in.ToDataFrame())
	if err != nil {
		return nil, err
	}
	if out.Err != nil {
		return nil, fmt.Errorf("the model returned a DataFrame carrying an error: %w", out.Err)
	}
	return frame.FromDataFrame(out)
}

// Load returns f itself.
func (f DataFrameFunc) Load(context.Context, Executor) (Model, error) { return f, nil }

// WithOutputSchema declares the columns l's models return, so that a run
// over zero rows returns an empty frame with those columns.
func WithOutputSchema(l Loader, schema *arrow.Schema) Loader {
	return schemaLoader{Loader: l, schema: schema}
}

type schemaLoader struct {
	Loader
	schema *arrow.Schema
}

func (s schemaLoader) OutputSchema(*arrow.Schema) (*arrow.Schema, error) { return s.schema, nil }
