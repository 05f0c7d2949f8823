package onnxpb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"

	"google.golang.org/protobuf/proto"
)

// Operator-set domains. A node or opset import whose domain is "" belongs to
// DefaultDomain.
const (
	DefaultDomain = "ai.onnx"
	MLDomain      = "ai.onnx.ml"
)

// Load reads and decodes the ONNX model file at path. Errors name the file.
// Tensors whose data is stored in external files are not read; the helpers
// below report them as such.
func Load(path string) (*ModelProto, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnxpb: load model: %w", err)
	}
	m, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("onnxpb: load model %s: %w", path, err)
	}
	return m, nil
}

// Decode decodes a serialized ModelProto (the content of an .onnx file). Data
// that is not protobuf, and a message without a graph, are errors: most bytes
// that are not an ONNX model either fail to parse or parse as a message with
// no graph.
func Decode(data []byte) (*ModelProto, error) {
	m, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("onnxpb: decode model: %w", err)
	}
	return m, nil
}

func decode(data []byte) (*ModelProto, error) {
	if len(data) == 0 {
		return nil, errors.New("empty input, not an ONNX model")
	}
	m := new(ModelProto)
	if err := proto.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("not an ONNX model: %w", err)
	}
	if m.Graph == nil {
		return nil, errors.New("not an ONNX model: no graph")
	}
	return m, nil
}

// CanonicalDomain returns the operator-set domain with "" spelled as
// DefaultDomain ("ai.onnx"), so domains can be compared and shown.
func CanonicalDomain(domain string) string {
	if domain == "" {
		return DefaultDomain
	}
	return domain
}

// Opset returns the version of the operator set that m imports for domain, 0
// when it imports none. "" and "ai.onnx" name the same domain.
func Opset(m *ModelProto, domain string) int64 {
	domain = CanonicalDomain(domain)
	var v int64
	for _, o := range m.GetOpsetImport() {
		if CanonicalDomain(o.GetDomain()) == domain && o.GetVersion() > v {
			v = o.GetVersion()
		}
	}
	return v
}

// Operator is one kind of node in a graph: its op_type in its domain (always
// canonical, see CanonicalDomain) and how many nodes use it.
type Operator struct {
	Domain string
	OpType string
	Count  int
}

// Operators lists the operators that g's nodes use, in the order of first
// use, including the nodes of subgraphs held in attributes (the branches of
// If, the bodies of Loop and Scan).
func Operators(g *GraphProto) []Operator {
	var ops []Operator
	index := map[[2]string]int{}
	var walk func(*GraphProto)
	walk = func(g *GraphProto) {
		for _, n := range g.GetNode() {
			key := [2]string{CanonicalDomain(n.GetDomain()), n.GetOpType()}
			if i, ok := index[key]; ok {
				ops[i].Count++
			} else {
				index[key] = len(ops)
				ops = append(ops, Operator{Domain: key[0], OpType: key[1], Count: 1})
			}
			for _, a := range n.GetAttribute() {
				if a.G != nil {
					walk(a.G)
				}
				for _, sub := range a.Graphs {
					walk(sub)
				}
			}
		}
	}
	walk(g)
	return ops
}

// ShapeOf returns the element type and shape of a tensor-typed value (a graph
// input, output or value_info). A dimension that is not a fixed size is -1,
// and params holds its dim_param (its symbolic name, such as "N"), "" for
// fixed dimensions and for unnamed dynamic ones; dims and params have the
// same length. A tensor of unknown rank has nil dims and params; a scalar has
// empty, non-nil ones. ok is false when v is nil or not a tensor (a sequence,
// a map, ...).
func ShapeOf(v *ValueInfoProto) (dims []int64, params []string, elemType TensorProto_DataType, ok bool) {
	t := v.GetType().GetTensorType()
	if t == nil {
		return nil, nil, TensorProto_UNDEFINED, false
	}
	elemType = TensorProto_DataType(t.GetElemType())
	if t.Shape == nil {
		return nil, nil, elemType, true
	}
	dims = make([]int64, len(t.Shape.Dim))
	params = make([]string, len(t.Shape.Dim))
	for i, d := range t.Shape.Dim {
		switch x := d.Value.(type) {
		case *TensorShapeProto_Dimension_DimValue:
			dims[i] = x.DimValue
		case *TensorShapeProto_Dimension_DimParam:
			dims[i], params[i] = -1, x.DimParam
		default:
			dims[i] = -1
		}
	}
	return dims, params, elemType, true
}

