package onnx_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model/onnx"
	"github.com/stretchr/testify/require"
)

// zooManifest is what bench/zoo/zoo.py writes: its models, each with the
// rows to score and scikit-learn's answers on them.
type zooManifest struct {
	Models []zooModel `json:"models"`
}

type zooModel struct {
	Name      string  `json:"name"`
	Family    string  `json:"family"`
	Model     string  `json:"model"`
	Features  int     `json:"features"`
	Rows      int     `json:"rows"`
	Input     string  `json:"input"`
	Missing   bool    `json:"missing"`
	Tolerance float64 `json:"tolerance"`
	Outputs   []struct {
		Name  string `json:"name"`
		DType string `json:"dtype"`
		Width int    `json:"width"`
		File  string `json:"file"`
	} `json:"outputs"`
}

// debianPython is the Python with scikit-learn and onnx that the zoo
// needs.
const debianPython = "/usr/bin/python3"

// buildZoo runs the zoo's quick build into a temporary folder; without
// Debian's Python and its packages it skips, unless CI=true.
func buildZoo(t *testing.T) (string, zooManifest) {
	t.Helper()
	if err := exec.Command(debianPython, "-c", "import sklearn, onnx, numpy").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s with scikit-learn, onnx and numpy is needed on CI: %v", debianPython, err)
		}
		t.Skipf("no %s with scikit-learn, onnx and numpy: %v", debianPython, err)
	}
	dir := t.TempDir()
	cmd := exec.Command(debianPython, "../../bench/zoo/zoo.py", "--quick", "--rows", "3000", "--out", dir)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "zoo.py: %s", out)
	return dir, readZoo(t, dir)
}

// readZoo reads the manifest of the zoo in dir.
func readZoo(t testing.TB, dir string) zooManifest {
	t.Helper()
	var m zooManifest
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &m))
	require.NotEmpty(t, m.Models)
	return m
}

// zooFrame reads a zoo model's rows as columns f0..fF-1.
func zooFrame(t testing.TB, dir string, m zooModel) (*frame.Frame, []string) {
	t.Helper()
	x := readLE[float32](t, filepath.Join(dir, m.Input), m.Rows*m.Features)
	features := names("f", m.Features)
	cols := make([]frame.Column, m.Features)
	for j, name := range features {
		v := make([]float32, m.Rows)
		for r := range v {
			v[r] = x[r*m.Features+j]
		}
		cols[j] = frame.Float32s(name, v)
	}
	f, err := frame.New(cols...)
	require.NoError(t, err)
	return f, features
}

// nullsForNaN returns in with each NaN a null instead.
func nullsForNaN(t testing.TB, in *frame.Frame) *frame.Frame {
	t.Helper()
	fields := make([]arrow.Field, 0, in.NumCols())
	arrays := make([]arrow.Array, 0, in.NumCols())
	for _, name := range in.ColumnNames() {
		a, err := in.Col(name)
		require.NoError(t, err)
		col := a.(*array.Float32)
		b := array.NewFloat32Builder(memory.DefaultAllocator)
		nulls := 0
		for _, v := range col.Float32Values() {
			if v != v {
				b.AppendNull()
				nulls++
			} else {
				b.Append(v)
			}
		}
		fields = append(fields, arrow.Field{Name: name, Type: arrow.PrimitiveTypes.Float32, Nullable: true})
		arrays = append(arrays, b.NewArray())
	}
	out, err := frame.FromArrays(arrow.NewSchema(fields, nil), arrays)
	require.NoError(t, err)
	return out
}

// readLE reads n little-endian values of a zoo file.
func readLE[T float32 | int64](t testing.TB, path string, n int) []T {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	v := make([]T, n)
	_, err = binary.Decode(data, binary.LittleEndian, v)
	require.NoError(t, err, path)
	return v
}

