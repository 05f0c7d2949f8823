//go:build cuda

package gpu_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/dfbatch/dfbatch/gpu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests need the NVIDIA driver, cuBLAS, NVRTC and a GPU; they skip
// without a GPU, saying why. Each runs an operation on a CUDA stream and
// on an Emulator over the same random inputs and compares every value of
// the buffers they wrote, padding included.

// firstDevice is the first GPU, or skips the test.
func firstDevice(t *testing.T) gpu.Device {
	t.Helper()
	devices, err := gpu.Devices()
	if err != nil {
		t.Skipf("no GPU here: %v", err)
	}
	if len(devices) == 0 {
		t.Skip("no GPU here: the driver lists none")
	}
	return devices[0]
}

// shared is one stream on the first GPU for all the comparison tests, so
// that they pay for opening one (NVRTC, cuBLAS) once.
var shared struct {
	once    sync.Once
	device  gpu.Device
	stream  gpu.Stream
	scratch []float32
	err     error
}

// pair runs operations on a CUDA stream and on an Emulator side by side.
type pair struct {
	t       *testing.T
	cuda    gpu.Stream
	emu     *gpu.Emulator
	scratch []float32 // pinned
	rng     *rand.Rand
}

func newPair(t *testing.T) *pair {
	d := firstDevice(t)
	shared.once.Do(func() {
		shared.device = d
		shared.stream, shared.err = gpu.Open(d)
		if shared.err == nil {
			shared.scratch, shared.err = shared.stream.Pinned(1 << 20)
		}
	})
	require.NoError(t, shared.err)
	return &pair{t: t, cuda: shared.stream, emu: gpu.NewEmulator(shared.device), scratch: shared.scratch, rng: rand.New(rand.NewPCG(1, uint64(len(t.Name()))))}
}

// buffers is one buffer on each side.
type buffers struct{ cuda, emu gpu.Buffer }

// random fills n values uniformly in [lo, hi) into a buffer on each side.
func (p *pair) random(n int, lo, hi float64) buffers {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(lo + (hi-lo)*p.rng.Float64())
	}
	return p.load(v)
}

func (p *pair) load(v []float32) buffers {
	t := p.t
	t.Helper()
	c, err := p.cuda.Alloc(len(v))
	require.NoError(t, err)
	e, err := p.emu.Alloc(len(v))
	require.NoError(t, err)
	require.NoError(t, p.emu.CopyIn(e, v))
	copy(p.scratch, v)
	require.NoError(t, p.cuda.CopyIn(c, p.scratch[:len(v)]))
	require.NoError(t, p.cuda.Sync()) // the scratch is reused
	return buffers{c, e}
}

// read is the whole of b on each side.
func (p *pair) read(b buffers) (got, want []float32) {
	t := p.t
	t.Helper()
	n := b.cuda.Len()
	require.NoError(t, p.cuda.CopyOut(p.scratch[:n], b.cuda, n, 1, n))
	require.NoError(t, p.cuda.Sync())
	got = append([]float32(nil), p.scratch[:n]...)
	want = make([]float32, n)
	require.NoError(t, p.emu.CopyOut(want, b.emu, n, 1, n))
	return got, want
}

// compare checks b on both sides within 1e-4 relative and 1e-5 absolute,
// plus slack[i] where slack is not nil; NaNs and infinities must match.
func (p *pair) compare(what string, b buffers, slack []float64) {
	t := p.t
	t.Helper()
	got, want := p.read(b)
	bad := 0
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(w) || math.IsInf(w, 0) {
			if !(math.IsNaN(w) && math.IsNaN(g)) && g != w {
				bad++
				if bad <= 5 {
					t.Errorf("%s: value %d is %v, want %v", what, i, g, w)
				}
			}
			continue
		}
		tol := 1e-4*math.Abs(w) + 1e-5
		if slack != nil {
			tol += slack[i]
		}
		if !(math.Abs(g-w) <= tol) {
			bad++
			if bad <= 5 {
				t.Errorf("%s: value %d is %v, want %v (off by %.3g, tolerance %.3g)", what, i, g, w, math.Abs(g-w), tol)
			}
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d of %d values differ", what, bad, len(want))
	}
}

const testRows = 37

var testWidths = []int{1, 5, 33, 300}

