package onnx

import (
	"fmt"

	"github.com/dfbatch/dfbatch/gpu"
	"github.com/dfbatch/dfbatch/internal/onnxpb"
	"github.com/dfbatch/dfbatch/model/onnx/internal/sgemm"
)

// plan is a dense graph compiled for float32 rows: every value is a
// [rows, width] matrix held row-major in one of a few buffers, and the
// graph's nodes become steps over those buffers. Fully connected layers
// (Gemm, or MatMul by a constant) are packed once with their bias and a
// following ReLU folded in, and run on sgemm's register-blocked kernel.
//
// A plan is built once per Loader and only read afterwards, so executors
// share its packed weights; each executor runs it with buffers of its own
// (planState).
type plan struct {
	inputs []planInput
	// strides holds each buffer's row stride, in float32s.
	strides []int
	steps   []planStep
	outputs []planValue
}

// chunkBytes is about how much of the buffers one chunk of rows spans:
// half the 1 MiB L2 cache of current x86 cores, leaving room for weights.
const chunkBytes = 512 << 10

// chunkRows is how many rows the steps run on at a time: the rows of all
// buffers that fit in chunkBytes, a multiple of sgemm.RowPad.
func (p *plan) chunkRows() int {
	perRow := 0
	for _, s := range p.strides {
		perRow += 4 * s
	}
	return max(1, chunkBytes/max(perRow, 1)/sgemm.RowPad) * sgemm.RowPad
}

// planInput is graph input i: the buffer its rows are written to, and
// its element type, which the frame's values are converted from.
type planInput struct {
	buf   int
	width int
	elem  onnxpb.TensorProto_DataType
}

// planValue is a value of the graph at run time: width columns of a
// buffer. In-place steps make several values share one buffer.
type planValue struct {
	buf, width int
}

// planStep is one step of a plan: run computes it over rows rows of the
// buffers on the CPU; upload puts its constants on a GPU stream, once per
// executor, and returns what queues it there for a batch.
type planStep interface {
	run(bufs [][]float32, strides []int, rows int)
	upload(s gpu.Stream) (gpuRun, error)
}

// planOperators are the operators a plan compiles: the dense layers of
// tabular networks and what exporters write around them.
var planOperators = []string{
	"Abs", "Add", "Cast", "Concat", "Constant", "Div", "Dropout", "Erf", "Exp", "Flatten", "Gemm", "Identity",
	"LeakyRelu", "Log", "MatMul", "Mul", "Neg", "Relu", "Sigmoid", "Softmax", "Softplus", "Sqrt", "Sub", "Tanh",
	"Reshape", // of each row's values, by a constant shape (rowShape)
}

// errNotPlanned says why a graph cannot be compiled into a plan; the graph
// then runs on gorgonia.
type errNotPlanned struct {
	node   string
	reason string
}

func (e *errNotPlanned) Error() string {
	if e.node == "" {
		return e.reason
	}
	return fmt.Sprintf("node %q: %s", e.node, e.reason)
}

func notPlanned(n *onnxpb.NodeProto, format string, args ...any) error {
	return &errNotPlanned{node: n.GetName(), reason: fmt.Sprintf(format, args...)}
}

// constant is an initializer or a Constant node's value.
type constant struct {
	dims   []int64
	values []float32
}

// planBuilder holds what compilePlan knows while it walks the nodes.
type planBuilder struct {
	p      *plan
	consts map[string]constant
	values map[string]planValue
	// uses counts the nodes reading each name; graph outputs count too,
	// so a value a caller sees is never overwritten in place.
	uses map[string]int
	// converted are the values read from a non-float graph input, valid
	// only through a Cast to float.
	converted map[string]bool
	// layers are the fully connected steps by their output's name, for
	// folding a following Add or Relu into them.
	layers map[string]*denseLayer
	// shapes are the INT64 initializers, which Reshape reads.
	shapes constants
}

