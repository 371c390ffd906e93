package model

import "github.com/ptrain/ptrain/model/num"

// gap is global average pooling (PyTorch's AdaptiveAvgPool2d(1) followed
// by Flatten): a C×H×W sample becomes the C means of its planes,
//
//	z[c] = Σ_p x[c, p] / (H·W),   dx[c, p] += dz[c] / (H·W)
type gap[T num.Float] struct{ info *LayerInfo }

func (l gap[T]) Info() *LayerInfo { return l.info }
func (l gap[T]) Scratch(int) int  { return 0 }

func (l gap[T]) Forward(p *pass[T], x, z []T) {
	hw := l.info.In.Size() / l.info.In[0]
	inv := 1 / T(hw)
	for i := range z[:p.N*l.info.Out[0]] {
		z[i] = sum4(x[i*hw:(i+1)*hw]) * inv
	}
}

func (l gap[T]) Backward(p *pass[T], _, dz, dx []T) {
	if dx == nil {
		return
	}
	hw := l.info.In.Size() / l.info.In[0]
	inv := 1 / T(hw)
	for i, d := range dz[:p.N*l.info.Out[0]] {
		v := d * inv
		for j := range dx[i*hw : (i+1)*hw] {
			dx[i*hw+j] += v
		}
	}
}