func TestCUDAStreamCopiesLikeTheEmulator(t *testing.T) {
	p := newPair(t)
	for _, width := range testWidths {
		lds, ldd := width+3, width+7
		src := p.random((testRows-1)*lds+width, -1, 1)
		dst := p.random((testRows-1)*ldd+width+2, -1, 1)
		require.NoError(t, p.cuda.Copy(dst.cuda, ldd, src.cuda, lds, testRows, width))
		require.NoError(t, p.emu.Copy(dst.emu, ldd, src.emu, lds, testRows, width))
		require.NoError(t, p.cuda.Sync())
		p.compare(fmt.Sprintf("Copy width %d", width), dst, nil)

		// Into the middle of each row, through a view (a Concat's columns).
		require.NoError(t, p.cuda.Copy(dst.cuda.From(2), ldd, src.cuda, lds, testRows, width))
		require.NoError(t, p.emu.Copy(dst.emu.From(2), ldd, src.emu, lds, testRows, width))
		require.NoError(t, p.cuda.Sync())
		p.compare(fmt.Sprintf("Copy width %d at column 2", width), dst, nil)

		// CopyOut packs strided rows.
		n := testRows * width
		require.NoError(t, p.cuda.CopyOut(p.scratch[:n], src.cuda, lds, testRows, width))
		require.NoError(t, p.cuda.Sync())
		want := make([]float32, n)
		require.NoError(t, p.emu.CopyOut(want, src.emu, lds, testRows, width))
		require.Equal(t, want, p.scratch[:n], "CopyOut width %d", width)
	}
}

func TestCUDAStreamGemmMatchesTheEmulator(t *testing.T) {
	p := newPair(t)
	for _, k := range []int{0, 16, 64, 257} {
		for _, n := range testWidths {
			for _, withBias := range []bool{false, true} {
				lda, ldc := k+3, n+5
				a := p.random(max((testRows-1)*lda+k, 1), -1, 1)
				w := p.random(max(k*n, 1), -1, 1)
				c := p.random((testRows-1)*ldc+n+1, -1, 1) // garbage Gemm overwrites
				var bias buffers
				if withBias {
					bias = p.random(n, -1, 1)
				}
				require.NoError(t, p.cuda.Gemm(c.cuda, ldc, a.cuda, lda, w.cuda, bias.cuda, testRows, k, n))
				require.NoError(t, p.emu.Gemm(c.emu, ldc, a.emu, lda, w.emu, bias.emu, testRows, k, n))
				require.NoError(t, p.cuda.Sync())
				// float32 accumulation against float64: allow for the
				// products' magnitudes, not only the result's.
				_, av := p.read(a)
				_, wv := p.read(w)
				slack := make([]float64, c.cuda.Len())
				for r := range testRows {
					for j := range n {
						s := 0.0
						for i := range k {
							s += math.Abs(float64(av[r*lda+i]) * float64(wv[i*n+j]))
						}
						slack[r*ldc+j] = 2e-6 * s
					}
				}
				p.compare(fmt.Sprintf("Gemm k %d n %d bias %v", k, n, withBias), c, slack)
			}
		}
	}
}

func TestCUDAStreamAppliesEveryFunctionLikeTheEmulator(t *testing.T) {
	p := newPair(t)
	for f := gpu.Relu; f <= gpu.Softplus; f++ {
		for _, width := range testWidths {
			for _, inPlace := range []bool{false, true} {
				ldx, ldy := width+2, width+5
				x := p.random((testRows-1)*ldx+width, -4, 4) // negatives make Log and Sqrt NaN on both
				y := x
				if inPlace {
					ldy = ldx
				} else {
					y = p.random((testRows-1)*ldy+width+3, -1, 1)
				}
				require.NoError(t, p.cuda.Apply(f, y.cuda, ldy, x.cuda, ldx, testRows, width, 0.1))
				require.NoError(t, p.emu.Apply(f, y.emu, ldy, x.emu, ldx, testRows, width, 0.1))
				require.NoError(t, p.cuda.Sync())
				p.compare(fmt.Sprintf("%v width %d in place %v", f, width, inPlace), y, nil)
			}
		}
	}
	// Softplus of large values is the value, as in float64. (Past 709 the
	// Emulator's float64 exp overflows and it gives +Inf, the stream the
	// value; that is left out.)
	x := p.load([]float32{-100, -20, 0, 19, 21, 80, 100, 700})
	require.NoError(t, p.cuda.Apply(gpu.Softplus, x.cuda, 8, x.cuda, 8, 1, 8, 0))
	require.NoError(t, p.emu.Apply(gpu.Softplus, x.emu, 8, x.emu, 8, 1, 8, 0))
	require.NoError(t, p.cuda.Sync())
	p.compare("Softplus of large values", x, nil)
}

