package kubecluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"

	"github.com/dfbatch/dfbatch/internal/kubelet"
)

const (
	// NodeName is the name of the one node the NodeAgent registers.
	NodeName = "kubecluster-node"
	loopback = "127.0.0.1"
	// defaultGrace is a pod's termination grace period when it sets none.
	defaultGrace = 30 * time.Second
	leaseSeconds = 40
)

// Image is what a container image stands for on this node: the local
// program that its entrypoint is.
type Image struct {
	// Entrypoint is the image's ENTRYPOINT: a local executable and the
	// arguments before the container's own.
	Entrypoint []string
	// Cmd is the image's CMD, the arguments when the container has neither
	// command nor args.
	Cmd []string
	// Env is the image's environment, which the pod's variables override.
	Env []string
}

// NodeConfig is the node the NodeAgent registers.
type NodeConfig struct {
	// CPU and Memory are the node's capacity and allocatable, as
	// quantities; "" means 32 CPUs and 64Gi, far more than the machine has,
	// so that only the tests' own requests decide what the scheduler
	// places.
	CPU, Memory string
	// Pods is how many pods the node takes; 0 means 110.
	Pods int
	// GPUs, when above 0, is the node's nvidia.com/gpu capacity.
	GPUs int
	// Labels are added to the node's own (kubernetes.io/hostname, os,
	// arch), e.g. a GPU product label.
	Labels map[string]string
}

// NodeAgent plays the kubelet of one node: it registers the Node and keeps
// its lease, runs each pod that the scheduler binds to the node as local
// processes (the first container's image mapped to a program through
// Images, with the container's command, args, working directory and
// resolved environment), writes the pod's status through its phases, serves
// the containers' logs over HTTPS for the API server's pods/log, and on
// deletion kills the processes and removes the pod, as the kubelet does.
type NodeAgent struct {
	Clientset kubernetes.Interface
	Node      NodeConfig
	Images    map[string]Image
	// BaseEnv is every pod process's environment before the image's and
	// the container's; nil means PATH and HOME from this process.
	BaseEnv []string
	// Dir holds the pods' sandboxes: working directory, TMPDIR and log.
	Dir string
	// ServerCert and ServerKey are the log server's certificate; ClientCA
	// is the CA its clients (the API server) must present a certificate
	// of.
	ServerCert, ServerKey, ClientCA string
	// Log receives what the agent does; nil discards it.
	Log io.Writer

	mu     sync.Mutex
	pods   map[types.UID]*podRun
	logs   map[string]*podRun // by namespace/pod/container
	wg     sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc
	server *logServer
	port   int
}

// podRun is one pod on the node.
type podRun struct {
	uid       types.UID
	namespace string
	name      string
	container string
	sandbox   string
	logPath   string
	// kill asks the pod's goroutine to stop its process with the grace
	// period sent; it is buffered so that the first request is never lost.
	kill chan time.Duration
	done chan struct{} // closed once the pod's goroutine is done
	// exited is set, under NodeAgent.mu, once the process has exited and
	// no kill is read any more: a deletion after it only needs removing.
	exited bool
}

func (a *NodeAgent) logf(format string, args ...any) {
	if a.Log != nil {
		fmt.Fprintf(a.Log, "node agent: "+format+"\n", args...)
	}
}

// Start serves the log endpoint, registers the node and starts following
// the pods bound to it. It returns once the node is registered and the pod
// informer is in sync. Stop undoes it.
func (a *NodeAgent) Start(ctx context.Context) error {
	a.ctx, a.cancel = context.WithCancel(context.WithoutCancel(ctx))
	a.pods, a.logs = map[types.UID]*podRun{}, map[string]*podRun{}
	srv, err := newLogServer(a)
	if err != nil {
		return err
	}
	a.server, a.port = srv, srv.port
	if err := a.register(ctx); err != nil {
		a.Stop()
		return err
	}
	a.wg.Go(a.renewLease)

	factory := informers.NewSharedInformerFactoryWithOptions(a.Clientset, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", NodeName).String()
	}))
	inf := factory.Core().V1().Pods().Informer()
	_, err = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { a.sync(o) },
		UpdateFunc: func(_, o any) { a.sync(o) },
		DeleteFunc: func(o any) {
			if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
				o = d.Obj
			}
			if p, ok := o.(*corev1.Pod); ok {
				a.gone(p)
			}
		},
	})
	if err != nil {
		a.Stop()
		return err
	}
	factory.Start(a.ctx.Done())
	a.wg.Go(func() { <-a.ctx.Done(); factory.Shutdown() })
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		a.Stop()
		return fmt.Errorf("kubecluster: the node agent's pod informer did not sync")
	}
	return nil
}

