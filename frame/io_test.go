package frame_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/frame/internal/fileformat"
	_ "github.com/dfbatch/dfbatch/frame/parquet" // Parquet is one of the formats under test
)

// ioFormat is one file format as the tests drive it: in memory through the
// New*Reader and New*Writer constructors.
type ioFormat struct {
	format frame.Format
	name   string // as the format's errors name an in-memory input or output
	writer func(io.Writer, ...frame.WriteOption) (frame.Writer, error)
	reader func([]byte, ...frame.ReadOption) (frame.Reader, error)
}

var ioFormats = []ioFormat{
	{
		format: frame.CSV, name: "CSV",
		writer: frame.NewCSVWriter,
		reader: func(b []byte, opts ...frame.ReadOption) (frame.Reader, error) {
			return frame.NewCSVReader(bytes.NewReader(b), opts...)
		},
	},
	{
		format: frame.Parquet, name: "Parquet",
		writer: frame.NewParquetWriter,
		reader: func(b []byte, opts ...frame.ReadOption) (frame.Reader, error) {
			return frame.NewParquetReader(bytes.NewReader(b), int64(len(b)), opts...)
		},
	},
	{
		format: frame.Arrow, name: "Arrow",
		writer: frame.NewArrowWriter,
		reader: func(b []byte, opts ...frame.ReadOption) (frame.Reader, error) {
			return frame.NewArrowReader(bytes.NewReader(b), int64(len(b)), opts...)
		},
	},
	{
		format: frame.JSONL, name: "JSON Lines",
		writer: frame.NewJSONLWriter,
		reader: func(b []byte, opts ...frame.ReadOption) (frame.Reader, error) {
			return frame.NewJSONLReader(bytes.NewReader(b), opts...)
		},
	},
}

// kept is what the format keeps of f: JSON has no NaN nor ±Inf, which
// JSON Lines writes as null.
func (format ioFormat) kept(t testing.TB, f *frame.Frame) *frame.Frame {
	t.Helper()
	if format.format != frame.JSONL {
		return f
	}
	cols := make([]frame.Column, f.NumCols())
	for j := range f.NumCols() {
		cols[j] = frame.Column{Name: f.Schema().Field(j).Name, Values: f.Column(j)}
		if x, ok := f.Column(j).(*array.Float64); ok {
			b := array.NewFloat64Builder(memory.DefaultAllocator)
			for i := range x.Len() {
				if v := x.Value(i); x.IsNull(i) || math.IsNaN(v) || math.IsInf(v, 0) {
					b.AppendNull()
				} else {
					b.Append(v)
				}
			}
			cols[j].Values = b.NewArray()
		}
	}
	kept, err := frame.New(cols...)
	require.NoError(t, err)
	return kept
}

// mixedFrame has a column of each type gota knows, with nulls, and values
// that text formats find hard: integral and extreme floats, extreme
// integers, strings with separators, quotes, line breaks and leading space.
func mixedFrame(t testing.TB) *frame.Frame {
	t.Helper()
	mem := memory.DefaultAllocator
	fb := array.NewFloat64Builder(mem)
	fb.AppendValues(
		[]float64{1.5, 3, 0, 1e21, 2.5e-300, -0.1, math.Inf(1), -7, 0.1 + 0.2, 42},
		[]bool{true, true, false, true, true, true, true, true, true, false})
	ib := array.NewInt64Builder(mem)
	ib.AppendValues(
		[]int64{0, -1, math.MaxInt64, math.MinInt64, 0, 8, 9, 10, 11, 12},
		[]bool{true, true, true, true, false, true, true, true, false, true})
	sb := array.NewStringBuilder(mem)
	sb.AppendValues(
		[]string{"plain", "with,comma", `with "quotes"`, "line\nbreak", " leading space", "ünïcödé", "", "tab\there", "x", "y"},
		[]bool{true, true, true, true, true, true, false, true, true, true})
	bb := array.NewBooleanBuilder(mem)
	bb.AppendValues(
		[]bool{true, false, true, false, false, true, true, false, true, false},
		[]bool{true, true, false, true, true, true, true, true, true, false})
	f, err := frame.New(
		frame.Column{Name: "score", Values: fb.NewArray()},
		frame.Column{Name: "count", Values: ib.NewArray()},
		frame.Column{Name: "label", Values: sb.NewArray()},
		frame.Column{Name: "flag", Values: bb.NewArray()},
	)
	require.NoError(t, err)
	return f
}

