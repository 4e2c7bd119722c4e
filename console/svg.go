package console

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The charts are laid out here, in Go, and written as SVG by the templates
// (so every label goes through html/template's escaping). Colours come from
// classes in console.css: no inline styles, which the Content-Security-Policy
// forbids.

// gantt is a run's timeline: one bar per model or tool call.
type gantt struct {
	Width, Height, LabelW int
	Rows                  []ganttRow
	Ticks                 []tick
	Empty                 bool
}

type ganttRow struct {
	Y, TextY     int
	Label, Title string
	X, W         float64
	Class, Href  string
	Indent       int
}

type tick struct {
	X, Y   float64
	Label  string
	Anchor string // text-anchor: start, middle or end
}

// anchored sets the first tick's text to start at it and the last one's to
// end at it, so neither is cut at the chart's edge.
func anchored(ts []tick) []tick {
	for i := range ts {
		ts[i].Anchor = "middle"
	}
	if n := len(ts); n > 1 {
		ts[0].Anchor, ts[n-1].Anchor = "start", "end"
	}
	return ts
}

// shortModel drops a model ID's region and provider prefixes
// ("us.anthropic.claude-..." is "claude-...").
func shortModel(id string) string {
	if i := strings.LastIndex(id, "/"); i >= 0 { // an ARN
		id = id[i+1:]
	}
	parts := strings.Split(id, ".")
	if len(parts) > 1 {
		return strings.Join(parts[len(parts)-1:], ".")
	}
	return id
}

