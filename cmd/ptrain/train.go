package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
	"github.com/ptrain/ptrain/model/safetensors"
	"github.com/ptrain/ptrain/optim"
	"github.com/ptrain/ptrain/parallel"
	"github.com/ptrain/ptrain/parallel/mpi"
)

// cmdTrain is "ptrain train".
func cmdTrain(ctx context.Context, args []string, std stdio) error {
	c, ck, err := parseTrainConfig(args, std.out)
	if err != nil {
		return err
	}
	world, err := mpi.Init()
	if err != nil {
		return err
	}
	finalize := true
	defer func() {
		if finalize {
			_ = world.Close()
		}
	}()
	if ck != nil && c.Epochs <= ck.Progress.Epoch {
		if world.Rank() == 0 {
			fmt.Fprintf(std.err, "ptrain: %s has trained %d epochs, -epochs is %d: nothing to do (give a larger -epochs to train on); nothing written\n", ck.path, ck.Progress.Epoch, c.Epochs)
		}
		return nil
	}
	if world.Rank() == 0 {
		for _, w := range c.ignored() {
			warnf("%s", w)
		}
	}
	if world.Rank() == 0 && c.Workers > runtime.NumCPU() {
		warnf("-workers %d is more than the %d CPUs here: workers will share cores, which is slower than one per CPU", c.Workers, runtime.NumCPU())
	}
	run := train[float32]
	if c.DType == "float64" {
		run = train[float64]
	}
	err = run(ctx, c, ck, world, std)
	if err == nil || world.Size() == 1 {
		return err
	}
	var intr errInterrupted
	var nf *parallel.NonFiniteError
	var dis errDisagree
	if errors.As(err, &dis) {
		return err // every rank found it, and says so
	}
	if errors.As(err, &intr) || errors.As(err, &nf) {
		// Every rank took this decision together, on all-reduced figures:
		// rank 0 reports it and all finish normally.
		if errors.As(err, &intr) {
			finalize = !interruptedExit(world)
		}
		if world.Rank() != 0 {
			return errQuiet{err}
		}
		return err
	}
	// This rank alone failed: stop every rank rather than leave them
	// waiting in a collective call.
	fmt.Fprintf(std.err, "ptrain train: rank %d: %v\n", world.Rank(), err)
	world.Abort(1)
	return err
}

// defaultArch is the model used when -arch is not given.
func defaultArch(ds *data.Dataset) string {
	if ds.Task == data.Regression {
		return fmt.Sprintf("%d-64:relu-64:relu-%d", ds.Features, ds.Outputs)
	}
	if ds.Features >= 256 {
		return fmt.Sprintf("%d-256:relu-128:relu-%d:softmax", ds.Features, len(ds.Classes))
	}
	return fmt.Sprintf("%d-128:relu-%d:softmax", ds.Features, len(ds.Classes))
}

// buildSpec parses -arch (or the default), applies -dropout, and checks it
// against the data. initFile is the -init file, nil when there is none or
// it could not be read.
func buildSpec(c *Config, ds *data.Dataset, initFile *safetensors.File) (model.Spec, error) {
	arch := c.Arch
	if arch == "" && initFile != nil {
		// -init from a file that says its architecture: that one, as
		// -resume does; a file of bare tensors needs -arch.
		arch = initFile.Metadata[model.MetaArch]
	}
	if arch == "" {
		arch = defaultArch(ds)
	}
	sp, err := model.ParseSpec(arch)
	if err != nil {
		return sp, errUsage{fmt.Errorf("-arch: %w", err)}
	}
	for i := range sp.Layers[:len(sp.Layers)-1] {
		// -dropout is for the hidden dense layers; a CNN says where else
		// it wants dropout in -arch.
		if sp.Layers[i].Dropout == 0 && sp.Layers[i].Kind == model.KindDense {
			sp.Layers[i].Dropout = c.Dropout
		}
	}
	if sp.Inputs != ds.Features {
		return sp, errUsage{fmt.Errorf("-arch %s: the model takes %d inputs, %s has %d features", arch, sp.Inputs, ds.Name, ds.Features)}
	}
	if err := ds.TargetWidth(sp.Outputs()); err != nil {
		return sp, errUsage{fmt.Errorf("-arch %s: %w", arch, err)}
	}
	return sp, nil
}

