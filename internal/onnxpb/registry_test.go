package onnxpb_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/dfbatch/dfbatch/internal/onnxpb"
	// onnx-go registers its own copy of the ONNX messages as onnx.ModelProto
	// etc.; linking it in proves that onnxpb's registration does not collide
	// with it (a collision panics before any test runs).
	_ "github.com/owulveryck/onnx-go"
)

func TestRegisteredWithoutConflict(t *testing.T) {
	m := &onnxpb.ModelProto{}
	assert.Equal(t, "dfbatch.onnx.ModelProto", string(m.ProtoReflect().Descriptor().FullName()))

	mt, err := protoregistry.GlobalTypes.FindMessageByName("dfbatch.onnx.ModelProto")
	if assert.NoError(t, err) {
		assert.IsType(t, m, mt.New().Interface())
	}
	// onnx-go's copy is the one under ONNX's own names.
	_, err = protoregistry.GlobalTypes.FindMessageByName("onnx.ModelProto")
	assert.NoError(t, err)
}
