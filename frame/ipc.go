package frame

import (
	"bytes"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
)

// NewArrowReader reads an Arrow IPC file (Feather v2) of size bytes from r,
// record batch by record batch; it also reads the Arrow IPC stream format.
// Frames hold the file's own types. Nothing is read twice and only the
// current batch is held, so r may be a large file.
func NewArrowReader(r io.ReaderAt, size int64, opts ...ReadOption) (Reader, error) {
	cfg, err := newReadConfig(Arrow, opts)
	if err != nil {
		return nil, err
	}
	return newArrowReader(io.NewSectionReader(r, 0, size), "Arrow input", cfg)
}

func newArrowReader(src *io.SectionReader, name string, cfg readConfig) (Reader, error) {
	b := &batcher{name: name, rows: cfg.batchRows}
	magic := make([]byte, len(ipc.Magic))
	n, _ := src.ReadAt(magic, 0)
	magic = magic[:n]
	switch {
	case bytes.Equal(magic, ipc.Magic):
		fr, err := ipc.NewFileReader(src, ipc.WithAllocator(allocator))
		if err != nil {
			return nil, fmt.Errorf("frame: reading %s: %w", name, err)
		}
		i := 0
		b.schema = fr.Schema()
		b.next = func() (arrow.RecordBatch, error) {
			if i >= fr.NumRecords() {
				return nil, nil
			}
			i++
			// RecordBatchAt, unlike RecordBatch, hands over ownership, so
			// the record outlives the reader's next read.
			return fr.RecordBatchAt(i - 1)
		}
		b.close = fr.Close
	case bytes.HasPrefix(magic, []byte("FEA1")):
		return nil, fmt.Errorf("frame: reading %s: Feather v1 files are not supported; rewrite the file as Feather v2 (Arrow IPC)", name)
	default:
		sr, err := ipc.NewReader(src, ipc.WithAllocator(allocator))
		if err != nil {
			return nil, fmt.Errorf("frame: reading %s: neither an Arrow IPC file (no ARROW1 magic) nor an Arrow IPC stream: %w", name, err)
		}
		b.schema = sr.Schema()
		b.next = func() (arrow.RecordBatch, error) {
			if !sr.Next() {
				return nil, sr.Err()
			}
			// The stream reader releases its record on the next call.
			rec := sr.RecordBatch()
			rec.Retain()
			return rec, nil
		}
		b.close = func() error {
			sr.Release()
			return nil
		}
	}
	return b, nil
}

// NewArrowWriter returns a Writer of the Arrow IPC file format (Feather v2,
// uncompressed) to w. Each Write adds one record batch; Close writes the
// footer that makes the file readable.
func NewArrowWriter(w io.Writer, opts ...WriteOption) (Writer, error) {
	cfg, err := newWriteConfig(opts)
	if err != nil {
		return nil, err
	}
	return newTableWriter("Arrow output", &arrowEncoder{w: w}, cfg), nil
}

type arrowEncoder struct {
	w  io.Writer
	fw *ipc.FileWriter
}

func (e *arrowEncoder) begin(schema *arrow.Schema) error {
	fw, err := ipc.NewFileWriter(e.w, ipc.WithSchema(schema), ipc.WithAllocator(allocator))
	e.fw = fw
	return err
}

func (e *arrowEncoder) write(rec arrow.RecordBatch) error { return e.fw.Write(rec) }

func (e *arrowEncoder) end() error { return e.fw.Close() }
