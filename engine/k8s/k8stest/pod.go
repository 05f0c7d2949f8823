package k8stest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"sync"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilrand "k8s.io/apimachinery/pkg/util/rand"

	"github.com/dfbatch/dfbatch/internal/kubelet"
)

const (
	// exitKilled is the exit code of a container killed by SIGKILL.
	exitKilled = 137
	envIndex   = "JOB_COMPLETION_INDEX"
)

// newPod builds the pod of one attempt at index i of job, as the Job
// controller does; failures is how many pods of that index failed before.
// The pod is bound to NodeName from the start: there is no scheduler.
func newPod(job *batchv1.Job, i, failures int) *corev1.Pod {
	t := job.Spec.Template.DeepCopy()
	index, uid := strconv.Itoa(i), string(job.UID)
	labels := map[string]string{}
	maps.Copy(labels, t.Labels)
	maps.Copy(labels, map[string]string{
		batchv1.JobNameLabel:                 job.Name,
		"job-name":                           job.Name,
		batchv1.ControllerUidLabel:           uid,
		"controller-uid":                     uid,
		batchv1.JobCompletionIndexAnnotation: index,
	})
	annotations := map[string]string{}
	maps.Copy(annotations, t.Annotations)
	annotations[batchv1.JobCompletionIndexAnnotation] = index
	annotations[batchv1.JobIndexFailureCountAnnotation] = strconv.Itoa(failures)
	spec := t.Spec
	spec.NodeName = NodeName
	if spec.ServiceAccountName == "" {
		spec.ServiceAccountName = "default" // what admission sets
	}
	for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for c := range cs {
			addIndexEnv(&cs[c])
		}
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			// The API server completes generateName "<job>-<index>-"; the
			// fake does not.
			Name:        fmt.Sprintf("%s-%d-%s", job.Name, i, utilrand.String(5)),
			Namespace:   job.Namespace,
			Labels:      labels,
			Annotations: annotations,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "batch/v1", Kind: "Job", Name: job.Name, UID: job.UID,
				Controller: ptr(true), BlockOwnerDeletion: ptr(true),
			}},
		},
		Spec: spec,
		Status: corev1.PodStatus{
			Phase:      corev1.PodPending,
			Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}},
		},
	}
}

// addIndexEnv gives a container JOB_COMPLETION_INDEX the way the Job
// controller does: as a fieldRef to the completion index annotation.
func addIndexEnv(c *corev1.Container) {
	for _, e := range c.Env {
		if e.Name == envIndex {
			return
		}
	}
	c.Env = append(c.Env, corev1.EnvVar{Name: envIndex, ValueFrom: &corev1.EnvVarSource{
		FieldRef: &corev1.ObjectFieldSelector{
			APIVersion: "v1",
			FieldPath:  fmt.Sprintf("metadata.annotations['%s']", batchv1.JobCompletionIndexAnnotation),
		},
	}})
}

// runPod plays the kubelet for one pod: Running, the container, then
// Succeeded or Failed, reporting to the Job's controller over events. A pod
// killed (ctx cancelled) is deleted, as the Job controller does when a Job
// fails; one killed while still Pending never runs.
func (k *Kubelet) runPod(ctx context.Context, pod *corev1.Pod, index, attempt int, stats *jobStats, events chan<- podEvent) {
	defer k.wg.Done()
	e := podEvent{index: index, done: true}
	started := metav1.Now()
	var code int32
	var log logBuffer
	if ctx.Err() == nil {
		running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}}
		k.setPodStatus(pod, podStatus(pod, corev1.PodRunning, started, running))
		k.count(stats, func(s *jobStats) {
			s.running++
			s.maxRunning = max(s.maxRunning, s.running)
		})
		events <- podEvent{index: index}
		e.ran = true
		code = k.container(ctx, pod, index, attempt, &log)
		k.count(stats, func(s *jobStats) { s.running-- })
	}
	e.ok, e.killed = code == 0, ctx.Err() != nil
	if e.killed && e.ran {
		k.count(stats, func(s *jobStats) { s.killed++ })
	}
	if k.ctx.Err() == nil { // after Stop the kubelet is gone and writes nothing
		if e.ran {
			term := &corev1.ContainerStateTerminated{ExitCode: code, Reason: "Completed", StartedAt: started, FinishedAt: metav1.Now()}
			phase := corev1.PodSucceeded
			if code != 0 {
				phase, term.Reason = corev1.PodFailed, "Error"
				if pod.Spec.Containers[0].TerminationMessagePolicy == corev1.TerminationMessageFallbackToLogsOnError {
					term.Message = kubelet.TerminationMessage(log.bytes())
				}
			}
			k.setPodStatus(pod, podStatus(pod, phase, started, corev1.ContainerState{Terminated: term}))
		}
		if e.killed {
			_ = k.Clientset.CoreV1().Pods(pod.Namespace).Delete(k.ctx, pod.Name, metav1.DeleteOptions{})
		}
	}
	events <- e
}

