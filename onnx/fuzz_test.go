package onnx

import (
	"errors"
	"reflect"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/ptrain/ptrain/checkpoint"
	pb "github.com/ptrain/ptrain/onnx/internal/onnxpb"
)

// FuzzParse: any bytes give a Summary or an error wrapping ErrNotONNX,
// never a panic; a model that parses summarises the same after a round
// trip through the encoder.
func FuzzParse(f *testing.F) {
	for _, arch := range []string{"4-3:softmax", allLayersArch} {
		m := testModel[float32](f, arch, 1)
		b, err := Encode(&checkpoint.Checkpoint[float32]{Model: m, Transform: transformFor(m.Spec.Inputs)}, Options{ProducerVersion: "0"})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte{})
	f.Add([]byte("\x08\x07"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrNotONNX) {
				t.Fatalf("error %v does not wrap ErrNotONNX", err)
			}
			return
		}
		var m pb.ModelProto
		if err := proto.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		again, err := proto.Marshal(&m)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := Parse(again)
		if err != nil {
			t.Fatalf("re-encoded model: %v", err)
		}
		if !reflect.DeepEqual(s, s2) {
			t.Fatalf("summary changed in a round trip:\n%+v\n%+v", s, s2)
		}
	})
}

// TestParseRefusesWhatIsNotAModel: errors say why, wrapping ErrNotONNX.
func TestParseRefusesWhatIsNotAModel(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("{\"a\": 1}"), {0x08, 0x07}, {0xff, 0xff, 0xff}} {
		if _, err := Parse(b); !errors.Is(err, ErrNotONNX) {
			t.Errorf("%q: %v", b, err)
		}
	}
}
