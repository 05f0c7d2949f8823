package frame_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dfbatch/dfbatch/frame"
)

func readCSV(t testing.TB, input string, opts ...frame.ReadOption) *frame.Frame {
	t.Helper()
	r, err := frame.NewCSVReader(strings.NewReader(input), opts...)
	require.NoError(t, err)
	frames := readAllFrames(t, r)
	if len(frames) == 0 {
		return frame.Empty(r.Schema())
	}
	f, err := frame.Concat(frames...)
	require.NoError(t, err)
	return f
}

func TestCSVReaderInfersTypes(t *testing.T) {
	cases := []struct {
		name  string
		input string
		want  arrow.DataType
	}{
		{"integers", "v\n1\n-2\n+3\n", arrow.PrimitiveTypes.Int64},
		{"integers and decimals", "v\n1\n2.5\n3\n", arrow.PrimitiveTypes.Float64},
		{"exponents and infinities", "v\n1e3\n-Inf\n", arrow.PrimitiveTypes.Float64},
		{"integer too large for int64", "v\n99999999999999999999\n", arrow.PrimitiveTypes.Float64},
		{"booleans", "v\ntrue\nFALSE\nT\nf\n", arrow.FixedWidthTypes.Boolean},
		{"missing first", "v\nNA\n\n1.5\n", arrow.PrimitiveTypes.Float64},
		{"numbers and words", "v\n1\nx\n", arrow.BinaryTypes.String},
		{"booleans and numbers", "v\ntrue\n2\n", arrow.BinaryTypes.String},
		{"all missing", "v\nNA\nnull\n", arrow.BinaryTypes.String},
		{"header only", "v\n", arrow.BinaryTypes.String},
		{"spaces are not numbers", "v\n 1\n", arrow.BinaryTypes.String},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := readCSV(t, tc.input)
			assert.Equal(t, tc.want, f.Schema().Field(0).Type)
		})
	}
}

func TestCSVReaderReadsMissingValues(t *testing.T) {
	input := "f,i,s,b\n" +
		"1.5,1,x,true\n" +
		",,,\n" +
		"NA,NA,NA,NA\n" +
		"NaN,NaN,NaN,NaN\n" +
		"null,null,null,null\n" +
		"NULL,NULL,NULL,NULL\n" +
		`"","","",""` + "\n"
	f := readCSV(t, input)
	require.Equal(t, 7, f.NumRows())
	for i := range f.NumCols() {
		col := f.Column(i)
		assert.True(t, col.IsValid(0), f.Schema().Field(i).Name)
		assert.Equal(t, 6, col.NullN(), f.Schema().Field(i).Name)
	}
	require.NoError(t, frame.SameSchema(arrow.NewSchema([]arrow.Field{
		{Name: "f", Type: arrow.PrimitiveTypes.Float64},
		{Name: "i", Type: arrow.PrimitiveTypes.Int64},
		{Name: "s", Type: arrow.BinaryTypes.String},
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean},
	}, nil), f.Schema()))
}

