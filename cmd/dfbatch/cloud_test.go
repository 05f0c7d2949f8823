package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/dfbatch/dfbatch/engine/k8s"
	"github.com/dfbatch/dfbatch/engine/k8s/k8stest"
)

// fakeCluster makes `dfbatch run --cloud` talk to client-go's fake
// clientset, whose pods k8stest's Kubelet runs by calling `dfbatch` with
// the container's args and environment, in this process.
func fakeCluster(t *testing.T) {
	t.Helper()
	cs := k8stest.NewClientset()
	kubelet := &k8stest.Kubelet{Clientset: cs, Run: func(ctx context.Context, env map[string]string, log io.Writer) error {
		name, err := k8s.JobName(env[k8s.EnvExecutionID])
		if err != nil {
			return err
		}
		job, err := cs.BatchV1().Jobs("scoring").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		args := job.Spec.Template.Spec.Containers[0].Args
		require.Equal(t, "worker", args[0])
		lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
		return workerCommand(ctx, args[1:], lookup, log)
	}}
	require.NoError(t, kubelet.Start(context.Background()))
	t.Cleanup(kubelet.Stop)
	saved := connect
	connect = func(kubeconfig, kubeContext string) (k8s.Clientset, string, error) { return cs, "scoring", nil }
	t.Cleanup(func() { connect = saved })
}

func TestRunCloudOnFakeClientsetWritesWhatTheLocalRunWrites(t *testing.T) {
	fakeCluster(t)
	args := []string{"--model", "../../examples/churn/churn.onnx", "--input", "../../examples/churn/customers.csv",
		"--batch-size", "100", "--executors", "4", "--param", "attribute=customer_segment",
		"--features", "age,tenure_months,monthly_charges,total_charges,support_calls,contract_type",
		"--keep-columns", "customer_id", "--rename", "probabilities_1=Churn_Probability", "--output-columns", "Churn_Probability"}
	localOut := filepath.Join(t.TempDir(), "local.csv")
	code, _, stderr := runCLI(append([]string{"run", "--output", localOut}, args...)...)
	require.Equal(t, exitOK, code, stderr)

	bucket := "file://" + filepath.ToSlash(t.TempDir())
	cloudDir := t.TempDir()
	code, stdout, stderr := runCLI(append([]string{"run", "--cloud", "--image", "dfbatch:test", "--bucket", bucket, "--output", cloudDir}, args...)...)
	require.Equal(t, exitOK, code, stderr)
	cloudOut := filepath.Join(cloudDir, "customers.csv")
	assert.Equal(t, cloudOut+"\n", stdout)
	assert.Contains(t, stderr, "succeeded: 10/10 tasks, 1000 rows in, 1000 rows out")
	assert.Contains(t, stderr, "uploaded to "+bucket)

	local, err := os.ReadFile(localOut)
	require.NoError(t, err)
	cloud, err := os.ReadFile(cloudOut)
	require.NoError(t, err)
	assert.Equal(t, string(local), string(cloud))
}

func TestRunCloudOnFakeClientsetListsTheFailedTasks(t *testing.T) {
	fakeCluster(t)
	code, _, stderr := runCLI("run", "--cloud", "--image", "dfbatch:test", "--bucket", "file://"+filepath.ToSlash(t.TempDir()),
		"--model", "../../examples/churn/churn.onnx", "--input", "../../examples/churn/customers.csv", "--output", t.TempDir(),
		"--batch-size", "400", "--retries", "1", "--dtype", "age=string", // numbers as text: every task fails
		"--features", "age,tenure_months,monthly_charges,total_charges,support_calls,contract_type")
	assert.Equal(t, exitTasksFailed, code, stderr)
	assert.Contains(t, stderr, "task 0 (../../examples/churn/customers.csv rows 0-399) failed after 2 attempts")
	assert.Contains(t, stderr, "rows to re-run written to")
	assert.Contains(t, stderr, `column "age": is utf8, not numeric`)
}

func TestRunCloudNamesWhatIsMissing(t *testing.T) {
	t.Setenv("DFBATCH_IMAGE", "")
	t.Setenv("DFBATCH_BUCKET", "")
	features := "age,tenure_months,monthly_charges,total_charges,support_calls,contract_type"
	code, _, stderr := runCLI("run", "--cloud", "--model", "../../examples/churn/churn.onnx", "--input", "../../examples/churn/customers.csv",
		"--output", t.TempDir(), "--batch-size", "100", "--features", features)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "--cloud needs --image (or $DFBATCH_IMAGE), the worker image and --bucket (or $DFBATCH_BUCKET)")
}