// readAllFrames reads r to its end, checking that the end stays the end.
func readAllFrames(t testing.TB, r frame.Reader) []*frame.Frame {
	t.Helper()
	var frames []*frame.Frame
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		require.Same(t, r.Schema(), f.Schema(), "every frame shares the reader's schema")
		frames = append(frames, f)
	}
	_, err := r.Next()
	require.ErrorIs(t, err, io.EOF)
	return frames
}

// requireSameValues checks names, types and values, null for null.
func requireSameValues(t testing.TB, want, got *frame.Frame) {
	t.Helper()
	require.NoError(t, frame.SameSchema(want.Schema(), got.Schema()))
	require.Equal(t, want.NumRows(), got.NumRows())
	for i := range want.NumCols() {
		assert.Truef(t, array.Equal(want.Column(i), got.Column(i)),
			"column %q: want %v, got %v", want.Schema().Field(i).Name, want.Column(i), got.Column(i))
	}
}

func writeFrames(t testing.TB, w frame.Writer, frames ...*frame.Frame) {
	t.Helper()
	for _, f := range frames {
		require.NoError(t, w.Write(f))
	}
	require.NoError(t, w.Close())
}

func TestRoundTripInBatches(t *testing.T) {
	for _, format := range ioFormats {
		t.Run(string(format.format), func(t *testing.T) {
			want := format.kept(t, mixedFrame(t))
			var buf bytes.Buffer
			w, err := format.writer(&buf)
			require.NoError(t, err)
			// Written in pieces that do not line up with the batches read.
			writeFrames(t, w, want.Slice(0, 4), want.Slice(4, 8), want.Slice(8, 10))

			data := buf.Bytes()
			r, err := format.reader(data, frame.WithBatchRows(3))
			require.NoError(t, err)
			got := readAllFrames(t, r)
			require.NoError(t, r.Close())
			// Frames must not share memory with the input, nor be released or
			// reused by the reader's later reads and Close.
			clear(data)
			runtime.GC()

			require.Len(t, got, 4)
			for i, g := range got {
				start := 3 * i
				end := min(start+3, want.NumRows())
				assert.Equal(t, start, g.RowOffset(), "frame %d", i)
				requireSameValues(t, want.Slice(start, end), g)
			}
		})
	}
}

func TestRoundTripThroughFiles(t *testing.T) {
	for _, format := range ioFormats {
		t.Run(string(format.format), func(t *testing.T) {
			want := format.kept(t, mixedFrame(t))
			path := filepath.Join(t.TempDir(), "scores"+format.format.Ext())
			w, err := frame.CreateFile(path, "")
			require.NoError(t, err)
			writeFrames(t, w, want.Slice(0, 7), want.Slice(7, 10))

			r, err := frame.OpenFile(path, "", frame.WithBatchRows(4))
			require.NoError(t, err)
			got := readAllFrames(t, r)
			require.NoError(t, r.Close())
			require.NoError(t, r.Close(), "a second Close is harmless")

			require.Len(t, got, 3)
			all, err := frame.Concat(got...)
			require.NoError(t, err)
			requireSameValues(t, want, all)
			assert.Equal(t, []int{0, 4, 8}, []int{got[0].RowOffset(), got[1].RowOffset(), got[2].RowOffset()})
		})
	}
}

func TestReaderDefaultBatchIsOneFrameForSmallInputs(t *testing.T) {
	for _, format := range ioFormats {
		t.Run(string(format.format), func(t *testing.T) {
			want := format.kept(t, mixedFrame(t))
			var buf bytes.Buffer
			w, err := format.writer(&buf)
			require.NoError(t, err)
			writeFrames(t, w, want.Slice(0, 5), want.Slice(5, 10))
			r, err := format.reader(buf.Bytes())
			require.NoError(t, err)
			got := readAllFrames(t, r)
			require.Len(t, got, 1)
			requireSameValues(t, want, got[0])
		})
	}
}

