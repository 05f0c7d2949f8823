package bench

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/go-gota/gota/dataframe"
)

const (
	// bigRows is the size of the headline inputs: 1M rows x 16 float64
	// columns, 128 MB of values.
	bigRows = 1_000_000
	// smallRows is the size of the quicker DataFrame variant.
	smallRows = 100_000
)

// The inputs are built once per process: building them is not what is
// measured, and a 1M-row gota frame takes a while.
var (
	bigFrameOnce = sync.OnceValue(func() *frame.Frame { return SumFrame(bigRows) })
	bigDFOnce    = sync.OnceValue(func() dataframe.DataFrame { return SumDataFrame(bigRows) })
	smallDFOnce  = sync.OnceValue(func() dataframe.DataFrame { return SumDataFrame(smallRows) })
)

// reportRows reports throughput, rows scored per second, for a benchmark
// that scored rows per iteration. Call it after the b.Loop loop.
func reportRows(b *testing.B, rows int) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(rows)*float64(b.N)/s, "rows/s")
	}
}

// sums returns out's "sum" column.
func sums(tb testing.TB, out *frame.Frame) []float64 {
	tb.Helper()
	a, err := out.Float64Col("sum")
	if err != nil {
		tb.Fatal(err)
	}
	return a.Float64Values()
}

// checkSums fails unless got is the row sums of the rows-row input.
func checkSums(tb testing.TB, got []float64, rows int) {
	tb.Helper()
	if err := CheckSums(got, rows); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkEngineOverhead compares RunFrame on 1M rows in batches of
// 10,000 with calling the model once on the whole frame. engine-1 / direct
// is the engine's overhead (target: at most 1.10); engine-2 / engine-1 shows
// how the cheap model scales to two executors. direct-batched, the model
// called on each batch in a plain loop and the outputs concatenated, splits
// engine-1 / direct into what batching itself costs (direct-batched /
// direct) and what the engine's machinery adds (engine-1 / direct-batched);
// direct-sliced, the same loop without the Concat, splits batching's cost
// into the model's own on short slices (direct-sliced / direct) and the
// join (direct-batched / direct-sliced).
func BenchmarkEngineOverhead(b *testing.B) {
	const batch = 10_000
	in := bigFrameOnce()
	ctx := context.Background()

	b.Run("direct", func(b *testing.B) {
		out, err := SumColumns(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		checkSums(b, sums(b, out), bigRows)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := SumColumns(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
		reportRows(b, bigRows)
	})
	b.Run("direct-batched", func(b *testing.B) {
		out, err := BatchedDirect(ctx, in, batch)
		if err != nil {
			b.Fatal(err)
		}
		checkSums(b, sums(b, out), bigRows)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := BatchedDirect(ctx, in, batch); err != nil {
				b.Fatal(err)
			}
		}
		reportRows(b, bigRows)
	})
	b.Run("direct-sliced", func(b *testing.B) {
		outs, err := SlicedDirect(ctx, in, batch)
		if err != nil {
			b.Fatal(err)
		}
		out, err := frame.Concat(outs...)
		if err != nil {
			b.Fatal(err)
		}
		checkSums(b, sums(b, out), bigRows)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := SlicedDirect(ctx, in, batch); err != nil {
				b.Fatal(err)
			}
		}
		reportRows(b, bigRows)
	})
	for _, executors := range []int{1, 2} {
		b.Run(fmt.Sprintf("engine-%d", executors), func(b *testing.B) {
			client := engine.NewClient(SumModel)
			opts := engine.Options{BatchSize: batch, Executors: executors}
			out, err := client.RunFrame(ctx, in, opts)
			if err != nil {
				b.Fatal(err)
			}
			checkSums(b, sums(b, out), bigRows)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := client.RunFrame(ctx, in, opts); err != nil {
					b.Fatal(err)
				}
			}
			reportRows(b, bigRows)
		})
	}
}

// ratio names two of pairedRatios' runs: the metric is the time of run
// num over the time of run den.
type ratio struct{ num, den int }

