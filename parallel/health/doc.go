// Package health diagnoses a training run of package parallel from the
// figures it reports — each step's parallel.StepResult and each epoch's
// parallel.EpochInfo — and raises a Warning, with evidence and advice,
// for vanishing or exploding gradients, dead ReLU units, saturated
// sigmoid/tanh units and a learning rate far off (see the Warn* codes and
// the thresholds, measured on the digits, MNIST and iris).
//
// The monitor only reads: it never changes a run. Watch attaches one to
// a Fit through FitConfig's OnStep and OnEpoch hooks; a program that
// drives parallel.Session itself feeds a Monitor directly.
//
//	w := health.NewWatch(func(x health.Warning) { log.Println(x.Code, x.Message) })
//	res, err := tr.Fit(ctx, train, val, w.Hooks(parallel.FitConfig{Epochs: 10}))
//	w.Stopped(err) // explains a non-finite stop
//
// A run resumed from a checkpoint resumes its diagnosis too when the
// checkpoint carries the Watch's state (MarshalJSON, restored by
// UnmarshalJSON into the new run's Watch): nothing raised before the
// interruption is raised again, and the epoch in progress reports the
// warnings raised before it.
package health