func TestWriteRejectsAnotherSchema(t *testing.T) {
	first, err := frame.New(frame.Float64s("x", []float64{1, 2}), frame.Strings("name", []string{"a", "b"}))
	require.NoError(t, err)
	cases := []struct {
		name   string
		frame  *frame.Frame
		column string
	}{
		{"other type", mustFrame(t, frame.Int64s("x", []int64{1}), frame.Strings("name", []string{"c"})), "x"},
		{"missing column", mustFrame(t, frame.Float64s("x", []float64{1})), "name"},
		{"extra column", mustFrame(t, frame.Float64s("x", []float64{1}), frame.Strings("name", []string{"c"}), frame.Bools("ok", []bool{true})), "ok"},
		{"renamed column", mustFrame(t, frame.Float64s("y", []float64{1}), frame.Strings("name", []string{"c"})), "y"},
	}
	for _, format := range ioFormats {
		for _, tc := range cases {
			t.Run(string(format.format)+"/"+tc.name, func(t *testing.T) {
				var buf bytes.Buffer
				w, err := format.writer(&buf)
				require.NoError(t, err)
				require.NoError(t, w.Write(first))

				err = w.Write(tc.frame)
				var colErr *frame.ColumnError
				require.ErrorAs(t, err, &colErr)
				assert.Equal(t, tc.column, colErr.Column)
				assert.ErrorContains(t, err, "writing "+format.name+" output")

				// The refused frame wrote nothing, and the writer goes on.
				require.NoError(t, w.Write(first.Slice(1, 2)))
				require.NoError(t, w.Close())
				r, err := format.reader(buf.Bytes())
				require.NoError(t, err)
				got := readAllFrames(t, r)
				require.Len(t, got, 1)
				assert.Equal(t, 3, got[0].NumRows())
			})
		}
	}
}

func TestWriteRejectsFramesNotOfWithSchema(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)
	f := mustFrame(t, frame.Float64s("id", []float64{1}))
	for _, format := range ioFormats {
		t.Run(string(format.format), func(t *testing.T) {
			w, err := format.writer(io.Discard, frame.WithSchema(schema))
			require.NoError(t, err)
			var colErr *frame.ColumnError
			require.ErrorAs(t, w.Write(f), &colErr)
			assert.Equal(t, "id", colErr.Column)
		})
	}
}

func TestWriteAfterClose(t *testing.T) {
	f := mustFrame(t, frame.Float64s("x", []float64{1}))
	for _, format := range ioFormats {
		t.Run(string(format.format), func(t *testing.T) {
			w, err := format.writer(io.Discard)
			require.NoError(t, err)
			require.NoError(t, w.Write(f))
			require.NoError(t, w.Close())
			assert.ErrorContains(t, w.Write(f), "Write after Close")
			assert.NoError(t, w.Close())
		})
	}
}

func TestEmptyOutputs(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
	noRows := frame.Empty(schema)
	cases := []struct {
		name   string
		opts   []frame.WriteOption
		writes []*frame.Frame
		// columns is the schema read back; CSV infers string for columns
		// without values, and JSON Lines has no header to keep them.
		columns map[frame.Format]*arrow.Schema
		csv     string
	}{
		{
			name:    "no writes",
			columns: map[frame.Format]*arrow.Schema{frame.Parquet: arrow.NewSchema(nil, nil), frame.Arrow: arrow.NewSchema(nil, nil), frame.JSONL: arrow.NewSchema(nil, nil)},
			csv:     "",
		},
		{
			name: "WithSchema",
			opts: []frame.WriteOption{frame.WithSchema(schema)},
			columns: map[frame.Format]*arrow.Schema{
				frame.CSV:     stringSchema("id", "score"),
				frame.Parquet: schema,
				frame.Arrow:   schema,
				frame.JSONL:   arrow.NewSchema(nil, nil),
			},
			csv: "id,score\n",
		},
		{
			name:   "a frame without rows",
			writes: []*frame.Frame{noRows},
			columns: map[frame.Format]*arrow.Schema{
				frame.CSV:     stringSchema("id", "score"),
				frame.Parquet: schema,
				frame.Arrow:   schema,
				frame.JSONL:   arrow.NewSchema(nil, nil),
			},
			csv: "id,score\n",
		},
	}
	for _, format := range ioFormats {
		for _, tc := range cases {
			t.Run(string(format.format)+"/"+tc.name, func(t *testing.T) {
				var buf bytes.Buffer
				w, err := format.writer(&buf, tc.opts...)
				require.NoError(t, err)
				writeFrames(t, w, tc.writes...)
				switch format.format {
				case frame.CSV:
					assert.Equal(t, tc.csv, buf.String())
				case frame.JSONL:
					assert.Empty(t, buf.String())
				}
				want, ok := tc.columns[format.format]
				if !ok {
					return
				}
				r, err := format.reader(buf.Bytes())
				require.NoError(t, err)
				require.NoError(t, frame.SameSchema(want, r.Schema()))
				assert.Empty(t, readAllFrames(t, r))
			})
		}
	}
}

