package k8s

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/engine/k8s/k8stest"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
)

// fakeCluster is client-go's fake clientset with k8stest's Kubelet running
// the Worker in each pod, and a file:// staging bucket.
type fakeCluster struct {
	clientset *fake.Clientset
	kubelet   *k8stest.Kubelet
	bucketDir string
	bucket    string
}

func newFakeCluster(t *testing.T, loader model.Loader, fail func(index, attempt int) bool) *fakeCluster {
	t.Helper()
	c := &fakeCluster{clientset: k8stest.NewClientset(), bucketDir: t.TempDir()}
	c.bucket = "file://" + filepath.ToSlash(c.bucketDir)
	c.kubelet = &k8stest.Kubelet{
		Clientset: c.clientset,
		Fail:      fail,
		Run: func(ctx context.Context, env map[string]string, log io.Writer) error {
			return Worker{Loader: loader, LookupEnv: lookupIn(env), Log: log}.Run(ctx)
		},
	}
	require.NoError(t, c.kubelet.Start(context.Background()))
	t.Cleanup(c.kubelet.Stop)
	return c
}

// client returns an engine client whose Cloud runs go to a Backend on the
// fake cluster.
func (c *fakeCluster) client(t *testing.T, loader model.Loader, change func(*Config)) *engine.Client {
	t.Helper()
	cfg := Config{Clientset: c.clientset, Bucket: c.bucket, Job: JobConfig{Namespace: "scoring", Image: "dfbatch:test", WorkerArgs: []string{"worker"}}}
	if change != nil {
		change(&cfg)
	}
	b, err := New(cfg)
	require.NoError(t, err)
	return engine.NewClient(loader, engine.WithBackend(b))
}

// staged lists the files left in the bucket.
func (c *fakeCluster) staged(t *testing.T) []string {
	t.Helper()
	var files []string
	require.NoError(t, filepath.WalkDir(c.bucketDir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return err
	}))
	return files
}

// scoreWithAttribute scores rows with the parameter "attribute" and the
// task's attempt, as the reference's models read os.getenv.
var scoreWithAttribute = model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
	task, _ := model.TaskFrom(ctx)
	ids, err := in.Int64Col("id")
	if err != nil {
		return nil, err
	}
	scores := make([]float64, in.NumRows())
	attr := make([]string, in.NumRows())
	for i, id := range ids.Int64Values() {
		scores[i] = float64(id) * 0.5
		attr[i] = model.Getenv(ctx, "attribute")
	}
	return frame.New(frame.Column{Name: "id", Values: ids}, frame.Float64s("score", scores), frame.Strings("attribute", attr),
		frame.Int64s("task", repeat(int64(task.Index), in.NumRows())))
})

