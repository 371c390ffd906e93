package model

import (
	"fmt"
	"math"
	"strings"

	"github.com/ptrain/ptrain/model/num"
)

// Loss is a training objective. Every loss is a mean, so the learning rate
// does not depend on the batch size: cross-entropy is averaged over the
// samples of the batch, MSE and binary cross-entropy over all elements (as
// PyTorch's reduction="mean" does). Besides the built-in losses below, a
// Loss can be one of your own, made by RegisterLoss.
//
// The zero value, LossAuto, is the loss that fits the model's output
// activation (DefaultLoss), so that a zero parallel.Config trains a softmax
// classifier with cross-entropy. Loss values are not persisted: checkpoints
// and the command line name losses by String.
type Loss int

// The losses.
const (
	// LossAuto stands for DefaultLoss of the model's spec: cross-entropy
	// under softmax, binary cross-entropy under sigmoid, MSE otherwise.
	// Resolve turns it into one of those.
	LossAuto Loss = iota
	// MSE is mean squared error, (1/(N·K)) Σ (a − y)², for any output
	// activation.
	MSE
	// BCE is binary cross-entropy computed from the logits z of a sigmoid
	// output layer: max(z,0) − z·y + log(1+e^−|z|), which never takes the log
	// of 0. Its gradient with respect to z is σ(z) − y.
	BCE
	// CrossEntropy is categorical cross-entropy fused with a softmax output:
	// −Σ_j y_j·log softmax(z)_j, with log-sum-exp shifted by max(z). Its
	// gradient with respect to z is p·Σy − y (p − y for one-hot y).
	CrossEntropy
)

var lossNames = [...]string{"auto", "mse", "bce", "crossentropy"}

// String returns the loss's name as ParseLoss reads it, or "Loss(n)" for a
// value outside the constants and the registered losses.
func (l Loss) String() string {
	if c, ok := lookupLoss(l); ok {
		return c.name
	}
	if l < 0 || int(l) >= len(lossNames) {
		return fmt.Sprintf("Loss(%d)", int(l))
	}
	return lossNames[l]
}

// ParseLoss reads a loss name: mse, bce, crossentropy (or ce), auto, or the
// name of a registered loss.
func ParseLoss(s string) (Loss, error) {
	if l, ok := lossNamed(s); ok {
		return l, nil
	}
	switch strings.ToLower(s) {
	case "auto":
		return LossAuto, nil
	case "mse":
		return MSE, nil
	case "bce", "binary-crossentropy":
		return BCE, nil
	case "crossentropy", "ce", "cross-entropy", "categorical-crossentropy":
		return CrossEntropy, nil
	}
	return 0, fmt.Errorf("unknown loss %q (want mse, bce or crossentropy)", s)
}

// Resolve is the loss l stands for in a model with spec s: DefaultLoss(s)
// for LossAuto, l itself otherwise.
func (l Loss) Resolve(s Spec) Loss {
	if l == LossAuto {
		return DefaultLoss(s)
	}
	return l
}

// DefaultLoss is the loss that goes with the spec's output activation:
// cross-entropy for softmax, binary cross-entropy for sigmoid, MSE otherwise.
func DefaultLoss(s Spec) Loss {
	switch s.Layers[len(s.Layers)-1].Act.Kind {
	case Softmax:
		return CrossEntropy
	case Sigmoid:
		return BCE
	}
	return MSE
}

// CheckLoss reports whether loss can train a model with spec s: the fused
// losses need their output activation. LossAuto and registered losses fit
// every spec.
func CheckLoss(loss Loss, s Spec) error {
	out := s.Layers[len(s.Layers)-1].Act.Kind
	if _, ok := lookupLoss(loss); ok {
		return nil
	}
	switch loss.Resolve(s) {
	case MSE:
		return nil
	case BCE:
		if out != Sigmoid {
			return fmt.Errorf("loss bce needs a sigmoid output layer, the model's is %v", out)
		}
		return nil
	case CrossEntropy:
		if out != Softmax {
			return fmt.Errorf("loss crossentropy needs a softmax output layer, the model's is %v", out)
		}
		if s.Outputs() < 2 {
			return fmt.Errorf("loss crossentropy needs at least 2 outputs, the model has %d", s.Outputs())
		}
		return nil
	}
	return fmt.Errorf("unknown loss %d", loss)
}

// lossRows computes the loss of n rows of width k. z holds the last layer's
// pre-activations and a its activations; y the targets; lse, for
// cross-entropy, each row's log Σ exp(z) as the softmax of Forward computed
// it. It adds to sum, element by element in row order, the terms whose
// total divided by lossDiv(loss, k) is the sum of the per-sample losses (a
// sample's loss is its mean over k for MSE and BCE, its sum for
// cross-entropy), and returns the new sum: rows added batch by batch then
// give the bits of one call over all of them. If dz is not nil it also
// writes dz = ∂L/∂z for L = (Σ per-sample losses)/denom. loss is resolved
// already (not LossAuto); row is scratch of 3k for a registered loss.
func lossRows[T num.Float](loss Loss, act Activation, z, a, y, dz []T, k int, denom float64, lse, row []float64, sum float64) float64 {
	if c, ok := lookupLoss(loss); ok {
		return customRows(c.f, act, a, y, dz, k, denom, row, sum)
	}
	switch loss {
	case MSE:
		// per sample: (1/k) Σ_j (a_j − y_j)²; ∂L/∂a_j = 2(a_j − y_j)/(k·denom)
		g := 2 / (float64(k) * denom)
		for i := range a {
			d := float64(a[i]) - float64(y[i])
			sum += d * d
			if dz != nil {
				dz[i] = T(g * d)
			}
		}
		if dz != nil {
			activationBackward(act, a, dz, k)
		}
	case BCE:
		g := 1 / (float64(k) * denom)
		for i := range z {
			zi, yi := float64(z[i]), float64(y[i])
			sum += max(zi, 0) - zi*yi + math.Log1p(math.Exp(-math.Abs(zi)))
			if dz != nil {
				dz[i] = T(g * (sigmoid(zi) - yi))
			}
		}
	case CrossEntropy:
		g := 1 / denom
		for r := 0; r < len(z); r += k {
			zr, yr, l := z[r:r+k], y[r:r+k], lse[r/k]
			var ysum float64
			for j, v := range zr {
				yj := float64(yr[j])
				if yj != 0 {
					sum -= yj * (float64(v) - l)
				}
				ysum += yj
			}
			if dz != nil {
				dr := dz[r : r+k]
				for j := range dr {
					dr[j] = T(g * (float64(a[r+j])*ysum - float64(yr[j])))
				}
			}
		}
	}
	return sum
}

// lossDiv is what lossRows's sum is divided by to give the sum of the
// per-sample losses: k for the losses that are a mean over a sample's k
// outputs (MSE, BCE), 1 for the others.
func lossDiv(loss Loss, k int) float64 {
	if loss == MSE || loss == BCE {
		return float64(k)
	}
	return 1
}

// Class is the class an output row (or a target row) stands for: the index
// of the largest value, or for a single output — a sigmoid's probability
// of class 1 — 1 if it exceeds 0.5, else 0.
func Class[T num.Float](row []T) int {
	if len(row) == 1 {
		if row[0] > 0.5 {
			return 1
		}
		return 0
	}
	best := 0
	for j, v := range row {
		if v > row[best] {
			best = j
		}
	}
	return best
}
