package vecmath

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

var long = flag.Bool("long", false, "check every float32 bit pattern, not every 97th")

// bound is the relative error allowed for normal float32 results.
const bound = 1e-6

// subnormalBound is the absolute error allowed where the exact result is
// below the smallest normal float32: four subnormal steps.
const subnormalBound = 0x1p-148

// function's name, implementation and float64 reference; bounded says
// its results are within [-1, 1].
type case_ struct {
	name    string
	f       func(y, x []float32)
	ref     func(float64) float64
	bounded bool
}

var functions = []case_{
	{"Exp", Exp, math.Exp, false},
	{"Tanh", Tanh, math.Tanh, true},
	{"Sigmoid", Sigmoid, sigmoid64, true},
	{"Log", Log, math.Log, false},
	{"Erf", Erf, math.Erf, true},
}

func sigmoid64(x float64) float64 {
	if x < 0 {
		e := math.Exp(x)
		return e / (1 + e)
	}
	return 1 / (1 + math.Exp(-x))
}

// levels are the implementations this machine runs.
func levels() []kernelLevel {
	var l []kernelLevel
	for level := levelGo; level <= bestLevel; level++ {
		l = append(l, level)
	}
	return l
}

// withLevel runs f with the functions on level.
func withLevel(level kernelLevel, f func()) {
	saved := active
	active = level
	defer func() { active = saved }()
	f()
}

// check says whether got is within the bounds of the exact result want,
// and returns its relative error where want is a normal float32.
func check(got float32, want float64) (rel float64, ok bool) {
	g := float64(got)
	switch {
	case math.IsNaN(want) || math.IsNaN(g):
		return 0, math.IsNaN(want) && math.IsNaN(g)
	case math.IsInf(g, 0):
		return 0, math.Abs(want) > math.MaxFloat32 && math.Signbit(g) == math.Signbit(want)
	case math.IsInf(want, 0):
		return 0, false
	case math.Abs(want) < 0x1p-126:
		return 0, math.Abs(g-want) <= subnormalBound
	}
	rel = math.Abs(g-want) / math.Abs(want)
	return rel, rel <= bound
}

// TestAccuracy sweeps float32 bit patterns through every function and
// implementation, comparing with float64's math: every 97th, every 9973rd
// with -short, all of them with -long.
func TestAccuracy(t *testing.T) {
	step := uint64(97)
	switch {
	case *long:
		step = 1
	case testing.Short():
		step = 9973
	}
	const chunk = 1 << 16
	x := make([]float32, 0, chunk)
	want := make([]float64, chunk)
	y := make([]float32, chunk)
	for _, fn := range functions {
		worst := make([]float64, len(levels()))
		worstAt := make([]float32, len(levels()))
		failures := 0
		for bits := uint64(0); bits < 1<<32; {
			x = x[:0]
			for ; bits < 1<<32 && len(x) < chunk; bits += step {
				x = append(x, math.Float32frombits(uint32(bits)))
			}
			for i, v := range x {
				want[i] = fn.ref(float64(v))
			}
			for li, level := range levels() {
				withLevel(level, func() { fn.f(y[:len(x)], x) })
				for i, v := range x {
					rel, ok := check(y[i], want[i])
					ok = ok && !(fn.bounded && math.Abs(float64(y[i])) > 1)
					if !ok && failures < 10 {
						failures++
						t.Errorf("%s %s(%g) (bits %#08x) = %g, want %g", levelNames[level], fn.name, v, math.Float32bits(v), y[i], want[i])
					}
					if rel > worst[li] {
						worst[li], worstAt[li] = rel, v
					}
				}
			}
		}
		for li, level := range levels() {
			t.Logf("%s %s: max relative error %.3g at x = %g", fn.name, levelNames[level], worst[li], worstAt[li])
		}
	}
}

var (
	inf      = float32(math.Inf(1))
	nan32    = float32(math.NaN())
	negZero  = float32(math.Copysign(0, -1))
	tiniest  = math.Float32frombits(1)
	smallest = float32(0x1p-126)
)

// edge is an input and the exact float32 result expected of it.
type edge struct {
	x, want float32
}