func TestReadOptionsAreValidated(t *testing.T) {
	for _, format := range ioFormats {
		t.Run(string(format.format), func(t *testing.T) {
			_, err := format.reader([]byte("a\n1\n"), frame.WithBatchRows(0))
			assert.ErrorContains(t, err, "WithBatchRows(0)")
			if format.format != frame.CSV && format.format != frame.JSONL {
				_, err = format.reader(nil, frame.WithColumnTypes(map[string]arrow.DataType{"a": arrow.PrimitiveTypes.Int32}))
				assert.ErrorContains(t, err, "WithColumnTypes applies to CSV and JSON Lines only")
			}
		})
	}
}

func TestWithSchemaRefusesDuplicateNames(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.PrimitiveTypes.Int64},
		{Name: "a", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	for _, format := range ioFormats {
		_, err := format.writer(io.Discard, frame.WithSchema(schema))
		assert.ErrorContains(t, err, `column "a" appears twice`, format.format)
	}
}

func TestWriterKeepsTheCallersWriterOpen(t *testing.T) {
	f := mustFrame(t, frame.Float64s("x", []float64{1}))
	for _, format := range ioFormats {
		t.Run(string(format.format), func(t *testing.T) {
			out := &closeRecorder{}
			w, err := format.writer(out)
			require.NoError(t, err)
			writeFrames(t, w, f)
			assert.False(t, out.closed)
			assert.NotZero(t, out.Len())
		})
	}
}

type closeRecorder struct {
	bytes.Buffer
	closed bool
}

func (c *closeRecorder) Close() error {
	c.closed = true
	return nil
}

func TestArrowReaderReadsTheStreamFormat(t *testing.T) {
	want := mixedFrame(t)
	var buf bytes.Buffer
	sw := ipc.NewWriter(&buf, ipc.WithSchema(want.Schema()))
	require.NoError(t, sw.Write(want.Slice(0, 6).Record()))
	require.NoError(t, sw.Write(want.Slice(6, 10).Record()))
	require.NoError(t, sw.Close())

	r, err := frame.NewArrowReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()), frame.WithBatchRows(4))
	require.NoError(t, err)
	got := readAllFrames(t, r)
	require.NoError(t, r.Close())
	require.Len(t, got, 3)
	for i, g := range got {
		assert.Equal(t, 4*i, g.RowOffset())
		requireSameValues(t, want.Slice(4*i, min(4*i+4, 10)), g)
	}
}

func TestArrowReaderReadsCompressedFiles(t *testing.T) {
	// pyarrow writes Feather v2 with LZ4 unless told otherwise.
	want := mixedFrame(t)
	for name, codec := range map[string]ipc.Option{"lz4": ipc.WithLZ4(), "zstd": ipc.WithZstd()} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			fw, err := ipc.NewFileWriter(&buf, ipc.WithSchema(want.Schema()), codec)
			require.NoError(t, err)
			require.NoError(t, fw.Write(want.Record()))
			require.NoError(t, fw.Close())
			r, err := arrowReader(buf.Bytes())
			require.NoError(t, err)
			got := readAllFrames(t, r)
			require.Len(t, got, 1)
			requireSameValues(t, want, got[0])
		})
	}
}

func TestReadersRefuseOtherFormats(t *testing.T) {
	cases := []struct {
		name   string
		read   func([]byte) (frame.Reader, error)
		input  string
		errMsg string
	}{
		{"Arrow/garbage", arrowReader, "not an arrow file at all", "neither an Arrow IPC file"},
		{"Arrow/Feather v1", arrowReader, "FEA1\x00\x00\x00\x00", "Feather v1"},
		{"Arrow/empty", arrowReader, "", "neither an Arrow IPC file"},
		{"Parquet/garbage", parquetReader, "not a parquet file at all", "reading Parquet input"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.read([]byte(tc.input))
			assert.ErrorContains(t, err, tc.errMsg)
		})
	}
}

