package onnx_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/internal/onnxpb"
	"github.com/dfbatch/dfbatch/model"
	"github.com/dfbatch/dfbatch/model/onnx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

// requireORT skips a test that needs ONNX Runtime's library when it is not
// installed, saying how to install it; a library named but missing fails.
func requireORT(t testing.TB) {
	t.Helper()
	if !onnx.CgoEnabled {
		t.Skip("RuntimeORT needs cgo; this test binary was built with CGO_ENABLED=0")
	}
	path := os.Getenv(onnx.ORTLibraryEnv)
	if path == "" {
		t.Skipf("ONNX Runtime's library is not installed: run bench/peers/setup.sh and set %s to the libonnxruntime.so.1 it prints", onnx.ORTLibraryEnv)
	}
	_, err := os.Stat(path)
	require.NoError(t, err, "%s names a library that is not there", onnx.ORTLibraryEnv)
}

func TestRuntimeORTMatchesONNXRuntimesOutputs(t *testing.T) {
	requireORT(t)
	for _, tc := range []struct {
		fixture string
		byName  bool // bind each input to the column of its name
	}{
		{fixture: "mlp"},
		{fixture: "mlp_ops"},
		{fixture: "logreg_gemm"},
		{fixture: "multi_input", byName: true},
		{fixture: "multi_input_mixed", byName: true}, // int64 inputs
		{fixture: "trees_binary"},                    // int64 labels
		{fixture: "trees_multiclass"},                // string labels
		{fixture: "trees_rf_multiclass"},
		{fixture: "trees_rf_binary"},
		{fixture: "trees_regressor"},
		{fixture: "trees_modes"}, // NaN inputs
		{fixture: "trees_aggregate_average"},
		{fixture: "trees_probit"},
		{fixture: "trees_softmax_zero"},
		{fixture: "churn"},
		{fixture: "logreg"},
		{fixture: "logreg_multiclass"},
		{fixture: "ml_scaler"},
		{fixture: "ml_normalizer_l2"},
		{fixture: "ml_linear_regressor_2t"},
		{fixture: "ml_cast"},  // int64 and float64 outputs
		{fixture: "ml_chain"}, // an int64 [N,4] input
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			var in mlInput
			readJSON(t, tc.fixture+".input.json", &in)
			var want mlOutputs
			readJSON(t, tc.fixture+".expected.json", &want)
			opts := onnx.Options{Runtime: onnx.RuntimeORT}
			if !tc.byName {
				opts.Features = in.Features
			}
			l, err := onnx.Open(filepath.Join(fixtures, tc.fixture+".onnx"), opts)
			require.NoError(t, err)
			// Batches of 16: 37 rows make 16, 16 and a short last 5, so each
			// executor meets two row counts.
			out, err := engine.NewClient(l).RunFrame(context.Background(), mlFrame(t, in), engine.Options{BatchSize: 16, Executors: 2})
			require.NoError(t, err)
			for _, o := range want.Outputs {
				checkOutput(t, out, o.Name, o.DType, o.Shape, o.Data)
			}
			schema, err := l.OutputSchema(nil)
			require.NoError(t, err)
			assert.True(t, schema.Equal(out.Schema()), "the declared schema is the output's: %s, got %s", schema, out.Schema())
		})
	}
}

func TestRuntimeORTKeepsTensorsPerRowCountAndCloses(t *testing.T) {
	requireORT(t)
	var in fixtureInput
	readJSON(t, "mlp.input.json", &in)
	path := filepath.Join(fixtures, "mlp.onnx")
	ortLoader, err := onnx.Open(path, onnx.Options{Features: in.Features, Runtime: onnx.RuntimeORT})
	require.NoError(t, err)
	goLoader, err := onnx.Open(path, onnx.Options{Features: in.Features})
	require.NoError(t, err)
	ctx := context.Background()
	ortModel, err := ortLoader.Load(ctx, model.Executor{CPUs: 2})
	require.NoError(t, err)
	goModel, err := goLoader.Load(ctx, model.Executor{})
	require.NoError(t, err)
	all := inputFrame(t, in)
	// More row counts than an executor keeps tensors for, and each again,
	// so that tensors are made, reused and dropped.
	for _, rows := range []int{16, 5, 16, 1, 2, 3, 37, 5, 16, 0} {
		batch := all.Slice(37-rows, 37)
		got, err := ortModel.Predict(ctx, batch)
		require.NoError(t, err, "%d rows", rows)
		want, err := goModel.Predict(ctx, batch)
		require.NoError(t, err)
		require.Equal(t, rows, got.NumRows())
		assertClose(t, floats(t, want, "output"), floats(t, got, "output"), "output")
	}
	closer, ok := ortModel.(interface{ Close() error })
	require.True(t, ok, "a RuntimeORT model frees its session when closed")
	require.NoError(t, closer.Close())
	require.NoError(t, closer.Close(), "closing twice is harmless")
}

