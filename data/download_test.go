package data

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// mirror serves files from memory as a dataset mirror does (with Range
// support unless ignoreRange) and records the requests.
type mirror struct {
	files       map[string][]byte
	ignoreRange bool
	mu          sync.Mutex
	requests    []string // "NAME RANGE"
}

func (m *mirror) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/")
	m.mu.Lock()
	m.requests = append(m.requests, name+" "+r.Header.Get("Range"))
	m.mu.Unlock()
	b, ok := m.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if m.ignoreRange {
		r.Header.Del("Range")
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// fixtureSource is a two-file dataset served by a new mirror.
func fixtureSource(t *testing.T) (Source, *mirror) {
	t.Helper()
	files := map[string][]byte{"a.gz": bytes.Repeat([]byte("0123456789"), 5000), "b.gz": []byte("labels")}
	m := &mirror{files: files}
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	return Source{Name: "fixture", URL: srv.URL + "/", Files: []RemoteFile{{"a.gz", sum(files["a.gz"])}, {"b.gz", sum(files["b.gz"])}}}, m
}

func TestDownloadFetchesVerifiesAndSkipsWhatIsThere(t *testing.T) {
	src, m := fixtureSource(t)
	dir := filepath.Join(t.TempDir(), "new", "fixture")
	var started []string
	if err := Download(context.Background(), nil, src, dir, func(url string, off int64) { started = append(started, url) }); err != nil {
		t.Fatal(err)
	}
	for name, want := range m.files {
		if got, err := os.ReadFile(filepath.Join(dir, name)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes, %v; want the mirror's %d", name, len(got), err, len(want))
		}
	}
	if parts, _ := filepath.Glob(filepath.Join(dir, "*"+PartSuffix)); len(parts) > 0 || len(started) != 2 || len(src.Missing(dir)) != 0 {
		t.Errorf("left %v, reported %v, missing %v", parts, started, src.Missing(dir))
	}
	n := len(m.requests)
	if err := Download(context.Background(), nil, src, dir, nil); err != nil || len(m.requests) != n {
		t.Errorf("a second Download: %v, %d requests; want none", err, len(m.requests)-n)
	}
}

// An interrupted download's part is continued from where it stopped (a
// Range request), or replaced when the server ignores ranges.
func TestDownloadResumesThePart(t *testing.T) {
	for _, ignore := range []bool{false, true} {
		src, m := fixtureSource(t)
		m.ignoreRange = ignore
		dir := t.TempDir()
		a := m.files["a.gz"]
		if err := os.WriteFile(filepath.Join(dir, "a.gz"+PartSuffix), a[:12345], 0o644); err != nil {
			t.Fatal(err)
		}
		var offsets []int64
		if err := Download(context.Background(), nil, src, dir, func(_ string, off int64) { offsets = append(offsets, off) }); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(filepath.Join(dir, "a.gz")); !bytes.Equal(got, a) {
			t.Errorf("ignore ranges %v: a.gz differs from the mirror's after resuming", ignore)
		}
		if m.requests[0] != "a.gz bytes=12345-" || offsets[0] != 12345 {
			t.Errorf("ignore ranges %v: requests %q, offsets %v; want a.gz from byte 12345", ignore, m.requests, offsets)
		}
	}
}

// A file whose checksum differs is never put in place, and the error says
// which file and both checksums; a missing file names its URL and status.
func TestDownloadRefusesAWrongChecksum(t *testing.T) {
	src, m := fixtureSource(t)
	m.files["b.gz"] = []byte("tampered")
	dir := t.TempDir()
	err := Download(context.Background(), nil, src, dir, nil)
	if err == nil || !strings.Contains(err.Error(), "b.gz: SHA-256 "+sum([]byte("tampered"))+", want "+src.Files[1].SHA256) {
		t.Fatalf("Download of a tampered file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "b.gz")); err == nil {
		t.Error("the tampered file was put in place")
	}
	if _, err := os.Stat(filepath.Join(dir, "b.gz"+PartSuffix)); err == nil {
		t.Error("the tampered part was kept")
	}
	delete(m.files, "b.gz")
	if err := Download(context.Background(), nil, src, dir, nil); err == nil || !strings.Contains(err.Error(), "/b.gz: 404") {
		t.Errorf("Download of a missing file: %v, want its URL and 404", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "b.gz"+PartSuffix)); err == nil {
		t.Error("the failed download left an empty part")
	}
}

// A download that fails before any byte arrives (no network: the server
// is gone) leaves no empty part behind, and its error does not claim to
// keep one.
func TestDownloadWithoutNetworkLeavesNoPart(t *testing.T) {
	src, _ := fixtureSource(t)
	srv := httptest.NewServer(http.NotFoundHandler())
	src.URL = srv.URL + "/"
	srv.Close() // connection refused, as with no network
	dir := t.TempDir()
	err := Download(context.Background(), nil, src, dir, nil)
	if err == nil || strings.Contains(err.Error(), "kept in") {
		t.Fatalf("Download from a closed server: %v", err)
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 0 {
		t.Errorf("the failed download left %v", left)
	}
}

// Cancelling stops a download and keeps what arrived for the next try.
func TestDownloadCancelled(t *testing.T) {
	src, _ := fixtureSource(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	if err := Download(ctx, nil, src, dir, nil); err == nil || len(src.Missing(dir)) != 2 {
		t.Errorf("cancelled Download: %v, missing %v", err, src.Missing(dir))
	}
}

// The published checksums are well-formed: 64 lower-case hex digits each.
func TestSourcesChecksumsAreSHA256(t *testing.T) {
	for _, src := range []Source{MNISTSource, FashionMNISTSource} {
		for _, f := range src.Files {
			if b, err := hex.DecodeString(f.SHA256); err != nil || len(b) != 32 || strings.ToLower(f.SHA256) != f.SHA256 {
				t.Errorf("%s %s: checksum %q", src.Name, f.Name, f.SHA256)
			}
		}
	}
}
