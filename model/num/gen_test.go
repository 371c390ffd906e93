package num

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
)

// TestGeneratedKernelsAreUpToDate regenerates gemm_amd64.s with
// gen_kernels.py and wants the committed file: an edit to either alone
// fails here. It needs python3 and skips without it.
func TestGeneratedKernelsAreUpToDate(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found: gemm_amd64.s not checked against gen_kernels.py")
	}
	want, err := exec.Command(py, "gen_kernels.py").Output()
	if err != nil {
		t.Fatalf("gen_kernels.py: %v", err)
	}
	got, err := os.ReadFile("gemm_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("gemm_amd64.s differs from gen_kernels.py's output: run python3 gen_kernels.py > gemm_amd64.s")
	}
}