func repeat(v int64, n int) []int64 {
	s := make([]int64, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// meetFirst makes the first n tasks wait for each other (up to a few
// seconds) before scoring, so that a run with n executors provably has n
// tasks in flight at once.
func meetFirst(n int, m model.Func) model.Func {
	var mu sync.Mutex
	arrived := 0
	all := make(chan struct{})
	return func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		mu.Lock()
		if arrived++; arrived == n {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
		case <-time.After(5 * time.Second):
		}
		return m(ctx, in)
	}
}

func TestBackendOnFakeClientsetGivesTheLocalRunsFrame(t *testing.T) {
	in := stageFrame(t)
	opts := engine.Options{BatchSize: 5, Executors: 3, Parameters: map[string]string{"attribute": "tenure"}}
	local, err := engine.NewClient(scoreWithAttribute).RunFrame(context.Background(), in, opts)
	require.NoError(t, err)

	remoteModel := meetFirst(3, scoreWithAttribute)
	cluster := newFakeCluster(t, remoteModel, nil)
	opts.Cloud = true
	e, err := cluster.client(t, remoteModel, nil).Start(context.Background(), in, opts)
	require.NoError(t, err)
	remote, err := e.Wait()
	require.NoError(t, err)
	requireSameFrame(t, local, remote)

	name, err := JobName(e.ID())
	require.NoError(t, err)
	assert.Equal(t, 3, cluster.kubelet.MaxRunning(name), "parallelism = executors")
	r := e.Report()
	assert.Equal(t, 8, r.Tasks)
	assert.Equal(t, 8, r.Finished)
	assert.Equal(t, in.NumRows(), r.RowsOut)
	finished := map[int]bool{}
	for ev := range e.Events() {
		if ev.Kind == engine.TaskFinished {
			finished[ev.Task.Index] = true
		}
	}
	assert.Len(t, finished, 8, "one TaskFinished event per task")
	assert.Empty(t, cluster.staged(t), "the execution's objects are removed")
}

func TestBackendOnFakeClientsetRetriesAFailedIndex(t *testing.T) {
	cluster := newFakeCluster(t, echoAttempt, func(index, attempt int) bool { return index == 2 && attempt == 1 })
	in := stageFrame(t)
	e, err := cluster.client(t, echoAttempt, nil).Start(context.Background(), in, engine.Options{BatchSize: 10, Executors: 2, Retries: 1, Cloud: true})
	require.NoError(t, err)
	out, err := e.Wait()
	require.NoError(t, err)
	attempts, err := out.Int64Col("attempt")
	require.NoError(t, err)
	assert.Equal(t, int64(2), attempts.Value(25), "task 2's rows were scored by its second pod")
	assert.Equal(t, int64(1), attempts.Value(5))
	name, _ := JobName(e.ID())
	assert.Equal(t, 2, cluster.kubelet.Attempts(name, 2))
}

// echoAttempt returns the input's ids and the attempt that scored them.
var echoAttempt = model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
	task, _ := model.TaskFrom(ctx)
	ids, err := in.Int64Col("id")
	if err != nil {
		return nil, err
	}
	return frame.New(frame.Column{Name: "id", Values: ids}, frame.Int64s("attempt", repeat(int64(task.Attempt), in.NumRows())))
})

// failOnTask fails task index with a message, every attempt.
func failOnTask(index int) model.Func {
	return func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		if task, _ := model.TaskFrom(ctx); task.Index == index {
			return nil, fmt.Errorf("feature tenure is negative in row %d", task.Start+2)
		}
		return echoAttempt(ctx, in)
	}
}

func TestBackendOnFakeClientsetFailurePastRetriesNamesTaskRowsAndPodLog(t *testing.T) {
	broken := failOnTask(3)
	cluster := newFakeCluster(t, broken, nil)
	e, err := cluster.client(t, broken, nil).Start(context.Background(), stageFrame(t), engine.Options{BatchSize: 10, Executors: 2, Retries: 1, Cloud: true})
	require.NoError(t, err)
	_, err = e.Wait()
	var te *engine.TaskError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, engine.Task{Index: 3, Start: 30, End: 37}, te.Task)
	assert.Equal(t, 2, te.Attempts)
	assert.ErrorContains(t, err, "task 3 (rows 30-36) failed after 2 attempts")
	assert.ErrorContains(t, err, "exited with code 1")
	assert.ErrorContains(t, err, "last log lines")
	assert.ErrorContains(t, err, "feature tenure is negative in row 32")

	r := e.Report()
	require.Len(t, r.Failed, 1)
	assert.Equal(t, 3, r.Failed[0].Task.Index)
	assert.Contains(t, r.Rerun(), engine.Task{Index: 3, Start: 30, End: 37})
	assert.Empty(t, cluster.staged(t))
}

