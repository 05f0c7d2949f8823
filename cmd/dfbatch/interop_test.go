package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dfbatch/dfbatch/internal/interop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// polarsFeather has polars write the mlp fixture's rows as Feather, with
// a name column (string_view, as polars writes strings) and a categorical
// segment column (a dictionary of string_view), and returns its path.
func polarsFeather(t *testing.T) (path string, features []string) {
	t.Helper()
	input, features := mlpCSV(t)
	path = filepath.Join(t.TempDir(), "customers.feather")
	interop.Node(t, `
import pl from 'nodejs-polars';
const [input, output] = process.argv.slice(1);
const df = pl.readCSV(input);
const n = df.height;
const names = Array.from({length: n}, (_, i) => i % 5 == 0 ? null : "customer with a long name " + i);
const segments = Array.from({length: n}, (_, i) => ["gold", "silver", "bronze"][i % 3]);
df.withColumns(pl.Series("name", names, pl.Utf8), pl.Series("segment", segments).cast(pl.Categorical)).writeIPC(output);
`, input, path)
	return path, features
}

// TestRunPolarsFeatherToParquetReadsBackInPolarsAndDuckDB scores a Feather
// file polars wrote, keeping its string_view and categorical columns,
// into Parquet (which has no view types), and reads the output back with
// polars and DuckDB: every row, in order, names and segments as written.
func TestRunPolarsFeatherToParquetReadsBackInPolarsAndDuckDB(t *testing.T) {
	input, features := polarsFeather(t)
	output := filepath.Join(t.TempDir(), "scored.parquet")
	code, _, stderr := runCLI("run", "--model", filepath.Join(fixtures, "mlp.onnx"), "--input", input, "--output", output,
		"--batch-size", "10", "--executors", "2", "--features", strings.Join(features, ","), "--keep-columns", "id,name,segment")
	require.Equal(t, exitOK, code, stderr)

	var want []string
	for i := range 37 {
		name := "null"
		if i%5 != 0 {
			name = fmt.Sprintf("customer with a long name %d", i)
		}
		want = append(want, fmt.Sprintf("row%d|%s|%s", i, name, []string{"gold", "silver", "bronze"}[i%3]))
	}
	polars := interop.Node(t, `
import pl from 'nodejs-polars';
const df = pl.readParquet(process.argv[1]);
for (const r of df.toRecords()) console.log([r.id, r.name ?? "null", r.segment].join("|"));
`, output)
	assert.Equal(t, want, strings.Split(strings.TrimSpace(polars), "\n"), "read back by polars")
	duckdb := interop.Node(t, `
import { DuckDBInstance } from '@duckdb/node-api';
const c = await (await DuckDBInstance.create(':memory:')).connect();
const r = await c.runAndReadAll("SELECT id, coalesce(name, 'null'), segment FROM read_parquet('" + process.argv[1] + "')");
console.log(JSON.stringify(r.getRows()));
`, output)
	var rows [][]string
	require.NoError(t, json.Unmarshal([]byte(duckdb), &rows))
	got := make([]string, len(rows))
	for i, r := range rows {
		got[i] = strings.Join(r, "|")
	}
	assert.Equal(t, want, got, "read back by DuckDB")
	_, err := os.Stat(output)
	require.NoError(t, err)
}

// arrowJSStream has Arrow JS write an IPC stream of 37 rows (id, the
// mlp fixture's 16 features, and a categorical segment) in batches of 8,
// each with its own dictionary, its categories in another order; with
// extra, the last batch has that category too. It returns the path and
// each row's segment.
func arrowJSStream(t *testing.T, extra string) (path string, segments []string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "customers.arrow")
	out := interop.Node(t, `
import { writeFileSync } from 'fs';
import { tableToIPC, vectorFromArray, Dictionary, Utf8, Int32, Float64, Table } from 'apache-arrow';
const [output, extra] = process.argv.slice(1);
const segs = ["gold", "silver", "bronze", "iron"];
const parts = [], all = [];
for (let o = 0; o < 37; o += 8) {
  const n = Math.min(8, 37 - o);
  const seg = Array.from({length: n}, (_, i) => segs[(o / 8 + i) % 4]);
  if (extra && o + 8 >= 37) seg[n - 1] = extra;
  all.push(...seg);
  const cols = {id: vectorFromArray(Array.from({length: n}, (_, i) => "row" + (o + i)), new Utf8()),
                segment: vectorFromArray(seg, new Dictionary(new Utf8(), new Int32()))};
  for (let f = 0; f < 16; f++) {
    cols["f" + String(f).padStart(2, "0")] = vectorFromArray(Array.from({length: n}, (_, i) => ((o + i) * (f + 1)) % 7 / 7), new Float64());
  }
  parts.push(new Table(cols));
}
writeFileSync(output, tableToIPC(parts.reduce((a, b) => a.concat(b)), "stream"));
console.log(all.join(","));
`, path, extra)
	return path, strings.Split(strings.TrimSpace(out), ",")
}

