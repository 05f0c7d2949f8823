package frame

import (
	"bytes"
	"fmt"
	"io"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
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
// uncompressed unless WithCompression says lz4 or zstd) to w. Each Write adds one record batch; Close writes the
// footer that makes the file readable.
//
// The file format holds one dictionary per column, where a categorical
// column read in batches (from an Arrow stream, or Parquet row groups)
// has one per batch: a batch whose dictionary differs from the first's
// is written with its indices into the first dictionary. A value the
// first dictionary lacks is an error naming the column and the value; the
// Parquet and CSV writers take such columns as they are.
func NewArrowWriter(w io.Writer, opts ...WriteOption) (Writer, error) {
	cfg, err := newWriteConfig(Arrow, opts)
	if err != nil {
		return nil, err
	}
	return newTableWriter("Arrow output", &arrowEncoder{w: w, cfg: cfg}, cfg), nil
}

type arrowEncoder struct {
	w   io.Writer
	cfg writeConfig
	fw  *ipc.FileWriter
	// firsts holds, by column, the first batch's dictionary and the index
	// of each of its values (ValueStr), for the batches whose
	// dictionaries differ.
	firsts map[int]*firstDictionary
}

// firstDictionary is a column's first dictionary, written in the file.
type firstDictionary struct {
	dict  arrow.Array
	index map[string]int
}

func (e *arrowEncoder) begin(schema *arrow.Schema) error {
	opts := []ipc.Option{ipc.WithSchema(schema), ipc.WithAllocator(allocator)}
	switch e.cfg.compression {
	case "lz4":
		opts = append(opts, ipc.WithLZ4())
	case "zstd":
		opts = append(opts, ipc.WithZstd())
	}
	fw, err := ipc.NewFileWriter(e.w, opts...)
	e.fw = fw
	return err
}

func (e *arrowEncoder) write(rec arrow.RecordBatch) error {
	cols := rec.Columns()
	changed := false
	for j, c := range cols {
		d, ok := c.(*array.Dictionary)
		if !ok {
			continue
		}
		remapped, err := e.intoFirst(j, d)
		if err != nil {
			return &ColumnError{Column: rec.ColumnName(j), Row: noRow, Err: err}
		}
		if remapped != c {
			defer remapped.Release()
			cols, changed = slices.Clone(cols), true
			cols[j] = remapped
		}
	}
	if changed {
		rec = array.NewRecordBatch(rec.Schema(), cols, rec.NumRows())
		defer rec.Release()
	}
	return e.fw.Write(rec)
}

// intoFirst returns d, column j's values in this batch, with its indices
// into the column's first dictionary: d itself when its dictionary is
// the first one, or the first batch's.
func (e *arrowEncoder) intoFirst(j int, d *array.Dictionary) (arrow.Array, error) {
	if e.firsts == nil {
		e.firsts = map[int]*firstDictionary{}
	}
	first := e.firsts[j]
	if first == nil {
		e.firsts[j] = &firstDictionary{dict: d.Dictionary()}
		return d, nil
	}
	dict := d.Dictionary()
	if dict.Data() == first.dict.Data() || array.Equal(dict, first.dict) {
		return d, nil
	}
	if first.index == nil {
		first.index = make(map[string]int, first.dict.Len())
		for i := range first.dict.Len() {
			if _, seen := first.index[first.dict.ValueStr(i)]; !seen {
				first.index[first.dict.ValueStr(i)] = i
			}
		}
	}
	indices := array.NewBuilder(allocator, d.Indices().DataType())
	defer indices.Release()
	indices.Reserve(d.Len())
	for i := range d.Len() {
		if d.IsNull(i) {
			indices.AppendNull()
			continue
		}
		v := dict.ValueStr(d.GetValueIndex(i))
		k, ok := first.index[v]
		if !ok {
			return nil, fmt.Errorf("value %q of a later batch is not in the first batch's dictionary, and an Arrow file holds one dictionary per column: write Parquet or CSV, or make the column a string column", v)
		}
		appendIndex(indices, k)
	}
	idx := indices.NewArray()
	defer idx.Release()
	return array.NewDictionaryArray(d.DataType(), idx, first.dict), nil
}

// appendIndex appends k to b, a builder of a dictionary's integer indices.
func appendIndex(b array.Builder, k int) {
	switch b := b.(type) {
	case *array.Int8Builder:
		b.Append(int8(k))
	case *array.Int16Builder:
		b.Append(int16(k))
	case *array.Int32Builder:
		b.Append(int32(k))
	case *array.Int64Builder:
		b.Append(int64(k))
	case *array.Uint8Builder:
		b.Append(uint8(k))
	case *array.Uint16Builder:
		b.Append(uint16(k))
	case *array.Uint32Builder:
		b.Append(uint32(k))
	case *array.Uint64Builder:
		b.Append(uint64(k))
	}
}

func (e *arrowEncoder) end() error { return e.fw.Close() }
