#!/usr/bin/env bash
# Regenerates onnx-ml.pb.go from onnx-ml.proto. Run from anywhere, or with
# `go generate ./internal/onnxpb/`.
#
# onnx-ml.proto is onnx/onnx-ml.proto of the ONNX repository at tag v1.22.0
# (commit 2bb50465112feca9003e1ed654d77f01ff1415ca), unchanged: the ONNX-ML
# flavour of onnx.proto (proto2, package onnx), which is onnx.proto plus
# TypeProto.Opaque. Its license is in ONNX_LICENSE.
#
# Tools, as used for the committed onnx-ml.pb.go:
#   protoc        libprotoc 3.21.12 (Debian 12 package protobuf-compiler)
#   protoc-gen-go v1.36.12, built from the google.golang.org/protobuf version
#                 that go.mod requires, so generated code and runtime match.
#
# The proto package is renamed from "onnx" to "dfbatch.onnx" on the way to
# protoc (the wire format does not depend on it). github.com/owulveryck/onnx-go
# registers its own copy of the ONNX messages as onnx.ModelProto etc. in the
# global protobuf registry, and a second registration of those names panics at
# program start ("proto: message onnx.AttributeProto is already registered").
# The file is also registered under its Go import path, which no other
# package uses.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

want_protoc="libprotoc 3.21.12"
have_protoc=$(protoc --version)
if [[ "$have_protoc" != "$want_protoc" ]]; then
	echo "generate.sh: warning: $have_protoc, the committed code was made with $want_protoc" >&2
fi

pkg=github.com/dfbatch/dfbatch/internal/onnxpb
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# protoc-gen-go at the runtime's version, from the module cache / proxy.
go build -o "$tmp/bin/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
echo "generate.sh: $have_protoc, $("$tmp/bin/protoc-gen-go" --version)" >&2

mkdir -p "$tmp/src/$pkg" "$tmp/out"
sed 's/^package onnx;$/package dfbatch.onnx;/' onnx-ml.proto >"$tmp/src/$pkg/onnx-ml.proto"
if [[ $(grep -c '^package dfbatch\.onnx;$' "$tmp/src/$pkg/onnx-ml.proto") != 1 ]]; then
	echo "generate.sh: onnx-ml.proto has no 'package onnx;' line to rename" >&2
	exit 1
fi

protoc \
	--plugin=protoc-gen-go="$tmp/bin/protoc-gen-go" \
	--proto_path="$tmp/src" \
	--go_out="$tmp/out" \
	--go_opt=paths=source_relative \
	--go_opt="M$pkg/onnx-ml.proto=$pkg;onnxpb" \
	"$pkg/onnx-ml.proto"

cp "$tmp/out/$pkg/onnx-ml.pb.go" onnx-ml.pb.go
gofmt -l onnx-ml.pb.go | (! grep .) || { echo "generate.sh: onnx-ml.pb.go is not gofmt-clean" >&2; exit 1; }
