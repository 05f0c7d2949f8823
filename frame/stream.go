package frame

import (
	"errors"
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