// TypeString writes a type in ONNX's notation: "tensor(float)",
// "seq(map(int64,tensor(float)))", "sparse_tensor(int64)",
// "optional(tensor(string))"; "unknown" for nil or an unset type.
func TypeString(t *TypeProto) string {
	switch x := t.GetValue().(type) {
	case *TypeProto_TensorType:
		return "tensor(" + elemName(x.TensorType.GetElemType()) + ")"
	case *TypeProto_SparseTensorType:
		return "sparse_tensor(" + elemName(x.SparseTensorType.GetElemType()) + ")"
	case *TypeProto_SequenceType:
		return "seq(" + TypeString(x.SequenceType.GetElemType()) + ")"
	case *TypeProto_OptionalType:
		return "optional(" + TypeString(x.OptionalType.GetElemType()) + ")"
	case *TypeProto_MapType:
		return "map(" + elemName(x.MapType.GetKeyType()) + "," + TypeString(x.MapType.GetValueType()) + ")"
	case *TypeProto_OpaqueType:
		if d := x.OpaqueType.GetDomain(); d != "" {
			return "opaque(" + d + "," + x.OpaqueType.GetName() + ")"
		}
		return "opaque(" + x.OpaqueType.GetName() + ")"
	}
	return "unknown"
}

func elemName(dt int32) string {
	return strings.ToLower(TensorProto_DataType(dt).String())
}

// Attributes.

// Attr returns n's attribute called name, nil if it has none.
func Attr(n *NodeProto, name string) *AttributeProto {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a
		}
	}
	return nil
}

// AttrType returns the type of an attribute. Models from before IR version
// 0.0.2 do not set it; then the type is that of the value field in use.
func AttrType(a *AttributeProto) AttributeProto_AttributeType {
	if t := a.GetType(); t != AttributeProto_UNDEFINED || a == nil {
		return t
	}
	switch {
	case a.F != nil:
		return AttributeProto_FLOAT
	case a.I != nil:
		return AttributeProto_INT
	case a.S != nil:
		return AttributeProto_STRING
	case a.T != nil:
		return AttributeProto_TENSOR
	case a.G != nil:
		return AttributeProto_GRAPH
	case a.SparseTensor != nil:
		return AttributeProto_SPARSE_TENSOR
	case a.Tp != nil:
		return AttributeProto_TYPE_PROTO
	case len(a.Floats) > 0:
		return AttributeProto_FLOATS
	case len(a.Ints) > 0:
		return AttributeProto_INTS
	case len(a.Strings) > 0:
		return AttributeProto_STRINGS
	case len(a.Tensors) > 0:
		return AttributeProto_TENSORS
	case len(a.Graphs) > 0:
		return AttributeProto_GRAPHS
	case len(a.SparseTensors) > 0:
		return AttributeProto_SPARSE_TENSORS
	case len(a.TypeProtos) > 0:
		return AttributeProto_TYPE_PROTOS
	}
	return AttributeProto_UNDEFINED
}

// attrOf returns n's attribute name if it has type t.
func attrOf(n *NodeProto, name string, t AttributeProto_AttributeType) *AttributeProto {
	if a := Attr(n, name); a != nil && AttrType(a) == t {
		return a
	}
	return nil
}

