package vecmath

//go:generate go run gen_kernels.go

import "golang.org/x/sys/cpu"

// bestLevel is the fastest implementation this CPU runs: the kernels need
// FMA and AVX2 (and the OS saving YMM registers, which cpu.X86.HasAVX
// includes). There are no AVX-512 kernels: no machine the project runs on
// could test them, and AVX-512 CPUs run the AVX2 ones.
var bestLevel = func() kernelLevel {
	if !cpu.X86.HasAVX || !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		return levelGo
	}
	return levelAVX2
}()

// The assembly kernels set y[i] = f(x[i]) for i < n; the AVX2 ones take
// an n that is a multiple of 8.

//go:noescape
func expAVX2(y, x *float32, n int)

//go:noescape
func tanhAVX2(y, x *float32, n int)

//go:noescape
func sigmoidAVX2(y, x *float32, n int)

//go:noescape
func logAVX2(y, x *float32, n int)

//go:noescape
func erfAVX2(y, x *float32, n int)

// softmaxRows8AVX2 and softmaxRows16AVX2 are SoftmaxRows over rows of up
// to 8 and 16 values: masks holds 16 int32 lanes, all ones where a row
// has a value.

//go:noescape
func softmaxRows8AVX2(y *float32, ys int, x *float32, xs int, rows, width int, masks *int32)

//go:noescape
func softmaxRows16AVX2(y *float32, ys int, x *float32, xs int, rows, width int, masks *int32)

// softmaxRowsVectorized runs SoftmaxRows (rows > 0) with the AVX2 kernels
// when they are active and a row fits in 16 values, and says whether it
// ran.
func softmaxRowsVectorized(y []float32, ys int, x []float32, xs int, rows, width int) bool {
	if active != levelAVX2 || width > 16 {
		return false
	}
	var masks [16]int32
	for j := range width {
		masks[j] = -1
	}
	kernel := softmaxRows16AVX2
	if width <= 8 {
		kernel = softmaxRows8AVX2
	}
	kernel(&y[0], ys, &x[0], xs, rows, width, &masks[0])
	return true
}

// vectorized runs fn over x into y (of x's length, not empty) with the
// active kernel, or says it is the Go one. The AVX2 kernels take the
// last len(x) % 8 values through a vector on the stack.
func vectorized(fn function, y, x []float32) bool {
	if active != levelAVX2 {
		return false
	}
	body := len(x) &^ 7
	if body > 0 {
		avx2(fn, &y[0], &x[0], body)
	}
	if body < len(x) {
		var tail [8]float32
		copy(tail[:], x[body:])
		avx2(fn, &tail[0], &tail[0], len(tail))
		copy(y[body:], tail[:])
	}
	return true
}

func avx2(fn function, y, x *float32, n int) {
	switch fn {
	case fnExp:
		expAVX2(y, x, n)
	case fnTanh:
		tanhAVX2(y, x, n)
	case fnSigmoid:
		sigmoidAVX2(y, x, n)
	case fnLog:
		logAVX2(y, x, n)
	case fnErf:
		erfAVX2(y, x, n)
	}
}
