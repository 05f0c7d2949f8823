package k8s

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
)

// runSink is what a remote run hands its tasks' progress, outputs and
// failures to: its *engine.Run, or a test's recorder.
type runSink interface {
	ID() string
	Event(engine.Event)
	CheckOutput(engine.Task, *frame.Frame) error
	Finish(engine.Task, *frame.Frame) error
	Fail(*engine.TaskError) error
}

// remoteRun follows one Job.
type remoteRun struct {
	backend *Backend
	run     runSink
	opts    engine.Options
	// tasks are the staged tasks, by Job completion index.
	tasks    []engine.Task
	manifest *batchv1.Job
	stage    *Stage
	// changed is signalled, without blocking, whenever the informers see a
	// change to the Job or its pods.
	changed chan struct{}
	jobs    cacheLister[*batchv1.Job]
	pods    cacheLister[*corev1.Pod]

	// What has been reported, so that each event is sent once.
	started       map[string]bool // pod names
	retried       map[string]bool // pod names
	unschedulable map[string]bool // pod names
	finished      map[int]bool    // completion indexes
	failed        map[int]*engine.TaskError
	seenJob       bool
	// next is the completion index of the next output to hand to the
	// run, in order.
	next int
}

// cacheLister lists one kind of object from an informer's cache.
type cacheLister[T any] func() []T

// watch starts informers on the run's Job and pods, selected by the
// execution label, and returns once their caches are in sync. stop shuts
// them down and waits for their goroutines.
func (r *remoteRun) watch(ctx context.Context) (stop func(), err error) {
	selector := labels.SelectorFromSet(labels.Set{LabelExecution: r.manifest.Labels[LabelExecution]}).String()
	bySelector := func(o metav1.ListOptions) metav1.ListOptions { o.LabelSelector = selector; return o }
	cs, ns := r.backend.cfg.Clientset, r.manifest.Namespace
	// Wrapped as client-go's own informers are: a client that cannot
	// stream the initial list (the fake clientset says so) gets a plain
	// list and watch.
	jobs := cache.NewSharedIndexInformer(cache.ToListWatcherWithWatchListSemantics(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return cs.BatchV1().Jobs(ns).List(ctx, bySelector(o))
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return cs.BatchV1().Jobs(ns).Watch(ctx, bySelector(o))
		},
	}, cs), &batchv1.Job{}, 0, cache.Indexers{})
	pods := cache.NewSharedIndexInformer(cache.ToListWatcherWithWatchListSemantics(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return cs.CoreV1().Pods(ns).List(ctx, bySelector(o))
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return cs.CoreV1().Pods(ns).Watch(ctx, bySelector(o))
		},
	}, cs), &corev1.Pod{}, 0, cache.Indexers{})

	signal := func(any) {
		select {
		case r.changed <- struct{}{}:
		default:
		}
	}
	handler := cache.ResourceEventHandlerFuncs{AddFunc: signal, UpdateFunc: func(_, o any) { signal(o) }, DeleteFunc: signal}
	informerCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	stop = func() {
		cancel()
		wg.Wait()
	}
	for _, inf := range []cache.SharedIndexInformer{jobs, pods} {
		if _, err := inf.AddEventHandler(handler); err != nil {
			stop()
			return nil, fmt.Errorf("dfbatch/k8s: watching the Job: %w", err)
		}
		wg.Go(func() { inf.RunWithContext(informerCtx) })
	}
	// The run's context ends the wait too, without stopping the informers,
	// which follow stops.
	if !cache.WaitForCacheSync(ctxDone(ctx, informerCtx.Done()), jobs.HasSynced, pods.HasSynced) {
		stop()
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, fmt.Errorf("dfbatch/k8s: the Job and pod informers of namespace %s did not sync", ns)
	}
	r.jobs = listOf[*batchv1.Job](jobs.GetStore())
	r.pods = listOf[*corev1.Pod](pods.GetStore())
	return stop, nil
}

