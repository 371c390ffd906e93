package main

import (
	"encoding/json"
	"fmt"

	ckpt "github.com/ptrain/ptrain/checkpoint"
	"github.com/ptrain/ptrain/parallel/health"
)

// metaHealth is the run-health monitor's state at the checkpoint's
// progress (health.Watch's JSON): restored on -resume, the monitor raises
// nothing a second time, and the epoch in progress reports the warnings
// raised before the interruption, so the -metrics warnings column is the
// uninterrupted run's. Older checkpoints have none: their resumed run's
// monitor starts afresh.
const metaHealth = "ptrain.health"

// healthState is w's state for the checkpoint's metadata.
func healthState(w *health.Watch) string {
	b, _ := json.Marshal(w) // a Watch's state always marshals
	return string(b)
}

// checkHealth checks the checkpoint's monitor state, if it has one.
func (ck *checkpoint) checkHealth() error { return ck.restoreHealth(health.NewWatch(nil)) }

// restoreHealth sets w to the checkpoint's monitor state; without one, w
// is left as it is.
func (ck *checkpoint) restoreHealth(w *health.Watch) error {
	s, ok := ck.file.Metadata[metaHealth]
	if !ok {
		return nil
	}
	if len(s) > ckpt.MaxMeta {
		return fmt.Errorf("metadata %q is %d bytes, more than the limit of %d (checkpoint.MaxMeta)", metaHealth, len(s), ckpt.MaxMeta)
	}
	if err := json.Unmarshal([]byte(s), w); err != nil {
		return fmt.Errorf("metadata %q: %w", metaHealth, err)
	}
	return nil
}
