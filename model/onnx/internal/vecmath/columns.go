package vecmath

// SoftmaxColumns applies Softmax to each row of a matrix held column by
// column, in place: row r is cols[0][r], cols[1][r], ..., every column
// having the length of the first. The results are Softmax's, bit for bit:
// the same maximum, shift, Exp and float64 sum in column order. Rows are
// taken softmaxChunk at a time, so that the running maxima and sums stay
// on the stack.
func SoftmaxColumns(cols [][]float32) {
	if len(cols) == 0 {
		return
	}
	rows := len(cols[0])
	for r0 := 0; r0 < rows; r0 += softmaxChunk {
		r1 := min(r0+softmaxChunk, rows)
		softmaxColumnChunk(cols, r0, r1)
	}
}

// softmaxColumnChunk is SoftmaxColumns over rows r0 to r1, at most
// softmaxChunk of them.
func softmaxColumnChunk(cols [][]float32, r0, r1 int) {
	var top [softmaxChunk]float32
	var sum [softmaxChunk]float64
	n := r1 - r0
	copy(top[:n], cols[0][r0:r1])
	for _, c := range cols[1:] {
		for i, v := range c[r0:r1] {
			top[i] = max(top[i], v)
		}
	}
	for _, c := range cols {
		e := c[r0:r1]
		for i, v := range e {
			e[i] = v - top[i]
		}
		Exp(e, e)
		for i, v := range e {
			sum[i] += float64(v)
		}
	}
	var inv [softmaxChunk]float32
	for i, s := range sum[:n] {
		inv[i] = float32(1 / s)
	}
	for _, c := range cols {
		e := c[r0:r1]
		for i, v := range e {
			e[i] = v * inv[i]
		}
	}
}
