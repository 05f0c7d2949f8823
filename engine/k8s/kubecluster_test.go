//go:build kubecluster

package k8s

// The backend against a real control plane (internal/kubecluster: etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler, and a node agent
// that runs pods as local processes). The pods run this test binary, which
// TestMain turns into a worker with the model its args name. The real Job
// controller backs a failed index off for 10 s, doubling per failure, with
// no flag to shorten it: the tests that fail pods are sized for it and run
// in parallel.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/internal/kubecluster"
	"github.com/dfbatch/dfbatch/model"
)

// workerImage is the image the node agent runs as this test binary.
const workerImage = "dfbatch-k8s-test:kubecluster"

// workerModels are the models a pod's worker can run, by its first arg.
var workerModels = map[string]model.Loader{
	"score":        scoreWithAttribute,
	"echo-attempt": echoAttempt,
	// Task 2's first attempt fails; its retry scores it.
	"fail-2-once": model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		if task, _ := model.TaskFrom(ctx); task.Index == 2 && task.Attempt == 1 {
			return nil, errors.New("task 2 fails its first attempt")
		}
		return echoAttempt(ctx, in)
	}),
	"fail-1":     failOnTask(1),
	"fail-1-2-3": failTasks(1, 2, 3),
	// Task 0 fails every attempt; the others run until they are stopped.
	"fail-0-block-rest": model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		if task, _ := model.TaskFrom(ctx); task.Index == 0 {
			return nil, errors.New("task 0 always fails")
		}
		<-ctx.Done()
		return nil, context.Cause(ctx)
	}),
	"block": blockUntilCancelled(nil),
}

func failTasks(indexes ...int) model.Func {
	return func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		task, _ := model.TaskFrom(ctx)
		for _, i := range indexes {
			if task.Index == i {
				return nil, fmt.Errorf("task %d fails\nwith a second line", i)
			}
		}
		return echoAttempt(ctx, in)
	}
}

func TestMain(m *testing.M) {
	if InWorkerPod() {
		// A pod of a test's Job: SIGTERM, as the kubelet sends when the
		// pod is deleted, cancels the task.
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		defer stop()
		loader, ok := workerModels[strings.Join(os.Args[1:2], "")]
		if !ok {
			fmt.Fprintf(os.Stderr, "no worker model %q\n", os.Args[1:])
			os.Exit(2)
		}
		if err := RunWorker(ctx, loader); err != nil {
			stop()
			os.Exit(1)
		}
		return
	}
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	os.Exit(kubecluster.RunTests(m, kubecluster.Config{
		Images: map[string]kubecluster.Image{workerImage: {Entrypoint: []string{exe}}},
	}))
}

// clusterRun is one test's namespace and bucket on the cluster.
type clusterRun struct {
	cluster   *kubecluster.Cluster
	namespace string
	bucket    string
	bucketDir string
	logs      *syncBuffer
}

func newClusterRun(t *testing.T) *clusterRun {
	t.Helper()
	c := kubecluster.Need(t)
	r := &clusterRun{cluster: c, namespace: c.Namespace(t), bucketDir: t.TempDir(), logs: &syncBuffer{}}
	r.bucket = "file://" + filepath.ToSlash(r.bucketDir)
	return r
}

// client is an engine client whose cloud runs go to a Backend on the
// cluster, as admin unless cs is given, with pods running model.
func (r *clusterRun) client(t *testing.T, workerModel string, cs Clientset, change func(*Config)) *engine.Client {
	t.Helper()
	if cs == nil {
		cs = r.cluster.Clientset
	}
	cfg := Config{
		Clientset: cs, Bucket: r.bucket,
		Job:    JobConfig{Namespace: r.namespace, Image: workerImage, WorkerArgs: []string{workerModel}},
		Logger: slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if change != nil {
		change(&cfg)
	}
	b, err := New(cfg)
	require.NoError(t, err)
	return engine.NewClient(workerModels[workerModel], engine.WithBackend(b))
}

func (r *clusterRun) staged(t *testing.T) []string {
	t.Helper()
	var files []string
	require.NoError(t, filepath.WalkDir(r.bucketDir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return err
	}))
	return files
}

