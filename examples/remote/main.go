// Remote runs a batch on Kubernetes as examples/quickstart runs one
// locally: 1000 rows of two integer columns, batch 50, 5 executors,
// attribute=customer_a, with Cloud set. Its Go model also names the pod that
// scored each row, and this one binary is both the client and, inside the
// Job's pods, the worker.
//
// With no flags it runs on an in-process stand-in for a cluster, so that it
// runs anywhere: client-go's fake clientset, with k8stest's Kubelet playing
// the Job controller and the kubelet (each pod runs this program's worker
// in a goroutine, with the pod's environment), and a file:// bucket. It
// says so when it starts.
//
//	go run ./examples/remote
//
// On a real cluster, build this program into an image whose entrypoint it
// is (deploy/Dockerfile, with ./examples/remote in its go build line), push
// it, apply deploy/rbac.yaml, and run it with the image and a bucket that
// both you and the pods can write:
//
//	go run ./examples/remote -image registry.example.com/remote:1 -bucket s3://my-bucket/dfbatch?region=eu-west-1
//
// It uses your kubeconfig ($KUBECONFIG or ~/.kube/config), or the pod's
// service account when it runs in the cluster itself.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	_ "gocloud.dev/blob/s3blob" // the bucket drivers this program's -bucket may name

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/engine/k8s"
	"github.com/dfbatch/dfbatch/engine/k8s/k8stest"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
)

// predict is the model: it reads its parameter as the reference's models
// read os.getenv("attribute", "default_customer"). In a pod the parameter is
// a real environment variable as well.
func predict(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
	customer, ok := model.LookupEnv(ctx, "attribute")
	if !ok {
		customer = "default_customer"
	}
	a, err := in.Int64Col("A")
	if err != nil {
		return nil, err
	}
	b, err := in.Int64Col("B")
	if err != nil {
		return nil, err
	}
	scores := make([]float64, in.NumRows())
	customers := make([]string, in.NumRows())
	hosts := make([]string, in.NumRows())
	host, _ := os.Hostname()
	for i := range scores {
		scores[i] = float64(a.Value(i)*10+b.Value(i)) / 99
		customers[i] = customer
		hosts[i] = host
	}
	return in.WithColumns(frame.Float64s("score", scores), frame.Strings("customer", customers), frame.Strings("scored_on", hosts))
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if k8s.InWorkerPod() {
		// This process is a pod of the Job: score its task and exit. The
		// worker has logged the error for the client to report.
		if err := k8s.RunWorker(ctx, model.Func(predict)); err != nil {
			stop()
			os.Exit(1)
		}
		return
	}
	if err := runClient(ctx); err != nil {
		stop()
		log.Fatal(err)
	}
}

// runClient is the client side: it runs the example on the cluster.
func runClient(ctx context.Context) error {
	image := flag.String("image", "", "worker image (this program); empty runs on an in-process fake cluster")
	bucket := flag.String("bucket", "", "staging bucket URL, e.g. s3://bucket/prefix; with the fake cluster, a temporary file:// bucket")
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig file (default $KUBECONFIG, ~/.kube/config, or in-cluster)")
	namespace := flag.String("namespace", "", "namespace of the Job (default: the kubeconfig context's)")
	flag.Parse()

	var (
		cs k8s.Clientset
		ns string
	)
	if *image == "" {
		fmt.Println("no -image: running on an in-process fake cluster (client-go's fake clientset, k8stest's Kubelet)")
		var cleanup func()
		var err error
		if cs, ns, *image, *bucket, cleanup, err = fakeCluster(ctx); err != nil {
			return err
		}
		defer cleanup()
	} else {
		var err error
		if cs, ns, err = k8s.Connect(*kubeconfig, ""); err != nil {
			return err
		}
	}
	if *namespace != "" {
		ns = *namespace
	}
	backend, err := k8s.New(k8s.Config{Clientset: cs, Bucket: *bucket, Job: k8s.JobConfig{Namespace: ns, Image: *image}})
	if err != nil {
		return err
	}

	rng := rand.New(rand.NewPCG(1, 2))
	a, b := make([]int64, 1000), make([]int64, 1000)
	for i := range a {
		a[i], b[i] = rng.Int64N(10), rng.Int64N(10)
	}
	in, err := frame.New(frame.Int64s("A", a), frame.Int64s("B", b))
	if err != nil {
		return err
	}
	client := engine.NewClient(model.Func(predict), engine.WithBackend(backend))
	execution, err := client.Start(ctx, in, engine.Options{
		BatchSize: 50, Executors: 5, CPUs: 1, Memory: 512,
		Parameters: map[string]string{"attribute": "customer_a"},
		Retries:    1,
		Cloud:      true,
	})
	if err != nil {
		return err
	}
	name, _ := k8s.JobName(execution.ID())
	fmt.Printf("Job %s in namespace %s\n", name, ns)
	// One line per 5 tasks finished, counted from the events themselves: a
	// cluster reports finished pods in bursts, and by the time one event of
	// a burst is read the status already counts the whole burst.
	finished := 0
	for ev := range execution.Events() {
		if ev.Kind != engine.TaskFinished {
			continue
		}
		if finished++; finished%5 == 0 {
			fmt.Printf("tasks %d/%d\n", finished, execution.Status().Tasks)
		}
	}
	out, err := execution.Wait()
	if err != nil {
		return err
	}
	report := execution.Report()
	inOrder := true
	outA, _ := out.Int64Col("A")
	for i := range a {
		inOrder = inOrder && outA.Value(i) == a[i]
	}
	fmt.Printf("execution:        %s (%s in %s)\n", execution.ID(), report.State, report.Duration.Round(time.Millisecond))
	fmt.Printf("tasks:            %d\n", report.Tasks)
	fmt.Printf("rows out:         %d\n", out.NumRows())
	fmt.Printf("order matches:    %t\n", inOrder)
	fmt.Println(out.Slice(0, 5).ToDataFrame())
	return nil
}

// fakeCluster starts the in-process stand-in for a cluster, whose pods run
// this program's worker with their environment, and returns its clientset,
// namespace, image and bucket, and a function that stops it and removes the
// bucket.
func fakeCluster(ctx context.Context) (cs k8s.Clientset, namespace, image, bucket string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "dfbatch-remote-bucket-")
	if err != nil {
		return nil, "", "", "", nil, err
	}
	fake := k8stest.NewClientset()
	cs = fake
	kubelet := &k8stest.Kubelet{Clientset: fake, Run: func(ctx context.Context, env map[string]string, log io.Writer) error {
		lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
		return k8s.Worker{Loader: model.Func(predict), LookupEnv: lookup, Log: log}.Run(ctx)
	}}
	if err := kubelet.Start(ctx); err != nil {
		os.RemoveAll(dir)
		return nil, "", "", "", nil, err
	}
	return cs, "default", "dfbatch-remote:fake", "file://" + filepath.ToSlash(dir), func() {
		kubelet.Stop()
		os.RemoveAll(dir)
	}, nil
}
