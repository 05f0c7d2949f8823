package bench

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dfbatch/dfbatch/model/onnx"
)

// zooManifest is bench/zoo/zoo.py's manifest.json.
type zooManifest struct {
	Sklearn string     `json:"sklearn"`
	Rows    int        `json:"rows"`
	Models  []zooModel `json:"models"`
}

// zooModel is one model of the zoo: its file, the rows to score, and
// scikit-learn's answers on them.
type zooModel struct {
	Name        string         `json:"name"`
	Family      string         `json:"family"`
	Description string         `json:"description"`
	Model       string         `json:"model"`
	Features    int            `json:"features"`
	Rows        int            `json:"rows"`
	Input       string         `json:"input"`
	Outputs     []zooOutput    `json:"outputs"`
	Tolerance   float64        `json:"tolerance"`
	Params      map[string]any `json:"params"`
}

// zooOutput is an ONNX output of a zoo model and the file of
// scikit-learn's answer for it.
type zooOutput struct {
	Name  string `json:"name"`
	DType string `json:"dtype"`
	Width int    `json:"width"`
	File  string `json:"file"`
}

// zooTreesFamily is the family of the zoo's tree ensembles.
const zooTreesFamily = "trees"

// zoo is comparison 4: every model of the zoo, trained by scikit-learn
// and exported as its converter writes it, through the engine against
// ONNX Runtime: 1 thread at each batch size, and on all cores at the
// first batch size against as many single-thread sessions (comparison 3
// shows ONNX Runtime's own threads on the PyTorch MLPs).
func (r *runner) zoo() {
	// The models' names are known only once the zoo is built: an -only
	// that does not mention the zoo skips it.
	if r.cfg.Only != nil && !strings.Contains(r.cfg.Only.String(), "zoo") {
		return
	}
	dir, err := r.buildZoo()
	var missing *zooMissingError
	switch {
	case errors.As(err, &missing):
		r.note(err.Error())
		r.add(Row{ID: "zoo/", Comparison: "4. model zoo", A: "dfbatch", B: err.Error(), Ratio: "skipped", WallRatio: "skipped", Met: "skipped"})
		return
	case err != nil:
		r.failed("zoo/", "4. model zoo", "dfbatch", "ONNX Runtime", nil, err)
		return
	}
	var m zooManifest
	if err := readJSONFile(filepath.Join(dir, "manifest.json"), &m); err != nil {
		r.failed("zoo/", "4. model zoo", "dfbatch", "ONNX Runtime", nil, err)
		return
	}
	r.res.Env.Sklearn = m.Sklearn
	for _, zm := range m.Models {
		prefix := "zoo/" + zm.Name
		if !r.anySelected(r.zooIDs(prefix)...) {
			continue
		}
		c, err := r.zooCase(dir, zm)
		if err != nil {
			r.failed(prefix, "4. "+zm.Description, "dfbatch", "ONNX Runtime", nil, err)
			continue
		}
		if c.untimed != "" {
			r.note(fmt.Sprintf("%s: checked against scikit-learn, every output and row, but not timed: %s", zm.Name, c.untimed))
			continue
		}
		goal := atLeast(0.8)
		if zm.Family == zooTreesFamily {
			goal = atLeast(1.5)
		}
		what := "4. " + zm.Description
		for i, b := range r.cfg.Batches {
			id := fmt.Sprintf("%s/b%d", prefix, b)
			if i == 0 {
				r.againstORT(id, what, c, b, goal, goal, false)
				continue
			}
			r.goAgainstORT(id+"/1-thread", fmt.Sprintf("%s, batch %d, 1 thread (%s rows)", what, b, count(c.in.Rows)),
				c, b, 1, ortSessions, goal, func() (contender, error) {
					return r.throughEngine("dfbatch pure Go, engine, 1 executor", c.goLoader, c.in, b, 1)
				})
		}
	}
}

// zooIDs are the IDs of a zoo model's rows.
func (r *runner) zooIDs(prefix string) []string {
	var ids []string
	for i, b := range r.cfg.Batches {
		p := fmt.Sprintf("%s/b%d/", prefix, b)
		ids = append(ids, p+"1-thread")
		if i == 0 {
			ids = append(ids, p+"all-cores")
		}
	}
	return ids
}

