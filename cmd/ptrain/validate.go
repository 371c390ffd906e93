package main

import (
	"fmt"

	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/optim"
)

// checkStoredConfig checks a checkpoint's config as the flags of a new
// run are checked, and against the weights' dtype and the architecture.
// The rest of a checkpoint is package checkpoint's to check.
func checkStoredConfig(c *Config, dtype string, sp model.Spec) error {
	if err := c.validate(); err != nil {
		return err
	}
	if want := map[string]string{"float32": "F32", "float64": "F64"}[c.DType]; want != dtype {
		return fmt.Errorf("dtype %s, but the weights are %s", c.DType, dtype)
	}
	if _, err := optimizerConfig(c); err != nil {
		return err
	}
	if _, err := optim.ParseSchedule(c.Schedule); err != nil {
		return fmt.Errorf("-schedule: %w", err)
	}
	if c.Loss != "" {
		loss, err := model.ParseLoss(c.Loss)
		if err == nil {
			err = model.CheckLoss(loss, sp)
		}
		if err != nil {
			return fmt.Errorf("-loss: %w", err)
		}
	}
	switch c.Normalize {
	case "", "none", "minmax", "zscore":
	default:
		return fmt.Errorf("-normalize %q: want none, minmax or zscore", c.Normalize)
	}
	return nil
}
