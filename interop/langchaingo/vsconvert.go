package langchaingo

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"time"

	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// maxExactInt is the largest integer magnitude a float64 holds exactly.
const maxExactInt = 1 << 53

// metadataValue converts one langchaingo metadata value to kb's value
// types (string, bool, float64, or when list is true a []any of those). On
// failure it returns a reason saying what to do instead.
func metadataValue(v any, list bool) (any, string) {
	switch x := v.(type) {
	case nil:
		return nil, "nil is not a value a kbstore.Store holds"
	case json.Number:
		f, err := x.Float64()
		if err != nil || math.IsInf(f, 0) {
			return nil, "the JSON number does not fit a float64"
		}
		return metadataValue(f, list)
	case time.Time:
		return nil, "a time is not a value a kbstore.Store holds; store it as an RFC 3339 string or as Unix seconds"
	case []byte:
		return nil, "bytes are not a value a kbstore.Store holds; store them as a string (base64 if binary)"
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Bool:
		return rv.Bool(), ""
	case reflect.String:
		return rv.String(), ""
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n := rv.Int()
		if n > maxExactInt || n < -maxExactInt {
			return nil, fmt.Sprintf("the integer %d is beyond ±2^53 and would not be stored exactly as a number; store it as a string", n)
		}
		return float64(n), ""
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n := rv.Uint()
		if n > maxExactInt {
			return nil, fmt.Sprintf("the integer %d is beyond 2^53 and would not be stored exactly as a number; store it as a string", n)
		}
		return float64(n), ""
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, "the number is not finite"
		}
		return f, ""
	case reflect.Slice, reflect.Array:
		if rv.Type().Elem().Kind() == reflect.Uint8 { // json.RawMessage and other byte types
			return nil, "bytes are not a value a kbstore.Store holds; store them as a string (base64 if binary)"
		}
		if !list {
			return nil, "a list inside a list is not a value a kbstore.Store holds; flatten it"
		}
		out := make([]any, rv.Len())
		for i := range out {
			e, reason := metadataValue(rv.Index(i).Interface(), false)
			if reason != "" {
				return nil, fmt.Sprintf("list element %d: %s", i, reason)
			}
			out[i] = e
		}
		return out, ""
	}
	return nil, fmt.Sprintf("a %s is not a value a kbstore.Store holds; use a string, bool, number or a slice of those (encode structured values as a JSON string)", rv.Kind())
}

var filterOps = map[kbstore.FilterOp]bool{
	kbstore.OpEquals: true, kbstore.OpNotEquals: true, kbstore.OpGreaterThan: true, kbstore.OpGreaterThanOrEquals: true,
	kbstore.OpLessThan: true, kbstore.OpLessThanOrEquals: true, kbstore.OpIn: true, kbstore.OpNotIn: true,
	kbstore.OpStartsWith: true, kbstore.OpListContains: true, kbstore.OpStringContains: true,
	kbstore.OpAndAll: true, kbstore.OpOrAll: true,
}

// parseFilters reads the value given to vectorstores.WithFilters (see
// VectorStore.SimilaritySearch for the accepted forms). Nil, a nil
// *kbstore.Filter and an empty map mean no filter.
func parseFilters(x any) (*kbstore.Filter, error) {
	var f kbstore.Filter
	switch x := x.(type) {
	case nil:
		return nil, nil
	case kbstore.Filter:
		f = x
	case *kbstore.Filter:
		if x == nil {
			return nil, nil
		}
		f = *x
	case string:
		return filterJSON([]byte(x))
	case []byte:
		return filterJSON(x)
	case json.RawMessage:
		return filterJSON(x)
	case map[string]any:
		if len(x) == 0 {
			return nil, nil
		}
		if len(x) == 1 {
			for k := range x {
				if filterOps[kbstore.FilterOp(k)] {
					b, err := json.Marshal(x)
					if err != nil {
						return nil, fmt.Errorf("langchaingo: the filter map does not encode as JSON: %v: %w", err, ErrUnsupportedFilter)
					}
					return filterJSON(b)
				}
			}
		}
		return flatFilter(x)
	default:
		return nil, fmt.Errorf("langchaingo: got a %T: %w", x, ErrUnsupportedFilter)
	}
	n, err := f.Normalize()
	if err != nil {
		return nil, fmt.Errorf("langchaingo: %w: %w", err, ErrUnsupportedFilter)
	}
	return &n, nil
}

func filterJSON(b []byte) (*kbstore.Filter, error) {
	var f kbstore.Filter
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("langchaingo: %w: %w", err, ErrUnsupportedFilter)
	}
	return &f, nil
}

// flatFilter turns {"k1": v1, "k2": [a, b]} into
// andAll(equals(k1, v1), in(k2, a, b)).
func flatFilter(m map[string]any) (*kbstore.Filter, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var leaves []kbstore.Filter
	for _, k := range keys {
		v, reason := metadataValue(m[k], true)
		if reason != "" {
			return nil, fmt.Errorf("langchaingo: key %q: %s: %w", k, reason, ErrUnsupportedFilter)
		}
		if l, ok := v.([]any); ok {
			leaves = append(leaves, kb.In(k, l...))
		} else {
			leaves = append(leaves, kb.Equals(k, v))
		}
	}
	f := leaves[0]
	if len(leaves) > 1 {
		f = kb.AndAll(leaves...)
	}
	n, err := f.Normalize()
	if err != nil {
		return nil, fmt.Errorf("langchaingo: %w: %w", err, ErrUnsupportedFilter)
	}
	return &n, nil
}
