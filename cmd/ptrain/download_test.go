package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	be "encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model/safetensors"
)

// idxGz is an IDX file, gzipped: magic, dims, payload.
func idxGz(t *testing.T, magic uint32, dims []uint32, payload []byte) []byte {
	t.Helper()
	var raw, out bytes.Buffer
	_ = be.Write(&raw, be.BigEndian, magic)
	for _, d := range dims {
		_ = be.Write(&raw, be.BigEndian, d)
	}
	raw.Write(payload)
	w := gzip.NewWriter(&out)
	_, _ = w.Write(raw.Bytes())
	_ = w.Close()
	return out.Bytes()
}

// tinyMNIST is MNIST's four files (by name) of 60 training and 20 test
// images of 4×4 pixels.
func tinyMNIST(t *testing.T) map[string][]byte {
	images := func(n int) []byte {
		b := make([]byte, n*16)
		for i := range b {
			b[i] = byte(i * 7 % 256)
		}
		return b
	}
	labels := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i % 10)
		}
		return b
	}
	files := map[string][]byte{
		"train-images-idx3-ubyte.gz": idxGz(t, 0x803, []uint32{60, 4, 4}, images(60)),
		"train-labels-idx1-ubyte.gz": idxGz(t, 0x801, []uint32{60}, labels(60)),
		"t10k-images-idx3-ubyte.gz":  idxGz(t, 0x803, []uint32{20, 4, 4}, images(20)),
		"t10k-labels-idx1-ubyte.gz":  idxGz(t, 0x801, []uint32{20}, labels(20)),
	}
	return files
}

// A tiny MNIST (4×4 images) on a local mirror: -download fetches it into
// $PTRAIN_DATA/mnist and trains on it; the next run finds it there without
// a request; without -download, missing files are a usage error that names
// the directory, the mirror and -download. No test touches the network.
func TestDownloadMNISTFromAMirror(t *testing.T) {
	files := tinyMNIST(t)
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		b, ok := files[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	defer srv.Close()
	src := data.Source{Name: "mnist", URL: srv.URL + "/"}
	for _, f := range data.MNISTSource.Files {
		s := sha256.Sum256(files[f.Name])
		src.Files = append(src.Files, data.RemoteFile{Name: f.Name, SHA256: hex.EncodeToString(s[:])})
	}
	saved := sources["mnist"]
	sources["mnist"] = src
	defer func() { sources["mnist"] = saved }()
	root := t.TempDir()
	t.Setenv(dataEnv, root)
	out := filepath.Join(root, "m.safetensors")

	var stderr bytes.Buffer
	if code := run([]string{"train", "-data", "mnist", "-epochs", "1", "-quiet", "-out", out}, nil, io.Discard, &stderr); code != 2 ||
		!strings.Contains(stderr.String(), filepath.Join(root, "mnist")+" does not exist (it would hold train-images-idx3-ubyte.gz") || !strings.Contains(stderr.String(), "-download") || !strings.Contains(stderr.String(), srv.URL) {
		t.Fatalf("without -download: exit %d, stderr %q", code, stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"train", "-data", "mnist", "-download", "-epochs", "1", "-quiet", "-out", out}, nil, io.Discard, &stderr); code != 0 {
		t.Fatalf("-download: exit %d, stderr %q", code, stderr.String())
	}
	for name, want := range files {
		if got, err := os.ReadFile(filepath.Join(root, "mnist", name)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %v, or not the mirror's", name, err)
		}
	}
	n := requests.Load()
	stderr.Reset()
	if code := run([]string{"train", "-data", "mnist", "-download", "-epochs", "1", "-quiet", "-out", out}, nil, io.Discard, &stderr); code != 0 || requests.Load() != n {
		t.Errorf("a second run: exit %d, %d more requests (want none), stderr %q", code, requests.Load()-n, stderr.String())
	}
}

// eval downloads only when it is told to, whatever the training run did:
// a checkpoint whose config says -download does not make eval fetch.
func TestEvalDownloadsOnlyWithItsOwnFlag(t *testing.T) {
	root := t.TempDir()
	t.Setenv(dataEnv, root)
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { requests.Add(1); http.NotFound(w, r) }))
	defer srv.Close()
	saved := sources["mnist"]
	sources["mnist"] = data.Source{Name: "mnist", URL: srv.URL + "/", Files: saved.Files}
	defer func() { sources["mnist"] = saved }()

	path := filepath.Join(root, "m.safetensors")
	var stderr bytes.Buffer
	if code := run([]string{"train", "-epochs", "1", "-quiet", "-out", path}, nil, io.Discard, &stderr); code != 0 {
		t.Fatalf("train: %s", stderr.String())
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(f.Metadata[metaConfig]), &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["data"], cfg["download"] = "mnist", true
	b, _ := json.Marshal(cfg)
	f.Metadata[metaConfig] = string(b)
	var out bytes.Buffer
	if err := safetensors.Write(&out, f.Tensors, f.Metadata); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	if code := run([]string{"eval", "-model", path}, nil, io.Discard, &stderr); code != 2 || !strings.Contains(stderr.String(), "give -download") || requests.Load() != 0 {
		t.Errorf("eval of a -download run's checkpoint: exit %d, %d requests, stderr %q; want exit 2 and no request", code, requests.Load(), stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"eval", "-model", path, "-download"}, nil, io.Discard, &stderr); code == 0 || requests.Load() == 0 {
		t.Errorf("eval -download: exit %d, %d requests; want a request (answered 404)", code, requests.Load())
	}
}
