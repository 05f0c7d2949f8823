package frame_test

import (
	"bytes"
	"errors"
	"io"
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/stretchr/testify/require"

	"github.com/dfbatch/dfbatch/frame"
)

// FuzzCSVRoundTrip reads arbitrary bytes as CSV and, for those that parse,
// checks the reader's batching, then that the frame survives a trip through
// a gota DataFrame (ToDataFrame, FromDataFrame) and one through the CSV
// writer and reader.
func FuzzCSVRoundTrip(f *testing.F) {
	for _, seed := range []string{
		"a,b,c,d\n1,1.5,x,true\n2,,y,false\nNA,2.5,,\n3,-0.5,z,T\n",
		"x\n1\n\n2\n\"\"\n3\n4\n",
		"name,score\n\"Smith, J\",0.5\n\"say \"\"hi\"\"\",1e300\n\"two\r\nlines\",-Inf\n",
		"s,f\nnan,nan\ninf,1\nNaN,NaN\n",
		",X0\n1,2\n,\n",
		"n\n9223372036854775807\n-9223372036854775808\n99999999999999999999\n",
		"b\nT\nfalse\nNULL\nTRUE\n",
		"\ufeffu,v\nünï,\xff\xfe\n",
		"\ufeff\ufeffa\n1\n",
		"\"\"\n\"\"\n7\n",
		"a,b\n1,2,3\n",
		"a\n",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const batch = 3
		r, err := frame.NewCSVReader(bytes.NewReader(data), frame.WithBatchRows(batch))
		if err != nil {
			return
		}
		var frames []*frame.Frame
		rows := 0
		for {
			fr, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return
			}
			require.Same(t, r.Schema(), fr.Schema())
			require.Equal(t, rows, fr.RowOffset())
			require.Positive(t, fr.NumRows())
			require.LessOrEqual(t, fr.NumRows(), batch)
			if len(frames) > 0 {
				require.Equal(t, batch, frames[len(frames)-1].NumRows(), "only the last frame may be short")
			}
			rows += fr.NumRows()
			frames = append(frames, fr)
		}
		orig := frame.Empty(r.Schema())
		if len(frames) > 0 {
			orig, err = frame.Concat(frames...)
			require.NoError(t, err)
		}

		back, err := frame.FromDataFrame(orig.ToDataFrame())
		require.NoError(t, err)
		// ToDataFrame documents that gota renames a column named "".
		requireSameCells(t, orig, back, func(want, got arrow.Field) bool {
			return want.Name == got.Name || want.Name == "" && isGotaFillName(got.Name)
		})

		var buf bytes.Buffer
		w, err := frame.NewCSVWriter(&buf)
		require.NoError(t, err)
		require.NoError(t, w.Write(orig))
		require.NoError(t, w.Close())
		again, err := frame.NewCSVReader(bytes.NewReader(buf.Bytes()))
		require.NoError(t, err, "reading back %q", buf.String())
		var reread []*frame.Frame
		for {
			fr, err := again.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err, "reading back %q", buf.String())
			reread = append(reread, fr)
		}
		copied := frame.Empty(again.Schema())
		if len(reread) > 0 {
			copied, err = frame.Concat(reread...)
			require.NoError(t, err)
		}
		requireSameCells(t, orig, copied, func(want, got arrow.Field) bool { return want.Name == got.Name })
	})
}

// isGotaFillName reports whether name is one gota gives a column without
// one: X0, X1, ...
func isGotaFillName(name string) bool {
	if len(name) < 2 || name[0] != 'X' {
		return false
	}
	for _, c := range name[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// requireSameCells compares two frames of the types CSV inference makes,
// cell by cell, null for null. A NaN float counts as null, as FromDataFrame
// documents and as the CSV writer's "NaN" reads back. A column without any
// present value may come back with another type: neither gota nor CSV
// text keeps the type of a column of nothing but nulls.
func requireSameCells(t *testing.T, want, got *frame.Frame, sameName func(want, got arrow.Field) bool) {
	t.Helper()
	require.Equal(t, want.NumCols(), got.NumCols())
	require.Equal(t, want.NumRows(), got.NumRows())
	for j := range want.NumCols() {
		wf, gf := want.Schema().Field(j), got.Schema().Field(j)
		require.Truef(t, sameName(wf, gf), "column %d: want name %q, got %q", j, wf.Name, gf.Name)
		wc, gc := want.Column(j), got.Column(j)
		present := false
		for i := range want.NumRows() {
			if _, ok := cell(t, wc, i); ok {
				present = true
				break
			}
		}
		if present {
			require.Truef(t, arrow.TypeEqual(wf.Type, gf.Type), "column %q: want %s, got %s", wf.Name, wf.Type, gf.Type)
		}
		for i := range want.NumRows() {
			wv, wok := cell(t, wc, i)
			gv, gok := cell(t, gc, i)
			require.Equalf(t, wok, gok, "column %q, row %d: want %v (present %v), got %v (present %v)", wf.Name, i, wv, wok, gv, gok)
			require.Equalf(t, wv, gv, "column %q, row %d", wf.Name, i)
		}
	}
}

// cell returns row i of a and whether it is present. Floats come back as
// their bits, so that -0 and 0 differ.
func cell(t *testing.T, a arrow.Array, i int) (any, bool) {
	if a.IsNull(i) {
		return nil, false
	}
	switch c := a.(type) {
	case *array.Float64:
		if math.IsNaN(c.Value(i)) {
			return nil, false
		}
		return math.Float64bits(c.Value(i)), true
	case *array.Int64:
		return c.Value(i), true
	case *array.String:
		return c.Value(i), true
	case *array.Boolean:
		return c.Value(i), true
	}
	t.Fatalf("CSV inference made a %s column", a.DataType())
	return nil, false
}
