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

func (Local) Rank() int                        { return 0 }
func (Local) Size() int                        { return 1 }
func (Local) AllReduce32([]float32) error      { return nil }
func (Local) AllReduce64([]float64) error      { return nil }
func (Local) Broadcast32([]float32, int) error { return nil }
func (Local) Broadcast64([]float64, int) error { return nil }
func (Local) Barrier() error                   { return nil }
func (Local) Abort(code int)                   { os.Exit(code) }
func (Local) Close() error                     { return nil }
