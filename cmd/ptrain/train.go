package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/model/num"
	"github.com/ptrain/ptrain/model/safetensors"
	"github.com/ptrain/ptrain/optim"
	"github.com/ptrain/ptrain/parallel"
	"github.com/ptrain/ptrain/parallel/health"
	"github.com/ptrain/ptrain/parallel/mpi"
)

const trainExamples = `
Examples:
  ptrain train                                    # an MLP on the embedded 8x8 digits, in seconds
  ptrain train -data mnist -download -arch 784-256:relu-128:relu-10:softmax -epochs 15 -out mnist.safetensors
  ptrain train -arch "1x8x8-conv(16,3,pad=1)-bn:relu-maxpool(2)-flatten-10:softmax" -lr 0.01 -out cnn.safetensors
  ptrain train -data mnist -download -optimizer adam -lr 0.002 -schedule cosine -epochs 8 -out mnist-cnn.safetensors \
      -arch "1x28x28-conv(16,5)-bn:relu-maxpool(2)-conv(32,5)-bn:relu-maxpool(2)-flatten-128:relu-10:softmax"
  ptrain train -arch "1x8x8-conv(8,3,pad=1)-bn:relu-res(conv(8,3,pad=1)-bn:relu-conv(8,3,pad=1)-bn):relu-res(conv(16,3,stride=2,pad=1)-bn:relu-conv(16,3,pad=1)-bn|conv(16,1,stride=2)-bn):relu-gap-10:softmax"   -out resnet.safetensors   # a ResNet
  ptrain train -data fashion-mnist -download -optimizer momentum -lr 0.05 -epochs 30 -out fashion.safetensors
  ptrain train -data csv:iris.csv -csv-skip 1 -csv-header=false -test 0.2 -val 0 \
      -arch 4-16:relu-3:softmax -batch 8 -lr 0.01 -epochs 60 -out iris.safetensors
  ptrain train -data csv:houses.csv -label price -task regression -out houses.safetensors
  ptrain train -resume ptrain.safetensors -epochs 40   # continue a run up to 40 epochs
  ptrain train -config run.json -lr 0.01              # flags override the config file

A new run left at the default -out does not replace another run's checkpoint
there (give -out, or -overwrite); -data mnist and fashion-mnist default to
-schedule cosine; a csv: table's features are standardised (-normalize zscore)
unless -normalize says otherwise.
`

// parseTrainConfig resolves the flags, the -config file and a -resume
// checkpoint into one Config. It returns the checkpoint when resuming.
func parseTrainConfig(args []string, stderr io.Writer) (Config, *checkpoint, error) {
	probe := flag.NewFlagSet("train", flag.ContinueOnError)
	probe.SetOutput(io.Discard)
	var configPath, resume string
	pc := defaultConfig()
	trainFlags(probe, &pc)
	probe.StringVar(&configPath, "config", "", "")
	probe.StringVar(&resume, "resume", "", "")
	_ = probe.Parse(args) // errors are reported by the real parse below

	// req is the run the command line asks for: the defaults, then the
	// -config file, then the flags; set names what the last two gave.
	req := defaultConfig()
	set := map[string]bool{}
	if configPath != "" {
		keys, err := loadConfigFile(configPath, &req)
		if err != nil {
			return req, nil, errUsage{err}
		}
		set = keys
	}
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	trainFlags(fs, &req)
	fs.StringVar(&configPath, "config", configPath, "read flags from this JSON file (keys are flag names); flags given on the command line override it")
	fs.StringVar(&resume, "resume", resume, "continue the run saved in this checkpoint with its settings: flags equal to the checkpoint's are accepted, and only -epochs, -out, -metrics, -plot, -json, -quiet, -workers, -patience and -mpi-overlap may differ")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ptrain train [flags]\n\nTrains a feed-forward network data-parallel across goroutines and saves a checkpoint.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), trainExamples)
	}
	if err := parseFlags(fs, args); err != nil {
		return req, nil, err
	}
	for name := range given(fs) {
		set[name] = true
	}
	delete(set, "config")
	delete(set, "resume")
	c := req
	var ck *checkpoint
	if resume != "" {
		var err error
		if ck, err = readCheckpoint(resume); err != nil {
			return c, nil, fmt.Errorf("-resume: %w", err)
		}
		if c, err = resumeConfig(ck, &req, fs, set); err != nil {
			return c, nil, err
		}
	}
	if ck == nil {
		datasetDefaults(&c, set)
	}
	if err := c.validate(); err != nil {
		return c, nil, errUsage{err}
	}
	c.given = set
	c.configPath, c.resumePath = configPath, resume
	return c, ck, nil
}

