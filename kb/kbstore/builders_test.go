package kbstore

// Filter builders for the tests below, like kb's constructors (kb.Equals,
// kb.In, ...), without importing kb: values are normalised so
// that Match works on the result directly.

func leaf(op FilterOp, key string, value any) Filter {
	f := Filter{Op: op, Key: key, Value: value}
	if n, err := f.Normalize(); err == nil {
		return n
	}
	return f
}

func equals(key string, value any) Filter    { return leaf(OpEquals, key, value) }
func notEquals(key string, value any) Filter { return leaf(OpNotEquals, key, value) }
func greaterThan(key string, value any) Filter {
	return leaf(OpGreaterThan, key, value)
}
func greaterThanOrEquals(key string, value any) Filter {
	return leaf(OpGreaterThanOrEquals, key, value)
}
func lessThan(key string, value any) Filter { return leaf(OpLessThan, key, value) }
func lessThanOrEquals(key string, value any) Filter {
	return leaf(OpLessThanOrEquals, key, value)
}
func oneOf(key string, values ...any) Filter  { return leaf(OpIn, key, values) }
func noneOf(key string, values ...any) Filter { return leaf(OpNotIn, key, values) }
func startsWith(key, prefix string) Filter    { return leaf(OpStartsWith, key, prefix) }
func listContains(key string, value any) Filter {
	return leaf(OpListContains, key, value)
}
func stringContains(key, sub string) Filter {
	return leaf(OpStringContains, key, sub)
}
func andAll(filters ...Filter) Filter {
	return Filter{Op: OpAndAll, Filters: filters}
}
func orAll(filters ...Filter) Filter { return Filter{Op: OpOrAll, Filters: filters} }
