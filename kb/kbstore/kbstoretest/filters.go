package kbstoretest

import "github.com/bedrockkit/bedrockkit/kb/kbstore"

// Filter builders for the suite, like kb's constructors (kb.Equals,
// kb.In, ...), without importing kb: values are normalised so
// that Match works on the result directly.

func leaf(op kbstore.FilterOp, key string, value any) kbstore.Filter {
	f := kbstore.Filter{Op: op, Key: key, Value: value}
	if n, err := f.Normalize(); err == nil {
		return n
	}
	return f
}

func equals(key string, value any) kbstore.Filter    { return leaf(kbstore.OpEquals, key, value) }
func notEquals(key string, value any) kbstore.Filter { return leaf(kbstore.OpNotEquals, key, value) }
func greaterThan(key string, value any) kbstore.Filter {
	return leaf(kbstore.OpGreaterThan, key, value)
}
func greaterThanOrEquals(key string, value any) kbstore.Filter {
	return leaf(kbstore.OpGreaterThanOrEquals, key, value)
}
func lessThan(key string, value any) kbstore.Filter { return leaf(kbstore.OpLessThan, key, value) }
func lessThanOrEquals(key string, value any) kbstore.Filter {
	return leaf(kbstore.OpLessThanOrEquals, key, value)
}
func oneOf(key string, values ...any) kbstore.Filter  { return leaf(kbstore.OpIn, key, values) }
func noneOf(key string, values ...any) kbstore.Filter { return leaf(kbstore.OpNotIn, key, values) }
func startsWith(key, prefix string) kbstore.Filter    { return leaf(kbstore.OpStartsWith, key, prefix) }
func listContains(key string, value any) kbstore.Filter {
	return leaf(kbstore.OpListContains, key, value)
}
func stringContains(key, sub string) kbstore.Filter {
	return leaf(kbstore.OpStringContains, key, sub)
}
func andAll(filters ...kbstore.Filter) kbstore.Filter {
	return kbstore.Filter{Op: kbstore.OpAndAll, Filters: filters}
}
func orAll(filters ...kbstore.Filter) kbstore.Filter {
	return kbstore.Filter{Op: kbstore.OpOrAll, Filters: filters}
}
