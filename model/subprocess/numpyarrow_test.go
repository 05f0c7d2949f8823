package subprocess_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
	"github.com/dfbatch/dfbatch/model/subprocess"
)

// typedColumn is a column of everyType, and the type it has once it has
// been through pandas and back: nil for its own.
type typedColumn struct {
	column frame.Column
	back   arrow.DataType
}

// everyType holds a column of every type dfbatch_model.py reads without
// pyarrow, each with a null in its second row.
func everyType(t *testing.T) []typedColumn {
	t.Helper()
	mem := memory.DefaultAllocator
	valid := []bool{true, false, true}
	build := func(b array.Builder, add func()) arrow.Array {
		add()
		return b.NewArray()
	}
	col := func(name string, a arrow.Array, back arrow.DataType) typedColumn {
		return typedColumn{frame.Column{Name: name, Values: a}, back}
	}
	i8, i16, i32, i64 := array.NewInt8Builder(mem), array.NewInt16Builder(mem), array.NewInt32Builder(mem), array.NewInt64Builder(mem)
	u8, u16, u32, u64 := array.NewUint8Builder(mem), array.NewUint16Builder(mem), array.NewUint32Builder(mem), array.NewUint64Builder(mem)
	f16, f32, f64 := array.NewFloat16Builder(mem), array.NewFloat32Builder(mem), array.NewFloat64Builder(mem)
	b := array.NewBooleanBuilder(mem)
	s, ls, sv := array.NewStringBuilder(mem), array.NewLargeStringBuilder(mem), array.NewStringViewBuilder(mem)
	bin, lbin := array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary), array.NewBinaryBuilder(mem, arrow.BinaryTypes.LargeBinary)
	dictType := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	dict := array.NewDictionaryBuilder(mem, dictType).(*array.BinaryDictionaryBuilder)
	dict8Values, dict8Indices := array.NewLargeStringBuilder(mem), array.NewUint8Builder(mem)
	dict8Values.AppendValues([]string{"a", "b"}, nil)
	dict8Indices.AppendValues([]uint8{1, 0, 1}, valid)
	dict8 := array.NewDictionaryArray(&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Uint8, ValueType: arrow.BinaryTypes.LargeString},
		dict8Indices.NewArray(), dict8Values.NewArray())
	nsType := &arrow.TimestampType{Unit: arrow.Nanosecond}
	nyType := &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "America/New_York"}
	ts, tsz := array.NewTimestampBuilder(mem, nsType), array.NewTimestampBuilder(mem, nyType)
	tsms := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"})
	d32, d64 := array.NewDate32Builder(mem), array.NewDate64Builder(mem)
	at := time.Date(2024, 2, 29, 13, 14, 15, 123456789, time.UTC)
	old := time.Date(1901, 12, 14, 20, 45, 52, 0, time.UTC)
	return []typedColumn{
		col("id", build(i64, func() { i64.AppendValues([]int64{1, 2, 3}, nil) }), nil),
		col("i8", build(i8, func() { i8.AppendValues([]int8{math.MinInt8, 0, math.MaxInt8}, valid) }), nil),
		col("i16", build(i16, func() { i16.AppendValues([]int16{math.MinInt16, 0, math.MaxInt16}, valid) }), nil),
		col("i32", build(i32, func() { i32.AppendValues([]int32{math.MinInt32, 0, math.MaxInt32}, valid) }), nil),
		col("i64", build(i64, func() { i64.AppendValues([]int64{math.MinInt64, 0, math.MaxInt64}, valid) }), nil),
		col("u8", build(u8, func() { u8.AppendValues([]uint8{0, 0, math.MaxUint8}, valid) }), nil),
		col("u16", build(u16, func() { u16.AppendValues([]uint16{0, 0, math.MaxUint16}, valid) }), nil),
		col("u32", build(u32, func() { u32.AppendValues([]uint32{0, 0, math.MaxUint32}, valid) }), nil),
		col("u64", build(u64, func() { u64.AppendValues([]uint64{0, 0, math.MaxUint64}, valid) }), nil),
		col("f16", build(f16, func() { f16.AppendValues([]float16.Num{float16.New(1.5), {}, float16.New(-65504)}, valid) }), nil),
		col("f32", build(f32, func() { f32.AppendValues([]float32{0.1, 0, math.MaxFloat32}, valid) }), nil),
		col("f64", build(f64, func() { f64.AppendValues([]float64{1e-300, 0, -1.0 / 3}, valid) }), nil),
		col("b", build(b, func() { b.AppendValues([]bool{true, false, false}, valid) }), nil),
		col("s", build(s, func() { s.AppendValues([]string{"001", "", "héllo, \"wörld\"\n"}, valid) }), nil),
		col("ls", build(ls, func() { ls.AppendValues([]string{"0042", "", "ü"}, valid) }), arrow.BinaryTypes.String),
		col("sv", build(sv, func() { sv.AppendValues([]string{"short", "", "a string longer than twelve bytes"}, valid) }), arrow.BinaryTypes.String),
		col("bin", build(bin, func() { bin.AppendValues([][]byte{{0, 255}, nil, {}}, valid) }), nil),
		col("lbin", build(lbin, func() { lbin.AppendValues([][]byte{[]byte("x"), nil, {1}}, valid) }), arrow.BinaryTypes.Binary),
		col("dict", build(dict, func() {
			require.NoError(t, dict.AppendString("low"))
			dict.AppendNull()
			require.NoError(t, dict.AppendString("high"))
		}), nil),
		col("dict8", dict8, dictType),
		col("ts", build(ts, func() {
			ts.AppendValues([]arrow.Timestamp{arrow.Timestamp(at.UnixNano()), 0, arrow.Timestamp(old.UnixNano())}, valid)
		}), nil),
		col("tsz", build(tsz, func() { tsz.AppendValues([]arrow.Timestamp{arrow.Timestamp(at.UnixNano()), 0, 0}, valid) }), nil),
		col("tsms", build(tsms, func() { tsms.AppendValues([]arrow.Timestamp{arrow.Timestamp(at.UnixMilli()), 0, -1}, valid) }),
			&arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}),
		col("d32", build(d32, func() { d32.AppendValues([]arrow.Date32{arrow.Date32FromTime(at), 0, -25000}, valid) }), nil),
		col("d64", build(d64, func() { d64.AppendValues([]arrow.Date64{arrow.Date64FromTime(old), 0, 0}, valid) }), arrow.FixedWidthTypes.Date32),
	}
}

