package engine

import (
	"fmt"
	"io"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dfbatch/dfbatch/frame"
)

// RerunFile returns the rows of a file run's input that are in no written
// output and not in the run's checkpoint: the rows of its failed and
// incomplete tasks, the rows after the last one read, or every row when no
// checkpoint was kept. They are exactly what a run with FileJob.Resume
// would score. Frames are numbered as the rows are in the input. The
// reader is empty for an input whose output was written; close it.
func (r Report) RerunFile(input string) (frame.Reader, error) {
	i := slices.IndexFunc(r.Files, func(f FileResult) bool { return f.Input == input })
	if i < 0 {
		return nil, fmt.Errorf("%s is not an input of execution %s", input, r.ExecutionID)
	}
	file := r.Files[i]
	rd, err := frame.OpenFile(input, file.Format, file.ReadOptions...)
	if err != nil {
		return nil, err
	}
	var ranges []rowRange
	switch {
	case file.Written:
	case r.Checkpoint == "":
		ranges = []rowRange{{0, -1}}
	default:
		for _, t := range r.Rerun() {
			if t.Source == input {
				ranges = append(ranges, rowRange{t.Start, t.End})
			}
		}
		if !file.ReadAll {
			ranges = append(ranges, rowRange{file.RowsRead, -1})
		}
	}
	return &rangeReader{r: rd, ranges: ranges}, nil
}

// rowRange is rows [lo, hi) of a file; hi < 0 means to its end.
type rowRange struct{ lo, hi int }

// rangeReader passes on the rows of r that lie in ranges, which are sorted
// and disjoint.
type rangeReader struct {
	r      frame.Reader
	ranges []rowRange
	cur    *frame.Frame // the frame being cut
}

func (rr *rangeReader) Schema() *arrow.Schema { return rr.r.Schema() }

func (rr *rangeReader) Next() (*frame.Frame, error) {
	for len(rr.ranges) > 0 {
		if rr.cur == nil || rr.cur.NumRows() == 0 {
			f, err := rr.r.Next()
			if err != nil {
				return nil, err
			}
			rr.cur = f
			continue
		}
		first := rr.cur.RowOffset()
		last := first + rr.cur.NumRows()
		want := rr.ranges[0]
		switch {
		case want.hi >= 0 && want.hi <= first:
			rr.ranges = rr.ranges[1:]
		case want.lo >= last:
			rr.cur = nil
		default:
			lo, hi := max(want.lo, first), last
			if want.hi >= 0 {
				hi = min(want.hi, last)
			}
			out := rr.cur.Slice(lo-first, hi-first).WithRowOffset(lo)
			rr.cur = rr.cur.Slice(hi-first, rr.cur.NumRows()).WithRowOffset(hi)
			return out, nil
		}
	}
	return nil, io.EOF
}

func (rr *rangeReader) Close() error { return rr.r.Close() }
