package parallel

import (
	"fmt"

	"github.com/ptrain/ptrain/internal/trainhook"
)

// The benchmarks in bench/ time the reduction phase alone, and a serial
// reference over the same buffers; neither is part of the Session's API,
// so they reach them through internal/trainhook.
func init() {
	trainhook.AllReduce = func(session any) error {
		switch s := session.(type) {
		case *Session[float32]:
			return s.allReduce()
		case *Session[float64]:
			return s.allReduce()
		}
		panic(fmt.Sprintf("trainhook.AllReduce: %T is not a *parallel.Session", session))
	}
	trainhook.Grads = func(session any) any {
		switch s := session.(type) {
		case *Session[float32]:
			return s.grads()
		case *Session[float64]:
			return s.grads()
		}
		panic(fmt.Sprintf("trainhook.Grads: %T is not a *parallel.Session", session))
	}
	trainhook.Timeline = func(session any, n int) func() []trainhook.PhaseTiming {
		switch s := session.(type) {
		case *Session[float32]:
			return s.timeline(n)
		case *Session[float64]:
			return s.timeline(n)
		}
		panic(fmt.Sprintf("trainhook.Timeline: %T is not a *parallel.Session", session))
	}
}
