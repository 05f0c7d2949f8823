package parquet_test

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dfbatch/dfbatch/frame"
	_ "github.com/dfbatch/dfbatch/frame/parquet"
)

func TestImportingThePackageLetsFrameReadAndWriteParquet(t *testing.T) {
	b := array.NewStringViewBuilder(memory.DefaultAllocator)
	b.AppendValues([]string{"a", "b", "c"}, nil)
	in, err := frame.New(frame.Int64s("id", []int64{1, 2, 3}), frame.Column{Name: "s", Values: b.NewArray()})
	require.NoError(t, err)

	path := filepath.Join(t.TempDir(), "x.parquet")
	w, err := frame.CreateFile(path, "", frame.WithCompression("zstd"), frame.WithRowGroupRows(2))
	require.NoError(t, err)
	require.NoError(t, w.Write(in))
	require.NoError(t, w.Close())

	r, err := frame.OpenFile(path, "", frame.WithBatchRows(2))
	require.NoError(t, err)
	first, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, 2, first.NumRows(), "batches follow WithBatchRows")
	require.NoError(t, r.Close())

	r, err = frame.OpenFile(path, "")
	require.NoError(t, err)
	out, err := frame.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, arrow.BinaryTypes.String, out.Schema().Field(1).Type, "string_view is written as string")
	assert.Equal(t, in.Unviewed().Head(3), out.Head(3))

	var buf bytes.Buffer
	pw, err := frame.NewParquetWriter(&buf)
	require.NoError(t, err)
	require.NoError(t, pw.Write(in))
	require.NoError(t, pw.Close())
	pr, err := frame.NewParquetReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	back, err := frame.ReadAll(pr)
	require.NoError(t, err)
	assert.Equal(t, 3, back.NumRows())
}
