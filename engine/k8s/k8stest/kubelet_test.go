package k8stest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	ns        = "batch"
	execLabel = "dfbatch.io/execution"
	wait      = 10 * time.Second
	tick      = 2 * time.Millisecond
)

// spec is what a test varies in the Job it creates.
type spec struct {
	completions, parallelism int32
	perIndex                 int32
	maxFailed                int32
	deadline                 int64 // activeDeadlineSeconds; 0 for none
	env                      []corev1.EnvVar
}

// newJob builds the kind of Job dfbatch's backend creates.
func newJob(name string, s spec) *batchv1.Job {
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{execLabel: name}},
		Spec: batchv1.JobSpec{
			CompletionMode:       ptr(batchv1.IndexedCompletion),
			Completions:          &s.completions,
			Parallelism:          &s.parallelism,
			BackoffLimitPerIndex: &s.perIndex,
			MaxFailedIndexes:     &s.maxFailed,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{execLabel: name}},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					Containers: []corev1.Container{{
						Name: "worker", Image: "dfbatch:test", Env: s.env,
						TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
					}},
				},
			},
		},
	}
	if s.deadline > 0 {
		job.Spec.ActiveDeadlineSeconds = &s.deadline
	}
	return job
}

// start starts a Kubelet on a FakeClientset and creates job on it.
func start(t *testing.T, k *Kubelet, job *batchv1.Job) *fake.Clientset {
	t.Helper()
	cs := fake.NewClientset()
	k.Clientset = cs
	require.NoError(t, k.Start(t.Context()))
	t.Cleanup(k.Stop)
	_, err := cs.BatchV1().Jobs(ns).Create(t.Context(), job, metav1.CreateOptions{})
	require.NoError(t, err)
	return cs
}

// waitCondition waits for the Job to have a True condition of type c and
// returns it then.
func waitCondition(t *testing.T, cs *fake.Clientset, name string, c batchv1.JobConditionType) *batchv1.Job {
	t.Helper()
	var job *batchv1.Job
	require.Eventually(t, func() bool {
		var err error
		job, err = cs.BatchV1().Jobs(ns).Get(t.Context(), name, metav1.GetOptions{})
		require.NoError(t, err)
		return condition(job, c) != nil
	}, wait, tick, "Job %s never got condition %s", name, c)
	return job
}

func condition(job *batchv1.Job, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i, c := range job.Status.Conditions {
		if c.Type == t && c.Status == corev1.ConditionTrue {
			return &job.Status.Conditions[i]
		}
	}
	return nil
}

func conditionTypes(job *batchv1.Job) []batchv1.JobConditionType {
	var ts []batchv1.JobConditionType
	for _, c := range job.Status.Conditions {
		ts = append(ts, c.Type)
	}
	return ts
}

func pods(t *testing.T, cs *fake.Clientset) []corev1.Pod {
	t.Helper()
	list, err := cs.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{})
	require.NoError(t, err)
	return list.Items
}

// blockUntilKilled is a Run that runs until its pod is killed.
func blockUntilKilled(ctx context.Context, _ map[string]string, _ io.Writer) error {
	<-ctx.Done()
	return ctx.Err()
}

func TestFakeClientsetIndexedJobAllIndexesSucceed(t *testing.T) {
	k := &Kubelet{Run: func(context.Context, map[string]string, io.Writer) error { return nil }}
	cs := start(t, k, newJob("ok", spec{completions: 5, parallelism: 2, perIndex: 1, maxFailed: 0}))

	job := waitCondition(t, cs, "ok", batchv1.JobComplete)
	assert.Equal(t, []batchv1.JobConditionType{batchv1.JobSuccessCriteriaMet, batchv1.JobComplete}, conditionTypes(job))
	assert.Equal(t, batchv1.JobReasonCompletionsReached, condition(job, batchv1.JobComplete).Reason)
	assert.Equal(t, "0-4", job.Status.CompletedIndexes)
	assert.Nil(t, job.Status.FailedIndexes)
	assert.EqualValues(t, 5, job.Status.Succeeded)
	assert.Zero(t, job.Status.Failed)
	assert.Zero(t, job.Status.Active)
	assert.NotNil(t, job.Status.StartTime)
	assert.NotNil(t, job.Status.CompletionTime)
	assert.NotEmpty(t, job.UID, "a UID is set, as the API server would")

	ps := pods(t, cs)
	require.Len(t, ps, 5)
	for _, p := range ps {
		index := p.Annotations[batchv1.JobCompletionIndexAnnotation]
		assert.Regexp(t, `^ok-[0-4]-[a-z0-9]{5}$`, p.Name)
		assert.True(t, strings.HasPrefix(p.Name, "ok-"+index+"-"))
		assert.Equal(t, map[string]string{
			execLabel: "ok", batchv1.JobNameLabel: "ok", "job-name": "ok",
			batchv1.ControllerUidLabel: string(job.UID), "controller-uid": string(job.UID),
			batchv1.JobCompletionIndexAnnotation: index,
		}, p.Labels)
		assert.Equal(t, "0", p.Annotations[batchv1.JobIndexFailureCountAnnotation])
		require.Len(t, p.OwnerReferences, 1)
		assert.Equal(t, job.UID, p.OwnerReferences[0].UID)
		assert.True(t, *p.OwnerReferences[0].Controller)
		assert.Equal(t, corev1.PodSucceeded, p.Status.Phase)
		term := p.Status.ContainerStatuses[0].State.Terminated
		require.NotNil(t, term)
		assert.Zero(t, term.ExitCode)
		assert.Equal(t, "Completed", term.Reason)
		assert.Empty(t, term.Message)
	}
}