// buildZoo runs bench/zoo/zoo.py, or finds its output from an earlier run
// of the same scripts with the same interpreter and sizes, and returns the
// folder. The zoo is cached under the user's cache folder: training takes
// a minute or two.
func (r *runner) buildZoo() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	scripts, err := filepath.Glob(filepath.Join(root, "bench", "zoo", "*.py"))
	if err != nil || len(scripts) == 0 {
		return "", fmt.Errorf("bench/zoo/*.py not found under %s", root)
	}
	args := []string{filepath.Join(root, "bench", "zoo", "zoo.py"), "--rows", fmt.Sprint(r.cfg.ZooRows)}
	if r.cfg.ZooQuick {
		args = append(args, "--quick")
	}
	h := sha256.New()
	fmt.Fprintln(h, r.cfg.Python, args[1:])
	for _, s := range scripts {
		data, err := os.ReadFile(s)
		if err != nil {
			return "", err
		}
		fmt.Fprintln(h, filepath.Base(s), len(data))
		h.Write(data)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	// One folder per size: a zoo built from older scripts is replaced.
	sizes := fmt.Sprintf("rows%d-full", r.cfg.ZooRows)
	if r.cfg.ZooQuick {
		sizes = fmt.Sprintf("rows%d-quick", r.cfg.ZooRows)
	}
	dir := filepath.Join(cache, "dfbatch", "zoo", sizes+"-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err == nil {
		r.logf("the model zoo is in %s (built earlier from the same scripts)", dir)
		return dir, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "building-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	r.logf("training and exporting the model zoo into %s (%s %s)", dir, r.cfg.Python, strings.Join(args, " "))
	cmd := exec.CommandContext(r.ctx, r.cfg.Python, append(args, "--out", tmp)...)
	var stderr strings.Builder
	cmd.Stderr = io.MultiWriter(&stderr, r.cfg.Log)
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "No module named") || errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			why := err.Error()
			if msg != "" {
				why = lastLine(msg)
			}
			return "", &zooMissingError{python: r.cfg.Python, why: why}
		}
		return "", fmt.Errorf("%s bench/zoo/zoo.py: %w: %s", r.cfg.Python, err, lastLine(msg))
	}
	if err := os.Rename(tmp, dir); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", err
	}
	older, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), sizes+"-*"))
	for _, o := range older {
		if o != dir {
			os.RemoveAll(o)
		}
	}
	return dir, nil
}

// zooMissingError says that the zoo's Python or its packages are not
// installed: its rows are skipped.
type zooMissingError struct{ python, why string }

func (e *zooMissingError) Error() string {
	return fmt.Sprintf("the model zoo needs %s with scikit-learn and onnx (%s): %s (python3-sklearn, python3-onnx)", e.python, e.why, installHint)
}

// lastLine is the last line of s.
func lastLine(s string) string {
	return s[strings.LastIndexByte(s, '\n')+1:]
}

// zooCase reads a zoo model's rows and scikit-learn's answers and checks
// dfbatch and ONNX Runtime against them.
func (r *runner) zooCase(dir string, zm zooModel) (*modelCase, error) {
	x, err := readLittleEndian[float32](filepath.Join(dir, zm.Input), zm.Rows*zm.Features)
	if err != nil {
		return nil, err
	}
	rows := zm.Rows / r.cfg.Batches[len(r.cfg.Batches)-1] * r.cfg.Batches[len(r.cfg.Batches)-1]
	if rows == 0 {
		return nil, fmt.Errorf("%s has %d rows, fewer than a batch of %d", zm.Name, zm.Rows, slices.Max(r.cfg.Batches))
	}
	spec := &modelSpec{path: filepath.Join(dir, zm.Model), features: zm.Features}
	var reference []outputValues
	for _, o := range zm.Outputs {
		out := outputSpec{name: o.Name, int64: o.DType == "int64", width: o.Width}
		var v outputValues
		if out.int64 {
			out.width = 0
			v.i64, err = readLittleEndian[int64](filepath.Join(dir, o.File), zm.Rows)
			v.i64 = v.i64[:rows]
		} else {
			v.f32, err = readLittleEndian[float32](filepath.Join(dir, o.File), zm.Rows*o.Width)
			v.f32 = v.f32[:rows*o.Width]
		}
		if err != nil {
			return nil, err
		}
		spec.outputs = append(spec.outputs, out)
		reference = append(reference, v)
	}
	sum, err := onnx.Inspect(spec.path)
	if err != nil {
		return nil, err
	}
	if len(sum.Inputs) != 1 {
		return nil, fmt.Errorf("%s has %d inputs; the zoo's models take one [N, F] input", spec.path, len(sum.Inputs))
	}
	spec.input = sum.Inputs[0].Name
	c := &modelCase{name: zm.Name, spec: spec, in: inputsOf(x[:rows*zm.Features], rows, zm.Features), tolerance: max(zm.Tolerance, 1e-6)}
	for _, o := range sum.Outputs {
		if strings.HasPrefix(o.Type, "seq(") {
			c.untimed = fmt.Sprintf("output %q is a %s, which ONNX Runtime's Go binding returns only by allocating Go maps per row", o.Name, o.Type)
		}
	}
	r.check(c, reference)
	if c.goErr != nil {
		return nil, c.goErr
	}
	return c, nil
}

// readLittleEndian reads n little-endian values of type T from path.
func readLittleEndian[T float32 | int64](path string, n int) ([]T, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	v := make([]T, n)
	if _, err := binary.Decode(data, binary.LittleEndian, v); err != nil {
		return nil, fmt.Errorf("%s: %w (want %d values)", path, err, n)
	}
	return v, nil
}

// readJSONFile decodes path's JSON into v.
func readJSONFile(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
