package bench

import (
	"fmt"
	"slices"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/go-gota/gota/dataframe"
)

// overhead is comparison 1: the engine around the cheap sum model against
// calling the model once on the whole frame, and against calling it on
// each batch in a plain loop (what batching costs by itself, without the
// engine), and two executors against one. The model on each batch with
// nothing joined, against the whole-frame call, is the most any batched
// run can reach: the model's own cost on short slices.
func (r *runner) overhead() {
	const (
		idDirect  = "overhead/engine-1-vs-direct"
		idBatched = "overhead/engine-1-vs-direct-batched"
		idSliced  = "overhead/direct-sliced-vs-direct"
		idScaling = "overhead/sum-2-vs-1-executors"
	)
	if !r.anySelected(idDirect, idBatched, idSliced, idScaling) {
		return
	}
	rows, batch := r.cfg.OverheadRows, r.cfg.OverheadBatch
	r.logf("building a %d x %d float64 frame", rows, SumCols)
	in := SumFrame(rows)
	client := engine.NewClient(SumModel)
	runFrame := func(executors int) func() error {
		opts := engine.Options{BatchSize: batch, Executors: executors, CPUs: 1}
		return checkedOnce(func() (*frame.Frame, error) { return client.RunFrame(r.ctx, in, opts) },
			func(out *frame.Frame) error { return checkSumFrame(out, rows) })
	}
	direct := checkedOnce(func() (*frame.Frame, error) { return SumColumns(r.ctx, in) },
		func(out *frame.Frame) error { return checkSumFrame(out, rows) })
	size := fmt.Sprintf("sum of %d float64 columns, %s rows, batch %s", SumCols, count(rows), count(batch))
	engine1 := timedPasses("engine, 1 executor", rows, runFrame(1))
	if r.selected(idDirect) {
		r.pair(idDirect, "1. engine overhead: "+size, engine1,
			ptr(timedPasses("one direct call on the whole frame", rows, direct)), "",
			atLeast(0.9))
	}
	if r.selected(idBatched) {
		batched := checkedOnce(func() (*frame.Frame, error) { return BatchedDirect(r.ctx, in, batch) },
			func(out *frame.Frame) error { return checkSumFrame(out, rows) })
		r.pair(idBatched, "1. engine overhead over batching: "+size, engine1,
			ptr(timedPasses("the model on each batch in a loop, outputs concatenated", rows, batched)), "",
			atLeast(0.9))
	}
	if r.selected(idSliced) {
		sliced := checkedOnce(func() ([]*frame.Frame, error) { return SlicedDirect(r.ctx, in, batch) },
			func(outs []*frame.Frame) error {
				out, err := frame.Concat(outs...)
				if err != nil {
					return err
				}
				return checkSumFrame(out, rows)
			})
		r.pair(idSliced, "1. batching's floor, no engine and no join: "+size,
			timedPasses("the model on each batch in a loop, outputs kept apart", rows, sliced),
			ptr(timedPasses("one direct call on the whole frame", rows, direct)), "", nil)
	}
	if r.selected(idScaling) {
		r.pair(idScaling, "1. engine scaling, memory-bound: "+size,
			timedPasses("engine, 2 executors", rows, runFrame(2)), &engine1, "", nil)
	}
}

// edges is comparison 2: Run on a gota DataFrame against the naive gota
// Subset + errgroup + RBind loop.
func (r *runner) edges() {
	const id = "edges/gota"
	if !r.selected(id) {
		return
	}
	const executors = 2
	rows, batch := r.cfg.EdgesRows, r.cfg.EdgesBatch
	r.logf("building a %d x %d gota DataFrame", rows, SumCols)
	df := SumDataFrame(rows)
	client := engine.NewClient(SumModel)
	check := func(out dataframe.DataFrame) error {
		if got := out.Names(); !slices.Equal(got, []string{"sum"}) {
			return fmt.Errorf("output columns %v, want [sum]", got)
		}
		return CheckSums(out.Col("sum").Float(), rows)
	}
	dfbatch := checkedOnce(func() (dataframe.DataFrame, error) {
		return client.Run(r.ctx, df, engine.Options{BatchSize: batch, Executors: executors, CPUs: 1})
	}, check)
	naive := checkedOnce(func() (dataframe.DataFrame, error) { return NaiveRun(r.ctx, df, batch, executors) }, check)
	r.pair(id, fmt.Sprintf("2. DataFrame edges: %s x %d gota DataFrame, batch %s, %d executors", count(rows), SumCols, count(batch), executors),
		timedPasses("dfbatch client.Run", rows, dfbatch),
		ptr(timedPasses("gota Subset + errgroup + RBind", rows, naive)), "",
		atLeast(10))
}

// checkSumFrame checks the sum model's output frame.
func checkSumFrame(out *frame.Frame, rows int) error {
	a, err := out.Float64Col("sum")
	if err != nil {
		return err
	}
	return CheckSums(a.Float64Values(), rows)
}

// checkedOnce returns a pass that scores and, the first time only, checks
// the output: the warm-up pass checks, the timed ones do not pay for it.
func checkedOnce[T any](score func() (T, error), check func(T) error) func() error {
	checked := false
	return func() error {
		out, err := score()
		if err != nil || checked {
			return err
		}
		checked = true
		return check(out)
	}
}

func ptr[T any](v T) *T { return &v }

// count formats a row count: 1M, 10,000, 16,384.
func count(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000:
		return fmt.Sprintf("%d,%03d", n/1000, n%1000)
	}
	return fmt.Sprint(n)
}
