package main

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"time"

	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
	"github.com/ptrain/ptrain/optim"
)

// announce says what the run is about to do: what it trains (or resumes)
// on what, the workers, batch, optimizer and BLAS, and under MPI the ranks.
func (r *trainRun[T]) announce() {
	c, ck, world, sp, m, tr, rep, start, initNote, oc := r.c, r.ck, r.world, r.sp, r.m, r.tr, r.rep, r.start, r.initNote, r.oc
	what := "training"
	if ck != nil {
		what = fmt.Sprintf("resuming %s at epoch %d, step %d:", ck.path, start.Epoch+1, start.Batch)
	}
	if initNote != "" {
		rep.say("%s", initNote)
	}
	rep.say("ptrain: %s %s (%d parameters, %s, %v loss) on %s", what, m.Spec, len(m.Params), c.DType, tr.Loss(), sp.describe())
	if c.Arch == "" && ck == nil && sp.shape != nil && m.Spec.Shape == nil {
		rep.say("ptrain: the images are %s: the default model is an MLP on their %d values; for a CNN give -arch %s-conv(…)…", shapeString(sp.shape), sp.train.Features, shapeString(sp.shape))
	}
	if world.Size() > 1 {
		rep.say("ptrain: MPI: %d ranks × %d workers, global batch %d×%d (each rank trains on its share)", world.Size(), tr.Workers(), c.Batch, c.Accum)
		if runtime.GOMAXPROCS(0) == 1 {
			fmt.Fprintln(rep.stderr, "ptrain: warning: GOMAXPROCS is 1 — the launcher bound this rank to one core; start it with mpirun --bind-to none")
		}
	}
	rep.say("ptrain: %d workers, batch %d×%d, %s%s, %s; BLAS %s", tr.Workers(), c.Batch, c.Accum, describeOptimizer(oc), describeSchedule(r.opt.Config().Schedule), epochCount(c.Epochs), num.Backend())
	if s := describeTargets(sp); s != "" {
		rep.say("%s", s)
	}
}

// report says how the run ended: the test split's figures, the time per
// step by phase, where the checkpoint and the plot are, and with -json
// one "final" object.
func (r *trainRun[T]) report(ctx context.Context) error {
	c, world, sp, tr, rep, res, fitStart := r.c, r.world, r.sp, r.tr, r.rep, r.res, r.fitStart
	final := map[string]any{"event": "final", "epochs": res.Epoch, "elapsed_s": time.Since(fitStart).Seconds(), "checkpoint": c.Out, "loss_units": rep.lossUnits}
	if sp.test != nil {
		mt, err := tr.Evaluate(context.WithoutCancel(ctx), sp.test, c.Batch)
		if err != nil {
			return err
		}
		final["test_loss"] = jsonNum(mt.Loss)
		final["test_accuracy"] = jsonNum(mt.Accuracy)
		if math.IsNaN(mt.Accuracy) {
			rep.say("ptrain: test loss %.4f on %d samples", mt.Loss, mt.N)
		} else {
			rep.say("ptrain: test loss %.4f, test accuracy %.2f%% on %d samples", mt.Loss, 100*mt.Accuracy, mt.N)
		}
	}
	st := tr.Stats()
	if st.Steps > 0 {
		total := st.Data + st.Forward + st.Backward + st.Wait + st.AllReduce + st.Optimizer
		pct := func(d time.Duration) float64 { return 100 * d.Seconds() / total.Seconds() }
		rep.say("ptrain: time per step %.3f ms: data %.0f%%, forward %.0f%%, backward %.0f%%, waiting %.0f%%, all-reduce %.0f%%, optimizer %.0f%%; %.0f samples/s overall",
			1e3*total.Seconds()/float64(st.Steps), pct(st.Data), pct(st.Forward), pct(st.Backward), pct(st.Wait), pct(st.AllReduce), pct(st.Optimizer),
			float64(st.Samples)/time.Since(fitStart).Seconds())
		final["phase_ms"] = map[string]float64{"data": ms(st.Data, st.Steps), "forward": ms(st.Forward, st.Steps), "backward": ms(st.Backward, st.Steps),
			"wait": ms(st.Wait, st.Steps), "allreduce": ms(st.AllReduce, st.Steps), "optimizer": ms(st.Optimizer, st.Steps), "mpi": ms(st.Comm, st.Steps)}
		if world.Size() > 1 {
			rep.say("ptrain: MPI all-reduce %.3f ms per step (part of the all-reduce share above)", ms(st.Comm, st.Steps))
		}
	}
	rep.say("ptrain: checkpoint written to %s", c.Out)
	if c.Plot != "" {
		if err := plotHistory(c.Plot, rep.history); err != nil {
			return err
		}
		rep.say("ptrain: plot written to %s", c.Plot)
	}
	if c.JSON {
		return printJSON(rep.out, final)
	}
	return nil
}

// describeOptimizer names the update rule and its hyperparameters, in
// PyTorch's terms.
func describeOptimizer(oc optim.Config) string {
	s := fmt.Sprintf("%v lr %g", oc.Method, oc.LR)
	switch oc.Method {
	case optim.SGD, optim.Momentum, optim.Nesterov:
		if oc.Momentum > 0 {
			s += fmt.Sprintf(" momentum %g", oc.Momentum)
		}
		if oc.Nesterov && oc.Method != optim.Nesterov {
			s += " nesterov"
		}
	case optim.RMSprop:
		s += fmt.Sprintf(" alpha %g eps %g", oc.Alpha, oc.Eps)
		if oc.Momentum > 0 {
			s += fmt.Sprintf(" momentum %g", oc.Momentum)
		}
	case optim.Adam, optim.AdamW:
		s += fmt.Sprintf(" betas (%g, %g) eps %g", oc.Beta1, oc.Beta2, oc.Eps)
	}
	if oc.WeightDecay > 0 {
		s += fmt.Sprintf(" weight decay %g", oc.WeightDecay)
	}
	return s
}

// l1Penalty is the L1 term of the loss, λ·Σ|w| over the weights
// (model.RoleWeight: dense and conv, not the biases, not batch norm), as
// parallel.Config.L1 adds it.
func l1Penalty[T num.Float](m *model.Model[T], l1 float64) float64 {
	var sum float64
	for _, l := range m.Layout.Layers {
		for _, w := range l.Params {
			if w.Role != model.RoleWeight {
				continue
			}
			for _, v := range m.Params[w.Offset : w.Offset+w.Size()] {
				sum += math.Abs(float64(v))
			}
		}
	}
	return l1 * sum
}

func ms(d time.Duration, steps int64) float64 { return 1e3 * d.Seconds() / float64(steps) }

// epochCount is "1 epoch" or "N epochs".
func epochCount(n int) string {
	if n == 1 {
		return "1 epoch"
	}
	return fmt.Sprintf("%d epochs", n)
}
