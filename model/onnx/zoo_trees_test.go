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
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
	"github.com/dfbatch/dfbatch/model/onnx"
	"github.com/stretchr/testify/require"
)

// zooDirEnv names a folder that already holds `zoo.py --only zoo_trees`'s
// output; unset, the tests and benchmarks generate the zoo themselves.
const zooDirEnv = "DFBATCH_ZOO_DIR"

// zooPython is Debian's Python, which has the scikit-learn and onnx that
// bench/zoo/zoo.py needs.
const zooPython = "/usr/bin/python3"

// zooModel is one manifest.json entry of bench/zoo/zoo.py.
type zooModel struct {
	Name      string  `json:"name"`
	Model     string  `json:"model"`
	Features  int     `json:"features"`
	Rows      int     `json:"rows"`
	Input     string  `json:"input"`
	Tolerance float64 `json:"tolerance"`
	Outputs   []struct {
		Name  string `json:"name"`
		DType string `json:"dtype"`
		Width int    `json:"width"`
		File  string `json:"file"`
	} `json:"outputs"`
	Params map[string]any `json:"params"`
}

// treeZoo returns the folder and the models of the zoo's tree ensembles:
// $DFBATCH_ZOO_DIR's, or ones generated into a temporary folder by
// zoo.py with extra arguments (--quick, --rows). It skips the test when
// Python or scikit-learn is absent.
func treeZoo(tb testing.TB, args ...string) (string, []zooModel) {
	tb.Helper()
	dir := os.Getenv(zooDirEnv)
	if dir == "" {
		dir = tb.TempDir()
		if err := exec.Command(zooPython, "-c", "import sklearn, onnx").Run(); err != nil {
			tb.Skipf("the zoo needs %s with scikit-learn and onnx: %v", zooPython, err)
		}
		cmd := exec.Command(zooPython, append([]string{"../../bench/zoo/zoo.py", "--out", dir, "--only", "zoo_trees"}, args...)...)
		out, err := cmd.CombinedOutput()
		require.NoError(tb, err, "zoo.py: %s", out)
	}
	var manifest struct {
		Models []zooModel `json:"models"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	require.NoError(tb, err)
	require.NoError(tb, json.Unmarshal(data, &manifest))
	require.NotEmpty(tb, manifest.Models, "%s lists no models", dir)
	return dir, manifest.Models
}

// zooFeatures names the columns a zoo model's input binds to.
func zooFeatures(m zooModel) []string {
	names := make([]string, m.Features)
	for j := range names {
		names[j] = fmt.Sprintf("f%02d", j)
	}
	return names
}

// zooRows reads a zoo model's rows: row-major float32, NaN where missing.
func zooRows(tb testing.TB, dir string, m zooModel) []float32 {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(dir, m.Input))
	require.NoError(tb, err)
	require.Len(tb, data, 4*m.Rows*m.Features, m.Input)
	x := make([]float32, m.Rows*m.Features)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return x
}

// zooFrame holds rows [start, end) of x as one float32 column per feature.
func zooFrame(tb testing.TB, m zooModel, x []float32, start, end int) *frame.Frame {
	tb.Helper()
	names := zooFeatures(m)
	cols := make([]frame.Column, m.Features)
	for j, name := range names {
		v := make([]float32, end-start)
		for r := range v {
			v[r] = x[(start+r)*m.Features+j]
		}
		cols[j] = frame.Float32s(name, v)
	}
	f, err := frame.New(cols...)
	require.NoError(tb, err)
	return f
}

// loadZooModel loads a zoo model on the Go runtime, one CPU.
func loadZooModel(tb testing.TB, dir string, m zooModel) model.Model {
	tb.Helper()
	l, err := onnx.Open(filepath.Join(dir, m.Model), onnx.Options{Features: zooFeatures(m)})
	require.NoError(tb, err)
	loaded, err := l.Load(context.Background(), model.Executor{CPUs: 1})
	require.NoError(tb, err)
	return loaded
}

// checkZooOutputs compares the Go runtime's outputs for rows [start, end)
// with scikit-learn's answers: labels exactly (but for one row in 10,000,
// whose top scores may tie within rounding), floats within the model's
// tolerance, relative to the larger of 1 and the value.
func checkZooOutputs(tb testing.TB, dir string, m zooModel, out *frame.Frame, start, end int) {
	tb.Helper()
	for _, o := range m.Outputs {
		data, err := os.ReadFile(filepath.Join(dir, o.File))
		require.NoError(tb, err)
		wrong := 0
		for j := range o.Width {
			col := o.Name
			if o.Width > 1 {
				col = fmt.Sprintf("%s_%d", o.Name, j)
			}
			a, err := out.Col(col)
			require.NoError(tb, err, m.Name)
			for r := start; r < end; r++ {
				i := r*o.Width + j
				if o.DType == "int64" {
					if want := int64(binary.LittleEndian.Uint64(data[8*i:])); a.(*array.Int64).Value(r-start) != want {
						wrong++
					}
					continue
				}
				want := float64(math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:])))
				got := float64(a.(*array.Float32).Value(r - start))
				require.InDelta(tb, want, got, m.Tolerance*math.Max(1, math.Abs(want)), "%s %s row %d", m.Name, col, r)
			}
		}
		require.LessOrEqual(tb, wrong, max(1, (end-start)/10000), "%s: %d labels differ from scikit-learn's", m.Name, wrong)
	}
}

// TestZooTreesMatchScikitLearn scores the zoo's tree ensembles (their quick
// sizes) on the Go runtime and compares with scikit-learn's predictions:
// trained trees, 3 to 13 levels deep, BRANCH_LEQ and BRANCH_LT, and NaN
// sent down learned missing-value branches.
func TestZooTreesMatchScikitLearn(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the zoo's trees")
	}
	dir, models := treeZoo(t, "--quick", "--rows", "3000")
	for _, m := range models {
		t.Run(m.Name, func(t *testing.T) {
			x := zooRows(t, dir, m)
			loaded := loadZooModel(t, dir, m)
			// uneven batches, so that short blocks are scored too
			for start := 0; start < m.Rows; start += 1000 + 37 {
				end := min(m.Rows, start+1000+37)
				out, err := loaded.Predict(context.Background(), zooFrame(t, m, x, start, end))
				require.NoError(t, err)
				checkZooOutputs(t, dir, m, out, start, end)
			}
		})
	}
}