// ellipsis cuts s to at most n runes, ending with "…" when cut.
func ellipsis(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

const (
	ganttW      = 960
	ganttLabelW = 220
	ganttRowH   = 22
	ganttTop    = 24
)

func runGantt(v *runView) gantt {
	g := gantt{Width: ganttW, LabelW: ganttLabelW}
	type bar struct {
		label, title, class, href string
		off, dur                  time.Duration
		indent                    int
	}
	var bars []bar
	total := v.Duration
	for _, it := range v.Iterations {
		if m := it.Model; m != nil {
			class := "bar-model"
			if m.Err != "" {
				class = "bar-error"
			}
			name := "model"
			if m.Model != "" {
				name = shortModel(m.Model)
			}
			bars = append(bars, bar{label: fmt.Sprintf("%d · %s", it.N, name), class: class, href: "#" + m.Anchor,
				title: fmt.Sprintf("model call %d: %s, %d in / %d out tokens", it.N, fmtDur(m.Duration), m.Usage.InputTokens, m.Usage.OutputTokens),
				off:   m.Offset, dur: m.Duration})
			total = max(total, m.Offset+m.Duration)
		}
		for _, t := range it.Tools {
			class := "bar-tool"
			if t.StatusClass == "error" {
				class = "bar-error"
			} else if !t.Ran {
				class = "bar-skip"
			}
			bars = append(bars, bar{label: t.Name, class: class, href: "#" + t.Anchor, indent: 1,
				title: fmt.Sprintf("tool %s: %s, %s", t.Name, fmtDur(t.Duration), t.Status), off: t.Offset, dur: t.Duration})
			total = max(total, t.Offset+t.Duration)
		}
	}
	if len(bars) == 0 {
		g.Empty = true
		return g
	}
	if total <= 0 {
		total = time.Millisecond
	}
	plot := float64(ganttW - ganttLabelW - 16)
	scale := plot / float64(total)
	for i, b := range bars {
		y := ganttTop + i*ganttRowH
		w := math.Max(float64(b.dur)*scale, 2)
		x := float64(ganttLabelW) + float64(b.off)*scale
		if x+w > float64(ganttW-8) {
			x = float64(ganttW-8) - w
		}
		label := ellipsis(b.label, 30)
		g.Rows = append(g.Rows, ganttRow{Y: y + 3, TextY: y + 15, Label: label, Title: b.title, X: round1(x), W: round1(w),
			Class: b.class, Href: b.href, Indent: 8 + 14*b.indent})
	}
	g.Height = ganttTop + len(bars)*ganttRowH + 8
	for _, f := range []float64{0, 0.25, 0.5, 0.75, 1} {
		g.Ticks = append(g.Ticks, tick{X: round1(float64(ganttLabelW) + f*plot), Label: fmtDur(time.Duration(f * float64(total)))})
	}
	g.Ticks = anchored(g.Ticks)
	return g
}

// lineChart draws cumulative series over time.
type lineChart struct {
	Width, Height int
	Left, Bottom  int
	Series        []lineSeries
	XTicks        []tick
	YTicks        []tick
	Empty         bool
}

type lineSeries struct {
	Name, Total, Class string
	Points             string // SVG polyline points
	LastX, LastY       float64
}

type seriesData struct {
	name   string
	points []seriesPoint // time order
	total  float64
}

type seriesPoint struct {
	t time.Time
	v float64 // cumulative
}

const (
	chartW      = 760
	chartH      = 240
	chartLeft   = 72
	chartBottom = 28
	chartTop    = 12
	chartRight  = 16
)

// newLineChart lays out series sharing one time axis; format renders a
// value on the Y axis.
func newLineChart(series []seriesData, format func(float64) string) lineChart {
	lc := lineChart{Width: chartW, Height: chartH, Left: chartLeft, Bottom: chartH - chartBottom}
	var t0, t1 time.Time
	ymax := 0.0
	for _, s := range series {
		for _, p := range s.points {
			if t0.IsZero() || p.t.Before(t0) {
				t0 = p.t
			}
			if p.t.After(t1) {
				t1 = p.t
			}
			ymax = math.Max(ymax, p.v)
		}
	}
	if t0.IsZero() {
		lc.Empty = true
		return lc
	}
	if !t1.After(t0) {
		t0 = t0.Add(-time.Second)
	}
	if ymax <= 0 {
		ymax = 1
	}
	ymax = niceCeil(ymax)
	pw := float64(chartW - chartLeft - chartRight)
	ph := float64(chartH - chartBottom - chartTop)
	span := float64(t1.Sub(t0))
	xOf := func(t time.Time) float64 { return float64(chartLeft) + float64(t.Sub(t0))/span*pw }
	yOf := func(v float64) float64 { return float64(chartTop) + ph - v/ymax*ph }
	for i, s := range series {
		var b strings.Builder
		prev := 0.0
		for j, p := range s.points {
			x, y := xOf(p.t), yOf(p.v)
			if j == 0 {
				fmt.Fprintf(&b, "%.1f,%.1f ", x, yOf(0))
			} else { // a step: the total holds until the next point
				fmt.Fprintf(&b, "%.1f,%.1f ", x, yOf(prev))
			}
			fmt.Fprintf(&b, "%.1f,%.1f ", x, y)
			prev = p.v
		}
		x := float64(chartW - chartRight)
		fmt.Fprintf(&b, "%.1f,%.1f", x, yOf(prev))
		lc.Series = append(lc.Series, lineSeries{Name: s.name, Total: format(s.total), Class: "s" + strconv.Itoa(i%8),
			Points: b.String(), LastX: x, LastY: round1(yOf(prev))})
	}
	for i := 0; i <= 4; i++ {
		v := ymax * float64(i) / 4
		lc.YTicks = append(lc.YTicks, tick{X: chartLeft - 6, Y: round1(yOf(v)), Label: format(v)})
	}
	layout := "15:04:05"
	switch d := t1.Sub(t0); {
	case d > 24*time.Hour:
		layout = "Jan 2 15:04"
	case d < 10*time.Second:
		layout = "15:04:05.000"
	}
	for i := 0; i <= 4; i++ {
		t := t0.Add(time.Duration(float64(t1.Sub(t0)) * float64(i) / 4))
		lc.XTicks = append(lc.XTicks, tick{X: round1(xOf(t)), Y: float64(chartH - chartBottom + 16), Label: t.Format(layout)})
	}
	lc.XTicks = anchored(lc.XTicks)
	return lc
}

// barChart is a horizontal bar per item.
type barChart struct {
	Width, Height, LabelW int
	Bars                  []hbar
	Empty                 bool
}

type hbar struct {
	Y, TextY     int
	W            float64
	Label, Value string
	Class        string
	ValueX       float64
}

// newBarChart lays out bars for values (all >= 0), largest first unless
// keepOrder.
func newBarChart(labels []string, values []float64, format func(float64) string, keepOrder bool, maxV float64) barChart {
	bc := barChart{Width: chartW, LabelW: 240}
	idx := make([]int, len(values))
	for i := range idx {
		idx[i] = i
	}
	if !keepOrder {
		sort.SliceStable(idx, func(a, b int) bool { return values[idx[a]] > values[idx[b]] })
	}
	for _, v := range values {
		maxV = math.Max(maxV, v)
	}
	if len(values) == 0 {
		bc.Empty = true
		return bc
	}
	if maxV <= 0 {
		maxV = 1
	}
	pw := float64(chartW - bc.LabelW - 110)
	for row, i := range idx {
		y := 8 + row*24
		w := math.Max(values[i]/maxV*pw, 1)
		label := ellipsis(labels[i], 40)
		bc.Bars = append(bc.Bars, hbar{Y: y, TextY: y + 13, W: round1(w), Label: label, Value: format(values[i]),
			Class: "s" + strconv.Itoa(row%8), ValueX: round1(float64(bc.LabelW) + w + 6)})
	}
	bc.Height = 16 + len(idx)*24
	return bc
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// fmtDur shows a duration with three significant digits.
func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "0"
	case d < time.Microsecond:
		return d.String()
	case d < time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e3, 'f', 1, 64) + "µs"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) + "ms"
	case d < time.Minute:
		return strconv.FormatFloat(float64(d)/1e9, 'f', 2, 64) + "s"
	}
	return d.Round(time.Second).String()
}