// resumeConfig is the checkpoint's config with the settings that may
// change taken from req. The other settings given (set) must equal the
// checkpoint's; presentation (-quiet, -json) is this command's own.
func resumeConfig(ck *checkpoint, req *Config, reqFlags *flag.FlagSet, set map[string]bool) (Config, error) {
	if !ck.hasConfig {
		return resumeFromFlags(ck, *req, set)
	}
	c := ck.cfg
	c.Quiet, c.JSON = false, false
	if c.Test == -1 && legacyTestFraction(&c) == 0 {
		c.Test = 0 // a CSV run saved before the default test split: none
	}
	if c.Normalize == "" {
		c.Normalize = "none" // saved before the field: trained unscaled, and stays so
	}
	cflags := flag.NewFlagSet("resume", flag.ContinueOnError)
	trainFlags(cflags, &c)
	var changed, detail []string
	for _, name := range slices.Sorted(maps.Keys(set)) {
		if resumable[name] {
			if err := cflags.Set(name, reqFlags.Lookup(name).Value.String()); err != nil {
				return c, errUsage{fmt.Errorf("-%s: %w", name, err)}
			}
			continue
		}
		old, now := setting(&ck.cfg, name), setting(req, name)
		if old != now {
			changed = append(changed, "-"+name)
			detail = append(detail, fmt.Sprintf("-%s is %s in the checkpoint, %s here", name, orNone(old), orNone(now)))
		}
	}
	if len(changed) > 0 {
		return c, errUsage{fmt.Errorf("%s cannot change when resuming (%s): the run's settings are the checkpoint's; only -epochs, -out, -metrics, -plot, -json, -quiet, -workers, -patience and -mpi-overlap may differ. To train on from its weights with other settings or other data, start a new run: -init %s -out NEW.safetensors",
			strings.Join(changed, ", "), strings.Join(detail, "; "), ck.path)}
	}
	return c, nil
}

func orNone(s string) string {
	if s == "" {
		return `""`
	}
	return s
}

