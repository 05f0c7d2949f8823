// Package fileformat is the contract between package frame and the
// packages of file formats that frame does not link in itself, such as
// frame/parquet: a format registers how it reads record batches from a
// file and how it encodes them, and frame wraps both in its Reader and
// Writer (batching, row numbering, schema checks, errors that name the
// file). A program so pays for a format's dependencies only when it
// imports the format's package, as with image/png or a database/sql
// driver.
package fileformat

import (
	"io"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
)

// Records is a file's record batches as a format reads them, of any sizes.
type Records struct {
	// Schema is the schema of every record.
	Schema *arrow.Schema
	// Next returns the next record, which is the caller's to keep, or nil
	// after the last. Not io.EOF: a library error that wraps io.EOF must
	// not pass for the end of a truncated file.
	Next func() (arrow.RecordBatch, error)
	// Close releases what the format holds; the records stay valid.
	Close func() error
}

// Encoder writes records to one output. Like Records, it is a struct of
// functions: an interface's methods would be kept by the linker in every
// type that has methods of those names.
type Encoder struct {
	// Begin is called once, before any Write, with the output's schema.
	Begin func(schema *arrow.Schema) error
	// Write encodes a record with Begin's schema and at least one row. It
	// must not keep the record once it returns.
	Write func(rec arrow.RecordBatch) error
	// End finishes the output.
	End func() error
}

// WriteSettings are the writer options that reach a format, checked by
// frame beforehand.
type WriteSettings struct {
	// Compression names the codec; "" is the format's default.
	Compression string
	// RowGroupRows caps a row group; 0 is the format's default.
	RowGroupRows int
}

// Codec reads and writes one format.
type Codec struct {
	// Read opens the file that src holds; batchRows is the size of the
	// frames the reader will hand out, a hint for the format's reads.
	Read func(src *io.SectionReader, batchRows int) (Records, error)
	// NewEncoder returns an encoder to w, which it must not close.
	NewEncoder func(w io.Writer, s WriteSettings) Encoder
}

var (
	mu     sync.RWMutex
	codecs = map[string]Codec{}
)

// Register makes c the codec of the format named name (a frame.Format).
// Format packages call it from init.
func Register(name string, c Codec) {
	mu.Lock()
	defer mu.Unlock()
	codecs[name] = c
}

// Lookup returns the codec registered for the format named name.
func Lookup(name string) (Codec, bool) {
	mu.RLock()
	defer mu.RUnlock()
	c, ok := codecs[name]
	return c, ok
}

// Unregister removes the codec of the format named name and returns a
// function that registers it again, for tests of a program without it.
func Unregister(name string) (restore func()) {
	mu.Lock()
	defer mu.Unlock()
	c, ok := codecs[name]
	delete(codecs, name)
	return func() {
		if ok {
			Register(name, c)
		}
	}
}
