package onnx

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/dfbatch/dfbatch/internal/onnxpb"
)

// Summary describes a model file for people: what it takes, what it
// returns, and whether this runner can run each of its operators.
type Summary struct {
	Producer  string
	IRVersion int64
	// Opsets maps each operator domain the model imports to its version.
	Opsets    map[string]int64
	Inputs    []Tensor
	Outputs   []Tensor
	Operators []Operator
}

// Tensor is a graph input or output.
type Tensor struct {
	Name string
	// Type is the element type, e.g. "FLOAT", or the kind of a non-tensor
	// value, e.g. "seq(map(INT64,FLOAT))".
	Type string
	// Shape lists the dimensions, a dynamic one by its name or "?".
	Shape []string
}

// Operator is one operator type used by the graph.
type Operator struct {
	Domain    string
	Type      string
	Nodes     int
	Supported bool
}

// Inspect reads the model at path without checking that it can run.
func Inspect(path string) (*Summary, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	m, err := onnxpb.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", path, err)
	}
	s := &Summary{Producer: strings.TrimSpace(m.GetProducerName() + " " + m.GetProducerVersion()), IRVersion: m.GetIrVersion(), Opsets: map[string]int64{}}
	for _, o := range m.GetOpsetImport() {
		s.Opsets[domainName(o.GetDomain())] = o.GetVersion()
	}
	g := m.GetGraph()
	initialized := map[string]bool{}
	for _, t := range g.GetInitializer() {
		initialized[t.GetName()] = true
	}
	for _, v := range g.GetInput() {
		if !initialized[v.GetName()] {
			s.Inputs = append(s.Inputs, describe(v))
		}
	}
	for _, v := range g.GetOutput() {
		s.Outputs = append(s.Outputs, describe(v))
	}
	counts := map[[2]string]int{}
	for _, n := range g.GetNode() {
		key := [2]string{domainName(n.GetDomain()), n.GetOpType()}
		if counts[key] == 0 {
			s.Operators = append(s.Operators, Operator{Domain: key[0], Type: key[1], Supported: supported(n)})
		}
		counts[key]++
	}
	for i := range s.Operators {
		s.Operators[i].Nodes = counts[[2]string{s.Operators[i].Domain, s.Operators[i].Type}]
	}
	return s, nil
}

func domainName(d string) string {
	if d == "" {
		return "ai.onnx"
	}
	return d
}

// supported reports whether the runner can run n.
func supported(n *onnxpb.NodeProto) bool {
	domain := onnxpb.CanonicalDomain(n.GetDomain())
	return (domain == onnxpb.DefaultDomain && (slices.Contains(planOperators, n.GetOpType()) || slices.Contains(gorgonnxOperators, n.GetOpType()))) ||
		runsOnMLGraph(n)
}

func describe(v *onnxpb.ValueInfoProto) Tensor {
	t := Tensor{Name: v.GetName()}
	dims, params, elem, ok := onnxpb.ShapeOf(v)
	if !ok {
		t.Type = typeText(v.GetType())
		return t
	}
	t.Type = elem.String()
	for i, d := range dims {
		switch {
		case d >= 0:
			t.Shape = append(t.Shape, fmt.Sprint(d))
		case params[i] != "":
			t.Shape = append(t.Shape, params[i])
		default:
			t.Shape = append(t.Shape, "?")
		}
	}
	return t
}

// typeText names a non-tensor type, such as ZipMap's sequence of maps.
func typeText(t *onnxpb.TypeProto) string {
	switch {
	case t == nil:
		return "?"
	case t.GetTensorType() != nil:
		return onnxpb.TensorProto_DataType(t.GetTensorType().GetElemType()).String()
	case t.GetSequenceType() != nil:
		return "seq(" + typeText(t.GetSequenceType().GetElemType()) + ")"
	case t.GetMapType() != nil:
		return fmt.Sprintf("map(%s,%s)", onnxpb.TensorProto_DataType(t.GetMapType().GetKeyType()), typeText(t.GetMapType().GetValueType()))
	}
	return "?"
}
