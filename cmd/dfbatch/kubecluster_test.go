//go:build kubecluster

package main

// `dfbatch run --cloud` against a real control plane (internal/kubecluster),
// as a user runs it: with --kubeconfig, a file:// bucket, and pods that run
// `dfbatch worker` (this test binary, as the CLI, DFBATCH_TEST_CLI=1).

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dfbatch/dfbatch/internal/kubecluster"
)

const cliImage = "dfbatch:kubecluster"

func init() {
	runTests = func(m *testing.M) int {
		exe, err := os.Executable()
		if err != nil {
			panic(err)
		}
		return kubecluster.RunTests(m, kubecluster.Config{
			Images: map[string]kubecluster.Image{cliImage: {Entrypoint: []string{exe}, Env: []string{"DFBATCH_TEST_CLI=1"}}},
		})
	}
}

// clusterFlags are the --cloud flags of a run on the test's namespace.
func clusterFlags(t *testing.T) []string {
	c := kubecluster.Need(t)
	return []string{"--cloud", "--image", cliImage, "--kubeconfig", c.Kubeconfig, "--namespace", c.Namespace(t),
		"--bucket", "file://" + filepath.ToSlash(t.TempDir())}
}

func TestRunCloudOnClusterWritesWhatTheLocalRunWrites(t *testing.T) {
	t.Parallel()
	cloudFlags := clusterFlags(t)
	// The README's command.
	args := []string{"--model", "../../examples/churn/churn.onnx", "--input", "../../examples/churn/customers.csv",
		"--batch-size", "100", "--executors", "4", "--cpus", "1", "--memory", "512", "--retries", "2", "--param", "attribute=customer_segment",
		"--features", "age,tenure_months,monthly_charges,total_charges,support_calls,contract_type",
		"--keep-columns", "customer_id", "--rename", "probabilities_1=Churn_Probability", "--output-columns", "Churn_Probability"}
	localOut := filepath.Join(t.TempDir(), "local.csv")
	code, _, stderr := runCLI(append([]string{"run", "--output", localOut}, args...)...)
	require.Equal(t, exitOK, code, stderr)

	cloudDir := t.TempDir()
	code, stdout, stderr := runCLI(append(append([]string{"run", "--output", cloudDir}, cloudFlags...), args...)...)
	require.Equal(t, exitOK, code, stderr)
	cloudOut := filepath.Join(cloudDir, "customers.csv")
	assert.Equal(t, cloudOut+"\n", stdout)
	assert.Contains(t, stderr, "succeeded: 10/10 tasks, 1000 rows in, 1000 rows out")

	local, err := os.ReadFile(localOut)
	require.NoError(t, err)
	cloud, err := os.ReadFile(cloudOut)
	require.NoError(t, err)
	assert.Equal(t, string(local), string(cloud))
}

func TestRunCloudOnClusterListsTheFailedTasksWithTheirPodsLogs(t *testing.T) {
	t.Parallel()
	cloudFlags := clusterFlags(t)
	code, _, stderr := runCLI(append([]string{"run", "--model", "../../examples/churn/churn.onnx", "--input", "../../examples/churn/customers.csv",
		"--output", t.TempDir(), "--batch-size", "400", "--retries", "1", "--dtype", "age=string", // numbers as text: every task fails
		"--features", "age,tenure_months,monthly_charges,total_charges,support_calls,contract_type"}, cloudFlags...)...)
	assert.Equal(t, exitTasksFailed, code, stderr)
	assert.Contains(t, stderr, "task 0 (../../examples/churn/customers.csv rows 0-399) failed after 2 attempts")
	assert.Contains(t, stderr, "exited with code 1")
	assert.Contains(t, stderr, `column "age": is utf8, not numeric`)
}

// TestRunCloudOnClusterRunsAPythonModelInThePods scores the Python churn
// model with --cloud --command on the real control plane: each pod's
// worker starts the command with the pod's environment, where the run's
// parameter is a real environment variable, and the output is the local
// --command run's, byte for byte.
func TestRunCloudOnClusterRunsAPythonModelInThePods(t *testing.T) {
	t.Parallel()
	python := pythonWithPandas(t)
	cloudFlags := clusterFlags(t)
	// The command's paths are the image's: here, this machine's, from the
	// pod's own working folder.
	script, err := filepath.Abs("../../examples/python-model/predict.py")
	require.NoError(t, err)
	args := []string{"--command", python + " " + script, "--input", "../../examples/python-model/customers.csv",
		"--batch-size", "250", "--executors", "2", "--param", "attribute=tenure_months"}
	local, cloud := filepath.Join(t.TempDir(), "local.csv"), filepath.Join(t.TempDir(), "cloud.csv")
	code, _, stderr := runCLI(append([]string{"run", "--output", local}, args...)...)
	require.Equal(t, exitOK, code, stderr)
	code, _, stderr = runCLI(append(append([]string{"run", "--output", cloud}, cloudFlags...), args...)...)
	require.Equal(t, exitOK, code, stderr)
	want, err := os.ReadFile(local)
	require.NoError(t, err)
	got, err := os.ReadFile(cloud)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
	assert.Contains(t, string(got), ",tenure_months\n", "the parameter reached the model")
}

// TestRunCloudOnClusterScoresAFolderAsTheLocalRunDoes scores a folder of
// CSV and JSON Lines files with --cloud: the outputs are the local run's.
func TestRunCloudOnClusterScoresAFolderAsTheLocalRunDoes(t *testing.T) {
	t.Parallel()
	cloudFlags := clusterFlags(t)
	data, err := os.ReadFile("../../examples/churn/customers.csv")
	require.NoError(t, err)
	lines := strings.SplitAfter(string(data), "\n")
	in := t.TempDir()
	for name, rows := range map[string][]string{"a.csv": lines[1:301], "b.csv": nil, "c.csv": lines[301:]} {
		require.NoError(t, os.WriteFile(filepath.Join(in, name), []byte(lines[0]+strings.Join(rows, "")), 0o644))
	}
	args := []string{"--model", "../../examples/churn/churn.onnx", "--input", in, "--batch-size", "128", "--executors", "3",
		"--features", "age,tenure_months,monthly_charges,total_charges,support_calls,contract_type", "--keep-columns", "customer_id", "--format", "jsonl"}
	local, cloud := t.TempDir(), t.TempDir()
	code, _, stderr := runCLI(append([]string{"run", "--output", local}, args...)...)
	require.Equal(t, exitOK, code, stderr)
	code, _, stderr = runCLI(append(append([]string{"run", "--output", cloud}, cloudFlags...), args...)...)
	require.Equal(t, exitOK, code, stderr)
	for _, name := range []string{"a.jsonl", "b.jsonl", "c.jsonl"} {
		want, err := os.ReadFile(filepath.Join(local, name))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(cloud, name))
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got), name)
	}
}
