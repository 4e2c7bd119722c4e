package kbstoretest

import (
	"math/rand/v2"

	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// The vocabulary of RandomMetadata and RandomFilter: few keys and values,
// of every metadata type, so that a random filter matches some records,
// misses others, and meets absent keys, lists and type mismatches.
var (
	randomKeys   = []string{"a", "b", "c"}
	randomValues = []any{"x", "y", "xy", 1.0, 2.0, true, false}
)

func randomValue(r *rand.Rand) any { return randomValues[r.IntN(len(randomValues))] }

// RandomMetadata returns random record metadata for filter property tests:
// each of the keys "a", "b" and "c" is absent (one time in four), a list of
// two values (one in four) or a single value, drawn from "x", "y", "xy", 1,
// 2, true and false. The same r state gives the same metadata.
func RandomMetadata(r *rand.Rand) map[string]any {
	m := map[string]any{}
	for _, k := range randomKeys {
		switch r.IntN(4) {
		case 0: // absent
		case 1:
			m[k] = []any{randomValue(r), randomValue(r)}
		default:
			m[k] = randomValue(r)
		}
	}
	return m
}

// RandomFilter returns a random kbstore.Filter over the keys and values of
// RandomMetadata, using every operator Bedrock has, with andAll and orAll
// nested up to two levels. Compare a store's answer with what the filter's
// Normalize(...).Match selects to test the store's filtering. The same r
// state gives the same filter.
func RandomFilter(r *rand.Rand) kbstore.Filter { return randomFilter(r, 0) }

func randomFilter(r *rand.Rand, depth int) kbstore.Filter {
	k := randomKeys[r.IntN(len(randomKeys))]
	switch n := r.IntN(13); {
	case n < 2 && depth < 2:
		kids := []kbstore.Filter{randomFilter(r, depth+1), randomFilter(r, depth+1)}
		if n == 0 {
			return andAll(kids...)
		}
		return orAll(kids...)
	case n == 2:
		return equals(k, randomValue(r))
	case n == 3:
		return notEquals(k, randomValue(r))
	case n == 4:
		return greaterThan(k, float64(r.IntN(3)))
	case n == 5:
		return lessThanOrEquals(k, float64(r.IntN(3)))
	case n == 6:
		return oneOf(k, randomValue(r), randomValue(r))
	case n == 7:
		return noneOf(k, randomValue(r), randomValue(r))
	case n == 8:
		return startsWith(k, "x")
	case n == 9:
		return listContains(k, randomValue(r))
	case n == 10:
		return stringContains(k, "y")
	case n == 11:
		return greaterThanOrEquals(k, 1.5)
	default:
		return lessThan(k, 2)
	}
}
