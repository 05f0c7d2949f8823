package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// naive computes bias + alpha * A x B (B given as K x N, or N x K when
// transposed) in float64, then ReLU when relu.
func naive(bias []float32, a []float32, lda int, b []float32, rows, k, n int, transposed bool, alpha float32, relu bool) []float64 {
	out := make([]float64, rows*n)
	for r := range rows {
		for j := range n {
			s := 0.0
			if bias != nil {
				s = float64(bias[j])
			}
			for i := range k {
				w := b[i*n+j]
				if transposed {
					w = b[j*k+i]
				}
				s += float64(a[r*lda+i]) * float64(w*alpha)
			}
			if relu && s < 0 {
				s = 0
			}
			out[r*n+j] = s
		}
	}
	return out
}

func random(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = rng.Float32()*2 - 1
	}
	return v
}

func TestMulMatchesANaiveProductOnEveryShapeEdge(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ rows, k, n int }{
		{1, 1, 5}, {5, 3, 16}, {6, 16, 64}, {7, 16, 64}, {37, 64, 1}, {37, 64, 3}, {37, 17, 33},
		{13, 300, 20}, {64, 512, 40}, {1024, 16, 64}, {12, 257, 4}, {37, 100, 3}, {9, 5, 2}, {8, 12, 4},
	} {
		for _, cfg := range []struct {
			width      int
			transposed bool
			relu       bool
		}{{16, false, false}, {16, true, true}, {32, false, true}, {32, true, false}} {
			transposed, relu := cfg.transposed, cfg.relu
			{
				name := fmt.Sprintf("%dx%dx%d/width=%d/transposed=%v/relu=%v", tc.rows, tc.k, tc.n, cfg.width, transposed, relu)
				t.Run(name, func(t *testing.T) {
					b := random(rng, tc.k*tc.n)
					p := pack(b, tc.k, tc.n, transposed, 0.5, cfg.width)
					lda, ldc := tc.k+3, p.Stride()+16
					a := random(rng, PadRows(tc.rows)*lda)
					c := random(rng, PadRows(tc.rows)*ldc)
					var bias []float32
					if relu { // with and without a bias
						bias = random(rng, p.Stride())
					}
					want := naive(bias, a, lda, b, tc.rows, tc.k, tc.n, transposed, 0.5, relu)
					p.Mul(c, ldc, a, lda, tc.rows, bias, relu)
					for r := range tc.rows {
						for j := range tc.n {
							got, w := float64(c[r*ldc+j]), want[r*tc.n+j]
							require.InDelta(t, w, got, 1e-4*math.Max(1, math.Abs(w))*math.Sqrt(float64(tc.k)), "C[%d][%d]", r, j)
						}
						// Columns past the tile are never written.
						if ldc > p.Stride() {
							require.NotEqual(t, float32(0), c[r*ldc+ldc-1])
						}
					}
				})
			}
		}
	}
}

func TestUnpackGivesBackTheMatrixRowMajor(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{3, 40} {
		b := random(rng, 5*n)
		for _, width := range []int{16, 32} {
			got := pack(b, 5, n, false, 2, width).Unpack()
			for i, v := range b {
				require.Equal(t, 2*v, got[i], "n=%d width=%d [%d]", n, width, i)
			}
		}
		transposed := pack(b, n, 5, true, 1, 16).Unpack() // b read as 5 x n, i.e. B = b^T of n x 5
		for i := range n {
			for j := range 5 {
				require.Equal(t, b[j*n+i], transposed[i*5+j])
			}
		}
	}
}

func TestReLUKeepsNaN(t *testing.T) {
	for _, n := range []int{1, 20} {
		p := Pack(make([]float32, 2*n), 2, n, false, 1)
		a := make([]float32, RowPad*2)
		a[0] = float32(math.NaN())
		c := make([]float32, RowPad*p.Stride())
		bias := make([]float32, p.Stride())
		bias[0] = -1 // row 1, all zeros: -1 becomes 0
		p.Mul(c, p.Stride(), a, 2, 2, bias, true)
		require.True(t, math.IsNaN(float64(c[0])), "NaN * 0 through ReLU, N=%d", n)
		require.Equal(t, float32(0), c[p.Stride()], "ReLU of -1, N=%d", n)
	}
}

func TestPortableKernelMatchesTheAssemblyOnes(t *testing.T) {
	t.Logf("AVX2: %v, AVX-512: %v", useAVX2, useAVX512)
	rng := rand.New(rand.NewPCG(3, 4))
	k, lda, ldc := 70, 75, 40
	a := random(rng, RowPad*lda)
	for _, width := range []int{16, 32} {
		panel := random(rng, k*width)
		for _, init := range [][]float32{nil, random(rng, width)} {
			c1 := random(rng, RowPad*ldc)
			c2 := append([]float32(nil), c1...)
			kernel(width, k, a, lda, panel, c1, ldc, init, true)
			kernelGo(width, k, a, lda, panel, c2, ldc, init, true)
			require.InDeltaSlice(t, toF64(c2), toF64(c1), 1e-4, "width %d, init %v", width, init != nil)
		}
	}
	// Every tail length, with and without whole blocks, one and two rows
	// of weights: the masked loads must read nothing past k, where a row
	// of A goes on with values that would change the sums.
	for _, k := range []int{1, 3, 7, 8, 9, 15, 16, 62, 70} {
		for rowsOfW := 1; rowsOfW <= 2; rowsOfW++ {
			w := random(rng, rowsOfW*k)
			o1 := random(rng, RowPad*3)
			o2 := append([]float32(nil), o1...)
			dotTile(a, lda, w, k, o1, 3)
			dotTileGo(a, lda, w, k, o2, 3)
			require.InDeltaSlice(t, toF64(o2), toF64(o1), 1e-4, "k %d, %d rows of weights", k, rowsOfW)
		}
	}
}

func TestMulRefusesBuffersWithoutRowPadding(t *testing.T) {
	p := Pack(make([]float32, 4*32), 4, 32, false, 1)
	require.Panics(t, func() { p.Mul(make([]float32, 7*32), 32, make([]float32, 7*4), 4, 7, nil, false) })
}

func toF64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// BenchmarkMul reports GFLOP/s on the layer shapes of the benchmark
// MLPs (16-64-64-1 and 256-512-512-1) at batch 1024.
func BenchmarkMul(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, s := range []struct{ rows, k, n int }{{1024, 16, 64}, {1024, 64, 64}, {1024, 64, 1}, {1024, 256, 512}, {1024, 512, 512}, {1024, 512, 1}, {1024, 100, 3}, {1024, 32, 2}} {
		b.Run(fmt.Sprintf("%dx%dx%d", s.rows, s.k, s.n), func(b *testing.B) {
			p := Pack(random(rng, s.k*s.n), s.k, s.n, true, 1)
			a := random(rng, PadRows(s.rows)*s.k)
			c := make([]float32, PadRows(s.rows)*p.Stride())
			bias := random(rng, p.Stride())
			for b.Loop() {
				p.Mul(c, p.Stride(), a, s.k, s.rows, bias, true)
			}
			b.ReportMetric(2*float64(s.rows*s.k*s.n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
