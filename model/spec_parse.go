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
//	others:  bn, flatten
//
// for example "784-256:relu-128:relu-10:softmax" or
// "1x28x28-conv(32,3,pad=1)-bn:relu-maxpool(2)-flatten-10:softmax". A layer
// with no activation is linear (identity). Every malformed spec is an
// error that says which part is wrong, and a layer whose input has the
// wrong shape names the shapes.
func ParseSpec(s string) (Spec, error) {
	fail := func(i int, part, format string, args ...any) (Spec, error) {
		return Spec{}, fmt.Errorf("model spec %q: part %d %q: %s", s, i+1, part, fmt.Sprintf(format, args...))
	}
	parts := strings.Split(strings.TrimSpace(s), "-")
	if len(parts) < 2 {
		return Spec{}, fmt.Errorf("model spec %q: want INPUTS-UNITS[:ACT]-..., e.g. 784-256:relu-10:softmax", s)
	}
	var sp Spec
	for i, part := range parts {
		fields := strings.Split(part, ":")
		head := strings.ToLower(strings.TrimSpace(fields[0]))
		if i == 0 {
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
			continue
		}
		l, err := parseLayer(head)
		if err != nil {
			return fail(i, part, "%v", err)
		}
		seenAct := false
		for _, f := range fields[1:] {
			if p, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(f)), "dropout="); ok {
				d, err := strconv.ParseFloat(p, 64)
				if err != nil || !(d >= 0 && d < 1) {
					return fail(i, part, "dropout must be a number in [0, 1)")
				}
				l.Dropout = d
				continue
			}
			if seenAct {
				return fail(i, part, "more than one activation")
			}
			a, err := ParseActivation(f)
			if err != nil {
				return fail(i, part, "%v", err)
			}
			l.Act, seenAct = a, true
		}
		sp.Layers = append(sp.Layers, l)
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

// parseLayer reads the part of a layer before its activation: a width
// (dense) or a kind of the kind table with its arguments.
func parseLayer(head string) (LayerSpec, error) {
	name, args, hasArgs := strings.Cut(head, "(")
	if k, ok := kindNamed(name); ok {
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
