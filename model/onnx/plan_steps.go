package onnx

import (
	"math"

	"github.com/dfbatch/dfbatch/model/onnx/internal/sgemm"
	"github.com/dfbatch/dfbatch/model/onnx/onnxpb"
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

// unaryStep applies an elementwise function, a row at a time.
type unaryStep struct {
	f       func(y, x []float32)
	op      string
	alpha   float32 // LeakyRelu's slope
	in, out planValue
}

func (s *unaryStep) run(bufs [][]float32, strides []int, rows int) {
	x, y := bufs[s.in.buf], bufs[s.out.buf]
	xs, ys := strides[s.in.buf], strides[s.out.buf]
	for r := range rows {
		s.f(y[r*ys:r*ys+s.in.width], x[r*xs:r*xs+s.in.width])
	}
}

// unaryOf is the function of an elementwise operator, over a row.
// Transcendental functions are computed in float64 and rounded once.
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
		return elementwise(func(v float64) float64 { return 1 / (1 + math.Exp(-v)) })
	case "Tanh":
		return elementwise(math.Tanh)
	case "Exp":
		return elementwise(math.Exp)
	case "Log":
		return elementwise(math.Log)
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

// softmaxStep normalizes each row: exp(x - max) / sum.
type softmaxStep struct {
	in, out planValue
}

func (s *softmaxStep) run(bufs [][]float32, strides []int, rows int) {
	x, y := bufs[s.in.buf], bufs[s.out.buf]
	xs, ys := strides[s.in.buf], strides[s.out.buf]
	for r := range rows {
		xr, yr := x[r*xs:r*xs+s.in.width], y[r*ys:r*ys+s.in.width]
		top := float64(xr[0])
		for _, v := range xr[1:] {
			top = math.Max(top, float64(v))
		}
		sum := 0.0
		for j, v := range xr {
			e := math.Exp(float64(v) - top)
			yr[j] = float32(e)
			sum += e
		}
		for j := range yr {
			yr[j] = float32(float64(yr[j]) / sum)
		}
	}
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
		for r := range rows {
			copy(y[r*ys+at:r*ys+at+in.width], x[r*xs:r*xs+in.width])
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
