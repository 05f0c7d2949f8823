package frame_test

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/internal/interop"
)

// readJSONLFile reads the JSON Lines file at path whole.
func readJSONLFile(t *testing.T, path string, opts ...frame.ReadOption) *frame.Frame {
	t.Helper()
	r, err := frame.OpenFile(path, "", opts...)
	require.NoError(t, err)
	f, err := frame.ReadAll(r)
	require.NoError(t, err)
	return f
}

// columns are f's columns as Arrow prints their values, and its types.
func columns(f *frame.Frame) (map[string][]string, map[string]string) {
	values, types := map[string][]string{}, map[string]string{}
	for j, name := range f.ColumnNames() {
		values[name] = columnStrings(f.Column(j))
		types[name] = f.Column(j).DataType().String()
	}
	return values, types
}

// TestJSONLinesAsPandasPolarsAndDuckDBWriteThem reads files pandas
// (to_json(orient="records", lines=True)), polars (writeJSON lines) and
// DuckDB (COPY ... (FORMAT json)) write: nulls, NaN (DuckDB writes it
// bare), nullable integers, extreme integers, unicode escaped or not,
// strings of digits, and times, typed by WithColumnTypes.
func TestJSONLinesAsPandasPolarsAndDuckDBWriteThem(t *testing.T) {
	dir := t.TempDir()
	pandas := filepath.Join(dir, "pandas.jsonl")
	out, err := exec.Command(interop.Pandas(t), "-c", `
import sys, numpy as np, pandas as pd
df = pd.DataFrame({
    "id": [1, 2, 3],
    "x": [0.5, np.nan, 1e-7],
    "n": pd.array([1, None, 3], dtype="Int64"),
    "name": ["007", None, "Zoë 😀 \"q\"\n"],
    "flag": [True, False, True],
    "when": pd.to_datetime(["2024-01-01 08:30:00.5", None, "2024-01-02"]),
    "at": pd.to_datetime(["2024-01-01 08:30:00.5", None, "2024-01-02"]).tz_localize("UTC"),
    "f": [1.0, 2.0, 3.0],
    "big": [2**63 - 1, -2**63, 0],
})
df.to_json(sys.argv[1], orient="records", lines=True, date_format="iso")
`, pandas).CombinedOutput()
	require.NoError(t, err, "%s", out)
	f := readJSONLFile(t, pandas, frame.WithColumnTypes(map[string]arrow.DataType{
		"when": arrow.FixedWidthTypes.Timestamp_us, // zoned, UTC: naive times are UTC
		"at":   arrow.FixedWidthTypes.Timestamp_us,
	}))
	values, types := columns(f)
	assert.Equal(t, []string{"id", "x", "n", "name", "flag", "when", "at", "f", "big"}, f.ColumnNames())
	assert.Equal(t, map[string]string{"id": "int64", "x": "float64", "n": "int64", "name": "utf8", "flag": "bool",
		"when": "timestamp[us, tz=UTC]", "at": "timestamp[us, tz=UTC]", "f": "float64", "big": "int64"}, types)
	assert.Equal(t, []string{"0.5", "(null)", "1e-07"}, values["x"])
	assert.Equal(t, []string{"1", "(null)", "3"}, values["n"])
	assert.Equal(t, []string{"007", "(null)", "Zoë 😀 \"q\"\n"}, values["name"])
	assert.Equal(t, []string{"2024-01-01T08:30:00.5Z", "(null)", "2024-01-02T00:00:00Z"}, values["at"])
	assert.Equal(t, []string{"2024-01-01T08:30:00.5Z", "(null)", "2024-01-02T00:00:00Z"}, values["when"])
	assert.Equal(t, []string{"9223372036854775807", "-9223372036854775808", "0"}, values["big"])

	polars := filepath.Join(dir, "polars.ndjson")
	interop.Node(t, `
import pl from 'nodejs-polars';
pl.DataFrame({x: [0.5, null, 1e-7], name: ['007', null, 'Zoë 😀'], flag: [true, null, false]}).withColumns(
  pl.Series('when', [new Date(Date.UTC(2024, 0, 1, 8, 30, 0, 500)), null, new Date(Date.UTC(2024, 0, 2))]),
  pl.Series('n', [1, null, 3], pl.Int64), pl.Series('f32', [0.1, 2, null], pl.Float32)).writeJSON(process.argv[1], {format: 'lines'});
`, polars)
	f = readJSONLFile(t, polars, frame.WithColumnTypes(map[string]arrow.DataType{"when": &arrow.TimestampType{Unit: arrow.Millisecond}}))
	values, types = columns(f)
	assert.Equal(t, []string{"x", "name", "flag", "when", "n", "f32"}, f.ColumnNames())
	assert.Equal(t, map[string]string{"x": "float64", "name": "utf8", "flag": "bool", "when": "timestamp[ms]", "n": "int64", "f32": "float64"}, types)
	assert.Equal(t, []string{"true", "(null)", "false"}, values["flag"])
	assert.Equal(t, []string{"2024-01-01T08:30:00.5", "(null)", "2024-01-02T00:00:00"}, values["when"])
	assert.Equal(t, []string{"0.1", "2", "(null)"}, values["f32"])

	duckdb := filepath.Join(dir, "duckdb.jsonl")
	interop.Node(t, `
import { DuckDBInstance } from '@duckdb/node-api';
const c = await (await DuckDBInstance.create(':memory:')).connect();
await c.run("SET TimeZone='UTC'");
await c.run("COPY (SELECT i::BIGINT AS id, CASE WHEN i = 1 THEN NULL WHEN i = 2 THEN 'nan'::DOUBLE ELSE i / 4 END AS x, " +
  "['007', NULL, 'Zoë 😀', 'tab' || chr(9) || 'here'][i + 1] AS name, TIMESTAMP '2024-01-01 08:30:00.5' + INTERVAL (i) DAY AS ts, " +
  "TIMESTAMPTZ '2024-01-01 08:30:00.5+00' + INTERVAL (i) HOUR AS tz, DATE '2024-01-01' + i::INTEGER AS d, (i * 1.25)::DECIMAL(10, 2) AS dec, " +
  "[i, i + 1] AS l, {'k': i} AS s FROM range(4) t(i)) TO '" + process.argv[1] + "' (FORMAT json)");
`, duckdb)
	f = readJSONLFile(t, duckdb, frame.WithColumnTypes(map[string]arrow.DataType{
		"ts":  arrow.FixedWidthTypes.Timestamp_us,
		"tz":  &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"},
		"d":   arrow.FixedWidthTypes.Date32,
		"dec": &arrow.Decimal128Type{Precision: 10, Scale: 2},
		"l":   arrow.ListOf(arrow.PrimitiveTypes.Int64),
	}))
	values, types = columns(f)
	assert.Equal(t, []string{"id", "x", "name", "ts", "tz", "d", "dec", "l", "s"}, f.ColumnNames())
	assert.Equal(t, "float64", types["x"])
	assert.Equal(t, []string{"0", "(null)", "NaN", "0.75"}, values["x"])
	assert.Equal(t, []string{"007", "(null)", "Zoë 😀", "tab\there"}, values["name"])
	assert.Equal(t, "timestamp[us, tz=UTC]", types["ts"], "Timestamp_us has a zone")
	assert.Equal(t, "2024-01-04T08:30:00.5Z", values["ts"][3])
	assert.Equal(t, "2024-01-01T11:30:00.5Z", values["tz"][3])
	assert.Equal(t, []string{"2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"}, values["d"])
	assert.Equal(t, []string{"0", "1.25", "2.5", "3.75"}, values["dec"])
	assert.Equal(t, "[3,4]", values["l"][3])
	assert.Equal(t, "utf8", types["s"], "an object without a type is its JSON text")
	assert.Equal(t, `{"k":3}`, values["s"][3])
}