func arrowReader(b []byte) (frame.Reader, error) {
	return frame.NewArrowReader(bytes.NewReader(b), int64(len(b)))
}

func parquetReader(b []byte) (frame.Reader, error) {
	return frame.NewParquetReader(bytes.NewReader(b), int64(len(b)))
}

func TestParquetBatchesSpanRowGroups(t *testing.T) {
	// pqarrow's Write makes one row group per record: 50 groups of 2 rows.
	schema := arrow.NewSchema([]arrow.Field{{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	var buf bytes.Buffer
	pw, err := pqarrow.NewFileWriter(schema, &buf, nil, pqarrow.DefaultWriterProps())
	require.NoError(t, err)
	for i := range 50 {
		f := mustFrame(t, frame.Int64s("i", []int64{int64(2 * i), int64(2*i + 1)}))
		require.NoError(t, pw.Write(f.Record()))
	}
	require.NoError(t, pw.Close())

	r, err := frame.NewParquetReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()), frame.WithBatchRows(7))
	require.NoError(t, err)
	got := readAllFrames(t, r)
	require.Len(t, got, 15)
	next := int64(0)
	for i, g := range got {
		assert.Equal(t, 7*i, g.RowOffset())
		col, err := g.Int64Col("i")
		require.NoError(t, err)
		for _, v := range col.Int64Values() {
			assert.Equal(t, next, v)
			next++
		}
	}
	assert.Equal(t, int64(100), next)
}

func TestReaderCloseEndsTheStream(t *testing.T) {
	for _, format := range ioFormats {
		t.Run(string(format.format), func(t *testing.T) {
			want := format.kept(t, mixedFrame(t))
			var buf bytes.Buffer
			w, err := format.writer(&buf)
			require.NoError(t, err)
			writeFrames(t, w, want)
			r, err := format.reader(buf.Bytes(), frame.WithBatchRows(2))
			require.NoError(t, err)
			first, err := r.Next()
			require.NoError(t, err)
			require.NoError(t, r.Close())
			_, err = r.Next()
			assert.ErrorContains(t, err, "Next after Close")
			requireSameValues(t, want.Slice(0, 2), first)
		})
	}
}

func mustFrame(t testing.TB, cols ...frame.Column) *frame.Frame {
	t.Helper()
	f, err := frame.New(cols...)
	require.NoError(t, err)
	return f
}

func stringSchema(names ...string) *arrow.Schema {
	fields := make([]arrow.Field, len(names))
	for i, n := range names {
		fields[i] = arrow.Field{Name: n, Type: arrow.BinaryTypes.String, Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

// countingReaderAt counts the bytes read through it.
type countingReaderAt struct {
	r    io.ReaderAt
	read atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.read.Add(int64(n))
	return n, err
}

func TestReadersReadOnlyWhatTheBatchNeeds(t *testing.T) {
	const records, rows = 50, 2000
	values := make([]float64, rows)
	schema := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true}}, nil)

	var arrowFile bytes.Buffer
	aw, err := frame.NewArrowWriter(&arrowFile)
	require.NoError(t, err)
	// Small pages, no dictionary: pages are what a Parquet reader reads.
	var parquetFile bytes.Buffer
	pw, err := pqarrow.NewFileWriter(schema, &parquetFile,
		parquet.NewWriterProperties(parquet.WithDataPageSize(16<<10), parquet.WithDictionaryDefault(false)),
		pqarrow.DefaultWriterProps())
	require.NoError(t, err)
	for k := range records {
		for i := range values {
			values[i] = float64(k*rows+i) + 0.5
		}
		f := mustFrame(t, frame.Float64s("x", values))
		require.NoError(t, aw.Write(f))
		require.NoError(t, pw.WriteBuffered(f.Record()))
	}
	require.NoError(t, aw.Close())
	require.NoError(t, pw.Close())

	cases := []struct {
		name string
		data []byte
		open func(io.ReaderAt, int64, ...frame.ReadOption) (frame.Reader, error)
	}{
		{"arrow", arrowFile.Bytes(), frame.NewArrowReader},
		{"parquet", parquetFile.Bytes(), frame.NewParquetReader},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := &countingReaderAt{r: bytes.NewReader(tc.data)}
			r, err := tc.open(src, int64(len(tc.data)), frame.WithBatchRows(rows))
			require.NoError(t, err)
			defer r.Close()
			f, err := r.Next()
			require.NoError(t, err)
			assert.Equal(t, 0.5, f.Column(0).(*array.Float64).Value(0))
			assert.Less(t, src.read.Load(), int64(len(tc.data)/10), "read %d of %d bytes", src.read.Load(), len(tc.data))
		})
	}
}

