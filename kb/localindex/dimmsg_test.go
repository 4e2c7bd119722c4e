package localindex

import (
	"errors"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// The dimension-mismatch errors say each number once, saying whose it is
// (the index's data, Options.Dimensions, the vector), and what to do; they
// used to repeat the pair the other way round in a wrapped error.
func TestDimensionMismatchMessages(t *testing.T) {
	for _, snapshot := range []bool{true, false} {
		dir := t.TempDir()
		ix, err := Open(tOpts(Options{Dir: dir}))
		if err != nil {
			t.Fatal(err)
		}
		writeN(t, ix, 0, 3) // 8-dimension vectors
		if err := ix.close(snapshot); err != nil {
			t.Fatal(err)
		}
		_, err = Open(tOpts(Options{Dir: dir, Dimensions: 16}))
		if !errors.Is(err, kbstore.ErrDimensionMismatch) || !errors.Is(err, bedrockkit.ErrDimensionMismatch) || !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Fatalf("snapshot %v: Open with other dimensions: %v", snapshot, err)
		}
		msg := strings.ReplaceAll(err.Error(), dir, "DIR")
		for _, want := range []string{"holds 8-dimension vectors", "Options.Dimensions is 16", "Dimensions 8"} {
			if !strings.Contains(msg, want) {
				t.Errorf("snapshot %v: message %q does not say %q", snapshot, msg, want)
			}
		}
		if strings.Count(msg, "16") != 1 {
			t.Errorf("snapshot %v: message %q states 16 more than once", snapshot, msg)
		}
	}

	ix, err := Open(tOpts(Options{Dimensions: 8}))
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	err = ix.Upsert(bg, []kbstore.Record{{ID: "x", DocumentID: "d", Vector: make16()}})
	var de *kbstore.DimensionError
	if !errors.As(err, &de) || de.Want != 8 || de.Got != 16 {
		t.Fatalf("16-dimension upsert into an 8-dimension index: %v", err)
	}
	msg := err.Error()
	if strings.Count(msg, "16") != 1 || strings.Count(msg, "8") != 1 ||
		!strings.Contains(msg, "vector has 16 dimensions") || !strings.Contains(msg, "holds 8-dimension vectors") {
		t.Errorf("message %q: want the vector's 16 and the index's 8, each once", msg)
	}
}

func make16() []float32 {
	v := make([]float32, 16)
	v[0] = 1
	return v
}
