package vecmath

// ArgMaxRows sets out[r] to the index of the largest of the width values
// of row r, data[r*width:(r+1)*width], for len(out) rows: the first such
// index, or the last when last is set (ONNX ArgMax's select_last_index).
// A NaN is never the largest, so a row whose first value is NaN answers
// 0 unless a later value is larger than it, which none is. With AVX2,
// rows of up to 16 float32 values take no branch on the values.
func ArgMaxRows[T float32 | float64 | int64](data []T, width int, last bool, out []int64) {
	if f, ok := any(data).([]float32); ok && argMaxVectorized(f, width, last, out) {
		for r, best := range out {
			if best < 0 {
				argMaxRowsGo(data[r*width:(r+1)*width], width, last, out[r:r+1])
			}
		}
		return
	}
	argMaxRowsGo(data, width, last, out)
}

// argMaxRowsGo is ArgMaxRows in Go.
func argMaxRowsGo[T float32 | float64 | int64](data []T, width int, last bool, out []int64) {
	for r := range out {
		row := data[r*width : (r+1)*width]
		best := 0
		for j, v := range row[1:] {
			if v > row[best] || (last && v == row[best]) {
				best = j + 1
			}
		}
		out[r] = int64(best)
	}
}