func TestCSVReaderErrorsNameColumnAndRow(t *testing.T) {
	// A file whose first 10,000 rows are integers, then a decimal: too
	// late for inference to see.
	var late strings.Builder
	late.WriteString("id,v\n")
	for i := range 10_000 {
		fmt.Fprintf(&late, "%d,%d\n", i, i)
	}
	late.WriteString("10000,0.5\n")

	cases := []struct {
		name   string
		input  string
		opts   []frame.ReadOption
		column string
		row    int
		// rows is how many rows the frames before the error held.
		rows int
		msg  []string
	}{
		{
			name:   "value after inference",
			input:  late.String(),
			opts:   []frame.ReadOption{frame.WithBatchRows(4096)},
			column: "v", row: 10_000, rows: 8192,
			msg: []string{`column "v", row 10000`, "line 10002", `"0.5" as int64`, "inferred from the first 10000 rows", "invalid syntax"},
		},
		{
			name:   "type set by WithColumnTypes",
			input:  "a,b\n1,x\n2,y\n1.5,z\n",
			opts:   []frame.ReadOption{frame.WithColumnTypes(map[string]arrow.DataType{"a": arrow.PrimitiveTypes.Int64}), frame.WithBatchRows(2)},
			column: "a", row: 2, rows: 2,
			msg: []string{`column "a", row 2`, "line 4", `"1.5" as int64`, "set by WithColumnTypes"},
		},
		{
			name:   "out of range",
			input:  "a\n1\n300\n",
			opts:   []frame.ReadOption{frame.WithColumnTypes(map[string]arrow.DataType{"a": arrow.PrimitiveTypes.Int8})},
			column: "a", row: 1,
			msg: []string{`"300" as int8`, "value out of range"},
		},
		{
			name:   "boolean",
			input:  "ok\ntrue\nmaybe\n",
			opts:   []frame.ReadOption{frame.WithColumnTypes(map[string]arrow.DataType{"ok": arrow.FixedWidthTypes.Boolean})},
			column: "ok", row: 1,
			msg: []string{`"maybe" as bool`},
		},
		{
			name:   "row spanning lines",
			input:  "s,n\n\"two\nlines\",1\nx,y\n",
			opts:   []frame.ReadOption{frame.WithColumnTypes(map[string]arrow.DataType{"n": arrow.PrimitiveTypes.Int64})},
			column: "n", row: 1,
			msg: []string{"row 1", "line 4"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := frame.NewCSVReader(strings.NewReader(tc.input), tc.opts...)
			require.NoError(t, err)
			rows := 0
			for {
				f, err := r.Next()
				if err != nil {
					var colErr *frame.ColumnError
					require.ErrorAs(t, err, &colErr)
					assert.Equal(t, tc.column, colErr.Column)
					assert.Equal(t, tc.row, colErr.Row)
					assert.ErrorContains(t, err, "reading CSV input")
					for _, m := range tc.msg {
						assert.ErrorContains(t, err, m)
					}
					_, again := r.Next()
					assert.Equal(t, err, again, "the error sticks")
					break
				}
				rows += f.NumRows()
			}
			assert.Equal(t, tc.rows, rows)
		})
	}
}

func TestCSVReaderMalformedRows(t *testing.T) {
	cases := []struct {
		name  string
		input string
		is    error
		msg   string
	}{
		{"too few fields", "a,b\n1,2\n3\n", csv.ErrFieldCount, "row 1: record on line 3"},
		{"too many fields", "a,b\n1,2\n3,4\n5,6,7\n", csv.ErrFieldCount, "row 2: record on line 4"},
		{"bare quote", "a,b\n1,x\"y\n", csv.ErrBareQuote, "row 0: parse error on line 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := frame.NewCSVReader(strings.NewReader(tc.input))
			require.NoError(t, err)
			_, err = r.Next()
			assert.ErrorIs(t, err, tc.is)
			assert.ErrorContains(t, err, tc.msg)
		})
	}
}

func TestCSVReaderErrorsNameTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "input.csv")
	require.NoError(t, os.WriteFile(path, []byte("a\n1\nx\n"), 0o600))
	r, err := frame.OpenFile(path, "", frame.WithColumnTypes(map[string]arrow.DataType{"a": arrow.PrimitiveTypes.Int64}))
	require.NoError(t, err)
	defer r.Close()
	_, err = r.Next()
	assert.ErrorContains(t, err, "frame: reading "+path+`: column "a", row 1`)
}

func TestCSVReaderRefusesBadHeadersAndOptions(t *testing.T) {
	cases := []struct {
		name  string
		input string
		opts  []frame.ReadOption
		msg   string
	}{
		{"empty input", "", nil, "the input is empty"},
		{"duplicate column", "a,b,a\n1,2,3\n", nil, `names column "a" twice`},
		{"unknown typed column", "a\n1\n", []frame.ReadOption{frame.WithColumnTypes(map[string]arrow.DataType{"b": arrow.PrimitiveTypes.Int64})}, `WithColumnTypes names column "b"`},
		{"nil type", "a\n1\n", []frame.ReadOption{frame.WithColumnTypes(map[string]arrow.DataType{"a": nil})}, `column "a" has a nil type`},
		{"bad header", "a,\"b\n", nil, "header"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := frame.NewCSVReader(strings.NewReader(tc.input), tc.opts...)
			assert.ErrorContains(t, err, tc.msg)
		})
	}
}