func TestBackendOnFakeClientsetToleratesMaxFailedTasks(t *testing.T) {
	broken := failOnTask(1)
	cluster := newFakeCluster(t, broken, nil)
	e, err := cluster.client(t, broken, nil).Start(context.Background(), stageFrame(t), engine.Options{BatchSize: 10, Executors: 4, MaxFailedTasks: 1, Cloud: true})
	require.NoError(t, err)
	out, err := e.Wait()
	require.ErrorIs(t, err, engine.ErrPartial, "the output lacks task 1's rows")
	assert.Equal(t, engine.Partial, e.Report().State)
	ids, err := out.Int64Col("id")
	require.NoError(t, err)
	assert.Equal(t, 27, ids.Len(), "task 1's 10 rows are missing")
	assert.Equal(t, int64(1009), ids.Value(9))
	assert.Equal(t, int64(1020), ids.Value(10))
	require.Len(t, e.Report().Failed, 1)
	assert.Equal(t, 1, e.Report().Failed[0].Task.Index)
}

// blockUntilCancelled blocks every task until its context ends, after
// telling started.
func blockUntilCancelled(started chan<- struct{}) model.Func {
	return func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		select {
		case started <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return nil, context.Cause(ctx)
	}
}

func TestBackendOnFakeClientsetCancelDeletesTheJobInTheForeground(t *testing.T) {
	started := make(chan struct{}, 1)
	blocked := blockUntilCancelled(started)
	cluster := newFakeCluster(t, blocked, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e, err := cluster.client(t, blocked, nil).Start(ctx, stageFrame(t), engine.Options{BatchSize: 10, Executors: 2, Cloud: true})
	require.NoError(t, err)
	<-started
	cancel()
	_, err = e.Wait()
	require.ErrorIs(t, err, context.Canceled)

	name, _ := JobName(e.ID())
	var deleted *metav1.DeletionPropagation
	for _, a := range cluster.clientset.Actions() {
		if d, ok := a.(k8stesting.DeleteAction); ok && a.GetResource().Resource == "jobs" && d.GetName() == name {
			deleted = d.GetDeleteOptions().PropagationPolicy
		}
	}
	require.NotNil(t, deleted, "the Job was deleted")
	assert.Equal(t, metav1.DeletePropagationForeground, *deleted)
	assert.Eventually(t, func() bool { return cluster.kubelet.Killed(name) > 0 }, 5*time.Second, 10*time.Millisecond, "its running pods were killed")
	assert.Empty(t, cluster.staged(t))
	assert.Len(t, e.Report().Incomplete, 4, "every task is left to re-run")
}

func TestBackendOnFakeClientsetJobTimeoutIsTheActiveDeadline(t *testing.T) {
	blocked := blockUntilCancelled(make(chan struct{}, 1))
	cluster := newFakeCluster(t, blocked, nil)
	e, err := cluster.client(t, blocked, nil).Start(context.Background(), stageFrame(t), engine.Options{BatchSize: 10, Executors: 2, JobTimeout: time.Second, Cloud: true})
	require.NoError(t, err)
	_, err = e.Wait()
	assert.ErrorIs(t, err, engine.ErrJobTimeout)
}

func TestBackendOnFakeClientsetKeepStageLeavesTheObjects(t *testing.T) {
	cluster := newFakeCluster(t, echoAttempt, nil)
	client := cluster.client(t, echoAttempt, func(c *Config) { c.KeepStage = true; c.Format = frame.CSV })
	e, err := client.Start(context.Background(), stageFrame(t), engine.Options{BatchSize: 20, Cloud: true})
	require.NoError(t, err)
	_, err = e.Wait()
	require.NoError(t, err)
	var names []string
	for _, f := range cluster.staged(t) {
		rel, _ := filepath.Rel(cluster.bucketDir, f)
		names = append(names, filepath.ToSlash(rel))
	}
	id := e.ID()
	assert.Subset(t, names, []string{id + "/job.json", id + "/input/task-000000.csv", id + "/input/task-000001.csv",
		id + "/output/task-000000.csv", id + "/output/task-000001.csv"})
}

func TestBackendOnFakeClientsetCreatesTheRolesServiceAccountOwnedByTheJob(t *testing.T) {
	cluster := newFakeCluster(t, echoAttempt, nil)
	e, err := cluster.client(t, echoAttempt, nil).Start(context.Background(), stageFrame(t),
		engine.Options{BatchSize: 20, Cloud: true, IAMRoleARN: "arn:aws:iam::123456789012:role/scoring"})
	require.NoError(t, err)
	_, err = e.Wait()
	require.NoError(t, err)
	name, _ := JobName(e.ID())
	job, err := cluster.clientset.BatchV1().Jobs("scoring").Get(context.Background(), name, metav1.GetOptions{})
	require.NoError(t, err)
	sa, err := cluster.clientset.CoreV1().ServiceAccounts("scoring").Get(context.Background(), name, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:iam::123456789012:role/scoring", sa.Annotations[DefaultRoleAnnotation])
	require.Len(t, sa.OwnerReferences, 1)
	assert.Equal(t, job.UID, sa.OwnerReferences[0].UID)
	assert.Equal(t, name, job.Spec.Template.Spec.ServiceAccountName)
}

func TestNewNamesEveryMissingSetting(t *testing.T) {
	_, err := New(Config{LogLines: -1, Format: "xlsx"})
	for _, want := range []string{"Config.Clientset is nil", "Config.Bucket is empty", "Config.Job.Image is empty", "Config.Format", "Config.LogLines must not be negative"} {
		assert.ErrorContains(t, err, want)
	}
	_, err = New(Config{Format: frame.JSONL})
	assert.ErrorContains(t, err, "Config.Format: jsonl is not a staging format")
}

func TestBackendOnFakeClientsetStopsWhenTheImageCannotBePulled(t *testing.T) {
	// No Kubelet: the test plays a kubelet that cannot pull the image.
	cs := k8stest.NewClientset()
	ctx := context.Background()
	jobs, err := cs.BatchV1().Jobs("scoring").Watch(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	defer jobs.Stop()
	go func() {
		ev := <-jobs.ResultChan()
		job, ok := ev.Object.(*batchv1.Job)
		if !ok {
			return
		}
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: job.Name + "-0-abcde", Namespace: job.Namespace, Labels: map[string]string{
				LabelExecution: job.Labels[LabelExecution], LabelJobName: job.Name, LabelCompletionIndex: "0",
			}},
			Status: corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{
				Name:  containerName,
				State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: `pull access denied for dfbatch`}},
			}}},
		}
		_, _ = cs.CoreV1().Pods(job.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	}()
	b, err := New(Config{Clientset: cs, Bucket: fileBucketURL(t), Job: JobConfig{Namespace: "scoring", Image: "dfbatch:missing"}})
	require.NoError(t, err)
	_, err = engine.NewClient(echoAttempt, engine.WithBackend(b)).RunFrame(ctx, stageFrame(t), engine.Options{BatchSize: 10, Cloud: true})
	assert.ErrorContains(t, err, "task 0 (rows 0-9) cannot start")
	assert.ErrorContains(t, err, "ErrImagePull: pull access denied for dfbatch (check JobConfig.Image and the pull secrets)")
	deleted := false
	for _, a := range cs.Actions() {
		deleted = deleted || a.GetVerb() == "delete" && a.GetResource().Resource == "jobs"
	}
	assert.True(t, deleted, "the Job is deleted")
}

func TestBackendOnFakeClientsetRefusesBadOptionsAtStart(t *testing.T) {
	cluster := newFakeCluster(t, echoAttempt, nil)
	_, err := cluster.client(t, echoAttempt, nil).Start(context.Background(), stageFrame(t),
		engine.Options{BatchSize: 10, Cloud: true, Parameters: map[string]string{"customer segment": "a", "DFBATCH_STAGE": "b"}})
	assert.ErrorContains(t, err, `Options.Parameters key "customer segment" is not a valid environment variable name`)
	assert.ErrorContains(t, err, `Options.Parameters key "DFBATCH_STAGE" is reserved for the worker`)
	assert.Empty(t, cluster.staged(t))
	for _, a := range cluster.clientset.Actions() {
		assert.Contains(t, []string{"list", "watch"}, a.GetVerb(), "only the Kubelet's watch: no object was created")
	}
}
