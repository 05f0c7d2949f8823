package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/engine/k8s"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
)

// connect finds the cluster; tests replace it with client-go's fake
// clientset.
var connect = k8s.Connect

// cloudFlags are the flags of `dfbatch run --cloud`.
type cloudFlags struct {
	enabled        bool
	image          string
	bucket         string
	namespace      string
	kubeconfig     string
	kubeContext    string
	workerModel    string
	pullPolicy     string
	serviceAccount string
	gpuLabel       string
	roleAnnotation string
	stageFormat    string
	keepStage      bool
}

func (c *cloudFlags) register(fs *commandFlags) {
	fs.BoolVar(&c.enabled, "cloud", false, "run on Kubernetes: one Job whose pods score the tasks (needs --image and --bucket)")
	fs.StringVar(&c.image, "image", os.Getenv("DFBATCH_IMAGE"), "--cloud: worker image whose entrypoint is dfbatch (deploy/Dockerfile); default $DFBATCH_IMAGE")
	fs.StringVar(&c.bucket, "bucket", os.Getenv("DFBATCH_BUCKET"), "--cloud: staging bucket URL, s3://, gs://, azblob:// or file://; default $DFBATCH_BUCKET")
	fs.StringVar(&c.namespace, "namespace", "", "--cloud: namespace of the Job (default: the kubeconfig context's, or the pod's in a cluster)")
	fs.StringVar(&c.kubeconfig, "kubeconfig", "", "--cloud: kubeconfig file (default $KUBECONFIG, then ~/.kube/config, then in-cluster)")
	fs.StringVar(&c.kubeContext, "kube-context", "", "--cloud: kubeconfig context (default: the current one)")
	fs.StringVar(&c.workerModel, "worker-model", "", "--cloud: the model's path inside the image; default: --model is uploaded to the bucket under models/")
	fs.StringVar(&c.pullPolicy, "image-pull-policy", "", "--cloud: Always, IfNotPresent or Never (default: the cluster's)")
	fs.StringVar(&c.serviceAccount, "service-account", "", "--cloud: service account of the pods when no IAM role is set (default: the namespace's)")
	fs.StringVar(&c.gpuLabel, "gpu-label", "", "--cloud: node label that --gpu-type selects on (default "+k8s.DefaultGPUTypeLabel+")")
	fs.StringVar(&c.roleAnnotation, "role-annotation", "", "--cloud: service account annotation of the IAM role (default "+k8s.DefaultRoleAnnotation+")")
	fs.StringVar(&c.stageFormat, "stage-format", "", "--cloud: format of the staged batches: parquet, arrow or csv (default parquet)")
	fs.BoolVar(&c.keepStage, "keep-stage", false, "--cloud: keep the staged batches in the bucket after the run")
}

// client returns a client whose Options.Cloud runs go to the cluster: it
// checks the flags, connects, uploads the model unless the image holds it
// (--worker-model), and configures the Kubernetes backend. It also
// returns the Job's namespace.
func (c *cloudFlags) client(ctx context.Context, l model.Loader, spec modelSpec, deployed engine.Options, stderr io.Writer) (*engine.Client, string, error) {
	var missing []string
	if c.image == "" {
		missing = append(missing, "--image (or $DFBATCH_IMAGE), the worker image")
	}
	if c.bucket == "" {
		missing = append(missing, "--bucket (or $DFBATCH_BUCKET), the staging bucket URL")
	}
	if len(missing) > 0 {
		return nil, "", usageError{fmt.Errorf("--cloud needs %s", strings.Join(missing, " and "))}
	}
	if spec.command != "" && c.workerModel != "" {
		return nil, "", usageError{fmt.Errorf("--worker-model names an ONNX model in the image; a --command runs from the image as given")}
	}
	var format frame.Format // "": the backend's default, Parquet
	if c.stageFormat != "" {
		f, err := frame.ParseFormat(c.stageFormat)
		if err != nil {
			return nil, "", usageError{fmt.Errorf("--stage-format: %w", err)}
		}
		format = f
	}
	cs, namespace, err := connect(c.kubeconfig, c.kubeContext)
	if err != nil {
		return nil, "", err
	}
	if c.namespace != "" {
		namespace = c.namespace
	}
	args := []string{"worker"} // a --command is in the image
	switch {
	case spec.command != "":
	case c.workerModel != "":
		args = append(args, "--model", c.workerModel)
	default:
		key, err := k8s.PutModel(ctx, c.bucket, spec.path)
		if err != nil {
			return nil, "", err
		}
		fmt.Fprintf(stderr, "model %s uploaded to %s as %s\n", spec.path, c.bucket, key)
		args = append(args, "--model-object", key)
	}
	backend, err := k8s.New(k8s.Config{
		Clientset: cs, Bucket: c.bucket, Format: format, KeepStage: c.keepStage,
		// Warnings only, such as pods no node can take yet.
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Job: k8s.JobConfig{
			Namespace: namespace, Image: c.image, ImagePullPolicy: corev1.PullPolicy(c.pullPolicy),
			WorkerArgs: append(args, spec.bindingArgs()...), ServiceAccount: c.serviceAccount,
			GPUTypeLabel: c.gpuLabel, RoleAnnotation: c.roleAnnotation,
		},
	})
	if err != nil {
		return nil, "", usageError{err}
	}
	return engine.NewClient(l, engine.WithDefaults(deployed), engine.WithBackend(backend)), namespace, nil
}

func jobName(id string) string {
	name, err := k8s.JobName(id)
	if err != nil {
		return "?"
	}
	return name
}
