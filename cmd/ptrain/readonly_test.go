package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// readOnlyCopy bind-mounts dir read-only at a new directory and returns
// it; the test is skipped where that is not possible (not root, no mount,
// a container that forbids it). chmod would not do: root ignores it.
func readOnlyCopy(t *testing.T, dir string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a read-only bind mount needs root")
	}
	ro := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(ro, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--bind", dir, ro}, {"-o", "remount,bind,ro", ro}} {
		if out, err := exec.Command("mount", args...).CombinedOutput(); err != nil {
			exec.Command("umount", ro).Run()
			t.Skipf("mount %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	t.Cleanup(func() { exec.Command("umount", ro).Run() })
	if err := os.WriteFile(filepath.Join(ro, "probe"), nil, 0o644); err == nil {
		t.Skip("the read-only mount accepts writes")
	}
	return ro
}

// On a read-only file system every output is refused before any work,
// with a usage error naming the flag and the file, and every input reads
// as on any other: a checkpoint there can be evaluated, predicted with
// and resumed into a writable -out.
func TestReadOnlyMount(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "train", "-epochs", "1", "-quiet", "-out", "m.safetensors")
	if err := os.WriteFile(filepath.Join(dir, "rows.csv"), []byte(strings.Repeat("1,", 63)+"1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ro := readOnlyCopy(t, dir)
	m := filepath.Join(ro, "m.safetensors")
	out := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string // "" for success
	}{
		{[]string{"train", "-epochs", "1", "-quiet", "-out", filepath.Join(ro, "new.safetensors")}, "-out " + filepath.Join(ro, "new.safetensors") + ": cannot create files in " + ro + ": read-only file system"},
		{[]string{"train", "-epochs", "2", "-quiet", "-resume", m, "-out", m}, "-out " + m + ": cannot create files in " + ro},
		{[]string{"train", "-epochs", "1", "-quiet", "-out", filepath.Join(out, "a.safetensors"), "-metrics", filepath.Join(ro, "m.csv")}, "-metrics " + filepath.Join(ro, "m.csv") + ": cannot create files"},
		{[]string{"train", "-epochs", "1", "-quiet", "-out", filepath.Join(out, "a.safetensors"), "-plot", filepath.Join(ro, "p.svg")}, "-plot " + filepath.Join(ro, "p.svg") + ": cannot create files"},
		{[]string{"predict", "-model", m, "-input", filepath.Join(ro, "rows.csv"), "-csv-header=false", "-output", filepath.Join(ro, "p.csv")}, "-output " + filepath.Join(ro, "p.csv") + ": cannot create files"},
		{[]string{"predict", "-model", m, "-input", filepath.Join(ro, "rows.csv"), "-csv-header=false", "-output", filepath.Join(out, "p.csv")}, ""},
		{[]string{"eval", "-model", m, "-json"}, ""},
		{[]string{"info", m}, ""},
		{[]string{"train", "-epochs", "2", "-quiet", "-resume", m, "-out", filepath.Join(out, "r.safetensors")}, ""},
	} {
		var stderr bytes.Buffer
		code := run(tc.args, nil, io.Discard, &stderr)
		switch {
		case tc.want == "" && code != 0:
			t.Errorf("ptrain %s: exit %d: %s", strings.Join(tc.args, " "), code, stderr.String())
		case tc.want != "" && (code != 2 || !strings.Contains(stderr.String(), tc.want)):
			t.Errorf("ptrain %s: exit %d, %q; want exit 2 and %q", strings.Join(tc.args, " "), code, stderr.String(), tc.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("the read-only directory changed: %d entries", len(entries))
	}
}
