package bench

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// WriteMarkdown writes res as bench/RESULTS.md: the machine and versions,
// the command, the table and how to read it.
func WriteMarkdown(w io.Writer, res *Results) error {
	e := res.Env
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# dfbatch side by side with its peers\n\n")
	p("Written by `%s` on %s. Do not edit: run the command again to refresh it.\n\n", e.Command, e.Started.UTC().Format("2006-01-02 15:04 MST"))
	p("## Machine and versions\n\n")
	p("| | |\n| --- | --- |\n")
	p("| CPU | %s |\n", e.CPU)
	p("| dfbatch's kernels on this CPU | %s |\n", e.Kernels)
	p("| cores | %d (GOMAXPROCS %d) |\n", e.Cores, e.GOMAXPROCS)
	p("| load average (1, 5, 15 min) | %s at the start, %s at the end |\n", e.LoadStart, e.LoadEnd)
	p("| Go | %s |\n", e.GoVersion)
	p("| dfbatch | commit %s |\n", e.Commit)
	if e.ORTVersion != "" {
		p("| ONNX Runtime | %s (`%s`), called through github.com/yalue/onnxruntime_go %s |\n", e.ORTVersion, e.ORTLibrary, e.ORTGo)
	} else {
		p("| ONNX Runtime | not installed: its rows are skipped |\n")
	}
	if py := e.Python; py != nil {
		p("| Python | %s, numpy %s, pandas %s (`%s`) |\n", py.Python, py.NumPy, py.Pandas, py.Path)
	} else {
		p("| Python | numpy or pandas not installed: its rows are skipped |\n")
	}
	if e.Sklearn != "" {
		p("| model zoo | trained by scikit-learn %s |\n", e.Sklearn)
	}
	p("| command | `%s` |\n", e.Command)
	p("| repetitions | %d per contender, each at least %s of work, alternating A B A B ... |\n", e.Reps, e.MinRep)
	p("| duration | %s |\n\n", e.Duration.Round(time.Second))
	p("## Results\n\n%s\n%s\n", tableHeader, tableRule)
	// Rows print as measured; here they go in the comparisons' order (the
	// CPU-bound scaling row is measured with the MLPs).
	rows := slices.Clone(res.Rows)
	slices.SortStableFunc(rows, func(a, b Row) int { return cmp.Compare(comparisonNumber(a), comparisonNumber(b)) })
	for _, row := range rows {
		p("%s\n", row.markdown())
	}
	if len(res.Notes) > 0 {
		p("\nSkipped and failed:\n\n")
		for _, n := range res.Notes {
			p("- %s\n", strings.ReplaceAll(n, "\n", " "))
		}
	}
	p("%s", readingNotes)
	if res.GPU != "" {
		p("\n%s\n\n%s", gpuPreface, res.GPU)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// gpuPreface says where the GPU section comes from.
const gpuPreface = "The GPU comparison needs a GPU and a cuda build, so `bench/compare` does not run it: " +
	"`go run -tags cuda ./bench/gpu` measures it and writes `bench/RESULTS-GPU.md`, copied below as it was last written."

// comparisonNumber is the number a row's comparison starts with.
func comparisonNumber(r Row) int {
	n, _, _ := strings.Cut(r.Comparison, ".")
	i, err := strconv.Atoi(n)
	if err != nil {
		return math.MaxInt
	}
	return i
}

const readingNotes = `
## How to read the table

- **ratio A/B** is contender A's throughput over contender B's: above 1, A scores more rows per
  second. Each repetition times A, then B, on the same input, and the ratio shown is the median of
  the per-repetition ratios; the rows/s shown are each contender's median. Load from other
  processes slows the two runs of a repetition alike, so the ratio holds steadier than either
  figure, which can differ slightly from the ratio of the two medians.
- Every contender scores the same input, built once before timing, and is warmed up (one
  untimed pass) first; a contender whose pass is shorter than the repetition's minimum repeats
  it within the repetition. Outputs are checked once before timing: the sum model against exact
  sums, dfbatch's ONNX runner against ONNX Runtime (within 1e-4 relative), pandas against
  dfbatch.
- **1. engine overhead**: the engine (RunFrame in batches on 1 executor) against one call of
  the model on the whole frame, on a model so cheap that only overhead shows; target: the engine
  takes at most 1.10x the direct call's time. Part of the gap is batching itself (the model on
  short column chunks, the final Concat), not the engine: see bench/README.md.
  **Scaling**: 2 executors against 1, on the memory-bound sum model (informative) and on the
  largest MLP with 1 CPU per executor, which is CPU-bound (target >= 1.8x; a 2-core machine with
  other load cannot give two executors two free cores).
- **2. DataFrame edges**: ` + "`client.Run`" + ` with a gota DataFrame in and out against the errgroup
  loop a user would write on gota (Subset per batch, RBind the outputs); target >= 10x.
- **3. ONNX MLPs**: the MLP as PyTorch exports it, on dfbatch's pure-Go runner against ONNX
  Runtime on the same file and data. *1 thread*: one model instance called on pre-sliced frames
  against one ONNX Runtime session with 1 intra-op thread (target >= 0.5x at batch >= 1024).
  *All cores*: dfbatch through the engine with one executor per core against one ONNX Runtime
  session with one intra-op thread per core (informative). *ONNX Runtime backend*: dfbatch's
  ` + "`onnx.RuntimeORT`" + ` through the engine (1 executor, 1 CPU) against ONNX Runtime called
  directly on 1 thread: the engine's and the frame conversion's cost around the same library
  (target >= 0.9x). ONNX Runtime called directly gets the best case: an AdvancedSession with
  tensors allocated once, the batch's rows copied in from a row-major matrix.
- **4. trees**: a binary gradient-boosting classifier (TreeEnsembleClassifier, LOGISTIC) on
  dfbatch's pure-Go tree runner against ONNX Runtime; target >= 1.0x on 1 thread.
- **5. the Python way**: the same MLP scored by pandas + numpy in batches on a thread pool of as
  many workers as cores, one OpenBLAS thread each, outputs concatenated in order (timed by the
  script itself, after a warm-up), against dfbatch through the engine on as many executors.
  Informative: it is what a Python user of the reference platform runs locally.
- **6. memory**: a file-to-file run (CSV in, Parquet out) in a child process (this binary run
  again), so that its peak RSS is the run's alone: VmHWM, which the child reads from
  /proc/self/status when it is done (not the parent's getrusage of the child: on Linux its
  ru_maxrss starts from the parent's own peak, which the child inherits across exec). rows/s is
  over the whole run, CSV parsing included. Target: peak RSS < 400 MiB.
- **7. subprocess protocol**: an identity model written in Go (it returns its input) served by
  this binary run again as a ` + "`subprocess.Command`" + `, one process per executor, against the
  same model in process; both through the engine with the same options (1 CPU per executor).
  Each batch crosses the pipes both ways in the payload format named, so the ratio is the
  protocol's whole cost around a model that costs nothing (below 1: the subprocess is slower);
  informative. The processes are started before timing (WarmUp): a run without it also pays
  each process's start, tens of milliseconds.
- **met?**: yes or no against the target; empty where the row is informative; *skipped* where a
  peer is not installed (` + "`bench/peers/setup.sh`" + ` installs them); *error* where a contender
  failed, with the error in its cell and above.
`