// TestRunArrowStreamCategoricalsToArrowFile scores an Arrow stream whose
// batches carry their own dictionaries into an Arrow file, which holds
// one per column, keeping the categorical column: Arrow JS reads back
// every row's category (nodejs-polars 0.26.1's readIPC fails on every
// Arrow file here, its own included). A category the first batch lacks
// is an error naming the column.
func TestRunArrowStreamCategoricalsToArrowFile(t *testing.T) {
	features := "f00,f01,f02,f03,f04,f05,f06,f07,f08,f09,f10,f11,f12,f13,f14,f15"
	input, segments := arrowJSStream(t, "")
	output := filepath.Join(t.TempDir(), "scored.arrow")
	code, _, stderr := runCLI("run", "--model", filepath.Join(fixtures, "mlp.onnx"), "--input", input, "--output", output,
		"--batch-size", "10", "--executors", "2", "--features", features, "--keep-columns", "id,segment")
	require.Equal(t, exitOK, code, stderr)
	arrowJS := interop.Node(t, `
import { readFileSync } from 'fs';
import { tableFromIPC } from 'apache-arrow';
console.log(tableFromIPC(readFileSync(process.argv[1])).getChild("segment").toArray().join(","));
`, output)
	assert.Equal(t, segments, strings.Split(strings.TrimSpace(arrowJS), ","), "read back by Arrow JS")

	input, _ = arrowJSStream(t, "platinum")
	code, _, stderr = runCLI("run", "--model", filepath.Join(fixtures, "mlp.onnx"), "--input", input, "--output", filepath.Join(t.TempDir(), "scored.arrow"),
		"--batch-size", "10", "--features", features, "--keep-columns", "id,segment")
	assert.NotEqual(t, exitOK, code)
	assert.Contains(t, stderr, `column "segment"`)
	assert.Contains(t, stderr, `value "platinum" of a later batch is not in the first batch's dictionary`)
}

// TestRunCompressionAndRowGroupSizeAsDuckDBReadsThem scores into a zstd
// Parquet of 10-row groups, which DuckDB reads back as such.
func TestRunCompressionAndRowGroupSizeAsDuckDBReadsThem(t *testing.T) {
	input, features := mlpCSV(t)
	output := filepath.Join(t.TempDir(), "scored.parquet")
	code, _, stderr := runCLI("run", "--model", filepath.Join(fixtures, "mlp.onnx"), "--input", input, "--output", output,
		"--batch-size", "10", "--features", strings.Join(features, ","), "--keep-columns", "id",
		"--compression", "zstd", "--row-group-size", "10")
	require.Equal(t, exitOK, code, stderr)
	out := interop.Node(t, `
import { DuckDBInstance } from '@duckdb/node-api';
const c = await (await DuckDBInstance.create(':memory:')).connect();
const r = await c.runAndReadAll("SELECT any_value(compression), count(DISTINCT row_group_id), max(row_group_num_rows) FROM parquet_metadata('" + process.argv[1] + "')");
console.log(r.getRows()[0].map(String).join(","));
`, output)
	assert.Equal(t, "ZSTD,4,10", strings.TrimSpace(out))
}

