// Package parquet adds Apache Parquet to the formats that package frame
// reads and writes. Import it for its side effect, in the program's main
// package:
//
//	import _ "github.com/dfbatch/dfbatch/frame/parquet"
//
// Then frame.OpenFile, frame.CreateFile, frame.NewWriter,
// frame.NewParquetReader and frame.NewParquetWriter take Parquet, and so do
// the engine's file runs and the CLI, which imports it. Without it they
// refuse Parquet with an error that names this import: Parquet's Arrow
// reader and writer bring in about 30 MB of dependencies (arrow/compute,
// arrow/flight and gRPC) that a program of CSV, Arrow or JSON Lines files,
// or of frames in memory, need not carry.
package parquet

import (
	"context"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/frame/internal/fileformat"
)

func init() {
	fileformat.Register(string(frame.Parquet), fileformat.Codec{Read: read, NewEncoder: newEncoder})
}

// allocator is the Go allocator, as frame's: frames are garbage-collected,
// never released.
var allocator = memory.DefaultAllocator

// Row groups end at whichever limit comes first. A Parquet writer holds a
// whole row group in memory, so the byte limit bounds a writer's memory; the
// row limit keeps row groups small enough for readers to skip and split.
const (
	rowGroupRows  = 1 << 20
	rowGroupBytes = 64 << 20
)

// read reads a Parquet file batch by batch: pages are read as the batches
// need them, never the whole file or a whole row group at once.
func read(src *io.SectionReader, batchRows int) (fileformat.Records, error) {
	props := parquet.NewReaderProperties(allocator)
	props.BufferedStreamEnabled = true
	pf, err := file.NewParquetReader(src, file.WithReadProps(props))
	if err != nil {
		return fileformat.Records{}, err
	}
	fail := func(err error) (fileformat.Records, error) {
		pf.Close()
		return fileformat.Records{}, err
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: int64(batchRows)}, allocator)
	if err != nil {
		return fail(err)
	}
	schema, err := fr.Schema()
	if err != nil {
		return fail(err)
	}
	if schema.NumFields() == 0 {
		// pqarrow refuses a record reader without columns, and a frame
		// without columns has no rows.
		return fileformat.Records{Schema: schema, Next: func() (arrow.RecordBatch, error) { return nil, nil }, Close: pf.Close}, nil
	}
	rr, err := fr.GetRecordReader(context.Background(), nil, nil)
	if err != nil {
		return fail(err)
	}
	next := func() (arrow.RecordBatch, error) {
		if !rr.Next() {
			return nil, rr.Err()
		}
		// The record reader releases its record on the next call.
		rec := rr.RecordBatch()
		rec.Retain()
		return rec, nil
	}
	closeAll := func() error {
		rr.Release()
		return pf.Close()
	}
	return fileformat.Records{Schema: schema, Next: next, Close: closeAll}, nil
}

type encoder struct {
	w  io.Writer
	s  fileformat.WriteSettings
	fw *pqarrow.FileWriter
	// schema is the file's: the frames' with views unviewed.
	schema *arrow.Schema
	// full marks a row group that reached rowGroupBytes; the next write
	// starts a new one, so the file never ends on an empty group.
	full bool
}

func newEncoder(w io.Writer, s fileformat.WriteSettings) fileformat.Encoder {
	e := &encoder{w: w, s: s}
	return fileformat.Encoder{Begin: e.begin, Write: e.write, End: e.end}
}

// writerOnly hides a Close method: pqarrow closes a writer that has one, and
// the caller, not the Writer, owns w.
type writerOnly struct{ io.Writer }

// codecs are frame.WithCompression's names of Parquet's codecs; "" is the
// default, Snappy.
var codecs = map[string]compress.Compression{
	"": compress.Codecs.Snappy, "snappy": compress.Codecs.Snappy, "zstd": compress.Codecs.Zstd,
	"gzip": compress.Codecs.Gzip, "lz4": compress.Codecs.Lz4Raw, "brotli": compress.Codecs.Brotli,
	"none": compress.Codecs.Uncompressed,
}

// begin is the Encoder's Begin. Parquet's Arrow writer does not take
// the view types, so the file's schema has string_view as string and
// binary_view as binary (top-level columns and dictionaries; a view nested
// in a list or struct still fails, naming it).
func (e *encoder) begin(schema *arrow.Schema) error {
	e.schema = frame.Empty(schema).Unviewed().Schema()
	rows := rowGroupRows
	if e.s.RowGroupRows > 0 {
		rows = e.s.RowGroupRows
	}
	props := parquet.NewWriterProperties(
		parquet.WithAllocator(allocator),
		parquet.WithCompression(codecs[e.s.Compression]),
		parquet.WithMaxRowGroupLength(int64(rows)),
	)
	arrowProps := pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(allocator))
	fw, err := pqarrow.NewFileWriter(e.schema, writerOnly{e.w}, props, arrowProps)
	e.fw = fw
	return err
}

// write is the Encoder's Write.
func (e *encoder) write(rec arrow.RecordBatch) error {
	if e.full {
		if err := e.fw.NewBufferedRowGroupChecked(); err != nil {
			return err
		}
		e.full = false
	}
	if !e.schema.Equal(rec.Schema()) { // view columns to unview
		f, err := frame.FromRecord(rec)
		if err != nil {
			return err
		}
		rec = array.NewRecordBatch(e.schema, f.Unviewed().Record().Columns(), rec.NumRows())
		defer rec.Release()
	}
	if err := e.fw.WriteBuffered(rec); err != nil {
		return err
	}
	e.full = e.fw.RowGroupTotalBytesWritten() >= rowGroupBytes
	return nil
}

// end is the Encoder's End.
func (e *encoder) end() error { return e.fw.Close() }
