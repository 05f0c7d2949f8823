package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/dfbatch/dfbatch/model"
	"github.com/dfbatch/dfbatch/model/onnx"
)

// Deployment is one build of a model, as Resolve found it.
type Deployment struct {
	// ModelID is the model's id, the name of its folder in the store.
	ModelID string
	// BuildID is the build resolved, "" for a model with no builds. It is
	// the engine's Options.BuildID for runs of this deployment.
	BuildID string
	// Dir is the folder that holds deployment.json: the build's folder, or
	// the model's for a model with no builds.
	Dir string
	// ModelPath is the model file: Config.Model within Dir.
	ModelPath string
	// Config is deployment.json as read and checked. Loader reads it when
	// called, so a caller may first override its features, outputs, kept
	// columns or runtime (command-line flags over the deployed values).
	Config Config
	// ORTLibrary is the path of ONNX Runtime's shared library for a
	// deployment that runs on onnx.RuntimeORT; unset, $DFBATCH_ORT_LIB.
	// Where the library lives is the machine's business, not the
	// deployment's, so deployment.json does not hold it.
	ORTLibrary string
}

// Config is the content of deployment.json; its JSON names are the file's.
type Config struct {
	// Model is the model file's path, relative to the deployment's folder
	// and inside it. Required.
	Model string `json:"model"`
	// Batch holds the deployed defaults of a run's options.
	Batch Batch `json:"batch,omitzero"`
	// Features are the frame columns, in order, that make up the model's
	// single [N,F] input (onnx.Options.Features). Empty binds each model
	// input to the column of its name.
	Features []string `json:"features,omitempty"`
	// Outputs renames model outputs to columns: ONNX output name -> column
	// name (the prefix, for an [N,K] output).
	Outputs map[string]string `json:"outputs,omitempty"`
	// KeepColumns are input columns carried into the output before the
	// predictions, so that results can be joined back to their inputs.
	KeepColumns []string `json:"keep_columns,omitempty"`
	// Runtime is what runs the model: "go" (onnx.RuntimeGo, the default)
	// or "onnxruntime" (onnx.RuntimeORT), for a model whose operators only
	// ONNX Runtime has.
	Runtime onnx.Runtime `json:"runtime,omitempty"`
}

// Batch holds the deployed defaults of a run's options. Each field is the
// default of the engine.Options field of the same name, with its meaning
// and units; a zero field leaves the option unset.
type Batch struct {
	BatchSize int     `json:"batch_size,omitempty"`
	Executors int     `json:"executors,omitempty"`
	CPUs      float64 `json:"cpus,omitempty"`
	// Memory is in MiB.
	Memory  int    `json:"memory,omitempty"`
	GPUs    int    `json:"gpus,omitempty"`
	GPUType string `json:"gpu_type,omitempty"`
	// Instance names a size preset; the engine checks that it exists,
	// since a client may add its own presets.
	Instance   string            `json:"instance,omitempty"`
	IAMRoleARN string            `json:"iam_role_arn,omitempty"`
	Parameters map[string]string `json:"parameters,omitempty"`
	// JobTimeout and TaskTimeout convert with time.Duration(b.JobTimeout).
	JobTimeout     Duration `json:"job_timeout,omitempty"`
	TaskTimeout    Duration `json:"task_timeout,omitempty"`
	Retries        int      `json:"retries,omitempty"`
	MaxFailedTasks int      `json:"max_failed_tasks,omitempty"`
}

// Loader opens the deployment's model with its configured features,
// output names and runtime, and carries its kept columns into the output.
// It returns a model.Loader rather than an *onnx.Loader because kept
// columns wrap the ONNX loader (model.WithInputColumns); without them it
// is the *onnx.Loader itself. Opening checks the model, so it takes as
// long as onnx.Open.
func (d *Deployment) Loader() (model.Loader, error) {
	c := d.Config
	rt, err := onnx.ParseRuntime(string(c.Runtime))
	if err != nil {
		return nil, fmt.Errorf("registry: %s: runtime: %w", d.configPath(), err)
	}
	// Clones, so that changing d.Config later does not change the loader.
	l, err := onnx.Open(d.ModelPath, onnx.Options{
		Features: slices.Clone(c.Features), Outputs: maps.Clone(c.Outputs),
		Runtime: rt, ORTLibrary: d.ORTLibrary,
	})
	if err != nil {
		return nil, fmt.Errorf("registry: %s: %w", d.configPath(), err)
	}
	if len(c.KeepColumns) == 0 {
		return l, nil
	}
	return model.WithInputColumns(l, slices.Clone(c.KeepColumns)...), nil
}

func (d *Deployment) configPath() string { return filepath.Join(d.Dir, DeploymentFile) }