// TestRunCloudOnFakeClientsetScoresAFolderAsTheLocalRunDoes scores a
// folder of three CSV files, one of them empty, with --cloud: the outputs
// are the local run's, byte for byte.
func TestRunCloudOnFakeClientsetScoresAFolderAsTheLocalRunDoes(t *testing.T) {
	fakeCluster(t)
	data, err := os.ReadFile("../../examples/churn/customers.csv")
	require.NoError(t, err)
	lines := strings.SplitAfter(string(data), "\n")
	in := t.TempDir()
	for name, rows := range map[string][]string{"a.csv": lines[1:301], "b.csv": nil, "c.csv": lines[301:]} {
		require.NoError(t, os.WriteFile(filepath.Join(in, name), []byte(lines[0]+strings.Join(rows, "")), 0o644))
	}
	args := []string{"--model", "../../examples/churn/churn.onnx", "--input", in, "--batch-size", "64", "--executors", "3",
		"--features", "age,tenure_months,monthly_charges,total_charges,support_calls,contract_type", "--keep-columns", "customer_id"}
	local, cloud := t.TempDir(), t.TempDir()
	code, _, stderr := runCLI(append([]string{"run", "--output", local}, args...)...)
	require.Equal(t, exitOK, code, stderr)
	code, stdout, stderr := runCLI(append([]string{"run", "--cloud", "--image", "dfbatch:test", "--bucket", "file://" + filepath.ToSlash(t.TempDir()), "--output", cloud}, args...)...)
	require.Equal(t, exitOK, code, stderr)
	assert.Len(t, strings.Fields(stdout), 3)
	for _, name := range []string{"a.csv", "b.csv", "c.csv"} {
		want, err := os.ReadFile(filepath.Join(local, name))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(cloud, name))
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got), name)
	}
}

func TestWorkerNeedsExactlyOneModelSource(t *testing.T) {
	code, _, stderr := runCLI("worker")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "one of --model (a file in the image), --model-object (a key in the staging bucket) and --command")
	code, _, stderr = runCLI("worker", "--model", "m.onnx", "--command", "python3 predict.py")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "give the model with one of")
}

func TestWorkerOutsideAPodPrintsItsErrorOnce(t *testing.T) {
	for _, k := range []string{k8s.EnvExecutionID, k8s.EnvStage, k8s.EnvIndex, k8s.EnvBatchSize} {
		t.Setenv(k, "")
	}
	code, _, stderr := runCLI("worker", "--model", "../../examples/churn/churn.onnx",
		"--features", "age,tenure_months,monthly_charges,total_charges,support_calls,contract_type")
	assert.Equal(t, exitError, code)
	assert.Equal(t, 1, strings.Count(stderr, "not set: the worker runs in the pods of a Job"), stderr)
}

// TestRunCloudOnFakeClientsetRunsAPythonModelInThePods scores the Python
// churn model with --cloud --command: each pod's worker runs the command
// (in the image; here, on this machine) with the run's parameters, and
// the output is the local --command run's. A model that fails has its
// traceback, from the pod's log, in the task's error.
func TestRunCloudOnFakeClientsetRunsAPythonModelInThePods(t *testing.T) {
	python := pythonWithPandas(t)
	fakeCluster(t)
	args := []string{"--command", python + " ../../examples/python-model/predict.py", "--input", "../../examples/python-model/customers.csv",
		"--batch-size", "100", "--executors", "3", "--param", "attribute=tenure_months"}
	local, cloud := filepath.Join(t.TempDir(), "local.csv"), filepath.Join(t.TempDir(), "cloud.csv")
	code, _, stderr := runCLI(append([]string{"run", "--output", local}, args...)...)
	require.Equal(t, exitOK, code, stderr)
	bucket := "file://" + filepath.ToSlash(t.TempDir())
	code, _, stderr = runCLI(append([]string{"run", "--cloud", "--image", "dfbatch-python:test", "--bucket", bucket, "--output", cloud}, args...)...)
	require.Equal(t, exitOK, code, stderr)
	assert.NotContains(t, stderr, "uploaded", "a command is in the image")
	want, err := os.ReadFile(local)
	require.NoError(t, err)
	got, err := os.ReadFile(cloud)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
	assert.Contains(t, string(got), ",tenure_months\n", "the parameter reached the model")

	failing := filepath.Join(t.TempDir(), "failing.py")
	require.NoError(t, os.WriteFile(failing, []byte("import dfbatch_model\n\ndef predict(df):\n    raise ValueError('no model for ' + str(len(df)) + ' rows')\n\ndfbatch_model.serve(predict)\n"), 0o644))
	code, _, stderr = runCLI("run", "--cloud", "--image", "dfbatch-python:test", "--bucket", bucket, "--output", t.TempDir(),
		"--command", python+" "+failing, "--input", "../../examples/python-model/customers.csv", "--batch-size", "500")
	assert.Equal(t, exitTasksFailed, code, stderr)
	assert.Contains(t, stderr, "ValueError: no model for 500 rows")
}
