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

- **A/B per CPU-second** is contender A's rows per CPU-second over contender B's: the CPU time of
  this process, all its threads, user and system (getrusage), during each contender's repetition.
  Above 1, A does the same work with less CPU. It is the figure targets are judged on, except
  where a target says *wall*: on a shared machine, other processes' load stretches wall time but
  not a contender's own CPU time. **A/B per wall second** is the same on elapsed time. Each is the
  median of the per-repetition ratios, with their range in brackets; the rows/s shown are each
  contender's median. Each repetition times A, then B (A B A B ...), on the same input, ending
  with a garbage collection that the contender pays for.
- Every contender scores the same input, built once before timing, and is warmed up (one
  untimed pass) first; a contender whose pass is shorter than the repetition's minimum repeats
  it within the repetition. Outputs are checked once before timing, every output column and every
  label: the sum model against exact sums; dfbatch's ONNX runner at two batch sizes (the second
  leaves a short last batch) against ONNX Runtime, and ONNX Runtime against a reference made
  without either (scikit-learn's own predictions for the zoo, plain Go for the PyTorch MLPs);
  pandas against dfbatch.
- **dfbatch** is always run as users run it: through the engine (` + "`RunFrame`" + `), with the
  model loaded once per executor, 1 CPU per executor. **ONNX Runtime** is called directly, as a
  Go program using it would, in its best case: an AdvancedSession with tensors allocated once,
  the batch's rows copied into the input tensor. *1 thread*: 1 executor against 1 session of 1
  intra-op thread. *N executors vs N sessions*: the equal peer, N sessions of 1 thread each on
  their own goroutine taking the next batch, the same threads, batch and work. *N executors vs
  1 session of N threads*: ONNX Runtime's own parallelism, splitting each batch (informative).
- **1. engine overhead**: the engine (RunFrame in batches on 1 executor) against one call of
  the model on the whole frame, on a model so cheap that only overhead shows; target >= 0.9x.
  *Over batching*: the engine against the same model called on each batch in a plain loop and
  the outputs concatenated, which is the engine's own cost (target >= 0.9x); the rest of the gap
  to the whole-frame call is the model's, whose adds over 10,000-row column slices run slower
  than one pass over 1M rows. *Batching's floor*: the model on each batch with nothing joined
  against the whole-frame call, the most any run in batches of this size can reach.
  **Scaling**: 2 executors against 1, on the memory-bound sum model (informative) and on the
  largest MLP with 1 CPU per executor, which is CPU-bound (target >= 1.8x on wall time, which
  only an otherwise idle machine can give: see the load average above).
- **2. DataFrame edges**: ` + "`client.Run`" + ` with a gota DataFrame in and out against the errgroup
  loop a user would write on gota (Subset per batch, RBind the outputs); target >= 10x.
- **3. PyTorch MLPs**: MLPs as ` + "`torch.onnx.export`" + ` writes them (Gemm + Relu, sigmoid
  output), target >= 0.8x; and dfbatch's ` + "`onnx.RuntimeORT`" + ` backend through the engine
  (1 executor, 1 CPU) against ONNX Runtime called directly on 1 thread: the engine's and the frame
  conversion's cost around the same library (target >= 0.9x).
- **4. model zoo**: models trained by scikit-learn on data at bench time (` + "`bench/zoo`" + `) and
  exported in their converters' layout: MLPs (relu, tanh, logistic, identity hidden layers;
  softmax or logistic outputs), logistic regression, gradient boosting and random forests,
  LightGBM- and XGBoost-shaped ensembles (unbalanced trees, missing values). Targets: neural nets
  and linear models >= 0.8x, tree ensembles >= 1.5x, at 1 thread and N executors.
- **5. the Python way**: the same MLP scored by pandas + numpy in batches on a thread pool of as
  many workers as cores, one OpenBLAS thread each, outputs concatenated in order (timed by the
  script itself, after a warm-up), against dfbatch through the engine on as many executors.
  Informative: it is what a Python user of the batch platform (BatchInferenceClient) runs locally.
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
