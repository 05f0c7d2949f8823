package frame

import (
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
)

// batcher turns the record batches a file holds, whatever their sizes, into
// the Reader contract: frames of exactly rows rows (the last may have fewer),
// numbered from the stream's first row. Records larger than a batch are
// sliced without copying; only a batch made of several records is copied.
type batcher struct {
	name   string
	schema *arrow.Schema
	rows   int
	// next returns the stream's next record, which must be the batcher's to
	// keep, or nil at the end. Not io.EOF: a library error that wraps io.EOF
	// must not pass for the end of a truncated file.
	next  func() (arrow.RecordBatch, error)
	close func() error
	// rest holds the rows of the last record that no frame has taken yet.
	rest   *Frame
	offset int
	err    error
}

// Schema implements Reader.
func (b *batcher) Schema() *arrow.Schema { return b.schema }

// Next implements Reader.
func (b *batcher) Next() (*Frame, error) {
	if b.err != nil {
		return nil, b.err
	}
	var parts []*Frame
	n := 0
	for n < b.rows {
		if b.rest == nil {
			rec, err := b.next()
			if err != nil {
				b.err = fmt.Errorf("frame: reading %s: %w", b.name, err)
				return nil, b.err
			}
			if rec == nil {
				break
			}
			// The reader's schema, not the record's, so that every frame
			// of the stream shares one schema value.
			f, err := FromArrays(b.schema, rec.Columns())
			if err != nil {
				b.err = fmt.Errorf("frame: reading %s: %w", b.name, err)
				return nil, b.err
			}
			if f.NumRows() > 0 {
				b.rest = f
			}
			continue
		}
		take := min(b.rows-n, b.rest.NumRows())
		parts = append(parts, b.rest.Slice(0, take))
		n += take
		if take == b.rest.NumRows() {
			b.rest = nil
		} else {
			b.rest = b.rest.Slice(take, b.rest.NumRows())
		}
	}
	if n == 0 {
		b.err = io.EOF
		return nil, io.EOF
	}
	f, err := Concat(parts...)
	if err != nil {
		b.err = fmt.Errorf("frame: reading %s: %w", b.name, err)
		return nil, b.err
	}
	f = f.WithRowOffset(b.offset)
	b.offset += n
	return f, nil
}

// Close implements Reader. Frames already returned stay valid.
func (b *batcher) Close() error {
	if b.close == nil {
		return nil
	}
	b.err = fmt.Errorf("frame: reading %s: Next after Close", b.name)
	b.rest = nil
	err := b.close()
	b.close = nil
	if err != nil {
		return fmt.Errorf("frame: closing %s: %w", b.name, err)
	}
	return nil
}
