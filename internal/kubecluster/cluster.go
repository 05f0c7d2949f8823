package kubecluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Versions of the control plane that tools/kube/build.sh builds.
const (
	KubernetesVersion = "v1.37.2"
	EtcdVersion       = "v3.7.3"
)

// BinEnv is the variable that names the folder of the control plane's
// binaries, as tools/kube/build.sh prints it.
const BinEnv = "DFBATCH_KUBE_BIN"

// Binaries are the programs Start runs from Config.BinDir.
var Binaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"}

// ErrNoBinaries is returned by Start when Config.BinDir lacks a binary.
var ErrNoBinaries = errors.New("the control plane's binaries are missing: run tools/kube/build.sh and set " + BinEnv + " to the folder it prints")

// Config configures a cluster.
type Config struct {
	// BinDir holds Binaries; "" means $DFBATCH_KUBE_BIN.
	BinDir string
	// Dir holds the cluster's state, certificates, logs and the pods'
	// sandboxes; "" means a temporary folder that Stop removes.
	Dir string
	// Images are the images the node agent runs, by image name.
	Images map[string]Image
	// Node is the node the agent registers.
	Node NodeConfig
	// PodEnv is every pod process's base environment; nil means PATH and
	// HOME.
	PodEnv []string
	// Log receives progress and, when a component fails, its log's end;
	// nil discards them.
	Log io.Writer
}

// Cluster is a running control plane (etcd, kube-apiserver,
// kube-controller-manager with the controllers a Job needs,
// kube-scheduler) on loopback, with one node played by a NodeAgent.
type Cluster struct {
	// Dir holds the state, the logs (<component>.log) and Kubeconfig.
	Dir string
	// Kubeconfig is an admin (system:masters) kubeconfig file.
	Kubeconfig string
	// Config and Clientset talk to the API server as admin.
	Config    *rest.Config
	Clientset *kubernetes.Clientset
	// Agent is the node.
	Agent *NodeAgent

	pki       *pki
	server    string
	removeDir bool
	log       io.Writer
	procs     []*component
	agentLog  string
	closers   []io.Closer
	stopOnce  sync.Once
}

// component is one control plane process.
type component struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
}

