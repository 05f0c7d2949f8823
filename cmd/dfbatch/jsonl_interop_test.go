package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dfbatch/dfbatch/internal/interop"
)

// mlpExpected are the mlp fixture's outputs, as ONNX Runtime computed them.
func mlpExpected(t *testing.T) []float64 {
	t.Helper()
	var expected struct {
		Outputs []struct{ Data []float64 }
	}
	data, err := os.ReadFile(filepath.Join(fixtures, "mlp.expected.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &expected))
	return expected.Outputs[0].Data
}

// pandasJSONL has pandas write the mlp fixture's rows as JSON Lines
// (to_json(orient="records", lines=True, date_format="iso")), with columns
// pandas users have: nullable integers, floats with NaN, datetimes, codes
// with leading zeros and unicode names with None.
func pandasJSONL(t *testing.T) (path string, features []string) {
	t.Helper()
	input, features := mlpCSV(t)
	path = filepath.Join(t.TempDir(), "customers.jsonl")
	out, err := exec.Command(interop.Pandas(t), "-c", `
import sys, numpy as np, pandas as pd
src, dst = sys.argv[1:]
df = pd.read_csv(src)
n = len(df)
df["count"] = pd.array([None if i % 4 == 0 else i * 1000 for i in range(n)], dtype="Int64")
df["ratio"] = [np.nan if i % 3 == 0 else i / 8 for i in range(n)]
df["when"] = pd.date_range("2024-01-01 08:30", periods=n, freq="36h")
df["zip"] = ["%05d" % i for i in range(n)]
df["name"] = [None if i % 5 == 0 else "Zoë %d 😀 \"q\"" % i for i in range(n)]
df.to_json(dst, orient="records", lines=True, date_format="iso")
`, input, path).CombinedOutput()
	require.NoError(t, err, "%s", out)
	return path, features
}

// TestRunPandasJSONLinesReadBackByPandasDuckDBAndPolars scores JSON Lines
// that pandas wrote into JSON Lines (--format jsonl) and has pandas,
// DuckDB and polars read the output: every row in order, the kept
// columns' values and types, and the scores.
func TestRunPandasJSONLinesReadBackByPandasDuckDBAndPolars(t *testing.T) {
	input, features := pandasJSONL(t)
	dir := t.TempDir()
	code, stdout, stderr := runCLI("run", "--model", filepath.Join(fixtures, "mlp.onnx"), "--input", input, "--output", dir, "--format", "jsonl",
		"--batch-size", "10", "--executors", "2", "--features", strings.Join(features, ","),
		"--keep-columns", "id,count,ratio,when,zip,name", "--dtype", "when=timestamp")
	require.Equal(t, exitOK, code, stderr)
	output := filepath.Join(dir, "customers.jsonl")
	assert.Equal(t, output+"\n", stdout)
	expected := mlpExpected(t)
	const rows = 37

	out, err := exec.Command(interop.Pandas(t), "-c", `
import json, sys, pandas as pd
df = pd.read_json(sys.argv[1], lines=True, dtype=False, convert_dates=["when"])
cells = lambda c: [None if pd.isna(v) else v.isoformat() if hasattr(v, "isoformat") else v.item() if hasattr(v, "item") else v for v in df[c]]
print(json.dumps({"columns": list(df.columns), "types": {c: str(t) for c, t in df.dtypes.items()}, "values": {c: cells(c) for c in df.columns}}))
`, output).CombinedOutput()
	require.NoError(t, err, "%s", out)
	var pandas struct {
		Columns []string
		Types   map[string]string
		Values  map[string][]any
	}
	require.NoError(t, json.Unmarshal(out, &pandas), "%s", out)
	assert.Equal(t, []string{"id", "count", "ratio", "when", "zip", "name", "output"}, pandas.Columns)
	assert.Equal(t, map[string]string{"id": "object", "count": "float64", "ratio": "float64", "when": "datetime64[ns, UTC]",
		"zip": "object", "name": "object", "output": "float64"}, pandas.Types)
	for i := range rows {
		assert.Equal(t, fmt.Sprintf("row%d", i), pandas.Values["id"][i])
		wantCount, wantRatio, wantName := any(float64(i*1000)), any(float64(i)/8), any(fmt.Sprintf("Zoë %d 😀 \"q\"", i))
		if i%4 == 0 {
			wantCount = nil
		}
		if i%3 == 0 {
			wantRatio = nil
		}
		if i%5 == 0 {
			wantName = nil
		}
		assert.Equal(t, wantCount, pandas.Values["count"][i], "row %d", i)
		assert.Equal(t, wantRatio, pandas.Values["ratio"][i], "row %d", i)
		assert.Equal(t, wantName, pandas.Values["name"][i], "row %d", i)
		assert.Equal(t, fmt.Sprintf("%05d", i), pandas.Values["zip"][i])
		assert.InDelta(t, expected[i], pandas.Values["output"][i], 1e-5, "row %d", i)
	}
	assert.Equal(t, "2024-01-01T08:30:00+00:00", pandas.Values["when"][0])
	assert.Equal(t, "2024-01-02T20:30:00+00:00", pandas.Values["when"][1])

	duckdb := interop.Node(t, `
import { DuckDBInstance } from '@duckdb/node-api';
const c = await (await DuckDBInstance.create(':memory:')).connect();
await c.run("SET TimeZone='UTC'");
const q = "SELECT * FROM read_json_auto('" + process.argv[1] + "')";
const types = (await c.runAndReadAll("DESCRIBE " + q)).getRows().map(r => r[0] + " " + r[1]);
const rows = (await c.runAndReadAll(q)).getRows().map(r => r.map(v => v === null ? null : String(v)));
console.log(JSON.stringify({types, rows}));
`, output)
	var duck struct {
		Types []string
		Rows  [][]any
	}
	require.NoError(t, json.Unmarshal([]byte(duckdb), &duck), "%s", duckdb)
	assert.Equal(t, []string{"id VARCHAR", "count BIGINT", "ratio DOUBLE", "when TIMESTAMP", "zip VARCHAR", "name VARCHAR", "output DOUBLE"}, duck.Types)
	require.Len(t, duck.Rows, rows)
	assert.Equal(t, []any{"row0", nil, nil, "2024-01-01 08:30:00", "00000", nil}, duck.Rows[0][:6])
	assert.Equal(t, []any{"row7", "7000", "0.875", "2024-01-11 20:30:00", "00007", "Zoë 7 😀 \"q\""}, duck.Rows[7][:6])

	polars := interop.Node(t, `
import pl from 'nodejs-polars';
const df = pl.scanJson(process.argv[1]).collectSync();
console.log(JSON.stringify({columns: df.columns, types: df.dtypes.map(String), rows: df.toRecords()}));
`, output)
	var pl struct {
		Columns []string
		Types   []string
		Rows    []map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(polars), &pl), "%s", polars)
	assert.Equal(t, []string{"id", "count", "ratio", "when", "zip", "name", "output"}, pl.Columns)
	assert.Equal(t, []string{"DataType(String)", "DataType(Int64)", "DataType(Float64)", "DataType(String)", "DataType(String)", "DataType(String)", "DataType(Float64)"}, pl.Types)
	require.Len(t, pl.Rows, rows)
	for i, r := range pl.Rows {
		assert.Equal(t, fmt.Sprintf("row%d", i), r["id"])
		assert.InDelta(t, expected[i], r["output"], 1e-5, "row %d", i)
	}
	assert.Equal(t, "2024-01-11T20:30:00.000000Z", pl.Rows[7]["when"], "polars reads times as text")
}

// TestRunPolarsAndDuckDBJSONLinesFolder scores a folder of JSON Lines
// that polars (.ndjson) and DuckDB (.jsonl) wrote from the same rows, and
// a .json file the folder run skips: each output, named .jsonl, holds
// every row's score in order.
func TestRunPolarsAndDuckDBJSONLinesFolder(t *testing.T) {
	csv, features := mlpCSV(t)
	src := t.TempDir()
	interop.Node(t, `
import pl from 'nodejs-polars';
const [input, output] = process.argv.slice(1);
pl.readCSV(input).writeJSON(output, {format: 'lines'});
`, csv, filepath.Join(src, "polars.ndjson"))
	interop.Node(t, `
import { DuckDBInstance } from '@duckdb/node-api';
const [input, output] = process.argv.slice(1);
const c = await (await DuckDBInstance.create(':memory:')).connect();
await c.run("COPY (SELECT * FROM read_csv('" + input + "')) TO '" + output + "' (FORMAT json)");
`, csv, filepath.Join(src, "duckdb.jsonl"))
	require.NoError(t, os.WriteFile(filepath.Join(src, "notes.json"), []byte(`[{"id": "x"}]`), 0o644))
	dst := t.TempDir()
	code, stdout, stderr := runCLI("run", "--model", filepath.Join(fixtures, "mlp.onnx"), "--input", src, "--output", dst,
		"--batch-size", "8", "--executors", "2", "--features", strings.Join(features, ","), "--keep-columns", "id")
	require.Equal(t, exitOK, code, stderr)
	assert.Equal(t, filepath.Join(dst, "duckdb.jsonl")+"\n"+filepath.Join(dst, "polars.jsonl")+"\n", stdout)
	expected := mlpExpected(t)
	for _, name := range []string{"duckdb.jsonl", "polars.jsonl"} {
		data, err := os.ReadFile(filepath.Join(dst, name))
		require.NoError(t, err)
		lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		require.Len(t, lines, len(expected), name)
		for i, line := range lines {
			var row struct {
				ID     string
				Output float64
			}
			require.NoError(t, json.Unmarshal([]byte(line), &row), "%s line %d", name, i+1)
			assert.Equal(t, fmt.Sprintf("row%d", i), row.ID, name)
			assert.InDelta(t, expected[i], row.Output, 1e-5, "%s row %d", name, i)
		}
	}
}

// TestRunJSONLinesWritesFailedRowsAsJSONLines scores JSON Lines whose
// rows 15 and 72 lack x: their tasks fail, and the rows to re-run are
// written beside the output as JSON Lines, as the input holds them.
func TestRunJSONLinesWritesFailedRowsAsJSONLines(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "in.jsonl")
	var b strings.Builder
	for i := range 100 {
		x := any(float64(i) + 0.5)
		if i == 15 || i == 72 {
			x = nil
		}
		line, err := json.Marshal(map[string]any{"id": i, "x": x})
		require.NoError(t, err)
		b.Write(append(line, '\n'))
	}
	require.NoError(t, os.WriteFile(input, []byte(b.String()), 0o644))
	output := filepath.Join(dir, "scored.jsonl")
	code, _, stderr := runCLI("run", "--command", slowCommand(t), "--input", input, "--output", output,
		"--batch-size", "10", "--executors", "2", "--max-failed-tasks", "5")
	assert.Equal(t, exitTasksFailed, code, stderr)
	assert.NoFileExists(t, output)
	failedRows := filepath.Join(dir, "scored.failed-rows.jsonl")
	assert.Contains(t, stderr, "rows to re-run written to "+failedRows)
	data, err := os.ReadFile(failedRows)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	require.Len(t, lines, 20)
	assert.Equal(t, `{"id":10,"x":10.5}`, lines[0])
	assert.Equal(t, `{"id":15,"x":null}`, lines[5])
	assert.Equal(t, `{"id":79,"x":79.5}`, lines[19])
}

