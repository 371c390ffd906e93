package model

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ParseSpec reads an architecture written as parts joined by '-': the
// input, then one part per layer, each optionally followed by ":ACT" and
// ":dropout=P".
//
//	input:   IN (a flat input of IN values) or CxHxW (an image, e.g. 1x28x28)
//	dense:   UNITS
//	conv:    conv(OUT,K[,stride=S][,pad=P])
//	pools:   maxpool(K[,stride=S]), avgpool(K[,stride=S]) (stride defaults to K)
//	others:  bn, flatten, gap (global average pooling: C×H×W to C)
//	blocks:  res(BODY) or res(BODY|SHORTCUT), BODY and SHORTCUT stacks of
//	         parts joined by '-' (blocks included): y = BODY(x) + x, or
//	         BODY(x) + SHORTCUT(x); the block's ":ACT" and ":dropout=P"
//	         apply after the sum
//
// for example "784-256:relu-128:relu-10:softmax",
// "1x28x28-conv(32,3,pad=1)-bn:relu-maxpool(2)-flatten-10:softmax" or
// "1x28x28-conv(16,3,pad=1)-bn:relu-res(conv(16,3,pad=1)-bn:relu-conv(16,3,pad=1)-bn):relu-gap-10:softmax".
// A layer with no activation is linear (identity). Every malformed spec is an
// error that says which part is wrong, and a layer whose input has the
// wrong shape names the shapes.
func ParseSpec(s string) (Spec, error) {
	fail := func(i int, part, format string, args ...any) (Spec, error) {
		return Spec{}, fmt.Errorf("model spec %q: part %d %q: %s", s, i+1, part, fmt.Sprintf(format, args...))
	}
	parts := splitTop(strings.TrimSpace(s), '-')
	if len(parts) < 2 {
		return Spec{}, fmt.Errorf("model spec %q: want INPUTS-UNITS[:ACT]-..., e.g. 784-256:relu-10:softmax", s)
	}
	var sp Spec
	for i, part := range parts {
		if i > 0 {
			l, err := parsePart(part)
			if err != nil {
				return fail(i, part, "%v", err)
			}
			sp.Layers = append(sp.Layers, l)
			continue
		}
		fields := strings.Split(part, ":")
		head := strings.ToLower(strings.TrimSpace(fields[0]))
		if len(fields) > 1 {
			return fail(i, part, "the input width takes no activation")
		}
		if dims := strings.Split(head, "x"); len(dims) == 3 {
			sp.Shape = make([]int, 3)
			for d, v := range dims {
				n, err := strconv.Atoi(v)
				if err != nil || n <= 0 || n > MaxWidth {
					return fail(i, part, "an input shape is CxHxW with each size an integer in [1, %d]", MaxWidth)
				}
				sp.Shape[d] = n
			}
			if sp.Inputs = shapeSize(sp.Shape); sp.Inputs > MaxWidth {
				return fail(i, part, "%d input values is more than %d", sp.Inputs, MaxWidth)
			}
			continue
		}
		n, err := strconv.Atoi(head)
		if err != nil || n <= 0 || n > MaxWidth {
			return fail(i, part, "width must be an integer in [1, %d]", MaxWidth)
		}
		sp.Inputs = n
	}
	if _, err := sp.Layout(); err != nil {
		var le *LayerError
		if errors.As(err, &le) {
			return fail(le.Layer+1, parts[le.Layer+1], "%s", le.Msg)
		}
	}
	if err := sp.Validate(); err != nil {
		return Spec{}, fmt.Errorf("model spec %q: %w", s, err)
	}
	return sp, nil
}

// parsePart reads one layer: its kind and size, then optionally ":ACT"
// and ":dropout=P".
func parsePart(part string) (LayerSpec, error) {
	fields := splitTop(part, ':')
	l, err := parseLayer(strings.ToLower(strings.TrimSpace(fields[0])))
	if err != nil {
		return LayerSpec{}, err
	}
	seenAct := false
	for _, f := range fields[1:] {
		if p, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(f)), "dropout="); ok {
			d, err := strconv.ParseFloat(p, 64)
			if err != nil || !(d >= 0 && d < 1) {
				return LayerSpec{}, fmt.Errorf("dropout must be a number in [0, 1)")
			}
			l.Dropout = d
			continue
		}
		if seenAct {
			return LayerSpec{}, fmt.Errorf("more than one activation")
		}
		a, err := ParseActivation(f)
		if err != nil {
			return LayerSpec{}, err
		}
		l.Act, seenAct = a, true
	}
	return l, nil
}

// splitTop splits s at each sep outside parentheses, so that the parts of
// a block's stacks stay inside it. Unbalanced parentheses are left for
// the part that holds them to report.
func splitTop(s string, sep byte) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		case sep:
			if depth <= 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}

// parseRes reads the inside of res(BODY) or res(BODY|SHORTCUT), args
// being what follows "res(".
func parseRes(args string, hasArgs bool) (LayerSpec, error) {
	const usage = "want res(BODY) or res(BODY|SHORTCUT), each a stack of parts joined by '-', e.g. res(conv(16,3,pad=1)-bn:relu-conv(16,3,pad=1)-bn)"
	inner, ok := strings.CutSuffix(args, ")")
	if !hasArgs || !ok || strings.TrimSpace(inner) == "" {
		return LayerSpec{}, errors.New(usage)
	}
	branches := splitTop(inner, '|')
	if len(branches) > 2 {
		return LayerSpec{}, fmt.Errorf("%d branches: %s", len(branches), usage)
	}
	l := LayerSpec{Kind: KindRes}
	for b, br := range branches {
		name := [...]string{"body", "shortcut"}[b]
		parts := splitTop(br, '-')
		var stack []LayerSpec
		for j, p := range parts {
			x, err := parsePart(p)
			if err != nil {
				return LayerSpec{}, fmt.Errorf("%s part %d %q: %v", name, j+1, p, err)
			}
			stack = append(stack, x)
		}
		if b == 0 {
			l.Body = stack
		} else {
			l.Shortcut = stack
		}
	}
	return l, nil
}

// parseLayer reads the part of a layer before its activation: a width
// (dense), a residual block, or a kind of the kind table with its
// arguments.
func parseLayer(head string) (LayerSpec, error) {
	name, args, hasArgs := strings.Cut(head, "(")
	if name == "res" {
		return parseRes(args, hasArgs)
	}
	if k, ok := kindNamed(name); ok && kinds[k].parse != nil {
		return kinds[k].parse(args, hasArgs)
	}
	n, err := strconv.Atoi(head)
	if err != nil || n <= 0 || n > MaxWidth {
		if err != nil && strings.Trim(head, "0123456789+") != "" {
			return LayerSpec{}, fmt.Errorf("want %s", kindUsages())
		}
		return LayerSpec{}, fmt.Errorf("width must be an integer in [1, %d]", MaxWidth)
	}
	return LayerSpec{Units: n}, nil
}
