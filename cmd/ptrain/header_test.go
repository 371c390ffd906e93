package main

import (
	"bytes"
	le "encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ckpt "github.com/ptrain/ptrain/checkpoint"
	"github.com/ptrain/ptrain/model/safetensors"
)

// goodCheckpoint trains the digits for one epoch and returns the
// checkpoint's bytes.
func goodCheckpoint(t *testing.T, dir string, args ...string) []byte {
	t.Helper()
	mustRun(t, dir, append([]string{"train", "-arch", "64-16:relu-10:softmax", "-normalize", "zscore", "-epochs", "1", "-quiet", "-out", "good.safetensors"}, args...)...)
	b, err := os.ReadFile(filepath.Join(dir, "good.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rewrite is b with f's tensors and metadata after edit.
func rewrite(t *testing.T, b []byte, edit func(f *safetensors.File)) []byte {
	t.Helper()
	f := mustParse(bytes.Clone(b))
	edit(f)
	var out bytes.Buffer
	if err := safetensors.Write(&out, f.Tensors, f.Metadata); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// withMembers is the safetensors file b with extra JSON members at the
// start of its header.
func withMembers(b []byte, extra string) []byte {
	n := le.LittleEndian.Uint64(b)
	hdr := append([]byte("{"+extra+","), b[9:8+n]...)
	out := make([]byte, 8, 8+len(hdr)+len(b))
	le.LittleEndian.PutUint64(out, uint64(len(hdr)))
	return append(append(out, hdr...), b[8+n:]...)
}

// withMetaString is the safetensors file b with the first occurrence of
// old in its header replaced by new, the header padded with spaces to a
// multiple of 8 bytes again, as safetensors.Write pads it.
func withMetaString(b []byte, old, new string) []byte {
	n := le.LittleEndian.Uint64(b)
	hdr := bytes.Replace(bytes.TrimRight(b[8:8+n], " "), []byte(old), []byte(new), 1)
	hdr = append(hdr, bytes.Repeat([]byte{' '}, (8-len(hdr)%8)%8)...)
	out := make([]byte, 8, 8+len(hdr)+len(b))
	le.LittleEndian.PutUint64(out, uint64(len(hdr)))
	return append(append(out, hdr...), b[8+n:]...)
}

// emptyTensors is n header members of empty tensors.
func emptyTensors(n int) string {
	var s strings.Builder
	for i := range n {
		if i > 0 {
			s.WriteByte(',')
		}
		fmt.Fprintf(&s, `"x%d":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`, i)
	}
	return s.String()
}

// historyRows is a ptrain.history of n rows for epochs 1 to n.
func historyRows(n int) string {
	var s strings.Builder
	s.WriteByte('[')
	for i := 1; i <= n; i++ {
		if i > 1 {
			s.WriteByte(',')
		}
		fmt.Fprintf(&s, `{"epoch":%d}`, i)
	}
	s.WriteByte(']')
	return s.String()
}

// The header-size cases of the corrupted-checkpoint table, run in process
// through the decoder every load path uses (readCheckpoint): each is
// refused with an error that names the file and the cap, in one line
// that quotes at most about 100 bytes of a bad value.
func TestOversizedHeadersAreRefusedNamingTheCap(t *testing.T) {
	dir := t.TempDir()
	good := goodCheckpoint(t, dir)
	meta := func(k, v string) func(f *safetensors.File) {
		return func(f *safetensors.File) { f.Metadata[k] = v }
	}
	big := strings.Repeat("x", ckpt.MaxMeta+1) // one byte past the cap
	for _, tc := range []struct {
		name, want string
		b          []byte
	}{
		{"too-many-tensors", "more than 65536 tensors (the limit, safetensors.MaxTensors)", withMembers(good, emptyTensors(safetensors.MaxTensors+1))},
		{"long-tensor-name", "a tensor name of 5000 bytes, more than the limit of 1024", withMembers(good, `"`+strings.Repeat("n", 5000)+`":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`)},
		{"repeated-tensor", `"dense.0.bias": named twice`, withMembers(good, `"dense.0.bias":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`)},
		{"1MB+1-task", `"ptrain.task" is 1048577 bytes, more than the limit of 1048576 (checkpoint.MaxMeta)`, rewrite(t, good, meta(metaTask, big))},
		{"1MB+1-config", `"ptrain.config" is 1048577 bytes, more than the limit of 1048576 (checkpoint.MaxMeta)`, rewrite(t, good, meta(metaConfig, big))},
		{"1MB+1-arch", `"ptrain.arch" is 1048577 bytes, more than the limit`, rewrite(t, good, meta("ptrain.arch", big))},
		{"1MB+1-split", `"ptrain.split" is 1048577 bytes, more than the limit of 1048576 (checkpoint.MaxMeta)`, rewrite(t, good, meta(ckpt.MetaSplit, big))},
		{"1MB+1-target-names", `"ptrain.target_names" is 1048577 bytes, more than the limit of 1048576 (checkpoint.MaxMeta)`, rewrite(t, good, meta(metaTargetNames, big))},
		{"1MB+1-classes", `"ptrain.classes" is 1048577 bytes, more than the limit`, rewrite(t, good, meta(metaClasses, big))},
		{"long-bad-task", `"ptrain.task" is "xxxxxxxxxx`, rewrite(t, good, meta(metaTask, big[:1<<20]))},
		{"long-bad-class", `class name "xxxxxxxxxx`, rewrite(t, good, meta(metaClasses, `["0","1","2","3","4","5","6","7","`+big[:1<<18]+`","`+big[:1<<18]+`"]`))},
		{"history-rows", `"ptrain.history": row 2 is for epoch 2: want increasing epochs from 1 to 1`, rewrite(t, good, meta(metaHistory, historyRows(200_000)))},
		{"history-after-array", `"ptrain.history": data after the array`, rewrite(t, good, meta(metaHistory, `[{"epoch":1}] [`))},
		{"progress-beyond-epochs", `"ptrain.progress": epoch 5, beyond the run's -epochs 1`, rewrite(t, good, meta(metaProgress, `{"epoch":5}`))},
		{"progress-beyond-limit", `"ptrain.progress": epoch 1000000, beyond the limit of 100000 epochs`, rewrite(t, good, func(f *safetensors.File) {
			f.Metadata[metaProgress] = `{"epoch":1000000}`
			delete(f.Metadata, metaConfig)
		})},
		{"config-long-schedule", "-schedule is 1000000 bytes, more than the limit of 4096", rewrite(t, good, func(f *safetensors.File) { setConfig(f, "schedule", big[:1e6]) })},
		{"config-epochs", "-epochs 1000000000: must be in [0, 100000]", rewrite(t, good, func(f *safetensors.File) { setConfig(f, "epochs", 1e9) })},
	} {
		p := filepath.Join(dir, tc.name+".safetensors")
		if err := os.WriteFile(p, tc.b, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := readCheckpoint(p)
		switch {
		case err == nil:
			t.Errorf("%s: accepted", tc.name)
		case !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), tc.want):
			t.Errorf("%s: %.300s, want the file name and %q", tc.name, err, tc.want)
		case len(err.Error()) > 400 || strings.Contains(err.Error(), "\n"):
			t.Errorf("%s: a %d-byte error: %.300s", tc.name, len(err.Error()), err)
		}
		os.Remove(p)
	}
	if _, err := readCheckpoint(writeTemp(t, dir, rewrite(t, good, meta(metaHistory, historyRows(1))))); err != nil {
		t.Errorf("a history of one row for one epoch: %v", err)
	}
	_ = ckpt.MaxMeta
}

func writeTemp(t *testing.T, dir string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, "tmp.safetensors")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A checkpoint's header costs at most about twice the file's size: a
// 40 MB history of a million rows and a 40 MB header of 600,000 empty
// tensors are refused by info with a peak RSS within 2× the file plus
// the process's base (limits generous for CI).
func TestHugeHeadersCostAtMostTwiceTheFile(t *testing.T) {
	dir := t.TempDir()
	good := goodCheckpoint(t, dir)
	// The history's 2 million rows go into the header as the JSON string
	// safetensors.Write would make of them (quotes escaped), spliced in
	// for a placeholder: encoding 40 MB through encoding/json was most of
	// this process's share of the test.
	rows := strings.Repeat(`{\"epoch\":1,\"lr\":0.5},`, 2_000_000)
	files := map[string][]byte{
		"history": withMetaString(rewrite(t, good, func(f *safetensors.File) { f.Metadata[metaHistory] = "@" }), `"@"`, `"[`+rows[:len(rows)-1]+`]"`),
		"tensors": withMembers(good, emptyTensors(600_000)),
	}
	for name, b := range files {
		p := filepath.Join(dir, name+".safetensors")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd, peak := measured(dir, "info", p)
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Run(); err == nil {
			t.Errorf("%s: accepted", name)
		}
		mib := float64(len(b)) / (1 << 20)
		rss := peak(t)
		if limit := 40 + 2.5*mib; rss > limit {
			t.Errorf("%s: peak RSS %.0f MiB for a %.0f MiB file, want at most %.0f; %s", name, rss, mib, limit, errb.String())
		} else {
			t.Logf("%s: peak RSS %.0f MiB for a %.0f MiB file: %s", name, rss, mib, strings.TrimSpace(errb.String()))
		}
	}
}