// The typed accessors below return ok false when n has no attribute called
// name or when it has one of another type (see AttrType to tell the two
// apart). An empty list attribute cannot be told from a missing one in the
// encoding unless its type is set; when it is, ok is true and the list empty.

// AttrInt returns the value of n's INT attribute name.
func AttrInt(n *NodeProto, name string) (int64, bool) {
	a := attrOf(n, name, AttributeProto_INT)
	return a.GetI(), a != nil
}

// AttrFloat returns the value of n's FLOAT attribute name.
func AttrFloat(n *NodeProto, name string) (float32, bool) {
	a := attrOf(n, name, AttributeProto_FLOAT)
	return a.GetF(), a != nil
}

// AttrString returns the value of n's STRING attribute name.
func AttrString(n *NodeProto, name string) (string, bool) {
	a := attrOf(n, name, AttributeProto_STRING)
	return string(a.GetS()), a != nil
}

// AttrTensor returns the value of n's TENSOR attribute name.
func AttrTensor(n *NodeProto, name string) (*TensorProto, bool) {
	a := attrOf(n, name, AttributeProto_TENSOR)
	return a.GetT(), a != nil
}

// AttrGraph returns the value of n's GRAPH attribute name.
func AttrGraph(n *NodeProto, name string) (*GraphProto, bool) {
	a := attrOf(n, name, AttributeProto_GRAPH)
	return a.GetG(), a != nil
}

// AttrInts returns the values of n's INTS attribute name.
func AttrInts(n *NodeProto, name string) ([]int64, bool) {
	a := attrOf(n, name, AttributeProto_INTS)
	return a.GetInts(), a != nil
}

// AttrFloats returns the values of n's FLOATS attribute name.
func AttrFloats(n *NodeProto, name string) ([]float32, bool) {
	a := attrOf(n, name, AttributeProto_FLOATS)
	return a.GetFloats(), a != nil
}

// AttrStrings returns the values of n's STRINGS attribute name.
func AttrStrings(n *NodeProto, name string) ([]string, bool) {
	a := attrOf(n, name, AttributeProto_STRINGS)
	if a == nil {
		return nil, false
	}
	s := make([]string, len(a.Strings))
	for i, b := range a.Strings {
		s[i] = string(b)
	}
	return s, true
}

// AttrIntOr returns the value of n's INT attribute name, def if it has none.
func AttrIntOr(n *NodeProto, name string, def int64) int64 {
	if v, ok := AttrInt(n, name); ok {
		return v
	}
	return def
}

// AttrFloatOr returns the value of n's FLOAT attribute name, def if it has
// none.
func AttrFloatOr(n *NodeProto, name string, def float32) float32 {
	if v, ok := AttrFloat(n, name); ok {
		return v
	}
	return def
}

// AttrStringOr returns the value of n's STRING attribute name, def if it has
// none.
func AttrStringOr(n *NodeProto, name string, def string) string {
	if v, ok := AttrString(n, name); ok {
		return v
	}
	return def
}

// Tensor data.
//
// A tensor's values are either in raw_data, little-endian, or in the typed
// field that its data type uses (float_data, int32_data, int64_data,
// double_data, uint64_data, string_data). The readers below take either, check
// the number of values against the tensor's dims, and fail with an error
// naming the tensor and its data type when the type is not one they read,
// when the data does not match the dims, and when the data is stored in an
// external file.

// DataTypeOf returns t's element type.
func DataTypeOf(t *TensorProto) TensorProto_DataType {
	return TensorProto_DataType(t.GetDataType())
}

// NumElements returns the number of values that t's dims call for (1 for a
// scalar).
func NumElements(t *TensorProto) (int, error) {
	n := int64(1)
	for _, d := range t.GetDims() {
		if d < 0 {
			return 0, tensorErr(t, "has a negative dimension in dims %v", t.GetDims())
		}
		if d > 0 && n > math.MaxInt64/d {
			return 0, tensorErr(t, "has too many elements: dims %v", t.GetDims())
		}
		n *= d
	}
	if n > math.MaxInt {
		return 0, tensorErr(t, "has too many elements: dims %v", t.GetDims())
	}
	return int(n), nil
}

