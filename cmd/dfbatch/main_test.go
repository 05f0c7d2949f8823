package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/apache/arrow-go/v18/arrow"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const fixtures = "../../testdata/onnx"

// mlpCSV writes the mlp fixture's input as a CSV with an id column.
func mlpCSV(t *testing.T) (path string, features []string) {
	t.Helper()
	var in struct {
		Rows     int                  `json:"rows"`
		Features []string             `json:"features"`
		Columns  map[string][]float32 `json:"columns"`
	}
	data, err := os.ReadFile(filepath.Join(fixtures, "mlp.input.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &in))
	var b strings.Builder
	b.WriteString("id," + strings.Join(in.Features, ",") + "\n")
	for r := range in.Rows {
		fmt.Fprintf(&b, "row%d", r)
		for _, f := range in.Features {
			fmt.Fprintf(&b, ",%v", in.Columns[f][r])
		}
		b.WriteString("\n")
	}
	path = filepath.Join(t.TempDir(), "input.csv")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	return path, in.Features
}

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestRunScoresAFileAndKeepsColumns(t *testing.T) {
	input, features := mlpCSV(t)
	output := filepath.Join(t.TempDir(), "scored.parquet")
	code, stdout, stderr := runCLI("run", "--model", filepath.Join(fixtures, "mlp.onnx"), "--input", input, "--output", output,
		"--batch-size", "10", "--executors", "2", "--features", strings.Join(features, ","), "--keep-columns", "id",
		"--rename", "output=Churn_Probability")
	require.Equal(t, exitOK, code, stderr)
	assert.Equal(t, output+"\n", stdout)
	assert.Contains(t, stderr, "succeeded: 4/4 tasks, 37 rows in, 37 rows out")

	r, err := frame.OpenFile(output, "")
	require.NoError(t, err)
	defer r.Close()
	f, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, []string{"id", "Churn_Probability"}, f.ColumnNames())
	ids, err := f.StringCol("id")
	require.NoError(t, err)
	assert.Equal(t, "row36", ids.Value(36))
	_, err = r.Next()
	assert.ErrorIs(t, err, io.EOF)
}

func TestRunExitCodesTellUsageFromFailedTasks(t *testing.T) {
	input, features := mlpCSV(t)
	model := filepath.Join(fixtures, "mlp.onnx")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command", nil, exitUsage, "Commands:"},
		{"unknown command", []string{"score"}, exitUsage, `unknown command "score"`},
		{"mistyped command", []string{"rnu"}, exitUsage, `unknown command "rnu"; did you mean run?`},
		{"missing model", []string{"run", "--input", input, "--output", t.TempDir(), "--batch-size", "5"}, exitUsage, "give one (dfbatch run --model-id ID) or set DFBATCH_MODEL_ID"},
		{"bad flag", []string{"run", "--batch-size", "many"}, exitUsage, "invalid value"},
		{"bad format", []string{"run", "--model", model, "--input", input, "--output", t.TempDir(), "--batch-size", "5", "--format", "xlsx"}, exitUsage, "--format"},
		{"no batch size", []string{"run", "--model", model, "--input", input, "--output", t.TempDir(), "--features", strings.Join(features, ",")}, exitUsage, "--batch-size must be > 0"},
		{"features needed", []string{"run", "--model", model, "--input", input, "--output", t.TempDir(), "--batch-size", "5"}, exitUsage, "name the feature columns"},
		{"missing feature column", []string{"run", "--model", model, "--input", input, "--output", t.TempDir(), "--batch-size", "5",
			"--features", strings.Join(append(features[:15:15], "nope"), ",")}, exitUsage, `--features: ` + input + ` has no column "nope"`},
		{"unknown runtime", []string{"run", "--model", model, "--input", input, "--output", t.TempDir(), "--batch-size", "5", "--runtime", "tensorrt"},
			exitUsage, `--runtime: unknown ONNX runtime "tensorrt"; known: go, onnxruntime`},
		{"missing ONNX Runtime library", []string{"run", "--model", model, "--input", input, "--output", t.TempDir(), "--batch-size", "5",
			"--features", strings.Join(features, ","), "--runtime", "onnxruntime", "--ort-lib", filepath.Join(t.TempDir(), "libonnxruntime.so.1")},
			exitUsage, "ONNX Runtime"},
		{"GPUs in a build without CUDA", []string{"run", "--model", model, "--input", input, "--output", t.TempDir(), "--batch-size", "5",
			"--features", strings.Join(features, ","), "--gpus", "1", "--gpu-type", "a10g"}, exitUsage, gpuRefusal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(tc.args...)
			assert.Equal(t, tc.code, code, stderr)
			assert.Contains(t, stderr, tc.want)
			assert.NotContains(t, stderr, "dfbatch: dfbatch:", "one prefix")
		})
	}
}

