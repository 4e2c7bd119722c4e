package kbstoretest_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/bedrockkit/bedrockkit/kb/kbstore"
	"github.com/bedrockkit/bedrockkit/kb/kbstore/kbstoretest"
)

// A filter property test: the records a random filter selects, by the
// reference evaluator (Normalize and Match). A backend or a translator to
// another filter language must select the same ones.
func ExampleRandomFilter() {
	r := rand.New(rand.NewPCG(1, 2))
	var mds []map[string]any
	for range 20 {
		mds = append(mds, kbstoretest.RandomMetadata(r))
	}
	f := kbstoretest.RandomFilter(r)
	n, err := f.Normalize()
	if err != nil {
		panic(err)
	}
	var want []int
	for i, md := range mds {
		m, _ := kbstore.NormalizeMetadata(md)
		if n.Match(m) {
			want = append(want, i)
		}
	}
	b, _ := json.Marshal(f)
	fmt.Printf("%s selects %v\n", b, want)
	// Output:
	// {"notIn":{"key":"c","value":[1,"x"]}} selects [0 1 3 4 5 7 8 9 10 11 12 13 15 16 17 19]
}