// Stop kills every pod's processes at once and waits for the agent's
// goroutines; it writes nothing more to the API, as a node that goes away
// would not.
func (a *NodeAgent) Stop() {
	if a.cancel == nil {
		return
	}
	a.cancel()
	if a.server != nil {
		a.server.close()
	}
	a.wg.Wait()
}

// register creates the Node, ready, with the log server's port as its
// kubelet endpoint, or updates it when it is left from an earlier agent.
func (a *NodeAgent) register(ctx context.Context) error {
	quantity := func(s, def string) (resource.Quantity, error) {
		if s == "" {
			s = def
		}
		return resource.ParseQuantity(s)
	}
	cpu, err := quantity(a.Node.CPU, "32")
	if err != nil {
		return fmt.Errorf("kubecluster: NodeConfig.CPU: %w", err)
	}
	mem, err := quantity(a.Node.Memory, "64Gi")
	if err != nil {
		return fmt.Errorf("kubecluster: NodeConfig.Memory: %w", err)
	}
	pods := a.Node.Pods
	if pods == 0 {
		pods = 110
	}
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:              cpu,
		corev1.ResourceMemory:           mem,
		corev1.ResourcePods:             *resource.NewQuantity(int64(pods), resource.DecimalSI),
		corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}
	if a.Node.GPUs > 0 {
		capacity["nvidia.com/gpu"] = *resource.NewQuantity(int64(a.Node.GPUs), resource.DecimalSI)
	}
	labels := map[string]string{
		corev1.LabelHostname:   NodeName,
		corev1.LabelOSStable:   "linux",
		corev1.LabelArchStable: runtime.GOARCH,
	}
	maps.Copy(labels, a.Node.Labels)
	now := metav1.Now()
	cond := func(t corev1.NodeConditionType, s corev1.ConditionStatus, reason string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: t, Status: s, Reason: reason, LastHeartbeatTime: now, LastTransitionTime: now}
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: NodeName, Labels: labels},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity.DeepCopy(),
			Conditions: []corev1.NodeCondition{
				cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory"),
				cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure"),
				cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID"),
				cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady"),
			},
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: loopback},
				{Type: corev1.NodeHostName, Address: NodeName},
			},
			DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(a.port)}},
			NodeInfo: corev1.NodeSystemInfo{
				KubeletVersion: KubernetesVersion, OperatingSystem: "linux", Architecture: runtime.GOARCH,
				ContainerRuntimeVersion: "kubecluster://1", OSImage: "kubecluster node agent",
			},
		},
	}
	nodes := a.Clientset.CoreV1().Nodes()
	created, err := nodes.Create(ctx, node, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		created, err = nodes.Get(ctx, NodeName, metav1.GetOptions{})
	}
	if err != nil {
		return fmt.Errorf("kubecluster: registering node %s: %w", NodeName, err)
	}
	// Status is not taken on create: set it.
	created.Status = node.Status
	if _, err = nodes.UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("kubecluster: node %s status: %w", NodeName, err)
	}
	// The API server taints a new node not-ready (TaintNodesByCondition);
	// the node lifecycle controller, which this cluster does not run,
	// lifts the taint once the node reports Ready.
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := nodes.Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		taints := n.Spec.Taints[:0]
		for _, t := range n.Spec.Taints {
			if t.Key != corev1.TaintNodeNotReady {
				taints = append(taints, t)
			}
		}
		n.Spec.Taints = taints
		_, err = nodes.Update(ctx, n, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("kubecluster: lifting node %s's not-ready taint: %w", NodeName, err)
	}
	a.logf("registered node %s, logs on port %d", NodeName, a.port)
	return nil
}

