package parallel

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/optim"
)

// Progress is where a Fit stands, and where a resumed Fit starts: Fit reads
// it from FitConfig.Start and keeps Trainer.Progress current after every
// step, so a checkpoint written from a hook — or after cancellation —
// resumes exactly.
type Progress struct {
	Epoch       int     // epochs completed
	Batch       int     // optimizer steps completed in the current epoch
	BestValLoss float64 // best validation loss so far; meaningful only when BestEpoch > 0
	BestEpoch   int     // the epoch (1-based) that reached it; 0 before any validation
	BadEpochs   int     // epochs since it improved
	// Sums are the current epoch's running figures when Batch > 0 (nil
	// otherwise): Trainer.Progress fills them, FitConfig.Start takes them.
	Sums *EpochSums
}

// FitConfig configures Fit.
type FitConfig struct {
	Epochs int // total epochs; a resumed run continues up to this number
	// BatchSize is the rows of each micro-batch, counted over all ranks
	// with a Group (each rank trains on its share, each worker on its
	// share of that); the last of an epoch may be short. Validation runs
	// in batches of the same size.
	BatchSize   int
	Accum       int    // micro-batches per optimizer step (gradient accumulation); 0 means 1
	Shuffle     bool   // reshuffle every epoch; false keeps the dataset order
	Seed        uint64 // data order: epoch e is drawn from (Seed, e)
	Patience    int    // stop after this many epochs without a better validation loss; 0 never
	RestoreBest bool   // with Patience: end with the weights of the best epoch
	Start       Progress
	// StartForeign says that Start is the progress of another program's
	// run, whose data was split otherwise (a Go program's checkpoint
	// resumed by ptrain train, which holds out a validation split): its
	// epochs may have had another number of steps than train's, so the
	// optimizer's step count is only bounded (checkStart), not required
	// to be epochs × steps + batch.
	StartForeign bool
	// Augment, if not nil, transforms every training row as it is filled
	// (data.Augment: its draws are keyed by its own Seed, the epoch and
	// the sample).
	// Validation rows are never augmented.
	Augment *data.Augment
	// OnStep and OnEpoch are the hooks; a run-health monitor
	// (package parallel/health) attaches through them.
	OnStep  func(StepInfo) error  // after every optimizer step; an error stops Fit
	OnEpoch func(EpochInfo) error // after every epoch; an error stops Fit
}

// StepInfo is passed to FitConfig.OnStep.
type StepInfo struct {
	Epoch   int // 0-based
	Batch   int // optimizer steps done in this epoch
	Batches int // optimizer steps per epoch
	StepResult
}

// EpochInfo is passed to FitConfig.OnEpoch.
type EpochInfo struct {
	Epoch         int // 1-based
	TrainLoss     float64
	TrainAccuracy float64  // with dropout active, as measured during training
	Val           *Metrics // nil without a validation set
	Samples       int
	Elapsed       time.Duration // this epoch
	SamplesPerSec float64
	LR            float64 // of the epoch's last step
	Improved      bool    // the validation loss is the best so far
	// GradNorm and Layers summarise the steps' StepResult.GradNorm and
	// Layers over the epoch.
	GradNorm Summary
	Layers   []LayerSummary
}

// FitResult says how Fit ended.
type FitResult struct {
	Progress
	EarlyStopped bool
}

// StepsPerEpoch is the number of optimizer steps Fit takes per epoch of
// train: ⌈⌈N/BatchSize⌉/Accum⌉ (0 without a positive BatchSize).
func (c FitConfig) StepsPerEpoch(train *data.Dataset) int {
	if c.BatchSize < 1 {
		return 0
	}
	accum := max(c.Accum, 1)
	return ((train.N+c.BatchSize-1)/c.BatchSize + accum - 1) / accum
}