// pairedRatios runs each of runs once per iteration, in an order that
// rotates from one iteration to the next, and reports for each ratio the
// median over iterations of its two runs' time ratio, as the metric
// "names[num]/names[den]". Load from other processes that slows an
// iteration slows the runs in it alike, so these ratios hold steadier on a
// shared machine than ratios of separately measured ns/op.
func pairedRatios(b *testing.B, names []string, runs []func(), ratios ...ratio) {
	samples := make([][]float64, len(ratios))
	times := make([]time.Duration, len(runs))
	for i := 0; b.Loop(); i++ {
		for k := range runs {
			r := (k + i) % len(runs)
			start := time.Now()
			runs[r]()
			times[r] = time.Since(start)
		}
		for k, q := range ratios {
			samples[k] = append(samples[k], float64(times[q.num])/float64(times[q.den]))
		}
	}
	for k, q := range ratios {
		slices.Sort(samples[k])
		b.ReportMetric(samples[k][len(samples[k])/2], names[q.num]+"/"+names[q.den])
	}
}

// BenchmarkEngineOverheadPaired measures the ratios of
// BenchmarkEngineOverhead pairwise, within each iteration: one iteration
// runs direct, direct-batched, engine-1, engine-2 and direct-sliced once
// each (its ns/op is their sum).
func BenchmarkEngineOverheadPaired(b *testing.B) {
	in := bigFrameOnce()
	ctx := context.Background()
	client := engine.NewClient(SumModel)
	runFrame := func(executors int) func() {
		opts := engine.Options{BatchSize: 10_000, Executors: executors}
		return func() {
			if _, err := client.RunFrame(ctx, in, opts); err != nil {
				b.Fatal(err)
			}
		}
	}
	direct := func() {
		if _, err := SumColumns(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	directBatched := func() {
		if _, err := BatchedDirect(ctx, in, 10_000); err != nil {
			b.Fatal(err)
		}
	}
	directSliced := func() {
		if _, err := SlicedDirect(ctx, in, 10_000); err != nil {
			b.Fatal(err)
		}
	}
	pairedRatios(b, []string{"direct", "direct-batched", "engine-1", "engine-2", "direct-sliced"},
		[]func(){direct, directBatched, runFrame(1), runFrame(2), directSliced},
		ratio{num: 2, den: 0}, ratio{num: 3, den: 2}, ratio{num: 1, den: 0}, ratio{num: 2, den: 1},
		ratio{num: 4, den: 0}, ratio{num: 1, den: 4})
}

// BenchmarkSumBlocks is the sum model's loop with no dfbatch code at all:
// the 16 columns of the 1M-row frame as plain float64 slices, added one
// column at a time into a fresh output, once over all rows (whole) or
// block by block of rows (blocks-N, a fresh N-row output per block, as the
// model gets per task). It reports the median per-iteration time ratios
// blocks-N/whole: how much a model that streams each column costs more on
// short slices than on the whole frame, whatever runs it.
func BenchmarkSumBlocks(b *testing.B) {
	in := bigFrameOnce()
	cols := make([][]float64, len(SumColNames))
	for c, name := range SumColNames {
		a, err := in.Float64Col(name)
		if err != nil {
			b.Fatal(err)
		}
		cols[c] = a.Float64Values()
	}
	blocks := []int{bigRows, 1_000, 10_000, 100_000}
	names := make([]string, len(blocks))
	runs := make([]func(), len(blocks))
	ratios := make([]ratio, 0, len(blocks)-1)
	for k, block := range blocks {
		names[k] = fmt.Sprintf("blocks-%d", block)
		runs[k] = func() { sumBlocks(cols, block) }
		if k > 0 {
			ratios = append(ratios, ratio{num: k, den: 0})
		}
	}
	names[0] = "whole"
	pairedRatios(b, names, runs, ratios...)
}

// sumBlocks adds cols row block by row block, each block into its own
// fresh output.
func sumBlocks(cols [][]float64, block int) {
	rows := len(cols[0])
	for start := 0; start < rows; start += block {
		end := min(start+block, rows)
		sum := make([]float64, end-start)
		for _, c := range cols {
			addTo(sum, c[start:end])
		}
	}
}

// allocBatchSizes are the batch sizes whose allocations per task are
// compared.
var allocBatchSizes = []int{1_000, 10_000, 100_000}

// BenchmarkAllocsPerTask runs the engine-1 case of BenchmarkEngineOverhead
// at several batch sizes and reports the allocations per task, which should
// not depend on the batch size: a task's rows are sliced, not copied, so
// only the bytes grow with the batch. The per-run allocations are spread
// over fewer tasks at larger batches (10 tasks at 100,000), which raises
// allocs/task there by (per-run allocations) / 10; TestAllocsPerTask
// compares runs with the same number of tasks instead.
func BenchmarkAllocsPerTask(b *testing.B) {
	in := bigFrameOnce()
	ctx := context.Background()
	client := engine.NewClient(SumModel)
	for _, batch := range allocBatchSizes {
		b.Run(fmt.Sprintf("batch-%d", batch), func(b *testing.B) {
			opts := engine.Options{BatchSize: batch, Executors: 1}
			tasks := len(engine.Plan(bigRows, batch))
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				if _, err := client.RunFrame(ctx, in, opts); err != nil {
					b.Fatal(err)
				}
			}
			runtime.ReadMemStats(&after)
			runs := float64(b.N)
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/runs/float64(tasks), "allocs/task")
			b.ReportMetric(float64(tasks), "tasks")
			reportRows(b, bigRows)
		})
	}
}

