package kb

import "github.com/bedrockkit/bedrockkit/kb/kbstore"

// Filter restricts a search by chunk metadata, with the operators of
// Bedrock Knowledge Bases (RetrieveOptions.Filter). Build one with
// the constructors below, for example
//
//	kb.AndAll(kb.Equals("type", "faq"), kb.GreaterThanOrEquals("year", 2023))
//
// It marshals to and from Bedrock's RetrievalFilter JSON. The type, its
// evaluation rules (absent keys, type mismatches) and its limits are
// defined in kb/kbstore, the contract with vector stores, which receive it.
type Filter = kbstore.Filter

// Equals matches records whose attribute key equals value.
func Equals(key string, value any) Filter { return leaf(kbstore.OpEquals, key, value) }

// NotEquals matches records whose attribute key is absent or differs from value.
func NotEquals(key string, value any) Filter { return leaf(kbstore.OpNotEquals, key, value) }

// GreaterThan matches records whose numeric attribute key is > value.
func GreaterThan(key string, value any) Filter { return leaf(kbstore.OpGreaterThan, key, value) }

// GreaterThanOrEquals matches records whose numeric attribute key is >= value.
func GreaterThanOrEquals(key string, value any) Filter {
	return leaf(kbstore.OpGreaterThanOrEquals, key, value)
}

// LessThan matches records whose numeric attribute key is < value.
func LessThan(key string, value any) Filter { return leaf(kbstore.OpLessThan, key, value) }

// LessThanOrEquals matches records whose numeric attribute key is <= value.
func LessThanOrEquals(key string, value any) Filter {
	return leaf(kbstore.OpLessThanOrEquals, key, value)
}

// In matches records whose attribute key equals one of values.
func In(key string, values ...any) Filter { return leaf(kbstore.OpIn, key, values) }

// NotIn matches records whose attribute key is absent or equals none of values.
func NotIn(key string, values ...any) Filter { return leaf(kbstore.OpNotIn, key, values) }

// StartsWith matches records whose string attribute key starts with prefix.
func StartsWith(key, prefix string) Filter { return leaf(kbstore.OpStartsWith, key, prefix) }

// ListContains matches records whose list attribute key has an element equal to value.
func ListContains(key string, value any) Filter {
	return leaf(kbstore.OpListContains, key, value)
}

// StringContains matches records whose string attribute key (or one of
// whose list elements) contains sub.
func StringContains(key, sub string) Filter { return leaf(kbstore.OpStringContains, key, sub) }

// AndAll matches records that match every filter. Bedrock requires at least two.
func AndAll(filters ...Filter) Filter { return Filter{Op: kbstore.OpAndAll, Filters: filters} }

// OrAll matches records that match any filter. Bedrock requires at least two.
func OrAll(filters ...Filter) Filter { return Filter{Op: kbstore.OpOrAll, Filters: filters} }

// leaf builds a leaf filter with its value in canonical form (float64
// numbers, []any lists), so that Match works on it directly. An invalid
// filter is kept as given: Retrieve reports it.
func leaf(op kbstore.FilterOp, key string, value any) Filter {
	f := Filter{Op: op, Key: key, Value: value}
	if n, err := f.Normalize(); err == nil {
		return n
	}
	return f
}