// compilePlan compiles g, whose inputs are specs (width fixed by the
// Features binding), or says why it cannot.
func compilePlan(g *onnxpb.GraphProto, specs []tensorSpec) (*plan, error) {
	b := &planBuilder{
		p:         &plan{},
		consts:    map[string]constant{},
		values:    map[string]planValue{},
		uses:      map[string]int{},
		converted: map[string]bool{},
		layers:    map[string]*denseLayer{},
		shapes:    constants{},
	}
	for _, t := range g.GetInitializer() {
		if onnxpb.DataTypeOf(t) == onnxpb.TensorProto_INT64 {
			b.shapes[t.GetName()] = t
		}
		if onnxpb.DataTypeOf(t) != onnxpb.TensorProto_FLOAT {
			continue // only float weights take part; others fail where used
		}
		v, err := onnxpb.TensorFloat32s(t)
		if err != nil {
			return nil, err
		}
		b.consts[t.GetName()] = constant{dims: t.GetDims(), values: v}
	}
	for _, n := range g.GetNode() {
		for _, in := range n.GetInput() {
			b.uses[in]++
		}
	}
	for _, o := range g.GetOutput() {
		b.uses[o.GetName()]++
	}
	for _, spec := range specs {
		if spec.width <= 0 || len(spec.dims) != 1 {
			return nil, &errNotPlanned{reason: fmt.Sprintf("input %q is not a [N, F] matrix", spec.name)}
		}
		v := b.newValue(spec.width, spec.width)
		b.p.inputs = append(b.p.inputs, planInput{buf: v.buf, width: spec.width, elem: spec.elem})
		b.values[spec.name] = v
		b.converted[spec.name] = spec.elem != onnxpb.TensorProto_FLOAT
	}
	for _, n := range g.GetNode() {
		if !planCompiles(n) {
			return nil, notPlanned(n, "operator %s is not compiled", n.GetOpType())
		}
		for _, in := range n.GetInput() {
			if b.converted[in] && n.GetOpType() != "Cast" {
				return nil, notPlanned(n, "reads the non-float input %q other than through a Cast", in)
			}
		}
		if err := b.node(n); err != nil {
			return nil, err
		}
	}
	for _, o := range g.GetOutput() {
		v, ok := b.values[o.GetName()]
		if !ok || b.converted[o.GetName()] {
			return nil, &errNotPlanned{reason: fmt.Sprintf("output %q is not a float matrix of the rows", o.GetName())}
		}
		b.p.outputs = append(b.p.outputs, v)
	}
	return b.p, nil
}

// newValue adds a buffer of stride float32s per row.
func (b *planBuilder) newValue(width, stride int) planValue {
	b.p.strides = append(b.p.strides, stride)
	return planValue{buf: len(b.p.strides) - 1, width: width}
}

// target is where a step writing width columns from in puts them: over
// in itself when nothing else reads it, else a new buffer.
func (b *planBuilder) target(n *onnxpb.NodeProto, in string, width int) planValue {
	if v := b.values[in]; b.uses[in] == 1 && v.width == width {
		return v
	}
	return b.newValue(width, width)
}

// act is the run-time value a node reads as its input i.
func (b *planBuilder) act(n *onnxpb.NodeProto, i int) (planValue, error) {
	name := n.GetInput()[i]
	v, ok := b.values[name]
	if !ok {
		return v, notPlanned(n, "input %q is not a per-row float value", name)
	}
	return v, nil
}

