// Package onnxpb reads ONNX model files: the ONNX protobuf messages
// (ModelProto, GraphProto, NodeProto, TensorProto, ...) generated from the
// official onnx-ml.proto (ONNX v1.22.0), and a few helpers on top of them to
// load a model, read tensor data, node attributes, opset imports and
// input/output shapes.
//
// github.com/owulveryck/onnx-go keeps its protobuf types in an internal
// package; this package is for what needs the model itself: inspecting it,
// binding inputs, and running the ai.onnx.ml operators.
//
// The messages are registered with the protobuf runtime under the proto
// package "dfbatch.onnx" (dfbatch.onnx.ModelProto, ...) rather than "onnx",
// because onnx-go registers "onnx.ModelProto" and friends itself and a second
// registration of a name panics at start. Only the names differ: the encoding
// is ONNX's, and proto.Marshal / proto.Unmarshal read and write .onnx files.
package onnxpb

//go:generate bash generate.sh
