package model

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dfbatch/dfbatch/frame"
)

// WithInputColumns makes l's models carry the named input columns into
// their output, before the predictions, so that results can be joined back
// to their inputs (an id column, say). A kept column that the model also
// outputs is an error naming it.
func WithInputColumns(l Loader, columns ...string) Loader {
	k := keepLoader{Loader: l, columns: columns}
	if s, ok := l.(OutputSchemer); ok {
		return keepSchemaLoader{keepLoader: k, schemer: s}
	}
	return k
}

type keepLoader struct {
	Loader
	columns []string
}

func (k keepLoader) Load(ctx context.Context, exec Executor) (Model, error) {
	m, err := k.Loader.Load(ctx, exec)
	if err != nil {
		return nil, err
	}
	return keepModel{Model: m, columns: k.columns}, nil
}

type keepSchemaLoader struct {
	keepLoader
	schemer OutputSchemer
}

func (k keepSchemaLoader) OutputSchema(input *arrow.Schema) (*arrow.Schema, error) {
	out, err := k.schemer.OutputSchema(input)
	if err != nil {
		return nil, err
	}
	fields := make([]arrow.Field, 0, len(k.columns)+out.NumFields())
	for _, name := range k.columns {
		i := input.FieldIndices(name)
		if len(i) == 0 {
			return nil, &frame.ColumnError{Column: name, Row: -1, Err: fmt.Errorf("is not in the input, so it cannot be kept")}
		}
		fields = append(fields, input.Field(i[0]))
	}
	for i := range out.NumFields() {
		fields = append(fields, out.Field(i))
	}
	return arrow.NewSchema(fields, nil), nil
}

// keepModel prepends kept input columns to its model's output. Unlike its
// model, it is safe to share only if the model is.
type keepModel struct {
	Model
	columns []string
}

func (k keepModel) Predict(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
	kept, err := in.Select(k.columns...)
	if err != nil {
		return nil, fmt.Errorf("keeping input columns: %w", err)
	}
	out, err := k.Model.Predict(ctx, in)
	if err != nil {
		return nil, err
	}
	cols := make([]frame.Column, 0, kept.NumCols()+out.NumCols())
	for i, name := range kept.ColumnNames() {
		if _, clash := out.Lookup(name); clash {
			return nil, &frame.ColumnError{Column: name, Row: -1, Err: fmt.Errorf("is both a kept input column and a model output; rename the output")}
		}
		cols = append(cols, frame.Column{Name: name, Values: kept.Column(i)})
	}
	for i, name := range out.ColumnNames() {
		cols = append(cols, frame.Column{Name: name, Values: out.Column(i)})
	}
	return frame.New(cols...)
}
