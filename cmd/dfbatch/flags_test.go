package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	churnModel    = "../../examples/churn/churn.onnx"
	churnInput    = "../../examples/churn/customers.csv"
	churnFeatures = "age,tenure_months,monthly_charges,total_charges,support_calls,contract_type"
)

// churnRun runs `dfbatch run` on the churn example with flags after the
// model, input and output.
func churnRun(t *testing.T, output string, flags ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runCLI(append([]string{"run", "--model", churnModel, "--input", churnInput, "--output", output}, flags...)...)
}

func TestHelpExitsZeroForEveryCommand(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"run", "--help"}, {"run", "-h"}, {"worker", "--help"}, {"inspect", "--help"}, {"version", "--help"}} {
		code, stdout, stderr := runCLI(args...)
		assert.Equal(t, exitOK, code, "%v: %s", args, stderr)
		assert.NotContains(t, stdout+stderr, "help requested", "%v", args)
		assert.NotEmpty(t, stdout+stderr, "%v", args)
	}
}

func TestRunHelpGroupsTheFlagsCloudApart(t *testing.T) {
	code, stdout, _ := runCLI("run", "--help")
	require.Equal(t, exitOK, code)
	groups := []string{"Input and output:", "Model:", "Resources:", "Failures and resuming:", "Cloud (with --cloud only):"}
	at := -1
	for _, g := range groups {
		i := strings.Index(stdout, g)
		require.Greater(t, i, at, "%q after the groups before it", g)
		at = i
	}
	cloud := strings.Index(stdout, "Cloud (with --cloud only):")
	for _, local := range []string{"--batch-size", "--features", "--input", "--retries", "--task-timeout"} {
		assert.Less(t, strings.Index(stdout, "  "+local+" "), cloud, local)
	}
	for _, remote := range []string{"--image", "--bucket", "--kubeconfig", "--iam-role-arn"} {
		assert.Greater(t, strings.Index(stdout, "  "+remote+" "), cloud, remote)
	}
	assert.Contains(t, stdout, "may be repeated: the values add up")
	assert.Contains(t, stdout, "a bare number of seconds")
}

func TestUnknownFlagSuggestsTheClosestAndPointsAtHelp(t *testing.T) {
	code, stdout, stderr := churnRun(t, t.TempDir(), "--outptu", "o.csv")
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, stdout)
	assert.Equal(t, "dfbatch: unknown flag --outptu; did you mean --output?\nRun 'dfbatch run --help' for the flags.\n", stderr)

	_, _, stderr = churnRun(t, t.TempDir(), "--batchsize", "5")
	assert.Contains(t, stderr, "did you mean --batch-size?")
	_, _, stderr = churnRun(t, t.TempDir(), "--zebra")
	assert.Contains(t, stderr, "unknown flag --zebra\n", "nothing near enough to suggest")
	assert.NotContains(t, stderr, "--batch-size", "no dump of every flag")
}

func TestMisspelledColumnsAreUsageErrorsNamingTheClosest(t *testing.T) {
	code, _, stderr := churnRun(t, t.TempDir(), "--batch-size", "100", "--features", strings.Replace(churnFeatures, "tenure_months", "tenur_months", 1))
	assert.Equal(t, exitUsage, code, stderr)
	assert.Contains(t, stderr, `--features: `+churnInput+` has no column "tenur_months"; did you mean "tenure_months"?`)
	assert.NotContains(t, stderr, "failed", "found before any task")

	code, _, stderr = churnRun(t, t.TempDir(), "--batch-size", "100", "--features", churnFeatures, "--keep-columns", "customerid")
	assert.Equal(t, exitUsage, code, stderr)
	assert.Contains(t, stderr, `--keep-columns: `+churnInput+` has no column "customerid"; did you mean "customer_id"?`)
}

func TestTextFeatureNamesTheColumnAndItsFirstBadRow(t *testing.T) {
	input := filepath.Join(t.TempDir(), "in.csv")
	require.NoError(t, os.WriteFile(input, []byte("id,a,b\n1,2,3\n2,4,5\n3,n/a?,6\n"), 0o644))
	code, _, stderr := runCLI("run", "--model", churnModel, "--input", input, "--output", t.TempDir(), "--batch-size", "10", "--features", "a,b")
	assert.Equal(t, exitUsage, code, stderr)
	assert.Contains(t, stderr, `--features: column "a" of `+input+` is text, not numeric: row 2 holds "n/a?"`)
}