// TestAllocsPerTask checks that the engine's allocations per task do not
// grow with the batch size. Each batch size runs the same number of tasks,
// so the per-run allocations weigh the same in each and any difference is
// per task.
func TestAllocsPerTask(t *testing.T) {
	const tasks = 20
	// slack is the allocations per task by which a larger batch may exceed
	// the smallest: noise from goroutines that finish after Wait returns,
	// or a slice that grows one more time.
	const slack = 2
	ctx := context.Background()
	client := engine.NewClient(SumModel)
	batches := []int{100, 1_000, 10_000}
	perTask := make([]float64, len(batches))
	for k, batch := range batches {
		in := SumFrame(tasks * batch)
		opts := engine.Options{BatchSize: batch, Executors: 1}
		out, err := client.RunFrame(ctx, in, opts)
		if err != nil {
			t.Fatal(err)
		}
		checkSums(t, sums(t, out), tasks*batch)
		perTask[k] = testing.AllocsPerRun(5, func() {
			if _, err := client.RunFrame(ctx, in, opts); err != nil {
				t.Fatal(err)
			}
		}) / tasks
		t.Logf("batch %6d: %.1f allocs/task", batch, perTask[k])
	}
	for k := 1; k < len(batches); k++ {
		if perTask[k] > perTask[0]+slack {
			t.Errorf("batch %d: %.1f allocs/task, more than batch %d's %.1f + %d: allocations grow with the batch size",
				batches[k], perTask[k], batches[0], perTask[0], slack)
		}
	}
}

// BenchmarkDataFrameEdges compares client.Run, gota in and gota out, with
// naiveRun on 1M rows in batches of 10,000 with 2 executors. Target:
// naive-gota / dfbatch at least 10.
func BenchmarkDataFrameEdges(b *testing.B) {
	benchmarkDataFrameEdges(b, bigDFOnce(), 10_000)
}

// BenchmarkDataFrameEdgesSmall is BenchmarkDataFrameEdges on 100,000 rows in
// batches of 1,000 (the same 100 tasks), for a quicker run.
func BenchmarkDataFrameEdgesSmall(b *testing.B) {
	benchmarkDataFrameEdges(b, smallDFOnce(), 1_000)
}

func benchmarkDataFrameEdges(b *testing.B, df dataframe.DataFrame, batch int) {
	const executors = 2
	ctx := context.Background()
	rows := df.Nrow()
	runs := map[string]func() (dataframe.DataFrame, error){
		"dfbatch": func() (dataframe.DataFrame, error) {
			client := engine.NewClient(SumModel)
			return client.Run(ctx, df, engine.Options{BatchSize: batch, Executors: executors})
		},
		"naive-gota": func() (dataframe.DataFrame, error) {
			return NaiveRun(ctx, df, batch, executors)
		},
	}
	for _, name := range []string{"dfbatch", "naive-gota"} {
		run := runs[name]
		b.Run(name, func(b *testing.B) {
			out, err := run()
			if err != nil {
				b.Fatal(err)
			}
			if got := out.Names(); !slices.Equal(got, []string{"sum"}) {
				b.Fatalf("output columns %v, want [sum]", got)
			}
			checkSums(b, out.Col("sum").Float(), rows)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := run(); err != nil {
					b.Fatal(err)
				}
			}
			reportRows(b, rows)
		})
	}
}