// syncBuffer is a log the backend's goroutines write.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func eventsOf(e *engine.Execution, kind engine.EventKind) []engine.Event {
	var out []engine.Event
	for ev := range e.Events() {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

func TestBackendOnClusterGivesTheLocalRunsFrame(t *testing.T) {
	t.Parallel()
	r := newClusterRun(t)
	in := stageFrame(t)
	opts := engine.Options{BatchSize: 5, Executors: 3, CPUs: 0.5, Memory: 256, Parameters: map[string]string{"attribute": "tenure"}}
	local, err := engine.NewClient(scoreWithAttribute).RunFrame(context.Background(), in, opts)
	require.NoError(t, err)

	opts.Cloud = true
	e, err := r.client(t, "score", nil, nil).Start(context.Background(), in, opts)
	require.NoError(t, err)
	remote, err := e.Wait()
	require.NoError(t, err, r.logs.String())
	requireSameFrame(t, local, remote)

	rep := e.Report()
	assert.Equal(t, 8, rep.Tasks)
	assert.Equal(t, 8, rep.Finished)
	finished := map[int]bool{}
	for _, ev := range eventsOf(e, engine.TaskFinished) {
		finished[ev.Task.Index] = true
	}
	assert.Len(t, finished, 8, "one TaskFinished event per task")
	assert.Empty(t, eventsOf(e, engine.TaskRetried))
	assert.Empty(t, r.staged(t), "the execution's objects are removed")

	name, err := JobName(e.ID())
	require.NoError(t, err)
	job, err := r.cluster.Clientset.BatchV1().Jobs(r.namespace).Get(context.Background(), name, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(3), *job.Spec.Parallelism)
	assert.Equal(t, "0-7", job.Status.CompletedIndexes)
}

func TestBackendOnClusterRetriesAFailedIndexAfterTheControllersBackoff(t *testing.T) {
	t.Parallel()
	r := newClusterRun(t)
	begin := time.Now()
	e, err := r.client(t, "fail-2-once", nil, nil).Start(context.Background(), stageFrame(t),
		engine.Options{BatchSize: 10, Executors: 4, Retries: 1, Cloud: true})
	require.NoError(t, err)
	out, err := e.Wait()
	require.NoError(t, err, r.logs.String())
	attempts, err := out.Int64Col("attempt")
	require.NoError(t, err)
	assert.Equal(t, int64(2), attempts.Value(25), "task 2's rows were scored by its second pod")
	assert.Equal(t, int64(1), attempts.Value(5))
	assert.GreaterOrEqual(t, time.Since(begin), 10*time.Second, "the Job controller's 10 s backoff")

	retried := eventsOf(e, engine.TaskRetried)
	require.Len(t, retried, 1)
	assert.Equal(t, 2, retried[0].Task.Index)
	assert.Equal(t, 1, retried[0].Attempt)
	assert.ErrorContains(t, retried[0].Err, "exited with code 1")
	assert.ErrorContains(t, retried[0].Err, "task 2 fails its first attempt")
}

func TestBackendOnClusterFailuresPastRetriesNameTheirTasksAndPodLogs(t *testing.T) {
	t.Parallel()
	r := newClusterRun(t)
	// Three tasks fail every attempt and MaxFailedTasks tolerates them:
	// the run ends, Partial, once each has had its retry.
	e, err := r.client(t, "fail-1-2-3", nil, nil).Start(context.Background(), stageFrame(t),
		engine.Options{BatchSize: 10, Executors: 4, Retries: 1, MaxFailedTasks: 3, Cloud: true})
	require.NoError(t, err)
	out, err := e.Wait()
	require.ErrorIs(t, err, engine.ErrPartial, r.logs.String())
	require.NotNil(t, out)
	assert.Equal(t, 10, out.NumRows(), "task 0's rows")

	var runErr *engine.RunError
	require.ErrorAs(t, err, &runErr)
	require.Len(t, runErr.Failed, 3)
	for i, te := range runErr.Failed {
		assert.Equal(t, i+1, te.Task.Index)
		assert.Equal(t, 2, te.Attempts)
		assert.ErrorContains(t, te, "exited with code 1")
		assert.ErrorContains(t, te, "last log lines")
	}
	msg := err.Error()
	// Each task's quoted log ends its lines; what follows starts a new
	// line rather than being glued onto the last quoted one.
	assert.Contains(t, msg, "task 1 fails\n  | with a second line\ntask 2 (rows 20-29) failed after 2 attempts: pod ")
	assert.NotContains(t, msg, "line; task")
	assert.Len(t, eventsOf(e, engine.TaskRetried), 3, "one retry per failing task")
	assert.Len(t, eventsOf(e, engine.TaskFailed), 3)
}

func TestBackendOnClusterReportsNoRetryForPodsStoppedWhenTooManyIndexesFailed(t *testing.T) {
	t.Parallel()
	r := newClusterRun(t)
	// Task 0 fails twice (10 s apart); the Job then has more failed
	// indexes than maxFailedIndexes (0), the controller writes
	// FailureTarget and deletes tasks 1-3's running pods, whose first
	// attempts are within Retries but are no retries.
	e, err := r.client(t, "fail-0-block-rest", nil, nil).Start(context.Background(), stageFrame(t),
		engine.Options{BatchSize: 10, Executors: 4, Retries: 1, Cloud: true})
	require.NoError(t, err)
	_, err = e.Wait()
	var runErr *engine.RunError
	require.ErrorAs(t, err, &runErr, r.logs.String())
	require.Len(t, runErr.Failed, 1)
	assert.Equal(t, 0, runErr.Failed[0].Task.Index)
	retried := eventsOf(e, engine.TaskRetried)
	require.Len(t, retried, 1, "only task 0's first attempt was retried: %v", retried)
	assert.Equal(t, 0, retried[0].Task.Index)
}

func TestBackendOnClusterJobTimeoutEndsTheRunWithoutRetries(t *testing.T) {
	t.Parallel()
	r := newClusterRun(t)
	e, err := r.client(t, "block", nil, nil).Start(context.Background(), stageFrame(t),
		engine.Options{BatchSize: 10, Executors: 4, Retries: 2, JobTimeout: 3 * time.Second, Cloud: true})
	require.NoError(t, err)
	_, err = e.Wait()
	require.ErrorIs(t, err, engine.ErrJobTimeout, r.logs.String())
	assert.Empty(t, eventsOf(e, engine.TaskRetried), "the deadline's killed pods are no retries")
}

func TestBackendOnClusterCancelDeletesTheJobInTheForeground(t *testing.T) {
	t.Parallel()
	r := newClusterRun(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e, err := r.client(t, "block", nil, nil).Start(ctx, stageFrame(t), engine.Options{BatchSize: 10, Executors: 2, Cloud: true})
	require.NoError(t, err)
	name, err := JobName(e.ID())
	require.NoError(t, err)
	require.Eventually(t, func() bool { return e.Status().Running == 2 }, time.Minute, 50*time.Millisecond, "two pods run")
	cancel()
	_, err = e.Wait()
	require.ErrorIs(t, err, context.Canceled)

	// Foreground: the Job stays, being deleted, until its pods are gone.
	cs := r.cluster.Clientset
	require.Eventually(t, func() bool {
		_, err := cs.BatchV1().Jobs(r.namespace).Get(context.Background(), name, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}, time.Minute, 100*time.Millisecond, "the Job is deleted")
	pods, err := cs.CoreV1().Pods(r.namespace).List(context.Background(), metav1.ListOptions{LabelSelector: LabelJobName + "=" + name})
	require.NoError(t, err)
	assert.Empty(t, pods.Items, "its pods went first")
	assert.Empty(t, eventsOf(e, engine.TaskRetried), "the deleted pods are no retries")
	assert.Empty(t, r.staged(t))
	assert.Len(t, e.Report().Incomplete, 4, "every task is left to re-run")
}

func TestBackendOnClusterNamesTheJobOfALongExecutionIDValidly(t *testing.T) {
	t.Parallel()
	r := newClusterRun(t)
	// 61 characters: the name the old rule made, "dfbatch-" and 55 of
	// them, left no room for the API server's "-12" of the last pod.
	id := "nightly-scoring-" + strings.Repeat("0123456789", 4) + "-abcde"
	job, _, err := Manifests(JobConfig{Namespace: r.namespace, Image: workerImage, ExecutionID: id, StageBucket: r.bucket}, 13, engine.Options{BatchSize: 3, Executors: 4})
	require.NoError(t, err)
	name, err := JobName(id)
	require.NoError(t, err)
	assert.Equal(t, name, job.Name)
	_, err = r.cluster.Clientset.BatchV1().Jobs(r.namespace).Create(context.Background(), job, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	assert.NoError(t, err, "the API server takes the Job of 13 tasks")
}

// TestManifestsLimitsOnClusterAreTheAPIServers checks the limits that Manifests
// refuses before staging against what the API server refuses, with
// server-side dry runs.
func TestManifestsLimitsOnClusterAreTheAPIServers(t *testing.T) {
	t.Parallel()
	r := newClusterRun(t)
	cfg := JobConfig{Namespace: r.namespace, Image: workerImage, ExecutionID: "dfb-limits", StageBucket: r.bucket}
	create := func(job *batchv1.Job) error {
		_, err := r.cluster.Clientset.BatchV1().Jobs(r.namespace).Create(context.Background(), job, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err
	}
	for _, tc := range []struct {
		tasks int
		opts  engine.Options
		// set forces the refused value onto an accepted manifest.
		set func(*batchv1.Job)
	}{
		{150_000, engine.Options{Executors: 100_001}, func(j *batchv1.Job) { j.Spec.Parallelism = ptr(int32(100_001)) }},
		{100_001, engine.Options{Executors: 10_001}, func(j *batchv1.Job) { j.Spec.Parallelism = ptr(int32(10_001)) }},
		{100_001, engine.Options{MaxFailedTasks: 10_001}, func(j *batchv1.Job) { j.Spec.MaxFailedIndexes = ptr(int32(10_001)) }},
		{200_000, engine.Options{MaxFailedTasks: 100_001}, func(j *batchv1.Job) { j.Spec.MaxFailedIndexes = ptr(int32(100_001)) }},
	} {
		_, _, err := Manifests(cfg, tc.tasks, tc.opts)
		require.Error(t, err, "%d tasks, %+v", tc.tasks, tc.opts)

		// The same run within the limits is accepted...
		limited := tc.opts
		limited.Executors, limited.MaxFailedTasks = min(limited.Executors, 10_000), min(limited.MaxFailedTasks, 10_000)
		job, _, err := Manifests(cfg, tc.tasks, limited)
		require.NoError(t, err)
		require.NoError(t, create(job), "%d tasks, %+v", tc.tasks, limited)
		// ...and beyond them, refused.
		tc.set(job)
		err = create(job)
		require.Error(t, err, "%d tasks, %+v", tc.tasks, tc.opts)
		assert.True(t, apierrors.IsInvalid(err), "%v", err)
	}

	// The longest name, with the most completions, is accepted.
	cfg.ExecutionID = strings.Repeat("x", 80)
	job, _, err := Manifests(cfg, 2147483647, engine.Options{})
	require.NoError(t, err)
	require.NoError(t, create(job), "Job %s with completions MaxInt32", job.Name)
	job.Name += "-x"
	assert.Error(t, create(job), "one more character is too many")
}

// applyRBAC creates deploy/rbac.yaml's objects in the namespace.
func applyRBAC(t *testing.T, r *clusterRun) {
	t.Helper()
	data, err := os.ReadFile("../../deploy/rbac.yaml")
	require.NoError(t, err)
	ctx := context.Background()
	cs := r.cluster.Clientset
	for _, doc := range strings.Split(string(data), "\n---\n") {
		var meta metav1.TypeMeta
		require.NoError(t, yaml.Unmarshal([]byte(doc), &meta))
		switch meta.Kind {
		case "ServiceAccount":
			var o corev1.ServiceAccount
			require.NoError(t, yaml.Unmarshal([]byte(doc), &o))
			_, err = cs.CoreV1().ServiceAccounts(r.namespace).Create(ctx, &o, metav1.CreateOptions{})
		case "Role":
			var o rbacv1.Role
			require.NoError(t, yaml.Unmarshal([]byte(doc), &o))
			_, err = cs.RbacV1().Roles(r.namespace).Create(ctx, &o, metav1.CreateOptions{})
		case "RoleBinding":
			var o rbacv1.RoleBinding
			require.NoError(t, yaml.Unmarshal([]byte(doc), &o))
			for i := range o.Subjects {
				o.Subjects[i].Namespace = r.namespace
			}
			_, err = cs.RbacV1().RoleBindings(r.namespace).Create(ctx, &o, metav1.CreateOptions{})
		default:
			t.Fatalf("deploy/rbac.yaml: unexpected kind %q", meta.Kind)
		}
		require.NoError(t, err, meta.Kind)
	}
}

func TestBackendOnClusterRunsAsTheDeployRBACRolesServiceAccount(t *testing.T) {
	t.Parallel()
	r := newClusterRun(t)
	applyRBAC(t, r)
	ctx := context.Background()
	kubeconfig, err := r.cluster.ServiceAccountKubeconfig(ctx, r.namespace, "dfbatch-client")
	require.NoError(t, err)
	cs, namespace, err := Connect(kubeconfig, "")
	require.NoError(t, err)
	require.Equal(t, r.namespace, namespace, "the kubeconfig context's namespace")

	// Without the Role's rules it could not even list the Jobs.
	_, err = cs.BatchV1().Jobs("default").List(ctx, metav1.ListOptions{})
	require.True(t, apierrors.IsForbidden(err), "%v", err)

	// A run with an IAM role: the client creates the service account,
	// the Job, and makes the Job the account's owner; a failed task's
	// error comes with its pod's log.
	role := "arn:aws:iam::123456789012:role/scoring"
	e, err := r.client(t, "fail-1", cs, nil).Start(ctx, stageFrame(t), engine.Options{BatchSize: 10, Executors: 4, MaxFailedTasks: 1, IAMRoleARN: role, Cloud: true})
	require.NoError(t, err)
	_, err = e.Wait()
	require.ErrorIs(t, err, engine.ErrPartial, r.logs.String())
	assert.NotContains(t, r.logs.String(), "level=WARN", "no call was refused")

	name, err := JobName(e.ID())
	require.NoError(t, err)
	admin := r.cluster.Clientset
	job, err := admin.BatchV1().Jobs(r.namespace).Get(ctx, name, metav1.GetOptions{})
	require.NoError(t, err)
	sa, err := admin.CoreV1().ServiceAccounts(r.namespace).Get(ctx, name, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, role, sa.Annotations[DefaultRoleAnnotation])
	require.Len(t, sa.OwnerReferences, 1)
	assert.Equal(t, job.UID, sa.OwnerReferences[0].UID)
	pods, err := cs.CoreV1().Pods(r.namespace).List(ctx, metav1.ListOptions{LabelSelector: LabelJobName + "=" + name})
	require.NoError(t, err)
	for _, p := range pods.Items {
		assert.Equal(t, name, p.Spec.ServiceAccountName)
	}
	// pods/log, which the backend reads when a pod has no termination
	// message.
	require.NotEmpty(t, pods.Items)
	_, err = cs.CoreV1().Pods(r.namespace).GetLogs(pods.Items[0].Name, &corev1.PodLogOptions{Container: containerName}).DoRaw(ctx)
	assert.NoError(t, err)

	// The account goes with the Job: the garbage collector follows the
	// owner reference.
	require.NoError(t, cs.BatchV1().Jobs(r.namespace).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: ptr(metav1.DeletePropagationBackground)}))
	assert.Eventually(t, func() bool {
		_, err := admin.CoreV1().ServiceAccounts(r.namespace).Get(ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}, time.Minute, 200*time.Millisecond, "the Job-owned service account is collected")

	// Cancelling deletes the Job in the foreground, as the Role allows.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	e, err = r.client(t, "block", cs, nil).Start(cctx, stageFrame(t), engine.Options{BatchSize: 10, Executors: 2, Cloud: true})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return e.Status().Running == 2 }, time.Minute, 50*time.Millisecond)
	cancel()
	_, err = e.Wait()
	require.ErrorIs(t, err, context.Canceled)
	name, _ = JobName(e.ID())
	assert.Eventually(t, func() bool {
		_, err := admin.BatchV1().Jobs(r.namespace).Get(ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}, time.Minute, 100*time.Millisecond, "the Job is deleted")
	assert.NotContains(t, r.logs.String(), "deleting the Job")
}

func TestBackendOnClusterWarnsThatAGPUPodCannotBeScheduled(t *testing.T) {
	t.Parallel()
	r := newClusterRun(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e, err := r.client(t, "echo-attempt", nil, nil).Start(ctx, stageFrame(t),
		engine.Options{BatchSize: 20, GPUs: 1, GPUType: "NVIDIA-H100-80GB-HBM3", Cloud: true})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return strings.Contains(r.logs.String(), "a pod of the Job cannot be scheduled yet") },
		time.Minute, 100*time.Millisecond, "the scheduler's verdict is logged")
	assert.Contains(t, r.logs.String(), "0/1 nodes are available", "the scheduler's reason")
	cancel()
	_, err = e.Wait()
	assert.ErrorIs(t, err, context.Canceled)
}

func TestBackendOnClusterStopsWhenTheImageCannotBePulled(t *testing.T) {
	t.Parallel()
	r := newClusterRun(t)
	client := r.client(t, "echo-attempt", nil, func(c *Config) { c.Job.Image = "registry.example.com/missing:1" })
	e, err := client.Start(context.Background(), stageFrame(t), engine.Options{BatchSize: 20, Cloud: true})
	require.NoError(t, err)
	_, err = e.Wait()
	assert.ErrorContains(t, err, "ErrImagePull")
	assert.ErrorContains(t, err, "check JobConfig.Image")
	name, _ := JobName(e.ID())
	assert.Eventually(t, func() bool {
		_, err := r.cluster.Clientset.BatchV1().Jobs(r.namespace).Get(context.Background(), name, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}, time.Minute, 100*time.Millisecond, "the Job is deleted")
}
