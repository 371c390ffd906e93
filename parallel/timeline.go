package parallel

import (
	"time"

	"github.com/ptrain/ptrain/internal/trainhook"
)

// When and where a step's time goes between the workers — who ends each
// phase when — is what bench/README.md's account of the 2-worker step
// rests on; trainhook.Timeline records it for the benchmarks. Off (the
// default) it costs each phase one pointer test per worker.

// phaseLog is a Session's recording of dispatched phases.
type phaseLog struct {
	at   time.Time               // the current phase's dispatch
	recs []trainhook.PhaseTiming // len: recorded so far; cap: at most
}

// timeline starts recording the next n phases and returns the function
// that stops and returns them (see trainhook.Timeline).
func (s *Session[T]) timeline(n int) func() []trainhook.PhaseTiming {
	lg := &phaseLog{recs: make([]trainhook.PhaseTiming, 0, n)}
	ends := make([]time.Duration, n*s.t.cfg.Workers)
	for i := range n {
		lg.recs = append(lg.recs, trainhook.PhaseTiming{End: ends[i*s.t.cfg.Workers : (i+1)*s.t.cfg.Workers]})
	}
	lg.recs = lg.recs[:0]
	s.log = lg
	return func() []trainhook.PhaseTiming {
		s.log, s.rec = nil, nil
		return lg.recs
	}
}

// startRecord is the coordinator's, before it publishes phase p: the
// record the workers then fill (s.rec), or nil when not recording or full.
func (s *Session[T]) startRecord(p phase) {
	lg := s.log
	if lg == nil {
		return // and rec is nil: the hot path writes nothing the workers read
	}
	s.rec = nil
	if len(lg.recs) < cap(lg.recs) {
		lg.recs = lg.recs[:len(lg.recs)+1]
		s.rec = &lg.recs[len(lg.recs)-1]
		s.rec.Phase = int(p)
		lg.at = time.Now()
	}
}

// ended records that worker w has done its share of the current phase.
func (s *Session[T]) ended(w int) {
	if r := s.rec; r != nil {
		r.End[w] = time.Since(s.log.at)
	}
}
