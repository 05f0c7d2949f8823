package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	_ "github.com/dfbatch/dfbatch/frame/parquet" // the files comparison writes Parquet
)

// childEnv, when set in a process's environment, makes ChildMain run the
// file-to-file job it holds (JSON) instead of the program: the memory
// comparison re-executes its own binary so that the child's peak RSS is
// the file run's alone.
const childEnv = "DFBATCH_BENCH_FILE_RUN"

// fileRunJob is what the child runs: RunFiles of Source into Destination
// as Parquet with the sum model.
type fileRunJob struct {
	Source, Destination string
	Batch, Executors    int
}

// fileRunResult is what the child prints.
type fileRunResult struct {
	RowsOut int
	Seconds float64
	Outputs []string
	// PeakRSS is the child's VmHWM in bytes, 0 where /proc has none.
	PeakRSS int64
	Error   string
}

// ChildMain runs the file-to-file child (see childEnv) or serves a model
// process (see modelEnv) and exits if this process is one; otherwise it
// returns at once. Programs that run Compare (and TestMain in this
// package) call it first.
func ChildMain() {
	serveModelProcess()
	job := os.Getenv(childEnv)
	if job == "" {
		return
	}
	os.Exit(runFileChild(job, os.Stdout))
}

func runFileChild(spec string, w io.Writer) int {
	var job fileRunJob
	var res fileRunResult
	err := json.Unmarshal([]byte(spec), &job)
	if err == nil {
		start := time.Now()
		client := engine.NewClient(SumModel)
		var report engine.Report
		report, err = client.RunFiles(context.Background(),
			engine.FileJob{Source: job.Source, Destination: job.Destination, OutputFormat: frame.Parquet},
			engine.Options{BatchSize: job.Batch, Executors: job.Executors, CPUs: 1})
		res.Seconds = time.Since(start).Seconds()
		res.RowsOut, res.Outputs = report.RowsOut, report.Outputs
		res.PeakRSS = peakRSS()
	}
	if err != nil {
		res.Error = err.Error()
	}
	json.NewEncoder(w).Encode(res)
	if err != nil {
		return 1
	}
	return 0
}

// memory is comparison 6: a file-to-file run of a generated CSV into
// Parquet in a child process, its peak RSS and rows/s.
func (r *runner) memory() {
	const id = "memory/files"
	if !r.selected(id) {
		return
	}
	rows, batch, executors := r.cfg.FileRows, r.cfg.FileBatch, r.cfg.FileExecutors
	comparison := fmt.Sprintf("6. memory: file to file, %s-row CSV (%d float columns) -> Parquet, sum model, batch %s, %d executors",
		count(rows), SumCols, count(batch), executors)
	a := "dfbatch RunFiles in a child process"
	limit := r.cfg.MemoryLimitMiB
	t := &target{text: fmt.Sprintf("peak RSS < %d MiB", limit)}
	dir := filepath.Join(r.tmp, "files")
	src := filepath.Join(dir, "in", "data.csv")
	start := time.Now()
	r.logf("writing a %d-row CSV", rows)
	size, err := writeSumCSV(src, rows)
	if err != nil {
		r.failed(id, comparison, a, "", t, err)
		return
	}
	r.logf("wrote %d MiB in %s", size>>20, time.Since(start).Round(time.Millisecond))
	self, err := os.Executable()
	if err != nil {
		r.failed(id, comparison, a, "", t, err)
		return
	}
	var peak int64
	var rates []float64
	reps := min(r.cfg.Reps, 2)
	for rep := range reps {
		dst := filepath.Join(dir, fmt.Sprintf("out-%d", rep))
		res, rss, err := r.runFileChild(self, fileRunJob{Source: src, Destination: dst, Batch: batch, Executors: executors})
		if err == nil && rep == 0 {
			err = checkSumParquet(res.Outputs, rows)
		}
		if err != nil {
			r.failed(id, comparison, a, "", t, err)
			return
		}
		os.RemoveAll(dst)
		peak = max(peak, rss)
		rates = append(rates, float64(res.RowsOut)/res.Seconds)
	}
	mib := float64(peak) / (1 << 20)
	r.add(Row{ID: id, Comparison: comparison,
		A:     fmt.Sprintf("%s: %s, peak RSS %.0f MiB (CSV %d MiB)", a, rate(median(rates))+"/s", mib, size>>20),
		B:     "none (a figure, not a race)",
		Ratio: fmt.Sprintf("%.0f MiB peak RSS", mib), WallRatio: "n/a", Target: t.text, Met: yesNo(mib < float64(limit))})
}

// runFileChild runs job in a child process of this binary and returns its
// result and peak RSS in bytes.
func (r *runner) runFileChild(self string, job fileRunJob) (fileRunResult, int64, error) {
	var res fileRunResult
	spec, err := json.Marshal(job)
	if err != nil {
		return res, 0, err
	}
	cmd := exec.CommandContext(r.ctx, self)
	cmd.Env = append(os.Environ(), childEnv+"="+string(spec))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return res, 0, fmt.Errorf("file-run child: %v; stderr: %s", errors.Join(runErr, err), strings.TrimSpace(stderr.String()))
	}
	if res.Error != "" {
		return res, 0, fmt.Errorf("file-run child: %s", res.Error)
	}
	if runErr != nil {
		return res, 0, fmt.Errorf("file-run child: %w", runErr)
	}
	if res.PeakRSS > 0 {
		return res, res.PeakRSS, nil
	}
	usage, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return res, 0, errors.New("file-run child: no peak RSS on this system")
	}
	return res, usage.Maxrss * 1024, nil // Linux reports KiB
}

// peakRSS is this process's peak resident set in bytes: VmHWM in
// /proc/self/status, 0 where there is none. The child reports it rather
// than its parent reading the child's rusage: on Linux, ru_maxrss carries
// the high-water mark of the memory the process had before exec, and a Go
// child is forked sharing its parent's memory, so a child of a 1 GiB
// parent reports at least 1 GiB.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kib * 1024
		}
	}
	return 0
}

// writeSumCSV writes the sum model's input, rows rows of 16 columns with
// two decimals, to path and returns its size.
func writeSumCSV(path string, rows int) (int64, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return 0, err
	}
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(strings.Join(SumColNames, ",") + "\n")
	line := make([]byte, 0, 256)
	for r := range rows {
		line = line[:0]
		for c := range SumCols {
			if c > 0 {
				line = append(line, ',')
			}
			line = strconv.AppendFloat(line, SumValue(r, c), 'f', 2, 64)
		}
		line = append(line, '\n')
		if _, err := w.Write(line); err != nil {
			return 0, err
		}
	}
	if err := w.Flush(); err != nil {
		return 0, err
	}
	info, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return info.Size(), f.Close()
}

// checkSumParquet checks that outputs hold the sums of rows rows, in
// order.
func checkSumParquet(outputs []string, rows int) error {
	if len(outputs) != 1 {
		return fmt.Errorf("file run wrote %d outputs, want 1", len(outputs))
	}
	rd, err := frame.OpenFile(outputs[0], frame.Parquet)
	if err != nil {
		return err
	}
	defer rd.Close()
	var sums []float64
	for {
		f, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		a, err := f.Float64Col("sum")
		if err != nil {
			return err
		}
		sums = append(sums, a.Float64Values()...)
	}
	return CheckSums(sums, rows)
}
