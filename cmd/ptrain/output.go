package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/ptrain/ptrain/model/safetensors"
)

// Every file ptrain writes (checkpoints, metrics, plots, predictions) is
// written whole to a temporary file beside it and renamed over it, so that
// a crash, a full disk or a kill leaves either the old file or the new one.
// The temporary files are named .NAME.tmpDIGITS. This process's are
// removed if it is killed by a second interrupt mid-write (removeTemps);
// a SIGKILL's are found and removed by the next run that writes NAME
// (removeStaleTemps), once it holds NAME's lock.

var temps struct {
	sync.Mutex
	names map[string]bool
}

// forget takes name off the list removeTemps removes.
func forget(name string) {
	temps.Lock()
	delete(temps.names, name)
	temps.Unlock()
}

// remember puts name on the list removeTemps removes; temps must be locked.
func remember(name string) {
	if temps.names == nil {
		temps.names = map[string]bool{}
	}
	temps.names[name] = true
}

// writeFileAtomic is safetensors.WriteFileAtomic with this process's
// temporary files on the list removeTemps removes.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	return safetensors.AtomicWriter{
		CreateTemp: func(dir, pattern string) (*os.File, error) {
			temps.Lock()
			defer temps.Unlock()
			tmp, err := os.CreateTemp(dir, pattern)
			if err == nil {
				remember(tmp.Name())
			}
			return tmp, err
		},
		Done: forget,
	}.WriteFile(path, write)
}

// removeTemps removes the temporary files this process has open, and its
// lock files, for an exit in the middle of a write. It keeps the mutex: no
// new temporary file is made after it, and the process is about to exit.
func removeTemps() {
	temps.Lock()
	for name := range temps.names {
		os.Remove(name)
	}
}

// removeStaleTemps removes the temporary files a killed run left beside
// path and returns their names. Call it only while holding path's lock,
// so that they cannot be a live run's.
func removeStaleTemps(path string) ([]string, error) {
	dir, prefix := filepath.Dir(path), safetensors.TempPrefix(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || rest == "" || strings.Trim(rest, "0123456789") != "" || !e.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return removed, err
		}
		removed = append(removed, p)
	}
	return removed, nil
}

// readSmallFile reads a whole file of at most limit bytes, such as a config
// or a metrics file (os.ReadFile of /dev/zero grows until memory runs
// out; a pipe, as from <(...), is fine).
func readSmallFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: more than %d MiB: not a file ptrain reads", path, limit>>20)
	}
	return b, nil
}

// checkOutput checks, before any training, that path can be written: its
// directory exists and takes new files, and path is a regular file if it
// exists.
// flag names the option in the message.
func checkOutput(flag, path string, exts ...string) error {
	if len(exts) > 0 {
		ext := strings.ToLower(filepath.Ext(path))
		ok := false
		for _, e := range exts {
			ok = ok || ext == e
		}
		if !ok {
			return errUsage{fmt.Errorf("%s %s: want a %s file", flag, path, strings.Join(exts, " or "))}
		}
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return errUsage{fmt.Errorf("%s %s: is a directory, want a file name", flag, path)}
	} else if err == nil && !fi.Mode().IsRegular() {
		// The file is replaced by a rename: that would put a regular file
		// in place of a device such as /dev/null.
		return errUsage{fmt.Errorf("%s %s: not a regular file; ptrain writes whole files and renames them into place", flag, path)}
	} else if err == nil && fi.Mode().Perm()&0o222 == 0 {
		// A rename replaces a file whatever its mode: a file made
		// read-only for everyone (chmod a-w) is one its owner protects.
		return errUsage{fmt.Errorf("%s %s: the file is read-only (mode %v): ptrain would replace it; make it writable (chmod u+w) to replace it, or write elsewhere", flag, path, fi.Mode().Perm())}
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return errUsage{fmt.Errorf("%s %s: directory %s: %v", flag, path, dir, errors.Unwrap(err))}
	}
	if !fi.IsDir() {
		return errUsage{fmt.Errorf("%s %s: %s is not a directory", flag, path, dir)}
	}
	probe, err := os.CreateTemp(dir, safetensors.TempPrefix(path)+"*")
	if err != nil {
		return errUsage{fmt.Errorf("%s %s: cannot create files in %s: %v", flag, path, dir, errors.Unwrap(err))}
	}
	probe.Close()
	os.Remove(probe.Name())
	return nil
}