// TestRunKeepIndexLinesScoresUpWithAPandasFrame has pandas shuffle and
// filter the 37 mlp rows, keeping their original index, and write them with
// to_csv's default unnamed index column; --keep-index carries it into the
// scores, which pandas reads back with index_col=0 onto the same index,
// each row's score the one its id gets in the unshuffled run.
func TestRunKeepIndexLinesScoresUpWithAPandasFrame(t *testing.T) {
	input, features := mlpCSV(t)
	dir := t.TempDir()
	shuffled := filepath.Join(dir, "shuffled.csv")
	out, err := exec.Command(interop.Pandas(t), "-c", `
import sys
import pandas as pd
df = pd.read_csv(sys.argv[1])
df.sample(frac=1, random_state=7).iloc[:30].to_csv(sys.argv[2])
`, input, shuffled).CombinedOutput()
	require.NoError(t, err, string(out))

	score := func(in, output string, flags ...string) {
		args := append([]string{"run", "--model", filepath.Join(fixtures, "mlp.onnx"), "--input", in, "--output", output,
			"--batch-size", "40", "--features", strings.Join(features, ","), "--keep-columns", "id"}, flags...)
		code, _, stderr := runCLI(args...)
		require.Equal(t, exitOK, code, stderr)
	}
	whole, scored := filepath.Join(dir, "whole.csv"), filepath.Join(dir, "scored.csv")
	score(input, whole)
	score(shuffled, scored, "--keep-index")

	out, err = exec.Command(interop.Pandas(t), "-c", `
import json, sys
import pandas as pd
shuffled = pd.read_csv(sys.argv[1], index_col=0)
scored = pd.read_csv(sys.argv[2], index_col=0)
whole = pd.read_csv(sys.argv[3]).set_index("id")
score = [c for c in scored.columns if c != "id"][0]
print(json.dumps({
    "same_index": scored.index.equals(shuffled.index),
    "ids_line_up": bool((scored["id"] == shuffled["id"]).all()),
    "index_is_row": bool((scored["id"] == "row" + scored.index.astype(str)).all()),
    "max_diff": float((scored[score] - whole.loc[scored["id"], score].to_numpy()).abs().max()),
    "rows": len(scored),
}))
`, shuffled, scored, whole).CombinedOutput()
	require.NoError(t, err, string(out))
	var got struct {
		SameIndex  bool    `json:"same_index"`
		IdsLineUp  bool    `json:"ids_line_up"`
		IndexIsRow bool    `json:"index_is_row"`
		MaxDiff    float64 `json:"max_diff"`
		Rows       int
	}
	require.NoError(t, json.Unmarshal(out, &got), string(out))
	assert.Equal(t, 30, got.Rows)
	assert.True(t, got.SameIndex && got.IdsLineUp && got.IndexIsRow, string(out))
	assert.Zero(t, got.MaxDiff, string(out))
}

