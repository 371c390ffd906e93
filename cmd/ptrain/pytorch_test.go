package main

import (
	"os"
	"os/exec"
	"sync"
	"testing"
)

// torchEnv set to anything, or CI set (as CI services do, and .ci/run
// sets torchEnv), runs the tests that hold ptrain to PyTorch through
// examples/torch_twin.py and examples/onnxruntime/torch_export.py. They
// are off in a plain go test: every Python process that imports torch
// costs seconds of CPU, more than the rest of this package's tests.
const torchEnv = "PTRAIN_TORCH"

// torchImport is the error of importing torch in /usr/bin/python3, tried
// once per test binary.
var torchImport = sync.OnceValue(func() error {
	return exec.Command("/usr/bin/python3", "-c", "import torch").Run()
})

// needTorch skips t unless the PyTorch tests were asked for and
// /usr/bin/python3 can import torch.
func needTorch(t *testing.T) {
	t.Helper()
	if os.Getenv(torchEnv) == "" && os.Getenv("CI") == "" {
		t.Skipf("checked against PyTorch only with %s=1 or CI set (.ci/run sets it)", torchEnv)
	}
	if err := torchImport(); err != nil {
		t.Skipf("no PyTorch here (apt-get install python3-torch): %v", err)
	}
}