// ctxDone is a channel closed when ctx is done or done is closed.
func ctxDone(ctx context.Context, done <-chan struct{}) <-chan struct{} {
	out := make(chan struct{})
	go func() {
		defer close(out)
		select {
		case <-ctx.Done():
		case <-done:
		}
	}()
	return out
}

func listOf[T any](store cache.Store) cacheLister[T] {
	return func() []T {
		items := store.List()
		out := make([]T, 0, len(items))
		for _, it := range items {
			if v, ok := it.(T); ok {
				out = append(out, v)
			}
		}
		return out
	}
}

// create creates the service account, if the run has one, then the Job, and
// makes the Job the account's owner so that both go when the Job does.
func (r *remoteRun) create(ctx context.Context, account *corev1.ServiceAccount) error {
	cs := r.backend.cfg.Clientset
	ns := r.manifest.Namespace
	if account != nil {
		if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, account, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("dfbatch/k8s: creating service account %s/%s for Options.IAMRoleARN: %w", ns, account.Name, err)
		}
	}
	created, err := cs.BatchV1().Jobs(ns).Create(ctx, r.manifest, metav1.CreateOptions{})
	if err != nil {
		if account != nil {
			r.deleteAccount(ctx, account.Name)
		}
		if apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("dfbatch/k8s: Job %s/%s already exists: execution %s was started before: %w", ns, r.manifest.Name, r.run.ID(), err)
		}
		return fmt.Errorf("dfbatch/k8s: creating Job %s/%s: %w", ns, r.manifest.Name, err)
	}
	if account == nil {
		return nil
	}
	account.OwnerReferences = []metav1.OwnerReference{{
		APIVersion: "batch/v1", Kind: "Job", Name: created.Name, UID: created.UID,
	}}
	if _, err := cs.CoreV1().ServiceAccounts(ns).Update(ctx, account, metav1.UpdateOptions{}); err != nil {
		// The run works without it; the account is then left behind.
		r.backend.cfg.Logger.Warn("making the Job own its service account", "account", account.Name, "error", err)
	}
	return nil
}

func (r *remoteRun) deleteAccount(ctx context.Context, name string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	err := r.backend.cfg.Clientset.CoreV1().ServiceAccounts(r.manifest.Namespace).Delete(ctx, name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		r.backend.cfg.Logger.Warn("deleting the service account", "account", name, "error", err)
	}
}

// follow reports progress and hands the outputs to the run, in order, as
// they come, until the Job ends or ctx is done.
func (r *remoteRun) follow(ctx context.Context) error {
	r.started, r.retried, r.unschedulable = map[string]bool{}, map[string]bool{}, map[string]bool{}
	r.finished, r.failed = map[int]bool{}, map[int]*engine.TaskError{}
	for {
		select {
		case <-ctx.Done():
			r.deleteJob(ctx)
			return context.Cause(ctx)
		case <-r.changed:
		}
		job, err := r.observe(ctx)
		if err == nil {
			err = r.deliver(ctx)
		}
		if err != nil {
			r.deleteJob(ctx)
			return err
		}
		if job == nil {
			continue
		}
		if c := terminal(job); c != nil {
			return r.finish(ctx, c)
		}
	}
}

// deliver reads the outputs of the finished tasks that are next in order,
// one at a time, and hands them to the run; it skips failed tasks, which
// observe handed over.
func (r *remoteRun) deliver(ctx context.Context) error {
	for ; r.next < len(r.tasks); r.next++ {
		switch {
		case r.failed[r.next] != nil:
		case r.finished[r.next]:
			if err := r.handOver(ctx, r.next); err != nil {
				return err
			}
		default:
			return nil
		}
	}
	return nil
}

// handOver reads the output of the task at completion index i and hands it
// to the run; one that does not match the run's other outputs fails the
// task.
func (r *remoteRun) handOver(ctx context.Context, i int) error {
	t := r.tasks[i]
	out, err := r.stage.ReadOutput(ctx, i, t)
	if err != nil {
		return err
	}
	if err := r.run.CheckOutput(t, out); err != nil {
		_, attempt := latestPod(r.indexPods(i), corev1.PodSucceeded)
		r.failed[i] = &engine.TaskError{Task: t, Executor: -1, Attempts: max(attempt, 1), Err: err}
		return r.run.Fail(r.failed[i])
	}
	return r.run.Finish(t, out)
}

