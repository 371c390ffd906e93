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

// With PTRAIN_DATA set but lacking fashion-mnist/, -data fashion-mnist
// reads Debian's package's directory, as the README's table says; a
// PTRAIN_DATA that holds the files wins.
func TestFashionMNISTFallsBackToDebiansUnderPTRAINDATA(t *testing.T) {
	root, debian := t.TempDir(), t.TempDir()
	for _, f := range sources["fashion-mnist"].Files {
		if err := os.WriteFile(filepath.Join(debian, f.Name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	saved := debianFashionDir
	debianFashionDir = debian
	defer func() { debianFashionDir = saved }()
	t.Setenv(dataEnv, root)
	if dir, err := imageDir("fashion-mnist", ""); err != nil || dir != debian {
		t.Errorf("PTRAIN_DATA without fashion-mnist/: %q, %v; want Debian's %q", dir, err, debian)
	}
	if dir, _ := imageDir("mnist", ""); dir != filepath.Join(root, "mnist") {
		t.Errorf("mnist: %q, want PTRAIN_DATA's", dir)
	}
	own := filepath.Join(root, "fashion-mnist")
	if err := os.Mkdir(own, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range sources["fashion-mnist"].Files {
		if err := os.WriteFile(filepath.Join(own, f.Name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if dir, _ := imageDir("fashion-mnist", ""); dir != own {
		t.Errorf("PTRAIN_DATA with fashion-mnist/: %q, want %q", dir, own)
	}
}
