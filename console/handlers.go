package console

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bedrockkit/bedrockkit/agent"
)

func (c *Console) routes() {
	m := http.NewServeMux()
	p := c.opts.Path
	m.HandleFunc("GET "+p+"/{$}", c.overview)
	if p != "" {
		m.HandleFunc("GET "+p, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, p+"/", http.StatusMovedPermanently)
		})
	}
	m.HandleFunc("GET "+p+"/runs", c.runsPage)
	m.HandleFunc("GET "+p+"/runs/{id}", c.runPage)
	m.HandleFunc("GET "+p+"/sessions", c.sessionsPage)
	m.HandleFunc("GET "+p+"/sessions/{id}", c.sessionPage)
	m.HandleFunc("GET "+p+"/kb", c.kbsPage)
	m.HandleFunc("GET "+p+"/kb/{name}", c.kbPage)
	m.HandleFunc("POST "+p+"/kb/{name}", c.kbQuery)
	m.HandleFunc("GET "+p+"/guardrails", c.guardsPage)
	m.HandleFunc("POST "+p+"/guardrails", c.guardAssess)
	m.HandleFunc("GET "+p+"/costs", c.costsPage)
	m.HandleFunc("GET "+p+"/evals", c.evalsPage)
	m.HandleFunc("GET "+p+"/evals/{id}", c.evalPage)
	m.HandleFunc("GET "+p+"/traces", c.tracesPage)
	m.HandleFunc("GET "+p+"/traces/{id}", c.tracePage)
	m.HandleFunc("GET "+p+"/live", c.live)
	static, _ := fs.Sub(assets, "assets")
	m.Handle("GET "+p+"/static/", http.StripPrefix(p+"/static/", http.FileServer(http.FS(static))))
	m.HandleFunc(p+"/", func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, http.StatusNotFound, fmt.Errorf("console: no page at %s", r.URL.Path))
	})
	c.mux = m
}

// runSummary is a run in a list.
type runSummary struct {
	ID, Agent, Session, Status, Started, Duration string
	SessionKey                                    string
	ModelCalls, ToolCalls, Guardrails, Tokens     int
	ResumeOf                                      string
	Dropped                                       int
}

func (c *Console) summaries(ctx context.Context, keep func(*runRec) bool) []runSummary {
	c.mu.Lock()
	var snaps []runSnapshot
	for i := len(c.runs) - 1; i >= 0; i-- {
		if r := c.runs[i]; keep == nil || keep(r) {
			snaps = append(snaps, c.snapshotLocked(r))
		}
	}
	c.mu.Unlock()
	out := make([]runSummary, 0, len(snaps))
	for _, s := range snaps {
		rs := runSummary{ID: s.id, Agent: c.label(ctx, s.info.Agent), Session: c.label(ctx, s.info.Session), Status: s.status,
			Started: s.started.Format("15:04:05.000"), ResumeOf: s.resumeOf, Dropped: s.dropped, SessionKey: c.sessionKey(s.info.Session)}
		end := s.ended
		for _, e := range s.events {
			switch e := e.ev.(type) {
			case agent.ModelCalled:
				rs.ModelCalls++
				rs.Tokens += e.Usage.Total()
			case agent.ToolCalled:
				rs.ToolCalls++
			case agent.GuardrailIntervened:
				rs.Guardrails++
			}
		}
		if end.IsZero() && len(s.events) > 0 {
			end = s.events[len(s.events)-1].time()
		}
		rs.Duration = fmtDur(end.Sub(s.started))
		out = append(out, rs)
	}
	return out
}

func (c *Console) overview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	runs := c.summaries(ctx, nil)
	c.mu.Lock()
	d := struct {
		Runs                        []runSummary
		RunCount, Evicted, Sessions int
		KBs                         []kbSummary
		Guards, Evals, Meters       int
		Bytes, MaxBytes             string
	}{RunCount: len(c.runs), Evicted: c.evictedRuns, Guards: len(c.guardOrder), Evals: len(c.evals), Meters: len(c.meters),
		Bytes: bytesStr(c.runBytes), MaxBytes: bytesStr(c.opts.MaxBytes)}
	sessions := map[string]bool{}
	for _, r := range c.runs {
		sessions[r.info.Session] = true
	}
	d.Sessions = len(sessions)
	c.mu.Unlock()
	d.Runs = runs[:min(len(runs), 15)]
	d.KBs = c.kbSummaries(ctx)
	c.render(w, r, http.StatusOK, "overview.html", page{Title: "Overview", Nav: "overview", Live: true, Data: d})
}