func TestRunListsTheFailedTasksRowRanges(t *testing.T) {
	input, features := mlpCSV(t)
	// Numbers read as text pass the check before the run (the model's
	// error says how to read them) and fail every task.
	code, _, stderr := runCLI("run", "--model", filepath.Join(fixtures, "mlp.onnx"), "--input", input, "--output", t.TempDir(),
		"--batch-size", "10", "--features", strings.Join(features, ","), "--dtype", "f03=string", "--max-failed-tasks", "1")
	assert.Equal(t, exitTasksFailed, code, stderr)
	assert.Contains(t, stderr, "input.csv rows 0-9")
	assert.Contains(t, stderr, `column "f03": is utf8, not numeric`)
}

func TestInspectListsInputsOutputsAndOperators(t *testing.T) {
	code, stdout, stderr := runCLI("inspect", filepath.Join(fixtures, "mlp.onnx"))
	require.Equal(t, exitOK, code, stderr)
	for _, want := range []string{"ai.onnx 17", "input", "FLOAT", "[N, 16]", "output", "Gemm x3", "supported"} {
		assert.Contains(t, stdout, want)
	}
	code, _, stderr = runCLI("inspect", "nope.onnx")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "nope.onnx")
}

func TestRunScoresTheChurnExampleLikeTheGoProgram(t *testing.T) {
	output := filepath.Join(t.TempDir(), "scored.csv")
	code, _, stderr := runCLI("run", "--model", "../../examples/churn/churn.onnx", "--input", "../../examples/churn/customers.csv",
		"--output", output, "--batch-size", "100", "--executors", "4", "--param", "attribute=customer_segment",
		"--features", "age,tenure_months,monthly_charges,total_charges,support_calls,contract_type",
		"--keep-columns", "customer_id", "--rename", "probabilities_1=Churn_Probability", "--output-columns", "Churn_Probability")
	require.Equal(t, exitOK, code, stderr)
	scored, err := os.ReadFile(output)
	require.NoError(t, err)
	lines := strings.Split(string(scored), "\n")
	assert.Equal(t, "customer_id,Churn_Probability", lines[0])
	assert.Equal(t, "C00001,0.2861098", lines[1], "ONNX Runtime's probability for the first customer")
	assert.Len(t, lines, 1002) // header, 1000 rows, final newline
}

func TestRunTakesTheModelAndItsDefaultsFromTheStore(t *testing.T) {
	store := t.TempDir()
	build := filepath.Join(store, "churn", "7")
	require.NoError(t, os.MkdirAll(build, 0o755))
	model, err := os.ReadFile("../../examples/churn/churn.onnx")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(build, "churn.onnx"), model, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(build, "deployment.json"), []byte(`{
  "model": "churn.onnx",
  "batch": {"batch_size": 250, "executors": 2},
  "features": ["age", "tenure_months", "monthly_charges", "total_charges", "support_calls", "contract_type"],
  "outputs": {"probabilities_1": "Churn_Probability"},
  "keep_columns": ["customer_id"]
}`), 0o644))
	t.Setenv("DFBATCH_MODEL_STORE", store)
	t.Setenv("DFBATCH_MODEL_ID", "churn")

	output := filepath.Join(t.TempDir(), "scored.csv")
	code, _, stderr := runCLI("run", "--input", "../../examples/churn/customers.csv", "--output", output)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "succeeded: 4/4 tasks", "batch_size 250 from the deployment")
	scored, err := os.ReadFile(output)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(scored), "customer_id,label,probabilities_0,Churn_Probability\nC00001,0,"), string(scored[:80]))

	code, _, stderr = runCLI("run", "--model-id", "churn", "--build-id", "8", "--input", "../../examples/churn/customers.csv", "--output", output)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, `"8"`)
	assert.Contains(t, stderr, "7")
}

func TestStatusLineShowsTasksRateAndETA(t *testing.T) {
	assert.Equal(t, "tasks 5/20 (25%) 0.50M rows/s ETA 6s", statusLine(engine.Status{Tasks: 20, Finished: 5, Rows: 1_000_000, Elapsed: 2 * time.Second}, 0))
	assert.Equal(t, "tasks 5/? 0.50M rows/s 1 failed", statusLine(engine.Status{Tasks: -1, Finished: 5, Failed: 1, Rows: 1_000_000, Elapsed: 2 * time.Second}, 0))
	assert.Equal(t, "tasks 0/0 (100%) 0.00M rows/s", statusLine(engine.Status{}, 0))
}

