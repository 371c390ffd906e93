package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// header makes a safetensors file of an empty data section from a JSON
// header.
func header(js string) []byte {
	b := make([]byte, 8, 8+len(js))
	binary.LittleEndian.PutUint64(b, uint64(len(js)))
	return append(b, js...)
}

func TestParseRefusesTooManyAndRepeatedTensors(t *testing.T) {
	var many strings.Builder
	many.WriteString("{")
	for i := range MaxTensors + 1 {
		fmt.Fprintf(&many, `"t%d":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},`, i)
	}
	many.WriteString(`"__metadata__":{}}`)
	for _, tc := range []struct{ name, js, want string }{
		{"too many", many.String(), "more than 65536 tensors (the limit, safetensors.MaxTensors)"},
		{"repeated tensor", `{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}`, `tensor "a": named twice`},
		{"repeated metadata", `{"__metadata__":{"x":"1"},"__metadata__":{"x":"2"}}`, `"__metadata__": named twice`},
	} {
		_, err := Parse(header(tc.js))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	ok := strings.Replace(many.String(), fmt.Sprintf(`"t%d":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},`, MaxTensors), "", 1)
	if f, err := Parse(header(ok)); err != nil || len(f.Tensors) != MaxTensors {
		t.Errorf("exactly MaxTensors tensors: %v", err)
	}
}

// FuzzMembers checks the header scanner against encoding/json: on any
// valid JSON object it finds the same members, with the same values.
func FuzzMembers(f *testing.F) {
	for _, s := range []string{`{}`, ` { "a" : 1 , "b\"c" : [1, {"d": "}"}], "e": "\\" } `, `{"__metadata__":{"x":"y"},"t":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, `{"a":true,"b":null,"c":-1.5e3}`, `{"s":"\u00e9\n\t\"\\\/\ud83d\ude00\ud800x\udc00\u00E9"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		b = bytes.TrimLeft(b, " \t\r\n")
		if len(b) == 0 || b[0] != '{' || !json.Valid(b) {
			return
		}
		var want []string
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.Token() // {
		for dec.More() {
			k, _ := dec.Token()
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			want = append(want, fmt.Sprintf("%q=%s", k, compact(v)))
		}
		var got []string
		_ = members(b, func(key, value []byte) error {
			var k string
			if err := json.Unmarshal(key, &k); err != nil {
				t.Fatalf("key %q: %v", key, err)
			}
			got = append(got, fmt.Sprintf("%q=%s", k, compact(value)))
			if value[0] == '"' {
				var want string
				if err := json.Unmarshal(value, &want); err != nil {
					t.Fatal(err)
				}
				if u := unquote(value); u != want {
					t.Fatalf("unquote(%s) = %q, encoding/json %q", value, u, want)
				}
			}
			return nil
		})
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("members: %q, encoding/json: %q", got, want)
		}
	})
}

func compact(b []byte) string {
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return "invalid: " + string(b)
	}
	return out.String()
}
