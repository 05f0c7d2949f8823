package vecmath

// argMax8AVX2 and argMax16AVX2 are ArgMaxRows over rows of up to 8 and 16
// values: masks holds 8 int32 lanes per half of a row, all ones where the
// row has a value; a row holding a NaN is answered -1.

//go:noescape
func argMax8AVX2(data *float32, stride, rows int, out *int64, masks *int32, last int)

//go:noescape
func argMax16AVX2(data *float32, stride, rows int, out *int64, masks *int32, last int)

// argMaxVectorized runs ArgMaxRows with the AVX2 kernels when they are
// active and a row fits in 16 values, leaving -1 for rows that hold a
// NaN, and says whether it ran.
func argMaxVectorized(data []float32, width int, last bool, out []int64) bool {
	if active != levelAVX2 || width > 16 || len(out) == 0 {
		return false
	}
	_ = data[(len(out)-1)*width+width-1]
	var masks [16]int32
	for j := range width {
		masks[j] = -1
	}
	flag := 0
	if last {
		flag = 1
	}
	if width <= 8 {
		argMax8AVX2(&data[0], width, len(out), &out[0], &masks[0], flag)
	} else {
		argMax16AVX2(&data[0], width, len(out), &out[0], &masks[0], flag)
	}
	return true
}
