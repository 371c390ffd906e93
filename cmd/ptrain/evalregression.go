package main

import (
	"fmt"
	"math"

	"github.com/ptrain/ptrain/data"
	"github.com/ptrain/ptrain/model/num"
)

// regressionMetrics are a regression model's figures over all outputs:
// MSE, RMSE and MAE over every element, and R² (1 − SS_res/SS_tot) per
// output, averaged over the outputs as scikit-learn's r2_score does.
type regressionMetrics struct {
	N                  int
	MSE, RMSE, MAE, R2 float64
	OutputR2           []float64
}

func evaluateRegression[T num.Float](ck *checkpoint, ds *data.Dataset) (regressionMetrics, error) {
	m, err := loadModel[T](ck)
	if err != nil {
		return regressionMetrics{}, err
	}
	if ds.Features != m.Spec.Inputs {
		return regressionMetrics{}, fmt.Errorf("%s has %d features, the model takes %d", ds.Name, ds.Features, m.Spec.Inputs)
	}
	k := m.Spec.Outputs()
	if ds.Task != data.Regression || ds.Outputs != k {
		return regressionMetrics{}, fmt.Errorf("%s: %d regression targets, the model has %d outputs", ds.Name, ds.Outputs, k)
	}
	mean := make([]float64, k)
	for i := 0; i < ds.N; i++ {
		for j := range k {
			mean[j] += ds.Targets[i*k+j] / float64(ds.N)
		}
	}
	ssRes, ssTot := make([]float64, k), make([]float64, k)
	var sq, abs float64
	err = forEachPrediction(m, ds, func(i int, out []T) error {
		for j, v := range out {
			y := ds.Targets[i*k+j]
			d := ck.Preprocess.UnscaleOutput(j, float64(v)) - y // in the data's units
			sq += d * d
			abs += math.Abs(d)
			ssRes[j] += d * d
			ssTot[j] += (y - mean[j]) * (y - mean[j])
		}
		return nil
	})
	if err != nil {
		return regressionMetrics{}, err
	}
	n := float64(ds.N * k)
	rm := regressionMetrics{N: ds.N, MSE: sq / n, MAE: abs / n}
	rm.RMSE = math.Sqrt(rm.MSE)
	for j := range k {
		r2 := 1 - ssRes[j]/ssTot[j] // NaN (reported as null) for a constant target
		rm.OutputR2 = append(rm.OutputR2, r2)
		rm.R2 += r2 / float64(k)
	}
	return rm, nil
}