// Start starts the control plane and the node agent and returns once the
// API server is ready, the node is registered and the controllers have
// created the default namespace's service account. Stop ends it all,
// also when Start fails part way.
func Start(ctx context.Context, cfg Config) (c *Cluster, err error) {
	bin := cfg.BinDir
	if bin == "" {
		bin = os.Getenv(BinEnv)
	}
	var missing []string
	for _, b := range Binaries {
		if info, err := os.Stat(filepath.Join(bin, b)); err != nil || info.IsDir() {
			missing = append(missing, b)
		}
	}
	if bin == "" || len(missing) > 0 {
		return nil, fmt.Errorf("kubecluster: %w (%s=%q lacks %s)", ErrNoBinaries, BinEnv, bin, strings.Join(missing, ", "))
	}
	cl := &Cluster{Dir: cfg.Dir, log: cfg.Log}
	c = cl
	if c.log == nil {
		c.log = io.Discard
	}
	if c.Dir == "" {
		if c.Dir, err = os.MkdirTemp("", "kubecluster-"); err != nil {
			return nil, err
		}
		c.removeDir = true
	}
	defer func() {
		if err != nil {
			cl.Stop()
		}
	}()
	begin := time.Now()
	pkiDir := filepath.Join(c.Dir, "pki")
	if err := os.MkdirAll(pkiDir, 0o700); err != nil {
		return nil, err
	}
	if c.pki, err = newPKI(pkiDir); err != nil {
		return nil, err
	}
	ports, err := freePorts(5)
	if err != nil {
		return nil, err
	}
	etcdPort, peerPort, apiPort, cmPort, schedPort := ports[0], ports[1], ports[2], ports[3], ports[4]

	etcdURL := "http://" + net.JoinHostPort(loopback, strconv.Itoa(etcdPort))
	peerURL := "http://" + net.JoinHostPort(loopback, strconv.Itoa(peerPort))
	if err := c.start(filepath.Join(bin, "etcd"), "etcd",
		"--name=default", "--data-dir="+filepath.Join(c.Dir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=default="+peerURL,
		// The data is thrown away with the cluster: no fsync, which is
		// most of etcd's time on a busy disk.
		"--unsafe-no-fsync", "--log-level=warn",
	); err != nil {
		return nil, err
	}
	if err := c.waitHTTP(ctx, "etcd", etcdURL+"/health", http.DefaultClient); err != nil {
		return nil, err
	}

	serverCert, serverKey, err := c.pki.issue("apiserver", "kube-apiserver", nil, true)
	if err != nil {
		return nil, err
	}
	adminCert, adminKey, err := c.pki.issue("admin", "kubecluster-admin", []string{"system:masters"}, false)
	if err != nil {
		return nil, err
	}
	kubeletClientCert, kubeletClientKey, err := c.pki.issue("apiserver-kubelet-client", "kube-apiserver-kubelet-client", []string{"system:masters"}, false)
	if err != nil {
		return nil, err
	}
	c.server = "https://" + net.JoinHostPort(loopback, strconv.Itoa(apiPort))
	if err := c.start(filepath.Join(bin, "kube-apiserver"), "kube-apiserver",
		"--etcd-servers="+etcdURL,
		"--bind-address="+loopback, "--advertise-address="+loopback, "--secure-port="+strconv.Itoa(apiPort),
		"--tls-cert-file="+serverCert, "--tls-private-key-file="+serverKey,
		"--client-ca-file="+c.pki.CAFile,
		// The controller manager's and scheduler's delegated
		// authentication reads this CA from the API server; without it they
		// log an error every few seconds.
		"--requestheader-client-ca-file="+c.pki.CAFile,
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+c.pki.path("sa.pub"),
		"--service-account-signing-key-file="+c.pki.path("sa.key"),
		// Service IPs are allocated and never routed: nothing here sends
		// traffic to them.
		"--service-cluster-ip-range=10.96.0.0/16",
		"--endpoint-reconciler-type=none",
		"--authorization-mode=RBAC",
		// pods/log: the API server calls the node agent's log server
		// with this client certificate and checks its serving one.
		"--kubelet-client-certificate="+kubeletClientCert, "--kubelet-client-key="+kubeletClientKey,
		"--kubelet-certificate-authority="+c.pki.CAFile,
		"--kubelet-preferred-address-types=InternalIP",
		"--cert-dir="+filepath.Join(c.Dir, "apiserver"),
		"--profiling=false",
	); err != nil {
		return nil, err
	}
	c.Config = &rest.Config{
		Host:            c.server,
		TLSClientConfig: rest.TLSClientConfig{CAFile: c.pki.CAFile, CertFile: adminCert, KeyFile: adminKey},
		QPS:             100, Burst: 200,
	}
	if c.Clientset, err = kubernetes.NewForConfig(c.Config); err != nil {
		return nil, err
	}
	if err := c.waitReady(ctx); err != nil {
		return nil, err
	}
	c.Kubeconfig = filepath.Join(c.Dir, "admin.kubeconfig")
	if err := writeKubeconfig(c.Kubeconfig, c.server, c.pki.CAFile, "kubecluster-admin", &clientcmdapi.AuthInfo{
		ClientCertificate: adminCert, ClientKey: adminKey,
	}, "default"); err != nil {
		return nil, err
	}

	if err := c.start(filepath.Join(bin, "kube-controller-manager"), "kube-controller-manager",
		"--kubeconfig="+c.Kubeconfig,
		"--authentication-kubeconfig="+c.Kubeconfig, "--authorization-kubeconfig="+c.Kubeconfig,
		"--bind-address="+loopback, "--secure-port="+strconv.Itoa(cmPort),
		"--leader-elect=false",
		// What a Job needs, and nothing else on 2 cores: the Job
		// controller; the garbage collector, for foreground deletion and
		// the Job-owned service account; namespaces and their default
		// service account; finished Jobs' TTL.
		"--controllers=job-controller,garbage-collector-controller,namespace-controller,serviceaccount-controller,ttl-after-finished-controller",
		"--service-account-private-key-file="+c.pki.path("sa.key"),
		"--root-ca-file="+c.pki.CAFile,
		"--use-service-account-credentials=false",
		"--cert-dir="+filepath.Join(c.Dir, "controller-manager"),
	); err != nil {
		return nil, err
	}
	if err := c.start(filepath.Join(bin, "kube-scheduler"), "kube-scheduler",
		"--kubeconfig="+c.Kubeconfig,
		"--authentication-kubeconfig="+c.Kubeconfig, "--authorization-kubeconfig="+c.Kubeconfig,
		"--bind-address="+loopback, "--secure-port="+strconv.Itoa(schedPort),
		"--leader-elect=false",
		"--cert-dir="+filepath.Join(c.Dir, "scheduler"),
	); err != nil {
		return nil, err
	}

	agentCert, agentKey, err := c.pki.issue("node-agent", "system:node:"+NodeName, []string{"system:nodes"}, true)
	if err != nil {
		return nil, err
	}
	podsDir := filepath.Join(c.Dir, "pods")
	if err := os.MkdirAll(podsDir, 0o755); err != nil {
		return nil, err
	}
	// The agent's log is kept with the components'.
	c.agentLog = filepath.Join(c.Dir, "node-agent.log")
	agentLog, err := os.Create(c.agentLog)
	if err != nil {
		return nil, err
	}
	c.closers = append(c.closers, agentLog)
	c.Agent = &NodeAgent{
		Clientset: c.Clientset, Node: cfg.Node, Images: cfg.Images, BaseEnv: cfg.PodEnv, Dir: podsDir,
		ServerCert: agentCert, ServerKey: agentKey, ClientCA: c.pki.CAFile, Log: &lockedWriter{w: agentLog},
	}
	if err := c.Agent.Start(ctx); err != nil {
		return nil, err
	}

	// The controller manager is ready once it has given the default
	// namespace its service account, the scheduler once it serves
	// /healthz.
	insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, Timeout: 5 * time.Second}
	defer insecure.CloseIdleConnections()
	if err := c.waitHTTP(ctx, "kube-scheduler", "https://"+net.JoinHostPort(loopback, strconv.Itoa(schedPort))+"/healthz", insecure); err != nil {
		return nil, err
	}
	if err := c.WaitServiceAccount(ctx, metav1.NamespaceDefault, "default"); err != nil {
		return nil, err
	}
	fmt.Fprintf(c.log, "kubecluster: Kubernetes %s (etcd %s) ready at %s in %s; kubeconfig %s\n",
		KubernetesVersion, EtcdVersion, c.server, time.Since(begin).Round(100*time.Millisecond), c.Kubeconfig)
	return c, nil
}

