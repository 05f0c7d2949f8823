package frame

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// encoder is what one file format adds to tableWriter, which keeps the
// bookkeeping every format shares: the schema taken from the first frame,
// schema checks, empty outputs, errors that name the output.
type encoder interface {
	// begin is called once, before any write, with the output's schema.
	begin(schema *arrow.Schema) error
	// write encodes a record with begin's schema and at least one row. It
	// must not keep the record once it returns.
	write(rec arrow.RecordBatch) error
	// end finishes the output.
	end() error
}

type tableWriter struct {
	name    string
	enc     encoder
	schema  *arrow.Schema
	started bool
	closed  bool
	// err is the first encoding error: after it the output is broken, and
	// every later call reports it.
	err error
}

func newTableWriter(name string, enc encoder, cfg writeConfig) *tableWriter {
	w := &tableWriter{name: name, enc: enc}
	if cfg.schema != nil {
		w.schema = nullable(cfg.schema)
	}
	return w
}

// Write implements Writer.
func (w *tableWriter) Write(f *Frame) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return fmt.Errorf("frame: writing %s: Write after Close", w.name)
	}
	if f == nil {
		return fmt.Errorf("frame: writing %s: nil frame", w.name)
	}
	if w.schema == nil {
		w.schema = nullable(f.Schema())
	} else if err := SameSchema(w.schema, f.Schema()); err != nil {
		// Not sticky: nothing was written, and the next frame may be right.
		return fmt.Errorf("frame: writing %s: %w", w.name, err)
	}
	if err := w.start(); err != nil {
		return err
	}
	if f.NumRows() == 0 {
		return nil
	}
	// The frame's schema may differ from the writer's in nullability and
	// metadata, which the Arrow and Parquet writers would reject.
	rec := array.NewRecordBatch(w.schema, f.columns, int64(f.rows))
	defer rec.Release()
	if err := w.enc.write(rec); err != nil {
		return w.fail(err)
	}
	return nil
}

// Close implements Writer. Closing twice is harmless.
func (w *tableWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	if err := w.start(); err != nil {
		return err
	}
	if err := w.enc.end(); err != nil {
		return w.fail(err)
	}
	return nil
}

func (w *tableWriter) start() error {
	if w.started {
		return nil
	}
	w.started = true
	if w.schema == nil {
		w.schema = arrow.NewSchema(nil, nil)
	}
	if err := w.enc.begin(w.schema); err != nil {
		return w.fail(err)
	}
	return nil
}

func (w *tableWriter) fail(err error) error {
	w.err = fmt.Errorf("frame: writing %s: %w", w.name, err)
	return w.err
}

// nullable returns s with every column nullable. Frames of one stream may
// disagree on nullability (a file's required column, then a model's output
// built with New), and a writer that declared a column required would drop
// the nulls of later frames.
func nullable(s *arrow.Schema) *arrow.Schema {
	fields := s.Fields()
	for i := range fields {
		fields[i].Nullable = true
	}
	md := s.Metadata()
	return arrow.NewSchema(fields, &md)
}