// typesFrame has a column of each type the JSON Lines writer formats
// itself, with nulls, NaN, infinities and text JSON must escape.
func typesFrame(t *testing.T) *frame.Frame {
	t.Helper()
	mem := memory.DefaultAllocator
	ids := array.NewInt64Builder(mem)
	ids.AppendValues([]int64{1, 0, math.MaxInt64, -42}, []bool{true, false, true, true})
	xs := array.NewFloat64Builder(mem)
	xs.AppendValues([]float64{0.1, math.NaN(), math.Inf(1), 3}, []bool{true, true, true, true})
	x32 := array.NewFloat32Builder(mem)
	x32.AppendValues([]float32{0.1, 0, 16777216, 1e-10}, []bool{true, false, true, true})
	flags := array.NewBooleanBuilder(mem)
	flags.AppendValues([]bool{true, false, false, true}, []bool{true, true, false, true})
	names := array.NewStringBuilder(mem)
	names.AppendValues([]string{"007", "Zoë 😀 \"q\"\n\\", "", "null"}, []bool{true, true, false, true})
	naive := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Microsecond})
	utc := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"})
	dates := array.NewDate32Builder(mem)
	at := time.Date(2024, 1, 1, 8, 30, 0, 500_000_000, time.UTC)
	for i := range 4 {
		naive.Append(arrow.Timestamp(at.Add(time.Duration(i) * 25 * time.Hour).UnixMicro()))
		utc.Append(arrow.Timestamp(at.Add(time.Duration(i) * time.Hour).UnixMilli()))
		dates.Append(arrow.Date32FromTime(at.AddDate(0, 0, i)))
	}
	segments := array.NewDictionaryBuilder(mem, &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}).(*array.BinaryDictionaryBuilder)
	for _, s := range []string{"gold", "silver", "gold", "bronze"} {
		require.NoError(t, segments.AppendString(s))
	}
	amounts := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 10, Scale: 2})
	for _, v := range []int64{12345, -5, 0, 99999} {
		amounts.Append(decimal128.FromI64(v))
	}
	f, err := frame.New(
		frame.Column{Name: "id", Values: ids.NewArray()},
		frame.Column{Name: "x", Values: xs.NewArray()},
		frame.Column{Name: "x32", Values: x32.NewArray()},
		frame.Column{Name: "flag", Values: flags.NewArray()},
		frame.Column{Name: "name", Values: names.NewArray()},
		frame.Column{Name: "naive", Values: naive.NewArray()},
		frame.Column{Name: "utc", Values: utc.NewArray()},
		frame.Column{Name: "day", Values: dates.NewArray()},
		frame.Column{Name: "segment", Values: segments.NewArray()},
		frame.Column{Name: "amount", Values: amounts.NewArray()},
	)
	require.NoError(t, err)
	return f
}