// start runs a component with its output in <Dir>/<name>.log.
func (c *Cluster) start(path, name string, args ...string) error {
	logPath := filepath.Join(c.Dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = f, f
	// Its own process group, and killed if this process dies first, so
	// that no component outlives the tests.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("kubecluster: starting %s: %w", name, err)
	}
	p := &component{name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	c.procs = append(c.procs, p)
	return nil
}

// failed returns an error naming the first component that has exited,
// with the end of its log, or nil if all run.
func (c *Cluster) failed() error {
	for _, p := range c.procs {
		select {
		case <-p.exited:
			return fmt.Errorf("kubecluster: %s exited (%v); the end of %s:\n%s", p.name, p.cmd.ProcessState, p.logPath, c.tail(p.logPath, 30))
		default:
		}
	}
	return nil
}

func (c *Cluster) tail(path string, n int) string {
	data, _ := os.ReadFile(path)
	return string(lastLines(data, n))
}

// ComponentLogs returns the last n lines of each component's log, for a
// failed test to show.
func (c *Cluster) ComponentLogs(n int) string {
	var b strings.Builder
	for _, p := range c.procs {
		fmt.Fprintf(&b, "=== %s (%s)\n%s\n", p.name, p.logPath, c.tail(p.logPath, n))
	}
	if c.agentLog != "" {
		fmt.Fprintf(&b, "=== node agent (%s)\n%s\n", c.agentLog, c.tail(c.agentLog, n))
	}
	return b.String()
}

// poll calls check every interval until it returns true or an error, a
// component exits, or ctx ends; what reports an unready state is the last
// error check returned.
func (c *Cluster) poll(ctx context.Context, what string, timeout time.Duration, check func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		if err := c.failed(); err != nil {
			return false, err
		}
		ok, err := check(ctx)
		last = err
		return ok, nil
	})
	if err != nil {
		if ferr := c.failed(); ferr != nil {
			return ferr
		}
		return fmt.Errorf("kubecluster: %s not ready after %s (last: %v): %w\n%s", what, timeout, last, err, c.ComponentLogs(15))
	}
	return nil
}

