//go:build !mpi

package mpi

import (
	"fmt"
	"os"
)

// Init returns the stand-in world of one rank: this binary was built
// without -tags mpi. It fails if an MPI launcher started several ranks,
// since they would all train alone.
func Init() (World, error) {
	if n := LaunchedSize(); n > 1 {
		return nil, fmt.Errorf("mpi: started by an MPI launcher as one of %d ranks, but this binary was built without MPI support (build it with -tags mpi)", n)
	}
	return Local{}, nil
}

// Available reports whether this binary was built with MPI support.
const Available = false

// Local is a world of one rank: every collective is a no-op.
type Local struct{}

// Rank is 0, the only rank.
func (Local) Rank() int { return 0 }

// Size is 1.
func (Local) Size() int { return 1 }

// AllReduce32 leaves buf as it is: the sum over one rank.
func (Local) AllReduce32([]float32) error { return nil }

// AllReduce64 leaves buf as it is: the sum over one rank.
func (Local) AllReduce64([]float64) error { return nil }

// Broadcast32 leaves buf as it is: this rank is the root.
func (Local) Broadcast32([]float32, int) error { return nil }

// Broadcast64 leaves buf as it is: this rank is the root.
func (Local) Broadcast64([]float64, int) error { return nil }

// Barrier returns at once.
func (Local) Barrier() error { return nil }

// Abort exits the process with code.
func (Local) Abort(code int) { os.Exit(code) }

// Close does nothing.
func (Local) Close() error { return nil }