func TestRuntimeORTStopsARunWhoseContextEnds(t *testing.T) {
	requireORT(t)
	var in fixtureInput
	readJSON(t, "mlp.input.json", &in)
	l, err := onnx.Open(filepath.Join(fixtures, "mlp.onnx"), onnx.Options{Features: in.Features, Runtime: onnx.RuntimeORT})
	require.NoError(t, err)
	m, err := l.Load(context.Background(), model.Executor{CPUs: 1})
	require.NoError(t, err)
	defer m.(interface{ Close() error }).Close()
	// 300k rows take ONNX Runtime tens of milliseconds.
	const rows = 300_000
	cols := make([]frame.Column, len(in.Features))
	for j, name := range in.Features {
		values := make([]float32, rows)
		for r := range values {
			values[r] = in.Columns[name][r%in.Rows]
		}
		cols[j] = frame.Float32s(name, values)
	}
	big, err := frame.New(cols...)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(time.Millisecond, cancel)
	_, err = m.Predict(ctx, big)
	require.ErrorIs(t, err, context.Canceled)

	out, err := m.Predict(context.Background(), big.Slice(0, 37))
	require.NoError(t, err, "the next run is not stopped")
	assert.Equal(t, 37, out.NumRows())
}

func TestRuntimeORTRefusesZipMapOutputsNamingTheOutputAndRuntimeGo(t *testing.T) {
	requireORT(t)
	var in mlInput
	readJSON(t, "logreg_zipmap.input.json", &in)
	_, err := onnx.Open(filepath.Join(fixtures, "logreg_zipmap.onnx"), onnx.Options{Features: in.Features, Runtime: onnx.RuntimeORT})
	require.Error(t, err)
	for _, want := range []string{"logreg_zipmap.onnx", `output "output_probability" is seq(map(int64,tensor(float)))`, "RuntimeGo"} {
		assert.ErrorContains(t, err, want)
	}
}

func TestRuntimeORTRefusesAModelONNXRuntimeCannotLoadNamingIt(t *testing.T) {
	requireORT(t)
	data, err := os.ReadFile(filepath.Join(fixtures, "mlp.onnx"))
	require.NoError(t, err)
	_, err = onnx.New("unknown_op.onnx", withUnknownOperator(t, data), onnx.Options{Runtime: onnx.RuntimeORT, Features: mlpFeatures(t)})
	require.Error(t, err)
	assert.ErrorContains(t, err, "unknown_op.onnx: ONNX Runtime")
	assert.ErrorContains(t, err, "cannot load the model")
	assert.ErrorContains(t, err, "NoSuchOperator")
}

func TestRuntimeORTRefusesASecondLibraryInOneProcess(t *testing.T) {
	requireORT(t)
	features := mlpFeatures(t)
	path := filepath.Join(fixtures, "mlp.onnx")
	_, err := onnx.Open(path, onnx.Options{Features: features, Runtime: onnx.RuntimeORT})
	require.NoError(t, err)
	_, err = onnx.Open(path, onnx.Options{Features: features, Runtime: onnx.RuntimeORT, ORTLibrary: os.Getenv(onnx.ORTLibraryEnv)})
	require.NoError(t, err, "the same library again is fine")
	other := filepath.Join(fixtures, "logreg.onnx") // a file, but not the loaded library
	_, err = onnx.Open(path, onnx.Options{Features: features, Runtime: onnx.RuntimeORT, ORTLibrary: other})
	require.Error(t, err)
	assert.ErrorContains(t, err, "ONNX Runtime is already loaded in this process from")
	assert.ErrorContains(t, err, "Options.ORTLibrary asks for")
	assert.ErrorContains(t, err, "logreg.onnx")
}