// TestRunReadsAJSONFileOfLinesWithInputFormat refuses a .json input,
// which may hold one array, saying how to read it as JSON Lines, and
// reads it with --input-format jsonl.
func TestRunReadsAJSONFileOfLinesWithInputFormat(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "records.json")
	require.NoError(t, os.WriteFile(input, []byte("{\"id\": 1, \"x\": 0.5}\n{\"id\": 2, \"x\": 1.5}\n"), 0o644))
	out := filepath.Join(dir, "out")
	code, _, stderr := runCLI("run", "--command", slowCommand(t), "--input", input, "--output", out, "--batch-size", "10")
	assert.Equal(t, exitUsage, code, stderr)
	assert.Contains(t, stderr, "a .json file may instead hold one JSON array, which is not read: rename the file .jsonl, or name its format jsonl")
	code, stdout, stderr := runCLI("run", "--command", slowCommand(t), "--input", input, "--output", out, "--batch-size", "10", "--input-format", "jsonl")
	require.Equal(t, exitOK, code, stderr)
	assert.Equal(t, filepath.Join(out, "records.jsonl")+"\n", stdout)
	data, err := os.ReadFile(filepath.Join(out, "records.jsonl"))
	require.NoError(t, err)
	assert.Equal(t, "{\"id\":1,\"score\":1.0}\n{\"id\":2,\"score\":3.0}\n", string(data))
}
