package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
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

func (c *cloudFlags) register(fs *flag.FlagSet) {
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

// start reads the input file, starts the run on the cluster and returns
// it, with a function that writes its output once it has succeeded and
// returns the file written.
func (c *cloudFlags) start(ctx context.Context, l model.Loader, spec modelSpec, deployed engine.Options, job engine.FileJob, opts engine.Options, stderr io.Writer) (*engine.Execution, func() ([]string, error), error) {
	var missing []string
	if c.image == "" {
		missing = append(missing, "--image (or $DFBATCH_IMAGE), the worker image")
	}
	if c.bucket == "" {
		missing = append(missing, "--bucket (or $DFBATCH_BUCKET), the staging bucket URL")
	}
	if len(missing) > 0 {
		return nil, nil, usageError{fmt.Errorf("--cloud needs %s", strings.Join(missing, " and "))}
	}
	if info, err := os.Stat(job.Source); err == nil && info.IsDir() {
		return nil, nil, usageError{fmt.Errorf("--cloud takes one input file; %s is a folder", job.Source)}
	}
	var format frame.Format // "": the backend's default, Parquet
	if c.stageFormat != "" {
		f, err := frame.ParseFormat(c.stageFormat)
		if err != nil {
			return nil, nil, usageError{fmt.Errorf("--stage-format: %w", err)}
		}
		format = f
	}
	in, err := readWhole(job)
	if err != nil {
		return nil, nil, usageError{err}
	}
	output, outFormat, err := cloudOutput(job)
	if err != nil {
		return nil, nil, usageError{err}
	}

	cs, namespace, err := connect(c.kubeconfig, c.kubeContext)
	if err != nil {
		return nil, nil, err
	}
	if c.namespace != "" {
		namespace = c.namespace
	}
	var args []string
	if c.workerModel != "" {
		args = []string{"worker", "--model", c.workerModel}
	} else {
		key, err := k8s.PutModel(ctx, c.bucket, spec.path)
		if err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(stderr, "model %s uploaded to %s as %s\n", spec.path, c.bucket, key)
		args = []string{"worker", "--model-object", key}
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
		return nil, nil, usageError{err}
	}
	opts.Cloud = true
	client := engine.NewClient(l, engine.WithDefaults(deployed), engine.WithBackend(backend))
	e, err := client.Start(ctx, in, opts)
	if err != nil {
		return nil, nil, usageError{err}
	}
	fmt.Fprintf(stderr, "execution %s: Job %s in namespace %s\n", e.ID(), jobName(e.ID()), namespace)
	return e, func() ([]string, error) {
		out, err := e.Wait()
		if err != nil {
			return nil, err
		}
		return []string{output}, writeWhole(output, outFormat, out)
	}, nil
}

func jobName(id string) string {
	name, err := k8s.JobName(id)
	if err != nil {
		return "?"
	}
	return name
}

// readWhole reads job's Source, a file of any format, into one
// frame, as job reads its inputs (FileJob.ReadOptions).
func readWhole(job engine.FileJob) (*frame.Frame, error) {
	path := job.Source
	format, err := frame.FormatOf(path)
	if err != nil {
		return nil, err
	}
	r, err := frame.OpenFile(path, format, job.ReadOptions(format)...)
	if err != nil {
		return nil, err
	}
	f, err := frame.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return f, nil
}

// cloudOutput is where a cloud run writes its output, as a local run of
// one file would: the --output file, or a file named after the input in
// the --output folder, in --format, else the output file's format, else
// the input's.
func cloudOutput(job engine.FileJob) (string, frame.Format, error) {
	inFormat, err := frame.FormatOf(job.Source)
	if err != nil {
		return "", "", err
	}
	output := job.Destination
	outFormat, err := frame.FormatOf(output)
	if info, serr := os.Stat(output); (serr == nil && info.IsDir()) || err != nil {
		outFormat = inFormat
		if job.OutputFormat != "" {
			outFormat = job.OutputFormat
		}
		if err := os.MkdirAll(output, 0o755); err != nil {
			return "", "", err
		}
		base := strings.TrimSuffix(filepath.Base(job.Source), filepath.Ext(job.Source))
		return filepath.Join(output, base+outFormat.Ext()), outFormat, nil
	}
	if job.OutputFormat != "" {
		outFormat = job.OutputFormat
	}
	return output, outFormat, nil
}

// writeWhole writes f to path, under a temporary name renamed into place
// once complete, so that path never holds part of the output.
func writeWhole(path string, format frame.Format, f *frame.Frame) error {
	partial := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".partial")
	w, err := frame.CreateFile(partial, format)
	if err != nil {
		return err
	}
	err = w.Write(f)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(partial, path)
	}
	if err != nil {
		os.Remove(partial)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
