package frame_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/internal/interop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDuckDBDecimalAndBooleanFeatures has DuckDB write a Parquet file of
// DECIMAL(18, 9), DECIMAL(38, 4) and BOOLEAN columns beside their DOUBLE
// and INTEGER casts, as a warehouse export would: the feature matrix takes
// the decimals as the nearest float64 and the booleans as 1 and 0.
func TestDuckDBDecimalAndBooleanFeatures(t *testing.T) {
	path := filepath.Join(t.TempDir(), "duckdb.parquet")
	interop.Node(t, `
import { DuckDBInstance } from '@duckdb/node-api';
const [path] = process.argv.slice(1);
const c = await (await DuckDBInstance.create(':memory:')).connect();
await c.run("COPY (SELECT (i * 1.25 - 300)::DECIMAL(18, 9) AS amount, (i * 1.25 - 300)::DOUBLE AS amount_double, " +
  "(i * 1000.5 + 0.0001)::DECIMAL(38, 4) AS big, (i * 1000.5 + 0.0001)::DOUBLE AS big_double, " +
  "(i % 3 = 0) AS flag, (i % 3 = 0)::INTEGER AS flag_int FROM range(1000) t(i)) TO '" + path + "' (FORMAT parquet)");
`, path)
	r, err := frame.OpenFile(path, "")
	require.NoError(t, err)
	defer r.Close()
	f, err := frame.ReadAll(r)
	require.NoError(t, err)
	require.Equal(t, 1000, f.NumRows())
	got, err := f.Float64Matrix(nil, "amount", "big", "flag")
	require.NoError(t, err, "schema %v", f.Schema())
	want, err := f.Float64Matrix(nil, "amount_double", "big_double", "flag_int")
	require.NoError(t, err)
	for i := range want {
		assert.InEpsilon(t, want[i]+1, got[i]+1, 1e-12, "row %d, feature %d", i/3, i%3)
	}
	got32, err := f.Float32Matrix(nil, "amount", "flag")
	require.NoError(t, err)
	assert.Equal(t, []float32{-300, 1}, got32[:2])
}

// TestParquetCompressionAndRowGroupsAsDuckDBReadsThem writes one frame as
// Parquet with each codec and 1,000-row groups, and has DuckDB read back
// each file's codec, row groups and sum; Arrow files compressed with lz4
// and zstd read back the same rows.
func TestParquetCompressionAndRowGroupsAsDuckDBReadsThem(t *testing.T) {
	const rows = 2500
	ids, xs := make([]int64, rows), make([]float64, rows)
	for i := range rows {
		ids[i], xs[i] = int64(i), float64(i)/4
	}
	f, err := frame.New(frame.Int64s("id", ids), frame.Float64s("x", xs))
	require.NoError(t, err)
	dir := t.TempDir()
	write := func(path string, opts ...frame.WriteOption) {
		w, err := frame.CreateFile(path, "", opts...)
		require.NoError(t, err)
		require.NoError(t, w.Write(f))
		require.NoError(t, w.Close())
	}
	codecs := map[string]string{"snappy": "SNAPPY", "zstd": "ZSTD", "gzip": "GZIP", "lz4": "LZ4_RAW", "brotli": "BROTLI", "none": "UNCOMPRESSED"}
	for codec := range codecs {
		write(filepath.Join(dir, codec+".parquet"), frame.WithCompression(codec), frame.WithRowGroupRows(1000))
	}
	out := interop.Node(t, `
import { DuckDBInstance } from '@duckdb/node-api';
const dir = process.argv[1];
const c = await (await DuckDBInstance.create(':memory:')).connect();
const r = await c.runAndReadAll("SELECT regexp_extract(file_name, '([a-z0-9]+)\\.parquet', 1), any_value(compression), count(DISTINCT row_group_id) " +
  "FROM parquet_metadata('" + dir + "/*.parquet') GROUP BY 1 ORDER BY 1");
const sums = await c.runAndReadAll("SELECT sum(x)::BIGINT::VARCHAR FROM read_parquet('" + dir + "/*.parquet')");
console.log(JSON.stringify({files: r.getRows().map(x => x.map(String)), sum: sums.getRows()[0][0]}));
`, dir)
	var got struct {
		Files [][]string
		Sum   string
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	require.Len(t, got.Files, len(codecs))
	for _, file := range got.Files {
		assert.Equal(t, codecs[file[0]], file[1], "codec of %s.parquet", file[0])
		assert.Equal(t, "3", file[2], "row groups of %s.parquet", file[0])
	}
	assert.Equal(t, fmt.Sprint(len(codecs)*(rows-1)*rows/8), got.Sum)

	for _, codec := range []string{"lz4", "zstd"} {
		path := filepath.Join(dir, codec+".arrow")
		write(path, frame.WithCompression(codec))
		r, err := frame.OpenFile(path, "")
		require.NoError(t, err)
		back, err := frame.ReadAll(r)
		require.NoError(t, err)
		require.NoError(t, r.Close())
		x, err := back.Float64Col("x")
		require.NoError(t, err)
		assert.Equal(t, xs, x.Float64Values(), codec)
	}
	_, err = frame.CreateFile(filepath.Join(dir, "o.csv"), "", frame.WithCompression("zstd"))
	require.ErrorContains(t, err, `WithCompression("zstd"): csv output takes none`)
	_, err = frame.CreateFile(filepath.Join(dir, "o.arrow"), "", frame.WithRowGroupRows(10))
	require.ErrorContains(t, err, "WithRowGroupRows")
}