func everyTypeFrame(t *testing.T) *frame.Frame {
	t.Helper()
	cols := everyType(t)
	columns := make([]frame.Column, len(cols))
	for i, c := range cols {
		columns[i] = c.column
	}
	f, err := frame.New(columns...)
	require.NoError(t, err)
	return f
}

// numpyPythonModel returns a Command that serves the Python source as a
// model with dfbatch_model.py's numpy Arrow codec, pyarrow or not.
func numpyPythonModel(t *testing.T, source string) subprocess.Command {
	t.Helper()
	python := pythonWithPandas(t)
	script := filepath.Join(t.TempDir(), "model.py")
	require.NoError(t, os.WriteFile(script, []byte(source), 0o644))
	return subprocess.Command{Args: []string{python, script}, Env: []string{"DFBATCH_PYARROW=0"}}
}

const echoPython = `
import dfbatch_model

def predict(df):
    assert dfbatch_model._pa is None, "the numpy codec is not in use"
    return df

if __name__ == "__main__":
    dfbatch_model.serve(predict)
`

// requireSameColumns checks that got holds want's columns, with the types
// they take through pandas, and the same values and nulls.
func requireSameColumns(t *testing.T, want []typedColumn, got *frame.Frame) {
	t.Helper()
	require.Equal(t, len(want), got.NumCols(), got.Schema().String())
	for j, c := range want {
		name, in, out := c.column.Name, c.column.Values, got.Column(j)
		require.Equal(t, name, got.Schema().Field(j).Name)
		back := c.back
		if back == nil {
			back = in.DataType()
		}
		require.Truef(t, arrow.TypeEqual(back, out.DataType()), "column %s: %s, want %s", name, out.DataType(), back)
		if c.back == nil {
			assert.Truef(t, array.Equal(in, out), "column %s: %s, want %s", name, out, in)
			continue
		}
		require.Equal(t, in.Len(), out.Len(), name)
		for i := range in.Len() {
			assert.Equal(t, in.IsNull(i), out.IsNull(i), "column %s, row %d", name, i)
			assert.Equal(t, in.ValueStr(i), out.ValueStr(i), "column %s, row %d", name, i)
		}
	}
}

