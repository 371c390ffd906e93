//go:build mpi

package mpi

/*
#cgo !mpich pkg-config: ompi-c
#cgo mpich pkg-config: mpich
#include <mpi.h>
#include <stdlib.h>

// MPI_COMM_WORLD, MPI_FLOAT and friends are library globals (Open MPI) or
// macros: reach them through these helpers only.
static int pt_init(int *provided) {
	int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, provided);
	if (rc != MPI_SUCCESS) return rc;
	return MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}
static int pt_rank(int *r) { return MPI_Comm_rank(MPI_COMM_WORLD, r); }
static int pt_size(int *s) { return MPI_Comm_size(MPI_COMM_WORLD, s); }
static int pt_allreduce(void *buf, int n, int f64) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, f64 ? MPI_DOUBLE : MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}
static int pt_bcast(void *buf, int n, int f64, int root) {
	return MPI_Bcast(buf, n, f64 ? MPI_DOUBLE : MPI_FLOAT, root, MPI_COMM_WORLD);
}
static int pt_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static int pt_abort(int code) { return MPI_Abort(MPI_COMM_WORLD, code); }
static int pt_finalize(void) { return MPI_Finalize(); }
static void pt_error(int rc, char *buf, int *len) { MPI_Error_string(rc, buf, len); }
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"
)

// Available reports whether this binary was built with MPI support.
const Available = true

// world is the real MPI world. calls carries work to the one goroutine
// that may call MPI (MPI_THREAD_FUNNELED).
type world struct {
	rank, size int
	calls      chan func()
	closed     bool
}

// Init initialises MPI on a goroutine locked to its thread for life and
// returns the world. It fails if MPI cannot give MPI_THREAD_FUNNELED, or if
// the world's size disagrees with the launcher's.
func Init() (World, error) {
	w := &world{calls: make(chan func())}
	ready := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: MPI lives on this thread
		var provided C.int
		if rc := C.pt_init(&provided); rc != 0 {
			ready <- mpiErr("MPI_Init_thread", rc)
			return
		}
		if provided < C.MPI_THREAD_FUNNELED {
			ready <- errors.New("mpi: the MPI library does not provide MPI_THREAD_FUNNELED")
			return
		}
		var r, s C.int
		if rc := C.pt_rank(&r); rc != 0 {
			ready <- mpiErr("MPI_Comm_rank", rc)
			return
		}
		if rc := C.pt_size(&s); rc != 0 {
			ready <- mpiErr("MPI_Comm_size", rc)
			return
		}
		w.rank, w.size = int(r), int(s)
		ready <- nil
		for f := range w.calls {
			f()
		}
	}()
	if err := <-ready; err != nil {
		return nil, err
	}
	if err := checkSize(w.size); err != nil {
		// Every process sees a world of its own here, so each one says why
		// and stops; there is no job-wide abort to make.
		_ = w.Close()
		return nil, err
	}
	return w, nil
}

// checkSize fails loudly when the world MPI reports disagrees with the
// launcher's environment — a binary linked against one MPI and started by
// another's mpirun silently runs N separate rank-0-of-1 processes.
func checkSize(size int) error {
	if n := LaunchedSize(); n > 0 && n != size {
		return fmt.Errorf("mpi: the launcher started %d ranks but MPI reports a world of %d: this binary was built against a different MPI than the mpirun that started it", n, size)
	}
	return nil
}

// chunk is the largest count passed to one MPI call: counts are C ints.
const chunk = 1 << 30

func mpiErr(what string, rc C.int) error {
	buf := make([]byte, C.MPI_MAX_ERROR_STRING)
	var n C.int
	C.pt_error(rc, (*C.char)(unsafe.Pointer(&buf[0])), &n)
	return fmt.Errorf("mpi: %s: %s", what, string(buf[:n]))
}

// do runs f on the MPI goroutine and waits for it.
func (w *world) do(f func() C.int) C.int {
	if w.closed {
		panic("mpi: call after Close")
	}
	done := make(chan C.int)
	w.calls <- func() { done <- f() }
	return <-done
}

func (w *world) Rank() int { return w.rank }
func (w *world) Size() int { return w.size }

// reduce runs op over buf in chunks of at most 2^30 elements.
func reduce[E float32 | float64](w *world, what string, buf []E, op func(p unsafe.Pointer, n C.int, f64 C.int) C.int) error {
	var z E
	f64 := C.int(0)
	if unsafe.Sizeof(z) == 8 {
		f64 = 1
	}
	for lo := 0; lo < len(buf); lo += chunk {
		part := buf[lo:min(lo+chunk, len(buf))]
		if rc := w.do(func() C.int { return op(unsafe.Pointer(&part[0]), C.int(len(part)), f64) }); rc != 0 {
			return mpiErr(what, rc)
		}
	}
	return nil
}

func allreduce(p unsafe.Pointer, n, f64 C.int) C.int { return C.pt_allreduce(p, n, f64) }

func (w *world) AllReduce32(buf []float32) error { return reduce(w, "MPI_Allreduce", buf, allreduce) }
func (w *world) AllReduce64(buf []float64) error { return reduce(w, "MPI_Allreduce", buf, allreduce) }

func (w *world) Broadcast32(buf []float32, root int) error {
	return reduce(w, "MPI_Bcast", buf, func(p unsafe.Pointer, n, f64 C.int) C.int { return C.pt_bcast(p, n, f64, C.int(root)) })
}

func (w *world) Broadcast64(buf []float64, root int) error {
	return reduce(w, "MPI_Bcast", buf, func(p unsafe.Pointer, n, f64 C.int) C.int { return C.pt_bcast(p, n, f64, C.int(root)) })
}

func (w *world) Barrier() error {
	if rc := w.do(func() C.int { return C.pt_barrier() }); rc != 0 {
		return mpiErr("MPI_Barrier", rc)
	}
	return nil
}

// Abort ends every rank. It is called from any goroutine: MPI_Abort is
// made on the MPI thread when that thread is free, directly otherwise.
func (w *world) Abort(code int) {
	select {
	case w.calls <- func() { C.pt_abort(C.int(code)) }:
		select {} // MPI_Abort does not return
	default:
		C.pt_abort(C.int(code))
	}
	panic("unreachable")
}

func (w *world) Close() error {
	if w.closed {
		return nil
	}
	rc := w.do(func() C.int { return C.pt_finalize() })
	w.closed = true
	close(w.calls)
	if rc != 0 {
		return mpiErr("MPI_Finalize", rc)
	}
	return nil
}
