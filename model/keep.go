package model

import (
	"context"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dfbatch/dfbatch/frame"
)

// WithInputColumns makes l's models carry the named input columns into
// their output, before the predictions, so that results can be joined back
// to their inputs (an id column, say). A kept column that the model also
// outputs is an error naming it.
func WithInputColumns(l Loader, columns ...string) Loader {
	return keeping(l, func(*arrow.Schema) []string { return columns })
}

// WithPandasIndex makes l's models carry the input's pandas index columns
// (frame.PandasIndexColumns) into their output, first, so that the scores
// of a frame that pandas wrote with its index line up with it again: the
// unnamed first column of a CSV written by to_csv, which read_csv's
// index_col=0 restores, or the named or __index_level_0__ column of a
// Parquet or Feather file. Inputs without one keep nothing.
func WithPandasIndex(l Loader) Loader {
	return keeping(l, frame.PandasIndexColumns)
}

// keeping wraps l in a loader whose models carry the input columns that
// columns names, given the input's schema, into their output.
func keeping(l Loader, columns func(*arrow.Schema) []string) Loader {
	k := keepLoader{Loader: l, columns: columns}
	if s, ok := l.(OutputSchemer); ok {
		return keepSchemaLoader{keepLoader: k, schemer: s}
	}
	return k
}

type keepLoader struct {
	Loader
	columns func(*arrow.Schema) []string
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
	keep := k.columns(input)
	fields := make([]arrow.Field, 0, len(keep)+out.NumFields())
	for _, name := range keep {
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

// keepModel prepends kept input columns to its model's output. It is safe
// to share only if its model is.
//
// It always has Close and Prepare, which call its model's when the model is
// an io.Closer or a Preparer and do nothing otherwise: embedding Model alone
// would hide them, leaving a subprocess unclosed and unprepared. A no-op
// costs the executor nothing, so one type serves every model rather than
// one per combination of the interfaces.
type keepModel struct {
	Model
	columns func(*arrow.Schema) []string
}

// Close closes the model if it is an io.Closer.
func (k keepModel) Close() error {
	if c, ok := k.Model.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// Prepare prepares the model if it is a Preparer.
func (k keepModel) Prepare(ctx context.Context) error {
	if p, ok := k.Model.(Preparer); ok {
		return p.Prepare(ctx)
	}
	return nil
}

func (k keepModel) Predict(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
	kept, err := in.Select(k.columns(in.Schema())...)
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