// TestJSONLinesWrittenAsPandasDuckDBAndPolarsReadThem writes a frame of
// every type the writer formats itself and has pandas (read_json
// lines=True), DuckDB (read_json_auto) and polars (scanJson: readJSON's
// lines format fails in nodejs-polars 0.26.1) read it back: columns in
// order, values, and the types each infers.
func TestJSONLinesWrittenAsPandasDuckDBAndPolarsReadThem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "written.jsonl")
	w, err := frame.CreateFile(path, "")
	require.NoError(t, err)
	f := typesFrame(t)
	writeFrames(t, w, f.Slice(0, 2), f.Slice(2, 4))
	columnNames := []any{"id", "x", "x32", "flag", "name", "naive", "utc", "day", "segment", "amount"}

	out, err := exec.Command(interop.Pandas(t), "-c", `
import json, sys, pandas as pd
df = pd.read_json(sys.argv[1], lines=True, dtype=False, convert_dates=["naive", "utc", "day"])
cells = lambda c: [None if pd.isna(v) else v.isoformat() if hasattr(v, "isoformat") else v.item() if hasattr(v, "item") else v for v in df[c]]
print(json.dumps({"columns": list(df.columns), "types": {c: str(t) for c, t in df.dtypes.items()}, "values": {c: cells(c) for c in df.columns}}))
`, path).CombinedOutput()
	require.NoError(t, err, "%s", out)
	var pandas struct {
		Columns []any
		Types   map[string]string
		Values  map[string][]any
	}
	require.NoError(t, json.Unmarshal(out, &pandas), "%s", out)
	assert.Equal(t, columnNames, pandas.Columns)
	assert.Equal(t, map[string]string{"id": "float64", "x": "float64", "x32": "float64", "flag": "object", "name": "object",
		"naive": "datetime64[ns]", "utc": "datetime64[ns, UTC]", "day": "datetime64[ns]", "segment": "object", "amount": "float64"}, pandas.Types)
	assert.Equal(t, []any{1.0, nil, 9223372036854775807.0, -42.0}, pandas.Values["id"], "pandas reads integers with nulls as float64")
	assert.Equal(t, []any{0.1, nil, nil, 3.0}, pandas.Values["x"], "NaN and Inf are null")
	assert.Equal(t, []any{0.1, nil, 16777216.0, 1e-10}, pandas.Values["x32"])
	assert.Equal(t, []any{true, false, nil, true}, pandas.Values["flag"])
	assert.Equal(t, []any{"007", "Zoë 😀 \"q\"\n\\", nil, "null"}, pandas.Values["name"])
	assert.Equal(t, []any{"2024-01-01T08:30:00.500000", "2024-01-02T09:30:00.500000", "2024-01-03T10:30:00.500000", "2024-01-04T11:30:00.500000"}, pandas.Values["naive"])
	assert.Equal(t, []any{"2024-01-01T08:30:00.500000+00:00", "2024-01-01T09:30:00.500000+00:00", "2024-01-01T10:30:00.500000+00:00", "2024-01-01T11:30:00.500000+00:00"}, pandas.Values["utc"])
	assert.Equal(t, []any{"2024-01-01T00:00:00", "2024-01-02T00:00:00", "2024-01-03T00:00:00", "2024-01-04T00:00:00"}, pandas.Values["day"])
	assert.Equal(t, []any{"gold", "silver", "gold", "bronze"}, pandas.Values["segment"])
	assert.Equal(t, []any{123.45, -0.05, 0.0, 999.99}, pandas.Values["amount"])

	out2 := interop.Node(t, `
import { DuckDBInstance } from '@duckdb/node-api';
const c = await (await DuckDBInstance.create(':memory:')).connect();
await c.run("SET TimeZone='UTC'");
const q = "SELECT * FROM read_json_auto('" + process.argv[1] + "')";
const types = (await c.runAndReadAll("DESCRIBE " + q)).getRows().map(r => [r[0], r[1]]);
const rows = (await c.runAndReadAll(q)).getRows().map(r => r.map(v => v === null ? null : String(v)));
console.log(JSON.stringify({types, rows}));
`, path)
	var duckdb struct {
		Types [][]string
		Rows  [][]any
	}
	require.NoError(t, json.Unmarshal([]byte(out2), &duckdb), "%s", out2)
	// DuckDB takes a column holding int64's maximum for HUGEINT.
	assert.Equal(t, [][]string{{"id", "HUGEINT"}, {"x", "DOUBLE"}, {"x32", "DOUBLE"}, {"flag", "BOOLEAN"}, {"name", "VARCHAR"},
		{"naive", "TIMESTAMP"}, {"utc", "TIMESTAMP"}, {"day", "DATE"}, {"segment", "VARCHAR"}, {"amount", "DOUBLE"}}, duckdb.Types)
	assert.Equal(t, [][]any{
		{"1", "0.1", "0.1", "true", "007", "2024-01-01 08:30:00.5", "2024-01-01 08:30:00.5", "2024-01-01", "gold", "123.45"},
		{nil, nil, nil, "false", "Zoë 😀 \"q\"\n\\", "2024-01-02 09:30:00.5", "2024-01-01 09:30:00.5", "2024-01-02", "silver", "-0.05"},
		{"9223372036854775807", nil, "16777216", nil, nil, "2024-01-03 10:30:00.5", "2024-01-01 10:30:00.5", "2024-01-03", "gold", "0"},
		{"-42", "3", "1e-10", "true", "null", "2024-01-04 11:30:00.5", "2024-01-01 11:30:00.5", "2024-01-04", "bronze", "999.99"},
	}, duckdb.Rows)

	out3 := interop.Node(t, `
import pl from 'nodejs-polars';
const df = pl.scanJson(process.argv[1]).collectSync();
console.log(JSON.stringify({columns: df.columns, types: df.dtypes.map(String), rows: df.toRecords()}));
`, path)
	var polars struct {
		Columns []any
		Types   []string
		Rows    []map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(out3), &polars), "%s", out3)
	assert.Equal(t, columnNames, polars.Columns)
	assert.Equal(t, []string{"DataType(Int64)", "DataType(Float64)", "DataType(Float64)", "DataType(Bool)", "DataType(String)",
		"DataType(String)", "DataType(String)", "DataType(String)", "DataType(String)", "DataType(Float64)"}, polars.Types)
	require.Len(t, polars.Rows, 4)
	assert.Equal(t, map[string]any{"id": -42.0, "x": 3.0, "x32": 1e-10, "flag": true, "name": "null", "naive": "2024-01-04 11:30:00.500000",
		"utc": "2024-01-01T11:30:00.500Z", "day": "2024-01-04", "segment": "bronze", "amount": 999.99}, polars.Rows[3])
	assert.Nil(t, polars.Rows[1]["x"])

	// And dfbatch reads its own output back, typed as it was written.
	back := readJSONLFile(t, path, frame.WithColumnTypes(map[string]arrow.DataType{
		"x32": arrow.PrimitiveTypes.Float32, "naive": &arrow.TimestampType{Unit: arrow.Microsecond},
		"utc": &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}, "day": arrow.FixedWidthTypes.Date32,
		"amount": &arrow.Decimal128Type{Precision: 10, Scale: 2},
	}))
	values, _ := columns(back)
	want, _ := columns(f)
	want["x"] = []string{"0.1", "(null)", "(null)", "3"}
	for name := range want {
		assert.Equal(t, want[name], values[name], name)
	}
	_, err = os.Stat(path)
	require.NoError(t, err)
}