func TestCSVReaderColumnTypes(t *testing.T) {
	f := readCSV(t, "zip,when,x\n01234,2024-03-01,1.5\n,2024-03-02,2\n",
		frame.WithColumnTypes(map[string]arrow.DataType{
			"zip":  arrow.BinaryTypes.String,
			"when": arrow.FixedWidthTypes.Date32,
			"x":    arrow.PrimitiveTypes.Float32,
		}))
	zip, err := f.StringCol("zip")
	require.NoError(t, err)
	assert.Equal(t, "01234", zip.Value(0))
	assert.True(t, zip.IsNull(1))
	when, _ := f.Lookup("when")
	assert.Equal(t, "2024-03-02", when.ValueStr(1))
	x, _ := f.Lookup("x")
	assert.Equal(t, []float32{1.5, 2}, x.(*array.Float32).Float32Values())
}

func TestCSVReaderSkipsByteOrderMark(t *testing.T) {
	f := readCSV(t, "\ufeffid,v\n1,2\n")
	assert.Equal(t, []string{"id", "v"}, f.ColumnNames())
}

func TestCSVWriterText(t *testing.T) {
	mem := memory.DefaultAllocator
	floats := func(values []float64, valid []bool) frame.Column {
		b := array.NewFloat64Builder(mem)
		b.AppendValues(values, valid)
		return frame.Column{Name: "x", Values: b.NewArray()}
	}
	strs := func(name string, values []string, valid []bool) frame.Column {
		b := array.NewStringBuilder(mem)
		b.AppendValues(values, valid)
		return frame.Column{Name: name, Values: b.NewArray()}
	}
	cases := []struct {
		name string
		cols []frame.Column
		want string
	}{
		{
			name: "floats in shortest form, integral ones marked",
			cols: []frame.Column{floats([]float64{3, 0.1, 1e21, 1.5e-7, math.Copysign(0, -1), 100, math.NaN(), math.Inf(-1), 0}, []bool{true, true, true, true, true, true, true, true, false})},
			want: "x\n3.0\n0.1\n1e+21\n1.5e-07\n-0.0\n100.0\nNaN\n-Inf\n\"\"\n",
		},
		{
			name: "a lone missing cell is quoted so the row is not skipped",
			cols: []frame.Column{strs("s", []string{"a", ""}, []bool{true, false})},
			want: "s\na\n\"\"\n",
		},
		{
			name: "quoting",
			cols: []frame.Column{
				strs("s", []string{"a,b", `say "hi"`, "two\nlines", " pad", "plain"}, nil),
				strs("t", []string{"", "", "", "", ""}, []bool{false, false, false, false, false}),
			},
			want: "s,t\n\"a,b\",\n\"say \"\"hi\"\"\",\n\"two\nlines\",\n\" pad\",\nplain,\n",
		},
		{
			name: "header names are quoted too",
			cols: []frame.Column{frame.Int64s("a,b", []int64{1}), frame.Bools(`"q"`, []bool{false})},
			want: "\"a,b\",\"\"\"q\"\"\"\n1,false\n",
		},
		{
			name: "an empty name alone",
			cols: []frame.Column{frame.Int64s("", []int64{-5})},
			want: "\"\"\n-5\n",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := frame.NewCSVWriter(&buf)
			require.NoError(t, err)
			writeFrames(t, w, mustFrame(t, tc.cols...))
			assert.Equal(t, tc.want, buf.String())
		})
	}
}

func TestCSVRoundTripKeepsFloatsExact(t *testing.T) {
	values := []float64{0.1, 1.0 / 3, math.MaxFloat64, math.SmallestNonzeroFloat64, -2, 1 << 60, math.Pi * 1e-10}
	want := mustFrame(t, frame.Float64s("x", values))
	var buf bytes.Buffer
	w, err := frame.NewCSVWriter(&buf)
	require.NoError(t, err)
	writeFrames(t, w, want)
	got := readCSV(t, buf.String())
	requireSameValues(t, want, got)
	for i, v := range values {
		assert.Equal(t, strconv.FormatFloat(v, 'g', -1, 64), strconv.FormatFloat(got.Column(0).(*array.Float64).Value(i), 'g', -1, 64))
	}
}

func TestCSVNaNReadsBackMissing(t *testing.T) {
	var buf bytes.Buffer
	w, err := frame.NewCSVWriter(&buf)
	require.NoError(t, err)
	writeFrames(t, w, mustFrame(t, frame.Float64s("x", []float64{1, math.NaN()})))
	got := readCSV(t, buf.String())
	col, err := got.Float64Col("x")
	require.NoError(t, err)
	assert.Equal(t, 1.0, col.Value(0))
	assert.True(t, col.IsNull(1))
}