func (c *Console) runsPage(w http.ResponseWriter, r *http.Request) {
	status := r.URL.Query().Get("status")
	runs := c.summaries(r.Context(), func(rr *runRec) bool { return status == "" || rr.status == status })
	c.mu.Lock()
	evicted := c.evictedRuns
	c.mu.Unlock()
	d := struct {
		Runs    []runSummary
		Status  string
		Evicted int
	}{runs, status, evicted}
	c.render(w, r, http.StatusOK, "runs.html", page{Title: "Runs", Nav: "runs", Live: true, Data: d})
}

func (c *Console) runPage(w http.ResponseWriter, r *http.Request) {
	v, ok := c.runView(r.Context(), r.PathValue("id"))
	if !ok {
		c.fail(w, r, http.StatusNotFound, fmt.Errorf("console: no run %q; it may have been dropped by the retention limits (Options.MaxRuns, MaxBytes)", r.PathValue("id")))
		return
	}
	c.render(w, r, http.StatusOK, "run.html", page{Title: "Run " + v.ID, Nav: "runs", Live: v.Status == statusRunning || v.ResumedBy == "" && v.Status == statusPaused, Data: v})
}

type sessionSummary struct {
	ID, Key, Agent, Last, Status string
	Runs                         int
	raw                          string
}

func (c *Console) sessionsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c.mu.Lock()
	type agg struct {
		s    sessionSummary
		last time.Time
	}
	by := map[string]*agg{}
	var order []string
	for _, rr := range c.runs {
		a := by[rr.info.Session]
		if a == nil {
			a = &agg{s: sessionSummary{raw: rr.info.Session}}
			by[rr.info.Session] = a
			order = append(order, rr.info.Session)
		}
		a.s.Runs++
		a.s.Agent, a.s.Status, a.last = rr.info.Agent, rr.status, rr.started
	}
	c.mu.Unlock()
	var list []sessionSummary
	for i := len(order) - 1; i >= 0; i-- {
		a := by[order[i]]
		s := a.s
		s.ID = c.label(ctx, orNone(s.raw))
		s.Key = c.sessionKey(s.raw)
		s.Agent = c.label(ctx, s.Agent)
		s.Last = a.last.Format(time.DateTime)
		list = append(list, s)
	}
	c.render(w, r, http.StatusOK, "sessions.html", page{Title: "Sessions", Nav: "sessions", Live: true, Data: list})
}

func (c *Console) sessionPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	key := r.PathValue("id")
	c.mu.Lock()
	var ids []string
	id := ""
	for _, rr := range c.runs {
		if c.sessionKey(rr.info.Session) == key {
			ids = append(ids, rr.id)
			id = rr.info.Session
		}
	}
	c.mu.Unlock()
	if len(ids) == 0 {
		c.fail(w, r, http.StatusNotFound, errors.New("console: no run of this session is kept"))
		return
	}
	var runs []*runView
	for _, rid := range ids {
		if v, ok := c.runView(ctx, rid); ok {
			runs = append(runs, v)
		}
	}
	d := struct {
		ID   string
		Runs []*runView
	}{c.label(ctx, orNone(id)), runs}
	c.render(w, r, http.StatusOK, "session.html", page{Title: "Session", Nav: "sessions", Live: true, Data: d})
}

func (c *Console) kbsPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "kbs.html", page{Title: "Knowledge bases", Nav: "kb", Live: true, Data: c.kbSummaries(r.Context())})
}

type kbPageData struct {
	Name         string
	Playground   bool
	Syncs        []syncView
	DroppedSyncs int
	Queries      []queryView
	DroppedQuery int
	Form         playgroundForm
	Result       *queryView
	SearchTypes  []string
}

func (c *Console) kbData(ctx context.Context, name string) (kbPageData, bool) {
	c.mu.Lock()
	k := c.kbs[name]
	if k == nil {
		c.mu.Unlock()
		return kbPageData{}, false
	}
	cp := *k
	cp.syncs = slices.Clone(k.syncs)
	cp.queries = slices.Clone(k.queries)
	c.mu.Unlock()
	d := kbPageData{Name: name, Playground: cp.r != nil, DroppedSyncs: cp.droppedSyncs, DroppedQuery: cp.droppedQueries,
		SearchTypes: []string{"HYBRID", "SEMANTIC", "KEYWORD"}, Form: playgroundForm{SearchType: "HYBRID", N: "5"}}
	d.Syncs = c.syncViews(ctx, &cp)
	for i := len(cp.queries) - 1; i >= 0 && len(d.Queries) < 20; i-- {
		d.Queries = append(d.Queries, c.queryView(ctx, cp.queries[i]))
	}
	return d, true
}