func TestNumpyArrowCarriesEveryTypeToPythonAndBack(t *testing.T) {
	cmd := numpyPythonModel(t, echoPython)
	cmd.Format = subprocess.FormatArrow
	m, err := cmd.Load(context.Background(), model.Executor{})
	require.NoError(t, err)
	p := m.(*subprocess.Process)
	defer p.Close()
	in := everyTypeFrame(t)
	for _, rows := range []int{3, 1, 0} {
		t.Run(fmt.Sprintf("%d rows", rows), func(t *testing.T) {
			want := everyType(t)
			for i := range want {
				want[i].column.Values = array.NewSlice(want[i].column.Values, 0, int64(rows))
				switch want[i].column.Values.DataType().ID() {
				case arrow.BINARY, arrow.LARGE_BINARY, arrow.DATE32, arrow.DATE64:
					if rows == 0 { // pandas holds them as objects: without one, their type is lost
						want[i].back = arrow.BinaryTypes.String
					}
				}
			}
			out, err := p.Predict(context.Background(), in.Slice(0, rows))
			require.NoError(t, err)
			requireSameColumns(t, want, out)
		})
	}

	// Through the engine, two rows a task: each task's dictionaries differ.
	out, err := engine.NewClient(cmd).RunFrame(context.Background(), in, engine.Options{BatchSize: 2})
	require.NoError(t, err)
	requireSameColumns(t, everyType(t), out)
}

// typesPython checks, inside Python, the dtypes a model sees without pyarrow
// for everyType's columns, then returns columns of pandas' dtypes.
const typesPython = `
import datetime
import numpy as np, pandas as pd
import dfbatch_model

SEEN = {
    "id": "int64", "i8": "Int8", "i16": "Int16", "i32": "Int32", "i64": "Int64",
    "u8": "UInt8", "u16": "UInt16", "u32": "UInt32", "u64": "UInt64",
    "f16": "float16", "f32": "float32", "f64": "float64", "b": "boolean",
    "s": "object", "ls": "object", "sv": "object", "bin": "object", "lbin": "object",
    "dict": "category", "dict8": "category", "ts": "datetime64[ns]",
    "tsz": "datetime64[ns, America/New_York]", "tsms": "datetime64[ns, UTC]", "d32": "object", "d64": "object",
}

def predict(df):
    assert dfbatch_model._pa is None, "the numpy codec is not in use"
    seen = {c: str(t) for c, t in df.dtypes.items()}
    assert seen == SEEN, f"dtypes {seen}"
    assert df["s"].tolist() == ["001", None, 'héllo, "wörld"\n'], df["s"].tolist()
    assert df["u64"].tolist() == [0, pd.NA, 2**64 - 1], df["u64"].tolist()
    assert df["i64"].tolist() == [-2**63, pd.NA, 2**63 - 1], df["i64"].tolist()
    assert df["b"].tolist() == [True, pd.NA, False], df["b"].tolist()
    assert df["bin"].tolist() == [b"\x00\xff", None, b""], df["bin"].tolist()
    assert df["dict"].tolist()[0] == "low" and list(df["dict"].cat.categories) == ["low", "high"]
    assert df["ts"].iloc[0] == pd.Timestamp("2024-02-29T13:14:15.123456789"), df["ts"].iloc[0]
    assert str(df["tsz"].iloc[0]) == "2024-02-29 08:14:15.123456789-05:00", df["tsz"].iloc[0]
    assert df["d32"].iloc[0] == datetime.date(2024, 2, 29), df["d32"].iloc[0]
    assert np.isnan(df["f32"].iloc[1]) and df["f32"].iloc[0] == np.float32(0.1)
    return pd.DataFrame({
        "n": pd.array([1, None, -3], dtype="Int64"),
        "u8": np.array([0, 255, 7], dtype=np.uint8),
        "f32": np.array([0.5, np.nan, 1.25], dtype=np.float32),
        "flag": pd.array([True, None, False], dtype="boolean"),
        "code": ["001", None, "0042"],
        "level": pd.Categorical(["low", None, "high"], categories=["low", "high"], ordered=True),
        "at": pd.to_datetime(["2024-03-01T12:00:00", None, "1999-12-31T23:59:59.000000001"]).tz_localize("Europe/Paris"),
        "day": [datetime.date(2024, 2, 29), None, datetime.date(1900, 1, 1)],
        "raw": [b"\x00\x01", None, b""],
    })

if __name__ == "__main__":
    dfbatch_model.serve(predict)
`

