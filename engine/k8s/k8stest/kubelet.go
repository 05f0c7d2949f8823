// Package k8stest plays the Kubernetes Job controller and the kubelet in
// process, on top of client-go's fake clientset, so that code which creates
// an Indexed batch/v1 Job and watches it and its pods can be tested without a
// cluster. The fake clientset stores objects and delivers watch events but
// runs nothing: Kubelet fills that gap by creating the Job's pods, running
// each through a Go function and writing pod and Job status the way a real
// cluster does, down to the FailureTarget and SuccessCriteriaMet conditions
// that Kubernetes 1.31 and later add before Failed and Complete.
package k8stest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
)

// NodeName is the spec.nodeName of every pod Kubelet runs: the pods are
// bound to this one pretend node as soon as they are created.
const NodeName = "k8stest-node"

// Kubelet runs the pods of Indexed Jobs created through Clientset, in this
// process. It handles every Job whose spec.completionMode is Indexed and that
// has not started yet (no status.startTime), in all namespaces; other Jobs
// are left alone, as if another controller managed them. Set the fields
// before Start and do not change them afterwards.
type Kubelet struct {
	// Clientset is where Jobs are watched and pods and statuses written;
	// normally a *fake.Clientset from k8s.io/client-go/kubernetes/fake.
	Clientset kubernetes.Interface
	// Run runs one pod's first container. env is the container's
	// environment: its Env with valueFrom.fieldRef resolved (metadata.name,
	// metadata.namespace, metadata.uid, metadata.labels['k'],
	// metadata.annotations['k'], spec.nodeName, spec.serviceAccountName),
	// including JOB_COMPLETION_INDEX, which the Job controller injects as a
	// fieldRef the way Kubernetes does. log receives the container's log
	// (stdout and stderr); it is what a FallbackToLogsOnError termination
	// message is cut from. A non-nil error is a non-zero exit: its exit code
	// when it has an ExitCode() int method returning more than 0 (as
	// *exec.ExitError does), 1 otherwise. ctx is cancelled when the pod is
	// killed: Job deleted, deadline exceeded, too many failed indexes, or
	// Stop. Run is called from many goroutines at once. A nil Run succeeds
	// at once.
	Run func(ctx context.Context, env map[string]string, log io.Writer) error
	// Fail, if set, is asked before each pod runs; true makes that pod fail
	// with exit code 1 and a log line saying the test failed it, without
	// calling Run, so tests can inject failures into an unmodified Run.
	// attempt counts from 1. Like Run, it is called concurrently.
	Fail func(index, attempt int) bool

	mu     sync.Mutex
	ctx    context.Context // cancelled by Stop; nil before Start
	cancel context.CancelFunc
	jobs   map[string]context.CancelFunc // by namespace/name, for deletion
	stats  map[string]*jobStats          // by Job name, kept after the Job ends
	wg     sync.WaitGroup
}

// jobStats is what the introspection methods report for one Job; guarded by
// Kubelet.mu.
type jobStats struct {
	running, maxRunning, killed int
	attempts                    map[int]int
}

// Start begins watching Jobs and returns once the watch is established, so
// that every Job created after it returns is run. Jobs that already exist
// are picked up too. Start may be called only once; ctx bounds the Kubelet's
// whole life, like Stop.
func (k *Kubelet) Start(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ctx != nil {
		return errors.New("k8stest: Kubelet started twice")
	}
	k.ctx, k.cancel = context.WithCancel(ctx)
	k.jobs = map[string]context.CancelFunc{}
	k.stats = map[string]*jobStats{}
	w, err := k.Clientset.BatchV1().Jobs(metav1.NamespaceAll).Watch(k.ctx, metav1.ListOptions{})
	if err != nil {
		k.cancel()
		return fmt.Errorf("k8stest: watching Jobs: %w", err)
	}
	k.wg.Add(1)
	go k.watch(w)
	return nil
}

