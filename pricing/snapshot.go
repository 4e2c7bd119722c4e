package pricing

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"time"
)

// Snapshot is a meter's entries at one moment, sorted by tenant, session,
// model and tags.
type Snapshot struct {
	Taken   time.Time `json:"taken"`
	Entries []Entry   `json:"entries"`
}

func (s *Snapshot) sort() {
	slices.SortFunc(s.Entries, func(a, b Entry) int {
		return cmp.Or(cmp.Compare(a.Tenant, b.Tenant), cmp.Compare(a.Session, b.Session),
			cmp.Compare(a.Model, b.Model), cmp.Compare(encodeTags(a.Tags), encodeTags(b.Tags)))
	})
}

// Total returns the sum of all entries (labels empty).
func (s Snapshot) Total() Entry {
	var t Entry
	for _, e := range s.Entries {
		t.add(e)
	}
	return t
}

// Group sums the entries by key(entry), for example
// s.Group(func(e Entry) string { return e.Tags["feature"] }).
// Each sum keeps the labels its entries share and clears the others.
func (s Snapshot) Group(key func(Entry) string) map[string]Entry {
	out := map[string]Entry{}
	for _, e := range s.Entries {
		k := key(e)
		g, ok := out[k]
		if !ok {
			g = Entry{Tenant: e.Tenant, Session: e.Session, Model: e.Model, Tags: e.Tags}
		} else {
			if g.Tenant != e.Tenant {
				g.Tenant = ""
			}
			if g.Session != e.Session {
				g.Session = ""
			}
			if g.Model != e.Model {
				g.Model = ""
			}
			if encodeTags(g.Tags) != encodeTags(e.Tags) {
				g.Tags = nil
			}
		}
		g.add(e)
		out[k] = g
	}
	return out
}

// ByTenant sums the entries per tenant.
func (s Snapshot) ByTenant() map[string]Entry {
	return s.Group(func(e Entry) string { return e.Tenant })
}

// BySession sums the entries per session.
func (s Snapshot) BySession() map[string]Entry {
	return s.Group(func(e Entry) string { return e.Session })
}

// CSVHeader is the header row WriteCSV writes. Costs are exact decimal
// dollars; tags are URL-query encoded ("feature=search&team=a").
var CSVHeader = []string{"tenant", "session", "model", "tags", "calls", "refused", "failed", "estimated", "unpriced",
	"input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
	"input_cost", "output_cost", "cache_read_cost", "cache_write_cost", "total_cost"}

// WriteCSV writes the entries as CSV with the CSVHeader columns.
func (s Snapshot) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	d := func(m Money) string { b, _ := m.MarshalText(); return string(b) }
	for _, e := range s.Entries {
		rec := []string{e.Tenant, e.Session, e.Model, encodeTags(e.Tags),
			i(e.Calls), i(e.Refused), i(e.Failed), i(e.Estimated), i(e.Unpriced),
			i(e.InputTokens), i(e.OutputTokens), i(e.CacheReadTokens), i(e.CacheWriteTokens),
			d(e.Cost.Input), d(e.Cost.Output), d(e.Cost.CacheRead), d(e.Cost.CacheWrite), d(e.Cost.Total)}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes the snapshot as indented JSON. Costs are exact decimal
// dollar strings ("45.00").
func (s Snapshot) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}