// observe reads the Job and its pods from the caches and reports what
// changed. It returns nil while the Job is not in the cache yet.
func (r *remoteRun) observe(ctx context.Context) (*batchv1.Job, error) {
	var job *batchv1.Job
	for _, j := range r.jobs() {
		if j.Name == r.manifest.Name {
			job = j
		}
	}
	if job == nil {
		if r.seenJob {
			return nil, fmt.Errorf("dfbatch/k8s: Job %s/%s was deleted before it finished", r.manifest.Namespace, r.manifest.Name)
		}
		return nil, nil
	}
	r.seenJob = true
	byIndex := map[int][]*corev1.Pod{}
	now := time.Now()
	for _, p := range r.jobPods() {
		i, ok := podIndex(p)
		if !ok || i >= len(r.tasks) {
			continue
		}
		byIndex[i] = append(byIndex[i], p)
		t, attempt := r.tasks[i], podAttempt(p)
		switch p.Status.Phase {
		case corev1.PodRunning:
			if !r.started[p.Name] {
				r.started[p.Name] = true
				r.emit(engine.Event{Kind: engine.TaskStarted, Task: t, Attempt: attempt, Time: now})
			}
		case corev1.PodFailed:
			// A pod that failed because the Job's end was decided, or that
			// was stopped from outside (deleted, disrupted), is no failed
			// attempt of its task.
			if attempt <= r.opts.Retries && !r.retried[p.Name] && decided(job) == nil && !stopped(p) {
				r.retried[p.Name] = true
				r.emit(engine.Event{Kind: engine.TaskRetried, Task: t, Attempt: attempt, Err: r.podError(ctx, p), Time: now})
			}
		case corev1.PodPending:
			if err := startFailure(p); err != nil {
				return nil, fmt.Errorf("dfbatch/k8s: %v cannot start: %w", t, err)
			}
			r.warnUnschedulable(p, t)
		}
	}
	for _, i := range parseIndexes(job.Status.CompletedIndexes, len(r.tasks)) {
		if !r.finished[i] {
			r.finished[i] = true
			_, attempt := latestPod(byIndex[i], corev1.PodSucceeded)
			r.emit(engine.Event{Kind: engine.TaskFinished, Task: r.tasks[i], Attempt: attempt, Time: now})
		}
	}
	if job.Status.FailedIndexes != nil {
		for _, i := range parseIndexes(*job.Status.FailedIndexes, len(r.tasks)) {
			if r.failed[i] == nil {
				r.failed[i] = r.taskError(ctx, byIndex[i], i)
				r.emit(engine.Event{Kind: engine.TaskFailed, Task: r.tasks[i], Attempt: r.failed[i].Attempts, Err: r.failed[i].Err, Time: now})
				if err := r.run.Fail(r.failed[i]); err != nil {
					return nil, err
				}
			}
		}
	}
	return job, nil
}

// warnUnschedulable logs, once per pod, that the scheduler finds no node
// for it: the run waits (a cluster autoscaler may add one), and the log
// says why.
func (r *remoteRun) warnUnschedulable(p *corev1.Pod, t engine.Task) {
	if r.unschedulable[p.Name] {
		return
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			r.unschedulable[p.Name] = true
			r.backend.cfg.Logger.Warn("a pod of the Job cannot be scheduled yet", "task", t.String(), "pod", p.Name, "message", c.Message)
		}
	}
}

// emit reports an event of the run; remote tasks have no executor index.
func (r *remoteRun) emit(ev engine.Event) {
	ev.Executor = -1
	r.run.Event(ev)
}

// jobPods are the cached pods of the run's Job.
func (r *remoteRun) jobPods() []*corev1.Pod {
	var pods []*corev1.Pod
	for _, p := range r.pods() {
		if p.Labels[LabelJobName] == r.manifest.Name || p.Labels["job-name"] == r.manifest.Name {
			pods = append(pods, p)
		}
	}
	return pods
}

