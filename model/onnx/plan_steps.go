package onnx

import (
	"math"

	"github.com/dfbatch/dfbatch/internal/onnxpb"
	"github.com/dfbatch/dfbatch/model/onnx/internal/sgemm"
	"github.com/dfbatch/dfbatch/model/onnx/internal/vecmath"
)

// denseLayer is a fully connected layer: out = in x W + bias, then ReLU
// when relu. bias is padded with zeros to the output's stride.
type denseLayer struct {
	product *sgemm.Product
	bias    []float32
	relu    bool
	in, out planValue
}

func (l *denseLayer) run(bufs [][]float32, strides []int, rows int) {
	l.product.Mul(bufs[l.out.buf], strides[l.out.buf], bufs[l.in.buf], strides[l.in.buf], rows, l.bias, l.relu)
}

// unaryStep applies an elementwise function: over all rows at once when
// its input and output have one stride, else a row at a time.
type unaryStep struct {
	f       func(y, x []float32)
	op      string
	alpha   float32 // LeakyRelu's slope
	in, out planValue
}

func (s *unaryStep) run(bufs [][]float32, strides []int, rows int) {
	x, y := bufs[s.in.buf], bufs[s.out.buf]
	xs, ys := strides[s.in.buf], strides[s.out.buf]
	if xs == ys && rows > 0 {
		// One call, through the padding columns between rows too, which
		// no step reads (a fully connected layer fills them with
		// meaningless values): a vector kernel then runs whole vectors
		// instead of a short tail per row.
		n := (rows-1)*xs + s.in.width
		s.f(y[:n], x[:n])
		return
	}
	for r := range rows {
		s.f(y[r*ys:r*ys+s.in.width], x[r*xs:r*xs+s.in.width])
	}
}

// unaryOf is the function of an elementwise operator, over a row.
// Sigmoid, Tanh, Exp, Log and Erf run vecmath's float32 kernels (relative
// error below 1e-6); Softplus is computed in float64 and rounded once.
func unaryOf(n *onnxpb.NodeProto) func(y, x []float32) {
	switch n.GetOpType() {
	case "Relu":
		return func(y, x []float32) {
			for j, v := range x {
				y[j] = max(v, 0)
			}
		}
	case "LeakyRelu":
		alpha := onnxpb.AttrFloatOr(n, "alpha", 0.01)
		return func(y, x []float32) {
			for j, v := range x {
				if v < 0 {
					v *= alpha
				}
				y[j] = v
			}
		}
	case "Sigmoid":
		return vecmath.Sigmoid
	case "Tanh":
		return vecmath.Tanh
	case "Exp":
		return vecmath.Exp
	case "Log":
		return vecmath.Log
	case "Erf":
		return vecmath.Erf
	case "Sqrt":
		return elementwise(math.Sqrt)
	case "Abs":
		return elementwise(math.Abs)
	case "Neg":
		return elementwise(func(v float64) float64 { return -v })
	case "Softplus":
		// log(1 + e^v) without overflow: max(v, 0) + log1p(e^-|v|).
		return elementwise(func(v float64) float64 { return math.Max(v, 0) + math.Log1p(math.Exp(-math.Abs(v))) })
	}
	panic("onnx: no elementwise function for " + n.GetOpType())
}

// elementwise applies f to each value of a row, in float64.
func elementwise(f func(float64) float64) func(y, x []float32) {
	return func(y, x []float32) {
		for j, v := range x {
			y[j] = float32(f(float64(v)))
		}
	}
}

// softmaxStep normalizes each row: exp(x - max) / sum, in float32, the
// exponentials of many short rows in one vector call.
type softmaxStep struct {
	in, out planValue
}

func (s *softmaxStep) run(bufs [][]float32, strides []int, rows int) {
	vecmath.SoftmaxRows(bufs[s.out.buf], strides[s.out.buf], bufs[s.in.buf], strides[s.in.buf], rows, s.in.width)
}

// concatStep places its inputs' columns side by side.
type concatStep struct {
	ins []planValue
	out planValue
}

func (s *concatStep) run(bufs [][]float32, strides []int, rows int) {
	y, ys := bufs[s.out.buf], strides[s.out.buf]
	at := 0
	for _, in := range s.ins {
		x, xs := bufs[in.buf], strides[in.buf]
		if in.width == 1 { // a loop, not copy: memmove's call costs more than a value
			for r := range rows {
				y[r*ys+at] = x[r*xs]
			}
		} else {
			for r := range rows {
				copy(y[r*ys+at:r*ys+at+in.width], x[r*xs:r*xs+in.width])
			}
		}
		at += in.width
	}
}

// binaryStep is an elementwise Add, Sub, Mul or Div of x and either y
// (per row) or c (a constant row), c first when constFirst.
type binaryStep struct {
	op         string
	x          planValue
	y          *planValue
	c          []float32
	constFirst bool
	out        planValue
}

func (s *binaryStep) run(bufs [][]float32, strides []int, rows int) {
	x, xs := bufs[s.x.buf], strides[s.x.buf]
	out, os := bufs[s.out.buf], strides[s.out.buf]
	w := s.x.width
	if w == 1 && s.y == nil {
		applyScalar(s.op, s.constFirst, out, os, x, xs, s.c[0], rows)
		return
	}
	for r := range rows {
		a, o := x[r*xs:r*xs+w], out[r*os:r*os+w]
		var b []float32
		if s.y != nil {
			ys := strides[s.y.buf]
			b = bufs[s.y.buf][r*ys : r*ys+w]
		} else {
			b = s.c
		}
		if s.constFirst {
			apply(s.op, o, b, a)
		} else {
			apply(s.op, o, a, b)
		}
	}
}

// applyScalar writes x op c, or c op x when constFirst, for rows single
// values x[r*xs] to out[r*os]: a binary classifier's 1 - p, in one loop
// rather than a call of apply per row.
func applyScalar(op string, constFirst bool, out []float32, os int, x []float32, xs int, c float32, rows int) {
	switch {
	case op == "Sub" && constFirst:
		for r := range rows {
			out[r*os] = c - x[r*xs]
		}
	case op == "Div" && constFirst:
		for r := range rows {
			out[r*os] = c / x[r*xs]
		}
	case op == "Add":
		for r := range rows {
			out[r*os] = x[r*xs] + c
		}
	case op == "Sub":
		for r := range rows {
			out[r*os] = x[r*xs] - c
		}
	case op == "Mul":
		for r := range rows {
			out[r*os] = x[r*xs] * c
		}
	case op == "Div":
		for r := range rows {
			out[r*os] = x[r*xs] / c
		}
	}
}

// apply writes a op b to out, elementwise; out may be a or b.
func apply(op string, out, a, b []float32) {
	b, out = b[:len(a)], out[:len(a)]
	switch op {
	case "Add":
		for j := range a {
			out[j] = a[j] + b[j]
		}
	case "Sub":
		for j := range a {
			out[j] = a[j] - b[j]
		}
	case "Mul":
		for j := range a {
			out[j] = a[j] * b[j]
		}
	case "Div":
		for j := range a {
			out[j] = a[j] / b[j]
		}
	}
}