// TestRunKeepsTypesEndToEnd has DuckDB write a Parquet file of the mlp
// features beside the types users keep next to scores: codes with leading
// zeros, a nullable integer, a timestamp with time zone and a category.
// It is scored to Parquet and to CSV, by the Go runtime and by ONNX
// Runtime; DuckDB and polars read the Parquet output back, pandas the CSV,
// and each finds the kept columns as it wrote or read them from the input,
// with their types, in input order, and the two runtimes' scores within
// 1e-5.
func TestRunKeepsTypesEndToEnd(t *testing.T) {
	csvInput, features := mlpCSV(t)
	dir := t.TempDir()
	input := filepath.Join(dir, "typed.parquet")
	interop.Node(t, `
import { DuckDBInstance } from '@duckdb/node-api';
const [csv, out] = process.argv.slice(1);
const c = await (await DuckDBInstance.create(':memory:')).connect();
await c.run("CREATE TYPE segment AS ENUM ('gold', 'silver', 'bronze')");
await c.run("COPY (SELECT *, lpad((i * 7)::VARCHAR, 6, '0') AS code, CASE WHEN i % 4 = 0 THEN NULL ELSE i * 1000 END::INTEGER AS n, " +
  "TIMESTAMPTZ '2024-03-31 00:30:00+00' + i * INTERVAL 37 MINUTE AS ts, (['gold', 'silver', 'bronze'][i % 3 + 1])::segment AS seg " +
  "FROM (SELECT *, row_number() OVER () - 1 AS i FROM read_csv('" + csv + "')) ORDER BY i) TO '" + out + "' (FORMAT parquet)");
`, csvInput, input)

	kept := "id,code,n,ts,seg"
	score := func(output string, flags ...string) {
		args := append([]string{"run", "--model", filepath.Join(fixtures, "mlp.onnx"), "--input", input, "--output", output,
			"--batch-size", "10", "--executors", "2", "--features", strings.Join(features, ","), "--keep-columns", kept}, flags...)
		code, _, stderr := runCLI(args...)
		require.Equal(t, exitOK, code, stderr)
	}
	parquet, csv := filepath.Join(dir, "scored.parquet"), filepath.Join(dir, "scored.csv")
	score(parquet)
	score(csv)

	// DuckDB: the kept columns equal the input's, row by row, and have its
	// types.
	duckdb := interop.Node(t, `
import { DuckDBInstance } from '@duckdb/node-api';
const [input, output] = process.argv.slice(1);
const c = await (await DuckDBInstance.create(':memory:')).connect();
const cols = "id, code, n, ts, seg::VARCHAR";
const q = (sql) => c.runAndReadAll(sql).then(r => r.getRows().map(r => r.map(String)));
const types = async (f) => (await q("SELECT typeof(id), typeof(code), typeof(n), typeof(ts) FROM read_parquet('" + f + "') LIMIT 1"))[0];
console.log(JSON.stringify({
  input: await q("SELECT " + cols + " FROM read_parquet('" + input + "')"),
  output: await q("SELECT " + cols + " FROM read_parquet('" + output + "')"),
  inputTypes: await types(input), outputTypes: await types(output),
}));
`, input, parquet)
	var db struct {
		Input, Output           [][]string
		InputTypes, OutputTypes []string
	}
	require.NoError(t, json.Unmarshal([]byte(duckdb), &db), duckdb)
	require.Len(t, db.Input, 37)
	assert.Equal(t, db.Input, db.Output, "DuckDB")
	assert.Equal(t, []string{"VARCHAR", "VARCHAR", "INTEGER", "TIMESTAMP WITH TIME ZONE"}, db.InputTypes)
	assert.Equal(t, db.InputTypes, db.OutputTypes, "DuckDB's types")
	assert.Equal(t, "000007", db.Output[1][1])
	assert.Equal(t, "null", db.Output[4][2])

	// polars: the same dtypes and values as in the input.
	polars := interop.Node(t, `
import pl from 'nodejs-polars';
const [input, output] = process.argv.slice(1);
const cols = ["id", "code", "n", "ts", "seg"];
const read = (f) => { const df = pl.readParquet(f).select(...cols); return {dtypes: df.dtypes.map(String), rows: df.rows().map(r => r.map(v => v instanceof Date ? v.toISOString() : String(v)))}; };
console.log(JSON.stringify({input: read(input), output: read(output)}));
`, input, parquet)
	var pl struct{ Input, Output json.RawMessage }
	require.NoError(t, json.Unmarshal([]byte(polars), &pl), polars)
	assert.JSONEq(t, string(pl.Input), string(pl.Output), "polars")

	// pandas, from the CSV output: the codes keep their zeros when read as
	// text, n is a nullable integer, ts an instant in UTC.
	out, err := exec.Command(interop.Pandas(t), "-c", `
import json, sys
import pandas as pd
df = pd.read_csv(sys.argv[1], dtype={"code": str, "n": "Int64"}, parse_dates=["ts"])
print(json.dumps({"dtypes": [str(df[c].dtype) for c in ["code", "n", "ts", "seg"]],
                  "rows": [[r.id, r.code, None if pd.isna(r.n) else int(r.n), r.ts.isoformat(), r.seg] for r in df.itertuples()]}))
`, csv).CombinedOutput()
	require.NoError(t, err, string(out))
	var pd struct {
		Dtypes []string
		Rows   [][]any
	}
	require.NoError(t, json.Unmarshal(out, &pd), string(out))
	assert.Equal(t, []string{"object", "Int64", "datetime64[ns, UTC]", "object"}, pd.Dtypes)
	require.Len(t, pd.Rows, 37)
	for i, row := range pd.Rows {
		want := db.Input[i]
		n := any(nil)
		if want[2] != "null" {
			v, err := strconv.Atoi(want[2])
			require.NoError(t, err)
			n = float64(v)
		}
		ts, err := time.Parse("2006-01-02 15:04:05-07", want[3])
		require.NoError(t, err, want[3])
		assert.Equal(t, []any{want[0], want[1], n, ts.UTC().Format("2006-01-02T15:04:05+00:00"), want[4]}, row, "pandas, row %d", i)
	}

	// The scores against ONNX Runtime's.
	if os.Getenv("DFBATCH_ORT_LIB") == "" {
		t.Skip("ONNX Runtime's library is not installed: run bench/peers/setup.sh and set DFBATCH_ORT_LIB to the libonnxruntime.so.1 it prints")
	}
	ort := filepath.Join(dir, "ort.parquet")
	score(ort, "--runtime", "onnxruntime")
	assert.InDeltaSlice(t, scoredColumn(t, ort, "output"), scoredColumn(t, parquet, "output"), 1e-5)
}