func (b *planBuilder) node(n *onnxpb.NodeProto) error {
	ins, outs := n.GetInput(), n.GetOutput()
	if len(outs) == 0 {
		return notPlanned(n, "has no output")
	}
	// Only the first output is computed (Dropout's mask must be unused).
	for _, o := range outs[1:] {
		if o != "" && b.uses[o] > 0 {
			return notPlanned(n, "its output %q is used", o)
		}
	}
	out := outs[0]
	switch op := n.GetOpType(); op {
	case "Constant":
		t, ok := onnxpb.AttrTensor(n, "value")
		if !ok || onnxpb.DataTypeOf(t) != onnxpb.TensorProto_FLOAT {
			return notPlanned(n, "is not a float tensor constant")
		}
		v, err := onnxpb.TensorFloat32s(t)
		if err != nil {
			return err
		}
		b.consts[out] = constant{dims: t.GetDims(), values: v}
	case "Identity", "Dropout", "Flatten", "Cast", "Reshape":
		if len(ins) == 0 {
			return notPlanned(n, "has no input")
		}
		if op == "Cast" && onnxpb.AttrIntOr(n, "to", 0) != int64(onnxpb.TensorProto_FLOAT) {
			return notPlanned(n, "casts to a type other than FLOAT")
		}
		if op == "Flatten" && onnxpb.AttrIntOr(n, "axis", 1) != 1 {
			return notPlanned(n, "flattens at an axis other than 1")
		}
		v, err := b.act(n, 0)
		if err != nil {
			return err
		}
		if op == "Reshape" {
			if err := b.reshape(n, v.width); err != nil {
				return err
			}
		}
		// The same rows under a new name; a Cast of a non-float input to
		// float is done when the input is read.
		b.values[out] = v
		// Both names read the one buffer, so each counts the readers of
		// both: a step may write over it only when it is the only one.
		shared := b.uses[ins[0]] - 1 + b.uses[out]
		b.uses[ins[0]], b.uses[out] = shared, shared
	case "Gemm", "MatMul":
		return b.dense(n)
	case "Scaler":
		return b.scaler(n)
	case "Add", "Sub", "Mul", "Div":
		return b.binary(n)
	case "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Abs", "Neg", "Softplus", "Erf":
		if op == "Relu" {
			if l := b.layers[ins[0]]; l != nil && b.uses[ins[0]] == 1 && !l.relu {
				l.relu = true
				b.values[out] = b.values[ins[0]]
				return nil
			}
		}
		x, err := b.act(n, 0)
		if err != nil {
			return err
		}
		y := b.target(n, ins[0], x.width)
		b.p.steps = append(b.p.steps, &unaryStep{f: unaryOf(n), op: op, alpha: onnxpb.AttrFloatOr(n, "alpha", 0.01), in: x, out: y})
		b.values[out] = y
	case "Softmax":
		if axis := onnxpb.AttrIntOr(n, "axis", -1); axis != 1 && axis != -1 {
			return notPlanned(n, "softmax over axis %d of a [N, F] matrix", axis)
		}
		x, err := b.act(n, 0)
		if err != nil {
			return err
		}
		y := b.target(n, ins[0], x.width)
		b.p.steps = append(b.p.steps, &softmaxStep{in: x, out: y})
		b.values[out] = y
	case "Concat":
		if axis := onnxpb.AttrIntOr(n, "axis", 0); axis != 1 && axis != -1 {
			return notPlanned(n, "concatenates along axis %d, not the columns", axis)
		}
		s := &concatStep{}
		width := 0
		for i := range ins {
			x, err := b.act(n, i)
			if err != nil {
				return err
			}
			s.ins = append(s.ins, x)
			width += x.width
		}
		s.out = b.newValue(width, width)
		b.p.steps = append(b.p.steps, s)
		b.values[out] = s.out
	default:
		return notPlanned(n, "operator %s is not compiled", op)
	}
	return nil
}