// checkStart refuses a start no run of steps optimizer steps per epoch
// could have reached: a batch beyond the epoch's steps, or, resuming, an
// optimizer that has taken other than epochs × steps + batch steps (zero
// steps is a new optimizer, for weights saved without its state; a Fit
// from the start may continue with an optimizer that trained before).
// A foreign start (FitConfig.StartForeign) was reached on other epochs:
// its optimizer may have taken any number of steps up to one a row, for
// every epoch begun, of a training split of up to twice rows.
func checkStart(p Progress, steps, rows int, optSteps int64, foreign bool) error {
	if p.Epoch == 0 && p.Batch == 0 {
		return nil
	}
	if p.Batch > steps {
		return fmt.Errorf("start at step %d of an epoch of %d steps: the progress is not of this data, batch size and accumulation", p.Batch, steps)
	}
	if p.Epoch > math.MaxInt32 {
		return fmt.Errorf("start at epoch %d: beyond any run", p.Epoch)
	}
	if limit := (int64(p.Epoch) + 1) * 2 * int64(max(rows, 1)); foreign && optSteps > limit {
		return fmt.Errorf("the optimizer has taken %d steps, more than one a row of up to %d rows for each of %d epochs", optSteps, 2*max(rows, 1), p.Epoch+1)
	}
	if want := int64(p.Epoch)*int64(steps) + int64(p.Batch); !foreign && optSteps != 0 && optSteps != want {
		return fmt.Errorf("the optimizer has taken %d steps, but epoch %d and step %d of epochs of %d steps make %d", optSteps, p.Epoch, p.Batch, steps, want)
	}
	return nil
}

// Progress returns the position of the last Fit, with the epoch's running
// sums when it stands inside an epoch.
func (t *Trainer[T]) Progress() Progress {
	p := t.progress
	p.Sums = nil
	if p.Batch > 0 && t.sums != nil {
		p.Sums = t.sums()
	}
	return p
}

