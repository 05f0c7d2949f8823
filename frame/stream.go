package frame

import (
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