// outputs are the files a training run writes, checked and locked for the
// run's life.
type outputs struct {
	locks []*fileLock
}

// claimOutputs checks every output path of c, takes an advisory lock on
// each for the run's life (a second run on the same files refuses at once,
// naming the other process), and removes the temporary files that a
// killed run left beside them, saying so on say.
func claimOutputs(c *Config, say func(string, ...any)) (*outputs, error) {
	inputs := trainInputs(c)
	list := []output{{"-out", c.Out, nil, inputs}}
	// A resumed run writes its own checkpoint (-out is -resume): -resume is
	// an input only for the other outputs.
	others := inputs
	if c.resumePath != "" {
		others = append(slices.Clone(inputs), namedFile{"-resume", c.resumePath})
	}
	if c.Metrics != "" {
		list = append(list, output{"-metrics", c.Metrics, []string{".csv", ".jsonl", ".json", ".ndjson"}, others})
	}
	if c.Plot != "" {
		list = append(list, output{"-plot", c.Plot, []string{".png", ".svg"}, others})
	}
	return claim(list, say)
}

// output is a file a command writes: the flag that names it, its path,
// the extensions it may have (any if none) and the command's inputs it
// must not be.
type output struct {
	flag, path string
	exts       []string
	inputs     []namedFile
}

// claim checks and locks the outputs of list, as claimOutputs does for a
// training run's (export's -out goes through it too).
func claim(list []output, say func(string, ...any)) (*outputs, error) {
	seen := map[string]string{}
	for _, o := range list {
		if err := checkNotInput(namedFile{o.flag, o.path}, o.inputs); err != nil {
			return nil, err
		}
		abs, err := filepath.Abs(o.path)
		if err != nil {
			return nil, errUsage{fmt.Errorf("%s %s: %v", o.flag, o.path, err)}
		}
		if other, dup := seen[abs]; dup {
			return nil, errUsage{fmt.Errorf("%s and %s are the same file, %s", other, o.flag, o.path)}
		}
		seen[abs] = o.flag
		if err := checkOutput(o.flag, o.path, o.exts...); err != nil {
			return nil, err
		}
	}
	o := &outputs{}
	for _, f := range list {
		l, err := lockFile(f.path)
		if err != nil {
			o.release()
			return nil, fmt.Errorf("%s: %w", f.flag, err)
		}
		o.locks = append(o.locks, l)
		removed, err := removeStaleTemps(f.path)
		if err != nil {
			o.release()
			return nil, fmt.Errorf("%s: removing temporary files: %w", f.flag, err)
		}
		if len(removed) > 0 {
			say("ptrain: removed %d temporary file(s) an interrupted run left: %s", len(removed), strings.Join(removed, ", "))
		}
	}
	return o, nil
}

func (o *outputs) release() {
	if o == nil {
		return
	}
	for _, l := range o.locks {
		l.release()
	}
	o.locks = nil
}

// lockName is the lock file of path: .NAME.lock beside it. The lock cannot
// be on path itself, which each write replaces by a rename.
func lockName(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".lock")
}

// holder is what a lock file says about the process holding it.
func holder() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("pid %d on %s\n", os.Getpid(), host)
}

// inUse is the error for a lock another process holds; b is its lock
// file's content (see holder).
func inUse(path, lock string, b []byte) error {
	who := strings.TrimSpace(string(b))
	if who == "" {
		who = "pid unknown"
	}
	return fmt.Errorf("%s is in use by another ptrain run (%s; lock %s): wait for it to end, or write elsewhere", path, who, lock)
}
