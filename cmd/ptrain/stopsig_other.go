//go:build !unix

package main

import "os"

// trainStopSignals: no other signal than SIGINT and SIGTERM stops
// training where there is no SIGUSR1.
var trainStopSignals []os.Signal