// TestEdges checks the values the IEEE functions define exactly, on every
// implementation, and their accuracy next to the thresholds.
func TestEdges(t *testing.T) {
	exact := map[string][]edge{
		"Exp": {{0, 1}, {negZero, 1}, {inf, inf}, {-inf, 0}, {88.7229, inf}, {-104, 0}, {-200, 0}, {1e30, inf}},
		"Tanh": {{0, 0}, {negZero, negZero}, {inf, 1}, {-inf, -1}, {9.1, 1}, {-20, -1}, {1e-5, 1e-5}, {-1e-5, -1e-5},
			{1e-30, 1e-30}, {tiniest, tiniest}, {-smallest, -smallest}},
		"Sigmoid": {{0, 0.5}, {negZero, 0.5}, {inf, 1}, {-inf, 0}, {20, 1}, {-200, 0}},
		"Log":     {{1, 0}, {0, -inf}, {negZero, -inf}, {-1, nan32}, {-inf, nan32}, {-tiniest, nan32}, {inf, inf}},
		"Erf":     {{0, 0}, {negZero, negZero}, {inf, 1}, {-inf, -1}, {4, 1}, {-10, -1}},
	}
	near := map[string][]float32{
		"Exp":     {88.72283, 88.7, -87.33654, -87.4, -100, -103.9, -103.2789, 1e-7, -1e-7, 0.3465736},
		"Tanh":    {0.0004, 0.00039999996, 1e-3, 8.9, 9, 9.02, 0.3, 5},
		"Sigmoid": {-20, -87.3, -88, -100, -103, 17, 1e-7},
		"Log":     {tiniest, 1e-40, smallest, math.MaxFloat32, 0.70710677, 0.7071068, 1.0000001, 0.99999994, 2, 0.5},
		"Erf":     {tiniest, 1e-40, smallest, 1e-7, 0.921875, 0.92187506, 3.925, 3.9, -2},
	}
	for _, fn := range functions {
		for _, level := range levels() {
			withLevel(level, func() {
				for _, e := range exact[fn.name] {
					got := eval(fn.f, e.x)
					same := math.Float32bits(got) == math.Float32bits(e.want) || (math.IsNaN(float64(got)) && math.IsNaN(float64(e.want)))
					if !same {
						t.Errorf("%s %s(%g) = %g, want exactly %g", levelNames[level], fn.name, e.x, got, e.want)
					}
				}
				if got := eval(fn.f, nan32); !math.IsNaN(float64(got)) {
					t.Errorf("%s %s(NaN) = %g", levelNames[level], fn.name, got)
				}
				for _, x := range near[fn.name] {
					for _, v := range []float32{x, -x} {
						want := fn.ref(float64(v))
						if got := eval(fn.f, v); !checkOK(got, want) {
							t.Errorf("%s %s(%g) = %g, want %g", levelNames[level], fn.name, v, got, want)
						}
					}
				}
			})
		}
	}
}

func checkOK(got float32, want float64) bool {
	_, ok := check(got, want)
	return ok
}

// eval applies f to x alone, in a slice of 19 copies so that the vector
// loops and the tails of both kernels see it.
func eval(f func(y, x []float32), x float32) float32 {
	in := make([]float32, 19)
	for i := range in {
		in[i] = x
	}
	f(in, in)
	for _, v := range in[1:] {
		if math.Float32bits(v) != math.Float32bits(in[0]) {
			return nan32 // a lane that differs fails every comparison but NaN's
		}
	}
	return in[0]
}

// TestLengths runs every length from 0 to 40, so every tail, checking
// that nothing past len(x) is written.
func TestLengths(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, fn := range functions {
		for _, level := range levels() {
			withLevel(level, func() {
				for n := range 41 {
					x := make([]float32, n)
					for i := range x {
						x[i] = float32(rng.NormFloat64() * 3)
						if fn.name == "Log" {
							x[i] = float32(rng.ExpFloat64())
						}
					}
					y := make([]float32, n+1)
					y[n] = 42
					fn.f(y, x)
					for i, v := range x {
						if want := fn.ref(float64(v)); !checkOK(y[i], want) {
							t.Errorf("%s %s over %d values: y[%d] = %g, want %g", levelNames[level], fn.name, n, i, y[i], want)
						}
					}
					if y[n] != 42 {
						t.Errorf("%s %s over %d values wrote past them", levelNames[level], fn.name, n)
					}
				}
			})
		}
	}
}

func TestShortOutputPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Exp into a shorter y did not panic")
		}
	}()
	Exp(make([]float32, 3), make([]float32, 4))
}

