package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
	"github.com/dfbatch/dfbatch/model/onnx"
	"github.com/dfbatch/dfbatch/model/registry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// resolveConfig deploys config as model "churn" build "1" and resolves it.
func resolveConfig(t *testing.T, config string) (*registry.Deployment, string, error) {
	t.Helper()
	root := t.TempDir()
	deploy(t, root, "churn/1", config)
	d, err := registry.Store{Root: root}.Resolve("churn", "1")
	return d, filepath.Join(root, "churn", "1", registry.DeploymentFile), err
}

func TestResolveReadsEveryField(t *testing.T) {
	d, _, err := resolveConfig(t, `{
		"model": "model.onnx",
		"batch": {
			"batch_size": 1000,
			"executors": 5,
			"cpus": 2.5,
			"memory": 4096,
			"gpus": 1,
			"gpu_type": "h100",
			"iam_role_arn": "arn:aws:iam::123456789012:role/scoring",
			"parameters": {"attribute": "customer_a"},
			"job_timeout": "1h",
			"task_timeout": 300,
			"retries": 2,
			"max_failed_tasks": 3
		},
		"features": ["age", "tenure"],
		"outputs": {"output": "Churn_Probability"},
		"keep_columns": ["customer_id"],
		"runtime": "onnxruntime"
	}`)
	require.NoError(t, err)
	assert.Equal(t, registry.Config{
		Model: "model.onnx",
		Batch: registry.Batch{
			BatchSize:      1000,
			Executors:      5,
			CPUs:           2.5,
			Memory:         4096,
			GPUs:           1,
			GPUType:        "h100",
			IAMRoleARN:     "arn:aws:iam::123456789012:role/scoring",
			Parameters:     map[string]string{"attribute": "customer_a"},
			JobTimeout:     registry.Duration(time.Hour),
			TaskTimeout:    registry.Duration(300 * time.Second),
			Retries:        2,
			MaxFailedTasks: 3,
		},
		Features:    []string{"age", "tenure"},
		Outputs:     map[string]string{"output": "Churn_Probability"},
		KeepColumns: []string{"customer_id"},
		Runtime:     onnx.RuntimeORT,
	}, d.Config)

	d, _, err = resolveConfig(t, `{"model": "model.onnx", "batch": {"instance": "small"}}`)
	require.NoError(t, err)
	assert.Equal(t, "small", d.Config.Batch.Instance)
}

func TestDurationsAreGoDurationsOrSeconds(t *testing.T) {
	tests := []struct {
		json string
		want time.Duration
	}{
		{`"90s"`, 90 * time.Second},
		{`"1h30m"`, 90 * time.Minute},
		{`"250ms"`, 250 * time.Millisecond},
		{`300`, 300 * time.Second},
		{`1.5`, 1500 * time.Millisecond},
		{`0`, 0},
		{`null`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.json, func(t *testing.T) {
			d, _, err := resolveConfig(t, fmt.Sprintf(`{"model": "model.onnx", "batch": {"task_timeout": %s}}`, tt.json))
			require.NoError(t, err)
			assert.Equal(t, tt.want, time.Duration(d.Config.Batch.TaskTimeout))
		})
	}
}

func TestAConfigurationWrittenReadsBackTheSame(t *testing.T) {
	want := registry.Config{Model: "model.onnx", Batch: registry.Batch{Executors: 2, TaskTimeout: registry.Duration(90 * time.Second)}}
	data, err := json.Marshal(want)
	require.NoError(t, err)
	assert.JSONEq(t, `{"model": "model.onnx", "batch": {"executors": 2, "task_timeout": "1m30s"}}`, string(data))

	d, _, err := resolveConfig(t, string(data))
	require.NoError(t, err)
	assert.Equal(t, want, d.Config)
}