func TestCUDAStreamCombinesLikeTheEmulator(t *testing.T) {
	p := newPair(t)
	for op := gpu.Add; op <= gpu.Div; op++ {
		for _, width := range testWidths {
			for _, zFirst := range []bool{false, true} {
				for _, broadcast := range []bool{false, true} {
					for _, alias := range []string{"", "x", "z"} {
						ldx, ldy, ldz := width+1, width+4, width+2
						zRows := testRows
						if broadcast {
							ldz, zRows = 0, 1
						}
						x := p.random((testRows-1)*ldx+width, 0.5, 2)
						z := p.random(max((zRows-1)*ldz+width, width), 0.5, 2)
						var y buffers
						switch {
						case alias == "x":
							y, ldy = x, ldx
						case alias == "z" && !broadcast:
							y, ldy = z, ldz
						case alias == "z":
							continue
						default:
							y = p.random((testRows-1)*ldy+width+1, -1, 1)
						}
						require.NoError(t, p.cuda.Combine(op, y.cuda, ldy, x.cuda, ldx, z.cuda, ldz, zFirst, testRows, width))
						require.NoError(t, p.emu.Combine(op, y.emu, ldy, x.emu, ldx, z.emu, ldz, zFirst, testRows, width))
						require.NoError(t, p.cuda.Sync())
						p.compare(fmt.Sprintf("%v width %d zFirst %v ldz %d into %q", op, width, zFirst, ldz, alias), y, nil)
					}
				}
			}
		}
	}
}

func TestCUDAStreamSoftmaxMatchesTheEmulator(t *testing.T) {
	p := newPair(t)
	for _, width := range append(testWidths, 1000) {
		for _, scale := range []float64{3, 200} { // 200: exp overflows without the max taken off
			for _, inPlace := range []bool{false, true} {
				ldx, ldy := width+3, width+1
				x := p.random((testRows-1)*ldx+width, -scale, scale)
				y := x
				if inPlace {
					ldy = ldx
				} else {
					y = p.random((testRows-1)*ldy+width+2, -1, 1)
				}
				require.NoError(t, p.cuda.Softmax(y.cuda, ldy, x.cuda, ldx, testRows, width))
				require.NoError(t, p.emu.Softmax(y.emu, ldy, x.emu, ldx, testRows, width))
				require.NoError(t, p.cuda.Sync())
				p.compare(fmt.Sprintf("Softmax width %d scale %v in place %v", width, scale, inPlace), y, nil)
			}
		}
	}
}

func TestCUDAStreamRefusesMisuseAndSyncReportsIt(t *testing.T) {
	p := newPair(t)
	b := p.random(10, 0, 1)
	other, err := p.emu.Alloc(10)
	require.NoError(t, err)

	err = p.cuda.Apply(gpu.Relu, other, 10, b.cuda, 10, 1, 10, 0)
	require.Error(t, err, "an Emulator's buffer")
	require.ErrorContains(t, p.cuda.Sync(), "not a buffer of a CUDA stream", "Sync reports the first error")
	require.NoError(t, p.cuda.Sync(), "once")

	assert.ErrorContains(t, p.cuda.CopyIn(b.cuda, make([]float32, 5)), "Pinned", "a host slice not from Pinned")
	assert.ErrorContains(t, p.cuda.Apply(gpu.Relu, b.cuda, 5, b.cuda, 5, 3, 5, 0), "need 15 values", "past the end")
	assert.ErrorContains(t, p.cuda.CopyIn(b.cuda, p.scratch[:11]), "11 values into a buffer of 10")
	assert.Error(t, p.cuda.Sync())
	require.NoError(t, p.cuda.Sync())
}

func TestCUDAStreamAllocOverBudgetFails(t *testing.T) {
	d := firstDevice(t)
	d.MemoryBytes, d.Sharers = 8<<20, 2 // 4 MiB each
	s, err := gpu.Open(d)
	require.NoError(t, err)
	assert.Equal(t, d, s.Device())
	b, err := s.Alloc(1 << 20) // 4 MiB
	require.NoError(t, err)
	assert.Equal(t, 1<<20, b.Len())
	_, err = s.Alloc(1)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exceed")
	host, err := s.Pinned(1000)
	require.NoError(t, err)
	host[999] = 1 // host memory, writable
	require.NoError(t, s.CopyIn(b, host))
	require.NoError(t, s.Sync())
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "twice")
	_, err = s.Alloc(1)
	assert.Error(t, err, "after Close")
}
