//go:build unix

package frame_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/stretchr/testify/require"

	"github.com/dfbatch/dfbatch/frame"
)

// benchRows is the size of the files the read and write benchmarks use:
// a million rows of 10 columns (an int64 id, 6 float64 features, a bool,
// two strings), as CSV and as JSON Lines of the same values.
const benchRows = 1_000_000

var benchFiles = sync.OnceValues(func() (*frame.Frame, map[frame.Format][]byte) {
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]int64, benchRows)
	features := make([][]float64, 6)
	for k := range features {
		features[k] = make([]float64, benchRows)
	}
	flags := make([]bool, benchRows)
	segments, names := make([]string, benchRows), make([]string, benchRows)
	for i := range benchRows {
		ids[i] = int64(i)
		for k := range features {
			features[k][i] = float64(rng.IntN(1_000_000)) / 1000 // 3 decimals, as exports have
		}
		flags[i] = rng.IntN(2) == 0
		segments[i] = []string{"gold", "silver", "bronze"}[rng.IntN(3)]
		names[i] = fmt.Sprintf("customer %d", rng.IntN(100_000))
	}
	cols := []frame.Column{frame.Int64s("id", ids)}
	for k, f := range features {
		cols = append(cols, frame.Float64s(fmt.Sprintf("f%d", k), f))
	}
	cols = append(cols, frame.Bools("flag", flags), frame.Strings("segment", segments), frame.Strings("name", names))
	f, err := frame.New(cols...)
	if err != nil {
		panic(err)
	}
	files := map[frame.Format][]byte{}
	for _, format := range []frame.Format{frame.CSV, frame.JSONL} {
		var buf bytes.Buffer
		w, err := frame.NewWriter(&buf, "bench", format)
		if err == nil {
			err = w.Write(f)
		}
		if err == nil {
			err = w.Close()
		}
		if err != nil {
			panic(err)
		}
		files[format] = buf.Bytes()
	}
	return f, files
})

// cpuTime is the CPU time this process has used, every thread and the
// garbage collector's included: on a shared machine, rows per CPU-second
// say more than rows per second.
func cpuTime(b *testing.B) time.Duration {
	var u syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &u))
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// reportRows reports rows/s and rows per CPU-second since start, the CPU
// time at the benchmark's start.
func reportRows(b *testing.B, start time.Duration) {
	cpu := cpuTime(b) - start
	b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(benchRows*b.N)/cpu.Seconds(), "rows/cpu-s")
}

func benchmarkRead(b *testing.B, open func([]byte) (frame.Reader, error), format frame.Format) {
	_, files := benchFiles()
	data := files[format]
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	start := cpuTime(b)
	for range b.N {
		r, err := open(data)
		require.NoError(b, err)
		rows := 0
		for {
			f, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(b, err)
			rows += f.NumRows()
		}
		require.Equal(b, benchRows, rows)
	}
	reportRows(b, start)
}

// BenchmarkReadJSONL and BenchmarkReadCSV read the same rows.
func BenchmarkReadJSONL(b *testing.B) {
	benchmarkRead(b, func(data []byte) (frame.Reader, error) {
		return frame.NewJSONLReader(bytes.NewReader(data))
	}, frame.JSONL)
}

func BenchmarkReadCSV(b *testing.B) {
	benchmarkRead(b, func(data []byte) (frame.Reader, error) {
		return frame.NewCSVReader(bytes.NewReader(data))
	}, frame.CSV)
}

// BenchmarkReadJSONLArrowJSONReader reads the JSON Lines with arrow-go's
// JSONReader, given the schema, for comparison: it infers nothing and
// skips keys it does not know.
func BenchmarkReadJSONLArrowJSONReader(b *testing.B) {
	f, files := benchFiles()
	data := files[frame.JSONL]
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	start := cpuTime(b)
	for range b.N {
		r := array.NewJSONReader(bytes.NewReader(data), f.Schema(), array.WithChunk(frame.DefaultBatchRows))
		rows := 0
		for r.Next() {
			rows += int(r.RecordBatch().NumRows())
		}
		require.NoError(b, r.Err())
		require.Equal(b, benchRows, rows)
		r.Release()
	}
	reportRows(b, start)
}

func benchmarkWrite(b *testing.B, format frame.Format) {
	f, files := benchFiles()
	b.SetBytes(int64(len(files[format])))
	b.ResetTimer()
	start := cpuTime(b)
	for range b.N {
		w, err := frame.NewWriter(io.Discard, "bench", format)
		require.NoError(b, err)
		for start := 0; start < benchRows; start += frame.DefaultBatchRows {
			require.NoError(b, w.Write(f.Slice(start, min(start+frame.DefaultBatchRows, benchRows))))
		}
		require.NoError(b, w.Close())
	}
	reportRows(b, start)
}

func BenchmarkWriteJSONL(b *testing.B) { benchmarkWrite(b, frame.JSONL) }
func BenchmarkWriteCSV(b *testing.B)   { benchmarkWrite(b, frame.CSV) }
