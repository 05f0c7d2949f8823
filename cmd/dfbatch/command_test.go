package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfbatch/dfbatch/model/subprocess"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pythonWithPandas returns a Python 3 that imports pandas, or skips.
func pythonWithPandas(t *testing.T) string {
	t.Helper()
	python, err := subprocess.FindPython("pandas")
	if err != nil {
		t.Skip(err)
	}
	return python
}

func TestRunCommandScoresWithThePythonChurnModel(t *testing.T) {
	python := pythonWithPandas(t)
	output := filepath.Join(t.TempDir(), "scored.csv")
	code, stdout, stderr := runCLI("run", "--command", python+" ../../examples/python-model/predict.py",
		"--input", "../../examples/python-model/customers.csv", "--output", output,
		"--batch-size", "100", "--executors", "3", "--param", "attribute=tenure_months")
	require.Equal(t, exitOK, code, stderr)
	assert.Equal(t, output+"\n", stdout)
	assert.Contains(t, stderr, "succeeded: 10/10 tasks, 1000 rows in, 1000 rows out")
	scored, err := os.ReadFile(output)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(scored)), "\n")
	assert.Equal(t, "customer_id,Churn_Probability,dropped", lines[0])
	assert.Len(t, lines, 1001)
	assert.True(t, strings.HasPrefix(lines[1], "C00001,"), lines[1])
	assert.True(t, strings.HasSuffix(lines[1000], ",tenure_months"), lines[1000])
}

func TestRunCommandThatIsNotAModelSaysWhy(t *testing.T) {
	code, _, stderr := runCLI("run", "--command", "echo this is not a model >&2; exit 3",
		"--input", "../../examples/python-model/customers.csv", "--output", t.TempDir(), "--batch-size", "100")
	assert.Equal(t, exitError, code, stderr)
	assert.Contains(t, stderr, "loading the model")
	assert.Contains(t, stderr, "did not start")
	assert.Contains(t, stderr, "exit status 3")
	assert.Contains(t, stderr, "this is not a model")

	code, _, stderr = runCLI("run", "--command", "python3 x.py", "--command-format", "xml", "--input", "in.csv", "--output", t.TempDir(), "--batch-size", "1")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, `--command-format: unknown payload format "xml"; known: arrow, csv`)

	code, _, stderr = runCLI("run", "--command", "python3 x.py", "--model", "m.onnx", "--input", "in.csv", "--output", t.TempDir(), "--batch-size", "1")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "--command and --model/--model-id are exclusive")
}

func TestRunCommandPrintsAFailedTasksModelLog(t *testing.T) {
	python := pythonWithPandas(t)
	script := filepath.Join(t.TempDir(), "model.py")
	require.NoError(t, os.WriteFile(script, []byte(`
import dfbatch_model

def predict(df):
    if df["age"].max() > 90:
        raise ValueError("age above 90")
    return df[["customer_id"]]

if __name__ == "__main__":
    dfbatch_model.serve(predict)
`), 0o644))
	input := filepath.Join(t.TempDir(), "in.csv")
	require.NoError(t, os.WriteFile(input, []byte("customer_id,age\nA,30\nB,95\nC,40\n"), 0o644))
	code, _, stderr := runCLI("run", "--command", python+" "+script, "--input", input, "--output", t.TempDir(), "--batch-size", "1")
	assert.Equal(t, exitTasksFailed, code, stderr)
	assert.Contains(t, stderr, "failed: task 1 (")
	assert.Contains(t, stderr, "ValueError: age above 90")
	assert.Contains(t, stderr, "model log of task 1")
	assert.Contains(t, stderr, "  | Traceback (most recent call last):")
}

func TestRunCommandRunsDFBATCHPythonForItsPython3(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "python")
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\necho \"fake python ran: $*\" >&2\nexit 7\n"), 0o755))
	t.Setenv(subprocess.PythonEnv, fake)
	code, _, stderr := runCLI("run", "--command", "python3 predict.py --flag", "--input", "../../examples/python-model/customers.csv",
		"--output", t.TempDir(), "--batch-size", "100")
	assert.Equal(t, exitError, code, stderr)
	assert.Contains(t, stderr, "fake python ran: predict.py --flag")
}

func TestRunCommandFormatArrowOnAProcessOfferingOnlyCSVSaysWhatToDo(t *testing.T) {
	python := pythonWithPandas(t)
	// A dfbatch_model.py from before it spoke Arrow without pyarrow.
	old := `import dfbatch_model; dfbatch_model.FORMATS[:] = ["csv"]; dfbatch_model.serve(lambda df: df)`
	code, _, stderr := runCLI("run", "--command", python+" -c '"+old+"'", "--command-format", "arrow",
		"--input", "../../examples/python-model/customers.csv", "--output", t.TempDir(), "--batch-size", "100")
	assert.Equal(t, exitError, code, stderr)
	assert.Contains(t, stderr, "--command-format) is arrow, but the process offers only csv")
	assert.Contains(t, stderr, "dfbatch_model.py as dfbatch ships it, which needs only numpy")
}
