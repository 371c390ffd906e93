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

// checkResumeOut refuses a resumed run that would write its recorded -out
// (out, -out not given) where that file exists and is not the checkpoint
// resumed (resume): resuming a copy, or a checkpoint whose run's file now
// holds another run, would otherwise replace that file — more epochs of
// the same run, or another model — with the copy's continuation. -out
// names where to write instead; -overwrite accepts the replacement.
func checkResumeOut(out, resume string) error {
	fo, err := os.Stat(out)
	if err != nil {
		return nil // nothing there to replace (a moved checkpoint's old name)
	}
	if fr, err := os.Stat(resume); err == nil && os.SameFile(fo, fr) {
		return nil
	}
	return errUsage{fmt.Errorf("-resume %s: the run writes its checkpoint to %s (its recorded -out), which exists and is another file: resuming would replace it; give -out %s to continue in the file resumed, -out NEW.safetensors to write elsewhere, or -overwrite to replace %s",
		resume, out, resume, out)}
}