// indexPods are the cached pods of completion index i.
func (r *remoteRun) indexPods(i int) []*corev1.Pod {
	var pods []*corev1.Pod
	for _, p := range r.jobPods() {
		if j, ok := podIndex(p); ok && j == i {
			pods = append(pods, p)
		}
	}
	return pods
}

func podIndex(p *corev1.Pod) (int, bool) {
	v, ok := p.Labels[LabelCompletionIndex]
	if !ok {
		v, ok = p.Annotations[LabelCompletionIndex]
	}
	i, err := strconv.Atoi(v)
	return i, ok && err == nil && i >= 0
}

// podAttempt is 1 + the failures of the pod's index before it.
func podAttempt(p *corev1.Pod) int {
	n, _ := strconv.Atoi(p.Annotations[AnnotationIndexFailures])
	return n + 1
}

// latestPod returns the pod, among one index's pods, with the highest
// attempt in phase, and that attempt; nil and 0 if there is none.
func latestPod(pods []*corev1.Pod, phase corev1.PodPhase) (*corev1.Pod, int) {
	var latest *corev1.Pod
	attempt := 0
	for _, p := range pods {
		if p.Status.Phase == phase && podAttempt(p) > attempt {
			latest, attempt = p, podAttempt(p)
		}
	}
	return latest, attempt
}

// taskError describes the failure of task index past its retries, from the
// last failed one of its pods.
func (r *remoteRun) taskError(ctx context.Context, pods []*corev1.Pod, index int) *engine.TaskError {
	te := &engine.TaskError{Task: r.tasks[index], Executor: -1, Attempts: r.opts.Retries + 1}
	if p, attempt := latestPod(pods, corev1.PodFailed); p != nil {
		te.Attempts = attempt
		te.Err = r.podError(ctx, p)
	} else {
		te.Err = fmt.Errorf("index %d failed, as Job %s says, and its pods are gone", index, r.manifest.Name)
	}
	return te
}

// podError describes a failed pod: its name, the worker's exit code and
// reason, and the last lines of its log, from the termination message the
// kubelet fills from the log (FallbackToLogsOnError) or else from the API.
func (r *remoteRun) podError(ctx context.Context, p *corev1.Pod) error {
	var b strings.Builder
	fmt.Fprintf(&b, "pod %s", p.Name)
	message := ""
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Name != containerName || cs.State.Terminated == nil {
			continue
		}
		term := cs.State.Terminated
		fmt.Fprintf(&b, " exited with code %d", term.ExitCode)
		if term.Reason != "" {
			fmt.Fprintf(&b, " (%s)", term.Reason)
		}
		message = term.Message
	}
	if p.Status.Reason != "" {
		fmt.Fprintf(&b, ": %s", p.Status.Reason)
		if p.Status.Message != "" {
			fmt.Fprintf(&b, ": %s", p.Status.Message)
		}
	}
	if message == "" {
		message = r.podLog(ctx, p)
	}
	if lines := lastLines(message, r.backend.cfg.LogLines); lines != "" {
		fmt.Fprintf(&b, "; last log lines:\n%s", lines)
	}
	return errors.New(b.String())
}

// podLog returns the end of the worker container's log, or "" if the API
// cannot give it (the pod may be gone).
func (r *remoteRun) podLog(ctx context.Context, p *corev1.Pod) string {
	tail := int64(r.backend.cfg.LogLines)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	data, err := r.backend.cfg.Clientset.CoreV1().Pods(p.Namespace).
		GetLogs(p.Name, &corev1.PodLogOptions{Container: containerName, TailLines: &tail}).DoRaw(ctx)
	if err != nil {
		r.backend.cfg.Logger.Debug("reading a failed pod's log", "pod", p.Name, "error", err)
		return ""
	}
	return string(data)
}

// lastLines returns the last n non-empty lines of s, each indented.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	lines = slices.DeleteFunc(lines, func(l string) bool { return strings.TrimSpace(l) == "" })
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		lines[i] = "  | " + l
	}
	return strings.Join(lines, "\n")
}

