package onnx_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model/onnx"
	"github.com/stretchr/testify/require"
)

// mlInput is a fixture input whose nulls stand for NaN, and whose declared
// input types say which columns are integers.
type mlInput struct {
	Rows     int                   `json:"rows"`
	Features []string              `json:"features"`
	Columns  map[string][]*float64 `json:"columns"`
}

type mlOutputs struct {
	Outputs []struct {
		Name  string            `json:"name"`
		DType string            `json:"dtype"`
		Shape []int             `json:"shape"`
		Data  []json.RawMessage `json:"data"`
	} `json:"outputs"`
}

func mlFrame(t *testing.T, in mlInput) *frame.Frame {
	t.Helper()
	cols := make([]frame.Column, len(in.Features))
	for i, name := range in.Features {
		v := make([]float64, in.Rows)
		for r, p := range in.Columns[name] {
			v[r] = math.NaN()
			if p != nil {
				v[r] = *p
			}
		}
		cols[i] = frame.Float64s(name, v)
	}
	f, err := frame.New(cols...)
	require.NoError(t, err)
	return f
}

func TestMLModelsMatchONNXRuntime(t *testing.T) {
	for _, name := range []string{
		"trees_binary", "trees_multiclass", "trees_rf_multiclass", "trees_rf_binary", "trees_regressor",
		"trees_rf_regressor", "trees_modes", "trees_aggregate_average", "trees_aggregate_min", "trees_aggregate_max",
		"trees_probit", "trees_softmax_zero", "churn",
	} {
		t.Run(name, func(t *testing.T) {
			var in mlInput
			readJSON(t, name+".input.json", &in)
			var want mlOutputs
			readJSON(t, name+".expected.json", &want)
			l, err := onnx.Open(filepath.Join(fixtures, name+".onnx"), onnx.Options{Features: in.Features})
			require.NoError(t, err)
			out, err := engine.NewClient(l).RunFrame(context.Background(), mlFrame(t, in), engine.Options{BatchSize: 16, Executors: 2})
			require.NoError(t, err)
			for _, o := range want.Outputs {
				checkOutput(t, out, o.Name, o.DType, o.Shape, o.Data)
			}
		})
	}
}

// checkOutput compares the columns of one ONNX output with ONNX Runtime's
// values: floats within 1e-5 relative, integers and strings exactly.
func checkOutput(t *testing.T, out *frame.Frame, name, dtype string, shape []int, data []json.RawMessage) {
	t.Helper()
	rows := shape[0]
	width := 1
	for _, d := range shape[1:] {
		width *= d
	}
	for j := range width {
		col := name
		if width > 1 {
			col = fmt.Sprintf("%s_%d", name, j)
		}
		a, err := out.Col(col)
		require.NoError(t, err)
		for r := range rows {
			raw := data[r*width+j]
			switch dtype {
			case "string":
				var want string
				require.NoError(t, json.Unmarshal(raw, &want))
				require.Equal(t, want, a.(*array.String).Value(r), "%s row %d", col, r)
			case "int64":
				var want int64
				require.NoError(t, json.Unmarshal(raw, &want))
				require.Equal(t, want, a.(*array.Int64).Value(r), "%s row %d", col, r)
			default:
				var want float64
				require.NoError(t, json.Unmarshal(raw, &want))
				got := a.(*array.Float32).Value(r)
				if math.Abs(float64(got)-want) > 1e-5*math.Abs(want)+1e-6 {
					t.Fatalf("%s row %d = %v, ONNX Runtime gives %v", col, r, got, want)
				}
			}
		}
	}
}