// TensorFloat32s returns the values of a FLOAT tensor.
func TensorFloat32s(t *TensorProto) ([]float32, error) {
	n, err := prepare(t, "FLOAT", TensorProto_FLOAT)
	if err != nil {
		return nil, err
	}
	if t.RawData != nil {
		return fromRaw(t, n, 4, func(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) })
	}
	return fromTyped(t, n, "float_data", t.FloatData, func(v float32) float32 { return v })
}

// TensorFloat64s returns the values of a DOUBLE or FLOAT tensor as float64.
func TensorFloat64s(t *TensorProto) ([]float64, error) {
	n, err := prepare(t, "DOUBLE or FLOAT", TensorProto_DOUBLE, TensorProto_FLOAT)
	if err != nil {
		return nil, err
	}
	if DataTypeOf(t) == TensorProto_FLOAT {
		if t.RawData != nil {
			return fromRaw(t, n, 4, func(b []byte) float64 { return float64(math.Float32frombits(binary.LittleEndian.Uint32(b))) })
		}
		return fromTyped(t, n, "float_data", t.FloatData, func(v float32) float64 { return float64(v) })
	}
	if t.RawData != nil {
		return fromRaw(t, n, 8, func(b []byte) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(b)) })
	}
	return fromTyped(t, n, "double_data", t.DoubleData, func(v float64) float64 { return v })
}

// TensorInt64s returns the values of an INT64 tensor, or of a tensor of
// another integer type (INT32, INT16, INT8, UINT64, UINT32, UINT16, UINT8) or
// BOOL (0 or 1) as int64. A UINT64 value above math.MaxInt64 is an error.
func TensorInt64s(t *TensorProto) ([]int64, error) {
	n, err := prepare(t, "an integer type or BOOL",
		TensorProto_INT64, TensorProto_INT32, TensorProto_INT16, TensorProto_INT8,
		TensorProto_UINT64, TensorProto_UINT32, TensorProto_UINT16, TensorProto_UINT8, TensorProto_BOOL)
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	raw := t.RawData != nil
	switch DataTypeOf(t) {
	case TensorProto_INT64:
		if raw {
			return fromRaw(t, n, 8, func(b []byte) int64 { return int64(le.Uint64(b)) })
		}
		return fromTyped(t, n, "int64_data", t.Int64Data, func(v int64) int64 { return v })
	case TensorProto_UINT64:
		var vals []int64
		if raw {
			vals, err = fromRaw(t, n, 8, func(b []byte) int64 { return int64(le.Uint64(b)) })
		} else {
			vals, err = fromTyped(t, n, "uint64_data", t.Uint64Data, func(v uint64) int64 { return int64(v) })
		}
		if err != nil {
			return nil, err
		}
		for i, v := range vals {
			if v < 0 {
				return nil, tensorErr(t, "has value %d at index %d, which does not fit in int64", uint64(v), i)
			}
		}
		return vals, nil
	case TensorProto_UINT32:
		if raw {
			return fromRaw(t, n, 4, func(b []byte) int64 { return int64(le.Uint32(b)) })
		}
		return fromTyped(t, n, "uint64_data", t.Uint64Data, func(v uint64) int64 { return int64(uint32(v)) })
	case TensorProto_INT32:
		if raw {
			return fromRaw(t, n, 4, func(b []byte) int64 { return int64(int32(le.Uint32(b))) })
		}
		return fromTyped(t, n, "int32_data", t.Int32Data, func(v int32) int64 { return int64(v) })
	case TensorProto_INT16:
		if raw {
			return fromRaw(t, n, 2, func(b []byte) int64 { return int64(int16(le.Uint16(b))) })
		}
		return fromTyped(t, n, "int32_data", t.Int32Data, func(v int32) int64 { return int64(int16(v)) })
	case TensorProto_UINT16:
		if raw {
			return fromRaw(t, n, 2, func(b []byte) int64 { return int64(le.Uint16(b)) })
		}
		return fromTyped(t, n, "int32_data", t.Int32Data, func(v int32) int64 { return int64(uint16(v)) })
	case TensorProto_INT8:
		if raw {
			return fromRaw(t, n, 1, func(b []byte) int64 { return int64(int8(b[0])) })
		}
		return fromTyped(t, n, "int32_data", t.Int32Data, func(v int32) int64 { return int64(int8(v)) })
	case TensorProto_UINT8:
		if raw {
			return fromRaw(t, n, 1, func(b []byte) int64 { return int64(b[0]) })
		}
		return fromTyped(t, n, "int32_data", t.Int32Data, func(v int32) int64 { return int64(uint8(v)) })
	default: // BOOL
		if raw {
			return fromRaw(t, n, 1, func(b []byte) int64 { return b2i(b[0] != 0) })
		}
		return fromTyped(t, n, "int32_data", t.Int32Data, func(v int32) int64 { return b2i(v != 0) })
	}
}

