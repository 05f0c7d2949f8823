package frame

import (
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dfbatch/dfbatch/frame/internal/fileformat"
)

// parquetImport is the import that links Parquet into a program.
const parquetImport = `import _ "github.com/dfbatch/dfbatch/frame/parquet"`

// registered returns the codec that a format package registered for
// format, or an error naming the import that registers it.
func registered(format Format) (fileformat.Codec, error) {
	c, ok := fileformat.Lookup(string(format))
	if !ok {
		return c, fmt.Errorf("frame: %s is not linked into this program: add %s to its main package", format, parquetImport)
	}
	return c, nil
}

// NewParquetReader reads a Parquet file of size bytes from r, batch by
// batch: pages are read as the batches need them, never the whole file or a
// whole row group at once. Frames hold the Arrow types the file stores, or
// that its Parquet types map to. It needs frame/parquet imported (see
// there); without it, it returns an error that says so.
func NewParquetReader(r io.ReaderAt, size int64, opts ...ReadOption) (Reader, error) {
	cfg, err := newReadConfig(Parquet, opts)
	if err != nil {
		return nil, err
	}
	return newRegisteredReader(io.NewSectionReader(r, 0, size), "Parquet input", Parquet, cfg)
}

func newRegisteredReader(src *io.SectionReader, name string, format Format, cfg readConfig) (Reader, error) {
	c, err := registered(format)
	if err != nil {
		return nil, err
	}
	recs, err := c.Read(src, cfg.batchRows)
	if err != nil {
		return nil, fmt.Errorf("frame: reading %s: %w", name, err)
	}
	return &batcher{name: name, schema: recs.Schema, rows: cfg.batchRows, next: recs.Next, close: recs.Close}, nil
}

// NewParquetWriter returns a Writer of a Parquet file to w, Snappy-compressed
// unless WithCompression says otherwise. Frames are buffered into row
// groups of up to about a million rows (WithRowGroupRows) or 64 MiB,
// so that many small frames do not make many tiny row groups. The Arrow
// schema is stored in the file, so types Parquet lacks (uint32, float16...)
// read back as they were written, except the view types, which Parquet's
// Arrow writer does not take: string_view and binary_view columns (polars
// writes its strings so) are written, and read back, as string and binary.
// It needs frame/parquet imported (see there); without it, it returns an
// error that says so.
func NewParquetWriter(w io.Writer, opts ...WriteOption) (Writer, error) {
	return NewWriter(w, "Parquet output", Parquet, opts...)
}

// registeredEncoder is a format package's encoder as a tableWriter's.
type registeredEncoder fileformat.Encoder

func (e registeredEncoder) begin(schema *arrow.Schema) error  { return e.Begin(schema) }
func (e registeredEncoder) write(rec arrow.RecordBatch) error { return e.Write(rec) }
func (e registeredEncoder) end() error                        { return e.End() }
