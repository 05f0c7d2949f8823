package engine

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Options configure one run. They mirror the options of the batch platform's
// Python client, BatchInferenceClient.run (see DESIGN.md). A zero field is unset: it takes the client's deployed default
// (see WithDefaults), and without one the documented default.
type Options struct {
	// BatchSize is the number of rows per task; mandatory, > 0. A run of
	// 1000 rows with BatchSize 50 has 20 tasks.
	BatchSize int
	// Executors is how many tasks run at once, each executor with its own
	// model instance. Default 1.
	Executors int
	// CPUs is each executor's thread budget, handed to its model's loader.
	// Default 1.
	CPUs float64
	// Memory is each executor's memory budget in MiB: a task whose input
	// batch alone is larger fails before it runs. Default: no budget.
	Memory int
	// GPUs is the number of GPUs each executor gets. Default 0.
	GPUs int
	// GPUType restricts GPUs to one type, e.g. "h100"; "" for any.
	GPUType string
	// IAMRoleARN is the cloud identity remote executors run as. Local runs
	// carry it to the remote backend only.
	IAMRoleARN string
	// Parameters reach every task's model: model.Getenv(ctx, key) locally,
	// environment variables in a subprocess or remote pod. They are merged
	// over the deployed default parameters, key by key.
	Parameters map[string]string
	// JobTimeout bounds the whole run; 0 means none.
	JobTimeout time.Duration
	// TaskTimeout bounds each attempt of a task; 0 means none. The attempt
	// ends at the timeout even if the model ignores its context: a call
	// still running then is abandoned, its model instance is never used
	// again (it is closed once the call returns), and the executor loads a
	// fresh instance for its next task, outside that task's timeout. While
	// more than Executors abandoned calls are still running, executors wait
	// for one to return before loading another instance.
	TaskTimeout time.Duration
	// BuildID selects the model build (version) to load; "" is the latest.
	BuildID string
	// Instance names a size preset (see InstanceNames) that sets CPUs, Memory
	// and possibly GPUs instead of setting them one by one.
	Instance string
	// Cloud runs the job on the client's remote backend instead of in this
	// process.
	Cloud bool

	// Retries is how many times a failed task is tried again. Default 0.
	Retries int
	// RetryBackoff is the pause before the first retry; it doubles for each
	// later one, up to 30s. Default 100ms.
	RetryBackoff time.Duration
	// MaxFailedTasks is how many tasks may fail (after their retries)
	// before the run stops with an error. Default 0: any failure stops it.
	// A run with tolerated failed tasks scores every other task, then ends
	// in state Partial with an error matching ErrPartial: the output lacks
	// the failed tasks' rows, which the error's Report lists.
	MaxFailedTasks int
	// Unordered delivers task outputs as tasks finish instead of in input
	// order: the output's batches are in completion order, and a streaming
	// consumer gets each batch without waiting for earlier ones.
	Unordered bool
}

const (
	defaultRetryBackoff = 100 * time.Millisecond
	maxBackoff          = 30 * time.Second
)

// Instance is a named executor size.
type Instance struct {
	CPUs    float64
	Memory  int // MiB
	GPUs    int
	GPUType string
}

// instances are the built-in size presets for Options.Instance; a client
// adds its own with WithInstances. They are unexported so that no program
// changes them under another's runs: LookupInstance and InstanceNames read
// them.
var instances = map[string]Instance{
	"tiny":   {CPUs: 1, Memory: 2048},
	"small":  {CPUs: 2, Memory: 8192},
	"medium": {CPUs: 4, Memory: 16384},
	"large":  {CPUs: 8, Memory: 32768},
	"xlarge": {CPUs: 16, Memory: 65536},

	"gpu.t4.xl":   {CPUs: 4, Memory: 16384, GPUs: 1, GPUType: "t4"},
	"gpu.a10.xl":  {CPUs: 4, Memory: 16384, GPUs: 1, GPUType: "a10g"},
	"gpu.a100.xl": {CPUs: 12, Memory: 87040, GPUs: 1, GPUType: "a100"},
	"gpu.h100.xl": {CPUs: 26, Memory: 229376, GPUs: 1, GPUType: "h100"},
}

// LookupInstance returns the built-in size preset called name.
func LookupInstance(name string) (Instance, bool) {
	i, ok := instances[name]
	return i, ok
}

// InstanceNames returns the names of the built-in size presets, sorted.
func InstanceNames() []string { return slices.Sorted(maps.Keys(instances)) }

