package main

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadMetrics: a -metrics file a resumed run reads back, whatever it
// holds, gives rows or an error naming the file and line; never a panic.
func FuzzReadMetrics(f *testing.F) {
	f.Add([]byte("epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,samples_per_sec,epoch_s,elapsed_s,grad_norm,dense.0.grad_norm,warnings\n1,0.5,0.9,,,0.01,100.0,0.100,0.100,1.5,0.7,\n"), true)
	f.Add([]byte(`{"event":"epoch","epoch":1,"train_loss":0.5,"lr":0.01,"layers":[{"layer":"dense.0","grad_norm":1}],"warnings":[]}`+"\n"), false)
	f.Add([]byte("epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,samples_per_sec,epoch_s,elapsed_s,loss_units,grad_norm,warnings\n1,0.5,,0.6,,0.001,100.0,0.100,0.100,standardised,1.5,\n"), true)
	f.Add([]byte("epoch\n\"unterminated\n"), true)
	f.Fuzz(func(t *testing.T, b []byte, csv bool) {
		name := "m.jsonl"
		if csv {
			name = "m.csv"
		}
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if rows, err := readMetrics(p); err == nil {
			if err := writeMetrics(p, rows); err != nil {
				t.Fatalf("rows read back do not write: %v", err)
			}
		}
	})
}
