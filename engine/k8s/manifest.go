package k8s

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
)

// Defaults of JobConfig's configurable keys.
const (
	// DefaultGPUTypeLabel is the node label GPUType selects on: the one
	// NVIDIA's GPU feature discovery sets.
	DefaultGPUTypeLabel = "nvidia.com/gpu.product"
	// DefaultRoleAnnotation is the service account annotation that binds an
	// IAM role on EKS (IAM roles for service accounts).
	DefaultRoleAnnotation = "eks.amazonaws.com/role-arn"
	// GPUResource is the extended resource GPUs are requested as.
	GPUResource corev1.ResourceName = "nvidia.com/gpu"
)

// Labels the manifests carry.
const (
	LabelName      = "app.kubernetes.io/name"
	LabelExecution = "dfbatch.io/execution"
	appName        = "dfbatch"
)

// Environment variables the worker reads, besides the run's parameters and
// JOB_COMPLETION_INDEX, which Kubernetes sets itself in Indexed mode.
const (
	EnvExecutionID = "DFBATCH_EXECUTION_ID"
	// EnvStage is the staging bucket URL, as OpenStage takes it.
	EnvStage = "DFBATCH_STAGE"
	// EnvFormat is the format the tasks are staged in.
	EnvFormat      = "DFBATCH_FORMAT"
	EnvTasks       = "DFBATCH_TASKS"
	EnvBatchSize   = "DFBATCH_BATCH_SIZE"
	EnvTaskTimeout = "DFBATCH_TASK_TIMEOUT"
	EnvBuildID     = "DFBATCH_BUILD_ID"
	EnvCPUs        = "DFBATCH_CPUS"
	EnvMemory      = "DFBATCH_MEMORY_MIB"
	EnvGPUs        = "DFBATCH_GPUS"
	EnvGPUType     = "DFBATCH_GPU_TYPE"
	// EnvParameters lists the names of the variables that are the run's
	// parameters, comma-separated, so that the worker hands the model
	// exactly those as model.Parameters.
	EnvParameters = "DFBATCH_PARAMETERS"
	// EnvIndexFailures is how many pods of this index failed before this
	// one (from the pod's AnnotationIndexFailures), so the model sees
	// attempt = failures + 1 as in a local run.
	EnvIndexFailures = "DFBATCH_INDEX_FAILURES"
	EnvIndex         = "JOB_COMPLETION_INDEX"
	reservedPrefix   = "DFBATCH_"
)

// Labels and annotations the Job controller puts on an Indexed Job's pods.
const (
	LabelJobName            = "batch.kubernetes.io/job-name"
	LabelCompletionIndex    = "batch.kubernetes.io/job-completion-index"
	AnnotationIndexFailures = "batch.kubernetes.io/job-index-failure-count"
)

const (
	containerName = "worker"
	// ttlAfterFinished is how long a finished Job and its pods stay for
	// inspection before Kubernetes deletes them.
	ttlAfterFinished = 3600
	// maxNameLen is the longest Job name: the API server requires
	// "<name>-<completions-1>", the hostname of the Indexed Job's last pod,
	// to be a DNS-1123 label (63 characters), and an index has up to 10
	// digits (completions <= MaxInt32). Fixing the length for any
	// completions keeps JobName a function of the execution id alone.
	maxNameLen = validation.DNS1123LabelMaxLength - len("-2147483646")
	namePrefix = appName + "-"
)

// The API server's limits on an Indexed Job with backoffLimitPerIndex
// (k8s.io/kubernetes/pkg/apis/batch/validation), which every Job here is:
// validate refuses a run beyond them before anything is staged.
const (
	maxIndexedParallelism           = 100_000
	maxIndexedFailedIndexes         = 100_000
	highCompletions                 = 100_000
	maxHighCompletionsParallelism   = 10_000
	maxHighCompletionsFailedIndexes = 10_000
)

