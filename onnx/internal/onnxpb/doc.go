// Package onnxpb is the ONNX protocol buffer schema as Go types, generated
// from onnx.proto as Debian's python3-onnx 1.12 ships it
// (/usr/lib/python3/dist-packages/onnx/onnx.proto, IR version 8), with
// protoc 3.21 (Debian's protobuf-compiler) and protoc-gen-go v1.36.12:
//
//	go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
//	go generate ./onnx/internal/onnxpb
//
// Package onnx builds and reads models with it; nothing else should.
package onnxpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go_opt=Monnx.proto=github.com/ptrain/ptrain/onnx/internal/onnxpb onnx.proto