func TestStatusLineDrawsAnEstimatedTotal(t *testing.T) {
	assert.Equal(t, "tasks 5/~20 (25%) 0.50M rows/s ETA ~6s", statusLine(engine.Status{Tasks: -1, Finished: 5, Rows: 1_000_000, Elapsed: 2 * time.Second}, 20))
}

func TestCountCSVRowsEstimatesDataRows(t *testing.T) {
	input, _ := mlpCSV(t)
	assert.Equal(t, 37, countCSVRows(input))
	assert.Equal(t, 37, countCSVRows(filepath.Dir(input)))
	assert.Zero(t, countCSVRows(filepath.Join(fixtures, "mlp.onnx")))
}

// scoredColumn reads a float column of a CSV the run wrote.
func scoredColumn(t *testing.T, path, name string) []float64 {
	t.Helper()
	r, err := frame.OpenFile(path, "")
	require.NoError(t, err)
	defer r.Close()
	f, err := r.Next()
	require.NoError(t, err)
	values, err := f.Float64Matrix(nil, name)
	require.NoError(t, err)
	return values
}

func TestRunRuntimeFlagPicksONNXRuntime(t *testing.T) {
	if os.Getenv("DFBATCH_ORT_LIB") == "" {
		t.Skip("ONNX Runtime's library is not installed: run bench/peers/setup.sh and set DFBATCH_ORT_LIB to the libonnxruntime.so.1 it prints")
	}
	input, features := mlpCSV(t)
	dir := t.TempDir()
	for _, runtime := range []string{"go", "onnxruntime"} {
		code, _, stderr := runCLI("run", "--model", filepath.Join(fixtures, "mlp.onnx"), "--input", input, "--output", filepath.Join(dir, runtime+".csv"),
			"--batch-size", "10", "--executors", "2", "--features", strings.Join(features, ","), "--runtime", runtime)
		require.Equal(t, exitOK, code, stderr)
	}
	assert.InDeltaSlice(t, scoredColumn(t, filepath.Join(dir, "go.csv"), "output"), scoredColumn(t, filepath.Join(dir, "onnxruntime.csv"), "output"), 1e-5)
}

func TestRunRuntimeFlagOverridesTheDeployments(t *testing.T) {
	store := t.TempDir()
	build := filepath.Join(store, "mlp", "1")
	require.NoError(t, os.MkdirAll(build, 0o755))
	model, err := os.ReadFile(filepath.Join(fixtures, "mlp.onnx"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(build, "mlp.onnx"), model, 0o644))
	input, features := mlpCSV(t)
	config, err := json.Marshal(map[string]any{"model": "mlp.onnx", "features": features, "runtime": "onnxruntime"})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(build, "deployment.json"), config, 0o644))
	t.Setenv("DFBATCH_MODEL_STORE", store)
	missing := filepath.Join(t.TempDir(), "libonnxruntime.so.1")

	code, _, stderr := runCLI("run", "--model-id", "mlp", "--input", input, "--output", t.TempDir(), "--batch-size", "10", "--ort-lib", missing)
	assert.Equal(t, exitUsage, code, "the deployment's runtime needs the library --ort-lib names")
	assert.Contains(t, stderr, "deployment.json")
	assert.Contains(t, stderr, "ONNX Runtime")

	code, _, stderr = runCLI("run", "--model-id", "mlp", "--input", input, "--output", t.TempDir(), "--batch-size", "10", "--ort-lib", missing, "--runtime", "go")
	assert.Equal(t, exitOK, code, stderr)
}

// scoreKeeping scores input with the mlp fixture into Parquet, keeping
// the column keep, with flags, and returns the output's first frame.
func scoreKeeping(t *testing.T, input string, features []string, keep string, flags ...string) *frame.Frame {
	t.Helper()
	output := filepath.Join(t.TempDir(), "scored.parquet")
	args := append([]string{"run", "--model", filepath.Join(fixtures, "mlp.onnx"), "--input", input, "--output", output,
		"--batch-size", "10", "--features", strings.Join(features, ","), "--keep-columns", keep}, flags...)
	code, _, stderr := runCLI(args...)
	require.Equal(t, exitOK, code, stderr)
	r, err := frame.OpenFile(output, "")
	require.NoError(t, err)
	defer r.Close()
	f, err := r.Next()
	require.NoError(t, err)
	return f
}