func (c *Cluster) waitHTTP(ctx context.Context, what, url string, client *http.Client) error {
	return c.poll(ctx, what, time.Minute, func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return false, err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false, fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(body))
		}
		return true, nil
	})
}

// waitReady waits for the API server's /readyz.
func (c *Cluster) waitReady(ctx context.Context) error {
	return c.poll(ctx, "kube-apiserver", 2*time.Minute, func(ctx context.Context) (bool, error) {
		body, err := c.Clientset.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			return false, fmt.Errorf("%w: %s", err, body)
		}
		return true, nil
	})
}

// WaitServiceAccount waits until the service account exists, as the
// service account controller creates "default" in each new namespace;
// pods that name it cannot be created before.
func (c *Cluster) WaitServiceAccount(ctx context.Context, namespace, name string) error {
	return c.poll(ctx, "service account "+namespace+"/"+name, time.Minute, func(ctx context.Context) (bool, error) {
		_, err := c.Clientset.CoreV1().ServiceAccounts(namespace).Get(ctx, name, metav1.GetOptions{})
		return err == nil, err
	})
}

// CreateNamespace creates a namespace and waits for its default service
// account.
func (c *Cluster) CreateNamespace(ctx context.Context, name string) error {
	_, err := c.Clientset.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("kubecluster: creating namespace %s: %w", name, err)
	}
	return c.WaitServiceAccount(ctx, name, "default")
}

// ServiceAccountKubeconfig writes a kubeconfig that authenticates as the
// service account namespace/name with a token the API issues for it (valid
// for an hour), with namespace as its context's namespace, and returns its
// path. It is how a client runs under the account's RBAC, not as admin.
func (c *Cluster) ServiceAccountKubeconfig(ctx context.Context, namespace, name string) (string, error) {
	tr, err := c.Clientset.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, &authnTokenRequest, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("kubecluster: a token for service account %s/%s: %w", namespace, name, err)
	}
	path := filepath.Join(c.Dir, "sa-"+namespace+"-"+name+".kubeconfig")
	user := "system:serviceaccount:" + namespace + ":" + name
	return path, writeKubeconfig(path, c.server, c.pki.CAFile, user, &clientcmdapi.AuthInfo{Token: tr.Status.Token}, namespace)
}

// authnTokenRequest asks for a service account token valid for an hour.
var authnTokenRequest = authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr(int64(3600))}}

// lockedWriter serializes writes from the agent's goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func writeKubeconfig(path, server, caFile, user string, auth *clientcmdapi.AuthInfo, namespace string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["kubecluster"] = &clientcmdapi.Cluster{Server: server, CertificateAuthority: caFile}
	cfg.AuthInfos[user] = auth
	cfg.Contexts["kubecluster"] = &clientcmdapi.Context{Cluster: "kubecluster", AuthInfo: user, Namespace: namespace}
	cfg.CurrentContext = "kubecluster"
	return clientcmd.WriteToFile(*cfg, path)
}

// Stop stops the node agent (killing the pods' processes), then the
// components, each with SIGTERM and, after 10 s, SIGKILL, and removes Dir
// when Start made it. It may be called more than once.
func (c *Cluster) Stop() {
	c.stopOnce.Do(func() {
		if c.Agent != nil {
			c.Agent.Stop()
		}
		for i := len(c.procs) - 1; i >= 0; i-- {
			p := c.procs[i]
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-p.exited:
			case <-time.After(10 * time.Second):
				_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
				<-p.exited
			}
		}
		for _, cl := range c.closers {
			_ = cl.Close()
		}
		if c.removeDir {
			_ = os.RemoveAll(c.Dir)
		}
	})
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", net.JoinHostPort(loopback, "0"))
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
