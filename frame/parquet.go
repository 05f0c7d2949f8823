package frame

import (
	"context"
	"fmt"
	"github.com/apache/arrow-go/v18/arrow/array"
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

// NewParquetWriter returns a Writer of a Parquet file to w, Snappy-compressed
// unless WithCompression says otherwise. Frames are buffered into row
// groups of up to about a million rows (WithRowGroupRows) or 64 MiB,
// so that many small frames do not make many tiny row groups. The Arrow
// schema is stored in the file, so types Parquet lacks (uint32, float16...)
// read back as they were written, except the view types, which Parquet's
// Arrow writer does not take: string_view and binary_view columns (polars
// writes its strings so) are written, and read back, as string and binary.
func NewParquetWriter(w io.Writer, opts ...WriteOption) (Writer, error) {
	cfg, err := newWriteConfig(Parquet, opts)
	if err != nil {
		return nil, err
	}
	return newTableWriter("Parquet output", &parquetEncoder{w: w, cfg: cfg}, cfg), nil
}

type parquetEncoder struct {
	w   io.Writer
	cfg writeConfig
	fw  *pqarrow.FileWriter
	// schema is the file's: the frames' with views unviewed.
	schema *arrow.Schema
	// full marks a row group that reached parquetRowGroupBytes; the next
	// write starts a new one, so the file never ends on an empty group.
	full bool
}

// writerOnly hides a Close method: pqarrow closes a writer that has one, and
// the caller, not the Writer, owns w.
type writerOnly struct{ io.Writer }

// parquetSchema is schema with the view types Parquet lacks as the types
// it has: string_view as string, binary_view as binary (top-level
// columns; a view nested in a list or struct still fails, naming it).
func parquetSchema(schema *arrow.Schema) *arrow.Schema {
	fields := schema.Fields()
	for j, f := range fields {
		fields[j].Type = unviewedType(f.Type)
	}
	md := schema.Metadata()
	return arrow.NewSchema(fields, &md)
}

// unviewedType is t with string_view as string and binary_view as binary,
// in a dictionary's values too (polars' categoricals).
func unviewedType(t arrow.DataType) arrow.DataType {
	switch t := t.(type) {
	case *arrow.StringViewType:
		return arrow.BinaryTypes.String
	case *arrow.BinaryViewType:
		return arrow.BinaryTypes.Binary
	case *arrow.DictionaryType:
		if values := unviewedType(t.ValueType); values != t.ValueType {
			return &arrow.DictionaryType{IndexType: t.IndexType, ValueType: values, Ordered: t.Ordered}
		}
	}
	return t
}

// unviewed returns a string_view or binary_view array (or a dictionary of
// them) as a string or binary one, and other arrays as they are.
func unviewed(a arrow.Array) arrow.Array {
	switch v := a.(type) {
	case *array.Dictionary:
		values := unviewed(v.Dictionary())
		defer values.Release()
		return array.NewDictionaryArray(unviewedType(v.DataType()), v.Indices(), values)
	case *array.StringView:
		return copyValues[string](array.NewStringBuilder(allocator), v)
	case *array.BinaryView:
		return copyValues[[]byte](array.NewBinaryBuilder(allocator, arrow.BinaryTypes.Binary), v)
	}
	a.Retain()
	return a
}

// parquetCodecs are WithCompression's names of Parquet's codecs; "" is
// the default, Snappy.
var parquetCodecs = map[string]compress.Compression{
	"": compress.Codecs.Snappy, "snappy": compress.Codecs.Snappy, "zstd": compress.Codecs.Zstd,
	"gzip": compress.Codecs.Gzip, "lz4": compress.Codecs.Lz4Raw, "brotli": compress.Codecs.Brotli,
	"none": compress.Codecs.Uncompressed,
}

// copyValues copies a's values, nulls included, into a new array of b's
// type.
func copyValues[V any](b interface {
	array.Builder
	Append(V)
}, a interface {
	arrow.Array
	Value(int) V
}) arrow.Array {
	defer b.Release()
	b.Reserve(a.Len())
	for i := range a.Len() {
		if a.IsNull(i) {
			b.AppendNull()
		} else {
			b.Append(a.Value(i))
		}
	}
	return b.NewArray()
}

func (e *parquetEncoder) begin(schema *arrow.Schema) error {
	e.schema = parquetSchema(schema)
	schema = e.schema
	rows := parquetRowGroupRows
	if e.cfg.rowGroupRows > 0 {
		rows = e.cfg.rowGroupRows
	}
	props := parquet.NewWriterProperties(
		parquet.WithAllocator(allocator),
		parquet.WithCompression(parquetCodecs[e.cfg.compression]),
		parquet.WithMaxRowGroupLength(int64(rows)),
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
	if !e.schema.Equal(rec.Schema()) { // view columns to unview
		cols := make([]arrow.Array, rec.NumCols())
		for j, c := range rec.Columns() {
			cols[j] = unviewed(c)
			defer cols[j].Release()
		}
		rec = array.NewRecordBatch(e.schema, cols, rec.NumRows())
		defer rec.Release()
	}
	if err := e.fw.WriteBuffered(rec); err != nil {
		return err
	}
	e.full = e.fw.RowGroupTotalBytesWritten() >= parquetRowGroupBytes
	return nil
}

func (e *parquetEncoder) end() error { return e.fw.Close() }