// Fit trains on train for cfg.Epochs epochs in batches of cfg.BatchSize,
// evaluating on val (which may be nil) after every epoch. It stops early
// when the context ends (returning ctx.Err() after the step in flight), on a
// non-finite loss or gradient (a *NonFiniteError, weights untouched by that
// step), when a hook returns an error, or by early stopping.
func (t *Trainer[T]) Fit(ctx context.Context, train, val *data.Dataset, cfg FitConfig) (FitResult, error) {
	accum := max(cfg.Accum, 1)
	if t.opt == nil {
		return FitResult{}, ErrNoOptimizer
	}
	if err := train.Fits(t.inputs, t.outputs); err != nil {
		return FitResult{}, err
	}
	if cfg.BatchSize < 1 {
		return FitResult{}, fmt.Errorf("FitConfig.BatchSize %d: must be positive", cfg.BatchSize)
	}
	b, err := data.NewBatcher[T](train, cfg.BatchSize, t.outputs, cfg.Shuffle, cfg.Seed)
	if err != nil {
		return FitResult{}, err
	}
	if val != nil {
		if err := val.Fits(t.inputs, t.outputs); err != nil {
			return FitResult{}, err
		}
	}
	if cfg.Augment != nil {
		if err := cfg.Augment.Check(train); err != nil {
			return FitResult{}, err
		}
	}
	if cfg.Epochs < 0 || cfg.Start.Epoch < 0 || cfg.Start.Batch < 0 {
		return FitResult{}, fmt.Errorf("epochs %d, start %+v: must be ≥ 0", cfg.Epochs, cfg.Start)
	}
	steps := (b.Batches() + accum - 1) / accum
	if err := checkStart(cfg.Start, steps, train.N, t.opt.Steps(), cfg.StartForeign); err != nil {
		return FitResult{}, err
	}
	if sc := t.opt.Config().Schedule; sc.Kind != optim.Constant && sc.StepsPerEpoch != steps {
		return FitResult{}, fmt.Errorf("the optimizer's %v schedule counts %d steps an epoch, this Fit takes %d (set its StepsPerEpoch to FitConfig.StepsPerEpoch)", sc.Kind, sc.StepsPerEpoch, steps)
	}
	if s := cfg.Start.Sums; s != nil && cfg.Start.Batch > 0 {
		if err := s.check(); err != nil {
			return FitResult{}, err
		}
	}
	t.progress = cfg.Start
	t.sums = nil // set for each epoch; kept after Fit returns, for Progress
	var best, bestBuf []T
	if cfg.RestoreBest && cfg.Patience > 0 && val != nil {
		best, bestBuf = slices.Clone(t.m.Params), slices.Clone(t.m.Buffers)
	}
	res := FitResult{}
	micro := make([][]int, 0, accum)
	var es EpochStats
	err = t.Run(ctx, func(s *Session[T]) error {
		if t.distributed() { // every rank starts from rank 0's state
			if err := t.Broadcast(); err != nil {
				return err
			}
			p := &t.progress
			v := []float64{float64(p.Epoch), float64(p.Batch), p.BestValLoss, float64(p.BestEpoch), float64(p.BadEpochs)}
			if err := t.cfg.Group.Broadcast64(v, 0); err != nil {
				return err
			}
			*p = Progress{Epoch: int(v[0]), Batch: int(v[1]), BestValLoss: v[2], BestEpoch: int(v[3]), BadEpochs: int(v[4]), Sums: p.Sums} // the sums only report
		}
		for t.progress.Epoch < cfg.Epochs {
			e := t.progress.Epoch
			b.Epoch(e)
			b.Skip(t.progress.Batch * accum)
			s.Augment(cfg.Augment, e)
			start := time.Now()
			var lossSum float64
			var correct int64
			samples := 0
			var lr float64
			if s := t.progress.Sums; s != nil && t.progress.Batch > 0 { // resumed inside this epoch
				lossSum, correct, samples, lr = s.Loss, s.Correct, s.Samples, s.LR
				es.restore(s.Layers, s.Stats)
			}
			t.progress.Sums = nil
			t.sums = func() *EpochSums {
				layers, st := es.state()
				return &EpochSums{Loss: lossSum, Correct: correct, Samples: samples, LR: lr, Layers: layers, Stats: st}
			}
			for t.progress.Batch < steps {
				micro = micro[:0]
				for len(micro) < accum {
					idx := b.NextIndices()
					if idx == nil {
						break
					}
					micro = append(micro, idx)
				}
				sr, err := s.StepIndices(train, micro...)
				if err != nil {
					return err
				}
				t.progress.Batch++
				lossSum += sr.Loss * float64(sr.Samples)
				correct += sr.Correct
				samples += sr.Samples
				lr = sr.LR
				es.Add(&sr)
				if cfg.OnStep != nil {
					if err := cfg.OnStep(StepInfo{Epoch: e, Batch: t.progress.Batch, Batches: steps, StepResult: sr}); err != nil {
						return err
					}
				}
			}
			elapsed := time.Since(start)
			info := EpochInfo{Epoch: e + 1, Samples: samples, Elapsed: elapsed, LR: lr,
				TrainLoss: math.NaN(), TrainAccuracy: math.NaN()}
			if samples > 0 { // a resumed run may start at an epoch's end
				info.TrainLoss = lossSum / float64(samples)
				info.SamplesPerSec = float64(samples) / elapsed.Seconds()
				if train.Task == data.Classification {
					info.TrainAccuracy = float64(correct) / float64(samples)
				}
			}
			if val != nil {
				m, err := s.Evaluate(val, cfg.BatchSize)
				if err != nil {
					return err
				}
				info.Val = &m
				if t.progress.BestEpoch == 0 || m.Loss < t.progress.BestValLoss {
					t.progress.BestValLoss, t.progress.BestEpoch, t.progress.BadEpochs = m.Loss, e+1, 0
					info.Improved = true
					if best != nil {
						copy(best, t.m.Params)
						copy(bestBuf, t.m.Buffers)
					}
				} else {
					t.progress.BadEpochs++
				}
			}
			t.progress.Epoch, t.progress.Batch = e+1, 0
			if err := t.Broadcast(); err != nil { // no last-bit drift between ranks
				return err
			}
			info.GradNorm, info.Layers = es.Done()
			if cfg.OnEpoch != nil {
				if err := cfg.OnEpoch(info); err != nil {
					return err
				}
			}
			if cfg.Patience > 0 && val != nil && t.progress.BadEpochs >= cfg.Patience {
				res.EarlyStopped = true
				if best != nil {
					copy(t.m.Params, best)
					copy(t.m.Buffers, bestBuf)
				}
				return nil
			}
		}
		return nil
	})
	res.Progress = t.Progress()
	return res, err
}