func TestBadConfigurationsNameTheFileAndTheField(t *testing.T) {
	tests := []struct {
		name   string
		config string
		want   []string
	}{
		{"syntax error", "{\n  \"model\": \"model.onnx\",\n  \"batch\": {\"executors\": 5,}\n}", []string{"deployment.json:3:", "invalid character '}'"}},
		{"empty file", "", []string{"is empty"}},
		{"more after the object", minimal + ` {"model": "other.onnx"}`, []string{"more follows"}},
		{"not an object", `["model.onnx"]`, []string{"got array, want a JSON object"}},
		{"unknown field", `{"model": "model.onnx", "modle": "x"}`, []string{`unknown field "modle"`}},
		{"unknown batch field", `{"model": "model.onnx", "batch": {"exectors": 5}}`, []string{`unknown field "exectors"`}},
		{"build_id is the folder's", `{"model": "model.onnx", "batch": {"build_id": "2"}}`, []string{`unknown field "build_id"`}},
		{"wrong type", `{"model": "model.onnx", "batch": {"executors": "five"}}`, []string{"batch.executors: got string, want int"}},
		{"fraction for a count", `{"model": "model.onnx", "batch": {"retries": 1.5}}`, []string{"batch.retries: got number 1.5, want int"}},
		{"wrong list", `{"model": "model.onnx", "features": "age,tenure"}`, []string{"features: got string, want []string"}},
		{"bad duration", `{"model": "model.onnx", "batch": {"task_timeout": "soon"}}`, []string{`batch.task_timeout: got string "soon", want a duration such as "90s"`, "or a number of seconds"}},
		{"duration of a wrong type", `{"model": "model.onnx", "batch": {"job_timeout": true}}`, []string{"batch.job_timeout: got bool, want a duration"}},
		{"duration too long", `{"model": "model.onnx", "batch": {"job_timeout": 1e300}}`, []string{"batch.job_timeout: got number 1e300 (too long)"}},
		{"missing model", `{"batch": {"executors": 5}}`, []string{"model: missing"}},
		{"model outside the folder", `{"model": "../model.onnx"}`, []string{`model: "../model.onnx" is not a relative path inside the deployment's folder`}},
		{"absolute model path", `{"model": "/models/churn/model.onnx"}`, []string{`model: "/models/churn/model.onnx" is not a relative path`}},
		{"missing model file", `{"model": "other.onnx"}`, []string{"model: ", "other.onnx does not exist"}},
		{"model that is a folder", `{"model": "."}`, []string{"model: ", "is not a file"}},
		{
			"negative values",
			`{"model": "model.onnx", "batch": {"executors": -1, "memory": -5, "task_timeout": "-5s", "cpus": -0.5}}`,
			[]string{"batch.executors: must not be negative, got -1", "batch.memory: must not be negative, got -5", "batch.task_timeout: must not be negative, got -5s", "batch.cpus: must not be negative, got -0.5"},
		},
		{"instance and cpus", `{"model": "model.onnx", "batch": {"instance": "small", "cpus": 2}}`, []string{`batch.instance: "small" and batch.cpus/memory are both set`}},
		{"gpu type without gpus", `{"model": "model.onnx", "batch": {"gpu_type": "h100"}}`, []string{`batch.gpu_type: "h100" is set but batch.gpus is 0`}},
		{"bad parameter name", `{"model": "model.onnx", "batch": {"parameters": {"a=b": "x", "": "y"}}}`, []string{`batch.parameters: "a=b" is not an environment variable name`, `batch.parameters: "" is not`}},
		{"repeated feature", `{"model": "model.onnx", "features": ["age", "tenure", "age"]}`, []string{`features[2]: "age" repeats features[0]`}},
		{"empty kept column", `{"model": "model.onnx", "keep_columns": ["id", ""]}`, []string{"keep_columns[1]: empty column name"}},
		{"empty output name", `{"model": "model.onnx", "outputs": {"output": ""}}`, []string{`outputs: "output": "": neither the output nor its column may be empty`}},
		{"two outputs to one column", `{"model": "model.onnx", "outputs": {"a": "score", "b": "score"}}`, []string{`outputs: "a" and "b" are both renamed to "score"`}},
		{"output renamed to a kept column", `{"model": "model.onnx", "outputs": {"output": "id"}, "keep_columns": ["id"]}`, []string{`outputs: "output" is renamed to "id", which is also in keep_columns`}},
		{"unknown runtime", `{"model": "model.onnx", "runtime": "tensorrt"}`, []string{`runtime: unknown ONNX runtime "tensorrt"; known: go, onnxruntime`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, path, err := resolveConfig(t, tt.config)
			require.Error(t, err)
			assert.ErrorContains(t, err, path)
			for _, want := range tt.want {
				assert.ErrorContains(t, err, want)
			}
		})
	}
}

// mlpFrame is n rows of the MLP's 16 features x0..x15, in a column order
// unlike the features', and an id column.
func mlpFrame(t *testing.T, n int) *frame.Frame {
	t.Helper()
	cols := []frame.Column{frame.Strings("customer_id", make([]string, n))}
	for j := 15; j >= 0; j-- {
		values := make([]float32, n)
		for i := range values {
			values[i] = float32(i+1)*0.1 - float32(j)*0.05
		}
		cols = append(cols, frame.Float32s(fmt.Sprintf("x%d", j), values))
	}
	f, err := frame.New(cols...)
	require.NoError(t, err)
	return f
}

func mlpFeatures() []string {
	features := make([]string, 16)
	for j := range features {
		features[j] = fmt.Sprintf("x%d", j)
	}
	return features
}

func predict(t *testing.T, l model.Loader, in *frame.Frame) *frame.Frame {
	t.Helper()
	m, err := l.Load(context.Background(), model.Executor{CPUs: 1})
	require.NoError(t, err)
	out, err := m.Predict(context.Background(), in)
	require.NoError(t, err)
	return out
}

func float32s(t *testing.T, f *frame.Frame, name string) []float32 {
	t.Helper()
	col, err := f.Col(name)
	require.NoError(t, err)
	values, ok := col.(*array.Float32)
	require.True(t, ok, "column %q is %s", name, col.DataType())
	return values.Float32Values()
}