// readConfig reads, decodes and checks d's deployment.json, and sets
// ModelPath.
func (d *Deployment) readConfig() error {
	path := d.configPath()
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d.Config); err != nil {
		return decodeError(path, data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("registry: %s: more follows the configuration's JSON object", path)
	}
	problems := d.Config.problems()
	if len(problems) == 0 {
		d.ModelPath = filepath.Join(d.Dir, d.Config.Model)
		if info, err := os.Stat(d.ModelPath); err != nil {
			problems = append(problems, fmt.Sprintf("model: %s does not exist", d.ModelPath))
		} else if !info.Mode().IsRegular() {
			problems = append(problems, fmt.Sprintf("model: %s is not a file", d.ModelPath))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("registry: %s: %s", path, strings.Join(problems, "; "))
	}
	return nil
}

// decodeError names the file and the field, or the line, of a JSON error.
func decodeError(path string, data []byte, err error) error {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return fmt.Errorf("registry: %s is empty; it should hold a JSON object with at least \"model\"", path)
	case errors.As(err, &syntax):
		before := data[:min(syntax.Offset, int64(len(data)))]
		line := bytes.Count(before, []byte("\n")) + 1
		return fmt.Errorf("registry: %s:%d: %w", path, line, err)
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return fmt.Errorf("registry: %s: got %s, want a JSON object", path, typeErr.Value)
		}
		want := typeErr.Type.String()
		if typeErr.Type == reflect.TypeFor[Duration]() {
			want = durationWant
		}
		return fmt.Errorf("registry: %s: %s: got %s, want %s", path, typeErr.Field, typeErr.Value, want)
	}
	return fmt.Errorf("registry: %s: %w", path, err)
}

// problems lists what is wrong with c, each as "field: what".
func (c Config) problems() []string {
	var p []string
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	switch {
	case c.Model == "":
		add(`model: missing; name the model file, relative to the deployment's folder, e.g. "model.onnx"`)
	case !filepath.IsLocal(c.Model):
		add("model: %q is not a relative path inside the deployment's folder", c.Model)
	}
	b := c.Batch
	for _, f := range []struct {
		name     string
		value    any
		negative bool
	}{
		{"batch_size", b.BatchSize, b.BatchSize < 0},
		{"executors", b.Executors, b.Executors < 0},
		{"cpus", b.CPUs, b.CPUs < 0},
		{"memory", b.Memory, b.Memory < 0},
		{"gpus", b.GPUs, b.GPUs < 0},
		{"job_timeout", b.JobTimeout, b.JobTimeout < 0},
		{"task_timeout", b.TaskTimeout, b.TaskTimeout < 0},
		{"retries", b.Retries, b.Retries < 0},
		{"max_failed_tasks", b.MaxFailedTasks, b.MaxFailedTasks < 0},
	} {
		if f.negative {
			add("batch.%s: must not be negative, got %v", f.name, f.value)
		}
	}
	// The engine refuses these too, but only here can the error name the file.
	if b.Instance != "" && (b.CPUs != 0 || b.Memory != 0) {
		add("batch.instance: %q and batch.cpus/memory are both set; the preset sets cpus and memory, so set one or the other", b.Instance)
	}
	if b.GPUType != "" && b.GPUs == 0 && b.Instance == "" {
		add("batch.gpu_type: %q is set but batch.gpus is 0; set gpus to the number of GPUs per executor", b.GPUType)
	}
	for _, k := range slices.Sorted(maps.Keys(b.Parameters)) {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			add("batch.parameters: %q is not an environment variable name", k)
		}
	}
	if _, err := onnx.ParseRuntime(string(c.Runtime)); err != nil {
		add("runtime: %v", err)
	}
	p = append(p, columnProblems("features", c.Features)...)
	p = append(p, columnProblems("keep_columns", c.KeepColumns)...)
	renamedTo := map[string]string{}
	for _, from := range slices.Sorted(maps.Keys(c.Outputs)) {
		to := c.Outputs[from]
		switch {
		case from == "" || to == "":
			add("outputs: %q: %q: neither the output nor its column may be empty", from, to)
		case renamedTo[to] != "":
			add("outputs: %q and %q are both renamed to %q", renamedTo[to], from, to)
		case slices.Contains(c.KeepColumns, to):
			add("outputs: %q is renamed to %q, which is also in keep_columns", from, to)
		}
		renamedTo[to] = from
	}
	return p
}

// columnProblems checks a list of column names.
func columnProblems(field string, names []string) []string {
	var p []string
	for i, name := range names {
		switch j := slices.Index(names, name); {
		case name == "":
			p = append(p, fmt.Sprintf("%s[%d]: empty column name", field, i))
		case j < i:
			p = append(p, fmt.Sprintf("%s[%d]: %q repeats %s[%d]", field, i, name, field, j))
		}
	}
	return p
}
