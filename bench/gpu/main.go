//go:build cuda

// Command gpu measures dfbatch's GPU path on this machine's first GPU
// against PyTorch and against dfbatch's own CPU path, on an MLP
// 256-1024-1024-1 over 10M rows, and writes bench/RESULTS-GPU.md, which
// bench/compare copies into bench/RESULTS.md.
//
//	go run -tags cuda ./bench/gpu                 # 10M rows, batch 65,536
//	go run -tags cuda ./bench/gpu -rows 1000000   # a shorter run
//
// PyTorch runs bench/peers/mlp_torch.py with -python (python3 by default);
// without torch, its rows say so.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/gpu"
	"github.com/dfbatch/dfbatch/internal/bench"
	"github.com/dfbatch/dfbatch/model/onnx"
)

func main() {
	rows := flag.Int("rows", 10_000_000, "rows to score on the GPU and with PyTorch")
	batch := flag.Int("batch", 65536, "rows per task, and per PyTorch batch")
	executors := flag.Int("executors", runtime.NumCPU(), "GPU executors, sharing the GPU with a stream each; each reads its batches' columns into row-major pinned memory on its own core")
	cpuRows := flag.Int("cpu-rows", 500_000, "rows to score on dfbatch's CPU path (its rows/s is compared)")
	python := flag.String("python", "python3", "the Python with torch")
	out := flag.String("out", "", "where to write the results (default bench/RESULTS-GPU.md)")
	flag.Parse()
	if err := run(*rows, *batch, *executors, *cpuRows, *python, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gpu:", err)
		os.Exit(1)
	}
}

// sizes are the MLP's layer widths.
var sizes = []int{256, 1024, 1024, 1}

func run(rows, batch, executors, cpuRows int, python, out string) error {
	ctx := context.Background()
	devices, err := gpu.Devices()
	if err != nil {
		return err
	}
	if len(devices) == 0 {
		return errors.New("no GPU is present")
	}
	root, err := bench.RepoRoot()
	if err != nil {
		return err
	}
	if out == "" {
		out = filepath.Join(root, "bench", "RESULTS-GPU.md")
	}
	dir, err := os.MkdirTemp("", "dfbatch-gpu-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	mlp := bench.NewMLP(7, sizes...)
	path, err := bench.WriteModel(dir, "mlp.onnx", mlp.Proto())
	if err != nil {
		return err
	}
	features := bench.FeatureNames(sizes[0])
	loader, err := onnx.Open(path, onnx.Options{Features: features})
	if err != nil {
		return err
	}
	start := time.Now()
	in := inputs(rows, sizes[0])
	logf("drew %d x %d inputs in %s", rows, sizes[0], time.Since(start).Round(time.Millisecond))

	// dfbatch's GPU path: executors sharing the first GPU.
	gpuOpts := engine.Options{BatchSize: batch, Executors: executors, GPUs: 1, CPUs: 1}
	client := engine.NewClient(loader)
	defer client.Close()
	if err := client.WarmUp(ctx, gpuOpts); err != nil {
		return err
	}
	if _, err := client.RunFrame(ctx, in.Slice(0, min(rows, 4*batch*executors)), gpuOpts); err != nil {
		return fmt.Errorf("warming up the GPU path: %w", err)
	}
	start = time.Now()
	gpuOut, err := client.RunFrame(ctx, in, gpuOpts)
	if err != nil {
		return err
	}
	gpuRate := float64(rows) / time.Since(start).Seconds()
	logf("dfbatch GPU: %.0f rows/s", gpuRate)

	// dfbatch's CPU path on a prefix: one executor per core.
	cpuOpts := engine.Options{BatchSize: 1024, Executors: runtime.NumCPU(), CPUs: 1}
	cpuIn := in.Slice(0, min(rows, cpuRows))
	if _, err := engine.NewClient(loader).RunFrame(ctx, cpuIn.Slice(0, min(cpuIn.NumRows(), 50_000)), cpuOpts); err != nil {
		return err
	}
	start = time.Now()
	cpuOut, err := engine.NewClient(loader).RunFrame(ctx, cpuIn, cpuOpts)
	if err != nil {
		return err
	}
	cpuRate := float64(cpuIn.NumRows()) / time.Since(start).Seconds()
	logf("dfbatch CPU: %.0f rows/s", cpuRate)
	maxRel, err := compare(gpuOut.Slice(0, cpuIn.NumRows()), cpuOut)
	if err != nil {
		return err
	}
	logf("GPU against CPU outputs: max relative difference %.2g", maxRel)

	torch, torchErr := runTorch(ctx, python, dir, mlp, in, rows, batch)
	if torchErr != nil {
		logf("PyTorch: %v", torchErr)
	}
	report := results{
		Device: devices[0], CPU: cpuModel(), Cores: runtime.NumCPU(), Rows: rows, Batch: batch, Executors: executors,
		CPURows: cpuIn.NumRows(), GPURate: gpuRate, CPURate: cpuRate, MaxRel: maxRel, Torch: torch, TorchErr: torchErr,
		Command: "go run -tags cuda ./bench/gpu " + strings.Join(os.Args[1:], " "), When: time.Now().UTC(),
	}
	text := report.markdown()
	fmt.Print(text)
	return os.WriteFile(out, []byte(text), 0o644)
}

// inputs draws rows x features values uniform in [-1, 1) into float32
// columns, one goroutine per column group.
func inputs(rows, features int) *frame.Frame {
	names := bench.FeatureNames(features)
	cols := make([]frame.Column, features)
	var wg sync.WaitGroup
	for c := range features {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), 0x677075))
			v := make([]float32, rows)
			for r := range v {
				v[r] = rng.Float32()*2 - 1
			}
			cols[c] = frame.Float32s(names[c], v)
		})
	}
	wg.Wait()
	f, err := frame.New(cols...)
	if err != nil {
		panic(err) // distinct names, equal lengths
	}
	return f
}

