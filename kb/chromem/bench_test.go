package chromem

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// BenchmarkSearch times top-10 searches over 10,000 random 384-dimensional
// unit vectors: unfiltered, with an equals filter chromem-go evaluates
// (1%), and with filters it cannot (1%: subset collection; 50%: over-fetch),
// beside chromem-go's own unfiltered query on the same collection.
func BenchmarkSearch(b *testing.B) {
	const n, dim = 10000, 384
	r := rand.New(rand.NewPCG(1, 2))
	unitVec := func() []float32 {
		v := randVec(r, dim)
		return unit(v)
	}
	s, err := Open(Options{Dimensions: dim})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	recs := make([]kbstore.Record, n)
	for i := range recs {
		recs[i] = kbstore.Record{ID: strconv.Itoa(i), DocumentID: "d", Vector: unitVec(),
			Metadata: map[string]any{"group": fmt.Sprint("g", i%100), "n": float64(i % 100)}}
	}
	if err := s.Upsert(bg, recs); err != nil {
		b.Fatal(err)
	}
	qs := make([][]float32, 64)
	for i := range qs {
		qs[i] = unitVec()
	}
	// chromem-go's own query on the same collection, for the overhead.
	b.Run("chromem-raw", func(b *testing.B) {
		c := s.parts[""].coll
		for i := 0; b.Loop(); i++ {
			if _, err := c.QueryEmbedding(bg, qs[i%len(qs)], 10, nil, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, c := range []struct {
		name string
		f    kb.Filter
	}{
		{"none", kb.Filter{}},
		{"where1pct", (kb.Equals("group", "g7"))},
		{"subset1pct", (kb.LessThan("n", 1))},
		{"overfetch50pct", (kb.LessThan("n", 50))},
	} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if _, err := s.Search(bg, kbstore.Query{Vector: qs[i%len(qs)], K: 10, Filter: c.f}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
