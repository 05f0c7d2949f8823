package subprocess_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model/subprocess"
)

// pythonWithPandas returns a Python 3 that imports pandas, or skips; under
// CI=true it fails instead.
func pythonWithPandas(t testing.TB) string {
	t.Helper()
	python, err := subprocess.FindPython("pandas")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return python
}

func customers(t *testing.T) *frame.Frame {
	t.Helper()
	r, err := frame.OpenFile("../../examples/python-model/customers.csv", frame.CSV)
	require.NoError(t, err)
	f, err := frame.ReadAll(r)
	require.NoError(t, err)
	return f
}

func TestPythonPredictSeesTheParametersThroughOSGetenvAcrossWarmRuns(t *testing.T) {
	python := pythonWithPandas(t)
	client := engine.NewClient(subprocess.Command{Args: []string{python, "../../examples/python-model/predict.py"}})
	ctx := context.Background()
	require.NoError(t, client.WarmUp(ctx, engine.Options{BatchSize: 100, Executors: 2}))
	defer client.Close()
	in := customers(t)

	dropped := func(opts engine.Options) (string, *frame.Frame) {
		out, err := client.RunFrame(ctx, in, opts)
		require.NoError(t, err)
		require.Equal(t, in.NumRows(), out.NumRows())
		col, err := out.StringCol("dropped")
		require.NoError(t, err)
		for i := 1; i < col.Len(); i++ {
			require.Equal(t, col.Value(0), col.Value(i), "row %d", i)
		}
		return col.Value(0), out
	}
	got, byAge := dropped(engine.Options{BatchSize: 100, Executors: 2, Parameters: map[string]string{"attribute": "age"}})
	assert.Equal(t, "age", got)
	got, byDefault := dropped(engine.Options{BatchSize: 100, Executors: 2})
	assert.Equal(t, "default_customer", got, "the first run's attribute must not leak into this one")
	a, _ := byAge.Float64Col("Churn_Probability")
	b, _ := byDefault.Float64Col("Churn_Probability")
	assert.NotEqual(t, a.Value(0), b.Value(0), "dropping age changes the scores")
	ids, _ := byAge.StringCol("customer_id")
	assert.Equal(t, "C00001", ids.Value(0))
	assert.Equal(t, "C01000", ids.Value(999))
}

func TestPythonPrintsAndErrorsReachTheReport(t *testing.T) {
	python := pythonWithPandas(t)
	script := filepath.Join(t.TempDir(), "model.py")
	require.NoError(t, os.WriteFile(script, []byte(`
import os
import dfbatch_model

def predict(df):
    print("scoring", len(df), "rows")  # goes to stderr, not the protocol
    if int(df["id"].iloc[0]) == 10:
        raise ValueError("no scores for id 10")
    return df[["id"]].assign(seen=os.getenv("attribute", "unset"))

if __name__ == "__main__":
    dfbatch_model.serve(predict)
`), 0o644))
	e, err := engine.NewClient(subprocess.Command{Args: []string{python, script}}).Start(context.Background(), ids(30),
		engine.Options{BatchSize: 10, MaxFailedTasks: 1, Parameters: map[string]string{"attribute": "a"}})
	require.NoError(t, err)
	out, err := e.Wait()
	require.ErrorIs(t, err, engine.ErrPartial, "task 1's rows are missing")
	assert.Equal(t, 20, out.NumRows())
	r := e.Report()
	require.Len(t, r.Failed, 1)
	assert.Equal(t, 1, r.Failed[0].Task.Index)
	assert.ErrorContains(t, r.Failed[0], "ValueError: no scores for id 10")
	require.NotEmpty(t, r.ModelLogs)
	assert.Equal(t, "scoring 10 rows", r.ModelLogs[0].Lines[0])
}

func TestFindPythonNamesWhatIsMissing(t *testing.T) {
	t.Setenv(subprocess.PythonEnv, "/usr/bin/python3")
	_, err := subprocess.FindPython("no_such_module_dfbatch")
	assert.ErrorContains(t, err, "$DFBATCH_PYTHON: /usr/bin/python3")
	assert.ErrorContains(t, err, "No module named 'no_such_module_dfbatch'")
}
