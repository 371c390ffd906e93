package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ptrain/ptrain/parallel"
	"github.com/ptrain/ptrain/parallel/health"
)

// fit trains the run, rank 0 saving its checkpoint after every epoch, at
// the end, and when interrupted (then saying how to resume); a stop on a
// non-finite loss names the last good checkpoint. It records when it
// began and the result, for report.
func (r *trainRun[T]) fit(ctx context.Context) error {
	c, ck, world, sp, m, opt, tr, rep, aug, start := r.c, r.ck, r.world, r.sp, r.m, r.opt, r.tr, r.rep, r.aug, r.start
	root := world.Rank() == 0
	watch := health.NewWatch(rep.warning)
	if ck != nil {
		if err := ck.restoreHealth(watch); err != nil {
			return err
		}
	}
	// replaces: a new run whose -out already holds a file (another run's,
	// which an -out given by name replaces, or this command's last run). An
	// interrupt before this run has written its first checkpoint leaves
	// that file as it was: a checkpoint of a few steps is not worth the
	// one it would replace. wrote: this run has written -out.
	_, statErr := os.Stat(c.Out)
	replaces, wrote := ck == nil && statErr == nil, false
	save := func(p parallel.Progress) error {
		if !root {
			return nil
		}
		if err := saveCheckpoint(c.Out, m, opt, c, p, sp, rep.history, watch); err != nil {
			return err
		}
		wrote = true
		savedCheckpoint(c.Out, p.Epoch, p.Batch)
		return nil
	}
	r.fitStart = time.Now()
	res, err := tr.Fit(ctx, sp.train, sp.val, watch.Hooks(parallel.FitConfig{
		Epochs: c.Epochs, BatchSize: c.Batch, Accum: c.Accum, Shuffle: c.Shuffle, Seed: c.Seed, Patience: c.Patience, RestoreBest: c.Patience > 0,
		Start: start, StartForeign: ck != nil && !ck.hasConfig, OnStep: rep.step, Augment: aug,
		OnEpoch: func(e parallel.EpochInfo) error {
			if err := rep.epoch(e); err != nil {
				return err
			}
			if err := save(tr.Progress()); err != nil {
				return err
			}
			return rep.flushMetrics()
		},
	}))
	watch.Stopped(err)
	if errors.Is(err, context.Canceled) {
		p := tr.Progress()
		if root && replaces && !wrote {
			fmt.Fprintf(rep.stderr, "ptrain: interrupted at epoch %d, step %d of it, before this run's first checkpoint: %s is left as it was\n", p.Epoch+1, p.Batch, c.Out)
			return errQuiet{errInterrupted{"interrupted"}}
		}
		if serr := save(p); serr != nil {
			return fmt.Errorf("interrupted, and the checkpoint could not be written: %w", serr)
		}
		if !root {
			return errInterrupted{"interrupted"}
		}
		// Said now, not on the way out: under mpirun, SIGKILL follows the
		// SIGTERM within a second (odls_base_sigkill_timeout), and MPI's
		// finalize may not end before it.
		fmt.Fprintf(rep.stderr, "ptrain: interrupted at epoch %d, step %d of it; checkpoint written to %s\nresume with: %s\n", p.Epoch+1, p.Batch, c.Out, resumeCommand(c.Out, world.Size()))
		return errQuiet{errInterrupted{"interrupted"}}
	}
	if err != nil {
		var nf *parallel.NonFiniteError
		if errors.As(err, &nf) {
			rep.unreported() // the exploding-gradient diagnosis of the stop
			switch {
			case !root:
			case wrote:
				return fmt.Errorf("%w (lower -lr, or use -clip-norm); the last good checkpoint is %s", err, c.Out)
			case ck != nil:
				return fmt.Errorf("%w (lower -lr, or use -clip-norm); this run wrote no checkpoint: the last good one is %s, which it resumed", err, ck.path)
			case replaces:
				return fmt.Errorf("%w (lower -lr, or use -clip-norm); this run wrote no checkpoint, and %s is left as it was", err, c.Out)
			}
			return fmt.Errorf("%w (lower -lr, or use -clip-norm)", err)
		}
		return err
	}
	if res.EarlyStopped {
		rep.say("ptrain: early stopping after epoch %d: no better validation loss for %d epochs; keeping epoch %d's weights (val loss %.4f)", res.Epoch, c.Patience, res.BestEpoch, res.BestValLoss)
	}
	if err := save(tr.Progress()); err != nil {
		return err
	}
	r.res = res
	return nil
}

// resumeCommand is the command that continues a run from its checkpoint
// out, as this one was invoked: by the same program name, and under MPI by
// the launcher with the flags it was given (--allow-run-as-root,
// --oversubscribe, the hostfile), read from the launcher's command line
// when this process is its child, else with the same number of processes.
func resumeCommand(out string, ranks int) string {
	cmd := shellQuote(os.Args[0]) + " train -resume " + shellQuote(out)
	if ranks > 1 {
		if l := mpiLauncher(); l != nil { // with the flags the job needed
			q := make([]string, len(l))
			for i, a := range l {
				q[i] = shellQuote(a)
			}
			return strings.Join(q, " ") + " " + cmd
		}
		cmd = fmt.Sprintf("mpirun --bind-to none -np %d %s", ranks, cmd)
	}
	return cmd
}

// shellQuote quotes s for a POSIX shell if it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./+:=@%,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