// startFailure returns why a pending pod's worker container cannot start
// and will not by waiting, such as an image that cannot be pulled.
func startFailure(p *corev1.Pod) error {
	for _, cs := range p.Status.ContainerStatuses {
		w := cs.State.Waiting
		if w == nil {
			continue
		}
		switch w.Reason {
		case "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError", "CreateContainerError":
			return fmt.Errorf("pod %s: container %s is waiting: %s: %s (check JobConfig.Image and the pull secrets)", p.Name, cs.Name, w.Reason, w.Message)
		}
	}
	return nil
}

// decided returns the condition by which the Job controller has decided
// the Job's end: since Kubernetes 1.31 it first writes FailureTarget
// (active deadline passed, too many failed indexes) or SuccessCriteriaMet,
// then terminates the pods still running, which end Failed, and only then
// writes Failed or Complete.
func decided(job *batchv1.Job) *batchv1.JobCondition {
	for i, c := range job.Status.Conditions {
		switch c.Type {
		case batchv1.JobFailureTarget, batchv1.JobSuccessCriteriaMet, batchv1.JobComplete, batchv1.JobFailed:
			if c.Status == corev1.ConditionTrue {
				return &job.Status.Conditions[i]
			}
		}
	}
	return nil
}

// stopped reports whether a pod was stopped from outside rather than
// failing by itself: it is being deleted (the Job controller deletes the
// running pods of a Job whose end is decided; a cancel deletes the Job)
// or it carries a DisruptionTarget condition (eviction, preemption, node
// shutdown, taint).
func stopped(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil {
		return true
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// terminal returns the Job's Complete or Failed condition once it holds.
func terminal(job *batchv1.Job) *batchv1.JobCondition {
	for i, c := range job.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return &job.Status.Conditions[i]
		}
	}
	return nil
}

// finish hands the run the outputs of the tasks that finished before the
// Job ended, and says why it ended short: past its deadline, or failed
// with no task failed. Failed tasks are already the run's, which tells
// whether they were within Options.MaxFailedTasks.
func (r *remoteRun) finish(ctx context.Context, end *batchv1.JobCondition) error {
	for i := r.next; i < len(r.tasks); i++ {
		if r.finished[i] && r.failed[i] == nil {
			if err := r.handOver(ctx, i); err != nil {
				return err
			}
		}
	}
	switch {
	case end.Type == batchv1.JobComplete:
		return nil
	case end.Reason == batchv1.JobReasonDeadlineExceeded:
		return fmt.Errorf("%w: the Job %s passed its active deadline (Options.JobTimeout = %s)", engine.ErrJobTimeout, r.manifest.Name, r.opts.JobTimeout)
	case len(r.failed) == 0:
		return fmt.Errorf("dfbatch/k8s: Job %s failed: %s: %s", r.manifest.Name, end.Reason, end.Message)
	}
	return nil
}

// deleteJob deletes the Job with foreground propagation: the deletion
// completes once its pods are gone. It runs after ctx has ended, so it has
// its own deadline.
func (r *remoteRun) deleteJob(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	policy := metav1.DeletePropagationForeground
	err := r.backend.cfg.Clientset.BatchV1().Jobs(r.manifest.Namespace).Delete(ctx, r.manifest.Name, metav1.DeleteOptions{PropagationPolicy: &policy})
	if err != nil && !apierrors.IsNotFound(err) {
		r.backend.cfg.Logger.Warn("deleting the Job", "job", r.manifest.Name, "error", err)
		return
	}
	r.backend.cfg.Logger.Info("dfbatch Job deleted", "execution", r.run.ID(), "job", r.manifest.Name)
}

// parseIndexes parses a Job's completedIndexes or failedIndexes, such as
// "1,3-5,7", keeping the indexes below n.
func parseIndexes(s string, n int) []int {
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		first, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		last := first
		if isRange {
			if last, err = strconv.Atoi(hi); err != nil {
				continue
			}
		}
		for i := max(first, 0); i <= last && i < n; i++ {
			out = append(out, i)
		}
	}
	return out
}