// dense compiles a Gemm, or a MatMul by a constant matrix, into a fully
// connected layer.
func (b *planBuilder) dense(n *onnxpb.NodeProto) error {
	ins := n.GetInput()
	if len(ins) < 2 {
		return notPlanned(n, "has %d inputs", len(ins))
	}
	x, err := b.act(n, 0)
	if err != nil {
		return err
	}
	w, ok := b.consts[ins[1]]
	if !ok || len(w.dims) != 2 {
		return notPlanned(n, "its second input %q is not a constant matrix", ins[1])
	}
	alpha, beta := float32(1), float32(1)
	transposed := false
	if n.GetOpType() == "Gemm" {
		if onnxpb.AttrIntOr(n, "transA", 0) != 0 {
			return notPlanned(n, "transA is set")
		}
		alpha, beta = onnxpb.AttrFloatOr(n, "alpha", 1), onnxpb.AttrFloatOr(n, "beta", 1)
		transposed = onnxpb.AttrIntOr(n, "transB", 0) != 0
	}
	k, width := int(w.dims[0]), int(w.dims[1])
	if transposed {
		k, width = width, k
	}
	if k != x.width {
		return notPlanned(n, "multiplies %d columns by a %d-row matrix", x.width, k)
	}
	product := sgemm.Pack(w.values, k, width, transposed, alpha)
	bias := make([]float32, product.Stride())
	if len(ins) > 2 && ins[2] != "" {
		c, ok := b.consts[ins[2]]
		if !ok || !broadcastsOverRows(c, width) {
			return notPlanned(n, "its bias %q is not a constant row of %d", ins[2], width)
		}
		for j := range width {
			bias[j] = beta * c.values[j%len(c.values)]
		}
	}
	l := &denseLayer{product: product, bias: bias, in: x, out: b.newValue(width, product.Stride())}
	b.p.steps = append(b.p.steps, l)
	b.values[n.GetOutput()[0]] = l.out
	b.layers[n.GetOutput()[0]] = l
	return nil
}

// binary compiles an elementwise Add, Sub, Mul or Div of two per-row
// values of one width, or of a per-row value and a constant row or scalar.
// An Add of a constant row right after a fully connected layer is folded
// into its bias.
func (b *planBuilder) binary(n *onnxpb.NodeProto) error {
	ins := n.GetInput()
	if len(ins) != 2 {
		return notPlanned(n, "has %d inputs", len(ins))
	}
	op := n.GetOpType()
	s := &binaryStep{op: op}
	x, xok := b.values[ins[0]]
	y, yok := b.values[ins[1]]
	switch {
	case xok && yok:
		if x.width != y.width {
			return notPlanned(n, "adds values of %d and %d columns", x.width, y.width)
		}
		s.x, s.y = x, &y
	case xok || yok:
		s.x = x
		name := ins[1]
		if !xok {
			s.x, name, s.constFirst = y, ins[0], true
		}
		c, ok := b.consts[name]
		if !ok || !broadcastsOverRows(c, s.x.width) {
			return notPlanned(n, "%q is neither per row nor a constant row of %d", name, s.x.width)
		}
		s.c = make([]float32, s.x.width)
		for j := range s.c {
			s.c[j] = c.values[j%len(c.values)]
		}
		from := ins[0]
		if !xok {
			from = ins[1]
		}
		if l := b.layers[from]; op == "Add" && l != nil && b.uses[from] == 1 && !l.relu {
			for j, v := range s.c {
				l.bias[j] += v
			}
			b.values[n.GetOutput()[0]] = l.out
			b.layers[n.GetOutput()[0]] = l
			return nil
		}
	default:
		return notPlanned(n, "has no per-row input")
	}
	first := ins[0]
	if !xok {
		first = ins[1]
	}
	s.out = b.target(n, first, s.x.width)
	b.p.steps = append(b.p.steps, s)
	b.values[n.GetOutput()[0]] = s.out
	return nil
}

// broadcastsOverRows says c is a scalar or a row of width values, as
// ONNX broadcasting applies it to every row of an [N, width] matrix.
func broadcastsOverRows(c constant, width int) bool {
	if len(c.values) == 1 {
		return true
	}
	if len(c.values) != width || len(c.dims) > 2 {
		return false
	}
	return len(c.dims) == 1 || c.dims[0] == 1
}

// reshape checks that a Reshape of rows of width values keeps each row's
// values together, as the same buffer under a new name.
func (b *planBuilder) reshape(n *onnxpb.NodeProto, width int) error {
	shape, err := reshapeTarget(n, b.shapes)
	if err == nil {
		err = rowShape(shape, width)
	}
	if err != nil {
		return notPlanned(n, "%v", err)
	}
	return nil
}
