package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/optim"
)

// optimizerFlags are the flags that make the optimizer's settings.
var optimizerFlags = []string{"optimizer", "lr", "momentum", "nesterov", "alpha", "beta1", "beta2", "eps", "weight-decay"}

// resumeFromFlags is the run that resumes a checkpoint without
// ptrain.config (saved from Go code, or by Model.SaveFile): the command
// line says what the file does not — the data at least, and the
// training flags — and what the file says (architecture, element type,
// task, optimizer) is taken from it; a flag that contradicts it is
// refused.
func resumeFromFlags(ck *checkpoint, req Config, set map[string]bool) (Config, error) {
	c := req
	if !set["data"] {
		return c, errUsage{fmt.Errorf("-resume %s: the checkpoint has no %q (it was saved from Go code or by Model.SaveFile), so the run's settings come from the command line: give -data, and the training flags the run had (-batch, -seed, -val, -normalize, -epochs, …); the architecture, dtype, task and optimizer are the checkpoint's",
			ck.path, metaConfig)}
	}
	fixed := func(flag, now, stored string) error {
		if set[flag] && now != stored {
			return errUsage{fmt.Errorf("-resume %s: -%s is %s here, the checkpoint's is %s (leave -%s out to take the checkpoint's)", ck.path, flag, orNone(now), stored, flag)}
		}
		return nil
	}
	arch := c.Arch
	if sp, err := model.ParseSpec(arch); err == nil {
		arch = sp.String()
	}
	if err := fixed("arch", arch, ck.Spec.String()); err != nil {
		return c, err
	}
	if set["dropout"] {
		return c, errUsage{fmt.Errorf("-resume %s: -dropout cannot apply to a checkpoint's architecture (%s says where dropout is)", ck.path, ck.Spec)}
	}
	c.Arch, c.Dropout = ck.Spec.String(), 0
	if !set["out"] {
		c.Out = ck.path // the run continues in its own file, as a CLI checkpoint's does
	}
	dtype := map[string]string{"F32": "float32", "F64": "float64"}[string(ck.DType)]
	if err := fixed("dtype", c.DType, dtype); err != nil {
		return c, err
	}
	c.DType = dtype
	if set["normalize"] && c.Normalize != "none" && ck.transform().Scale == nil {
		return c, errUsage{fmt.Errorf("-resume %s: -normalize %s, but the checkpoint's model was trained without a feature transform (leave -normalize out)", ck.path, c.Normalize)}
	}
	if ck.BatchSize > 0 { // recorded by Checkpoint.TrainedOn
		if err := fixed("batch", strconv.Itoa(c.Batch), strconv.Itoa(ck.BatchSize)); err != nil {
			return c, err
		}
		c.Batch = ck.BatchSize
	}
	if ck.Split.Known() {
		share := strconv.FormatFloat(ck.Split.Share, 'g', -1, 64)
		if err := fixed("test", strconv.FormatFloat(c.Test, 'g', -1, 64), share); err != nil {
			return c, err
		}
		c.Test = ck.Split.Share
	}
	if ck.Task != nil {
		if err := fixed("task", c.Task, ck.Task.String()); err != nil {
			return c, err
		}
		if strings.HasPrefix(c.Data, "csv:") {
			c.Task = ck.Task.String()
		}
	}
	if ck.Optimizer == nil {
		return c, nil
	}
	if sc := ck.Optimizer.Schedule; sc != (optim.Schedule{}) {
		// The optimizer's learning-rate schedule is the run's, as its
		// settings are; files without one take -schedule and -warmup.
		stored := scheduleFlag(sc)
		if set["schedule"] {
			now, err := optim.ParseSchedule(c.Schedule)
			if err != nil {
				return c, errUsage{fmt.Errorf("-schedule: %w", err)}
			}
			if err := fixed("schedule", scheduleFlag(now), stored); err != nil {
				return c, err
			}
		}
		if err := fixed("warmup", strconv.Itoa(c.Warmup), strconv.Itoa(sc.Warmup)); err != nil {
			return c, err
		}
		c.Schedule, c.Warmup = stored, sc.Warmup
	}
	for _, f := range optimizerFlags {
		if !set[f] {
			continue
		}
		oc, err := optimizerConfig(&c)
		if err != nil {
			return c, errUsage{err}
		}
		if !sameOptimizer(oc, *ck.Optimizer) {
			return c, errUsage{fmt.Errorf("-resume %s: the flags make the optimizer %s, the checkpoint's (whose state it keeps) is %s: give its settings, or no optimizer flags to take them (to train on from its weights with other settings, start a new run: -init %s -out NEW.safetensors)", ck.path, describeOptimizer(oc), describeOptimizer(*ck.Optimizer), ck.path)}
		}
		return c, nil
	}
	setOptimizer(&c, *ck.Optimizer)
	return c, nil
}

// scheduleFlag is s as -schedule writes it (ParseSchedule reads it back):
// its kind and figures, without the run's period, warm-up and epoch length.
func scheduleFlag(s optim.Schedule) string {
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	switch s.Kind {
	case optim.StepDecay:
		return "step:" + g(s.Every) + ":" + g(s.Gamma)
	case optim.Exponential:
		return "exp:" + g(s.Gamma)
	case optim.Cosine:
		if s.Min != 0 {
			return "cosine:" + g(s.Min)
		}
	}
	return s.Kind.String()
}

// setOptimizer sets c's optimizer flags to oc: the method, and each
// hyperparameter it uses that differs from the method's default.
func setOptimizer(c *Config, oc optim.Config) {
	c.Optimizer, c.Nesterov = oc.Method.String(), oc.Nesterov
	def := optim.Defaults(oc.Method)
	for _, h := range []struct {
		param   string
		v, dflt float64
		dst     *optFloat
	}{
		{"lr", oc.LR, def.LR, &c.LR}, {"momentum", oc.Momentum, def.Momentum, &c.Momentum}, {"alpha", oc.Alpha, def.Alpha, &c.Alpha},
		{"beta1", oc.Beta1, def.Beta1, &c.Beta1}, {"beta2", oc.Beta2, def.Beta2, &c.Beta2}, {"eps", oc.Eps, def.Eps, &c.Eps},
		{"weight_decay", oc.WeightDecay, def.WeightDecay, &c.WeightDecay},
	} {
		*h.dst = optFloat{}
		if oc.Method.Uses(h.param) && h.v != h.dflt {
			*h.dst = optFloat{V: h.v, Set: true}
		}
	}
}

// sameOptimizer reports whether a and b update the same way: the same
// method and the same value of every hyperparameter it uses.
func sameOptimizer(a, b optim.Config) bool {
	if a.Method != b.Method {
		return false
	}
	for _, h := range []struct {
		param string
		a, b  any
	}{
		{"lr", a.LR, b.LR}, {"momentum", a.Momentum, b.Momentum}, {"nesterov", a.Nesterov, b.Nesterov}, {"alpha", a.Alpha, b.Alpha},
		{"beta1", a.Beta1, b.Beta1}, {"beta2", a.Beta2, b.Beta2}, {"eps", a.Eps, b.Eps}, {"weight_decay", a.WeightDecay, b.WeightDecay},
	} {
		if a.Method.Uses(h.param) && h.a != h.b {
			return false
		}
	}
	return true
}