// renewLease keeps the node's lease in kube-node-lease fresh, as the
// kubelet's heartbeat does.
func (a *NodeAgent) renewLease() {
	leases := a.Clientset.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	for {
		now := metav1.NewMicroTime(time.Now())
		lease, err := leases.Get(a.ctx, NodeName, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			_, err = leases.Create(a.ctx, &coordinationv1.Lease{
				ObjectMeta: metav1.ObjectMeta{Name: NodeName},
				Spec: coordinationv1.LeaseSpec{
					HolderIdentity: ptr(NodeName), LeaseDurationSeconds: ptr(int32(leaseSeconds)), RenewTime: &now,
				},
			}, metav1.CreateOptions{})
		case err == nil:
			lease.Spec.RenewTime = &now
			_, err = leases.Update(a.ctx, lease, metav1.UpdateOptions{})
		}
		if err != nil && a.ctx.Err() == nil {
			a.logf("renewing the node lease: %v", err)
		}
		select {
		case <-a.ctx.Done():
			return
		case <-time.After(10 * time.Second):
		}
	}
}

// sync acts on a pod's latest state: starts the pods it has not run,
// stops the ones being deleted and finishes their deletion.
func (a *NodeAgent) sync(o any) {
	p, ok := o.(*corev1.Pod)
	if !ok || a.ctx.Err() != nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	run := a.pods[p.UID]
	switch {
	case run == nil && p.DeletionTimestamp != nil:
		// Deleted before it ran, or after the agent forgot it: nothing
		// runs, so the deletion can complete.
		a.wg.Go(func() { a.remove(p) })
	case run == nil && (p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed):
		// Finished under an earlier agent.
	case run == nil:
		run = &podRun{
			uid: p.UID, namespace: p.Namespace, name: p.Name, kill: make(chan time.Duration, 1), done: make(chan struct{}),
			sandbox: filepath.Join(a.Dir, string(p.UID)),
		}
		run.logPath = filepath.Join(run.sandbox, "container.log")
		if len(p.Spec.Containers) > 0 {
			run.container = p.Spec.Containers[0].Name
		}
		a.pods[p.UID] = run
		a.logs[p.Namespace+"/"+p.Name+"/"+run.container] = run
		a.wg.Go(func() { a.run(run, p.DeepCopy()) })
	case p.DeletionTimestamp != nil && run.exited:
		// Its process has exited: nothing is left to stop.
		a.wg.Go(func() { a.remove(p) })
	case p.DeletionTimestamp != nil:
		grace := defaultGrace
		if p.DeletionGracePeriodSeconds != nil {
			grace = time.Duration(*p.DeletionGracePeriodSeconds) * time.Second
		}
		select {
		case run.kill <- grace:
		default:
		}
	}
}

// gone handles a pod removed from the API: its process, if still running,
// is killed at once, and the agent forgets it.
func (a *NodeAgent) gone(p *corev1.Pod) {
	a.mu.Lock()
	defer a.mu.Unlock()
	run := a.pods[p.UID]
	if run == nil {
		return
	}
	select {
	case run.kill <- 0:
	default:
	}
	delete(a.pods, p.UID)
	key := p.Namespace + "/" + p.Name + "/" + run.container
	if a.logs[key] == run {
		delete(a.logs, key)
	}
	a.wg.Go(func() {
		<-run.done
		_ = os.RemoveAll(run.sandbox)
	})
}