// train runs the training c describes with element type T, resuming ck
// when it is not nil: rank 0 claims the output files; buildRun makes the
// run, fit trains it under the save policy and report says how it ended.
func train[T num.Float](ctx context.Context, c Config, ck *checkpoint, world mpi.World, std stdio) error {
	root := world.Rank() == 0
	if !root { // rank 0 alone prints and writes files
		c.Quiet, c.JSON, c.Metrics, c.Plot = true, false, "", ""
		warnings = io.Discard
	} else {
		outs, err := claimOutputs(&c, func(format string, args ...any) {
			if !c.Quiet {
				fmt.Fprintf(std.err, format+"\n", args...)
			}
		})
		if err != nil {
			return err
		}
		defer outs.release()
	}
	r, err := buildRun[T](c, ck, world, std)
	if err != nil {
		return err
	}
	defer r.rep.close()
	r.announce()
	if err := r.fit(ctx); err != nil {
		return err
	}
	return r.report(ctx)
}

// trainRun is a training run as buildRun made it from its Config: the
// data, the model, its optimizer and trainer, where it starts and the
// reporter of its progress.
type trainRun[T num.Float] struct {
	c        Config
	ck       *checkpoint // the checkpoint resumed, or nil
	world    mpi.World
	sp       *splits
	m        *model.Model[T]
	opt      *optim.Optimizer[T]
	tr       *parallel.Trainer[T]
	start    parallel.Progress
	aug      *data.Augment
	oc       optim.Config
	rep      *reporter
	initNote string             // what -init loaded, said with the run's first lines
	fitStart time.Time          // when fit began
	res      parallel.FitResult // what fit ended with
}