func TestFakeClientsetHonoursParallelismLowestIndexFirst(t *testing.T) {
	for _, parallelism := range []int32{1, 3} {
		t.Run(fmt.Sprint("parallelism ", parallelism), func(t *testing.T) {
			release := make(chan struct{})
			k := &Kubelet{Run: func(ctx context.Context, _ map[string]string, _ io.Writer) error {
				select {
				case <-release:
				case <-ctx.Done():
				}
				return nil
			}}
			cs := start(t, k, newJob("par", spec{completions: 6, parallelism: parallelism, perIndex: 0, maxFailed: 0}))

			require.Eventually(t, func() bool { return k.MaxRunning("par") == int(parallelism) }, wait, tick)
			for i := range 6 {
				assert.Equal(t, btoi(i < int(parallelism)), k.Attempts("par", i), "index %d", i)
			}
			require.Eventually(t, func() bool { // the Job's status follows its pods'
				job, err := cs.BatchV1().Jobs(ns).Get(t.Context(), "par", metav1.GetOptions{})
				require.NoError(t, err)
				return job.Status.Active == parallelism && *job.Status.Ready == parallelism
			}, wait, tick)

			close(release)
			job := waitCondition(t, cs, "par", batchv1.JobComplete)
			assert.Equal(t, "0-5", job.Status.CompletedIndexes)
			assert.Equal(t, int(parallelism), k.MaxRunning("par"))
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestFakeClientsetResolvesEnvFieldRefsAndCompletionIndex(t *testing.T) {
	var mu sync.Mutex
	envs := map[string]map[string]string{} // by index/attempt
	k := &Kubelet{
		Run: func(_ context.Context, env map[string]string, _ io.Writer) error {
			mu.Lock()
			defer mu.Unlock()
			envs[env["JOB_COMPLETION_INDEX"]+"/"+env["FAILURES"]] = env
			return nil
		},
		Fail: func(index, attempt int) bool { return index == 1 && attempt == 1 },
	}
	field := func(name, path string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}}
	}
	cs := start(t, k, newJob("env", spec{completions: 2, parallelism: 1, perIndex: 1, maxFailed: 0, env: []corev1.EnvVar{
		{Name: "PLAIN", Value: "value"},
		field("FAILURES", "metadata.annotations['batch.kubernetes.io/job-index-failure-count']"),
		field("EXECUTION", "metadata.labels['dfbatch.io/execution']"),
		field("POD", "metadata.name"),
		field("NAMESPACE", "metadata.namespace"),
		field("NODE", "spec.nodeName"),
		field("SERVICE_ACCOUNT", "spec.serviceAccountName"),
	}}))
	waitCondition(t, cs, "env", batchv1.JobComplete)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, envs, 2, "index 1 ran once more after the injected failure")
	for key, env := range envs {
		assert.Equal(t, "value", env["PLAIN"], key)
		assert.Equal(t, "env", env["EXECUTION"], key)
		assert.Regexp(t, "^env-"+env["JOB_COMPLETION_INDEX"]+"-", env["POD"], key)
		assert.Equal(t, ns, env["NAMESPACE"], key)
		assert.Equal(t, NodeName, env["NODE"], key)
		assert.Equal(t, "default", env["SERVICE_ACCOUNT"], key)
	}
	assert.Contains(t, envs, "0/0")
	assert.Contains(t, envs, "1/1", "the retry of index 1 sees its failure count")
}

func TestFakeClientsetRetriesFailedIndexes(t *testing.T) {
	tests := []struct {
		name       string
		spec       spec
		fail       func(index, attempt int) bool
		condition  batchv1.JobConditionType
		reason     string
		completed  string
		failed     *string
		attempts   []int // by index
		failedPods int32
	}{{
		name:      "retried up to backoffLimitPerIndex then succeeds",
		spec:      spec{completions: 3, parallelism: 2, perIndex: 2, maxFailed: 0},
		fail:      func(index, attempt int) bool { return index == 1 && attempt <= 2 },
		condition: batchv1.JobComplete, reason: batchv1.JobReasonCompletionsReached,
		completed: "0-2", attempts: []int{1, 3, 1}, failedPods: 2,
	}, {
		name:      "failed index tolerated by maxFailedIndexes fails the Job at the end",
		spec:      spec{completions: 5, parallelism: 2, perIndex: 1, maxFailed: 1},
		fail:      func(index, _ int) bool { return index == 2 },
		condition: batchv1.JobFailed, reason: batchv1.JobReasonFailedIndexes,
		completed: "0-1,3-4", failed: ptr("2"), attempts: []int{1, 1, 2, 1, 1}, failedPods: 2,
	}, {
		name:      "failed indexes beyond maxFailedIndexes fail the Job at once",
		spec:      spec{completions: 5, parallelism: 1, perIndex: 0, maxFailed: 0},
		fail:      func(index, _ int) bool { return index == 1 || index == 3 },
		condition: batchv1.JobFailed, reason: batchv1.JobReasonMaxFailedIndexesExceeded,
		completed: "0", failed: ptr("1"), attempts: []int{1, 1, 0, 0, 0}, failedPods: 1,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := &Kubelet{Fail: tt.fail}
			cs := start(t, k, newJob("retry", tt.spec))

			job := waitCondition(t, cs, "retry", tt.condition)
			target := batchv1.JobSuccessCriteriaMet
			if tt.condition == batchv1.JobFailed {
				target = batchv1.JobFailureTarget
			}
			assert.Equal(t, []batchv1.JobConditionType{target, tt.condition}, conditionTypes(job))
			assert.Equal(t, tt.reason, condition(job, target).Reason)
			assert.Equal(t, tt.reason, condition(job, tt.condition).Reason)
			assert.Equal(t, tt.completed, job.Status.CompletedIndexes)
			assert.Equal(t, tt.failed, job.Status.FailedIndexes)
			assert.Equal(t, tt.failedPods, job.Status.Failed)
			assert.Zero(t, job.Status.Active)
			for i, n := range tt.attempts {
				assert.Equal(t, n, k.Attempts("retry", i), "attempts of index %d", i)
			}
		})
	}
}

