package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/console"
	"github.com/bedrockkit/bedrockkit/kb"
)

// The end-to-end tests drive the console in a real headless Chromium.

// xssTrap replaces the dialogs a script injected into a page would open:
// they mark the document instead, which the tests check.
const xssTrap = `(() => {
  const hit = (what) => { document.documentElement.dataset.xss = (document.documentElement.dataset.xss || "") + what + ";"; };
  window.alert = () => hit("alert"); window.confirm = () => hit("confirm"); window.prompt = () => hit("prompt");
})();`

type browser struct {
	t    *testing.T
	ctx  context.Context
	base string

	mu   sync.Mutex
	msgs []chromedp.ConsoleMessage
}

// newBrowser starts Chromium on a fresh profile, with the console served
// on 127.0.0.1.
func newBrowser(t *testing.T, c *console.Console) *browser {
	t.Helper()
	exe := chromiumPath(t)
	srv := httptest.NewServer(c)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tab, cancelTab := chromedp.NewContext(alloc)
	ctx, cancel := context.WithTimeout(tab, 90*time.Second)
	b := &browser{t: t, ctx: ctx, base: srv.URL}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		cancelTab()
		cancelAlloc() // kills Chromium and waits for it
		wg.Wait()
		c.Close() // ends the live-update streams, so the server can close
		srv.Close()
	})
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: xssTrap})
		return err
	})); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	msgs := chromedp.Console(ctx)
	wg.Go(func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.msgs = append(b.msgs, m)
			b.mu.Unlock()
		}
	})
	return b
}

