package kb

import (
	"errors"
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
	q.Filter = &bad
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
