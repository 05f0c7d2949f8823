package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// PythonInfo is the pandas peer's interpreter and libraries.
type PythonInfo struct {
	Path, Python, NumPy, Pandas string
}

// pythonHint is how to install the pandas peer's libraries.
const pythonHint = installHint + " (Debian: apt-get install python3-numpy python3-pandas)"

// probePython checks that python imports numpy and pandas and returns
// their versions.
func probePython(ctx context.Context, python string) (*PythonInfo, error) {
	if python == "" {
		return nil, fmt.Errorf("pandas + numpy peer skipped: no Python interpreter configured: %s", pythonHint)
	}
	const script = `import json, platform, numpy, pandas; print(json.dumps({"python": platform.python_version(), "numpy": numpy.__version__, "pandas": pandas.__version__}))`
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, "-c", script).Output()
	if err != nil {
		return nil, fmt.Errorf("pandas + numpy peer skipped: %s cannot import numpy and pandas (%v): %s", python, err, pythonHint)
	}
	var v struct{ Python, Numpy, Pandas string }
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, fmt.Errorf("pandas + numpy peer skipped: %s: %v", python, err)
	}
	return &PythonInfo{Path: python, Python: v.Python, NumPy: v.Numpy, Pandas: v.Pandas}, nil
}

// python is comparison 5: each MLP scored by dfbatch through the engine on
// all cores against pandas + numpy on a pool of as many workers, in
// batches of Config.PythonBatch.
func (r *runner) python() {
	cores := runtime.NumCPU()
	batch := r.cfg.PythonBatch
	for i := range r.cfg.MLPs {
		name := NewMLP(0, r.cfg.MLPs[i]...).Name()
		id := "python/mlp-" + name
		if !r.selected(id) {
			continue
		}
		comparison := fmt.Sprintf("5. the Python way: MLP %s, batch %d, %d workers", name, batch, cores)
		a := fmt.Sprintf("dfbatch pure Go, engine, %d executors", cores)
		b := fmt.Sprintf("pandas + numpy, %d-thread pool", cores)
		if r.pythonSkip != "" {
			r.add(Row{ID: id, Comparison: comparison, A: a, B: r.pythonSkip, Ratio: "skipped", WallRatio: "skipped", Met: "skipped"})
			continue
		}
		c := r.mlpCase(i)
		if c.expected == nil {
			r.failed(id, comparison, a, b, nil, fmt.Errorf("no runner scored %s to check pandas against: %v", c.name, c.goErr))
			continue
		}
		peer, err := r.startPython(c, batch, cores, b)
		if err != nil {
			r.failed(id, comparison, a, b, nil, err)
			continue
		}
		if c.goErr != nil {
			peer.close()
			r.failed(id, comparison, a, b, nil, c.goErr)
			continue
		}
		dfb, err := r.throughEngine(a, c.goLoader, c.in, batch, cores)
		if err != nil {
			peer.close()
			r.failed(id, comparison, a, b, nil, err)
			continue
		}
		r.pair(id, comparison, dfb, peer, "", nil)
	}
}

// startPython writes c's MLP, input and expected output for
// bench/peers/mlp_pandas.py, starts it in its serving mode and waits until
// it has warmed up and checked its output. The contender's passes are
// timed by the script itself.
func (r *runner) startPython(c *modelCase, batch, workers int, name string) (*contender, error) {
	dir := filepath.Join(r.tmp, "python-"+c.mlp.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	layers, err := c.mlp.WriteLayers(dir)
	if err != nil {
		return nil, err
	}
	spec := struct {
		Rows     int         `json:"rows"`
		Features int         `json:"features"`
		Batch    int         `json:"batch"`
		Workers  int         `json:"workers"`
		Layers   []LayerFile `json:"layers"`
		Input    string      `json:"input"`
		Expected string      `json:"expected"`
	}{Rows: c.in.Rows, Features: c.in.Features, Batch: batch, Workers: workers, Layers: layers, Input: "x.f32", Expected: "expected.f32"}
	for file, v := range map[string][]float32{"x.f32": c.in.Matrix, "expected.f32": c.expected[0].f32} {
		if err := WriteFloat32s(filepath.Join(dir, file), v); err != nil {
			return nil, err
		}
	}
	specJSON, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	specPath := filepath.Join(dir, "spec.json")
	if err := os.WriteFile(specPath, specJSON, 0o644); err != nil {
		return nil, err
	}

	script := filepath.Join(r.cfg.PeersDir, "mlp_pandas.py")
	cmd := exec.CommandContext(r.ctx, r.cfg.Python, script, specPath, "--serve")
	cmd.Env = append(os.Environ(), "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1", "MKL_NUM_THREADS=1")
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	r.logf("starting %s %s", r.cfg.Python, script)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &pythonPeer{cmd: cmd, stdin: stdin, stdout: bufio.NewReader(stdout), stderr: stderr}
	var ready struct {
		OK        bool    `json:"ok"`
		MaxRelErr float64 `json:"max_rel_err"`
		InOrder   bool    `json:"in_order"`
	}
	if err := p.readJSON(&ready); err != nil {
		p.close()
		return nil, err
	}
	if !ready.OK {
		p.close()
		return nil, fmt.Errorf("pandas + numpy disagrees with dfbatch on %s: max relative error %g, in order %v", c.name, ready.MaxRelErr, ready.InOrder)
	}
	r.logf("%s: pandas + numpy agrees with dfbatch within 1e-4 on %d rows", c.name, c.in.Rows)
	ct := contender{name: name, rows: c.in.Rows, close: p.close, run: func(passes int) (sample, error) {
		if _, err := fmt.Fprintf(p.stdin, "run %d\n", passes); err != nil {
			return sample{}, p.fail(err)
		}
		var timing struct {
			Seconds    float64 `json:"seconds"`
			CPUSeconds float64 `json:"cpu_seconds"`
		}
		if err := p.readJSON(&timing); err != nil {
			return sample{}, err
		}
		return sample{wall: seconds(timing.Seconds), cpu: seconds(timing.CPUSeconds)}, nil
	}}
	return &ct, nil
}

// seconds converts a number of seconds to a Duration.
func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// pythonPeer is a running mlp_pandas.py --serve.
type pythonPeer struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr *lockedBuffer
}

// lockedBuffer collects a child's stderr, written by exec's copying
// goroutine and read on an error.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// readJSON reads the script's next line into v.
func (p *pythonPeer) readJSON(v any) error {
	line, err := p.stdout.ReadBytes('\n')
	if err != nil {
		return p.fail(err)
	}
	if err := json.Unmarshal(line, v); err != nil {
		return fmt.Errorf("mlp_pandas.py printed %q: %w", line, err)
	}
	return nil
}

// fail adds what the script wrote to stderr to err.
func (p *pythonPeer) fail(err error) error {
	if msg := strings.TrimSpace(p.stderr.String()); msg != "" {
		lines := strings.Split(msg, "\n")
		return fmt.Errorf("mlp_pandas.py: %w: %s", err, lines[len(lines)-1])
	}
	return fmt.Errorf("mlp_pandas.py: %w", err)
}

func (p *pythonPeer) close() {
	fmt.Fprintln(p.stdin, "quit")
	p.stdin.Close()
	p.cmd.Wait()
}
