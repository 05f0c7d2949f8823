package gpu

import (
	"fmt"
	"math"
)

// Emulator runs a Stream's operations on the CPU, at once, with the
// semantics the CUDA stream must have: the reference that the CUDA
// stream's tests compare with, and a stand-in device for testing code
// written against Stream on machines without a GPU. It counts its memory
// against the device's budget as a GPU would.
type Emulator struct {
	device Device
	used   uint64
	closed bool
}

// NewEmulator returns an Emulator standing in for device d.
func NewEmulator(d Device) *Emulator { return &Emulator{device: d} }

// emulated is an Emulator's Buffer.
type emulated []float32

func (b emulated) Len() int { return len(b) }

func (b emulated) From(offset int) Buffer { return b[offset:] }

func (e *Emulator) buffer(b Buffer) emulated {
	m, ok := b.(emulated)
	if !ok {
		panic(fmt.Sprintf("gpu: a %T given to an Emulator", b))
	}
	return m
}

// Device is the device the emulator stands in for.
func (e *Emulator) Device() Device { return e.device }

// Alloc reserves n float32s.
func (e *Emulator) Alloc(n int) (Buffer, error) {
	if e.closed {
		return nil, fmt.Errorf("gpu: the stream is closed")
	}
	size := uint64(n) * 4
	if budget := e.device.BudgetBytes(); budget > 0 && e.used+size > budget {
		return nil, fmt.Errorf("gpu: allocating %s on %s would exceed this executor's share of it, %s (%s in use)", Size(size), e.device, Size(budget), Size(e.used))
	}
	e.used += size
	return make(emulated, n), nil
}

// Pinned allocates n float32s of host memory.
func (e *Emulator) Pinned(n int) ([]float32, error) { return make([]float32, n), nil }

// CopyIn copies host to the start of dst.
func (e *Emulator) CopyIn(dst Buffer, host []float32) error {
	d := e.buffer(dst)
	if len(host) > len(d) {
		return fmt.Errorf("gpu: copying %d values into a buffer of %d", len(host), len(d))
	}
	copy(d, host)
	return nil
}

// CopyOut copies rows x width values of src to host, packed.
func (e *Emulator) CopyOut(host []float32, src Buffer, lds, rows, width int) error {
	s := e.buffer(src)
	for r := range rows {
		copy(host[r*width:(r+1)*width], s[r*lds:r*lds+width])
	}
	return nil
}

// Copy copies rows x width values between buffers.
func (e *Emulator) Copy(dst Buffer, ldd int, src Buffer, lds, rows, width int) error {
	d, s := e.buffer(dst), e.buffer(src)
	for r := range rows {
		copy(d[r*ldd:r*ldd+width], s[r*lds:r*lds+width])
	}
	return nil
}

// Gemm computes C = A x W (+ bias), accumulating in float64.
func (e *Emulator) Gemm(c Buffer, ldc int, a Buffer, lda int, w, bias Buffer, rows, k, n int) error {
	cm, am, wm := e.buffer(c), e.buffer(a), e.buffer(w)
	var b emulated
	if bias != nil {
		b = e.buffer(bias)
	}
	for r := range rows {
		for j := range n {
			s := 0.0
			if b != nil {
				s = float64(b[j])
			}
			for i := range k {
				s += float64(am[r*lda+i]) * float64(wm[i*n+j])
			}
			cm[r*ldc+j] = float32(s)
		}
	}
	return nil
}

// Apply sets Y = f(X).
func (e *Emulator) Apply(f Func, y Buffer, ldy int, x Buffer, ldx, rows, width int, alpha float32) error {
	ym, xm := e.buffer(y), e.buffer(x)
	for r := range rows {
		for j := range width {
			ym[r*ldy+j] = float32(apply(f, float64(xm[r*ldx+j]), float64(alpha)))
		}
	}
	return nil
}

// apply is f(v), in float64.
func apply(f Func, v, alpha float64) float64 {
	switch f {
	case Relu:
		if v < 0 {
			return 0
		}
		return v
	case LeakyRelu:
		if v < 0 {
			return alpha * v
		}
		return v
	case Sigmoid:
		return 1 / (1 + math.Exp(-v))
	case Tanh:
		return math.Tanh(v)
	case Exp:
		return math.Exp(v)
	case Log:
		return math.Log(v)
	case Sqrt:
		return math.Sqrt(v)
	case Abs:
		return math.Abs(v)
	case Neg:
		return -v
	case Softplus:
		// log(1 + e^v) without overflow: max(v, 0) + log1p(e^-|v|).
		return math.Max(v, 0) + math.Log1p(math.Exp(-math.Abs(v)))
	}
	panic(fmt.Sprintf("gpu: no elementwise function %v", f))
}

// Combine sets Y = X op Z (or Z op X).
func (e *Emulator) Combine(op Op, y Buffer, ldy int, x Buffer, ldx int, z Buffer, ldz int, zFirst bool, rows, width int) error {
	ym, xm, zm := e.buffer(y), e.buffer(x), e.buffer(z)
	for r := range rows {
		for j := range width {
			a, b := xm[r*ldx+j], zm[r*ldz+j]
			if zFirst {
				a, b = b, a
			}
			var v float32
			switch op {
			case Add:
				v = a + b
			case Sub:
				v = a - b
			case Mul:
				v = a * b
			case Div:
				v = a / b
			default:
				return fmt.Errorf("gpu: no elementwise operation %v", op)
			}
			ym[r*ldy+j] = v
		}
	}
	return nil
}

// Softmax normalizes each row.
func (e *Emulator) Softmax(y Buffer, ldy int, x Buffer, ldx, rows, width int) error {
	ym, xm := e.buffer(y), e.buffer(x)
	for r := range rows {
		top := math.Inf(-1)
		for j := range width {
			top = math.Max(top, float64(xm[r*ldx+j]))
		}
		sum := 0.0
		for j := range width {
			sum += math.Exp(float64(xm[r*ldx+j]) - top)
		}
		for j := range width {
			ym[r*ldy+j] = float32(math.Exp(float64(xm[r*ldx+j])-top) / sum)
		}
	}
	return nil
}

// Sync returns at once: every operation is done when it returns.
func (e *Emulator) Sync() error { return nil }

// Close frees the emulated memory.
func (e *Emulator) Close() error {
	e.closed, e.used = true, 0
	return nil
}
