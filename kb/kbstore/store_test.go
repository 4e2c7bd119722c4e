package kbstore

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/bedrockkit/bedrockkit"
)

func TestValidateRecord(t *testing.T) {
	good := Record{ID: "a", DocumentID: "d", Vector: []float32{1, 0}, Metadata: map[string]any{"n": 3, "l": []string{"x"}}}
	r, err := ValidateRecord(good, 2, false)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Metadata, map[string]any{"n": 3.0, "l": []any{"x"}}) {
		t.Fatalf("metadata not normalised: %#v", r.Metadata)
	}
	r.Vector[0] = 9
	if good.Vector[0] != 1 {
		t.Fatal("ValidateRecord aliases the input vector")
	}
	bad := []struct {
		r    Record
		part bool
		is   error
	}{
		{Record{DocumentID: "d"}, false, bedrockkit.ErrInvalidInput},
		{Record{ID: "a"}, false, bedrockkit.ErrInvalidInput},
		{Record{ID: "a", DocumentID: "d"}, true, ErrPartitionRequired},
		{Record{ID: "a", DocumentID: "d", Vector: []float32{1, 2, 3}}, false, ErrDimensionMismatch},
		{Record{ID: "a", DocumentID: "d", Vector: []float32{0, 0}}, false, bedrockkit.ErrInvalidInput},
		{Record{ID: "a", DocumentID: "d", Vector: []float32{float32(math.NaN()), 1}}, false, bedrockkit.ErrInvalidInput},
		{Record{ID: "a", DocumentID: "d", Vector: []float32{}}, false, bedrockkit.ErrInvalidInput},
		{Record{ID: "a", DocumentID: "d", Metadata: map[string]any{"m": map[string]any{}}}, false, bedrockkit.ErrInvalidInput},
		{Record{ID: "a", DocumentID: "d", Metadata: map[string]any{"": 1}}, false, bedrockkit.ErrInvalidInput},
		{Record{ID: "a", DocumentID: "d", Metadata: map[string]any{"f": math.Inf(1)}}, false, bedrockkit.ErrInvalidInput},
	}
	for i, c := range bad {
		_, err := ValidateRecord(c.r, 2, c.part)
		if !errors.Is(err, c.is) || !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Errorf("%d: err = %v, want %v", i, err, c.is)
		}
	}
	var de *DimensionError
	_, err = ValidateRecord(Record{ID: "a", DocumentID: "d", Vector: []float32{1}}, 2, false)
	if !errors.As(err, &de) || de.Want != 2 || de.Got != 1 {
		t.Fatalf("want a DimensionError{2,1}, got %v", err)
	}
}

func TestValidateQuery(t *testing.T) {
	q := Query{Vector: []float32{1, 0}, K: 1}
	if err := ValidateQuery(q, 2, false); err != nil {
		t.Fatal(err)
	}
	if err := ValidateQuery(q, 2, true); !errors.Is(err, ErrPartitionRequired) {
		t.Fatalf("want ErrPartitionRequired, got %v", err)
	}
	q.K = 0
	if err := ValidateQuery(q, 2, false); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("K=0: %v", err)
	}
	q.K = 1
	if err := ValidateQuery(q, 3, false); !errors.Is(err, ErrDimensionMismatch) {
		t.Fatalf("dims: %v", err)
	}
	bad := Filter{Op: OpAndAll}
	q.Filter = bad
	if err := ValidateQuery(q, 2, false); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("filter: %v", err)
	}
}

func TestCloneRecord(t *testing.T) {
	r := Record{ID: "a", Vector: []float32{1}, Metadata: map[string]any{"l": []any{"x"}}}
	c := CloneRecord(r)
	c.Vector[0] = 2
	c.Metadata["l"].([]any)[0] = "y"
	c.Metadata["new"] = 1.0
	if r.Vector[0] != 1 || r.Metadata["l"].([]any)[0] != "x" || len(r.Metadata) != 1 {
		t.Fatal("CloneRecord shares data with the original")
	}
}

// A store's dimension error and an embedder's are the same fault: one
// errors.Is(err, bedrockkit.ErrDimensionMismatch) check catches both, and the
// store's still matches ErrDimensionMismatch and ErrInvalidInput.
func TestDimensionMismatchMatchesRootSentinel(t *testing.T) {
	_, recErr := ValidateRecord(Record{ID: "a", DocumentID: "d", Vector: []float32{1, 2, 3}}, 2, false)
	qErr := ValidateQuery(Query{Vector: []float32{1}, K: 1}, 2, false)
	for name, err := range map[string]error{
		"sentinel":       ErrDimensionMismatch,
		"DimensionError": &DimensionError{Want: 2, Got: 3},
		"ValidateRecord": recErr,
		"ValidateQuery":  qErr,
		"wrapped":        fmt.Errorf("backend: table holds 5 dimensions: %w", ErrDimensionMismatch),
	} {
		for _, target := range []error{ErrDimensionMismatch, bedrockkit.ErrDimensionMismatch, bedrockkit.ErrInvalidInput} {
			if !errors.Is(err, target) {
				t.Errorf("%s: errors.Is(%v, %v) = false", name, err, target)
			}
		}
	}
	if got := ErrDimensionMismatch.Error(); got != "kbstore: vector dimension mismatch" {
		t.Errorf("message = %q", got)
	}
	// The root sentinel is the broader one: an embedder's error is not a
	// store's, and not the caller's invalid input.
	embedErr := fmt.Errorf("%w: model returned 3 dimensions", bedrockkit.ErrDimensionMismatch)
	if errors.Is(embedErr, ErrDimensionMismatch) || errors.Is(embedErr, bedrockkit.ErrInvalidInput) {
		t.Errorf("embedder error %v matches the store's sentinel or ErrInvalidInput", embedErr)
	}
}
