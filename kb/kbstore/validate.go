package kbstore

import (
	"fmt"
	"math"

	"github.com/bedrockkit/bedrockkit"
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("kbstore: "+format+": %w", append(args, bedrockkit.ErrInvalidInput)...)
}

// ValidateRecord checks a record's fields for a store of dim dimensions
// (dim <= 0 skips the length check) and returns a copy with its metadata
// normalised (numbers as float64, lists as []any) and its vector copied.
// requirePartition refuses an empty Partition with ErrPartitionRequired.
// Stores call it on every record of an Upsert, so that they all accept and
// refuse the same records.
func ValidateRecord(r Record, dim int, requirePartition bool) (Record, error) {
	if r.ID == "" {
		return Record{}, invalid("record has an empty ID; give every chunk an ID unique in its partition")
	}
	if r.DocumentID == "" {
		return Record{}, invalid("record %q has an empty DocumentID", r.ID)
	}
	if requirePartition && r.Partition == "" {
		return Record{}, fmt.Errorf("record %q: %w", r.ID, ErrPartitionRequired)
	}
	if r.Vector != nil {
		if len(r.Vector) == 0 {
			return Record{}, invalid("record %q has an empty vector; use nil for a vector-less record", r.ID)
		}
		if dim > 0 && len(r.Vector) != dim {
			return Record{}, fmt.Errorf("record %q: %w", r.ID, &DimensionError{Want: dim, Got: len(r.Vector)})
		}
		if err := checkVector(r.Vector); err != nil {
			return Record{}, fmt.Errorf("record %q: %w", r.ID, err)
		}
		r.Vector = append([]float32(nil), r.Vector...)
	}
	md, err := NormalizeMetadata(r.Metadata)
	if err != nil {
		return Record{}, fmt.Errorf("record %q: %w", r.ID, err)
	}
	r.Metadata = md
	return r, nil
}

// ValidateQuery checks a query for a store of dim dimensions (dim <= 0
// skips the length check), including its filter. Stores call it first in
// Search.
func ValidateQuery(q Query, dim int, requirePartition bool) error {
	if requirePartition && q.Partition == "" {
		return ErrPartitionRequired
	}
	if q.K < 1 {
		return invalid("K is %d; ask for at least 1 result", q.K)
	}
	if len(q.Vector) == 0 {
		return invalid("query has no vector")
	}
	if dim > 0 && len(q.Vector) != dim {
		return &DimensionError{Want: dim, Got: len(q.Vector)}
	}
	if err := checkVector(q.Vector); err != nil {
		return err
	}
	if !q.Filter.IsZero() {
		if err := q.Filter.Validate(); err != nil {
			return err
		}
	}
	return nil
}

func checkVector(v []float32) error {
	var sum float64
	for i, x := range v {
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return invalid("vector element %d is %v; vectors must be finite", i, x)
		}
		sum += f * f
	}
	if sum == 0 {
		return invalid("vector has zero norm; cosine similarity is undefined for it")
	}
	return nil
}

// NormalizeMetadata returns a deep copy of md with numbers as float64 and
// lists as []any, or an error naming the first unsupported value. Nil or
// empty metadata gives nil.
func NormalizeMetadata(md map[string]any) (map[string]any, error) {
	if len(md) == 0 {
		return nil, nil
	}
	out := make(map[string]any, len(md))
	for k, v := range md {
		if k == "" {
			return nil, invalid("metadata has an empty key")
		}
		nv, err := normalizeValue(v, true)
		if err != nil {
			return nil, invalid("metadata %q: %v", k, err)
		}
		out[k] = nv
	}
	return out, nil
}

// CloneMetadata returns a deep copy of normalised metadata.
func CloneMetadata(md map[string]any) map[string]any {
	if md == nil {
		return nil
	}
	out := make(map[string]any, len(md))
	for k, v := range md {
		if l, ok := v.([]any); ok {
			v = append([]any(nil), l...)
		}
		out[k] = v
	}
	return out
}

// CloneRecord returns a deep copy of r (vector and metadata included).
func CloneRecord(r Record) Record {
	if r.Vector != nil {
		r.Vector = append([]float32(nil), r.Vector...)
	}
	r.Metadata = CloneMetadata(r.Metadata)
	return r
}

// normalizeValue converts a Go value to the canonical metadata form:
// string, bool, float64 or (when allowList) []any of those.
func normalizeValue(v any, allowList bool) (any, error) {
	switch x := v.(type) {
	case string, bool:
		return x, nil
	case float64:
		return finite(x)
	case float32:
		return finite(float64(x))
	case int:
		return float64(x), nil
	case int8:
		return float64(x), nil
	case int16:
		return float64(x), nil
	case int32:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case uint:
		return float64(x), nil
	case uint8:
		return float64(x), nil
	case uint16:
		return float64(x), nil
	case uint32:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case interface{ Float64() (float64, error) }: // json.Number
		f, err := x.Float64()
		if err != nil {
			return nil, err
		}
		return finite(f)
	}
	if !allowList {
		return nil, fmt.Errorf("unsupported value %v (%T); use a string, bool or number", v, v)
	}
	var list []any
	switch x := v.(type) {
	case []any:
		list = x
	case []string:
		list = make([]any, len(x))
		for i, s := range x {
			list[i] = s
		}
	case []float64:
		list = make([]any, len(x))
		for i, s := range x {
			list[i] = s
		}
	case []int:
		list = make([]any, len(x))
		for i, s := range x {
			list[i] = s
		}
	case []bool:
		list = make([]any, len(x))
		for i, s := range x {
			list[i] = s
		}
	default:
		return nil, fmt.Errorf("unsupported value %v (%T); use a string, bool, number or a list of those", v, v)
	}
	out := make([]any, len(list))
	for i, e := range list {
		ne, err := normalizeValue(e, false)
		if err != nil {
			return nil, fmt.Errorf("list element %d: %w", i, err)
		}
		out[i] = ne
	}
	return out, nil
}

func finite(f float64) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("number %v is not finite", f)
	}
	return f, nil
}