func TestFakeClientsetFailedPodTerminationMessageIsLogTail(t *testing.T) {
	lines := func(n, width int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "%0*d\n", width, i)
		}
		return b.String()
	}
	long := lines(100, 5)
	wide := lines(80, 99)
	tests := []struct {
		name    string
		log     string
		run     error
		fail    bool
		exit    int32
		message string
	}{
		{name: "last 80 lines", log: long, run: errors.New("boom"), exit: 1, message: long[20*6:]},
		{name: "capped at 2048 bytes", log: wide, run: errors.New("boom"), exit: 1, message: wide[len(wide)-2048:]},
		{name: "exit code of the error", log: "oops\n", run: exitError(3), exit: 3, message: "oops\n"},
		{name: "failed by the test", fail: true, exit: 1, message: "k8stest: pod failed by the test (index 0, attempt 1)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := &Kubelet{
				Run: func(_ context.Context, _ map[string]string, log io.Writer) error {
					_, err := io.WriteString(log, tt.log)
					require.NoError(t, err)
					return tt.run
				},
				Fail: func(int, int) bool { return tt.fail },
			}
			cs := start(t, k, newJob("msg", spec{completions: 1, parallelism: 1, perIndex: 0, maxFailed: 0}))
			waitCondition(t, cs, "msg", batchv1.JobFailed)

			ps := pods(t, cs)
			require.Len(t, ps, 1)
			assert.Equal(t, corev1.PodFailed, ps[0].Status.Phase)
			term := ps[0].Status.ContainerStatuses[0].State.Terminated
			require.NotNil(t, term)
			assert.Equal(t, tt.exit, term.ExitCode)
			assert.Equal(t, "Error", term.Reason)
			assert.Equal(t, tt.message, term.Message)
		})
	}
}

type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }
func (e exitError) ExitCode() int { return int(e) }

func TestFakeClientsetJobDeletionKillsRunningPods(t *testing.T) {
	var mu sync.Mutex
	var errs []error
	k := &Kubelet{Run: func(ctx context.Context, _ map[string]string, _ io.Writer) error {
		<-ctx.Done()
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, ctx.Err())
		return ctx.Err()
	}}
	cs := start(t, k, newJob("del", spec{completions: 5, parallelism: 2, perIndex: 3, maxFailed: 4}))
	require.Eventually(t, func() bool { return k.MaxRunning("del") == 2 }, wait, tick)

	require.NoError(t, cs.BatchV1().Jobs(ns).Delete(t.Context(), "del", metav1.DeleteOptions{
		PropagationPolicy: ptr(metav1.DeletePropagationForeground),
	}))
	require.Eventually(t, func() bool { return k.Killed("del") == 2 && len(pods(t, cs)) == 0 }, wait, tick)
	mu.Lock()
	assert.Equal(t, []error{context.Canceled, context.Canceled}, errs)
	mu.Unlock()
	for i := range 5 {
		assert.Equal(t, btoi(i < 2), k.Attempts("del", i), "index %d: killed pods are not retried", i)
	}
}