func TestPythonWithoutPyarrowSeesTypedColumnsAndReturnsThem(t *testing.T) {
	cmd := numpyPythonModel(t, typesPython) // no Format: the process offers Arrow first
	out, err := engine.NewClient(cmd).RunFrame(context.Background(), everyTypeFrame(t), engine.Options{BatchSize: 3})
	require.NoError(t, err)

	mem := memory.DefaultAllocator
	n := array.NewInt64Builder(mem)
	n.AppendValues([]int64{1, 0, -3}, []bool{true, false, true})
	u8 := array.NewUint8Builder(mem)
	u8.AppendValues([]uint8{0, 255, 7}, nil)
	f32 := array.NewFloat32Builder(mem)
	f32.AppendValues([]float32{0.5, 0, 1.25}, []bool{true, false, true})
	flag := array.NewBooleanBuilder(mem)
	flag.AppendValues([]bool{true, false, false}, []bool{true, false, true})
	code := array.NewStringBuilder(mem)
	code.AppendValues([]string{"001", "", "0042"}, []bool{true, false, true})
	levels := array.NewStringBuilder(mem)
	levels.AppendValues([]string{"low", "high"}, nil)
	indices := array.NewInt32Builder(mem)
	indices.AppendValues([]int32{0, 0, 1}, []bool{true, false, true})
	level := array.NewDictionaryArray(&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String, Ordered: true},
		indices.NewArray(), levels.NewArray())
	paris := &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "Europe/Paris"}
	at := array.NewTimestampBuilder(mem, paris)
	at.AppendValues([]arrow.Timestamp{
		arrow.Timestamp(time.Date(2024, 3, 1, 11, 0, 0, 0, time.UTC).UnixNano()), 0,
		arrow.Timestamp(time.Date(1999, 12, 31, 22, 59, 59, 1, time.UTC).UnixNano()),
	}, []bool{true, false, true})
	day := array.NewDate32Builder(mem)
	day.AppendValues([]arrow.Date32{
		arrow.Date32FromTime(time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)), 0,
		arrow.Date32FromTime(time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)),
	}, []bool{true, false, true})
	raw := array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary)
	raw.AppendValues([][]byte{{0, 1}, nil, {}}, []bool{true, false, true})
	want := []typedColumn{
		{column: frame.Column{Name: "n", Values: n.NewArray()}},
		{column: frame.Column{Name: "u8", Values: u8.NewArray()}},
		{column: frame.Column{Name: "f32", Values: f32.NewArray()}},
		{column: frame.Column{Name: "flag", Values: flag.NewArray()}},
		{column: frame.Column{Name: "code", Values: code.NewArray()}},
		{column: frame.Column{Name: "level", Values: level}},
		{column: frame.Column{Name: "at", Values: at.NewArray()}},
		{column: frame.Column{Name: "day", Values: day.NewArray()}},
		{column: frame.Column{Name: "raw", Values: raw.NewArray()}},
	}
	requireSameColumns(t, want, out)
}

