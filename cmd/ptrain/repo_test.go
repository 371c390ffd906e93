package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// The README and go.mod agree on the Go version, no build output is
// committed, and the README's OpenBLAS and MPI notes say what is true.
func TestRepositoryHousekeeping(t *testing.T) {
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	gomod := regexp.MustCompile(`(?m)^go (\d+\.\d+)(\.(\d+))?$`).FindSubmatch(mod)
	says := regexp.MustCompile(`With Go (\d+\.\d+) or later`).FindSubmatch(readme)
	if gomod == nil || says == nil {
		t.Fatalf("no go line in go.mod or no \"With Go X.Y or later\" in the README")
	}
	if string(gomod[1]) != string(says[1]) || (len(gomod[3]) > 0 && string(gomod[3]) != "0") {
		t.Errorf("go.mod says go %s%s, the README \"Go %s or later\"", gomod[1], gomod[2], says[1])
	}
	if strings.Contains(string(readme), "CGO_LDFLAGS=-lopenblas go") {
		t.Error("the README asks for CGO_LDFLAGS=-lopenblas, which the #cgo line in model/num/backend_openblas.go already gives")
	}
	if !strings.Contains(string(readme), "--allow-run-as-root") {
		t.Error("the README's MPI section does not say that root needs --allow-run-as-root")
	}
	out, err := exec.Command("git", "-C", "../..", "ls-files").Output()
	if err != nil {
		t.Skipf("git ls-files: %v", err)
	}
	for _, f := range strings.Fields(string(out)) {
		if strings.HasSuffix(f, ".test") || f == "ptrain" || f == "ptrain.safetensors" {
			t.Errorf("%s is a build output and is committed", f)
		}
	}
}