// setting is the value of flag name in c as it acts on the run: a
// dataset's path made absolute, an optimizer hyperparameter left out as
// the optimizer's default, -test as the fraction it holds out.
func setting(c *Config, name string) string {
	cc := *c
	fs := flag.NewFlagSet("setting", flag.ContinueOnError)
	trainFlags(fs, &cc)
	f := fs.Lookup(name)
	if f == nil {
		return ""
	}
	v := f.Value.String()
	switch name {
	case "data":
		return absData(v)
	case "test":
		return strconv.FormatFloat(legacyTestFraction(c), 'g', -1, 64)
	case "lr", "momentum", "beta1", "beta2", "eps", "alpha", "weight-decay":
		if v != "" {
			return v
		}
		oc, err := optimizerConfig(c)
		if err != nil {
			return v
		}
		d := map[string]float64{"lr": oc.LR, "momentum": oc.Momentum, "beta1": oc.Beta1, "beta2": oc.Beta2, "eps": oc.Eps, "alpha": oc.Alpha, "weight-decay": oc.WeightDecay}[name]
		return strconv.FormatFloat(d, 'g', -1, 64)
	}
	return v
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

// cmdTrain is "ptrain train".
func cmdTrain(ctx context.Context, args []string, stderr io.Writer) error {
	c, ck, err := parseTrainConfig(args, stderr)
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
	if ck != nil && c.Epochs <= ck.progress.Epoch {
		if world.Rank() == 0 {
			fmt.Fprintf(stderr, "ptrain: %s has trained %d epochs, -epochs is %d: nothing to do (give a larger -epochs to train on); nothing written\n", ck.path, ck.progress.Epoch, c.Epochs)
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
	err = run(ctx, c, ck, world)
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
	fmt.Fprintf(stderr, "ptrain train: rank %d: %v\n", world.Rank(), err)
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
// against the data.
func buildSpec(c *Config, ds *data.Dataset) (model.Spec, error) {
	arch := c.Arch
	if arch == "" && c.Init != "" {
		// -init from a file that says its architecture: that one, as
		// -resume does; a file of bare tensors needs -arch.
		if f, err := safetensors.ReadFile(c.Init); err == nil {
			arch = f.Metadata[model.MetaArch]
		}
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

func train[T num.Float](ctx context.Context, c Config, ck *checkpoint, world mpi.World) error {
	root := world.Rank() == 0
	if !root { // rank 0 alone prints and writes files
		c.Quiet, c.JSON, c.Metrics, c.Plot = true, false, "", ""
		warnings = io.Discard
	} else {
		outs, err := claimOutputs(&c, func(format string, args ...any) {
			if !c.Quiet {
				fmt.Fprintf(os.Stderr, format+"\n", args...)
			}
		})
		if err != nil {
			return err
		}
		defer outs.release()
	}
	sp, err := loadSplits(&c, ck)
	if err != nil {
		return err
	}
	if ck != nil && ck.transform.Scale != nil { // the checkpoint's statistics, exactly
		sp.setTransform(ck.transform)
	}
	sp.inputRange = data.InputRange(sp.train, inputRangeRows)
	if root && c.Batch > sp.train.N {
		warnf("-batch %d is larger than the %d training samples: each epoch is one step over all of them", c.Batch, sp.train.N)
	}
	if world.Size() > 1 {
		if err := agreeOnRun(world, &c, sp); err != nil {
			return err
		}
	}
	var m *model.Model[T]
	initNote := "" // what -init loaded, said with the run's first lines
	if ck != nil {
		if m, err = loadModel[T](ck); err != nil {
			return err
		}
	} else {
		spec, err := buildSpec(&c, sp.train)
		if err != nil {
			return err
		}
		if root {
			if err := checkReplace(&c, spec, sp.train); err != nil {
				return err
			}
		}
		if m, err = model.NewZero[T](spec); err != nil {
			return fmt.Errorf("-arch: %w", err)
		}
		if c.Init != "" {
			if initNote, err = initFrom(m, c.Init); err != nil {
				return err
			}
		} else {
			scheme, err := model.ParseInit(c.WeightInit)
			if err != nil {
				return fmt.Errorf("-weight-init: %w", err)
			}
			_ = m.Initialize(c.Seed, scheme)
		}
	}
	if err := ck.checkTask(sp.train); err != nil {
		return err
	}
	if ck != nil && root {
		ck.warnUnrecorded(sp, &c)
		ck.warnInputRange(sp.train, "-data")
	}
	if err := checkImageShape(m.Spec, sp); err != nil {
		return err
	}
	aug, err := imageAugment(&c, m.Spec)
	if err != nil {
		return err
	}
	if err := sp.train.TargetWidth(m.Spec.Outputs()); err != nil {
		return err
	}
	loss := model.DefaultLoss(m.Spec)
	if c.Loss != "" {
		if loss, err = model.ParseLoss(c.Loss); err != nil {
			return fmt.Errorf("-loss: %w", err)
		}
	}
	if err := model.CheckLoss(loss, m.Spec); err != nil {
		return errUsage{fmt.Errorf("-loss: %w", err)}
	}
	if out := m.Spec.Layers[len(m.Spec.Layers)-1].Act.Kind; c.Loss == "" && loss == model.MSE && sp.train.Task == data.Classification && len(sp.train.Classes) > 2 {
		// A PyTorch user's CrossEntropyLoss on a linear output is this
		// model with :softmax; ptrain fuses the two.
		warnf("the output layer's activation is %v, so %d classes are trained with MSE; end -arch with :softmax for cross-entropy (PyTorch's CrossEntropyLoss on logits)", out, len(sp.train.Classes))
	}
	oc, err := optimizerConfig(&c)
	if err != nil {
		return err
	}
	opt, start, err := startFrom(ck, oc, m)
	if err != nil {
		return err
	}
	sched, err := optim.ParseSchedule(c.Schedule, c.Epochs)
	if err != nil {
		return fmt.Errorf("-schedule: %w", err)
	}
	sched.Warmup = c.Warmup
	var group parallel.Group
	if world.Size() > 1 {
		group = world
	}
	tr, err := parallel.New(m, opt, parallel.Config{Workers: c.Workers, BatchSize: sp.batchRows(c.Batch), Loss: loss, Seed: c.Seed,
		ClipNorm: c.ClipNorm, ClipValue: c.ClipValue, L1: c.L1, Schedule: sched, Group: group, Overlap: c.MPIOverlap})
	if err != nil {
		return err
	}
	resumed, past := -1, []epochRow(nil)
	if ck != nil {
		if err := checkResumeProgress(ck, start, tr.StepsPerEpoch(sp.train, c.Accum), sp.train.N, opt.Steps()); err != nil {
			return err
		}
		resumed, past = start.Epoch, ck.history
	}
	rep, err := newReporter(&c, c.Epochs, resumed, past, lossUnits(sp))
	if err != nil {
		return err
	}
	defer rep.close()
	if c.L1 > 0 {
		rep.penalty = func() float64 { return l1Penalty(m, c.L1) }
	}
	what := "training"
	if ck != nil {
		what = fmt.Sprintf("resuming %s at epoch %d, step %d:", ck.path, start.Epoch+1, start.Batch)
	}
	if initNote != "" {
		rep.say("%s", initNote)
	}
	rep.say("ptrain: %s %s (%d parameters, %s, %v loss) on %s", what, m.Spec, len(m.Params), c.DType, loss, sp.describe())
	if c.Arch == "" && ck == nil && sp.shape != nil && m.Spec.Shape == nil {
		rep.say("ptrain: the images are %s: the default model is an MLP on their %d values; for a CNN give -arch %s-conv(…)…", shapeString(sp.shape), sp.train.Features, shapeString(sp.shape))
	}
	if world.Size() > 1 {
		rep.say("ptrain: MPI: %d ranks × %d workers, global batch %d×%d (each rank trains on its share)", world.Size(), tr.Workers(), c.Batch, c.Accum)
		if runtime.GOMAXPROCS(0) == 1 {
			fmt.Fprintln(os.Stderr, "ptrain: warning: GOMAXPROCS is 1 — the launcher bound this rank to one core; start it with mpirun --bind-to none")
		}
	}
	rep.say("ptrain: %d workers, batch %d×%d, %s, %s; BLAS %s", tr.Workers(), c.Batch, c.Accum, describeOptimizer(oc), epochCount(c.Epochs), num.Backend())
	if s := describeTargets(sp); s != "" {
		rep.say("%s", s)
	}

	watch := health.NewWatch(rep.warning)
	if ck != nil {
		if err := ck.restoreHealth(watch); err != nil {
			return err
		}
	}
	save := func(p parallel.Progress) error {
		if !root {
			return nil
		}
		if err := saveCheckpoint(c.Out, m, opt, c, p, sp, rep.history, watch); err != nil {
			return err
		}
		savedCheckpoint(c.Out, p.Epoch, p.Batch)
		return nil
	}
	fitStart := time.Now()
	res, err := tr.Fit(ctx, sp.train, sp.val, watch.Hooks(parallel.FitConfig{
		Epochs: c.Epochs, Accum: c.Accum, Shuffle: c.Shuffle, Seed: c.Seed, Patience: c.Patience, RestoreBest: c.Patience > 0,
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
		if serr := save(p); serr != nil {
			return fmt.Errorf("interrupted, and the checkpoint could not be written: %w", serr)
		}
		if !root {
			return errInterrupted{"interrupted"}
		}
		// Said now, not on the way out: under mpirun, SIGKILL follows the
		// SIGTERM within a second (odls_base_sigkill_timeout), and MPI's
		// finalize may not end before it.
		fmt.Fprintf(os.Stderr, "ptrain: interrupted at epoch %d, step %d of it; checkpoint written to %s\nresume with: %s\n", p.Epoch+1, p.Batch, c.Out, resumeCommand(c.Out, world.Size()))
		return errQuiet{errInterrupted{"interrupted"}}
	}
	if err != nil {
		var nf *parallel.NonFiniteError
		if errors.As(err, &nf) {
			rep.unreported() // the exploding-gradient diagnosis of the stop
			if _, serr := os.Stat(c.Out); serr == nil && root {
				return fmt.Errorf("%w (lower -lr, or use -clip-norm); the last good checkpoint is %s", err, c.Out)
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
	final := map[string]any{"event": "final", "epochs": res.Epoch, "elapsed_s": time.Since(fitStart).Seconds(), "checkpoint": c.Out, "loss_units": rep.lossUnits}
	if sp.test != nil {
		mt, err := tr.Evaluate(context.WithoutCancel(ctx), sp.test)
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