func (c *Console) kbPage(w http.ResponseWriter, r *http.Request) {
	d, ok := c.kbData(r.Context(), r.PathValue("name"))
	if !ok {
		c.fail(w, r, http.StatusNotFound, fmt.Errorf("console: no knowledge base %q; add it with Console.AddKnowledgeBase, Retriever or Sync", r.PathValue("name")))
		return
	}
	c.render(w, r, http.StatusOK, "kb.html", page{Title: d.Name, Nav: "kb", Data: d})
}

func (c *Console) kbQuery(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	c.mu.Lock()
	var ret Retriever
	k := c.kbs[name]
	if k != nil {
		ret = k.r
	}
	c.mu.Unlock()
	if k == nil {
		c.fail(w, r, http.StatusNotFound, fmt.Errorf("console: no knowledge base %q", name))
		return
	}
	f := playgroundForm{Query: r.PostForm.Get("query"), SearchType: r.PostForm.Get("searchType"), Partition: r.PostForm.Get("partition"),
		Filter: r.PostForm.Get("filter"), N: r.PostForm.Get("numberOfResults")}
	d, _ := c.kbData(r.Context(), name)
	d.Form = f
	p := page{Title: d.Name, Nav: "kb", Data: &d}
	if ret == nil {
		p.Err = "console: this knowledge base has no retriever; add one with Console.AddKnowledgeBase"
		c.render(w, r, http.StatusBadRequest, "kb.html", p)
		return
	}
	q, opts, err := f.parse()
	if err != nil {
		p.Err = err.Error()
		c.render(w, r, http.StatusBadRequest, "kb.html", p)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), c.opts.QueryTimeout)
	defer cancel()
	start := time.Now()
	res, err := ret.Retrieve(ctx, q, opts)
	dur := time.Since(start)
	c.recordQuery(name, "playground", q, opts, res, dur, err)
	if fresh, ok := c.kbData(r.Context(), name); ok { // with this query in the recent ones
		fresh.Form = f
		d = fresh
	}
	qv := c.queryView(r.Context(), queryRec{at: start, source: "playground", query: q, opts: opts, results: res, duration: dur, err: err})
	d.Result = &qv
	status := http.StatusOK
	if err != nil {
		status = http.StatusBadRequest
		if errors.Is(err, context.DeadlineExceeded) {
			status = http.StatusGatewayTimeout
		}
	}
	c.render(w, r, status, "kb.html", p)
}

type guardPageData struct {
	Guards  []string
	Sources []string
	Form    guardForm
	Result  *assessView
	Took    string
}

func (c *Console) guardData() guardPageData {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := guardPageData{Guards: slices.Clone(c.guardOrder), Sources: []string{"INPUT", "OUTPUT"}, Form: guardForm{Source: "INPUT"}}
	if len(d.Guards) > 0 {
		d.Form.Guard = d.Guards[0]
	}
	return d
}

func (c *Console) guardsPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "guardrails.html", page{Title: "Guardrails", Nav: "guardrails", Data: c.guardData()})
}

func (c *Console) guardAssess(w http.ResponseWriter, r *http.Request) {
	d := c.guardData()
	f := guardForm{Guard: r.PostForm.Get("guard"), Source: r.PostForm.Get("source"), Text: r.PostForm.Get("text"),
		Grounding: r.PostForm.Get("grounding"), Query: r.PostForm.Get("query")}
	d.Form = f
	p := page{Title: "Guardrails", Nav: "guardrails", Data: &d}
	c.mu.Lock()
	g := c.guards[f.Guard]
	c.mu.Unlock()
	if g == nil {
		p.Err = fmt.Sprintf("console: no guardrail %q; add one with Console.AddGuardrail", f.Guard)
		c.render(w, r, http.StatusBadRequest, "guardrails.html", p)
		return
	}
	src, content, block, err := f.content()
	if err != nil {
		p.Err = err.Error()
		c.render(w, r, http.StatusBadRequest, "guardrails.html", p)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), c.opts.QueryTimeout)
	defer cancel()
	start := time.Now()
	res, err := g.Assess(ctx, src, content...)
	d.Took = fmtDur(time.Since(start))
	if err != nil {
		p.Err = "console: the guardrail failed: " + err.Error()
		c.render(w, r, http.StatusBadGateway, "guardrails.html", p)
		return
	}
	av := assessmentView(res, f.Text, block)
	d.Result = &av
	c.render(w, r, http.StatusOK, "guardrails.html", p)
}