func softmax64(x []float32) []float64 {
	top := math.Inf(-1)
	for _, v := range x {
		top = math.Max(top, float64(v))
	}
	out := make([]float64, len(x))
	sum := 0.0
	for i, v := range x {
		out[i] = math.Exp(float64(v) - top)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// TestSoftmax compares Softmax with float64's, and SoftmaxRows with
// Softmax row by row, over strided rows of many widths.
func TestSoftmax(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, level := range levels() {
		withLevel(level, func() {
			for _, width := range []int{1, 2, 3, 5, 8, 9, 10, 16, 17, 100, 300} {
				rows, xs, ys := 300, width+3, width+1
				x := make([]float32, rows*xs)
				for i := range x {
					x[i] = float32(rng.NormFloat64() * 10)
				}
				y := make([]float32, rows*ys)
				SoftmaxRows(y, ys, x, xs, rows, width)
				row := make([]float32, width)
				for r := range rows {
					xr := x[r*xs : r*xs+width]
					Softmax(row, xr)
					top := slices.Max(xr)
					for j, want := range softmax64(xr) {
						// x - max is rounded to float32 first, an error of
						// up to |x - max| 2^-24 in the exponent.
						rel, ok := check(row[j], want)
						if !ok && rel > bound+float64(top-xr[j])*0x1p-24 {
							t.Fatalf("%s Softmax of %d values: [%d] = %g, want %g", levelNames[level], width, j, row[j], want)
						}
						if !withinAnULP(y[r*ys+j], row[j]) {
							t.Fatalf("%s SoftmaxRows of width %d: row %d [%d] = %g, Softmax %g", levelNames[level], width, r, j, y[r*ys+j], row[j])
						}
					}
				}
			}
		})
	}
}

// withinAnULP says a and b are both NaN or at most one float32 step apart:
// SoftmaxRows may add a row's exponentials in another order than Softmax.
func withinAnULP(a, b float32) bool {
	if a != a || b != b {
		return a != a && b != b
	}
	d := int64(math.Float32bits(a)) - int64(math.Float32bits(b))
	return d >= -1 && d <= 1
}

// TestSoftmaxRowsEdgesMatchSoftmax gives SoftmaxRows rows holding NaN,
// ±Inf and only -Inf, which must come out as Softmax gives them: NaN
// everywhere for a NaN, a +Inf, or a row of only -Inf; 0 for a -Inf
// beside finite values.
func TestSoftmaxRowsEdgesMatchSoftmax(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	rows := [][]float32{
		{1, nan, 2}, {nan, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, inf, 2}, {-inf, 1, 2},
		{-inf, -inf, -inf}, {-inf, 0, -inf, -inf, -inf, -inf, -inf, -inf, -inf, 5, -inf},
	}
	for _, level := range levels() {
		withLevel(level, func() {
			for _, x := range rows {
				got, want := make([]float32, len(x)), make([]float32, len(x))
				SoftmaxRows(got, len(x), x, len(x), 1, len(x))
				Softmax(want, x)
				for j := range x {
					if !withinAnULP(got[j], want[j]) {
						t.Errorf("%s SoftmaxRows(%v)[%d] = %g, Softmax %g", levelNames[level], x, j, got[j], want[j])
					}
				}
			}
		})
	}
}

func TestSoftmaxInPlace(t *testing.T) {
	x := []float32{1, 2, 3, 0, 1, 2, 3, 0}
	SoftmaxRows(x, 4, x, 4, 2, 3)
	want := softmax64([]float32{1, 2, 3})
	for r := range 2 {
		for j, w := range want {
			if !checkOK(x[r*4+j], w) {
				t.Errorf("row %d [%d] = %g, want %g", r, j, x[r*4+j], w)
			}
		}
		if x[r*4+3] != 0 {
			t.Errorf("row %d: the padding became %g", r, x[r*4+3])
		}
	}
}

// BenchmarkFunctions times each function per element on 1024 values, with
// every implementation and with float64's math per element.
func BenchmarkFunctions(b *testing.B) {
	const n = 1024
	rng := rand.New(rand.NewPCG(7, 8))
	x, y := make([]float32, n), make([]float32, n)
	for _, fn := range functions {
		for i := range x {
			x[i] = float32(rng.Float64()*10 - 5)
			if fn.name == "Log" {
				x[i] = float32(rng.Float64() * 10)
			}
		}
		for _, level := range levels() {
			b.Run(fmt.Sprintf("%s/%s", fn.name, levelNames[level]), func(b *testing.B) {
				withLevel(level, func() {
					for b.Loop() {
						fn.f(y, x)
					}
				})
				perElement(b, n)
			})
		}
		b.Run(fn.name+"/math64", func(b *testing.B) {
			for b.Loop() {
				for i, v := range x {
					y[i] = float32(fn.ref(float64(v)))
				}
			}
			perElement(b, n)
		})
	}
}

// BenchmarkSoftmaxRows times softmax over 1024 rows of 3 and 10 classes: batched
// across rows, row by row, and in float64 per element.
func BenchmarkSoftmaxRows(b *testing.B) {
	const rows = 1024
	rng := rand.New(rand.NewPCG(9, 10))
	for _, width := range []int{3, 10} {
		x, y := make([]float32, rows*width), make([]float32, rows*width)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 3)
		}
		for _, level := range levels() {
			b.Run(fmt.Sprintf("width=%d/rows/%s", width, levelNames[level]), func(b *testing.B) {
				withLevel(level, func() {
					for b.Loop() {
						SoftmaxRows(y, width, x, width, rows, width)
					}
				})
				perElement(b, len(x))
			})
		}
		b.Run(fmt.Sprintf("width=%d/row-by-row", width), func(b *testing.B) {
			for b.Loop() {
				for r := range rows {
					Softmax(y[r*width:(r+1)*width], x[r*width:(r+1)*width])
				}
			}
			perElement(b, len(x))
		})
		b.Run(fmt.Sprintf("width=%d/math64", width), func(b *testing.B) {
			for b.Loop() {
				for r := range rows {
					for j, v := range softmax64(x[r*width : (r+1)*width]) {
						y[r*width+j] = float32(v)
					}
				}
			}
			perElement(b, len(x))
		})
	}
}

func perElement(b *testing.B, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/elem")
}