// TestRunNAValuesKeepsNamibia scores a CSV whose kept country column holds
// Namibia's code NA: by default NA is a missing value, as in pandas, and
// --na-values= (only empty cells missing) keeps it.
func TestRunNAValuesKeepsNamibia(t *testing.T) {
	input, features := mlpCSV(t)
	data, err := os.ReadFile(input)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	for i := range lines {
		country := "NA"
		switch {
		case i == 0:
			country = "country"
		case i%2 == 0:
			country = "FR"
		}
		lines[i] = country + "," + lines[i]
	}
	require.NoError(t, os.WriteFile(input, []byte(strings.Join(lines, "\n")+"\n"), 0o644))

	countries := func(flags ...string) []string {
		col, err := scoreKeeping(t, input, features, "country", flags...).StringCol("country")
		require.NoError(t, err)
		var got []string
		for i := range 3 {
			if col.IsNull(i) {
				got = append(got, "<null>")
			} else {
				got = append(got, col.Value(i))
			}
		}
		return got
	}
	assert.Equal(t, []string{"<null>", "FR", "<null>"}, countries())
	assert.Equal(t, []string{"NA", "FR", "NA"}, countries("--na-values="))
}

// TestRunDtypeSetsACSVColumnsType keeps a zero-padded id as text by
// default and reads it as int64 with --dtype id=int64; an unknown type is
// a usage error that lists the types.
func TestRunDtypeSetsACSVColumnsType(t *testing.T) {
	input, features := mlpCSV(t)
	data, err := os.ReadFile(input)
	require.NoError(t, err)
	data = []byte(strings.ReplaceAll(string(data), "\nrow", "\n00"))
	require.NoError(t, os.WriteFile(input, data, 0o644))

	idOf := func(flags ...string) arrow.Array {
		col, err := scoreKeeping(t, input, features, "id", flags...).Col("id")
		require.NoError(t, err)
		return col
	}
	assert.Equal(t, "007", idOf().ValueStr(7), "zero-padded ids stay text")
	assert.Equal(t, "7", idOf("--dtype", "id=int64").ValueStr(7))
	assert.Equal(t, arrow.PrimitiveTypes.Int64, idOf("--dtype", "id=int64").DataType())

	code, _, stderr := runCLI("run", "--model", filepath.Join(fixtures, "mlp.onnx"), "--input", input, "--output", t.TempDir(),
		"--batch-size", "10", "--features", strings.Join(features, ","), "--dtype", "id=integr")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, `column id: unknown type "integr"; use one of`)
}

// TestRunReadsSemicolonCSVSniffedOrNamed scores a semicolon-separated
// export as its comma-separated original, the delimiter sniffed or named
// with --delimiter, and as a European export with --decimal, --thousands
// and --input-format; a bad value of each is a usage error naming it.
func TestRunReadsSemicolonCSVSniffedOrNamed(t *testing.T) {
	input, features := mlpCSV(t)
	data, err := os.ReadFile(input)
	require.NoError(t, err)
	semi := filepath.Join(t.TempDir(), "export.csv")
	require.NoError(t, os.WriteFile(semi, []byte(strings.ReplaceAll(string(data), ",", ";")), 0o644))
	scores := func(in string, flags ...string) string {
		output := filepath.Join(t.TempDir(), "scored.csv")
		args := append([]string{"run", "--model", filepath.Join(fixtures, "mlp.onnx"), "--input", in, "--output", output,
			"--batch-size", "10", "--features", strings.Join(features, ","), "--keep-columns", "id"}, flags...)
		code, _, stderr := runCLI(args...)
		require.Equal(t, exitOK, code, stderr)
		out, err := os.ReadFile(output)
		require.NoError(t, err)
		return string(out)
	}
	want := scores(input)
	assert.Equal(t, want, scores(semi))
	assert.Equal(t, want, scores(semi, "--delimiter", ";"))

	// A European export: fractions after a comma, thousands grouped by a
	// dot, in a file whose extension names no format.
	euro := filepath.Join(t.TempDir(), "export.txt")
	require.NoError(t, os.WriteFile(euro, []byte(strings.ReplaceAll(strings.ReplaceAll(string(data), ",", ";"), ".", ",")), 0o644))
	assert.Equal(t, want, scores(euro, "--decimal", ",", "--thousands", ".", "--input-format", "csv", "--format", "csv"))

	for flag, value := range map[string]string{"--delimiter": ";;", "--thousands": "1", "--decimal": "e", "--input-format": "xlsx"} {
		code, _, stderr := runCLI("run", "--model", filepath.Join(fixtures, "mlp.onnx"), "--input", semi, "--output", t.TempDir(),
			"--batch-size", "10", "--features", strings.Join(features, ","), flag, value)
		assert.Equal(t, exitUsage, code, flag)
		assert.Contains(t, stderr, strings.TrimPrefix(flag, "-"), flag) // the flag package names -delimiter
	}
	code, _, stderr := runCLI("run", "--model", filepath.Join(fixtures, "mlp.onnx"), "--input", semi, "--output", t.TempDir(),
		"--batch-size", "10", "--features", strings.Join(features, ","), "--thousands", ".")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "--thousands '.' is also the decimal separator: set another with --decimal")
}