// JobConfig is the cluster side of a remote run: what Manifests needs besides
// the run's options and task count.
type JobConfig struct {
	// Namespace is the namespace of the Job and service account; "" leaves
	// it to the client that creates them (its default namespace).
	Namespace string
	// Image is the worker image the pods run; mandatory.
	Image string
	// ImagePullPolicy is the container's pull policy; "" for the cluster's
	// default (Always for :latest, IfNotPresent otherwise).
	ImagePullPolicy corev1.PullPolicy
	// WorkerArgs are the container's args, e.g. ["worker"] for the dfbatch
	// image, whose entrypoint is the dfbatch binary.
	WorkerArgs []string
	// ExecutionID identifies the run (engine.Execution.ID); mandatory. It
	// names the Job and service account and labels them and the pods.
	ExecutionID string
	// StageBucket is the staging bucket's URL, as given to OpenStage (a
	// gocloud.dev/blob URL such as "s3://bucket/dfbatch"): the worker opens
	// the execution's Stage there to read its task's input and write its
	// output. Mandatory; passed as DFBATCH_STAGE.
	StageBucket string
	// StageFormat is the format of the staged tasks; "" means Parquet.
	StageFormat frame.Format
	// GPUTypeLabel is the node label Options.GPUType selects on; "" for
	// DefaultGPUTypeLabel.
	GPUTypeLabel string
	// RoleAnnotation is the service account annotation Options.IAMRoleARN
	// is set as; "" for DefaultRoleAnnotation.
	RoleAnnotation string
	// ServiceAccount is an existing service account the pods run as when
	// Options.IAMRoleARN is unset; "" for the namespace's default.
	ServiceAccount string
	// Labels are extra labels on the Job, its pods and the service account.
	// They cannot override the app.kubernetes.io/name and
	// dfbatch.io/execution labels Manifests sets.
	Labels map[string]string
}

// Manifests builds the Kubernetes objects of a remote run of tasks tasks
// with options o (resolved, as engine.Execution.Options returns them): one
// batch/v1 Job in Indexed completion mode, one completion index per task,
// and, when o.IAMRoleARN is set, the ServiceAccount carrying the role that
// the Job's pods run as (nil otherwise). It makes no API calls.
//
// The Job runs min(o.Executors, tasks) pods at once, retries each index
// o.Retries times (backoffLimitPerIndex) and fails once more than
// o.MaxFailedTasks indexes have failed (maxFailedIndexes). o.JobTimeout is
// its active deadline; o.TaskTimeout is left to the worker
// (DFBATCH_TASK_TIMEOUT). o.Parameters are the container's environment
// variables, as they are.
func Manifests(cfg JobConfig, tasks int, o engine.Options) (*batchv1.Job, *corev1.ServiceAccount, error) {
	if err := validate(cfg, tasks, o); err != nil {
		return nil, nil, err
	}
	id, err := sanitizeID(cfg.ExecutionID)
	if err != nil {
		return nil, nil, err
	}
	name := namePrefix + id
	labels := maps.Clone(cfg.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelName] = appName
	labels[LabelExecution] = id

	resources, err := containerResources(o)
	if err != nil {
		return nil, nil, err
	}
	pod := corev1.PodSpec{
		RestartPolicy:      corev1.RestartPolicyNever,
		ServiceAccountName: cfg.ServiceAccount,
		Containers: []corev1.Container{{
			Name:            containerName,
			Image:           cfg.Image,
			ImagePullPolicy: cfg.ImagePullPolicy,
			Args:            slices.Clone(cfg.WorkerArgs),
			Env:             env(cfg, tasks, o),
			Resources:       resources,
			// A failed worker's last log lines become the pod's termination
			// message, which the client reports.
			TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
		}},
	}
	if o.GPUType != "" {
		key := cfg.GPUTypeLabel
		if key == "" {
			key = DefaultGPUTypeLabel
		}
		pod.NodeSelector = map[string]string{key: o.GPUType}
	}
	if o.GPUs > 0 {
		pod.Tolerations = []corev1.Toleration{{
			Key:      string(GPUResource),
			Operator: corev1.TolerationOpExists,
			Effect:   corev1.TaintEffectNoSchedule,
		}}
	}

	var sa *corev1.ServiceAccount
	if o.IAMRoleARN != "" {
		key := cfg.RoleAnnotation
		if key == "" {
			key = DefaultRoleAnnotation
		}
		sa = &corev1.ServiceAccount{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
			ObjectMeta: metav1.ObjectMeta{
				Name:        name,
				Namespace:   cfg.Namespace,
				Labels:      maps.Clone(labels),
				Annotations: map[string]string{key: o.IAMRoleARN},
			},
		}
		pod.ServiceAccountName = name
	}

	executors := max(o.Executors, 1)
	job := &batchv1.Job{
		TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      name,
			Namespace: cfg.Namespace,
			Labels:    maps.Clone(labels),
		},
		Spec: batchv1.JobSpec{
			CompletionMode: ptr(batchv1.IndexedCompletion),
			Completions:    ptr(int32(tasks)),
			Parallelism:    ptr(int32(min(executors, tasks))),
			// BackoffLimit stays unset: with backoffLimitPerIndex the API
			// defaults it to MaxInt32, and failures are counted per index.
			BackoffLimitPerIndex: ptr(int32(o.Retries)),
			// MaxFailedTasks 0 is not "unset" but "any failure stops the
			// run", so the field is always set; the API caps it at
			// completions.
			MaxFailedIndexes:        ptr(int32(min(o.MaxFailedTasks, tasks))),
			TTLSecondsAfterFinished: ptr(int32(ttlAfterFinished)),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: maps.Clone(labels)},
				Spec:       pod,
			},
		},
	}
	if o.JobTimeout > 0 {
		job.Spec.ActiveDeadlineSeconds = ptr(int64(math.Ceil(o.JobTimeout.Seconds())))
	}
	return job, sa, nil
}

