package bench

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/internal/onnxpb"
	"google.golang.org/protobuf/proto"
)

// The ONNX models are generated here, deterministically, rather than by a
// Python exporter: the comparison needs no Python to build them, and every
// run scores the same weights and data.

// MLP is a dense network as PyTorch exports an nn.Sequential of Linear
// layers with ReLU between them and a sigmoid at the end: Gemm (transB=1)
// + Relu per hidden layer, Gemm (transB=1) + Sigmoid last.
type MLP struct {
	// Sizes are the layer widths, input first: {16, 64, 64, 1}.
	Sizes []int
	// Weights[i] is layer i's [Sizes[i+1], Sizes[i]] matrix, row-major
	// (PyTorch's Linear.weight); Biases[i] its Sizes[i+1] biases.
	Weights [][]float32
	Biases  [][]float32
}

// NewMLP draws an MLP's weights as PyTorch initializes nn.Linear: weights
// and biases uniform in ±1/sqrt(fan_in), from a generator seeded with seed.
func NewMLP(seed uint64, sizes ...int) *MLP {
	rng := rand.New(rand.NewPCG(seed, 0x6d6c70))
	m := &MLP{Sizes: sizes}
	for i := range len(sizes) - 1 {
		in, out := sizes[i], sizes[i+1]
		bound := 1 / math.Sqrt(float64(in))
		w := make([]float32, out*in)
		for k := range w {
			w[k] = float32((rng.Float64()*2 - 1) * bound)
		}
		b := make([]float32, out)
		for k := range b {
			b[k] = float32((rng.Float64()*2 - 1) * bound)
		}
		m.Weights, m.Biases = append(m.Weights, w), append(m.Biases, b)
	}
	return m
}

// Name is the MLP's sizes joined by dashes, "16-64-64-1".
func (m *MLP) Name() string {
	s := ""
	for i, n := range m.Sizes {
		if i > 0 {
			s += "-"
		}
		s += fmt.Sprint(n)
	}
	return s
}

// Features is the MLP's input width.
func (m *MLP) Features() int { return m.Sizes[0] }

// Outputs is the MLP's output width.
func (m *MLP) Outputs() int { return m.Sizes[len(m.Sizes)-1] }

// Proto is the MLP as torch.onnx.export writes it at opset 17: input
// "input" float32[batch_size, F], output "output" float32[batch_size, O],
// initializers as raw little-endian data, one Gemm per layer.
func (m *MLP) Proto() *onnxpb.ModelProto {
	var nodes []*onnxpb.NodeProto
	var inits []*onnxpb.TensorProto
	x := "input"
	last := len(m.Weights) - 1
	for i := range m.Weights {
		in, out := int64(m.Sizes[i]), int64(m.Sizes[i+1])
		layer := fmt.Sprintf("fc%d", i+1)
		w, b := layer+".weight", layer+".bias"
		inits = append(inits, float32Tensor(w, m.Weights[i], out, in), float32Tensor(b, m.Biases[i], out))
		gemm := fmt.Sprintf("/%s/Gemm_output_0", layer)
		nodes = append(nodes, &onnxpb.NodeProto{
			Name: proto.String("/" + layer + "/Gemm"), OpType: proto.String("Gemm"),
			Input: []string{x, w, b}, Output: []string{gemm},
			Attribute: []*onnxpb.AttributeProto{attrFloat("alpha", 1), attrFloat("beta", 1), attrInt("transB", 1)},
		})
		act, op := fmt.Sprintf("/act%d/Relu_output_0", i+1), "Relu"
		if i == last {
			act, op = "output", "Sigmoid"
		}
		nodes = append(nodes, &onnxpb.NodeProto{
			Name: proto.String(fmt.Sprintf("/act%d/%s", i+1, op)), OpType: proto.String(op),
			Input: []string{gemm}, Output: []string{act},
		})
		x = act
	}
	return &onnxpb.ModelProto{
		IrVersion:       proto.Int64(8),
		ProducerName:    proto.String("pytorch"),
		ProducerVersion: proto.String("2.3.0"),
		OpsetImport:     []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(17)}},
		Graph: &onnxpb.GraphProto{
			Name:        proto.String("main_graph"),
			Node:        nodes,
			Initializer: inits,
			Input:       []*onnxpb.ValueInfoProto{matrixInfo("input", onnxpb.TensorProto_FLOAT, int64(m.Features()))},
			Output:      []*onnxpb.ValueInfoProto{matrixInfo("output", onnxpb.TensorProto_FLOAT, int64(m.Outputs()))},
		},
	}
}