func TestUnknownOutputExtensionIsRefusedUnlessAFolder(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := churnRun(t, filepath.Join(dir, "o.xlsx"), "--batch-size", "500", "--features", churnFeatures)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "unknown extension .xlsx; known: .csv")
	assert.Contains(t, stderr, ".parquet")
	assert.NoDirExists(t, filepath.Join(dir, "o.xlsx"))

	code, stdout, stderr := churnRun(t, filepath.Join(dir, "o.xlsx")+"/", "--batch-size", "500", "--features", churnFeatures)
	require.Equal(t, exitOK, code, stderr)
	assert.Equal(t, filepath.Join(dir, "o.xlsx", "customers.csv")+"\n", stdout)
}

func TestDurationFlagsTakeABareNumberOfSeconds(t *testing.T) {
	var d time.Duration
	for in, want := range map[string]time.Duration{"5": 5 * time.Second, "1.5": 1500 * time.Millisecond, "90s": 90 * time.Second, "1h30m": 90 * time.Minute} {
		require.NoError(t, seconds{&d}.Set(in), in)
		assert.Equal(t, want, d, in)
	}
	assert.ErrorContains(t, seconds{&d}.Set("soon"), "or a number of seconds")

	code, _, stderr := churnRun(t, filepath.Join(t.TempDir(), "o.csv"), "--batch-size", "500", "--features", churnFeatures, "--task-timeout", "5", "--job-timeout", "60")
	assert.Equal(t, exitOK, code, stderr)
	code, _, stderr = churnRun(t, t.TempDir(), "--batch-size", "500", "--task-timeout", "soon")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, `invalid value "soon" for flag --task-timeout: want a duration such as 30s`)
}

func TestFeatureGlobsAndExceptScoreAsTheFullList(t *testing.T) {
	input, features := mlpCSV(t)
	score := func(flags ...string) string {
		output := filepath.Join(t.TempDir(), "o.csv")
		code, _, stderr := runCLI(append([]string{"run", "--model", filepath.Join(fixtures, "mlp.onnx"), "--input", input, "--output", output, "--batch-size", "10"}, flags...)...)
		require.Equal(t, exitOK, code, stderr)
		out, err := os.ReadFile(output)
		require.NoError(t, err)
		return string(out)
	}
	want := score("--features", strings.Join(features, ","))
	assert.Equal(t, want, score("--features", "f*"))
	assert.Equal(t, want, score("--features", "f0?", "--features", "f1[0-5]"), "repeated flags add up")
	assert.Equal(t, want, score("--features-except", "id"), "id is text, left out anyway")

	code, _, stderr := runCLI("run", "--model", filepath.Join(fixtures, "mlp.onnx"), "--input", input, "--output", t.TempDir(), "--batch-size", "10", "--features", "f*,g_*")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, `--features: "g_*" matches no column of the input`)
	code, _, stderr = runCLI("run", "--model", filepath.Join(fixtures, "mlp.onnx"), "--input", input, "--output", t.TempDir(), "--batch-size", "10", "--features-except", "f00")
	assert.Equal(t, exitUsage, code, "15 features for a 16-wide input")
	assert.Contains(t, stderr, "--features")
}

func TestResolveFeaturesKeepsTheInputsOrder(t *testing.T) {
	input := filepath.Join(t.TempDir(), "in.csv")
	require.NoError(t, os.WriteFile(input, []byte("id,f_b,x,f_a,name\n1,2,3,4,z\n"), 0o644))
	spec := modelSpec{features: []string{"x", "f_*"}}
	require.NoError(t, bindColumns(&spec, mustJob(input), nil))
	assert.Equal(t, []string{"x", "f_b", "f_a"}, spec.features)
	spec = modelSpec{}
	require.NoError(t, bindColumns(&spec, mustJob(input), []string{"id"}))
	assert.Equal(t, []string{"f_b", "x", "f_a"}, spec.features, "numeric columns but id")
}

func TestVersionSaysWhatWasBuiltAndWhatIsFound(t *testing.T) {
	code, stdout, stderr := runCLI("version")
	require.Equal(t, exitOK, code, stderr)
	for _, want := range []string{"dfbatch ", "go:          " + runtime.Version(), "build tags:", "CUDA:", "onnxruntime:", "python:"} {
		assert.Contains(t, stdout, want)
	}
	if os.Getenv("DFBATCH_ORT_LIB") == "" {
		assert.Contains(t, stdout, "onnxruntime: not found")
		assert.Contains(t, stdout, "--ort-lib")
	}
}

