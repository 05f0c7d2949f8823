package onnx

import (
	"slices"

	"github.com/dfbatch/dfbatch/internal/onnxpb"
)

// planCompiles says a plan compiles n's operator: a standard one of
// planOperators, or the ai.onnx.ml Scaler that skl2onnx writes for a
// StandardScaler before a network's layers.
func planCompiles(n *onnxpb.NodeProto) bool {
	switch onnxpb.CanonicalDomain(n.GetDomain()) {
	case onnxpb.DefaultDomain:
		return slices.Contains(planOperators, n.GetOpType())
	case onnxpb.MLDomain:
		return n.GetOpType() == "Scaler"
	}
	return false
}

// scaler compiles an ai.onnx.ml Scaler, (x - offset) * scale with one
// offset and scale per column or one for all, into a Sub and a Mul by
// constant rows, computed in float32 as the ML operator computes them.
func (b *planBuilder) scaler(n *onnxpb.NodeProto) error {
	x, err := b.act(n, 0)
	if err != nil {
		return err
	}
	offset, _ := onnxpb.AttrFloats(n, "offset")
	scale, _ := onnxpb.AttrFloats(n, "scale")
	if len(scale) == 0 || len(offset) != len(scale) || (len(scale) != 1 && len(scale) != x.width) {
		return notPlanned(n, "has %d offsets and %d scales for %d columns; needs as many of each, 1 or %d", len(offset), len(scale), x.width, x.width)
	}
	y := b.target(n, n.GetInput()[0], x.width)
	b.p.steps = append(b.p.steps,
		&binaryStep{op: "Sub", x: x, c: constantRow(offset, x.width), out: y},
		&binaryStep{op: "Mul", x: y, c: constantRow(scale, x.width), out: y})
	b.values[n.GetOutput()[0]] = y
	return nil
}

// constantRow is values, one per column or one for all, as a row of width.
func constantRow(values []float32, width int) []float32 {
	row := make([]float32, width)
	for j := range row {
		row[j] = values[j%len(values)]
	}
	return row
}