// Predict scores rows rows of x (row-major, rows x Features) in float32,
// layer by layer, into the rows x Outputs result: the reference the
// runners are checked against where ONNX Runtime is absent.
func (m *MLP) Predict(x []float32, rows int) []float32 {
	cur, width := x, m.Features()
	for i, w := range m.Weights {
		outW := m.Sizes[i+1]
		next := make([]float32, rows*outW)
		for r := range rows {
			row := cur[r*width : (r+1)*width]
			for o := range outW {
				z := m.Biases[i][o]
				for k, v := range w[o*width : (o+1)*width] {
					z += v * row[k]
				}
				if i < len(m.Weights)-1 {
					z = max(z, 0)
				} else {
					z = float32(1 / (1 + math.Exp(-float64(z))))
				}
				next[r*outW+o] = z
			}
		}
		cur, width = next, outW
	}
	return cur
}

// WriteModel marshals m to dir/name and returns the file's path.
func WriteModel(dir, name string, m *onnxpb.ModelProto) (string, error) {
	data, err := proto.Marshal(m)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	return path, os.WriteFile(path, data, 0o644)
}

// FeatureNames are the frame columns a model of width features reads:
// "f00", "f01", ...
func FeatureNames(features int) []string {
	names := make([]string, features)
	for i := range names {
		names[i] = fmt.Sprintf("f%02d", i)
	}
	return names
}

// Inputs is a model's input data in the two layouts the contenders take:
// a row-major float32 matrix (ONNX Runtime, numpy) and a frame of float32
// columns (dfbatch) holding the same values.
type Inputs struct {
	Rows, Features int
	Matrix         []float32
	Frame          *frame.Frame
}

// NewInputs draws rows x features values uniform in [-1, 1) from a
// generator seeded with seed.
func NewInputs(seed uint64, rows, features int) *Inputs {
	rng := rand.New(rand.NewPCG(seed, 0x696e70))
	x := make([]float32, rows*features)
	for i := range x {
		x[i] = float32(rng.Float64()*2 - 1)
	}
	return inputsOf(x, rows, features)
}

// inputsOf is the rows x features matrix x, row-major, and its frame of
// float32 columns named by FeatureNames.
func inputsOf(x []float32, rows, features int) *Inputs {
	cols := make([]frame.Column, features)
	for c, name := range FeatureNames(features) {
		v := make([]float32, rows)
		for r := range v {
			v[r] = x[r*features+c]
		}
		cols[c] = frame.Float32s(name, v)
	}
	f, err := frame.New(cols...)
	if err != nil {
		panic(err) // distinct names, equal lengths: cannot happen
	}
	return &Inputs{Rows: rows, Features: features, Matrix: x, Frame: f}
}

// LayerFile is one layer of an MLP as the Python peers read it: its
// weight and bias files and its widths.
type LayerFile struct {
	Weight string `json:"weight"`
	Bias   string `json:"bias"`
	In     int    `json:"in"`
	Out    int    `json:"out"`
}

// WriteLayers writes each layer's weights ([out, in] row-major, PyTorch's
// Linear.weight) and biases into dir as raw float32 files.
func (m *MLP) WriteLayers(dir string) ([]LayerFile, error) {
	var layers []LayerFile
	for i := range m.Weights {
		l := LayerFile{Weight: fmt.Sprintf("w%d.f32", i), Bias: fmt.Sprintf("b%d.f32", i), In: m.Sizes[i], Out: m.Sizes[i+1]}
		if err := WriteFloat32s(filepath.Join(dir, l.Weight), m.Weights[i]); err != nil {
			return nil, err
		}
		if err := WriteFloat32s(filepath.Join(dir, l.Bias), m.Biases[i]); err != nil {
			return nil, err
		}
		layers = append(layers, l)
	}
	return layers, nil
}

// WriteFloat32s writes v to path as raw little-endian float32s, as
// numpy's fromfile(path, dtype="<f4") reads them.
func WriteFloat32s(path string, v []float32) error {
	buf := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
	}
	return os.WriteFile(path, buf, 0o644)
}

func float32Tensor(name string, v []float32, dims ...int64) *onnxpb.TensorProto {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	return &onnxpb.TensorProto{Name: proto.String(name), Dims: dims, DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), RawData: raw}
}

// matrixInfo is a graph input or output of [batch_size, width] elements.
func matrixInfo(name string, elem onnxpb.TensorProto_DataType, width int64) *onnxpb.ValueInfoProto {
	return tensorInfo(name, elem,
		&onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "batch_size"}},
		&onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: width}})
}

func tensorInfo(name string, elem onnxpb.TensorProto_DataType, dims ...*onnxpb.TensorShapeProto_Dimension) *onnxpb.ValueInfoProto {
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(elem)), Shape: &onnxpb.TensorShapeProto{Dim: dims}},
	}}}
}

func attrFloat(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

func attrInt(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}
