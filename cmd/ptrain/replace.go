package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
)

// A new run that was not told where to write (-out left at its default,
// ptrain.safetensors) must not silently replace the checkpoint of another
// run: PyTorch and Keras users name their files, and a second `ptrain
// train` in a folder that holds a day's CNN would otherwise lose it. So a
// default -out that already holds something other than a checkpoint of
// the same run — same architecture, data and task, as when the same
// command is run again — is refused before training, naming the file and
// the two ways on: another -out, or -overwrite. An -out given explicitly
// is the user's choice, as torch.save's path is, and is replaced.

// checkReplace refuses to let a new run (not resumed) replace what c.Out
// holds, when c.Out is the default and holds anything but a checkpoint of
// the same run (spec on ds with c's data).
func checkReplace(c *Config, spec model.Spec, ds *data.Dataset) error {
	if c.given["out"] || c.Overwrite {
		return nil
	}
	if _, err := os.Stat(c.Out); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	old, err := readCheckpoint(c.Out)
	if err != nil {
		return errUsage{fmt.Errorf("%s (the default -out) exists and is not a ptrain checkpoint (%v): this run would replace it; give -out NAME to write elsewhere, or -overwrite to replace it", c.Out, err)}
	}
	this := fmt.Sprintf("%s on %s, %v", spec, c.Data, ds.Task)
	var theirs string
	switch {
	case !old.hasConfig:
		theirs = fmt.Sprintf("%s, saved from Go code", old.Spec)
	case old.Spec.String() != spec.String() || absData(old.cfg.Data) != absData(c.Data) || (old.Task != nil && *old.Task != ds.Task):
		theirs = fmt.Sprintf("%s on %s, %d epochs", old.Spec, old.cfg.Data, old.Progress.Epoch)
	default:
		return nil // the same run again, as a re-run script would make it
	}
	return errUsage{fmt.Errorf("%s (the default -out) holds another run's checkpoint (%s); this run (%s) would replace it: give -out NAME to keep both, -resume %s to continue that run, or -overwrite to replace it",
		c.Out, theirs, this, c.Out)}
}
