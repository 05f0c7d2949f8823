package frame_test

import (
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
