package onnx_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/internal/onnxpb"
	"github.com/dfbatch/dfbatch/model/onnx"
	"github.com/stretchr/testify/require"
)

const fixtures = "../../testdata/onnx"

// fixtureInput is a fixture's input: one float column per feature.
type fixtureInput struct {
	Rows     int                  `json:"rows"`
	Features []string             `json:"features"`
	Columns  map[string][]float32 `json:"columns"`
}

// fixtureOutputs are ONNX Runtime's outputs on the fixture's input.
type fixtureOutputs struct {
	Runtime string `json:"runtime"`
	Outputs []struct {
		Name  string    `json:"name"`
		DType string    `json:"dtype"`
		Shape []int     `json:"shape"`
		Data  []float64 `json:"data"`
	} `json:"outputs"`
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtures, name))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, v))
}

func inputFrame(t *testing.T, in fixtureInput) *frame.Frame {
	t.Helper()
	cols := make([]frame.Column, len(in.Features))
	for i, name := range in.Features {
		cols[i] = frame.Float32s(name, in.Columns[name])
	}
	f, err := frame.New(cols...)
	require.NoError(t, err)
	return f
}

// assertClose checks got against ONNX Runtime's want within 1e-5
// relative (with a 1e-6 floor for values near zero).
func assertClose(t *testing.T, want []float64, got []float64, what string) {
	t.Helper()
	require.Len(t, got, len(want), what)
	for i := range want {
		tol := 1e-5*math.Abs(want[i]) + 1e-6
		if math.Abs(got[i]-want[i]) > tol {
			t.Fatalf("%s[%d] = %v, ONNX Runtime gives %v", what, i, got[i], want[i])
		}
	}
}

// assertOutputs checks out's columns against each of ONNX Runtime's
// outputs in want (one column for [N] or [N,1], name_j for [N,K]) within
// rel relative, with a 1e-6 floor.
func assertOutputs(t *testing.T, want fixtureOutputs, out *frame.Frame, rows int, rel float64) {
	t.Helper()
	for _, o := range want.Outputs {
		width := len(o.Data) / rows
		for j := range width {
			name := o.Name
			if width > 1 {
				name += "_" + string(rune('0'+j))
			}
			got := floats(t, out, name)
			for r := range rows {
				w := o.Data[r*width+j]
				if math.Abs(got[r]-w) > rel*math.Abs(w)+1e-6 {
					t.Fatalf("%s[%d] = %v, ONNX Runtime gives %v", name, r, got[r], w)
				}
			}
		}
	}
}

func floats(t *testing.T, f *frame.Frame, name string) []float64 {
	t.Helper()
	a, err := f.Col(name)
	require.NoError(t, err)
	out := make([]float64, a.Len())
	m, err := f.Select(name)
	require.NoError(t, err)
	_, err = m.Float64Matrix(out, name)
	require.NoError(t, err)
	return out
}

// denseFixture is a fixture of standard operators and how its input binds.
type denseFixture struct {
	name     string
	features bool // bind the single [N,F] input by the feature list
}

// denseFixtures are the fixtures the compiled plan runs, on CPU and GPU.
var denseFixtures = []denseFixture{
	{"mlp", true}, {"mlp_ops", true}, {"logreg_gemm", true}, {"multi_input", false}, {"multi_input_mixed", false},
	{"skl_mlp_regressor", true},
}

// open reads the fixture's input and ONNX Runtime's outputs on it, and
// opens its model with opts and the fixture's binding.
func (f denseFixture) open(t *testing.T, opts onnx.Options) (*onnx.Loader, fixtureInput, fixtureOutputs) {
	t.Helper()
	var in fixtureInput
	readJSON(t, f.name+".input.json", &in)
	var want fixtureOutputs
	readJSON(t, f.name+".expected.json", &want)
	if f.features {
		opts.Features = in.Features
	}
	l, err := onnx.Open(filepath.Join(fixtures, f.name+".onnx"), opts)
	require.NoError(t, err)
	return l, in, want
}

func TestDenseModelsMatchONNXRuntime(t *testing.T) {
	for _, f := range denseFixtures {
		t.Run(f.name, func(t *testing.T) {
			l, in, want := f.open(t, onnx.Options{})
			// Batches of 16: 37 rows make 16, 16 and a short last 5, so each
			// executor meets two row counts.
			out, err := engine.NewClient(l).RunFrame(context.Background(), inputFrame(t, in), engine.Options{BatchSize: 16, Executors: 2})
			require.NoError(t, err)
			assertOutputs(t, want, out, in.Rows, 1e-5)
		})
	}
}

// decodeFixture reads the fixture model name.
func decodeFixture(t *testing.T, name string) *onnxpb.ModelProto {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtures, name+".onnx"))
	require.NoError(t, err)
	m, err := onnxpb.Decode(data)
	require.NoError(t, err)
	return m
}