// TestZooMatchesScikitLearn scores every model of the zoo, trained and
// answered by scikit-learn (networks, linear models, gradient boosting,
// random forests, LightGBM- and XGBoost-shaped trees with missing values),
// and checks every output column against scikit-learn's answer at two
// batch sizes, the second leaving a short last batch. It builds the quick
// zoo, or with $DFBATCH_ZOO set checks the zoo there (a full one).
func TestZooMatchesScikitLearn(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the zoo's models")
	}
	dir, manifest := os.Getenv(zooEnv), zooManifest{}
	if dir == "" {
		dir, manifest = buildZoo(t)
	} else {
		manifest = readZoo(t, dir)
	}
	for _, m := range manifest.Models {
		t.Run(m.Name, func(t *testing.T) {
			in, features := zooFrame(t, dir, m)
			l, err := onnx.Open(filepath.Join(dir, m.Model), onnx.Options{Features: features})
			require.NoError(t, err)
			require.Equal(t, zooPath(m.Name), l.Path(), "what runs the graph")
			for _, batch := range []int{64, 1000} {
				out, err := engine.NewClient(l).RunFrame(context.Background(), in, engine.Options{BatchSize: batch, Executors: 2})
				require.NoError(t, err)
				worst := checkZooOutputs(t, dir, m, out)
				t.Logf("batch %d: %s", batch, worst)
			}
			if m.Missing {
				// The missing values as a CSV reader gives them: nulls,
				// which a tree ensemble takes as NaN.
				out, err := engine.NewClient(l).RunFrame(context.Background(), nullsForNaN(t, in), engine.Options{BatchSize: 500, Executors: 2})
				require.NoError(t, err)
				t.Logf("NaN as nulls: %s", checkZooOutputs(t, dir, m, out))
			}
		})
	}
}

// zooPath is what runs each kind of zoo model: a network classifier's
// dense layers on the plan and its labels on the ML operators, a network
// regressor on the plan, linear models and trees on the ML operators.
func zooPath(name string) string {
	switch {
	case strings.HasPrefix(name, "mlpreg_"):
		return "compiled plan"
	case strings.HasPrefix(name, "mlp_"):
		return "compiled plan and ML operators"
	}
	return "ML operators"
}

// checkZooOutputs compares out with the zoo's answers: floats within the
// model's tolerance relative (1e-6 absolute near zero), labels exactly
// except on rows whose two most probable classes tie within it. It
// returns the largest differences, for the log.
func checkZooOutputs(t *testing.T, dir string, m zooModel, out *frame.Frame) string {
	t.Helper()
	var report []string
	var proba []float32
	width := 0
	for _, o := range m.Outputs {
		if o.DType == "float32" {
			proba, width = readLE[float32](t, filepath.Join(dir, o.File), m.Rows*o.Width), o.Width
		}
	}
	for _, o := range m.Outputs {
		path := filepath.Join(dir, o.File)
		if o.DType == "int64" {
			want := readLE[int64](t, path, m.Rows)
			got := int64s(t, out, o.Name)
			differ := 0
			for r := range want {
				if got[r] != want[r] {
					require.True(t, tied(proba[r*width:(r+1)*width], m.Tolerance), "%s row %d: %d, scikit-learn %d", o.Name, r, got[r], want[r])
					differ++
				}
			}
			report = append(report, fmt.Sprintf("%s: %d ties broken otherwise", o.Name, differ))
			continue
		}
		want := readLE[float32](t, path, m.Rows*o.Width)
		maxAbs, maxRel := 0.0, 0.0
		for j := range o.Width {
			col := o.Name
			if o.Width > 1 {
				col = fmt.Sprintf("%s_%d", o.Name, j)
			}
			got := floats(t, out, col)
			for r := range m.Rows {
				w := float64(want[r*o.Width+j])
				d := math.Abs(got[r] - w)
				require.LessOrEqual(t, d, m.Tolerance*math.Abs(w)+1e-6, "%s row %d: %v, scikit-learn %v", col, r, got[r], w)
				maxAbs = max(maxAbs, d)
				if math.Abs(w) > 1e-3 {
					maxRel = max(maxRel, d/math.Abs(w))
				}
			}
		}
		report = append(report, fmt.Sprintf("%s: max abs %.1e, max rel %.1e (where |x| > 1e-3)", o.Name, maxAbs, maxRel))
	}
	return strings.Join(report, "; ")
}

// tied says the two largest of p are within tol relative of each other.
func tied(p []float32, tol float64) bool {
	first, second := math.Inf(-1), math.Inf(-1)
	for _, v := range p {
		switch v := float64(v); {
		case v > first:
			first, second = v, first
		case v > second:
			second = v
		}
	}
	return first-second <= tol*first
}

func int64s(t *testing.T, f *frame.Frame, name string) []int64 {
	t.Helper()
	a, err := f.Col(name)
	require.NoError(t, err)
	c, ok := a.(*array.Int64)
	require.True(t, ok, "%s is %s, not int64", name, a.DataType())
	return c.Int64Values()
}