// open loads path and waits for the page, and for its live updates to
// connect when it has them.
func (b *browser) open(path string) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Navigate(b.base+path), chromedp.WaitVisible(chromedp.CSS("main"))); err != nil {
		b.t.Fatalf("open %s: %v", path, err)
	}
	live, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.body.dataset.live === "1"`))
	if err != nil {
		b.t.Fatal(err)
	}
	if live {
		if err := chromedp.Do(b.ctx, chromedp.WaitVisible(chromedp.CSS("#live-state.on"))); err != nil {
			b.t.Fatalf("%s: live updates did not connect: %v", path, err)
		}
	}
}

func js[T any](b *browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// problems returns the console errors, exceptions and warnings so far, and
// any dialog a script tried to open.
func (b *browser) problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.msgs {
		if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning || m.IsException() {
			out = append(out, fmt.Sprintf("%s (%s)", m, m.URL))
		}
	}
	return out
}

func (b *browser) checkClean(where string) {
	b.t.Helper()
	if xss := js[string](b, `document.documentElement.dataset.xss || ""`); xss != "" {
		b.t.Errorf("%s: injected script ran: %s", where, xss)
	}
	if p := b.problems(); len(p) > 0 {
		b.t.Errorf("%s: console problems:\n%s", where, strings.Join(p, "\n"))
	}
}

// TestBrowserPagesRender opens every page: each renders with its
// stylesheet and script, connects its live updates, runs no injected
// script and logs no error (a Content-Security-Policy violation would be
// one). With BEDROCKKIT_CONSOLE_SCREENSHOTS=dir it also saves the main
// pages as PNG (docs/console-*.png are made so).
func TestBrowserPagesRender(t *testing.T) {
	shots := os.Getenv("BEDROCKKIT_CONSOLE_SCREENSHOTS")
	if shots != "" {
		old := demoLatency
		demoLatency = 30 * time.Millisecond
		defer func() { demoLatency = old }()
	}
	opts := console.Options{Redaction: console.Redaction{Guard: newGuard(t)}}
	if shots != "" {
		opts.CostSampleInterval = time.Millisecond // a meter sample at every run's end
	}
	d := newDemo(t, opts)
	defer d.cleanup()
	b := newBrowser(t, d.c)
	pages := []string{"/", "/runs", "/runs/r1", "/runs/r2", "/runs/r3", "/runs/r4", "/runs/r5", "/sessions", "/kb",
		"/kb/bank-docs", "/guardrails", "/costs", "/costs?by=tenant", "/costs?by=tag", "/evals", "/evals/e1", "/traces"}
	for _, p := range pages {
		b.open(p)
		if bg := js[string](b, `getComputedStyle(document.querySelector("header.top")).backgroundColor`); bg != "rgb(24, 32, 44)" {
			t.Errorf("%s: the stylesheet is not applied (header %s)", p, bg)
		}
		if title := js[string](b, `document.title`); !strings.HasSuffix(title, "· bedrockkit console") {
			t.Errorf("%s: title %q", p, title)
		}
		b.checkClean(p)
	}
	if shots != "" {
		screenshots(t, b, d, shots)
	}
}

// TestBrowserRunTimeline: the multi-step run shows three steps; the two
// tool calls of step 1 sit in its parallel group and their bars overlap in
// the timeline; a link to a tool call opens it.
func TestBrowserRunTimeline(t *testing.T) {
	d := newDemo(t, console.Options{})
	defer d.cleanup()
	b := newBrowser(t, d.c)
	b.open("/runs/" + d.multi)
	type step struct {
		N        string   `json:"n"`
		Models   int      `json:"models"`
		Parallel bool     `json:"parallel"`
		Tools    []string `json:"tools"`
		Nested   bool     `json:"nested"`
	}
	steps := js[[]step](b, `[...document.querySelectorAll("li.iteration")].map(li => ({
		n: li.dataset.iteration,
		models: li.querySelectorAll(":scope > details > details.model-call").length,
		parallel: !!li.querySelector(":scope > details > div.tools.parallel"),
		tools: [...li.querySelectorAll("details.tool-call")].map(d => d.dataset.tool),
		nested: [...li.querySelectorAll("details.tool-call")].every(d => d.closest("li.iteration") === li && d.parentElement.classList.contains("tools")),
	}))`)
	want := []step{
		{"1", 1, true, []string{"get_weather", "get_local_time"}, true},
		{"2", 1, false, []string{"lookup_account"}, true},
		{"3", 1, false, nil, true},
	}
	if len(steps) != len(want) {
		t.Fatalf("steps %+v", steps)
	}
	for i := range want {
		g := steps[i]
		if g.N != want[i].N || g.Models != want[i].Models || g.Parallel != want[i].Parallel || !slices.Equal(g.Tools, want[i].Tools) || !g.Nested {
			t.Errorf("step %d: %+v, want %+v", i+1, g, want[i])
		}
	}
	// The bars of the parallel calls overlap on the time axis; the next
	// step's model call starts after both.
	type box struct{ X, W float64 }
	bars := js[map[string]box](b, `Object.fromEntries([...document.querySelectorAll("svg.gantt a.gantt-row")].map(a => {
		const r = a.querySelector("rect"); return [a.getAttribute("href").slice(1), {X: +r.getAttribute("x"), W: +r.getAttribute("width")}];
	}))`)
	w, lt, m2 := bars["it1-t1"], bars["it1-t2"], bars["it2-m"]
	if !(w.X < lt.X+lt.W && lt.X < w.X+w.W) {
		t.Errorf("the parallel calls' bars do not overlap: %+v %+v", w, lt)
	}
	if m2.X < w.X+w.W-1 || m2.X < lt.X+lt.W-1 {
		t.Errorf("step 2's model call starts before the tools end: %+v vs %+v %+v", m2, w, lt)
	}
	// A link to a step opens it, even inside a closed group.
	b.open("/runs/" + d.multi + "#it1-t2")
	if open := js[bool](b, `document.getElementById("it1-t2").open`); !open {
		t.Error("the linked tool call is not open")
	}
	if open := js[bool](b, `document.getElementById("it1-t1").open`); open {
		t.Error("an unlinked tool call is open")
	}
	// Clicking a tool call expands it and shows its arguments.
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS("#it2-t1 > summary")), chromedp.WaitVisible(chromedp.CSS("#it2-t1 pre.field"))); err != nil {
		t.Fatal(err)
	}
	if args := js[string](b, `document.querySelector("#it2-t1 pre.field").textContent`); !strings.Contains(args, `"account": "C-1001"`) {
		t.Errorf("arguments %q", args)
	}
	b.checkClean("run timeline")
}

// TestBrowserPlayground: the query playground, filled in and submitted in
// the browser, shows exactly the results Retrieve returns.
func TestBrowserPlayground(t *testing.T) {
	d := newDemo(t, console.Options{})
	defer d.cleanup()
	b := newBrowser(t, d.c)
	type result struct {
		ID    string `json:"id"`
		Doc   string `json:"doc"`
		Score string `json:"score"`
		Text  string `json:"text"`
	}
	filter := `{"orAll":[{"equals":{"key":"type","value":"faq"}},{"greaterThanOrEquals":{"key":"year","value":2026}}]}`
	for _, tc := range []struct {
		query, st, n, filter string
	}{
		{"what does a wire transfer cost", "HYBRID", "5", ""},
		{"lost card replacement", "SEMANTIC", "3", ""},
		{"monthly fee waived balance", "KEYWORD", "4", ""},
		{"card or wire", "HYBRID", "10", filter},
	} {
		b.open("/kb/bank-docs")
		steps := []chromedp.Action[chromedp.Void]{
			chromedp.SetValue(chromedp.ID("query"), tc.query),
			chromedp.SetValue(chromedp.ID("searchType"), tc.st),
			chromedp.SetValue(chromedp.ID("numberOfResults"), tc.n),
		}
		if tc.filter != "" { // (chromedp cannot set an empty value; the field starts empty)
			steps = append(steps, chromedp.SetValue(chromedp.ID("filter"), tc.filter))
		}
		steps = append(steps, chromedp.Click(chromedp.ID("search")), chromedp.WaitVisible(chromedp.ID("results")))
		if err := chromedp.Do(b.ctx, steps...); err != nil {
			t.Fatalf("%s %q: %v", tc.st, tc.query, err)
		}
		got := js[[]result](b, `[...document.querySelectorAll("#results li.result")].map(li => ({
			id: li.dataset.id, doc: li.dataset.document, score: li.dataset.score, text: li.querySelector("pre.chunk").textContent}))`)
		opts := kb.RetrieveOptions{SearchType: kb.SearchType(tc.st)}
		fmt.Sscan(tc.n, &opts.NumberOfResults)
		if tc.filter != "" {
			var f kb.Filter
			if err := json.Unmarshal([]byte(tc.filter), &f); err != nil {
				t.Fatal(err)
			}
			opts.Filter = f
		}
		want, err := d.kb.Retrieve(context.Background(), tc.query, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) || len(want) == 0 {
			t.Fatalf("%s %q: the page shows %d results, Retrieve returns %d", tc.st, tc.query, len(got), len(want))
		}
		for i, w := range want {
			g := got[i]
			if g.ID != w.ID || g.Doc != w.DocumentID || g.Score != fmt.Sprint(w.Score) || g.Text != w.Text {
				t.Errorf("%s %q result %d: page %+v, Retrieve %+v", tc.st, tc.query, i+1, g, w)
			}
		}
		// The form keeps what was asked.
		if v := js[string](b, `document.getElementById("searchType").value`); v != tc.st {
			t.Errorf("search type after submit: %q", v)
		}
	}
	b.checkClean("playground")
}

// TestBrowserGuardrail: pasted text is assessed and the matched spans are
// marked in it.
func TestBrowserGuardrail(t *testing.T) {
	d := newDemo(t, console.Options{})
	defer d.cleanup()
	b := newBrowser(t, d.c)
	b.open("/guardrails")
	txt := "Any hot stocks? Write to ana@example.com about C-4321. " + hostile
	if err := chromedp.Do(b.ctx,
		chromedp.SetValue(chromedp.ID("text"), txt),
		chromedp.Click(chromedp.ID("assess")),
		chromedp.WaitVisible(chromedp.ID("assessment")),
	); err != nil {
		t.Fatal(err)
	}
	if got := js[string](b, `document.getElementById("highlighted").textContent`); got != txt {
		t.Errorf("highlighted text %q", got)
	}
	marks := js[map[string]string](b, `Object.fromEntries([...document.querySelectorAll("#highlighted mark")].map(m => [m.textContent, m.className]))`)
	for span, class := range map[string]string{"hot stocks": "word", "ana@example.com": "pii", "C-4321": "pii"} {
		if marks[span] != class {
			t.Errorf("%q marked %q, want %q (%v)", span, marks[span], class, marks)
		}
	}
	b.checkClean("guardrail")
}

// TestBrowserLiveUpdate: a run recorded while the runs page is open
// appears without a reload, and an open step stays open.
func TestBrowserLiveUpdate(t *testing.T) {
	d := newDemo(t, console.Options{})
	defer d.cleanup()
	b := newBrowser(t, d.c)
	b.open("/runs")
	js[bool](b, `window.__sameDocument = true`)
	obs := d.c.Observer(console.RunInfo{Agent: "late-agent", Session: "late"})
	obs(agent.ModelCalled{Iteration: 1, Start: time.Now(), Duration: time.Millisecond, Usage: bedrockkit.Usage{InputTokens: 5, OutputTokens: 1}})
	obs(agent.Finished{Result: &agent.RunResult{SessionID: "late", Output: "ok"}})
	if err := chromedp.Do(b.ctx, chromedp.WaitVisible(chromedp.CSS(`tr[data-run="r6"]`))); err != nil {
		t.Fatalf("the new run did not appear: %v", err)
	}
	if same := js[bool](b, `window.__sameDocument === true`); !same {
		t.Error("the page reloaded instead of updating")
	}
	b.checkClean("live update")
}

// screenshots saves the main pages as PNG files in dir.
func screenshots(t *testing.T, b *browser, d *demo, dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := func(name, path string, actions ...chromedp.Action[chromedp.Void]) {
		b.open(path)
		if err := chromedp.Do(b.ctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		js[bool](b, `window.scrollTo(0, 0), true`)
		png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "console-"+name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	shot("overview", "/")
	shot("run", "/runs/"+d.multi, chromedp.Click(chromedp.CSS("#it1-t1 > summary")), chromedp.Click(chromedp.CSS("#it2-t1 > summary")))
	b.open("/runs/r2")
	session := js[string](b, `document.querySelector("dl.facts a[href*='/sessions/']").getAttribute("href")`)
	shot("session", session)
	shot("knowledge-base", "/kb/bank-docs",
		chromedp.SetValue(chromedp.ID("query"), "what does a wire transfer cost"),
		chromedp.SetValue(chromedp.ID("numberOfResults"), "3"),
		chromedp.Click(chromedp.ID("search")), chromedp.WaitVisible(chromedp.ID("results")))
	shot("guardrail", "/guardrails",
		chromedp.SetValue(chromedp.ID("text"), "Any hot stocks tips? Write to ana@example.com about account C-4321, and should I buy bitcoin?"),
		chromedp.Click(chromedp.ID("assess")), chromedp.WaitVisible(chromedp.ID("assessment")))
	shot("costs", "/costs?by=session")
	shot("evaluation", "/evals/e1")
}