func TestFakeClientsetActiveDeadlineExceededKillsPods(t *testing.T) {
	k := &Kubelet{Run: blockUntilKilled}
	cs := start(t, k, newJob("late", spec{completions: 4, parallelism: 2, perIndex: 1, maxFailed: 1, deadline: 1}))

	job := waitCondition(t, cs, "late", batchv1.JobFailed)
	assert.Equal(t, []batchv1.JobConditionType{batchv1.JobFailureTarget, batchv1.JobFailed}, conditionTypes(job))
	assert.Equal(t, batchv1.JobReasonDeadlineExceeded, condition(job, batchv1.JobFailed).Reason)
	assert.Zero(t, job.Status.Active)
	assert.EqualValues(t, 2, job.Status.Failed, "killed pods count as failed")
	assert.Nil(t, job.Status.FailedIndexes, "killed pods fail no index")
	assert.Equal(t, 2, k.Killed("late"))
	assert.Empty(t, pods(t, cs), "the Job controller deletes the pods it kills")
}

// TestFakeClientsetInformersSeeJobAndPods watches as dfbatch's backend does,
// with informers filtered by the execution label, and sees the pod failures
// and the Job's end.
func TestFakeClientsetInformersSeeJobAndPods(t *testing.T) {
	k := &Kubelet{Fail: func(index, _ int) bool { return index == 1 }}
	cs := fake.NewClientset()
	k.Clientset = cs
	require.NoError(t, k.Start(t.Context()))
	defer k.Stop()

	ctx, cancel := context.WithCancel(t.Context())
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = execLabel + "=inf" }))
	var mu sync.Mutex
	var messages []string
	var finished bool
	_, err := factory.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj any) {
			p := obj.(*corev1.Pod)
			if p.Status.Phase == corev1.PodFailed {
				mu.Lock()
				defer mu.Unlock()
				messages = append(messages, p.Status.ContainerStatuses[0].State.Terminated.Message)
			}
		},
	})
	require.NoError(t, err)
	_, err = factory.Batch().V1().Jobs().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj any) {
			if condition(obj.(*batchv1.Job), batchv1.JobFailed) != nil {
				mu.Lock()
				defer mu.Unlock()
				finished = true
			}
		},
	})
	require.NoError(t, err)
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	defer cancel()
	factory.WaitForCacheSync(ctx.Done())

	_, err = cs.BatchV1().Jobs(ns).Create(t.Context(), newJob("inf", spec{completions: 3, parallelism: 3, perIndex: 1, maxFailed: 1}), metav1.CreateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return finished
	}, wait, tick)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{
		"k8stest: pod failed by the test (index 1, attempt 1)\n",
		"k8stest: pod failed by the test (index 1, attempt 2)\n",
	}, messages)
}

func TestFakeClientsetStopTwiceAndStopKillsPods(t *testing.T) {
	k := &Kubelet{Run: blockUntilKilled}
	cs := fake.NewClientset()
	k.Clientset = cs
	k.Stop() // before Start: nothing to stop
	require.NoError(t, k.Start(t.Context()))
	require.Error(t, k.Start(t.Context()), "a Kubelet starts once")
	_, err := cs.BatchV1().Jobs(ns).Create(t.Context(), newJob("stop", spec{completions: 2, parallelism: 2, perIndex: 0, maxFailed: 0}), metav1.CreateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return k.MaxRunning("stop") == 2 }, wait, tick)
	k.Stop()
	k.Stop()
	assert.Equal(t, 2, k.Killed("stop"))
	assert.Len(t, pods(t, cs), 2, "a stopped kubelet deletes nothing")
}

func TestIntervals(t *testing.T) {
	for _, tt := range []struct {
		set  []bool
		want string
	}{
		{nil, ""},
		{[]bool{false, false}, ""},
		{[]bool{true}, "0"},
		{[]bool{false, true, false, true, true, true, false, true}, "1,3-5,7"},
		{[]bool{true, true, true}, "0-2"},
	} {
		assert.Equal(t, tt.want, intervals(tt.set), "%v", tt.set)
	}
}

func TestNewClientsetGivesCreatedObjectsAUID(t *testing.T) {
	cs := NewClientset()
	sa, err := cs.CoreV1().ServiceAccounts("ns").Create(context.Background(), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "a"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	assert.NotEmpty(t, sa.UID)
	got, err := cs.CoreV1().ServiceAccounts("ns").Get(context.Background(), "a", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, sa.UID, got.UID)
}