// Stop kills every running pod and waits for every goroutine Kubelet
// started, Run calls included. It writes nothing more to the clientset, as a
// kubelet that goes away would not. Calling it twice, or before Start, is
// safe.
func (k *Kubelet) Stop() {
	k.mu.Lock()
	cancel := k.cancel
	k.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	k.wg.Wait()
}

// MaxRunning returns the highest number of pods of the Job named jobName
// that were running (phase Running) at once, which parallelism caps.
func (k *Kubelet) MaxRunning(jobName string) int {
	return k.stat(jobName, func(s *jobStats) int { return s.maxRunning })
}

// Attempts returns how many pods were started for one index of the Job named
// jobName: 1 plus its retries, 0 if it never ran.
func (k *Kubelet) Attempts(jobName string, index int) int {
	return k.stat(jobName, func(s *jobStats) int { return s.attempts[index] })
}

// Killed returns how many running pods of the Job named jobName had their
// context cancelled because the Job was deleted or failed, or by Stop.
func (k *Kubelet) Killed(jobName string) int {
	return k.stat(jobName, func(s *jobStats) int { return s.killed })
}

func (k *Kubelet) stat(jobName string, f func(*jobStats) int) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	if s := k.stats[jobName]; s != nil {
		return f(s)
	}
	return 0
}

// watch dispatches Job events. It must never block for long: the fake
// clientset panics when a watcher falls 100 events behind, and every status
// update Kubelet writes is an event here.
func (k *Kubelet) watch(w watch.Interface) {
	defer k.wg.Done()
	defer w.Stop()
	for {
		select {
		case <-k.ctx.Done():
			return
		case ev, ok := <-w.ResultChan():
			if !ok {
				return
			}
			job, ok := ev.Object.(*batchv1.Job)
			if !ok {
				continue
			}
			key := job.Namespace + "/" + job.Name
			switch ev.Type {
			case watch.Added:
				k.add(key, job)
			case watch.Deleted:
				k.mu.Lock()
				if cancel := k.jobs[key]; cancel != nil {
					cancel()
					delete(k.jobs, key)
				}
				k.mu.Unlock()
			}
		}
	}
}

// add starts the controller of a new Job, if it is one Kubelet runs.
func (k *Kubelet) add(key string, job *batchv1.Job) {
	if job.Spec.CompletionMode == nil || *job.Spec.CompletionMode != batchv1.IndexedCompletion || job.Status.StartTime != nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.jobs[key] != nil {
		return
	}
	ctx, cancel := context.WithCancel(k.ctx)
	k.jobs[key] = cancel
	j := newJobRun(k, job)
	k.stats[job.Name] = j.stats // a new Job of the same name starts afresh
	k.wg.Add(1)
	go j.run(ctx)
}

// jobRun is the Job controller of one Job. Only its run goroutine touches
// it; pods report to it over events.
type jobRun struct {
	k      *Kubelet
	job    *batchv1.Job // as first seen, with a UID
	stats  *jobStats
	status batchv1.JobStatus

	completions, parallelism int
	succeeded, failed        []bool // by index: finished either way
	failures                 []int  // by index: failed pods so far
	nFailed                  int    // failed indexes
	next                     int    // lowest index never started
	retry                    []int  // sorted indexes to run again
	pods                     []string
	target                   *batchv1.JobCondition // FailureTarget or SuccessCriteriaMet, once decided
}

// podEvent is a pod's report to its Job's controller: it started running,
// or it finished (done).
type podEvent struct {
	index                 int
	done, ran, ok, killed bool
}

func newJobRun(k *Kubelet, job *batchv1.Job) *jobRun {
	job = job.DeepCopy()
	if job.UID == "" {
		// The API server sets a UID on creation; the fake does not, and
		// pods' ownerReferences and controller-uid labels need one.
		job.UID = uuid.NewUUID()
	}
	n := int(ptrOr(job.Spec.Completions, 1))
	return &jobRun{
		k: k, job: job,
		stats:       &jobStats{attempts: map[int]int{}},
		completions: n,
		parallelism: int(ptrOr(job.Spec.Parallelism, 1)),
		succeeded:   make([]bool, n),
		failed:      make([]bool, n),
		failures:    make([]int, n),
	}
}