func TestRuntimeORTWithoutALibrarySaysWhereToGetOne(t *testing.T) {
	if !onnx.CgoEnabled {
		t.Skip("without cgo, RuntimeORT fails before it looks for a library")
	}
	missing := filepath.Join(t.TempDir(), "libonnxruntime.so.1")
	for _, tc := range []struct {
		name   string
		option string
		env    string
		want   []string
	}{
		{"neither option nor variable", "", "", []string{"needs ONNX Runtime's shared library", "Options.ORTLibrary", "$DFBATCH_ORT_LIB"}},
		{"option names a missing file", missing, "", []string{missing, "(from Options.ORTLibrary) cannot be read", "$DFBATCH_ORT_LIB"}},
		{"variable names a missing file", "", missing, []string{missing, "(from $DFBATCH_ORT_LIB) cannot be read", "Options.ORTLibrary"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(onnx.ORTLibraryEnv, tc.env)
			_, err := onnx.Open(filepath.Join(fixtures, "mlp.onnx"), onnx.Options{Runtime: onnx.RuntimeORT, ORTLibrary: tc.option})
			require.Error(t, err)
			assert.ErrorContains(t, err, "mlp.onnx")
			assert.ErrorContains(t, err, "bench/peers/setup.sh")
			assert.ErrorContains(t, err, "bench/peers/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1")
			for _, want := range tc.want {
				assert.ErrorContains(t, err, want)
			}
		})
	}
}

func TestRuntimeORTWithoutCgoSaysHowToRebuild(t *testing.T) {
	assert.ErrorContains(t, onnx.ErrORTWithoutCgo, "built without cgo")
	assert.ErrorContains(t, onnx.ErrORTWithoutCgo, "rebuild with CGO_ENABLED=1 and a C compiler")
	assert.ErrorContains(t, onnx.ErrORTWithoutCgo, "RuntimeGo")
	if onnx.CgoEnabled {
		return
	}
	_, err := onnx.Open(filepath.Join(fixtures, "mlp.onnx"), onnx.Options{Runtime: onnx.RuntimeORT})
	assert.ErrorIs(t, err, onnx.ErrORTWithoutCgo)
	assert.ErrorContains(t, err, "mlp.onnx")
}

func TestRuntimesAreParsedAndUnknownOnesRefused(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want onnx.Runtime
	}{
		{"", onnx.RuntimeGo},
		{"go", onnx.RuntimeGo},
		{"onnxruntime", onnx.RuntimeORT},
		{"ORT", onnx.RuntimeORT},
	} {
		got, err := onnx.ParseRuntime(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
	_, err := onnx.ParseRuntime("tensorrt")
	assert.EqualError(t, err, `unknown ONNX runtime "tensorrt"; known: go, onnxruntime`)

	_, err = onnx.Open(filepath.Join(fixtures, "mlp.onnx"), onnx.Options{Runtime: "tensorrt"})
	require.Error(t, err)
	assert.ErrorContains(t, err, `mlp.onnx: Options.Runtime "tensorrt" is not a runtime; use "go" or "onnxruntime"`)
}

// mlpFeatures are the mlp fixture's input columns.
func mlpFeatures(t *testing.T) []string {
	t.Helper()
	var in fixtureInput
	readJSON(t, "mlp.input.json", &in)
	return in.Features
}

// withUnknownOperator returns the model with its first node's operator
// renamed to one no runtime has.
func withUnknownOperator(t *testing.T, data []byte) []byte {
	t.Helper()
	m, err := onnxpb.Decode(data)
	require.NoError(t, err)
	m.GetGraph().GetNode()[0].OpType = proto.String("NoSuchOperator")
	out, err := proto.Marshal(m)
	require.NoError(t, err)
	return out
}
