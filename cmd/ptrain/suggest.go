package main

import (
	"flag"
	"strings"
)

// suggestFlag is the flag of fs that an unknown flag name most likely
// meant — one it is a prefix of (-epoch for -epochs), or one within two
// edits of it (one for names under 6 letters, none under 3: -optimiser,
// -bach) — or "" if none is close.
func suggestFlag(fs *flag.FlagSet, name string) string {
	allowed := 0 // edits a name of this length may be off by
	switch {
	case len(name) >= 6:
		allowed = 2
	case len(name) >= 3:
		allowed = 1
	}
	best, bestD := "", allowed+1
	fs.VisitAll(func(f *flag.Flag) {
		d := editDistance(name, f.Name)
		if strings.HasPrefix(f.Name, name) && len(name) >= 3 {
			d = min(d, 1)
		}
		if d < bestD || (d == bestD && f.Name < best) {
			best, bestD = f.Name, d
		}
	})
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