func TestLoaderScoresWithTheDeployedFeaturesOutputsAndKeptColumns(t *testing.T) {
	features, err := json.Marshal(mlpFeatures())
	require.NoError(t, err)
	d, _, err := resolveConfig(t, fmt.Sprintf(`{
		"model": "model.onnx",
		"features": %s,
		"outputs": {"output": "Churn_Probability"},
		"keep_columns": ["customer_id"]
	}`, features))
	require.NoError(t, err)
	l, err := d.Loader()
	require.NoError(t, err)

	in := mlpFrame(t, 5)
	out := predict(t, l, in)
	assert.Equal(t, []string{"customer_id", "Churn_Probability"}, out.ColumnNames())
	require.Equal(t, 5, out.NumRows())

	direct, err := onnx.Open(mlpModel, onnx.Options{Features: mlpFeatures()})
	require.NoError(t, err)
	want := predict(t, direct, in)
	assert.Equal(t, float32s(t, want, "output"), float32s(t, out, "Churn_Probability"), "the registry's loader scores as the model opened directly with the same features")

	schemer, ok := l.(model.OutputSchemer)
	require.True(t, ok, "the loader still tells its output columns")
	schema, err := schemer.OutputSchema(in.Schema())
	require.NoError(t, err)
	assert.Equal(t, "Churn_Probability", schema.Field(1).Name)
}

func TestLoaderWithoutKeptColumnsIsTheONNXLoaderAndTakesOverrides(t *testing.T) {
	d, _, err := resolveConfig(t, `{"model": "model.onnx", "outputs": {"output": "score"}}`)
	require.NoError(t, err)
	d.Config.Features = mlpFeatures() // as a --features flag would
	l, err := d.Loader()
	require.NoError(t, err)
	assert.IsType(t, &onnx.Loader{}, l)
	out := predict(t, l, mlpFrame(t, 3))
	assert.Equal(t, []string{"score"}, out.ColumnNames())

	d.Config.Outputs["output"] = "changed"
	assert.Equal(t, []string{"score"}, predict(t, l, mlpFrame(t, 3)).ColumnNames(), "a loader keeps the configuration it was made with")
}

func TestLoaderErrorsNameTheDeployment(t *testing.T) {
	features, err := json.Marshal(mlpFeatures())
	require.NoError(t, err)
	tests := []struct {
		name   string
		config string
		want   []string
	}{
		{"too few features", `{"model": "model.onnx", "features": ["age", "tenure", "spend"]}`, []string{"takes 16 features per row", "names 3 columns"}},
		{"no features for a wide input", minimal, []string{`input "input" takes 16 values per row`}},
		{"renaming an output the model lacks", `{"model": "model.onnx", "features": ` + string(features) + `, "outputs": {"probability": "p"}}`, []string{`Options.Outputs renames "probability", which is neither an output nor an output column`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, path, err := resolveConfig(t, tt.config)
			require.NoError(t, err, "Resolve does not open the model")
			_, err = d.Loader()
			require.Error(t, err)
			assert.ErrorContains(t, err, path)
			for _, want := range tt.want {
				assert.ErrorContains(t, err, want)
			}
		})
	}
}

func TestLoaderOfAFileThatIsNoModel(t *testing.T) {
	d, path, err := resolveConfig(t, `{"model": "deployment.json"}`)
	require.NoError(t, err)
	_, err = d.Loader()
	require.Error(t, err)
	assert.ErrorContains(t, err, path)
	assert.ErrorContains(t, err, "onnx: ", "the ONNX loader's own error is kept")
}

func TestLoaderRunsTheModelOnTheDeployedRuntime(t *testing.T) {
	features, err := json.Marshal(mlpFeatures())
	require.NoError(t, err)
	d, path, err := resolveConfig(t, fmt.Sprintf(`{"model": "model.onnx", "features": %s, "runtime": "ort"}`, features))
	require.NoError(t, err, `"ort" is onnxruntime's short name`)

	d.ORTLibrary = filepath.Join(t.TempDir(), "libonnxruntime.so.1") // as a --ort-lib flag would
	_, err = d.Loader()
	require.Error(t, err, "the deployment's runtime is used, and the library it needs is missing")
	assert.ErrorContains(t, err, path)
	assert.ErrorContains(t, err, "ONNX Runtime")

	d.Config.Runtime = onnx.RuntimeGo // as a --runtime flag would
	l, err := d.Loader()
	require.NoError(t, err, "the Go runtime needs no library")
	goOut := predict(t, l, mlpFrame(t, 5))

	d.ORTLibrary = ""
	d.Config.Runtime = onnx.RuntimeORT
	if os.Getenv(onnx.ORTLibraryEnv) == "" {
		t.Skipf("ONNX Runtime's library is not installed: run bench/peers/setup.sh and set %s to the libonnxruntime.so.1 it prints", onnx.ORTLibraryEnv)
	}
	l, err = d.Loader()
	require.NoError(t, err)
	ortOut := predict(t, l, mlpFrame(t, 5))
	assert.InDeltaSlice(t, float32s(t, goOut, "output"), float32s(t, ortOut, "output"), 1e-5, "both runtimes score the deployment alike")
}