// compare returns the largest relative difference between the "output"
// columns of got and want, or an error past 1e-4.
func compare(got, want *frame.Frame) (float64, error) {
	g, err := got.Float64Matrix(nil, "output")
	if err != nil {
		return 0, err
	}
	w, err := want.Float64Matrix(nil, "output")
	if err != nil {
		return 0, err
	}
	worst := 0.0
	for i := range w {
		rel := math.Abs(g[i]-w[i]) / (math.Abs(w[i]) + 1e-6)
		if rel > 1e-4 {
			return rel, fmt.Errorf("row %d: the GPU gives %v, the CPU %v", i, g[i], w[i])
		}
		worst = math.Max(worst, rel)
	}
	return worst, nil
}

// torchResult is mlp_torch.py's JSON line.
type torchResult struct {
	Torch, CUDA, Device string
	Tf32                bool    `json:"tf32"`
	Pageable            float64 `json:"pageable_rows_per_s"`
	Pinned              float64 `json:"pinned_rows_per_s"`
	MaxRel              float64 `json:"check_max_rel_err"`
	Error               string  `json:"error"`
}

// runTorch writes the weights and 4,096 check rows with dfbatch's outputs
// on them for mlp_torch.py, and runs it.
func runTorch(ctx context.Context, python, dir string, mlp *bench.MLP, in *frame.Frame, rows, batch int) (*torchResult, error) {
	root, err := bench.RepoRoot()
	if err != nil {
		return nil, err
	}
	check := in.Slice(0, min(4096, rows))
	x, err := check.Float32Matrix(nil, bench.FeatureNames(sizes[0])...)
	if err != nil {
		return nil, err
	}
	layers, err := mlp.WriteLayers(dir)
	if err != nil {
		return nil, err
	}
	spec := map[string]any{"features": sizes[0], "layers": layers, "check_rows": check.NumRows(), "check_input": "x.f32", "check_expected": "y.f32"}
	if err := bench.WriteFloat32s(filepath.Join(dir, "x.f32"), x); err != nil {
		return nil, err
	}
	if err := bench.WriteFloat32s(filepath.Join(dir, "y.f32"), mlp.Predict(x, check.NumRows())); err != nil {
		return nil, err
	}
	data, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	specPath := filepath.Join(dir, "spec.json")
	if err := os.WriteFile(specPath, data, 0o644); err != nil {
		return nil, err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, python, filepath.Join(root, "bench", "peers", "mlp_torch.py"), specPath, "--rows", fmt.Sprint(rows), "--batch", fmt.Sprint(batch))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var res torchResult
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &res); err != nil {
		return nil, fmt.Errorf("%s mlp_torch.py: %v: %s", python, runErr, lastLines(stderr.String(), 5))
	}
	if res.Error != "" {
		return nil, errors.New(res.Error)
	}
	return &res, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " | ")
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "# "+format+"\n", args...)
}

// results is one run's figures.
type results struct {
	Device                 gpu.Device
	CPU                    string
	Cores                  int
	Rows, Batch, Executors int
	CPURows                int
	GPURate, CPURate       float64
	MaxRel                 float64
	Torch                  *torchResult
	TorchErr               error
	Command                string
	When                   time.Time
}

func (r results) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("## GPU: MLP 256-1024-1024-1, dfbatch against PyTorch and its own CPU path\n\n")
	p("Written by `%s` on %s; measured on %s, %s (%d cores).\n\n", r.Command, r.When.Format("2006-01-02 15:04 UTC"), r.Device, r.CPU, r.Cores)
	p("| contender | rows/s | dfbatch GPU / it | target |\n| --- | --- | --- | --- |\n")
	p("| dfbatch GPU: engine, %d executors sharing the GPU, batch %d, %d rows from a frame of float32 columns | %.0f | | |\n", r.Executors, r.Batch, r.Rows, r.GPURate)
	if r.Torch != nil {
		p("| PyTorch %s (CUDA %s), eval, no_grad, batch %d, input in pageable host memory | %.0f | %.2fx | >= 0.8x |\n", r.Torch.Torch, r.Torch.CUDA, r.Batch, r.Torch.Pageable, r.GPURate/r.Torch.Pageable)
		p("| the same, input in pinned host memory, non-blocking copies | %.0f | %.2fx | |\n", r.Torch.Pinned, r.GPURate/r.Torch.Pinned)
	} else {
		p("| PyTorch | not run: %v | | >= 0.8x |\n", r.TorchErr)
	}
	p("| dfbatch CPU: engine, %d executors of 1 CPU, batch 1024, first %d rows | %.0f | %.1fx | >= 20x |\n\n", r.Cores, r.CPURows, r.CPURate, r.GPURate/r.CPURate)
	p("The GPU's outputs on the CPU run's rows differ from the CPU path's by at most %.2g relative (checked <= 1e-4).", r.MaxRel)
	if r.Torch != nil {
		tf32 := "off"
		if r.Torch.Tf32 {
			tf32 = "on"
		}
		p(" PyTorch's outputs on 4,096 rows differ from dfbatch's by at most %.2g relative; TF32 matmul is %s in PyTorch and off in dfbatch (cuBLAS's default math).", r.Torch.MaxRel, tf32)
	}
	p("\n")
	return b.String()
}
