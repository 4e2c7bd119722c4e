package console

import (
	"context"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/pricing"
)

// AddMeter adds a pricing meter whose spend (per model, tenant, session
// and tags) the costs page charts over time. The console samples it (see
// Options.CostSampleInterval) and keeps the differences between samples.
func (c *Console) AddMeter(name string, m *pricing.Meter) {
	c.mu.Lock()
	c.meters = append(c.meters, &meterRec{name: name, m: m, last: map[string]pricing.Entry{}})
	c.mu.Unlock()
	c.sampleMeters(time.Now(), true)
}

type meterRec struct {
	name string
	m    *pricing.Meter
	last map[string]pricing.Entry
}

// costPoint is spend at one moment: a model call, or what a meter counted
// between two samples.
type costPoint struct {
	at                     time.Time
	source                 string
	model, tenant, session string
	tags                   map[string]string
	cost                   pricing.Money
	calls, in, out         int64
	unpriced               int64
}

func entryKey(e pricing.Entry) string {
	q := url.Values{}
	for k, v := range e.Tags {
		q.Set(k, v)
	}
	return e.Tenant + "\x00" + e.Session + "\x00" + e.Model + "\x00" + q.Encode()
}

// sampleMeters records what every meter counted since its last sample,
// unless the last sample is more recent than the interval (force samples
// anyway).
func (c *Console) sampleMeters(now time.Time, force bool) {
	c.sampleMu.Lock() // samples in order: a later snapshot never precedes an earlier one
	defer c.sampleMu.Unlock()
	c.mu.Lock()
	if len(c.meters) == 0 || (!force && now.Sub(c.lastSample) < c.opts.CostSampleInterval) {
		c.mu.Unlock()
		return
	}
	c.lastSample = now
	meters := slices.Clone(c.meters)
	c.mu.Unlock()
	snaps := make([]pricing.Snapshot, len(meters))
	for i, m := range meters {
		snaps[i] = m.m.Snapshot()
	}
	c.mu.Lock()
	added := false
	for i, m := range meters {
		seen := map[string]bool{}
		for _, e := range snaps[i].Entries {
			k := entryKey(e)
			seen[k] = true
			prev := m.last[k]
			d := pricing.Entry{Calls: e.Calls - prev.Calls, InputTokens: e.InputTokens - prev.InputTokens,
				OutputTokens: e.OutputTokens - prev.OutputTokens, Unpriced: e.Unpriced - prev.Unpriced}
			d.Cost.Total = e.Cost.Total - prev.Cost.Total
			if d.Calls < 0 || d.Cost.Total < 0 { // the meter was Reset since
				d = e
			}
			m.last[k] = e
			if d.Calls == 0 && d.Cost.Total == 0 && d.InputTokens == 0 && d.OutputTokens == 0 {
				continue
			}
			c.costPts = append(c.costPts, costPoint{at: snaps[i].Taken, source: m.name, model: e.Model, tenant: e.Tenant,
				session: e.Session, tags: e.Tags, cost: d.Cost.Total, calls: d.Calls, in: d.InputTokens, out: d.OutputTokens, unpriced: d.Unpriced})
			added = true
		}
		for k := range m.last {
			if !seen[k] {
				delete(m.last, k) // reset away
			}
		}
	}
	if over := len(c.costPts) - c.opts.MaxCostPoints; over > 0 {
		c.costPts = slices.Delete(c.costPts, 0, over)
		c.droppedPts += over
	}
	c.mu.Unlock()
	if added {
		c.changed()
	}
}

// runCostPoints prices the model calls of the kept runs.
func (c *Console) runCostPoints() []costPoint {
	c.mu.Lock()
	type run struct {
		info   RunInfo
		events []recEvent
	}
	runs := make([]run, 0, len(c.runs))
	for _, r := range c.runs {
		runs = append(runs, run{r.info, r.events[:len(r.events):len(r.events)]})
	}
	c.mu.Unlock()
	var pts []costPoint
	for _, r := range runs {
		for _, e := range r.events {
			mc, ok := e.ev.(agent.ModelCalled)
			if !ok {
				continue
			}
			p := costPoint{at: mc.Start, source: "agent runs", model: mc.Model, tenant: r.info.Tenant, session: r.info.Session,
				tags: r.info.Tags, calls: 1, in: int64(mc.Usage.InputTokens), out: int64(mc.Usage.OutputTokens)}
			if p.at.IsZero() {
				p.at = e.time()
			}
			money, why := c.cost(mc.Model, mc.Usage)
			if why != "" {
				p.unpriced = 1
			}
			p.cost = money
			pts = append(pts, p)
		}
	}
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].at.Before(pts[j].at) })
	return pts
}

