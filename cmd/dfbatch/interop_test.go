package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