func TestOptionErrorsNameTheFlags(t *testing.T) {
	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--batch-size", "10", "--instance", "smal"}, `dfbatch: --instance "smal" is not a known preset; known: `},
		{[]string{"--batch-size", "10", "--gpu-type", "a10g"}, `--gpu-type is "a10g" but --gpus is 0; set --gpus to`},
		{[]string{"--batch-size", "10", "--instance", "small", "--cpus", "2"}, `--instance "small" and --cpus or --memory are both set`},
		{[]string{"--batch-size", "-1"}, "--batch-size must be > 0, got -1"},
		{[]string{"--batch-size", "10", "--retries", "-1"}, "--retries must not be negative"},
	} {
		code, _, stderr := churnRun(t, t.TempDir(), append(tc.flags, "--features", churnFeatures)...)
		assert.Equal(t, exitUsage, code, stderr)
		assert.Contains(t, stderr, tc.want)
		assert.NotContains(t, stderr, "Options.")
	}
	code, _, stderr := runCLI("run", "--model", churnModel, "--input", "nope.csv", "--output", t.TempDir(), "--batch-size", "10", "--features", churnFeatures)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "dfbatch: --input: stat nope.csv: no such file or directory")
}

func TestDeployedOptionErrorsNameDeploymentJSON(t *testing.T) {
	store := t.TempDir()
	build := filepath.Join(store, "churn", "1")
	require.NoError(t, os.MkdirAll(build, 0o755))
	model, err := os.ReadFile(churnModel)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(build, "churn.onnx"), model, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(build, "deployment.json"), []byte(`{"model": "churn.onnx", "batch": {"batch_size": 100, "instance": "smal"},
  "features": ["age", "tenure_months", "monthly_charges", "total_charges", "support_calls", "contract_type"]}`), 0o644))
	t.Setenv("DFBATCH_MODEL_STORE", store)
	code, _, stderr := runCLI("run", "--model-id", "churn", "--input", churnInput, "--output", t.TempDir())
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, `deployed defaults: deployment.json batch.instance "smal" is not a known preset`)
}

func mustJob(input string) engine.FileJob {
	return engine.FileJob{Source: input, Destination: filepath.Join(filepath.Dir(input), "out")}
}

func TestGoNamesLeftInMessagesBecomeFlags(t *testing.T) {
	assert.Equal(t, "lower --batch-size to at most 10 rows or raise --memory",
		goNamesAsFlags.Replace("lower Options.BatchSize to at most 10 rows or raise Options.Memory"))
	assert.Equal(t, "--gpu-type h100 needs --gpus", goNamesAsFlags.Replace("Options.GPUType h100 needs Options.GPUs"))
}

func TestCountsOfOneAreSingular(t *testing.T) {
	input := filepath.Join(t.TempDir(), "one.csv")
	data, err := os.ReadFile(churnInput)
	require.NoError(t, err)
	lines := strings.SplitN(string(data), "\n", 3)
	require.NoError(t, os.WriteFile(input, []byte(lines[0]+"\n"+lines[1]+"\n"), 0o644))
	code, _, stderr := runCLI("run", "--model", churnModel, "--input", input, "--output", filepath.Join(t.TempDir(), "o.csv"), "--batch-size", "10", "--features", churnFeatures)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "succeeded: 1/1 tasks, 1 row in, 1 row out")
}

func TestStoppedRunSaysHowFarItGotInFlags(t *testing.T) {
	stop := &engine.StopError{Cause: errors.New("job timeout exceeded (Options.JobTimeout = 1s)"), Finished: 1, Total: -1, Rerun: 2}
	err := fmt.Errorf("execution dfb-1: %w", &engine.IncompleteError{Err: stop})
	got := stopInCLITerms(err)
	assert.Equal(t, "execution dfb-1: job timeout exceeded (--job-timeout = 1s) after 1 task finished; the rows not done are listed above", got.Error())
	assert.ErrorIs(t, got, stop, "the CLI's wording keeps the cause")
	assert.Contains(t, err.Error(), "Report().Rerun() lists the 2 tasks to run again, and the input after them was never read", "the library's wording")
}
