package onnx

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestApplyScalarMatchesApply checks the one-value-per-row loop of
// binaryStep against apply on each row, for every operator, the constant
// first and second, with strided input and output.
func TestApplyScalarMatchesApply(t *testing.T) {
	const rows, xs, os = 7, 3, 2
	x := make([]float32, rows*xs)
	for i := range x {
		x[i] = float32(i%5) - 1.5
	}
	c := float32(0.75)
	for _, op := range []string{"Add", "Sub", "Mul", "Div"} {
		for _, constFirst := range []bool{false, true} {
			got := make([]float32, rows*os)
			applyScalar(op, constFirst, got, os, x, xs, c, rows)
			for r := range rows {
				want := make([]float32, 1)
				if constFirst {
					apply(op, want, []float32{c}, x[r*xs:r*xs+1])
				} else {
					apply(op, want, x[r*xs:r*xs+1], []float32{c})
				}
				require.Equal(t, want[0], got[r*os], "%s, const first %v, row %d", op, constFirst, r)
			}
		}
	}
}
