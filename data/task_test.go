package data

import (
	"encoding/json"
	"strings"
	"testing"
)

// A task's text is its String, and reads back as itself; other text and
// other values are refused.
func TestTaskText(t *testing.T) {
	for _, tc := range []struct {
		task Task
		text string
	}{{Classification, "classification"}, {Regression, "regression"}} {
		b, err := json.Marshal(tc.task)
		if err != nil || string(b) != `"`+tc.text+`"` {
			t.Errorf("json.Marshal(%v) = %s, %v; want %q", tc.task, b, err, tc.text)
		}
		var got Task = 7
		if err := json.Unmarshal(b, &got); err != nil || got != tc.task {
			t.Errorf("json.Unmarshal(%s) = %v, %v; want %v", b, got, err, tc.task)
		}
		if got, err := ParseTask(tc.text); err != nil || got != tc.task {
			t.Errorf("ParseTask(%q) = %v, %v", tc.text, got, err)
		}
	}
	for _, s := range []string{"", "Regression", "ranking", "classification "} {
		if _, err := ParseTask(s); err == nil || !strings.Contains(err.Error(), "want classification or regression") {
			t.Errorf("ParseTask(%q): error %v, want one that says what is wanted", s, err)
		}
	}
	if b, err := Task(2).MarshalText(); err == nil {
		t.Errorf("Task(2).MarshalText() = %q, want an error", b)
	}
}

// ParseTask accepts exactly the two names, and MarshalText gives them
// back.
func FuzzParseTask(f *testing.F) {
	for _, s := range []string{"classification", "regression", "", "regress", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		task, err := ParseTask(s)
		if err != nil {
			if s == "classification" || s == "regression" {
				t.Fatalf("ParseTask(%q): %v", s, err)
			}
			return
		}
		b, err := task.MarshalText()
		if err != nil || string(b) != s {
			t.Fatalf("ParseTask(%q) = %v, which marshals as %q, %v", s, task, b, err)
		}
	})
}