// run is the life of one pod: Pending while its container is created,
// Running while its process runs, then Succeeded or Failed with the exit
// code; a pod being deleted is killed (SIGTERM, then SIGKILL after its
// grace period), marked Failed and removed.
func (a *NodeAgent) run(run *podRun, pod *corev1.Pod) {
	defer close(run.done)
	ctx := a.ctx
	if err := os.MkdirAll(filepath.Join(run.sandbox, "tmp"), 0o755); err != nil {
		a.logf("pod %s/%s: %v", pod.Namespace, pod.Name, err)
		return
	}
	if len(pod.Spec.Containers) == 0 {
		return
	}
	c := pod.Spec.Containers[0]
	a.setStatus(pod, corev1.PodPending, corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}, nil)

	// The container cannot be created until its image is known and its
	// environment resolves; the kubelet keeps trying, and so does this.
	var (
		argv, env []string
		waiting   *corev1.ContainerStateWaiting
	)
	for {
		argv, env, waiting = a.prepare(ctx, pod, &c, run)
		if waiting == nil {
			break
		}
		a.setStatus(pod, corev1.PodPending, corev1.ContainerState{Waiting: waiting}, nil)
		select {
		case <-ctx.Done():
			return
		case <-run.kill:
			a.remove(pod)
			return
		case <-time.After(2 * time.Second):
		}
	}

	logFile, err := os.Create(run.logPath)
	if err != nil {
		a.logf("pod %s/%s: %v", pod.Namespace, pod.Name, err)
		return
	}
	defer logFile.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, logFile, logFile
	cmd.Dir = c.WorkingDir
	if cmd.Dir == "" {
		cmd.Dir = run.sandbox
	}
	// Its own process group, so that a kill reaches what it starts too,
	// and killed with the agent's process if that dies first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	started := metav1.Now()
	if err := cmd.Start(); err != nil {
		a.mu.Lock()
		run.exited = true
		a.mu.Unlock()
		fmt.Fprintf(logFile, "%v\n", err)
		a.setStatus(pod, corev1.PodFailed, corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: 128, Reason: "StartError", Message: err.Error(), StartedAt: started, FinishedAt: metav1.Now(),
		}}, &started)
		return
	}
	a.logf("pod %s/%s: started %v (pid %d)", pod.Namespace, pod.Name, argv, cmd.Process.Pid)
	a.setStatus(pod, corev1.PodRunning, corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}}, &started)

	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	deleting := false
	select {
	case <-exited:
	case <-ctx.Done():
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		return
	case grace := <-run.kill:
		deleting = true
		a.terminate(cmd.Process.Pid, grace, exited)
	}
	a.mu.Lock()
	run.exited = true
	a.mu.Unlock()
	code := int32(cmd.ProcessState.ExitCode())
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		code = 128 + int32(ws.Signal())
	}
	term := &corev1.ContainerStateTerminated{ExitCode: code, Reason: "Completed", StartedAt: started, FinishedAt: metav1.Now()}
	phase := corev1.PodSucceeded
	if code != 0 {
		phase, term.Reason = corev1.PodFailed, "Error"
		if c.TerminationMessagePolicy == corev1.TerminationMessageFallbackToLogsOnError {
			if data, err := os.ReadFile(run.logPath); err == nil {
				term.Message = kubelet.TerminationMessage(data)
			}
		}
	}
	a.logf("pod %s/%s: exited with code %d", pod.Namespace, pod.Name, code)
	a.setStatus(pod, phase, corev1.ContainerState{Terminated: term}, &started)
	if !deleting {
		// A deletion that came as the process exited, before it was
		// marked so, is seen here; one after it, by sync.
		p, err := a.Clientset.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		deleting = err == nil && p.UID == pod.UID && p.DeletionTimestamp != nil
	}
	if deleting {
		a.remove(pod)
	}
}

// prepare resolves what runs the container: the program and its
// arguments, and its environment; or why it cannot be created yet, as the
// waiting state the kubelet reports.
func (a *NodeAgent) prepare(ctx context.Context, pod *corev1.Pod, c *corev1.Container, run *podRun) (argv, env []string, waiting *corev1.ContainerStateWaiting) {
	img, ok := a.Images[c.Image]
	if !ok || len(img.Entrypoint) == 0 && len(c.Command) == 0 {
		return nil, nil, &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: fmt.Sprintf(
			"image %q is not one that the kubecluster node agent maps to a local program", c.Image)}
	}
	// Docker's rules: command replaces the entrypoint (and drops the
	// image's CMD); args replace CMD.
	argv = slices.Clone(img.Entrypoint)
	args := img.Cmd
	if len(c.Command) > 0 {
		argv, args = slices.Clone(c.Command), nil
	}
	if len(c.Args) > 0 {
		args = c.Args
	}
	containerVars, err := containerEnv(ctx, a.Clientset, pod, c)
	if err != nil {
		return nil, nil, &corev1.ContainerStateWaiting{Reason: "CreateContainerConfigError", Message: err.Error()}
	}
	vars := map[string]string{}
	for _, kv := range containerVars {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	expanded := make([]string, 0, len(argv)+len(args))
	expanded = append(expanded, argv...)
	for _, s := range args {
		expanded = append(expanded, expand(s, vars))
	}
	base := a.BaseEnv
	if base == nil {
		base = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	}
	hostname := pod.Name
	if pod.Spec.Hostname != "" {
		hostname = pod.Spec.Hostname
	}
	env = append(env, base...)
	env = append(env, "HOSTNAME="+hostname, "TMPDIR="+filepath.Join(run.sandbox, "tmp"))
	env = append(env, img.Env...)
	env = append(env, containerVars...)
	return expanded, env, nil
}

