package k8s

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/engine/k8s/k8stest"
	"github.com/dfbatch/dfbatch/frame"
)

// observed runs one observe of a run of 4 tasks with Retries 2 over the
// given Job status and pods, and returns the events it reported.
func observed(t *testing.T, status batchv1.JobStatus, pods ...*corev1.Pod) []engine.Event {
	t.Helper()
	b, err := New(Config{Clientset: k8stest.NewClientset(), Bucket: "mem://", Job: JobConfig{Image: "dfbatch:test"}})
	require.NoError(t, err)
	tasks := make([]engine.Task, 4)
	for i := range tasks {
		tasks[i] = engine.Task{Index: i, Start: i * 10, End: i*10 + 10}
	}
	rec := &recorder{id: "dfb-observe"}
	opts := engine.Options{Retries: 2}
	manifest, _, err := Manifests(JobConfig{Image: "dfbatch:test", ExecutionID: rec.id, StageBucket: "mem://", Namespace: "default"}, len(tasks), opts)
	require.NoError(t, err)
	r := &remoteRun{backend: b, run: rec, opts: opts, tasks: tasks, manifest: manifest}
	r.started, r.retried, r.unschedulable = map[string]bool{}, map[string]bool{}, map[string]bool{}
	r.finished, r.failed = map[int]bool{}, map[int]*engine.TaskError{}
	r.jobs = func() []*batchv1.Job { return []*batchv1.Job{{ObjectMeta: manifest.ObjectMeta, Status: status}} }
	r.pods = func() []*corev1.Pod { return pods }
	_, err = r.observe(context.Background())
	require.NoError(t, err)
	return rec.events
}

// recorder stands in for a remote run's *engine.Run: it keeps the events.
type recorder struct {
	id     string
	events []engine.Event
}

func (r *recorder) ID() string                                  { return r.id }
func (r *recorder) Event(ev engine.Event)                       { r.events = append(r.events, ev) }
func (r *recorder) CheckOutput(engine.Task, *frame.Frame) error { return nil }
func (r *recorder) Finish(engine.Task, *frame.Frame) error      { return nil }
func (r *recorder) Fail(*engine.TaskError) error                { return nil }

// failedPod is a pod of index i's first attempt that exited with code 1.
func failedPod(name string, i int, change func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{
			LabelJobName: "dfbatch-dfb-observe", LabelCompletionIndex: string(rune('0' + i)),
		}, Annotations: map[string]string{AnnotationIndexFailures: "0"}},
		Status: corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{{
			Name: containerName, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}},
		}}},
	}
	if change != nil {
		change(p)
	}
	return p
}

func kinds(events []engine.Event) []engine.EventKind {
	var out []engine.EventKind
	for _, ev := range events {
		out = append(out, ev.Kind)
	}
	return out
}

func TestObserveReportsAFailedPodWithRetriesLeftAsRetried(t *testing.T) {
	events := observed(t, batchv1.JobStatus{}, failedPod("p0", 0, nil))
	require.Equal(t, []engine.EventKind{engine.TaskRetried}, kinds(events))
	assert.Equal(t, 0, events[0].Task.Index)
	assert.ErrorContains(t, events[0].Err, "pod p0 exited with code 1")
}

func TestObserveDoesNotReportPodsStoppedByTheJobsDecidedEndAsRetried(t *testing.T) {
	now := metav1.NewTime(time.Now())
	decided := func(t batchv1.JobConditionType, reason string) batchv1.JobStatus {
		return batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: t, Status: corev1.ConditionTrue, Reason: reason}}}
	}
	cases := []struct {
		name   string
		status batchv1.JobStatus
		pod    *corev1.Pod
	}{
		{"failure target: deadline", decided(batchv1.JobFailureTarget, batchv1.JobReasonDeadlineExceeded), failedPod("p1", 1, nil)},
		{"failure target: failed indexes", decided(batchv1.JobFailureTarget, batchv1.JobReasonMaxFailedIndexesExceeded), failedPod("p1", 1, nil)},
		{"success criteria met", decided(batchv1.JobSuccessCriteriaMet, batchv1.JobReasonCompletionsReached), failedPod("p1", 1, nil)},
		{"pod being deleted", batchv1.JobStatus{}, failedPod("p1", 1, func(p *corev1.Pod) { p.DeletionTimestamp = &now })},
		{"pod disrupted", batchv1.JobStatus{}, failedPod("p1", 1, func(p *corev1.Pod) {
			p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: "TerminationByKubelet"})
		})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Empty(t, observed(t, tc.status, tc.pod))
		})
	}
}