// buildRun makes the run c asks for: its data split, transform and input
// range, the model (the checkpoint's, or new from -arch, with -init's
// weights or -weight-init's), the loss, the optimizer and progress (the
// checkpoint's when resuming), the trainer and the reporter.
func buildRun[T num.Float](c Config, ck *checkpoint, world mpi.World, std stdio) (*trainRun[T], error) {
	root := world.Rank() == 0
	sp, err := loadSplits(&c, ck)
	if err != nil {
		return nil, err
	}
	if ck != nil && ck.transform().Scale != nil { // the checkpoint's statistics, exactly
		sp.setTransform(ck.transform())
	}
	sp.inputRange = data.InputRange(sp.train, inputRangeRows)
	if root && c.Batch > sp.train.N {
		warnf("-batch %d is larger than the %d training samples: each epoch is one step over all of them", c.Batch, sp.train.N)
	}
	if world.Size() > 1 {
		if err := agreeOnRun(world, &c, sp); err != nil {
			return nil, err
		}
	}
	var m *model.Model[T]
	initNote := "" // what -init loaded, said with the run's first lines
	if ck != nil {
		if m, err = loadModel[T](ck); err != nil {
			return nil, err
		}
	} else {
		// The -init file is read once, for its architecture and weights;
		// a read error is reported where its weights are loaded.
		var initFile *safetensors.File
		var initErr error
		if c.Init != "" {
			initFile, initErr = readSafetensors(c.Init)
		}
		spec, err := buildSpec(&c, sp.train, initFile)
		if err != nil {
			return nil, err
		}
		if root {
			if err := checkReplace(&c, spec, sp.train); err != nil {
				return nil, err
			}
		}
		if m, err = model.NewZero[T](spec); err != nil {
			return nil, fmt.Errorf("-arch: %w", err)
		}
		if c.Init != "" {
			if initErr != nil {
				return nil, fmt.Errorf("-init: %w", initErr)
			}
			if initNote, err = initFrom(m, c.Init, initFile); err != nil {
				return nil, err
			}
		} else {
			scheme, err := model.ParseInit(c.WeightInit)
			if err != nil {
				return nil, fmt.Errorf("-weight-init: %w", err)
			}
			_ = m.Initialize(c.Seed, scheme)
		}
	}
	if err := ck.checkTask(sp.train); err != nil {
		return nil, err
	}
	if ck != nil && root {
		ck.warnUnrecorded(sp, &c)
		ck.warnInputRange(sp.train, "-data")
	}
	if err := checkImageShape(m.Spec, sp); err != nil {
		return nil, err
	}
	aug, err := imageAugment(&c, m.Spec)
	if err != nil {
		return nil, err
	}
	if err := sp.train.TargetWidth(m.Spec.Outputs()); err != nil {
		return nil, err
	}
	loss := model.LossAuto // the trainer resolves it (tr.Loss)
	if c.Loss != "" {
		if loss, err = model.ParseLoss(c.Loss); err != nil {
			return nil, fmt.Errorf("-loss: %w", err)
		}
	}
	if err := model.CheckLoss(loss, m.Spec); err != nil {
		return nil, errUsage{fmt.Errorf("-loss: %w", err)}
	}
	oc, err := optimizerConfig(&c)
	if err != nil {
		return nil, err
	}
	opt, start, err := startFrom(ck, oc, m)
	if err != nil {
		return nil, err
	}
	sched, err := optim.ParseSchedule(c.Schedule)
	if err != nil {
		return nil, fmt.Errorf("-schedule: %w", err)
	}
	steps := parallel.FitConfig{BatchSize: c.Batch, Accum: c.Accum}.StepsPerEpoch(sp.train)
	sched.Warmup = c.Warmup
	if sched.Kind != optim.Constant { // this run's epochs: a resumed run with more -epochs stretches the cosine
		sched.StepsPerEpoch = steps
		if sched.Kind == optim.Cosine {
			sched.Epochs = float64(c.Epochs)
		}
	}
	if err := opt.SetSchedule(sched); err != nil {
		return nil, fmt.Errorf("-schedule: %w", err)
	}
	var group parallel.Group
	if world.Size() > 1 {
		group = world
	}
	tr, err := parallel.New(m, opt, parallel.Config{Workers: c.Workers, Loss: loss, Seed: c.Seed,
		ClipNorm: c.ClipNorm, ClipValue: c.ClipValue, L1: c.L1, Group: group, Overlap: c.MPIOverlap})
	if err != nil {
		return nil, err
	}
	if out := m.Spec.Layers[len(m.Spec.Layers)-1].Act.Kind; c.Loss == "" && tr.Loss() == model.MSE && sp.train.Task == data.Classification && len(sp.train.Classes) > 2 {
		// A PyTorch user's CrossEntropyLoss on a linear output is this
		// model with :softmax; ptrain fuses the two.
		warnf("the output layer's activation is %v, so %d classes are trained with MSE; end -arch with :softmax for cross-entropy (PyTorch's CrossEntropyLoss on logits)", out, len(sp.train.Classes))
	}
	resumed, past := -1, []epochRow(nil)
	if ck != nil {
		if err := checkResumeProgress(ck, start, steps, sp.train.N, opt.Steps()); err != nil {
			return nil, err
		}
		resumed, past = start.Epoch, ck.history
	}
	rep, err := newReporter(&c, std, c.Epochs, resumed, past, lossUnits(sp))
	if err != nil {
		return nil, err
	}
	if c.L1 > 0 {
		rep.penalty = func() float64 { return l1Penalty(m, c.L1) }
	}
	return &trainRun[T]{c: c, ck: ck, world: world, sp: sp, m: m, opt: opt, tr: tr, start: start, aug: aug, oc: oc, rep: rep, initNote: initNote}, nil
}
