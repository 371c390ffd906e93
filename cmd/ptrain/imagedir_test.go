package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// -data mnist:DIR for a DIR that does not exist says so, rather than
// listing the four files the directory lacks; an existing empty DIR lists
// them (in process: provideImages is what train and eval call).
func TestMissingImageDirSaysItDoesNotExist(t *testing.T) {
	root := t.TempDir()
	absent := filepath.Join(root, "nope")
	err := provideImages("mnist", absent, false)
	if err == nil || !strings.Contains(err.Error(), "the directory "+absent+" does not exist") || !strings.Contains(err.Error(), "-download") {
		t.Errorf("absent directory: %v", err)
	}
	empty := filepath.Join(root, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	err = provideImages("mnist", empty, false)
	if err == nil || !strings.Contains(err.Error(), empty+" has no train-images-idx3-ubyte.gz") || strings.Contains(err.Error(), "does not exist") {
		t.Errorf("empty directory: %v", err)
	}
}

// A -download that cannot reach the mirror (no network) says how to do
// without it: -data KIND:DIR or PTRAIN_DATA, as the no-download error does.
func TestFailedDownloadNamesTheOfflineWays(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // connection refused, as with no network
	saved := sources["mnist"]
	defer func() { sources["mnist"] = saved }()
	src := saved
	src.URL = srv.URL + "/"
	sources["mnist"] = src
	err := provideImages("mnist", filepath.Join(t.TempDir(), "mnist"), true)
	if err == nil || !strings.Contains(err.Error(), "-data mnist:DIR") || !strings.Contains(err.Error(), dataEnv) {
		t.Errorf("failed -download: %v, want -data mnist:DIR and %s", err, dataEnv)
	}
}