// Dimensions the costs page groups by.
var costDims = []struct{ Key, Name string }{
	{"model", "model"}, {"tenant", "tenant"}, {"session", "session"}, {"tag", "tag"},
}

type costGroup struct {
	Name                     string
	Calls, In, Out, Unpriced int64
	Cost                     string
	cost                     pricing.Money
}

type costSection struct {
	Title, Note string
	Chart       lineChart
	Groups      []costGroup
	Total       string
	Points      int
}

const maxSeries = 6

// costSection groups pts by dim and charts the top groups' cumulative spend.
func (c *Console) costSection(ctx context.Context, title, note string, pts []costPoint, dim string) costSection {
	sec := costSection{Title: title, Note: note, Points: len(pts)}
	groups, total := groupCosts(pts, dim)
	sec.Total = total.String()
	order := rankCostGroups(groups)
	sec.Chart = newLineChart(c.costSeries(ctx, pts, dim, order), dollars)
	for _, k := range order {
		g := groups[k]
		g.Name = c.label(ctx, g.Name)
		g.Cost = g.cost.String()
		sec.Groups = append(sec.Groups, *g)
	}
	return sec
}

// costKeys names the groups of dimension dim that p counts in: one tenant,
// session or model, or every tag.
func costKeys(p costPoint, dim string) []string {
	switch dim {
	case "tenant":
		return []string{orNone(p.tenant)}
	case "session":
		return []string{orNone(p.session)}
	case "tag":
		if len(p.tags) == 0 {
			return []string{"(no tags)"}
		}
		var ks []string
		for _, k := range slices.Sorted(maps.Keys(p.tags)) {
			ks = append(ks, k+"="+p.tags[k])
		}
		return ks
	}
	return []string{orNone(p.model)}
}

// groupCosts sums pts by their groups of dimension dim, and in total.
func groupCosts(pts []costPoint, dim string) (map[string]*costGroup, pricing.Money) {
	groups := map[string]*costGroup{}
	var total pricing.Money
	for _, p := range pts {
		total += p.cost
		for _, k := range costKeys(p, dim) {
			g := groups[k]
			if g == nil {
				g = &costGroup{Name: k}
				groups[k] = g
			}
			g.Calls += p.calls
			g.In += p.in
			g.Out += p.out
			g.Unpriced += p.unpriced
			g.cost += p.cost
		}
	}
	return groups, total
}

// rankCostGroups orders the group names by cost, then tokens, then name.
func rankCostGroups(groups map[string]*costGroup) []string {
	order := slices.Collect(maps.Keys(groups))
	sort.Slice(order, func(i, j int) bool {
		a, b := groups[order[i]], groups[order[j]]
		if a.cost != b.cost {
			return a.cost > b.cost
		}
		if a.In+a.Out != b.In+b.Out {
			return a.In+a.Out > b.In+b.Out
		}
		return a.Name < b.Name
	})
	return order
}

// costSeries is the cumulative spend over time of the top maxSeries groups
// in order, plus "other" for the rest.
func (c *Console) costSeries(ctx context.Context, pts []costPoint, dim string, order []string) []seriesData {
	top := map[string]int{}
	for i, k := range order {
		if i < maxSeries {
			top[k] = i
		}
	}
	nseries := min(len(order), maxSeries)
	other := len(order) > maxSeries
	series := make([]seriesData, nseries, nseries+1)
	for k, i := range top {
		series[i].name = c.label(ctx, k)
	}
	if other {
		series = append(series, seriesData{name: "other"})
	}
	for _, p := range pts {
		for _, k := range costKeys(p, dim) {
			i, ok := top[k]
			if !ok {
				if !other {
					continue
				}
				i = nseries
			}
			s := &series[i]
			s.total += p.cost.Dollars()
			if n := len(s.points); n > 0 && s.points[n-1].t.Equal(p.at) {
				s.points[n-1].v = s.total
			} else {
				s.points = append(s.points, seriesPoint{t: p.at, v: s.total})
			}
		}
	}
	return series
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// dollars formats an axis value.
func dollars(v float64) string {
	switch {
	case v == 0:
		return "$0"
	case v < 0.01:
		return "$" + strconv.FormatFloat(v, 'g', 3, 64)
	case v < 100:
		return "$" + strconv.FormatFloat(v, 'f', 2, 64)
	}
	return "$" + strconv.FormatFloat(v, 'f', 0, 64)
}
