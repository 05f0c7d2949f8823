package gpu

import (
	"fmt"
	"slices"
)

// Stream is one executor's queue of work on one device: device memory,
// copies between it and pinned host memory, and the operations the dense
// layers of a network need. Operations are queued in order and may run
// after the call returns; Sync waits for all of them. A Stream is used by
// one goroutine at a time.
//
// Matrices are row-major: element (r, c) of a matrix with stride ld is at
// r*ld + c, in float32s. Buffers are device memory from Alloc; host
// slices given to CopyIn and CopyOut must come from Pinned and must not be
// touched until Sync returns.
type Stream interface {
	// Device is the device the stream runs on, with its share of it.
	Device() Device
	// Alloc reserves n float32s of device memory, counted against the
	// device's BudgetBytes; over budget is an error.
	Alloc(n int) (Buffer, error)
	// Pinned allocates n float32s of page-locked host memory, which
	// copies can read and write while the device computes. It is freed
	// with the stream.
	Pinned(n int) ([]float32, error)
	// CopyIn copies host to the start of dst.
	CopyIn(dst Buffer, host []float32) error
	// CopyOut copies rows rows of width values from src (stride lds) to
	// host, packed (stride width).
	CopyOut(host []float32, src Buffer, lds, rows, width int) error
	// Copy copies rows rows of width values from src (stride lds) to dst
	// (stride ldd), for a Concat.
	Copy(dst Buffer, ldd int, src Buffer, lds, rows, width int) error
	// Gemm computes C = A x W (+ bias in every row, when bias is not nil)
	// for A of rows x k (stride lda), W of k x n (packed, stride n) and C
	// of rows x n (stride ldc).
	Gemm(c Buffer, ldc int, a Buffer, lda int, w, bias Buffer, rows, k, n int) error
	// Apply sets Y = f(X) elementwise over rows x width values; alpha is
	// LeakyRelu's slope. Y may be X.
	Apply(f Func, y Buffer, ldy int, x Buffer, ldx, rows, width int, alpha float32) error
	// Combine sets Y = X op Z elementwise, or Z op X when zFirst, where Z
	// is a matrix of the same shape (stride ldz), or one row repeated in
	// every row when ldz is 0. Y may be X or Z.
	Combine(op Op, y Buffer, ldy int, x Buffer, ldx int, z Buffer, ldz int, zFirst bool, rows, width int) error
	// Softmax normalizes each row of X into Y: exp(x - max) / sum.
	Softmax(y Buffer, ldy int, x Buffer, ldx, rows, width int) error
	// Sync waits for every queued operation and returns the first error
	// any of them met.
	Sync() error
	// Close frees the stream, its buffers and its pinned memory.
	Close() error
}

// Buffer is device memory of a Stream.
type Buffer interface {
	// Len is its size in float32s.
	Len() int
	// From is the buffer from its offset-th value on: a view of the same
	// memory, to write columns into the middle of a matrix (a Concat).
	From(offset int) Buffer
}

// Func is an elementwise function of Stream.Apply.
type Func int

// The elementwise functions.
const (
	Relu Func = iota
	LeakyRelu
	Sigmoid
	Tanh
	Exp
	Log
	Sqrt
	Abs
	Neg
	Softplus
)

var funcNames = [...]string{"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Abs", "Neg", "Softplus"}

func (f Func) String() string { return nameIn(funcNames[:], int(f), "Func") }

// FuncOf returns the elementwise function of an ONNX operator.
func FuncOf(onnxOp string) (Func, bool) {
	i := slices.Index(funcNames[:], onnxOp)
	return Func(i), i >= 0
}

// Op is an elementwise operation of Stream.Combine.
type Op int

// The elementwise operations.
const (
	Add Op = iota
	Sub
	Mul
	Div
)

var opNames = [...]string{"Add", "Sub", "Mul", "Div"}

func (o Op) String() string { return nameIn(opNames[:], int(o), "Op") }

// OpOf returns the elementwise operation of an ONNX operator.
func OpOf(onnxOp string) (Op, bool) {
	i := slices.Index(opNames[:], onnxOp)
	return Op(i), i >= 0
}

// nameIn is names[i], or kind(i) for a value without a name.
func nameIn(names []string, i int, kind string) string {
	if i < 0 || i >= len(names) {
		return fmt.Sprintf("%s(%d)", kind, i)
	}
	return names[i]
}