// validate checks what Manifests needs, naming the offending field.
func validate(cfg JobConfig, tasks int, o engine.Options) error {
	var errs []error
	if tasks < 1 {
		errs = append(errs, fmt.Errorf("tasks must be >= 1, got %d", tasks))
	}
	if tasks > math.MaxInt32 {
		errs = append(errs, fmt.Errorf("tasks must be <= %d (the Job's completions), got %d", math.MaxInt32, tasks))
	}
	errs = append(errs, apiLimits(tasks, o)...)
	if cfg.Image == "" {
		errs = append(errs, errors.New("JobConfig.Image is empty: set the worker image the pods run"))
	}
	if cfg.ExecutionID == "" {
		errs = append(errs, errors.New("JobConfig.ExecutionID is empty: set the execution's ID"))
	}
	if cfg.StageBucket == "" {
		errs = append(errs, errors.New("JobConfig.StageBucket is empty: set the bucket URL the worker reads its task from"))
	}
	switch cfg.ImagePullPolicy {
	case "", corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
	default:
		errs = append(errs, fmt.Errorf("JobConfig.ImagePullPolicy %q is not one of Always, IfNotPresent, Never", cfg.ImagePullPolicy))
	}
	if cfg.GPUTypeLabel != "" {
		if msgs := validation.IsQualifiedName(cfg.GPUTypeLabel); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("JobConfig.GPUTypeLabel %q is not a valid label key: %s", cfg.GPUTypeLabel, strings.Join(msgs, "; ")))
		}
	}
	if cfg.RoleAnnotation != "" {
		if msgs := validation.IsQualifiedName(cfg.RoleAnnotation); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("JobConfig.RoleAnnotation %q is not a valid annotation key: %s", cfg.RoleAnnotation, strings.Join(msgs, "; ")))
		}
	}
	for _, n := range []struct {
		field string
		value int
	}{
		{"Executors", o.Executors}, {"GPUs", o.GPUs}, {"Memory", o.Memory},
		{"Retries", o.Retries}, {"MaxFailedTasks", o.MaxFailedTasks}, {"BatchSize", o.BatchSize},
	} {
		if n.value < 0 {
			errs = append(errs, fmt.Errorf("negative Options.%s: %d; it must be 0 or more", n.field, n.value))
		}
	}
	if o.CPUs < 0 || math.IsNaN(o.CPUs) || math.IsInf(o.CPUs, 0) {
		errs = append(errs, fmt.Errorf("Options.CPUs must be a non-negative number, got %v", o.CPUs))
	}
	if o.GPUType != "" {
		if msgs := validation.IsValidLabelValue(o.GPUType); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("Options.GPUType %q is not a valid node label value: %s", o.GPUType, strings.Join(msgs, "; ")))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(o.Parameters)) {
		if msgs := validation.IsEnvVarName(k); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("Options.Parameters key %q is not a valid environment variable name: %s", k, strings.Join(msgs, "; ")))
		} else if strings.HasPrefix(k, reservedPrefix) || k == EnvIndex {
			errs = append(errs, fmt.Errorf("Options.Parameters key %q is reserved for the worker (%s* and %s)", k, reservedPrefix, EnvIndex))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("dfbatch/k8s: %w", errors.Join(errs...))
	}
	return nil
}

