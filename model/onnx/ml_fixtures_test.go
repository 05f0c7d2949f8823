package onnx_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/internal/onnxpb"
	"github.com/dfbatch/dfbatch/model/onnx"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
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
		"logreg", "logreg_single_row", "logreg_multiclass", "logreg_zipmap",
		"ml_scaler", "ml_normalizer_l1", "ml_normalizer_l2", "ml_normalizer_max",
		"ml_linear_regressor", "ml_linear_regressor_2t", "ml_cast", "ml_chain",
		"skl_mlp_binary", "skl_mlp_multiclass", "skl_mlp_zipmap", "skl_mlp_scaled",
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
	if strings.HasPrefix(dtype, "seq(map") {
		checkZipMap(t, out, name, data)
		return
	}
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
				checkFloat(t, a, r, want, col)
			}
		}
	}
}

// checkZipMap compares a ZipMap output, one column per class label, with
// ONNX Runtime's maps.
func checkZipMap(t *testing.T, out *frame.Frame, name string, data []json.RawMessage) {
	t.Helper()
	for r, raw := range data {
		var want map[string]float64
		require.NoError(t, json.Unmarshal(raw, &want))
		for label, p := range want {
			a, err := out.Col(name + "_" + label)
			require.NoError(t, err)
			checkFloat(t, a, r, p, name+"_"+label)
		}
	}
}

func checkFloat(t *testing.T, a arrow.Array, r int, want float64, col string) {
	t.Helper()
	var got float64
	switch c := a.(type) {
	case *array.Float32:
		got = float64(c.Value(r))
	case *array.Float64:
		got = c.Value(r)
	default:
		t.Fatalf("%s is %s, not a float column", col, a.DataType())
	}
	if math.Abs(got-want) > 1e-5*math.Abs(want)+1e-6 {
		t.Fatalf("%s row %d = %v, ONNX Runtime gives %v", col, r, got, want)
	}
}

func TestOutputsRenameWholeOutputsOrSingleColumnsAndColumnsSelect(t *testing.T) {
	var in mlInput
	readJSON(t, "trees_binary.input.json", &in)
	path := filepath.Join(fixtures, "trees_binary.onnx")
	for _, tc := range []struct {
		name string
		opts onnx.Options
		want []string
	}{
		{"onnx names", onnx.Options{}, []string{"label", "probabilities_0", "probabilities_1"}},
		{"an output", onnx.Options{Outputs: map[string]string{"probabilities": "p"}}, []string{"label", "p_0", "p_1"}},
		{"one column", onnx.Options{Outputs: map[string]string{"probabilities_1": "Churn_Probability"}}, []string{"label", "probabilities_0", "Churn_Probability"}},
		{"selected", onnx.Options{Outputs: map[string]string{"probabilities_1": "Churn_Probability"}, Columns: []string{"Churn_Probability", "label"}}, []string{"Churn_Probability", "label"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Features = in.Features
			l, err := onnx.Open(path, tc.opts)
			require.NoError(t, err)
			schema, err := l.OutputSchema(nil)
			require.NoError(t, err)
			out, err := engine.NewClient(l).RunFrame(context.Background(), mlFrame(t, in), engine.Options{BatchSize: 10})
			require.NoError(t, err)
			require.Equal(t, tc.want, out.ColumnNames())
			require.True(t, schema.Equal(out.Schema()), "the declared schema is the output's")
		})
	}
	for _, tc := range []struct {
		name string
		opts onnx.Options
		want string
	}{
		{"unknown rename", onnx.Options{Outputs: map[string]string{"probability": "p"}}, `renames "probability", which is neither an output nor an output column`},
		{"unknown column", onnx.Options{Columns: []string{"score"}}, `column "score"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Features = in.Features
			_, err := onnx.Open(path, tc.opts)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

func TestBadModelFilesFailAtLoadNamingTheFile(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.onnx")
	require.NoError(t, os.WriteFile(garbage, []byte("this is not a model"), 0o644))
	_, err := onnx.Open(garbage, onnx.Options{})
	require.ErrorContains(t, err, "garbage.onnx")

	_, err = onnx.Open(filepath.Join(dir, "missing.onnx"), onnx.Options{})
	require.ErrorContains(t, err, "missing.onnx")

	data, err := os.ReadFile(filepath.Join(fixtures, "trees_binary.onnx"))
	require.NoError(t, err)
	m, err := onnxpb.Decode(data)
	require.NoError(t, err)
	for _, o := range m.GetOpsetImport() {
		if o.GetDomain() == onnxpb.MLDomain {
			o.Version = proto.Int64(5)
		}
	}
	newer, err := proto.Marshal(m)
	require.NoError(t, err)
	_, err = onnx.New("newer.onnx", newer, onnx.Options{})
	require.ErrorContains(t, err, "newer.onnx: the model imports ai.onnx.ml opset 5; supported: 1 to 4")
}