// run drives the Job from start to its terminal condition, then waits for
// its deletion to delete its pods, as the garbage collector would.
func (j *jobRun) run(ctx context.Context) {
	defer j.k.wg.Done()
	podCtx, kill := context.WithCancel(ctx)
	defer kill()
	events := make(chan podEvent)
	now := metav1.Now()
	j.status.StartTime, j.status.Ready = &now, ptr(int32(0))
	j.update()
	var deadline <-chan time.Time
	if s := j.job.Spec.ActiveDeadlineSeconds; s != nil {
		t := time.NewTimer(time.Duration(*s) * time.Second)
		defer t.Stop()
		deadline = t.C
	}
	done := ctx.Done()
	for {
		// Not a flag set by select: a pod killed by the deletion may be
		// received before ctx.Done(), and must not make room for another.
		gone := ctx.Err() != nil
		if gone {
			done = nil // closed: wait for the pods' events only
		}
		if gone || j.target != nil { // only a failure is decided while pods run
			kill()
		}
		for !gone && j.target == nil && int(j.status.Active) < j.parallelism {
			i, ok := j.nextIndex()
			if !ok {
				break
			}
			j.launch(podCtx, i, events)
			j.update()
		}
		if j.status.Active == 0 {
			if gone {
				break
			}
			if j.target != nil || j.nextPending() < 0 {
				j.finish()
				<-ctx.Done()
				break
			}
		}
		select {
		case e := <-events:
			j.handle(e)
		case <-deadline:
			deadline = nil
			j.decide(batchv1.JobFailureTarget, batchv1.JobReasonDeadlineExceeded, "Job was active longer than specified deadline")
		case <-done:
		}
		if ctx.Err() == nil {
			j.update()
		}
	}
	if j.k.ctx.Err() != nil {
		return // Stop: write nothing more
	}
	for _, name := range j.pods {
		_ = j.k.Clientset.CoreV1().Pods(j.job.Namespace).Delete(j.k.ctx, name, metav1.DeleteOptions{})
	}
}

// nextPending returns the lowest index waiting to run, or -1. Indexes to
// retry are all below next, which was never started.
func (j *jobRun) nextPending() int {
	if len(j.retry) > 0 {
		return j.retry[0]
	}
	if j.next < j.completions {
		return j.next
	}
	return -1
}

// nextIndex takes the lowest pending index off the queue.
func (j *jobRun) nextIndex() (int, bool) {
	i := j.nextPending()
	switch {
	case i < 0:
		return 0, false
	case len(j.retry) > 0:
		j.retry = j.retry[1:]
	default:
		j.next++
	}
	return i, true
}

// launch creates the pod of one attempt at index i and starts it. A pod the
// clientset refuses to create counts as a failed attempt, so that an
// injected error cannot hang the Job.
func (j *jobRun) launch(ctx context.Context, i int, events chan<- podEvent) {
	j.k.mu.Lock()
	j.stats.attempts[i]++
	j.k.mu.Unlock()
	j.status.Active++
	pod, err := j.k.Clientset.CoreV1().Pods(j.job.Namespace).Create(j.k.ctx, newPod(j.job, i, j.failures[i]), metav1.CreateOptions{})
	if err != nil {
		j.handle(podEvent{index: i, done: true})
		return
	}
	j.pods = append(j.pods, pod.Name)
	j.k.wg.Add(1)
	go j.k.runPod(ctx, pod, i, j.failures[i]+1, j.stats, events)
}

