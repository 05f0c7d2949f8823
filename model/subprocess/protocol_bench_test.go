package subprocess

import (
	"testing"

	"github.com/dfbatch/dfbatch/frame"
)

func benchFrame(b *testing.B, rows int) *frame.Frame {
	cols := []frame.Column{}
	ids := make([]int64, rows)
	for i := range ids {
		ids[i] = int64(i)
	}
	cols = append(cols, frame.Int64s("id", ids))
	for c := range 16 {
		v := make([]float64, rows)
		for i := range v {
			v[i] = float64(i*c) * 0.5
		}
		cols = append(cols, frame.Float64s(string(rune('a'+c)), v))
	}
	f, err := frame.New(cols...)
	if err != nil {
		b.Fatal(err)
	}
	return f
}

func BenchmarkArrowEncodeDecode(b *testing.B) {
	f := benchFrame(b, 10000)
	b.SetBytes(int64(f.ByteSize()))
	for b.Loop() {
		p, err := encode(f, FormatArrow)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := decode(p, FormatArrow); err != nil {
			b.Fatal(err)
		}
	}
}
