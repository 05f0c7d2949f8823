package bench

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model/onnx/onnxpb"
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

// Trees is a binary tree-ensemble classifier as a gradient-boosting
// exporter writes it (skl2onnx for GradientBoostingClassifier): full trees
// of one depth, BRANCH_LEQ splits, every leaf weight on class 0, LOGISTIC
// post-transform, labels {0, 1}.
type Trees struct {
	NumTrees, Depth, Features int
	// Feature and Threshold are the internal nodes' splits, Leaf the
	// leaves' weights, tree after tree; within a tree, node i's children
	// are 2i+1 (<= threshold) and 2i+2 (>).
	Feature   []int
	Threshold []float32
	Leaf      []float32
}

// NewTrees draws a tree ensemble: split features uniform over the
// features, thresholds uniform in [-0.8, 0.8) (the inputs are uniform in
// [-1, 1)), leaf weights uniform in [-0.1, 0.1).
func NewTrees(seed uint64, trees, depth, features int) *Trees {
	rng := rand.New(rand.NewPCG(seed, 0x7472656573))
	t := &Trees{NumTrees: trees, Depth: depth, Features: features}
	internal, leaves := 1<<depth-1, 1<<depth
	for range trees {
		for range internal {
			t.Feature = append(t.Feature, rng.IntN(features))
			t.Threshold = append(t.Threshold, float32(rng.Float64()*1.6-0.8))
		}
		for range leaves {
			t.Leaf = append(t.Leaf, float32(rng.Float64()*0.2-0.1))
		}
	}
	return t
}

// Name says the ensemble's shape: "300 trees, depth 6, 30 features".
func (t *Trees) Name() string {
	return fmt.Sprintf("%d trees, depth %d, %d features", t.NumTrees, t.Depth, t.Features)
}

// Proto is the ensemble as an ai.onnx.ml opset 3 TreeEnsembleClassifier:
// input "input" float32[N, F], outputs "label" int64[N] and
// "probabilities" float32[N, 2], no ZipMap.
func (t *Trees) Proto() *onnxpb.ModelProto {
	internal, nodes := 1<<t.Depth-1, 1<<(t.Depth+1)-1
	var (
		treeIDs, nodeIDs, featureIDs, trueIDs, falseIDs []int64
		values                                          []float32
		modes                                           [][]byte
		classTree, classNode, classIDs                  []int64
		classWeights                                    []float32
	)
	for tree := range t.NumTrees {
		for n := range nodes {
			treeIDs = append(treeIDs, int64(tree))
			nodeIDs = append(nodeIDs, int64(n))
			if n < internal {
				k := tree*internal + n
				featureIDs = append(featureIDs, int64(t.Feature[k]))
				values = append(values, t.Threshold[k])
				modes = append(modes, []byte("BRANCH_LEQ"))
				trueIDs = append(trueIDs, int64(2*n+1))
				falseIDs = append(falseIDs, int64(2*n+2))
				continue
			}
			featureIDs = append(featureIDs, 0)
			values = append(values, 0)
			modes = append(modes, []byte("LEAF"))
			trueIDs = append(trueIDs, 0)
			falseIDs = append(falseIDs, 0)
			classTree = append(classTree, int64(tree))
			classNode = append(classNode, int64(n))
			classIDs = append(classIDs, 0)
			classWeights = append(classWeights, t.Leaf[tree*(internal+1)+n-internal])
		}
	}
	ml := proto.String(onnxpb.MLDomain)
	node := &onnxpb.NodeProto{
		Name: proto.String("TreeEnsembleClassifier"), OpType: proto.String("TreeEnsembleClassifier"), Domain: ml,
		Input: []string{"input"}, Output: []string{"label", "probabilities"},
		Attribute: []*onnxpb.AttributeProto{
			attrInts("nodes_treeids", treeIDs), attrInts("nodes_nodeids", nodeIDs), attrInts("nodes_featureids", featureIDs),
			attrFloats("nodes_values", values), attrStrings("nodes_modes", modes),
			attrInts("nodes_truenodeids", trueIDs), attrInts("nodes_falsenodeids", falseIDs),
			attrInts("class_treeids", classTree), attrInts("class_nodeids", classNode), attrInts("class_ids", classIDs),
			attrFloats("class_weights", classWeights),
			attrInts("classlabels_int64s", []int64{0, 1}),
			{Name: proto.String("post_transform"), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte("LOGISTIC")},
		},
	}
	return &onnxpb.ModelProto{
		IrVersion:    proto.Int64(8),
		ProducerName: proto.String("skl2onnx"),
		OpsetImport: []*onnxpb.OperatorSetIdProto{
			{Domain: proto.String(""), Version: proto.Int64(17)},
			{Domain: ml, Version: proto.Int64(3)},
		},
		Graph: &onnxpb.GraphProto{
			Name:  proto.String("trees"),
			Node:  []*onnxpb.NodeProto{node},
			Input: []*onnxpb.ValueInfoProto{matrixInfo("input", onnxpb.TensorProto_FLOAT, int64(t.Features))},
			Output: []*onnxpb.ValueInfoProto{
				vectorInfo("label", onnxpb.TensorProto_INT64),
				matrixInfo("probabilities", onnxpb.TensorProto_FLOAT, 2),
			},
		},
	}
}

// Predict is the ensemble's probability of class 1 for each of rows rows
// of x: the sigmoid of the sum of the leaves reached.
func (t *Trees) Predict(x []float32, rows int) []float32 {
	internal := 1<<t.Depth - 1
	p := make([]float32, rows)
	for r := range rows {
		row := x[r*t.Features : (r+1)*t.Features]
		var score float32
		for tree := range t.NumTrees {
			n := 0
			for n < internal {
				k := tree*internal + n
				if row[t.Feature[k]] <= t.Threshold[k] {
					n = 2*n + 1
				} else {
					n = 2*n + 2
				}
			}
			score += t.Leaf[tree*(internal+1)+n-internal]
		}
		p[r] = float32(1 / (1 + math.Exp(-float64(score))))
	}
	return p
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

// vectorInfo is a graph output of [batch_size] elements.
func vectorInfo(name string, elem onnxpb.TensorProto_DataType) *onnxpb.ValueInfoProto {
	return tensorInfo(name, elem,
		&onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "batch_size"}})
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

func attrInts(name string, v []int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}
}

func attrFloats(name string, v []float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOATS.Enum(), Floats: v}
}

func attrStrings(name string, v [][]byte) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRINGS.Enum(), Strings: v}
}