// resolveOptions validates a run's options, overlays them on the deployed
// defaults, applies instance presets and fills in the documented defaults.
func resolveOptions(run, defaults Options, instances map[string]Instance) (Options, error) {
	run, err := run.applyInstance(instances)
	if err != nil {
		return run, err
	}
	defaults, err = defaults.applyInstance(instances)
	if err != nil {
		var oe *OptionError
		if errors.As(err, &oe) {
			oe.Deployed = true
			return run, oe
		}
		return run, fmt.Errorf("deployed defaults: %w", err)
	}
	o := run.overlay(defaults)
	if o.BatchSize <= 0 {
		return o, optionErrorf("Options.BatchSize", nil, " must be > 0, got %d: it is the number of rows per task and has no default", o.BatchSize)
	}
	for _, f := range []struct {
		name  string
		value float64
	}{
		{"Executors", float64(o.Executors)},
		{"CPUs", o.CPUs},
		{"Memory", float64(o.Memory)},
		{"GPUs", float64(o.GPUs)},
		{"JobTimeout", float64(o.JobTimeout)},
		{"TaskTimeout", float64(o.TaskTimeout)},
		{"Retries", float64(o.Retries)},
		{"RetryBackoff", float64(o.RetryBackoff)},
		{"MaxFailedTasks", float64(o.MaxFailedTasks)},
	} {
		if f.value < 0 {
			return o, optionErrorf("Options."+f.name, nil, " must not be negative, got %v", f.value)
		}
	}
	if o.GPUType != "" && o.GPUs == 0 {
		return o, optionErrorf("Options.GPUType", nil, " is %q but %s is 0; set %[2]s to the number of GPUs per executor", o.GPUType, optionName("Options.GPUs"))
	}
	if o.Executors == 0 {
		o.Executors = 1
	}
	if o.CPUs == 0 {
		o.CPUs = 1
	}
	if o.RetryBackoff == 0 {
		o.RetryBackoff = defaultRetryBackoff
	}
	// The run owns its options from here: a caller that changes its map
	// after Start changes nothing in the run.
	return o.clone(), nil
}

// clone copies o's reference-typed fields.
func (o Options) clone() Options {
	o.Parameters = maps.Clone(o.Parameters)
	return o
}

// applyInstance sets CPUs, Memory and, unless set, GPUs from o's instance
// preset.
func (o Options) applyInstance(instances map[string]Instance) (Options, error) {
	if o.Instance == "" {
		return o, nil
	}
	preset, ok := instances[o.Instance]
	if !ok {
		return o, optionErrorf("Options.Instance", nil, " %q is not a known preset; known: %s", o.Instance, strings.Join(slices.Sorted(maps.Keys(instances)), ", "))
	}
	if o.CPUs != 0 || o.Memory != 0 {
		return o, optionErrorf("Options.Instance", nil, " %q and %s or %s are both set; a preset sets both, so set one or the other", o.Instance, optionName("Options.CPUs"), optionName("Options.Memory"))
	}
	o.CPUs, o.Memory = preset.CPUs, preset.Memory
	if o.GPUs == 0 {
		o.GPUs, o.GPUType = preset.GPUs, preset.GPUType
	}
	return o, nil
}

// overlay returns o with every unset field taken from d. Parameters merge
// key by key, o's values winning.
func (o Options) overlay(d Options) Options {
	if o.BatchSize == 0 {
		o.BatchSize = d.BatchSize
	}
	if o.Executors == 0 {
		o.Executors = d.Executors
	}
	if o.Instance == "" {
		o.Instance = d.Instance
	}
	if o.CPUs == 0 {
		o.CPUs = d.CPUs
	}
	if o.Memory == 0 {
		o.Memory = d.Memory
	}
	if o.GPUs == 0 {
		o.GPUs = d.GPUs
	}
	if o.GPUType == "" {
		o.GPUType = d.GPUType
	}
	if o.IAMRoleARN == "" {
		o.IAMRoleARN = d.IAMRoleARN
	}
	if len(d.Parameters) > 0 {
		merged := maps.Clone(d.Parameters)
		maps.Copy(merged, o.Parameters)
		o.Parameters = merged
	}
	if o.JobTimeout == 0 {
		o.JobTimeout = d.JobTimeout
	}
	if o.TaskTimeout == 0 {
		o.TaskTimeout = d.TaskTimeout
	}
	if o.BuildID == "" {
		o.BuildID = d.BuildID
	}
	o.Cloud = o.Cloud || d.Cloud
	if o.Retries == 0 {
		o.Retries = d.Retries
	}
	if o.RetryBackoff == 0 {
		o.RetryBackoff = d.RetryBackoff
	}
	if o.MaxFailedTasks == 0 {
		o.MaxFailedTasks = d.MaxFailedTasks
	}
	o.Unordered = o.Unordered || d.Unordered
	return o
}