// container runs the pod's first container and returns its exit code.
// Environment errors fail the pod here, where a real kubelet would leave it
// Pending with CreateContainerConfigError: a test should fail, not hang.
func (k *Kubelet) container(ctx context.Context, pod *corev1.Pod, index, attempt int, log *logBuffer) int32 {
	env, err := podEnv(pod, &pod.Spec.Containers[0])
	switch {
	case err != nil:
		fmt.Fprintf(log, "k8stest: %v\n", err)
	case k.Fail != nil && k.Fail(index, attempt):
		err = errors.New("failed by the test")
		fmt.Fprintf(log, "k8stest: pod failed by the test (index %d, attempt %d)\n", index, attempt)
	case k.Run != nil:
		err = k.Run(ctx, env, log)
	}
	var exit interface{ ExitCode() int }
	switch {
	case ctx.Err() != nil:
		return exitKilled
	case err == nil:
		return 0
	case errors.As(err, &exit) && exit.ExitCode() > 0:
		return int32(exit.ExitCode())
	}
	return 1
}

// count updates a Job's statistics.
func (k *Kubelet) count(s *jobStats, f func(*jobStats)) {
	k.mu.Lock()
	defer k.mu.Unlock()
	f(s)
}

// setPodStatus writes status onto the stored pod. UpdateStatus on the fake
// replaces the whole object, hence the Get first; a pod already deleted is
// left so.
func (k *Kubelet) setPodStatus(pod *corev1.Pod, status corev1.PodStatus) {
	pods := k.Clientset.CoreV1().Pods(pod.Namespace)
	p, err := pods.Get(k.ctx, pod.Name, metav1.GetOptions{})
	if err != nil {
		return
	}
	p.Status = status
	_, _ = pods.UpdateStatus(k.ctx, p, metav1.UpdateOptions{})
}

// podStatus is the status of a scheduled pod whose first container is in
// state; it is ready while running.
func podStatus(pod *corev1.Pod, phase corev1.PodPhase, started metav1.Time, state corev1.ContainerState) corev1.PodStatus {
	ready := corev1.ConditionFalse
	if state.Running != nil {
		ready = corev1.ConditionTrue
	}
	now := metav1.Now()
	cond := func(t corev1.PodConditionType, s corev1.ConditionStatus) corev1.PodCondition {
		return corev1.PodCondition{Type: t, Status: s, LastTransitionTime: now}
	}
	c := pod.Spec.Containers[0]
	return corev1.PodStatus{
		Phase:     phase,
		StartTime: &started,
		Conditions: []corev1.PodCondition{
			cond(corev1.PodScheduled, corev1.ConditionTrue),
			cond(corev1.PodInitialized, corev1.ConditionTrue),
			cond(corev1.ContainersReady, ready),
			cond(corev1.PodReady, ready),
		},
		ContainerStatuses: []corev1.ContainerStatus{{
			Name: c.Name, Image: c.Image, State: state,
			Ready: state.Running != nil, Started: ptr(state.Running != nil),
		}},
	}
}

// podEnv resolves a container's environment. $(VAR) references are not
// expanded.
func podEnv(pod *corev1.Pod, c *corev1.Container) (map[string]string, error) {
	env := make(map[string]string, len(c.Env))
	for _, v := range c.Env {
		switch {
		case v.ValueFrom == nil:
			env[v.Name] = v.Value
		case v.ValueFrom.FieldRef == nil:
			return nil, fmt.Errorf("env %s: only valueFrom.fieldRef is supported", v.Name)
		default:
			val, err := kubelet.FieldValue(pod, v.ValueFrom.FieldRef.FieldPath, "127.0.0.1")
			if err != nil {
				return nil, fmt.Errorf("env %s: %w", v.Name, err)
			}
			env[v.Name] = val
		}
	}
	return env, nil
}

// logBuffer is a container's log; Run may write it from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	return len(p), nil
}

func (l *logBuffer) bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.buf)
}
