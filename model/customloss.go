package model

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"

	"github.com/ptrain/ptrain/model/gradcheck"
	"github.com/ptrain/ptrain/model/num"
)

// LossFunc is a loss of your own, per sample: RegisterLoss makes it a Loss
// that Workspace.LossGrad, parallel.Config and ParseLoss accept like the
// built-in ones. Check its gradient with CheckLossGradient.
type LossFunc interface {
	// Sample returns the loss of one sample whose output activations are
	// a and whose targets are y (both of the model's output width, in
	// float64 whatever the model's element type). If grad is not nil
	// (zeroed, of the same width), Sample also writes ∂loss/∂a_j into
	// grad[j]; the backward pass takes it through the output activation.
	// Sample must not keep or change a and y, and may be called from
	// several goroutines at once (one per worker).
	Sample(a, y, grad []float64) float64
}

// firstCustom is the first Loss value RegisterLoss hands out, well clear
// of the built-in constants.
const firstCustom Loss = 1 << 10

type registeredLoss struct {
	name string
	f    LossFunc
}

var lossRegistry struct {
	sync.RWMutex
	losses []registeredLoss
}

// RegisterLoss makes f a Loss named name: the batch's loss is then the mean
// over samples of f.Sample, and its gradient f's, as for the built-in
// losses. Register each loss once, at initialisation (as database/sql
// drivers are): RegisterLoss panics if f is nil or name is empty, taken by
// a built-in loss or already registered. Loss values are valid within the
// process that registered them; checkpoints name a loss by String.
func RegisterLoss(name string, f LossFunc) Loss {
	if f == nil || name == "" {
		panic("model: RegisterLoss needs a name and a LossFunc")
	}
	if l, err := ParseLoss(name); err == nil && l < firstCustom {
		panic(fmt.Sprintf("model: RegisterLoss(%q): the name is taken by %v", name, l))
	}
	lossRegistry.Lock()
	defer lossRegistry.Unlock()
	for _, c := range lossRegistry.losses {
		if strings.EqualFold(c.name, name) {
			panic(fmt.Sprintf("model: RegisterLoss(%q): already registered", name))
		}
	}
	lossRegistry.losses = append(lossRegistry.losses, registeredLoss{name, f})
	return firstCustom + Loss(len(lossRegistry.losses)-1)
}

// lookupLoss returns the registered loss l, if it is one.
func lookupLoss(l Loss) (registeredLoss, bool) {
	if l < firstCustom {
		return registeredLoss{}, false
	}
	lossRegistry.RLock()
	defer lossRegistry.RUnlock()
	i := int(l - firstCustom)
	if i >= len(lossRegistry.losses) {
		return registeredLoss{}, false
	}
	return lossRegistry.losses[i], true
}

// lossNamed finds a registered loss by name, ignoring case.
func lossNamed(s string) (Loss, bool) {
	lossRegistry.RLock()
	defer lossRegistry.RUnlock()
	for i, c := range lossRegistry.losses {
		if strings.EqualFold(c.name, s) {
			return firstCustom + Loss(i), true
		}
	}
	return 0, false
}

// customRows is lossRows for a registered loss: each row goes through f in
// float64 (row is scratch of 3k), and its gradient, divided by denom,
// through the output activation's backward.
func customRows[T num.Float](f LossFunc, act Activation, a, y, dz []T, k int, denom float64, row []float64, sum float64) float64 {
	ar, yr, gr := row[:k], row[k:2*k], row[2*k:3*k]
	for r := 0; r < len(a); r += k {
		for j := range k {
			ar[j], yr[j] = float64(a[r+j]), float64(y[r+j])
		}
		if dz == nil {
			sum += f.Sample(ar, yr, nil)
			continue
		}
		clear(gr)
		sum += f.Sample(ar, yr, gr)
		for j, g := range gr {
			dz[r+j] = T(g / denom)
		}
	}
	if dz != nil {
		activationBackward(act, a, dz, k)
	}
	return sum
}

// CheckLossGradient gradient-checks loss on a model built from spec by
// New(spec, seed), its parameters perturbed by noise, on len(y)/Outputs
// random input rows against the targets y, in a training pass (dropout
// masks held fixed): the gradient LossGrad and Backward compute for every
// parameter against central differences of Loss, in float64. It returns
// the worst element; below 1e-6 or so the gradient is right.
func CheckLossGradient(loss Loss, spec Spec, y []float64, seed uint64) (gradcheck.Result, error) {
	if err := CheckLoss(loss, spec); err != nil {
		return gradcheck.Result{}, err
	}
	k := spec.Outputs()
	n := len(y) / max(k, 1)
	if n == 0 || n*k != len(y) {
		return gradcheck.Result{}, fmt.Errorf("model: CheckLossGradient: %d targets are not whole rows of %d", len(y), k)
	}
	m, err := New[float64](spec, seed)
	if err != nil {
		return gradcheck.Result{}, fmt.Errorf("model: CheckLossGradient: %w", err)
	}
	rng := rand.New(rand.NewPCG(seed, 13))
	for i := range m.Params {
		m.Params[i] += 0.1 * rng.NormFloat64()
	}
	ws, f := analytic(m, randomRows(rng, n*spec.Inputs), y, n, loss, seed, false)
	return gradcheck.Check(m.Params, ws.Grad, f, 1e-5), nil
}