// apiLimits checks the Job's parallelism and maxFailedIndexes against the
// API server's limits for an Indexed Job, which would otherwise refuse the
// Job only after every task was staged. It refuses rather than lowers
// them: fewer pods at once, or a Job that fails before the user's
// MaxFailedTasks, would not be the run that was asked for.
func apiLimits(tasks int, o engine.Options) []error {
	if tasks < 1 {
		return nil
	}
	var errs []error
	parallelism := min(max(o.Executors, 1), tasks)
	failedIndexes := min(o.MaxFailedTasks, tasks)
	fewerTasks := fmt.Sprintf("or a larger BatchSize, for at most %d tasks", highCompletions)
	switch {
	case parallelism > maxIndexedParallelism:
		errs = append(errs, fmt.Errorf("Options.Executors %d is above the %d pods an Indexed Job may run at once (its parallelism): set at most %d",
			o.Executors, maxIndexedParallelism, maxIndexedParallelism))
	case tasks > highCompletions && parallelism > maxHighCompletionsParallelism:
		errs = append(errs, fmt.Errorf("Options.Executors %d is above the %d pods an Indexed Job of more than %d tasks (completions) may run at once, and this run has %d tasks: set at most %d Executors, %s",
			o.Executors, maxHighCompletionsParallelism, highCompletions, tasks, maxHighCompletionsParallelism, fewerTasks))
	}
	switch {
	case failedIndexes > maxIndexedFailedIndexes:
		errs = append(errs, fmt.Errorf("Options.MaxFailedTasks %d is above the %d failed indexes an Indexed Job may tolerate (maxFailedIndexes): set at most %d",
			o.MaxFailedTasks, maxIndexedFailedIndexes, maxIndexedFailedIndexes))
	case tasks > highCompletions && failedIndexes > maxHighCompletionsFailedIndexes:
		errs = append(errs, fmt.Errorf("Options.MaxFailedTasks %d is above the %d failed indexes an Indexed Job of more than %d tasks (completions) may tolerate, and this run has %d tasks: set at most %d, %s",
			o.MaxFailedTasks, maxHighCompletionsFailedIndexes, highCompletions, tasks, maxHighCompletionsFailedIndexes, fewerTasks))
	}
	return errs
}

