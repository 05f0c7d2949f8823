package frame_test

import (
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dfbatch/dfbatch/frame"
)

func TestFrameReaderCutsTheFrameIntoNumberedBatches(t *testing.T) {
	// A slice of a larger frame: the reader numbers rows from its own
	// first row, as a file reader numbers them from the file's.
	f := mustNew(t, frame.Float64s("x", floatSeq(0, 25)), frame.Int64s("id", intSeq(25))).Slice(3, 25)
	r, err := frame.NewFrameReader(f, frame.WithBatchRows(10))
	require.NoError(t, err)
	assert.True(t, f.Schema().Equal(r.Schema()))

	var rows, offsets []int
	for {
		b, err := r.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		rows = append(rows, b.NumRows())
		offsets = append(offsets, b.RowOffset())
		id, err := b.Int64Col("id")
		require.NoError(t, err)
		assert.Equal(t, int64(3+b.RowOffset()), id.Value(0), "batch at %d holds the frame's rows from there", b.RowOffset())
	}
	assert.Equal(t, []int{10, 10, 2}, rows)
	assert.Equal(t, []int{0, 10, 20}, offsets)
	_, err = r.Next()
	assert.ErrorIs(t, err, io.EOF, "EOF stays EOF")
	require.NoError(t, r.Close())
	_, err = r.Next()
	assert.ErrorContains(t, err, "after Close")
}

func TestFrameReaderReadsBackWithReadAll(t *testing.T) {
	f := mustNew(t, frame.Int64s("id", intSeq(70_000)))
	r, err := frame.NewFrameReader(f)
	require.NoError(t, err)
	first, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, frame.DefaultBatchRows, first.NumRows(), "batches are DefaultBatchRows by default")

	r, err = frame.NewFrameReader(f)
	require.NoError(t, err)
	back, err := frame.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, f.Head(f.NumRows()), back.Head(back.NumRows()))
}

func TestFrameReaderOfNoRowsEndsAtOnce(t *testing.T) {
	f := mustNew(t, frame.Int64s("id", nil))
	r, err := frame.NewFrameReader(f)
	require.NoError(t, err)
	_, err = r.Next()
	assert.ErrorIs(t, err, io.EOF)
	assert.Equal(t, []string{"id"}, frame.Empty(r.Schema()).ColumnNames())
}

func TestFrameReaderRejectsBadArguments(t *testing.T) {
	f := mustNew(t, frame.Int64s("id", intSeq(3)))
	_, err := frame.NewFrameReader(nil)
	assert.ErrorContains(t, err, "nil frame")
	_, err = frame.NewFrameReader(f, frame.WithBatchRows(0))
	assert.ErrorContains(t, err, "WithBatchRows(0)")
	_, err = frame.NewFrameReader(f, frame.WithDelimiter(';'))
	assert.ErrorContains(t, err, "WithBatchRows only")
}

// intSeq returns 0, 1, ... n-1.
func intSeq(n int) []int64 {
	s := make([]int64, n)
	for i := range s {
		s[i] = int64(i)
	}
	return s
}
