package frame

import (
	"context"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// Row groups end at whichever limit comes first. A Parquet writer holds a
// whole row group in memory, so the byte limit bounds a writer's memory; the
// row limit keeps row groups small enough for readers to skip and split.
const (
	parquetRowGroupRows  = 1 << 20
	parquetRowGroupBytes = 64 << 20
)

// NewParquetReader reads a Parquet file of size bytes from r, batch by
// batch: pages are read as the batches need them, never the whole file or a
// whole row group at once. Frames hold the Arrow types the file stores, or
// that its Parquet types map to.
func NewParquetReader(r io.ReaderAt, size int64, opts ...ReadOption) (Reader, error) {
	cfg, err := newReadConfig(Parquet, opts)
	if err != nil {
		return nil, err
	}
	return newParquetReader(io.NewSectionReader(r, 0, size), "Parquet input", cfg)
}

func newParquetReader(src *io.SectionReader, name string, cfg readConfig) (Reader, error) {
	props := parquet.NewReaderProperties(allocator)
	props.BufferedStreamEnabled = true
	pf, err := file.NewParquetReader(src, file.WithReadProps(props))
	if err != nil {
		return nil, fmt.Errorf("frame: reading %s: %w", name, err)
	}
	fail := func(err error) (Reader, error) {
		pf.Close()
		return nil, fmt.Errorf("frame: reading %s: %w", name, err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: int64(cfg.batchRows)}, allocator)
	if err != nil {
		return fail(err)
	}
	schema, err := fr.Schema()
	if err != nil {
		return fail(err)
	}
	b := &batcher{name: name, schema: schema, rows: cfg.batchRows, close: pf.Close}
	if schema.NumFields() == 0 {
		// pqarrow refuses a record reader without columns, and a frame
		// without columns has no rows.
		b.next = func() (arrow.RecordBatch, error) { return nil, nil }
		return b, nil
	}
	rr, err := fr.GetRecordReader(context.Background(), nil, nil)
	if err != nil {
		return fail(err)
	}
	b.next = func() (arrow.RecordBatch, error) {
		if !rr.Next() {
			return nil, rr.Err()
		}
		// The record reader releases its record on the next call.
		rec := rr.RecordBatch()
		rec.Retain()
		return rec, nil
	}
	b.close = func() error {
		rr.Release()
		return pf.Close()
	}
	return b, nil
}

// NewParquetWriter returns a Writer of a Snappy-compressed Parquet file to w.
// Frames are buffered into row groups of up to about a million rows or 64 MiB,
// so that many small frames do not make many tiny row groups. The Arrow
// schema is stored in the file, so types Parquet lacks (uint32, float16...)
// read back as they were written.
func NewParquetWriter(w io.Writer, opts ...WriteOption) (Writer, error) {
	cfg, err := newWriteConfig(opts)
	if err != nil {
		return nil, err
	}
	return newTableWriter("Parquet output", &parquetEncoder{w: w}, cfg), nil
}

type parquetEncoder struct {
	w  io.Writer
	fw *pqarrow.FileWriter
	// full marks a row group that reached parquetRowGroupBytes; the next
	// write starts a new one, so the file never ends on an empty group.
	full bool
}

// writerOnly hides a Close method: pqarrow closes a writer that has one, and
// the caller, not the Writer, owns w.
type writerOnly struct{ io.Writer }

func (e *parquetEncoder) begin(schema *arrow.Schema) error {
	props := parquet.NewWriterProperties(
		parquet.WithAllocator(allocator),
		parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithMaxRowGroupLength(parquetRowGroupRows),
	)
	arrowProps := pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(allocator))
	fw, err := pqarrow.NewFileWriter(schema, writerOnly{e.w}, props, arrowProps)
	e.fw = fw
	return err
}

func (e *parquetEncoder) write(rec arrow.RecordBatch) error {
	if e.full {
		if err := e.fw.NewBufferedRowGroupChecked(); err != nil {
			return err
		}
		e.full = false
	}
	if err := e.fw.WriteBuffered(rec); err != nil {
		return err
	}
	e.full = e.fw.RowGroupTotalBytesWritten() >= parquetRowGroupBytes
	return nil
}

func (e *parquetEncoder) end() error { return e.fw.Close() }