// handle updates the Job's state with one pod event.
func (j *jobRun) handle(e podEvent) {
	switch {
	case !e.done:
		*j.status.Ready++
		return
	case e.ran:
		*j.status.Ready--
	}
	j.status.Active--
	i := e.index
	switch {
	case e.killed:
		// Killed with the Job: counted as failed, as Kubernetes does, but
		// the index neither failed nor is retried.
		j.status.Failed++
		return
	case e.ok:
		j.status.Succeeded++
		j.succeeded[i] = true
		j.status.CompletedIndexes = intervals(j.succeeded)
		return
	}
	j.status.Failed++
	j.failures[i]++
	spec := j.job.Spec
	switch {
	case spec.BackoffLimitPerIndex == nil:
		if j.status.Failed > ptrOr(spec.BackoffLimit, 6) {
			j.decide(batchv1.JobFailureTarget, batchv1.JobReasonBackoffLimitExceeded, "Job has reached the specified backoff limit")
			return
		}
	case j.failures[i] > int(*spec.BackoffLimitPerIndex):
		j.failed[i] = true
		j.nFailed++
		j.status.FailedIndexes = ptr(intervals(j.failed))
		if spec.MaxFailedIndexes != nil && j.nFailed > int(*spec.MaxFailedIndexes) {
			j.decide(batchv1.JobFailureTarget, batchv1.JobReasonMaxFailedIndexesExceeded, "Job has exceeded the specified maximal number of failed indexes")
		}
		return
	}
	at, _ := slices.BinarySearch(j.retry, i)
	j.retry = slices.Insert(j.retry, at, i)
}

// decide sets the Job's fate, the first time it is called: the interim
// condition Kubernetes adds while the remaining pods terminate.
func (j *jobRun) decide(t batchv1.JobConditionType, reason, message string) {
	if j.target != nil {
		return
	}
	c := j.condition(t, reason, message)
	j.target = &c
}

// finish writes the terminal condition once no pod is left running.
func (j *jobRun) finish() {
	if j.nFailed > 0 {
		j.decide(batchv1.JobFailureTarget, batchv1.JobReasonFailedIndexes, "Job has failed indexes")
	} else {
		j.decide(batchv1.JobSuccessCriteriaMet, batchv1.JobReasonCompletionsReached, "Reached expected number of succeeded pods")
	}
	j.update()
	if j.target.Type == batchv1.JobSuccessCriteriaMet {
		now := metav1.Now()
		j.status.CompletionTime = &now
		j.condition(batchv1.JobComplete, j.target.Reason, j.target.Message)
	} else {
		j.condition(batchv1.JobFailed, j.target.Reason, j.target.Message)
	}
	j.update()
}

// condition appends a True condition to the status and returns it.
func (j *jobRun) condition(t batchv1.JobConditionType, reason, message string) batchv1.JobCondition {
	now := metav1.Now()
	c := batchv1.JobCondition{
		Type: t, Status: corev1.ConditionTrue, Reason: reason, Message: message,
		LastProbeTime: now, LastTransitionTime: now,
	}
	j.status.Conditions = append(j.status.Conditions, c)
	return c
}

// update writes the status onto the stored Job. UpdateStatus on the fake
// replaces the whole object, hence the Get first. A Job already deleted is
// not an error: its Deleted event is on its way.
func (j *jobRun) update() {
	jobs := j.k.Clientset.BatchV1().Jobs(j.job.Namespace)
	job, err := jobs.Get(j.k.ctx, j.job.Name, metav1.GetOptions{})
	if err != nil {
		return
	}
	job.UID = j.job.UID
	job.Status = *j.status.DeepCopy()
	_, _ = jobs.UpdateStatus(j.k.ctx, job, metav1.UpdateOptions{})
}

// intervals formats the set indexes in Kubernetes' compressed interval
// format, as completedIndexes and failedIndexes hold them: "1,3-5,7".
func intervals(set []bool) string {
	var b []byte
	for i := 0; i < len(set); i++ {
		if !set[i] {
			continue
		}
		first := i
		for i+1 < len(set) && set[i+1] {
			i++
		}
		if len(b) > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, "%d", first)
		if i > first {
			b = fmt.Appendf(b, "-%d", i)
		}
	}
	return string(b)
}

func ptr[T any](v T) *T { return &v }

func ptrOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}
