// Package bench measures dfbatch against its performance targets and its
// peers: the cost of the engine around a cheap model, the DataFrame path
// against the errgroup + Subset + RBind loop a user would otherwise write,
// ONNX models on dfbatch's pure-Go runner against ONNX Runtime, the same
// model in pandas + numpy, and the memory of a file-to-file run.
//
// The cases (models, inputs, baselines) live here so that the Go benchmarks
// in this package and the side-by-side comparison (Compare, run by
// `go run ./bench/compare`) score the same things. See README.md.
package bench

import (
	"context"
	"fmt"

	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
	"golang.org/x/sync/errgroup"
)

// SumCols is the number of float64 columns the sum model adds.
const SumCols = 16

// SumColNames are the sum model's input columns, "x00" to "x15".
var SumColNames = func() []string {
	names := make([]string, SumCols)
	for c := range names {
		names[c] = fmt.Sprintf("x%02d", c)
	}
	return names
}()

// SumValue is the sum model's input at row r, column c: a multiple of 1/4
// below 250, so that sums are exact whatever the order of addition.
func SumValue(r, c int) float64 { return float64((r*7+c*13)%1000) / 4 }

// SumColumns is the cheap model: the sum of the 16 float64 columns, as one
// float64 column "sum". It reads the Arrow values in place, adds one column
// at a time into one output slice (one sequential stream in, one out: on
// the whole 1M-row frame this ran about 30% faster here than adding in
// cache-sized blocks of rows) and wraps that slice without copying.
func SumColumns(_ context.Context, in *frame.Frame) (*frame.Frame, error) {
	sum := make([]float64, in.NumRows())
	for _, name := range SumColNames {
		a, err := in.Float64Col(name)
		if err != nil {
			return nil, err
		}
		addTo(sum, a.Float64Values())
	}
	return frame.New(frame.Float64s("sum", sum))
}

// addTo adds values to sum, element by element, four at a time. A loop of
// one element at a time ran at 1x or 1.7x this speed on the whole frame
// depending only on where the linker placed it (whether the loop crossed a
// 64-byte boundary), so that any change elsewhere in the binary moved the
// baseline of every ratio; four at a time, it runs at the fast speed
// either way.
func addTo(sum, values []float64) {
	out := sum[:len(values)]
	i := 0
	for ; i+4 <= len(values); i += 4 {
		v, o := values[i:i+4:i+4], out[i:i+4:i+4]
		o[0] += v[0]
		o[1] += v[1]
		o[2] += v[2]
		o[3] += v[3]
	}
	for ; i < len(values); i++ {
		out[i] += values[i]
	}
}

// SumModel is SumColumns as a model.
var SumModel = model.Func(SumColumns)

// BatchedDirect calls SumColumns on each batch of in in turn and joins the
// outputs in order: the engine's data path without its executors, events
// and bookkeeping.
func BatchedDirect(ctx context.Context, in *frame.Frame, batch int) (*frame.Frame, error) {
	outs, err := SlicedDirect(ctx, in, batch)
	if err != nil {
		return nil, err
	}
	return frame.Concat(outs...)
}

// SlicedDirect calls SumColumns on each batch of in in turn and returns the
// outputs in order, not joined: BatchedDirect without its frame.Concat, the
// cost of running the model on slices alone.
func SlicedDirect(ctx context.Context, in *frame.Frame, batch int) ([]*frame.Frame, error) {
	rows := in.NumRows()
	outs := make([]*frame.Frame, 0, (rows+batch-1)/batch)
	for start := 0; start < rows; start += batch {
		out, err := SumColumns(ctx, in.Slice(start, min(start+batch, rows)))
		if err != nil {
			return nil, err
		}
		outs = append(outs, out)
	}
	return outs, nil
}

// SumFrame builds a rows x 16 float64 frame of SumValue(r, c).
func SumFrame(rows int) *frame.Frame {
	cols := make([]frame.Column, SumCols)
	for c, name := range SumColNames {
		v := make([]float64, rows)
		for r := range v {
			v[r] = SumValue(r, c)
		}
		cols[c] = frame.Float64s(name, v)
	}
	f, err := frame.New(cols...)
	if err != nil {
		panic(err) // distinct names, equal lengths: cannot happen
	}
	return f
}

// SumDataFrame builds the same values as SumFrame as a gota DataFrame.
func SumDataFrame(rows int) dataframe.DataFrame {
	s := make([]series.Series, SumCols)
	for c, name := range SumColNames {
		v := make([]float64, rows)
		for r := range v {
			v[r] = SumValue(r, c)
		}
		s[c] = series.New(v, series.Float, name)
	}
	return dataframe.New(s...)
}

// CheckSums returns an error unless got is the row sums of the first rows
// rows of the sum model's input.
func CheckSums(got []float64, rows int) error {
	if len(got) != rows {
		return fmt.Errorf("got %d sums, want %d", len(got), rows)
	}
	for r, s := range got {
		want := 0.0
		for c := range SumCols {
			want += SumValue(r, c)
		}
		if s != want {
			return fmt.Errorf("row %d: sum = %v, want %v", r, s, want)
		}
	}
	return nil
}

// sumGota is the cheap model written on gota, as NaiveRun scores each
// batch.
func sumGota(batch dataframe.DataFrame) dataframe.DataFrame {
	sum := make([]float64, batch.Nrow())
	for _, name := range SumColNames {
		addTo(sum, batch.Col(name).Float())
	}
	return dataframe.New(series.New(sum, series.Float, "sum"))
}

// NaiveRun is what a user would write without dfbatch to score df with the
// sum model: Subset each batch, score the batches on an errgroup limited to
// executors goroutines, and RBind the outputs in order.
func NaiveRun(ctx context.Context, df dataframe.DataFrame, batchSize, executors int) (dataframe.DataFrame, error) {
	rows := df.Nrow()
	outs := make([]dataframe.DataFrame, (rows+batchSize-1)/batchSize)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(executors)
	for i := range outs {
		start, end := i*batchSize, min((i+1)*batchSize, rows)
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			indexes := make([]int, end-start)
			for k := range indexes {
				indexes[k] = start + k
			}
			batch := df.Subset(indexes)
			if batch.Err != nil {
				return batch.Err
			}
			outs[i] = sumGota(batch)
			return outs[i].Err
		})
	}
	if err := g.Wait(); err != nil {
		return dataframe.DataFrame{Err: err}, err
	}
	out := outs[0]
	for _, o := range outs[1:] {
		out = out.RBind(o)
	}
	return out, out.Err
}