// TensorStrings returns the values of a STRING tensor. ONNX keeps strings in
// string_data only; raw_data on a STRING tensor is an error.
func TensorStrings(t *TensorProto) ([]string, error) {
	n, err := prepare(t, "STRING", TensorProto_STRING)
	if err != nil {
		return nil, err
	}
	if len(t.RawData) > 0 {
		return nil, tensorErr(t, "has raw_data, which cannot hold strings")
	}
	return fromTyped(t, n, "string_data", t.StringData, func(b []byte) string { return string(b) })
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// prepare checks t's data type and location and returns its element count.
func prepare(t *TensorProto, want string, types ...TensorProto_DataType) (int, error) {
	if t == nil {
		return 0, errors.New("onnxpb: nil tensor")
	}
	dt := DataTypeOf(t)
	found := false
	for _, ty := range types {
		found = found || dt == ty
	}
	if !found {
		return 0, fmt.Errorf("onnxpb: %s has data type %v, want %s", tensorName(t), dt, want)
	}
	if t.GetDataLocation() == TensorProto_EXTERNAL {
		loc := ""
		for _, e := range t.GetExternalData() {
			if e.GetKey() == "location" {
				loc = e.GetValue()
			}
		}
		return 0, tensorErr(t, "keeps its data in the external file %q, which is not supported", loc)
	}
	return NumElements(t)
}

func fromRaw[T any](t *TensorProto, n, size int, conv func([]byte) T) ([]T, error) {
	raw := t.RawData
	if len(raw) != n*size {
		return nil, tensorErr(t, "has %d bytes of raw_data, dims %v need %d", len(raw), t.GetDims(), n*size)
	}
	out := make([]T, n)
	for i := range out {
		out[i] = conv(raw[i*size : (i+1)*size])
	}
	return out, nil
}

func fromTyped[S, T any](t *TensorProto, n int, field string, data []S, conv func(S) T) ([]T, error) {
	if len(data) != n {
		return nil, tensorErr(t, "has %d values in %s, dims %v need %d", len(data), field, t.GetDims(), n)
	}
	out := make([]T, n)
	for i, v := range data {
		out[i] = conv(v)
	}
	return out, nil
}

func tensorName(t *TensorProto) string {
	if name := t.GetName(); name != "" {
		return fmt.Sprintf("tensor %q", name)
	}
	return "unnamed tensor"
}

func tensorErr(t *TensorProto, format string, args ...any) error {
	return fmt.Errorf("onnxpb: %s (%v) %s", tensorName(t), DataTypeOf(t), fmt.Sprintf(format, args...))
}
