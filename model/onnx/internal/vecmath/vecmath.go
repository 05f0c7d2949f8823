package vecmath

// function is one of the package's elementwise functions.
type function int

const (
	fnExp function = iota
	fnTanh
	fnSigmoid
	fnLog
	fnErf
)

// kernelLevel is an implementation of the functions.
type kernelLevel int

const (
	levelGo kernelLevel = iota
	levelAVX2
)

var levelNames = [...]string{"go", "avx2"}

// active is the implementation the functions run: the best this CPU has;
// tests set it to compare the others.
var active = bestLevel

// Kernel names the implementation the functions run: "avx2" (also on
// AVX-512 CPUs) or "go".
func Kernel() string {
	return levelNames[active]
}

// Exp sets y[i] = e^x[i].
func Exp(y, x []float32) { apply(fnExp, y, x) }

// Tanh sets y[i] = tanh(x[i]).
func Tanh(y, x []float32) { apply(fnTanh, y, x) }

// Sigmoid sets y[i] = 1/(1 + e^-x[i]), the logistic function.
func Sigmoid(y, x []float32) { apply(fnSigmoid, y, x) }

// Log sets y[i] = ln(x[i]).
func Log(y, x []float32) { apply(fnLog, y, x) }

// Erf sets y[i] = erf(x[i]), the error function.
func Erf(y, x []float32) { apply(fnErf, y, x) }

// apply runs fn over x into y with the active implementation.
func apply(fn function, y, x []float32) {
	y = y[:len(x)]
	if len(x) == 0 || vectorized(fn, y, x) {
		return
	}
	// A loop per function, so that each call is direct and inlined.
	switch fn {
	case fnExp:
		for i, v := range x {
			y[i] = exp(v)
		}
	case fnTanh:
		for i, v := range x {
			y[i] = tanh(v)
		}
	case fnSigmoid:
		for i, v := range x {
			y[i] = sigmoid(v)
		}
	case fnLog:
		for i, v := range x {
			y[i] = log(v)
		}
	case fnErf:
		for i, v := range x {
			y[i] = erf(v)
		}
	}
}

// Softmax sets y to the softmax of the row x: e^(x[i] - max(x)) / sum.
func Softmax(y, x []float32) {
	y = y[:len(x)]
	if len(x) == 0 {
		return
	}
	top := x[0]
	for _, v := range x[1:] {
		top = max(top, v)
	}
	for i, v := range x {
		y[i] = v - top
	}
	Exp(y, y)
	normalize(y, y)
}

// normalize sets y = e / sum(e).
func normalize(y, e []float32) {
	sum := 0.0
	for _, v := range e {
		sum += float64(v)
	}
	inv := float32(1 / sum)
	for i, v := range e {
		y[i] = v * inv
	}
}

// softmaxChunk is how many values SoftmaxRows exponentiates per call of
// Exp, in a buffer on the stack.
const softmaxChunk = 512

// SoftmaxRows applies Softmax to rows rows of width values, row r of x
// at x[r*xs:], written to y[r*ys:]; y may be x when ys == xs. With AVX2,
// a row of up to 16 values is one pass of a kernel that holds it in
// registers (its sum of exponentials added in another order than
// Softmax's, which may move a result by an ulp); otherwise short rows are
// batched: the shifted values of many rows go through one call of Exp,
// so a row of 3 classes does not pay a vector call of its own.
func SoftmaxRows(y []float32, ys int, x []float32, xs int, rows, width int) {
	if rows == 0 || width == 0 {
		return
	}
	_, _ = x[(rows-1)*xs+width-1], y[(rows-1)*ys+width-1]
	if softmaxRowsVectorized(y, ys, x, xs, rows, width) {
		return
	}
	if width > softmaxChunk/4 {
		for r := range rows {
			Softmax(y[r*ys:r*ys+width], x[r*xs:r*xs+width])
		}
		return
	}
	var buf [softmaxChunk]float32
	per := softmaxChunk / width
	for first := 0; first < rows; first += per {
		n := min(per, rows-first)
		e := buf[:n*width]
		for i := range n {
			shiftByMax(e[i*width:(i+1)*width], x[(first+i)*xs:(first+i)*xs+width])
		}
		Exp(e, e)
		for i := range n {
			r := first + i
			normalize(y[r*ys:r*ys+width], e[i*width:(i+1)*width])
		}
	}
}

// shiftByMax sets d = x - max(x).
func shiftByMax(d, x []float32) {
	top := x[0]
	for _, v := range x[1:] {
		top = max(top, v)
	}
	for i, v := range x {
		d[i] = v - top
	}
}
