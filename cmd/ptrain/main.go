// Command ptrain trains feed-forward neural networks by backpropagation,
// data-parallel across goroutines, and evaluates and applies them.
//
//	ptrain train      train a model and save a checkpoint
//	ptrain eval       loss, accuracy, confusion matrix (MSE, RMSE, MAE, R²) of a checkpoint on data
//	ptrain predict    predictions of a checkpoint for CSV rows, IDX images or image files
//	ptrain info       what a checkpoint (or any safetensors file, or an ONNX model) holds
//	ptrain export     a checkpoint as an ONNX model
//	ptrain version    version and BLAS backend
//
// Run "ptrain COMMAND -h" for each command's flags and examples.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/ptrain/ptrain/model/num"
	"github.com/ptrain/ptrain/parallel/mpi"
	"golang.org/x/term"
)

const version = "0.1.0"

const usage = `ptrain trains feed-forward neural networks, data-parallel across goroutines.

Usage:
  ptrain train   [flags]              train a model and save a checkpoint
  ptrain eval    -model CKPT [flags]  loss, accuracy, confusion matrix and per-class precision/recall;
                                      MSE, RMSE, MAE and R² for regression
  ptrain predict -model CKPT -input FILE [flags]
                                      predictions for CSV rows (- for stdin), IDX images, or image files
                                      (a file, a folder, - with one path a line), as CSV
  ptrain info    FILE                 architecture, parameters, training provenance; the tensors of
                                      any safetensors file; an ONNX model's inputs, outputs, operators
  ptrain export  -model CKPT -out MODEL.onnx
                                      the model as ONNX, for onnxruntime and other runtimes
  ptrain version                      version and the BLAS backend in use

Run "ptrain COMMAND -h" for the flags and examples of a command.
`

// errUsage marks a bad command line: exit status 2.
type errUsage struct{ error }

func (e errUsage) Unwrap() error { return e.error }

// errQuiet is a failure another process reports (MPI rank 0): exit
// status 1 without a message.
type errQuiet struct{ error }

func (e errQuiet) Unwrap() error { return e.error }

// errInterrupted is a run stopped by a signal after saving: exit status 130.
type errInterrupted struct{ msg string }

func (e errInterrupted) Error() string { return e.msg }

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// stdio is a command's standard input, output and error: the process's
// under main, buffers when a test runs a command in-process.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// run executes one command (args without the program name) with the given
// standard streams and returns its exit status, which main exits with.
// Every failure is one message on stderr; nothing panics to the user. A
// nil stdin is an empty one, as /dev/null would be.
//
// Calls must not overlap: the command resolves relative paths against the
// process's working directory, reads its environment, listens for
// interrupts (until run returns; a second interrupt, or the first outside
// train, exits the process with status 130), and warnf and predict's stdin
// are the process-wide warnings and stdin, which run points at stderr and
// stdin until it returns. The last checkpoint written (lastCheckpoint, for
// the MPI interrupt message) is this command's: run starts it at none.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) (status int) {
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	defer func(w io.Writer, r io.Reader) { warnings, predictStdin = w, r }(warnings, predictStdin)
	warnings, predictStdin = stderr, stdin
	lastCheckpoint.Store(nil)
	std := stdio{stdin, stdout, stderr}
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "ptrain: internal error: %v (please report it)\n", r)
			status = 3
		}
	}()
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := interruptContext(stderr, args[0])
	defer stop()
	var err error
	switch args[0] {
	case "train":
		err = cmdTrain(ctx, args[1:], std)
	case "eval", "evaluate":
		err = cmdEval(ctx, args[1:], std)
	case "predict":
		err = cmdPredict(ctx, args[1:], std)
	case "info":
		err = cmdInfo(args[1:], std)
	case "export":
		err = cmdExport(args[1:], std)
	case "version", "-version", "--version":
		mpiSupport := "no (build with -tags mpi)"
		if mpi.Available {
			mpiSupport = "yes"
		}
		fmt.Fprintf(stdout, "ptrain %s (%s, %s/%s), BLAS: %s, MPI: %s\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH, num.Backend(), mpiSupport)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "ptrain: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	var u errUsage
	var intr errInterrupted
	var quiet errQuiet
	switch {
	case err == nil:
		return 0
	case errors.As(err, &quiet):
		if errors.As(err, &intr) {
			return 130
		}
		return 1
	case errors.Is(err, errHelp):
		return 0
	case errors.As(err, &intr):
		fmt.Fprintf(stderr, "ptrain: %v\n", err)
		return 130
	case errors.As(err, &u):
		fmt.Fprintf(stderr, "ptrain %s: %v\n", args[0], err)
		return 2
	default:
		fmt.Fprintf(stderr, "ptrain %s: %v\n", args[0], err)
		return 1
	}
}

// interruptContext is cancelled by the first SIGINT or SIGTERM (or
// trainStopSignals) during training, so that the current step finishes
// and a checkpoint is written; a second signal exits at once. The other commands save no
// state, and may be blocked reading an endless input: the first signal
// ends them at once, with a partial output file removed.
func interruptContext(stderr io.Writer, command string) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	done := make(chan struct{})
	sigs := []os.Signal{os.Interrupt, syscall.SIGTERM}
	if command == "train" {
		sigs = append(sigs, trainStopSignals...)
	}
	signal.Notify(ch, sigs...)
	go func() {
		select {
		case <-ch:
		case <-done:
			return
		}
		if command != "train" {
			removeTemps()
			fmt.Fprintf(stderr, "\nptrain %s: interrupted\n", command)
			os.Exit(130)
		}
		switch {
		case launchedAsOtherRank(): // mpirun signals every rank: rank 0 speaks for them
		case mpi.LaunchedSize() > 1:
			fmt.Fprintln(stderr, mpiInterruptMessage())
		default:
			fmt.Fprintln(stderr, "\nptrain: stopping after the current step (interrupt again to quit at once)")
		}
		cancel()
		select {
		case <-ch:
			removeTemps() // of a write in progress; the previous file stays
			fmt.Fprintln(stderr, "ptrain: quit without writing a checkpoint")
			os.Exit(130)
		case <-done:
		}
	}()
	return ctx, func() { signal.Stop(ch); close(done); cancel() }
}

