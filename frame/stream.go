package frame

import (
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
)

// Reader streams a table as a sequence of frames that share one schema.
// Each frame's RowOffset is the row number of its first row in the stream,
// so errors name rows as they are numbered in the file.
type Reader interface {
	// Schema returns the schema every frame of the stream has.
	Schema() *arrow.Schema
	// Next returns the next frame, or io.EOF when the stream is exhausted.
	Next() (*Frame, error)
	// Close releases the underlying file or stream.
	Close() error
}

// Writer writes a sequence of frames that share one schema as one table.
type Writer interface {
	// Write appends the frame's rows. A frame whose schema differs from the
	// first one written is an error naming the column that differs.
	Write(f *Frame) error
	// Close flushes what is buffered and finishes the file's footer, if its
	// format has one. It does not close an io.Writer the caller passed in.
	Close() error
}

// ReadAll reads the rest of r into one frame, numbered from row 0, and
// closes r: a frame of r's columns and no rows when nothing is left. It
// holds the whole table in memory; stream large inputs instead.
func ReadAll(r Reader) (_ *Frame, err error) {
	defer func() {
		if cerr := r.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	var parts []*Frame
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		parts = append(parts, f)
	}
	if len(parts) == 0 {
		return Empty(r.Schema()), nil
	}
	f, err := Concat(parts...)
	if err != nil {
		return nil, err
	}
	return f.WithRowOffset(0), nil
}

// NewFrameReader returns a Reader of f's rows, in frames of
// DefaultBatchRows rows or as WithBatchRows says (the last may have fewer),
// numbered from row 0 of f: the in-memory input for Client.Stream, or for
// anything else that takes a Reader. The frames are zero-copy slices of f.
// WithBatchRows is its only option.
func NewFrameReader(f *Frame, opts ...ReadOption) (Reader, error) {
	if f == nil {
		return nil, fmt.Errorf("frame: NewFrameReader of a nil frame")
	}
	cfg := readConfig{batchRows: DefaultBatchRows}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.batchRows <= 0 {
		return nil, fmt.Errorf("frame: WithBatchRows(%d): a batch needs at least one row", cfg.batchRows)
	}
	if cfg.columnTypes != nil || cfg.naValues != nil || cfg.delimiter != 0 || cfg.thousands != 0 || cfg.decimal != 0 {
		return nil, fmt.Errorf("frame: NewFrameReader takes WithBatchRows only: a frame's values are already typed")
	}
	return &frameReader{f: f, rows: cfg.batchRows}, nil
}

type frameReader struct {
	f      *Frame
	rows   int
	next   int
	closed bool
}

// Schema implements Reader.
func (r *frameReader) Schema() *arrow.Schema { return r.f.Schema() }

// Next implements Reader.
func (r *frameReader) Next() (*Frame, error) {
	if r.closed {
		return nil, fmt.Errorf("frame: reading a frame: Next after Close")
	}
	if r.next >= r.f.NumRows() {
		return nil, io.EOF
	}
	start := r.next
	r.next = min(start+r.rows, r.f.NumRows())
	return r.f.Slice(start, r.next).WithRowOffset(start), nil
}

// Close implements Reader. Frames already returned stay valid.
func (r *frameReader) Close() error {
	r.closed = true
	return nil
}