func (c *Console) costsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c.sampleMeters(time.Now(), true)
	by := r.URL.Query().Get("by")
	valid := false
	for _, d := range costDims {
		valid = valid || d.Key == by
	}
	if !valid {
		by = "model"
	}
	c.mu.Lock()
	meterPts := slices.Clone(c.costPts)
	dropped := c.droppedPts
	var meterNames []string
	for _, m := range c.meters {
		meterNames = append(meterNames, m.name)
	}
	c.mu.Unlock()
	d := struct {
		By       string
		Dims     []struct{ Key, Name string }
		Sections []costSection
		Meters   bool
		Dropped  int
	}{By: by, Dims: costDims, Meters: len(meterNames) > 0, Dropped: dropped}
	if len(meterNames) > 0 {
		d.Sections = append(d.Sections, c.costSection(ctx, "Metered spend ("+strings.Join(meterNames, ", ")+")",
			"What the pricing meters counted, sampled every "+c.opts.CostSampleInterval.String()+" while the console is used.", meterPts, by))
	}
	if pts := c.runCostPoints(); len(pts) > 0 {
		d.Sections = append(d.Sections, c.costSection(ctx, "Agent model calls (kept runs)",
			"Every model call of the runs the console keeps, priced with the catalog of "+c.opts.Catalog.AsOf()+". Calls whose model reports no ID cannot be priced.", pts, by))
	}
	c.render(w, r, http.StatusOK, "costs.html", page{Title: "Costs", Nav: "costs", Live: true, Data: d})
}

func (c *Console) evalsPage(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	evals := slices.Clone(c.evals)
	c.mu.Unlock()
	var list []evalSummary
	for i := len(evals) - 1; i >= 0; i-- {
		list = append(list, c.evalSummary(r.Context(), evals[i]))
	}
	c.render(w, r, http.StatusOK, "evals.html", page{Title: "Evaluations", Nav: "evals", Live: true, Data: list})
}

func (c *Console) evalPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	c.mu.Lock()
	var e *evalRec
	for _, x := range c.evals {
		if x.id == id {
			e = x
		}
	}
	c.mu.Unlock()
	if e == nil {
		c.fail(w, r, http.StatusNotFound, fmt.Errorf("console: no evaluation report %q", id))
		return
	}
	v := c.evalView(r.Context(), e)
	c.render(w, r, http.StatusOK, "eval.html", page{Title: v.Name, Nav: "evals", Data: v})
}

func (c *Console) tracesPage(w http.ResponseWriter, r *http.Request) {
	list, dropped := c.traceSummaries(r.Context())
	d := struct {
		Traces  []traceSummary
		Dropped int
	}{list, dropped}
	c.render(w, r, http.StatusOK, "traces.html", page{Title: "Traces", Nav: "traces", Live: true, Data: d})
}

func (c *Console) tracePage(w http.ResponseWriter, r *http.Request) {
	v := c.traceView(r.Context(), r.PathValue("id"))
	if !v.Found {
		c.fail(w, r, http.StatusNotFound, fmt.Errorf("console: no spans of trace %q are kept", r.PathValue("id")))
		return
	}
	c.render(w, r, http.StatusOK, "trace.html", page{Title: "Trace", Nav: "traces", Live: true, Data: v})
}

// live streams a "change" event whenever the console's data changes, at
// most twice a second, for the pages' live updates.
func (c *Console) live(w http.ResponseWriter, r *http.Request) {
	if int(c.nsubs.Add(1)) > c.opts.MaxLiveClients {
		c.nsubs.Add(-1)
		http.Error(w, "console: too many live connections", http.StatusServiceUnavailable)
		return
	}
	defer c.nsubs.Add(-1)
	ch := make(chan struct{}, 1)
	c.subsMu.Lock()
	c.subs[ch] = struct{}{}
	c.subsMu.Unlock()
	defer func() {
		c.subsMu.Lock()
		delete(c.subs, ch)
		c.subsMu.Unlock()
	}()
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(s string) bool {
		rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := fmt.Fprint(w, s); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send("retry: 2000\nevent: hello\ndata: " + strconv.FormatUint(c.version.Load(), 10) + "\n\n") {
		return
	}
	heartbeat := time.NewTicker(15 * time.Second)
	defer heartbeat.Stop()
	sample := time.NewTicker(c.opts.CostSampleInterval)
	defer sample.Stop()
	throttle := time.NewTimer(0)
	defer throttle.Stop()
	ctx := r.Context()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.closed:
			return
		case <-heartbeat.C:
			if !send(": keep-alive\n\n") {
				return
			}
		case <-sample.C:
			c.sampleMeters(time.Now(), false)
		case <-ch:
			select { // at most one update per half second
			case <-throttle.C:
			case <-ctx.Done():
				return
			case <-c.closed:
				return
			}
			if !send("event: change\ndata: " + strconv.FormatUint(c.version.Load(), 10) + "\n\n") {
				return
			}
			throttle.Reset(500 * time.Millisecond)
		}
	}
}

func bytesStr(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}
