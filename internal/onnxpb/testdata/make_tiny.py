#!/usr/bin/python3
"""Writes tiny.onnx, the fixture of onnxpb's tests: a real ONNX file, made by
the onnx Python package, that uses what onnxpb reads.

Run with Debian's python3-onnx (apt-get install python3-onnx), from this
folder: /usr/bin/python3 make_tiny.py. Made with python3-onnx 1.12.0.

The model: X float[N,3] -> Mul by the initializer "scale" (raw_data) ->
ai.onnx.ml TreeEnsembleClassifier (one tree, one split) -> label int64[N] and
probabilities, which ZipMap turns into seq(map(int64,tensor(float))). Other
initializers hold typed (non-raw) data of several types, and a Constant node
has a TENSOR attribute.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

scale = numpy_helper.from_array(np.array([1.5, -2.0, 0.25], dtype=np.float32), "scale")
assert scale.HasField("raw_data")
inits = [
    scale,
    helper.make_tensor("typed_double", TensorProto.DOUBLE, [2, 2], [0.5, 1.5, -2.5, 3.0]),
    helper.make_tensor("typed_int64", TensorProto.INT64, [3], [7, -8, 9]),
    helper.make_tensor("raw_int64", TensorProto.INT64, [2], np.array([-1, 2**40], dtype="<i8").tobytes(), raw=True),
    helper.make_tensor("typed_int32", TensorProto.INT32, [2], [-3, 4]),
    helper.make_tensor("typed_bool", TensorProto.BOOL, [3], [True, False, True]),
    helper.make_tensor("names", TensorProto.STRING, [2], [b"yes", b"no"]),
    helper.make_tensor("typed_float_scalar", TensorProto.FLOAT, [], [0.125]),
]

nodes = [
    helper.make_node("Mul", ["X", "scale"], ["Xs"], name="mul"),
    helper.make_node(
        "TreeEnsembleClassifier", ["Xs"], ["label", "probs"], name="trees", domain="ai.onnx.ml",
        classlabels_int64s=[0, 1],
        class_ids=[0, 1, 0, 1], class_nodeids=[1, 1, 2, 2], class_treeids=[0, 0, 0, 0],
        class_weights=[0.8, 0.2, 0.3, 0.7],
        nodes_falsenodeids=[2, 0, 0], nodes_truenodeids=[1, 0, 0],
        nodes_featureids=[0, 0, 0], nodes_missing_value_tracks_true=[0, 0, 0],
        nodes_modes=["BRANCH_LEQ", "LEAF", "LEAF"], nodes_nodeids=[0, 1, 2],
        nodes_treeids=[0, 0, 0], nodes_values=[0.5, 0.0, 0.0], nodes_hitrates=[1.0, 1.0, 1.0],
        post_transform="NONE",
    ),
    helper.make_node("ZipMap", ["probs"], ["probabilities"], name="zipmap", domain="ai.onnx.ml",
                     classlabels_int64s=[0, 1]),
    helper.make_node("Constant", [], ["unused_const"], name="const",
                     value=helper.make_tensor("const_value", TensorProto.FLOAT, [2], [1.0, 2.0])),
]

# seq(map(int64,tensor(float))); onnx 1.12's helper has no make_map_type_proto.
zipmap_type = onnx.TypeProto()
zipmap_type.map_type.key_type = TensorProto.INT64
zipmap_type.map_type.value_type.CopyFrom(helper.make_tensor_type_proto(TensorProto.FLOAT, []))

graph = helper.make_graph(
    nodes, "tiny",
    [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 3])],
    [
        helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
        helper.make_value_info("probabilities", helper.make_sequence_type_proto(zipmap_type)),
    ],
    initializer=inits,
)
model = helper.make_model(graph, producer_name="onnxpb-testdata",
                          opset_imports=[helper.make_opsetid("", 15), helper.make_opsetid("ai.onnx.ml", 3)])
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, "tiny.onnx")