// endlessCSV is a CSV input that never ends.
type endlessCSV struct {
	row  int
	rest []byte
}

func (e *endlessCSV) Read(p []byte) (int, error) {
	if e.row == 0 {
		e.rest = []byte("i,x\n")
	}
	for len(e.rest) < len(p) {
		e.rest = fmt.Appendf(e.rest, "%d,%d.5\n", e.row, e.row)
		e.row++
	}
	n := copy(p, e.rest)
	e.rest = e.rest[n:]
	return n, nil
}

func TestCSVReaderStreams(t *testing.T) {
	r, err := frame.NewCSVReader(&endlessCSV{}, frame.WithBatchRows(1000))
	require.NoError(t, err)
	for k := range 30 {
		f, err := r.Next()
		require.NoError(t, err)
		require.Equal(t, 1000, f.NumRows())
		require.Equal(t, 1000*k, f.RowOffset())
		i, err := f.Int64Col("i")
		require.NoError(t, err)
		require.Equal(t, int64(1000*k), i.Value(0))
	}
}

func TestReadAllJoinsTheStreamAndCloses(t *testing.T) {
	var csv strings.Builder
	csv.WriteString("id,x\n")
	for i := range 2500 {
		fmt.Fprintf(&csv, "%d,%d.5\n", i, i)
	}
	r, err := frame.NewCSVReader(strings.NewReader(csv.String()), frame.WithBatchRows(1000))
	require.NoError(t, err)
	f, err := frame.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, 2500, f.NumRows())
	assert.Equal(t, 0, f.RowOffset())
	ids, err := f.Int64Col("id")
	require.NoError(t, err)
	assert.Equal(t, int64(2499), ids.Value(2499))

	empty, err := frame.NewCSVReader(strings.NewReader("id,x\n"))
	require.NoError(t, err)
	f, err = frame.ReadAll(empty)
	require.NoError(t, err)
	assert.Equal(t, 0, f.NumRows())
	assert.Equal(t, []string{"id", "x"}, f.ColumnNames())
}

func TestParquetWithoutItsPackageIsAnErrorNamingTheImport(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "in.parquet")
	w, err := frame.CreateFile(existing, "")
	require.NoError(t, err)
	require.NoError(t, w.Write(mustNew(t, frame.Int64s("id", []int64{1, 2}))))
	require.NoError(t, w.Close())

	// As a program that does not import frame/parquet.
	restore := fileformat.Unregister(string(frame.Parquet))
	defer restore()
	const hint = `import _ "github.com/dfbatch/dfbatch/frame/parquet"`

	assert.ErrorContains(t, frame.Parquet.Linked(), hint)
	_, err = frame.OpenFile(existing, "")
	assert.ErrorContains(t, err, hint)
	_, err = frame.NewParquetReader(bytes.NewReader(nil), 0)
	assert.ErrorContains(t, err, hint)
	out := filepath.Join(dir, "out.parquet")
	_, err = frame.CreateFile(out, "")
	assert.ErrorContains(t, err, hint)
	assert.NoFileExists(t, out, "no empty output is left behind")
	_, err = frame.NewParquetWriter(io.Discard)
	assert.ErrorContains(t, err, hint)
	_, err = frame.NewWriter(io.Discard, "x", "pq")
	assert.ErrorContains(t, err, hint)

	restore()
	assert.NoError(t, frame.Parquet.Linked())
	r, err := frame.OpenFile(existing, "")
	require.NoError(t, err, "registered again, Parquet reads")
	f, err := frame.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, 2, f.NumRows())
}

func TestFormatsOtherThanParquetAreAlwaysLinked(t *testing.T) {
	for _, f := range []frame.Format{frame.CSV, frame.Arrow, frame.JSONL, "ndjson"} {
		assert.NoError(t, f.Linked(), f)
	}
	assert.ErrorContains(t, frame.Format("xlsx").Linked(), "unknown format")
}