// warnings is run's stderr for what is said below a command's own
// streams: warnf's lines, a download's notices, the progress bar of
// reading a folder; io.Discard on MPI ranks other than 0 (which download
// nothing and are quiet).
var warnings io.Writer = os.Stderr

// isTerminal reports whether w is a terminal (for progress bars).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// warnf prints a warning: something accepted that may not do what was meant.
func warnf(format string, args ...any) {
	fmt.Fprintf(warnings, "ptrain: warning: "+format+"\n", args...)
}

// launchedAsOtherRank reports whether an MPI launcher started this process
// as a rank other than 0 (known before MPI is initialised, from the
// launcher's environment).
func launchedAsOtherRank() bool {
	for _, k := range []string{"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"} {
		if r, err := strconv.Atoi(os.Getenv(k)); err == nil {
			return r > 0
		}
	}
	return false
}

// errHelp is returned when -h was asked for: the usage was printed, exit 0.
var errHelp = flag.ErrHelp

// parseFlags parses args into fs, printing nothing but the help text for
// -h (on stdout): a bad flag becomes one errUsage line (the flag package would print
// the whole usage after it). Arguments other than flags are refused.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	return parseArgs(fs, args, "", stdout)
}

// parseArgs is parseFlags for a command that takes one argument after its
// flags (info takes the file), which arg describes; "" is none.
func parseArgs(fs *flag.FlagSet, args []string, arg string, stdout io.Writer) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fs.Usage()
		return errHelp
	}
	if err != nil {
		const undefined = "flag provided but not defined: -"
		if name, ok := strings.CutPrefix(err.Error(), undefined); ok {
			if s := suggestFlag(fs, strings.TrimLeft(name, "-")); s != "" {
				return errUsage{fmt.Errorf("%v: did you mean -%s? (see ptrain %s -h)", err, s, fs.Name())}
			}
		}
		return errUsage{fmt.Errorf("%v (see ptrain %s -h)", err, fs.Name())}
	}
	n := 0
	if arg != "" {
		n = 1
	}
	switch {
	case fs.NArg() > n:
		return errUsage{fmt.Errorf("unexpected argument %q (flags come as -name value, first; see ptrain %s -h)", fs.Arg(n), fs.Name())}
	case fs.NArg() < n:
		return errUsage{fmt.Errorf("want %s after the flags (see ptrain %s -h)", arg, fs.Name())}
	}
	return nil
}

func printJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}