// containerResources turns CPUs, Memory and GPUs into the container's
// requests and limits: equal, so the pods get what they ask for.
func containerResources(o engine.Options) (corev1.ResourceRequirements, error) {
	list := corev1.ResourceList{}
	if o.CPUs > 0 {
		milli := math.Round(o.CPUs * 1000)
		if milli < 1 {
			return corev1.ResourceRequirements{}, fmt.Errorf("dfbatch/k8s: Options.CPUs %v is below Kubernetes' 1m granularity", o.CPUs)
		}
		list[corev1.ResourceCPU] = *resource.NewMilliQuantity(int64(milli), resource.DecimalSI)
	}
	if o.Memory > 0 {
		list[corev1.ResourceMemory] = *resource.NewQuantity(int64(o.Memory)<<20, resource.BinarySI)
	}
	if len(list) == 0 && o.GPUs == 0 {
		return corev1.ResourceRequirements{}, nil
	}
	r := corev1.ResourceRequirements{Requests: list, Limits: maps.Clone(list)}
	if o.GPUs > 0 {
		// Extended resources go in limits; their requests default to them.
		r.Limits[GPUResource] = *resource.NewQuantity(int64(o.GPUs), resource.DecimalSI)
	}
	if len(r.Requests) == 0 {
		r.Requests = nil
	}
	return r, nil
}

// env is the worker container's environment: the parameters, sorted by key,
// then the worker's own variables.
func env(cfg JobConfig, tasks int, o engine.Options) []corev1.EnvVar {
	keys := slices.Sorted(maps.Keys(o.Parameters))
	vars := make([]corev1.EnvVar, 0, len(keys)+14)
	for _, k := range keys {
		vars = append(vars, corev1.EnvVar{Name: k, Value: o.Parameters[k]})
	}
	format := cfg.StageFormat
	if format == "" {
		format = frame.Parquet
	}
	add := func(name, value string) { vars = append(vars, corev1.EnvVar{Name: name, Value: value}) }
	add(EnvExecutionID, cfg.ExecutionID)
	add(EnvStage, cfg.StageBucket)
	add(EnvFormat, string(format))
	add(EnvTasks, strconv.Itoa(tasks))
	add(EnvBatchSize, strconv.Itoa(o.BatchSize))
	if len(keys) > 0 {
		add(EnvParameters, strings.Join(keys, ","))
	}
	if o.CPUs > 0 {
		add(EnvCPUs, strconv.FormatFloat(o.CPUs, 'g', -1, 64))
	}
	if o.Memory > 0 {
		add(EnvMemory, strconv.Itoa(o.Memory))
	}
	if o.GPUs > 0 {
		add(EnvGPUs, strconv.Itoa(o.GPUs))
	}
	if o.GPUType != "" {
		add(EnvGPUType, o.GPUType)
	}
	if o.TaskTimeout > 0 {
		add(EnvTaskTimeout, o.TaskTimeout.String())
	}
	if o.BuildID != "" {
		add(EnvBuildID, o.BuildID)
	}
	vars = append(vars, corev1.EnvVar{Name: EnvIndexFailures, ValueFrom: &corev1.EnvVarSource{
		FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations['" + AnnotationIndexFailures + "']"},
	}})
	return vars
}

// JobName returns the name of the Job (and of the service account) of the
// execution id: "dfbatch-" and the id made a DNS-1123 label (see
// sanitizeID).
func JobName(id string) (string, error) {
	s, err := sanitizeID(id)
	if err != nil {
		return "", err
	}
	return namePrefix + s, nil
}

// sanitizeID makes id fit a DNS-1123 label after "dfbatch-": lowercase,
// every run of characters other than a-z, 0-9 and '-' replaced by one '-',
// no leading or trailing '-'. An id too long for a Job name (maxNameLen,
// which leaves room for the pods' "-<index>") is cut and ends with 8 hex
// digits of its SHA-256, so long ids sharing a prefix still get distinct
// names.
func sanitizeID(id string) (string, error) {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(id) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.Trim(b.String(), "-")
	if s == "" {
		return "", fmt.Errorf("dfbatch/k8s: JobConfig.ExecutionID %q has no letters or digits to name the Job with", id)
	}
	if limit := maxNameLen - len(namePrefix); len(s) > limit {
		sum := sha256.Sum256([]byte(id))
		suffix := "-" + hex.EncodeToString(sum[:4])
		s = strings.TrimRight(s[:limit-len(suffix)], "-") + suffix
	}
	return s, nil
}

func ptr[T any](v T) *T { return &v }