func TestPythonWithoutPyarrowNamesAColumnItCannotWrite(t *testing.T) {
	cmd := numpyPythonModel(t, `
import pandas as pd
import dfbatch_model

def predict(df):
    return df.assign(wait=pd.to_timedelta(df["id"], unit="s"))

dfbatch_model.serve(predict)
`)
	_, err := engine.NewClient(cmd).RunFrame(context.Background(), ids(2), engine.Options{BatchSize: 2})
	require.Error(t, err)
	assert.ErrorContains(t, err, "column 'wait' of dtype timedelta64[ns]")
	assert.ErrorContains(t, err, "install pyarrow, or use the csv payload format")
}

func TestForcingArrowOnAProcessThatOffersOnlyCSVSaysWhatToDo(t *testing.T) {
	hello := `{"type":"hello","protocol":1,"formats":["csv"],"pid":1}`
	frameBytes := fmt.Sprintf("DFB1%s%s%s", octal(uint64(len(hello)), 4), hello, octal(0, 8))
	cmd := subprocess.Command{Args: subprocess.Shell("printf '" + frameBytes + "'; cat >/dev/null"), Format: subprocess.FormatArrow}
	_, err := cmd.Load(context.Background(), model.Executor{})
	require.Error(t, err)
	for _, want := range []string{
		"Command.Format (the CLI's --command-format) is arrow, but the process offers only csv",
		"dfbatch_model.py as dfbatch ships it, which needs only numpy",
		"pip install pyarrow",
		"or leave the format unset",
	} {
		assert.ErrorContains(t, err, want)
	}
}

// octal is n's first size little-endian bytes as printf's octal escapes.
func octal(n uint64, size int) string {
	var b strings.Builder
	for range size {
		fmt.Fprintf(&b, `\%03o`, n&0xff)
		n >>= 8
	}
	return b.String()
}

func TestDFBATCHPythonRunsForAPython3Program(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "it's python")
	require.NoError(t, os.Mkdir(dir, 0o755))
	fake := filepath.Join(dir, "python")
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\necho \"fake python ran: $*\" >&2\nexit 7\n"), 0o755))
	for _, tc := range []struct {
		name, want string
		args       []string
	}{
		{"program", "fake python ran: predict.py --flag", []string{"python3", "predict.py", "--flag"}},
		{"shell line", "fake python ran: predict.py two words", subprocess.Shell("  python predict.py 'two words'")},
		{"another program", "not found", subprocess.Shell("python3.11-no-such predict.py")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := subprocess.Command{Args: tc.args, Env: []string{subprocess.PythonEnv + "=" + fake}}
			_, err := cmd.Load(context.Background(), model.Executor{})
			require.Error(t, err)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

// BenchmarkPythonEchoWithoutPyarrow sends a batch of a million rows, ten
// float64 columns and a string column, through a Python model that returns
// its input, as Arrow (dfbatch_model.py's numpy codec) and as CSV.
func BenchmarkPythonEchoWithoutPyarrow(b *testing.B) {
	python := pythonWithPandas(b)
	script := filepath.Join(b.TempDir(), "model.py")
	require.NoError(b, os.WriteFile(script, []byte(echoPython), 0o644))
	const rows = 1_000_000
	cols := []frame.Column{}
	for c := range 10 {
		v := make([]float64, rows)
		for i := range v {
			v[i] = float64(i*(c+1)) / 7
		}
		cols = append(cols, frame.Float64s(fmt.Sprintf("x%d", c), v))
	}
	names := make([]string, rows)
	for i := range names {
		names[i] = fmt.Sprintf("customer %d", i)
	}
	in, err := frame.New(append(cols, frame.Strings("name", names))...)
	require.NoError(b, err)
	for _, format := range []subprocess.Format{subprocess.FormatArrow, subprocess.FormatCSV} {
		b.Run(string(format), func(b *testing.B) {
			cmd := subprocess.Command{Args: []string{python, script}, Env: []string{"DFBATCH_PYARROW=0"}, Format: format}
			m, err := cmd.Load(context.Background(), model.Executor{})
			require.NoError(b, err)
			defer m.(*subprocess.Process).Close()
			b.SetBytes(in.ByteSize())
			for b.Loop() {
				out, err := m.Predict(context.Background(), in)
				require.NoError(b, err)
				require.Equal(b, rows, out.NumRows())
			}
			b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