// terminate stops a process group: SIGTERM, then SIGKILL once grace has
// passed; it returns when the process has exited.
func (a *NodeAgent) terminate(pid int, grace time.Duration, exited <-chan struct{}) {
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(grace):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-exited
	}
}

// remove completes a pod's deletion, as the kubelet does once its
// containers are gone: a delete with no grace period, for this pod's UID.
// The pod goes once its finalizers are removed (the Job controller's job
// tracking finalizer).
func (a *NodeAgent) remove(pod *corev1.Pod) {
	err := a.Clientset.CoreV1().Pods(pod.Namespace).Delete(a.ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr(int64(0)), Preconditions: metav1.NewUIDPreconditions(string(pod.UID)),
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) && a.ctx.Err() == nil {
		a.logf("pod %s/%s: deleting: %v", pod.Namespace, pod.Name, err)
	}
}

// setStatus writes the pod's phase and its first container's state, with
// the conditions that follow from them, keeping what others wrote (the
// scheduler's PodScheduled, the Job controller's, disruption conditions).
func (a *NodeAgent) setStatus(pod *corev1.Pod, phase corev1.PodPhase, state corev1.ContainerState, started *metav1.Time) {
	pods := a.Clientset.CoreV1().Pods(pod.Namespace)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		p, err := pods.Get(a.ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if p.UID != pod.UID || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			return nil // another pod of that name, or already final
		}
		now := metav1.Now()
		running := state.Running != nil
		initialized := state.Waiting == nil || state.Waiting.Reason != "ContainerCreating"
		setCondition(&p.Status, corev1.PodReadyToStartContainers, phase != corev1.PodPending || initialized, now)
		setCondition(&p.Status, corev1.PodInitialized, true, now)
		setCondition(&p.Status, corev1.ContainersReady, running, now)
		setCondition(&p.Status, corev1.PodReady, running, now)
		p.Status.Phase = phase
		p.Status.HostIP, p.Status.PodIP = loopback, loopback
		p.Status.HostIPs, p.Status.PodIPs = []corev1.HostIP{{IP: loopback}}, []corev1.PodIP{{IP: loopback}}
		if started != nil {
			p.Status.StartTime = started
		} else if p.Status.StartTime == nil {
			p.Status.StartTime = &now
		}
		c := pod.Spec.Containers[0]
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{
			Name: c.Name, Image: c.Image, ImageID: "kubecluster://" + c.Image, State: state,
			Ready: running, Started: ptr(running), ContainerID: "kubecluster://" + string(pod.UID),
		}}
		_, err = pods.UpdateStatus(a.ctx, p, metav1.UpdateOptions{})
		return err
	})
	if err != nil && !apierrors.IsNotFound(err) && a.ctx.Err() == nil {
		a.logf("pod %s/%s: status %s: %v", pod.Namespace, pod.Name, phase, err)
	}
}

func setCondition(s *corev1.PodStatus, t corev1.PodConditionType, ok bool, now metav1.Time) {
	status := corev1.ConditionFalse
	if ok {
		status = corev1.ConditionTrue
	}
	for i := range s.Conditions {
		if s.Conditions[i].Type == t {
			if s.Conditions[i].Status != status {
				s.Conditions[i].Status, s.Conditions[i].LastTransitionTime = status, now
			}
			return
		}
	}
	s.Conditions = append(s.Conditions, corev1.PodCondition{Type: t, Status: status, LastTransitionTime: now})
}

// logOf returns the pod run whose container's log is asked for.
func (a *NodeAgent) logOf(namespace, pod, container string) (*podRun, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	run := a.logs[namespace+"/"+pod+"/"+container]
	if run == nil || run.logPath == "" {
		return nil, errors.New("no such container on this node")
	}
	return run, nil
}

func ptr[T any](v T) *T { return &v }
