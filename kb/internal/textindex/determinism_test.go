package textindex

import (
	"fmt"
	"strings"
	"testing"
)

// TestScoresIdenticalAcrossIndexes: two indexes of the same records (each
// with its own phrase seed, as after a reopen) score every query to the
// same bits: sums run in a fixed order, not map order.
func TestScoresIdenticalAcrossIndexes(t *testing.T) {
	docs := []string{
		"Wire transfers cost $25 for outgoing domestic wires and $45 international.",
		"Card fees: foreign transaction fee of 3%; replacement card free when lost.",
		"Dispute process: dispute a card transaction within 60 days of the statement.",
		"Overdraft fee of $25, waived when overdrawn by $50 or less; wire transfers policy.",
	}
	build := func() *Index {
		ix := New(Params{})
		for i := 0; i < 40; i++ {
			ix.Add(fmt.Sprintf("r%02d", i), fmt.Sprintf("d%d", i%7), docs[i%len(docs)]+strings.Repeat(" wire card dispute fee", i%5), nil)
		}
		return ix
	}
	queries := []string{"wire transfers policy fee card dispute", "dispute a card transaction fee", "overdraft fee waived wire"}
	for range 20 {
		a, b := build(), build()
		for _, q := range queries {
			ha, hb := a.Search(q, 40, nil), b.Search(q, 40, nil)
			if len(ha) != len(hb) {
				t.Fatalf("%q: %d vs %d hits", q, len(ha), len(hb))
			}
			for i := range ha {
				if ha[i] != hb[i] {
					t.Fatalf("%q: hit %d differs: %+v vs %+v", q, i, ha[i], hb[i])
				}
			}
		}
	}
}
