package k8s

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	batchv1client "k8s.io/client-go/kubernetes/typed/batch/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
)

const (
	defaultLogLines = 20
	// stagingConcurrency bounds the object storage writes and reads in
	// flight at once.
	stagingConcurrency = 8
	// cleanupTimeout bounds deleting the Job and the staged objects after
	// the run's context has ended.
	cleanupTimeout = 30 * time.Second
)

// Clientset is the part of a Kubernetes clientset the backend uses. A
// *kubernetes.Clientset, client-go's fake clientset and what Connect
// returns all satisfy it; asking for no more keeps the other API groups'
// clients out of the programs that use the backend.
type Clientset interface {
	BatchV1() batchv1client.BatchV1Interface
	CoreV1() corev1client.CoreV1Interface
}

// Config configures a Backend.
type Config struct {
	// Clientset talks to the cluster; see Connect. Tests pass client-go's
	// fake clientset.
	Clientset Clientset
	// Bucket is the staging bucket URL (see OpenStage); mandatory. The
	// client and the worker pods must both be able to read and write it.
	Bucket string
	// Format is the format tasks are staged in; "" means Parquet.
	Format frame.Format
	// Job describes the Job and its worker pods: Namespace ("" means
	// "default"), Image, WorkerArgs, labels, GPU label and role annotation
	// keys. Its ExecutionID, StageBucket and StageFormat are set per run.
	Job JobConfig
	// KeepStage leaves each execution's staged objects in the bucket after
	// the run, for inspection; by default they are removed.
	KeepStage bool
	// LogLines is how many of a failed pod's last log lines its task's
	// error carries; 0 means 20.
	LogLines int
	// Logger receives the backend's logs; nil logs nothing.
	Logger *slog.Logger
}

// Backend runs engine jobs on Kubernetes: engine.WithBackend(backend) and
// Options.Cloud send a run here. Each run stages its tasks' rows in the
// bucket, creates one Indexed Job whose pods each run one task with the
// worker (see Worker), follows the Job and its pods through informers,
// reports each task's progress, and reads the outputs back in task order.
// A Backend is safe for concurrent use; each run has its own Job.
type Backend struct {
	cfg Config
}

// New returns a Backend, checking what every run needs.
func New(cfg Config) (*Backend, error) {
	var errs []error
	if cfg.Clientset == nil {
		errs = append(errs, errors.New("Config.Clientset is nil: pass one from k8s.Connect"))
	}
	if cfg.Bucket == "" {
		errs = append(errs, errors.New("Config.Bucket is empty: set the staging bucket URL (s3://, gs://, azblob:// or file://)"))
	}
	if cfg.Job.Image == "" {
		errs = append(errs, errors.New("Config.Job.Image is empty: set the worker image the pods run"))
	}
	if cfg.Format == "" {
		cfg.Format = frame.Parquet
	} else if f, err := frame.ParseFormat(string(cfg.Format)); err != nil {
		errs = append(errs, fmt.Errorf("Config.Format: %w", err))
	} else if err := stageable(f); err != nil {
		errs = append(errs, fmt.Errorf("Config.Format: %w", err))
	} else {
		cfg.Format = f
	}
	if cfg.LogLines < 0 {
		errs = append(errs, fmt.Errorf("Config.LogLines must not be negative, got %d", cfg.LogLines))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("dfbatch/k8s: %w", errors.Join(errs...))
	}
	if cfg.Job.Namespace == "" {
		cfg.Job.Namespace = metav1.NamespaceDefault
	}
	if cfg.LogLines == 0 {
		cfg.LogLines = defaultLogLines
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Backend{cfg: cfg}, nil
}

// Run implements engine.Backend. It stages the tasks' rows as the run
// hands them out, releasing each once it is written, then creates the Job
// and hands each task's output back to the run as it comes, in task
// order, holding one at a time. When ctx is cancelled it deletes the Job
// with foreground propagation, so its pods are gone when the deletion
// completes. Unless Config.KeepStage, the staged objects are removed
// however the run ends.
func (b *Backend) Run(ctx context.Context, run *engine.Run) error {
	o := run.Options()
	jc := b.cfg.Job
	jc.ExecutionID, jc.StageBucket, jc.StageFormat = run.ID(), b.cfg.Bucket, b.cfg.Format
	// The options first: nothing is staged for a run the cluster could
	// not take.
	if _, _, err := Manifests(jc, 1, o); err != nil {
		return err
	}
	stage, err := OpenStage(ctx, b.cfg.Bucket, run.ID(), b.cfg.Format)
	if err != nil {
		return err
	}
	defer stage.Close()
	if !b.cfg.KeepStage {
		defer func() {
			cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
			defer cancel()
			if rerr := stage.Remove(cleanup); rerr != nil {
				b.cfg.Logger.Warn("removing the staged objects", "execution", run.ID(), "stage", stage.URL(), "error", rerr)
			}
		}()
	}
	tasks, err := b.stageInputs(ctx, stage, run)
	if err != nil || len(tasks) == 0 {
		return err // no tasks (a resumed run had every output): no Job
	}
	manifest, account, err := Manifests(jc, len(tasks), o)
	if err != nil {
		return err
	}
	r := &remoteRun{backend: b, run: run, opts: o, tasks: tasks, manifest: manifest, stage: stage, changed: make(chan struct{}, 1)}
	stop, err := r.watch(ctx)
	if err != nil {
		return err
	}
	defer stop()
	if err := r.create(ctx, account); err != nil {
		return err
	}
	b.cfg.Logger.Info("dfbatch Job created", "execution", run.ID(), "job", manifest.Name, "namespace", manifest.Namespace,
		"tasks", len(tasks), "parallelism", *manifest.Spec.Parallelism, "stage", stage.URL())
	return r.follow(ctx)
}

// stageInputs writes the rows of every task the run hands out, several at
// once, releasing each task's rows once written, then the job manifest the
// workers read their task from. It returns the tasks in the order staged:
// a task's position is its Job completion index.
func (b *Backend) stageInputs(ctx context.Context, stage *Stage, run *engine.Run) ([]engine.Task, error) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(stagingConcurrency)
	var tasks []engine.Task
	for {
		t, rows, err := run.Next(gctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			if werr := g.Wait(); werr != nil {
				return nil, werr // the write that stopped the reading
			}
			return nil, err
		}
		slot := len(tasks)
		tasks = append(tasks, t)
		if len(tasks) == highCompletions+1 {
			// A streamed input's tasks are counted as they are read: stop
			// as soon as the Job they make is one the API would refuse.
			if errs := apiLimits(len(tasks), run.Options()); len(errs) > 0 {
				_ = g.Wait()
				return nil, fmt.Errorf("dfbatch/k8s: %w", errors.Join(errs...))
			}
		}
		g.Go(func() error {
			if err := stage.WriteInput(gctx, slot, t, rows); err != nil {
				return err
			}
			run.Release(t)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if len(tasks) == 0 {
		return nil, nil
	}
	return tasks, stage.WriteJob(ctx, tasks)
}

// CheckOptions implements engine.OptionsChecker: it builds the run's
// manifests, which checks the options, so that Client.Start refuses what
// the cluster could not run.
func (b *Backend) CheckOptions(tasks int, o engine.Options) error {
	jc := b.cfg.Job
	jc.ExecutionID, jc.StageBucket, jc.StageFormat = "check", b.cfg.Bucket, b.cfg.Format
	_, _, err := Manifests(jc, max(tasks, 1), o)
	return err
}

var (
	_ engine.Backend        = (*Backend)(nil)
	_ engine.OptionsChecker = (*Backend)(nil)
)
