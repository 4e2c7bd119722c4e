package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"golang.org/x/net/html"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/console"
	"github.com/bedrockkit/bedrockkit/eval"
	"github.com/bedrockkit/bedrockkit/guardrail"
	"github.com/bedrockkit/bedrockkit/kb"
)

// form is a browser session with the console: it keeps the CSRF cookie.
type form struct {
	t      *testing.T
	h      http.Handler
	cookie *http.Cookie
}

// token loads path and returns the form token of its page.
func (f *form) token(path string) string {
	f.t.Helper()
	req := httptest.NewRequest("GET", "http://localhost"+path, nil)
	if f.cookie != nil {
		req.AddCookie(f.cookie)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Name == "bkconsole_csrf" {
			f.cookie = c
		}
	}
	m := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindStringSubmatch(rec.Body.String())
	if m == nil {
		f.t.Fatalf("GET %s: no CSRF field:\n%s", path, rec.Body.String())
	}
	return m[1]
}

func (f *form) post(path string, vals url.Values, hdr map[string]string) (int, string) {
	f.t.Helper()
	req := httptest.NewRequest("POST", "http://localhost"+path, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if f.cookie != nil {
		req.AddCookie(f.cookie)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// TestHostileContentIsText: script and markup in tool arguments, results,
// model errors, chunk text and pasted text are shown as text on every page.
func TestHostileContentIsText(t *testing.T) {
	d := newDemo(t, console.Options{})
	defer d.cleanup()
	f := &form{t: t, h: d.c}
	bodies := map[string]string{}
	for _, p := range []string{"/", "/runs", "/runs/r5", "/sessions", "/kb/bank-docs", "/costs?by=tag", "/evals/e1"} {
		_, bodies[p] = get(t, d.c, p)
	}
	shows := map[string]bool{"/runs/r5": true, "/costs?by=tag": true, "playground": true, "guardrail": true}
	tok := f.token("/kb/bank-docs")
	_, bodies["playground"] = f.post("/kb/bank-docs", url.Values{"csrf": {tok}, "query": {"markup " + hostile}, "searchType": {"KEYWORD"}, "numberOfResults": {"10"}}, nil)
	tok = f.token("/guardrails")
	_, bodies["guardrail"] = f.post("/guardrails", url.Values{"csrf": {tok}, "guard": {"demo"}, "source": {"INPUT"}, "text": {hostile + " mail me at bob@example.com"}}, nil)
	for p, body := range bodies {
		if shows[p] && !strings.Contains(body, "&lt;script&gt;alert(") {
			t.Errorf("%s: the hostile text is not shown escaped", p)
		}
		for _, bad := range []string{"<script>alert", "<img src=x", "<svg onload", "onerror=alert(1)>\""} {
			if strings.Contains(body, bad) {
				t.Errorf("%s: raw %q in the page", p, bad)
			}
		}
		doc := parseHTML(t, body)
		scripts := find(doc, func(n *html.Node) bool { return n.Data == "script" })
		if len(scripts) != 1 || !strings.HasSuffix(attr(scripts[0], "src"), "/static/console.js") {
			t.Errorf("%s: %d script elements; want only the console's own", p, len(scripts))
		}
		for _, n := range find(doc, func(*html.Node) bool { return true }) {
			for _, a := range n.Attr {
				if strings.HasPrefix(a.Key, "on") {
					t.Errorf("%s: event handler attribute %s=%q on <%s>", p, a.Key, a.Val, n.Data)
				}
			}
		}
	}
}

// TestRunTimeline: the multi-step run shows each model call with its
// tokens and cost, the two tool calls of step 1 grouped under it as
// parallel, the tool of step 2 and the final answer.
func TestRunTimeline(t *testing.T) {
	d := newDemo(t, console.Options{})
	defer d.cleanup()
	_, body := get(t, d.c, "/runs/"+d.multi)
	doc := parseHTML(t, body)
	iters := byClass(doc, "li", "iteration")
	if len(iters) != 3 {
		t.Fatalf("%d steps, want 3", len(iters))
	}
	want := [][]string{{"get_weather", "get_local_time"}, {"lookup_account"}, nil}
	for i, it := range iters {
		if got := attr(it, "data-iteration"); got != strconv.Itoa(i+1) {
			t.Errorf("step %d: data-iteration %q", i+1, got)
		}
		models := byClass(it, "details", "model-call")
		if len(models) != 1 {
			t.Errorf("step %d: %d model calls", i+1, len(models))
		}
		var names []string
		for _, tc := range byClass(it, "details", "tool-call") {
			names = append(names, attr(tc, "data-tool"))
			if p := tc.Parent; !hasClass(p, "tools") {
				t.Errorf("step %d: tool %s not inside the step's tool group", i+1, attr(tc, "data-tool"))
			}
		}
		if fmt.Sprint(names) != fmt.Sprint(want[i]) {
			t.Errorf("step %d: tools %v, want %v", i+1, names, want[i])
		}
		par := byClass(it, "div", "parallel")
		if (len(want[i]) > 1) != (len(par) == 1) {
			t.Errorf("step %d: parallel group %d", i+1, len(par))
		}
	}
	s := text(iters[0])
	for _, w := range []string{"812→64 tokens", "in parallel", "$0.0009056"} {
		if !strings.Contains(s, w) {
			t.Errorf("step 1 does not show %q:\n%s", w, s)
		}
	}
	if !strings.Contains(text(iters[2]), "21°C and clear in Paris") {
		t.Error("the answer is missing")
	}
	// The timeline SVG has a bar per call, linking to the step.
	if bars := find(doc, func(n *html.Node) bool { return n.Data == "a" && hasClass(n, "gantt-row") }); len(bars) != 6 {
		t.Errorf("%d timeline bars, want 6 (3 model calls, 3 tool calls)", len(bars))
	}
	for _, id := range []string{"it1-m", "it1-t1", "it1-t2", "it2-t1", "it3-m"} {
		if byID(doc, id) == nil {
			t.Errorf("no element #%s to link to", id)
		}
	}
}

// TestPauseResumeAndSession: the paused run links to the run that resumed
// it, and the session page shows both.
func TestPauseResumeAndSession(t *testing.T) {
	d := newDemo(t, console.Options{})
	defer d.cleanup()
	_, body := get(t, d.c, "/runs/r2")
	if !strings.Contains(body, "Paused: 1 call(s) wait for the caller") || !strings.Contains(body, `href="/runs/r3"`) {
		t.Errorf("the paused run does not show its pause and its resumption:\n%s", body)
	}
	_, body = get(t, d.c, "/runs/r3")
	if !strings.Contains(body, `href="/runs/r2"`) || !strings.Contains(body, "transferred") {
		t.Errorf("the resumed run does not link back or show the confirmed call")
	}
	doc := parseHTML(t, body)
	sess := find(doc, func(n *html.Node) bool { return n.Data == "a" && strings.HasPrefix(attr(n, "href"), "/sessions/") })
	if len(sess) == 0 {
		t.Fatal("no session link")
	}
	if strings.Contains(attr(sess[0], "href"), "ben") {
		t.Errorf("session link %q shows the session ID", attr(sess[0], "href"))
	}
	res, body := get(t, d.c, attr(sess[0], "href"))
	if res.StatusCode != 200 || strings.Count(body, `class="run"`) != 2 {
		t.Errorf("the session page does not hold the two runs: %d", res.StatusCode)
	}
}

// TestGuardrailInRun: the guardrail's intervention is in the run.
func TestGuardrailInRun(t *testing.T) {
	d := newDemo(t, console.Options{})
	defer d.cleanup()
	_, body := get(t, d.c, "/runs/r4")
	for _, w := range []string{"Guardrail blocked the input", "topics, words", "Stopped by the guardrail (input)"} {
		if !strings.Contains(body, w) {
			t.Errorf("run r4 does not show %q", w)
		}
	}
}

// TestRedaction: secrets and PII never reach a page unless redaction is
// disabled; a guard passed in Redaction masks what it would mask.
func TestRedaction(t *testing.T) {
	secrets := []string{"ana@example.com", "555-123-4567", "sk-live-0123456789abcdefghijklmnop"}
	d := newDemo(t, console.Options{})
	defer d.cleanup()
	_, body := get(t, d.c, "/runs/r1")
	for _, s := range secrets {
		if strings.Contains(body, s) {
			t.Errorf("%q shown", s)
		}
	}
	for _, w := range []string{"{EMAIL}", "{PHONE}"} {
		if !strings.Contains(body, w) {
			t.Errorf("no %s mask", w)
		}
	}
	if strings.Contains(body, "C-1001") == false {
		t.Error("the account number is masked without the guard")
	}

	g := newGuard(t)
	d2 := newDemo(t, console.Options{Redaction: console.Redaction{Guard: g}})
	defer d2.cleanup()
	_, body = get(t, d2.c, "/runs/r1")
	if strings.Contains(body, "C-1001") || !strings.Contains(body, "{Account number}") {
		t.Error("the guard's account-number regex did not mask")
	}

	d3 := newDemo(t, console.Options{Redaction: console.Redaction{Disable: true}})
	defer d3.cleanup()
	_, body = get(t, d3.c, "/runs/r1")
	for _, s := range secrets {
		if !strings.Contains(body, s) {
			t.Errorf("with redaction disabled, %q is not shown", s)
		}
	}
}

// failingGuard fails every assessment.
type failingGuard struct{}

func (failingGuard) Assess(context.Context, guardrail.Source, ...guardrail.Content) (*guardrail.Verdict, error) {
	return nil, errors.New("guard down")
}

// TestRedactionFailsClosed: when the redaction guard fails, the text is
// withheld.
func TestRedactionFailsClosed(t *testing.T) {
	d := newDemo(t, console.Options{Redaction: console.Redaction{Guard: failingGuard{}}})
	defer d.cleanup()
	_, body := get(t, d.c, "/runs/r1")
	if strings.Contains(body, "Paris") || !strings.Contains(body, "WITHHELD") {
		t.Error("a failing redaction guard let text through")
	}
}

// playground posts a query and returns the results as the page shows them.
func playground(t *testing.T, h http.Handler, vals url.Values) (int, []kb.RetrievalResult, string) {
	t.Helper()
	f := &form{t: t, h: h}
	vals.Set("csrf", f.token("/kb/bank-docs"))
	code, body := f.post("/kb/bank-docs", vals, nil)
	doc := parseHTML(t, body)
	var out []kb.RetrievalResult
	for _, li := range byClass(doc, "li", "result") {
		if n := li.Parent; n == nil || byID(doc, "results") == nil {
			continue
		}
		score, err := strconv.ParseFloat(attr(li, "data-score"), 64)
		if err != nil {
			t.Fatal(err)
		}
		chunk := byClass(li, "pre", "chunk")
		out = append(out, kb.RetrievalResult{ID: attr(li, "data-id"), DocumentID: attr(li, "data-document"), Score: score, Text: text(chunk[0])})
	}
	if r := byID(doc, "results"); r != nil {
		n, _ := strconv.Atoi(attr(r, "data-count"))
		out = out[:min(n, len(out))]
	}
	return code, out, body
}

// TestPlaygroundMatchesRetrieve: the playground returns exactly what
// Retrieve returns, for each search type and with a filter.
func TestPlaygroundMatchesRetrieve(t *testing.T) {
	d := newDemo(t, console.Options{Redaction: console.Redaction{Disable: true}})
	defer d.cleanup()
	filter := `{"andAll":[{"equals":{"key":"type","value":"pricing"}},{"greaterThan":{"key":"year","value":2024}}]}`
	for _, tc := range []struct{ st, n, filter string }{
		{"HYBRID", "5", ""}, {"SEMANTIC", "3", ""}, {"KEYWORD", "10", ""}, {"HYBRID", "10", filter},
	} {
		q := "what does a wire transfer or the monthly fee cost"
		code, got, body := playground(t, d.c, url.Values{"query": {q}, "searchType": {tc.st}, "numberOfResults": {tc.n}, "filter": {tc.filter}})
		if code != 200 {
			t.Fatalf("%s: %d\n%s", tc.st, code, body)
		}
		opts := kb.RetrieveOptions{SearchType: kb.SearchType(tc.st)}
		opts.NumberOfResults, _ = strconv.Atoi(tc.n)
		if tc.filter != "" {
			var f kb.Filter
			if err := json.Unmarshal([]byte(tc.filter), &f); err != nil {
				t.Fatal(err)
			}
			opts.Filter = f
		}
		want, err := d.kb.Retrieve(context.Background(), q, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) || len(want) == 0 {
			t.Fatalf("%s %s: %d results, Retrieve gave %d", tc.st, tc.filter, len(got), len(want))
		}
		for i := range want {
			if got[i].ID != want[i].ID || got[i].DocumentID != want[i].DocumentID || got[i].Score != want[i].Score || got[i].Text != want[i].Text {
				t.Errorf("%s result %d: page %+v, Retrieve %+v", tc.st, i, got[i], want[i])
			}
			if tc.filter != "" && want[i].DocumentID != "mem:fees.md" && want[i].DocumentID != "mem:wires.txt" {
				t.Errorf("the filter let %s through", want[i].DocumentID)
			}
		}
	}
}

// TestPlaygroundRefusesBadInput: bad forms get a 400 with the reason.
func TestPlaygroundRefusesBadInput(t *testing.T) {
	d := newDemo(t, console.Options{})
	defer d.cleanup()
	for _, tc := range []struct {
		vals url.Values
		want string
	}{
		{url.Values{"query": {""}}, "the query is empty"},
		{url.Values{"query": {"x"}, "searchType": {"FUZZY"}}, "search type"},
		{url.Values{"query": {"x"}, "numberOfResults": {"101"}}, "1 to 100"},
		{url.Values{"query": {"x"}, "filter": {`{"equals":`}}, "RetrievalFilter"},
		{url.Values{"query": {"x"}, "filter": {`{"like":{"key":"a","value":1}}`}}, "filter"},
		{url.Values{"query": {strings.Repeat("x", 9000)}}, "8 KiB"},
	} {
		code, _, body := playground(t, d.c, tc.vals)
		if code != 400 || !strings.Contains(body, tc.want) {
			t.Errorf("%v: %d, page lacks %q", tc.vals, code, tc.want)
		}
	}
}

// TestCSRF: a POST without the form token, with another browser's token or
// from another site is refused.
func TestCSRF(t *testing.T) {
	d := newDemo(t, console.Options{})
	defer d.cleanup()
	vals := url.Values{"guard": {"demo"}, "source": {"INPUT"}, "text": {"hello"}}
	f := &form{t: t, h: d.c}
	tok := f.token("/guardrails")
	if code, _ := f.post("/guardrails", vals, nil); code != 403 {
		t.Errorf("no token: %d", code)
	}
	vals.Set("csrf", strings.Repeat("0", 64))
	if code, _ := f.post("/guardrails", vals, nil); code != 403 {
		t.Errorf("wrong token: %d", code)
	}
	other := &form{t: t, h: d.c}
	other.token("/guardrails")
	vals.Set("csrf", tok)
	if code, _ := other.post("/guardrails", vals, nil); code != 403 {
		t.Errorf("another browser's token: %d", code)
	}
	if code, _ := f.post("/guardrails", vals, map[string]string{"Sec-Fetch-Site": "cross-site"}); code != 403 {
		t.Errorf("cross-site: %d", code)
	}
	if code, _ := f.post("/guardrails", vals, map[string]string{"Origin": "http://evil.example"}); code != 403 {
		t.Errorf("foreign origin: %d", code)
	}
	if code, body := f.post("/guardrails", vals, map[string]string{"Sec-Fetch-Site": "same-origin"}); code != 200 {
		t.Errorf("valid post: %d\n%s", code, body)
	}
}

// TestHostAndToken: foreign Host names are refused (DNS rebinding), and a
// Token is required when set.
func TestHostAndToken(t *testing.T) {
	c := console.New(console.Options{})
	defer c.Close()
	for host, want := range map[string]int{"localhost:1": 200, "127.0.0.1": 200, "[::1]:80": 200, "app.localhost": 200,
		"evil.example": 403, "127.0.0.1.nip.io": 403, "10.0.0.1:80": 403} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		c.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("Host %s: %d, want %d", host, rec.Code, want)
		}
	}
	c2 := console.New(console.Options{AllowedHosts: []string{"dev.internal"}})
	defer c2.Close()
	req := httptest.NewRequest("GET", "http://dev.internal:8080/", nil)
	rec := httptest.NewRecorder()
	c2.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Errorf("allowed host: %d", rec.Code)
	}

	ct := console.New(console.Options{Token: "s3cret-token"})
	defer ct.Close()
	do := func(target string, mod func(*http.Request)) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", target, nil)
		if mod != nil {
			mod(req)
		}
		rec := httptest.NewRecorder()
		ct.ServeHTTP(rec, req)
		return rec
	}
	if rec := do("http://localhost/runs", nil); rec.Code != 401 {
		t.Errorf("no token: %d", rec.Code)
	}
	if rec := do("http://localhost/runs?token=wrong", nil); rec.Code != 401 {
		t.Errorf("wrong token: %d", rec.Code)
	}
	if rec := do("http://localhost/live", func(r *http.Request) { r.Header.Set("Authorization", "Bearer wrong") }); rec.Code != 401 {
		t.Errorf("wrong bearer: %d", rec.Code)
	}
	if rec := do("http://localhost/runs", func(r *http.Request) { r.Header.Set("Authorization", "Bearer s3cret-token") }); rec.Code != 200 {
		t.Errorf("bearer: %d", rec.Code)
	}
	rec = do("http://localhost/runs?status=failed&token=s3cret-token", nil)
	if rec.Code != 303 || rec.Header().Get("Location") != "/runs?status=failed" {
		t.Fatalf("token link: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	var ck *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == "bkconsole_auth" {
			ck = c
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || strings.Contains(ck.Value, "s3cret") {
		t.Fatalf("auth cookie %+v", ck)
	}
	if rec := do("http://localhost/runs?status=failed", func(r *http.Request) { r.AddCookie(ck) }); rec.Code != 200 {
		t.Errorf("cookie: %d", rec.Code)
	}
}

// TestGuardrailPage: a pasted text is assessed; the spans are marked with
// the findings that cover them.
func TestGuardrailPage(t *testing.T) {
	d := newDemo(t, console.Options{})
	defer d.cleanup()
	f := &form{t: t, h: d.c}
	txt := "Tell me about hot stocks. My account is C-4321, mail ana@example.com."
	code, body := f.post("/guardrails", url.Values{"csrf": {f.token("/guardrails")}, "guard": {"demo"}, "source": {"INPUT"}, "text": {txt}}, nil)
	if code != 200 {
		t.Fatalf("%d\n%s", code, body)
	}
	doc := parseHTML(t, body)
	hl := byID(doc, "highlighted")
	if hl == nil || text(hl) != txt {
		t.Fatalf("the highlighted text is not the pasted text: %q", text(hl))
	}
	marks := map[string]string{}
	for _, m := range find(hl, func(n *html.Node) bool { return n.Data == "mark" }) {
		marks[text(m)] = attr(m, "class")
	}
	for span, class := range map[string]string{"hot stocks": "word", "C-4321": "pii", "ana@example.com": "pii"} {
		if marks[span] != class {
			t.Errorf("%q marked %q, want %q (marks %v)", span, marks[span], class, marks)
		}
	}
	if a := attr(byID(doc, "assessment"), "data-action"); a != "GUARDRAIL_INTERVENED" {
		t.Errorf("action %q", a)
	}
	if rows := byClass(doc, "tr", "finding"); len(rows) < 3 {
		t.Errorf("%d findings listed", len(rows))
	}
	// Unknown guard, bad source, empty text.
	for _, vals := range []url.Values{
		{"guard": {"nope"}, "source": {"INPUT"}, "text": {"x"}},
		{"guard": {"demo"}, "source": {"SIDEWAYS"}, "text": {"x"}},
		{"guard": {"demo"}, "source": {"INPUT"}, "text": {""}},
	} {
		vals.Set("csrf", f.token("/guardrails"))
		if code, _ := f.post("/guardrails", vals, nil); code != 400 {
			t.Errorf("%v: %d", vals, code)
		}
	}
	// A failing guard is a 502 with its error.
	d.c.AddGuardrail("down", failingGuard{})
	code, body = f.post("/guardrails", url.Values{"csrf": {f.token("/guardrails")}, "guard": {"down"}, "source": {"INPUT"}, "text": {"x"}}, nil)
	if code != 502 || !strings.Contains(body, "guard down") {
		t.Errorf("failing guard: %d", code)
	}
}

// TestCosts: the metered spend matches the meter; the agent-run spend is
// the priced model calls.
func TestCosts(t *testing.T) {
	d := newDemo(t, console.Options{})
	defer d.cleanup()
	total := d.meter.Snapshot().Total().Cost.Total
	if total <= 0 {
		t.Fatal("the meter counted nothing")
	}
	for _, by := range []string{"model", "tenant", "session", "tag"} {
		_, body := get(t, d.c, "/costs?by="+by)
		if !strings.Contains(body, "Metered spend (llm) <span class=\"muted\">total "+total.String()) {
			t.Errorf("by %s: the metered total %s is not shown", by, total)
		}
		doc := parseHTML(t, body)
		if charts := find(doc, func(n *html.Node) bool { return n.Data == "polyline" }); len(charts) == 0 {
			t.Errorf("by %s: no chart lines", by)
		}
		switch by {
		case "tenant":
			for _, w := range []string{"acme", "globex"} {
				if !strings.Contains(body, "<td>"+w+"</td>") {
					t.Errorf("tenant %s missing", w)
				}
			}
		case "tag":
			if !strings.Contains(body, "feature=travel") {
				t.Error("tag feature=travel missing")
			}
		}
	}
}

// TestEvalReports: a report added by the program and one loaded from the
// JSON eval writes are shown; a file that is not a report is refused.
func TestEvalReports(t *testing.T) {
	d := newDemo(t, console.Options{})
	defer d.cleanup()
	_, body := get(t, d.c, "/evals/e1")
	for _, w := range []string{"bank-docs RAG", "ndcg@10", "token_f1", "card", "wire"} {
		if !strings.Contains(body, w) {
			t.Errorf("the report page lacks %q", w)
		}
	}
	rep := &eval.Report{Name: "from disk", Started: time.Now(), Finished: time.Now(), Total: 1,
		Metrics: map[string]float64{"exact_match": 0.5}, Counts: map[string]int{"exact_match": 1},
		Cases: []eval.CaseResult{{ID: "c1", Scores: map[string]float64{"exact_match": 0.5}, Answer: hostile}}}
	path := filepath.Join(t.TempDir(), "report.json")
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteJSON(fh); err != nil {
		t.Fatal(err)
	}
	fh.Close()
	id, err := d.c.LoadEvalReport(path)
	if err != nil {
		t.Fatal(err)
	}
	_, body = get(t, d.c, "/evals/"+id)
	if !strings.Contains(body, "from disk") || !strings.Contains(body, "0.5000") || strings.Contains(body, "<script>alert") {
		t.Error("the loaded report is not shown, or not escaped")
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte("{not json"), 0o644)
	if _, err := d.c.LoadEvalReport(bad); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("bad report: %v", err)
	}
	if _, err := d.c.LoadEvalReport(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("missing report loaded")
	}
	if res, _ := get(t, d.c, "/evals/e999"); res.StatusCode != 404 {
		t.Errorf("unknown report: %d", res.StatusCode)
	}
}

// futureEvent stands for an event type this console does not know (a
// newer agent package's, such as a policy decision).
type futureEvent struct {
	agent.ModelText // makes it an agent.RunEvent
	Decision        string
	Tool            string
}

// TestUnknownEvents: an event of an unknown type is shown with its type
// and fields, escaped and redacted, inside the step it came in.
func TestUnknownEvents(t *testing.T) {
	c := console.New(console.Options{})
	defer c.Close()
	obs := c.Observer(console.RunInfo{Agent: "a", Session: "s"})
	now := time.Now()
	obs(agent.ModelCalled{Iteration: 1, Start: now, Duration: time.Millisecond, Message: &bedrockkit.Message{Parts: []bedrockkit.Part{call("x", "t", `{}`)}}})
	obs(futureEvent{Decision: "deny <b>bold</b> for bob@example.com", Tool: "t"})
	obs(agent.ToolCalled{Iteration: 1, Call: call("x", "t", `{}`), Result: bedrockkit.ToolResult{CallID: "x", Parts: []bedrockkit.Part{bedrockkit.Text{Text: "ok"}}}, Start: now, Duration: time.Millisecond})
	obs(agent.Finished{Result: &agent.RunResult{SessionID: "s", Output: "done", Iterations: 1}})
	_, body := get(t, c, "/runs/r1")
	doc := parseHTML(t, body)
	it := byID(doc, "it1")
	if it == nil {
		t.Fatal("no step 1")
	}
	s := text(it)
	if !strings.Contains(s, "console_test.futureEvent") || !strings.Contains(s, "deny <b>bold</b> for {EMAIL}") {
		t.Errorf("the unknown event is not shown in its step:\n%s", s)
	}
	if strings.Contains(body, "<b>bold</b>") {
		t.Error("the unknown event's content is not escaped")
	}
}

// TestToolAuthorization: a policy decision is shown on its tool call.
func TestToolAuthorization(t *testing.T) {
	c := console.New(console.Options{})
	defer c.Close()
	m := bedrockkittest.NewScriptedModel(bedrockkittest.ToolStep(call("a1", "take_note", `{"note":"x"}`), call("a2", "transfer", `{"to":"C-1","amount":5000}`)),
		bedrockkittest.TextStep("ok"))
	a := &agent.Agent{Model: m, Tools: tools(), Authorizer: agent.ToolAuthorizerFunc(func(ctx context.Context, req agent.ToolCallRequest) (agent.ToolDecision, error) {
		if req.Call.Name == "transfer" {
			return agent.ToolDecision{Reason: "no transfer above 1000 EUR", Policies: []string{"limit-1000"}}, nil
		}
		return agent.ToolDecision{Allowed: true, Policies: []string{"notes-ok"}}, nil
	})}
	if _, err := a.Run(c.Observe(context.Background(), console.RunInfo{}), "s1", "go"); err != nil {
		t.Fatal(err)
	}
	_, body := get(t, c, "/runs/r1")
	doc := parseHTML(t, body)
	tr := find(doc, func(n *html.Node) bool { return attr(n, "data-tool") == "transfer" })
	if len(tr) != 1 {
		t.Fatal("no transfer call")
	}
	s := text(tr[0])
	for _, w := range []string{"denied by policy", "limit-1000", "no transfer above 1000 EUR"} {
		if !strings.Contains(s, w) {
			t.Errorf("the transfer call does not show %q:\n%s", w, s)
		}
	}
	if s := text(find(doc, func(n *html.Node) bool { return attr(n, "data-tool") == "take_note" })[0]); !strings.Contains(s, "allowed by notes-ok") {
		t.Errorf("the allowed call does not show its policy:\n%s", s)
	}
}

// TestRetention: runs, events and bytes are bounded, and what is dropped is
// counted on the pages.
func TestRetention(t *testing.T) {
	c := console.New(console.Options{MaxRuns: 3, MaxEventsPerRun: 4})
	defer c.Close()
	obs := c.Observer(console.RunInfo{Agent: "a"})
	for i := range 10 {
		for j := range 6 {
			obs(agent.ToolCalled{Iteration: 1, Call: call(fmt.Sprintf("c%d-%d", i, j), "t", `{}`)})
		}
		obs(agent.Finished{Result: &agent.RunResult{SessionID: fmt.Sprint(i)}})
	}
	_, body := get(t, c, "/runs")
	if n := strings.Count(body, `class="run-row"`); n != 3 {
		t.Errorf("%d runs kept, want 3", n)
	}
	if !strings.Contains(body, "7 older runs were dropped") {
		t.Error("the dropped runs are not counted")
	}
	if res, _ := get(t, c, "/runs/r1"); res.StatusCode != 404 {
		t.Errorf("dropped run r1: %d", res.StatusCode)
	}
	_, body = get(t, c, "/runs/r10")
	if !strings.Contains(body, "3 events of this run were not kept") {
		t.Error("the dropped events are not counted")
	}

	big := strings.Repeat("x", 1<<20)
	cb := console.New(console.Options{MaxBytes: 3 << 20})
	defer cb.Close()
	obs = cb.Observer(console.RunInfo{})
	for i := range 8 {
		obs(agent.ToolCalled{Iteration: 1, Call: call(fmt.Sprint(i), "t", `{}`), Result: bedrockkit.ToolResult{Parts: []bedrockkit.Part{bedrockkit.Text{Text: big}}}})
		obs(agent.Failure{Err: errors.New("x")})
	}
	_, body = get(t, cb, "/")
	if n := strings.Count(body, `class="run-row"`); n < 1 || n > 3 {
		t.Errorf("%d runs of 1 MiB kept under MaxBytes 3 MiB", n)
	}
	_, body = get(t, cb, "/runs/r8")
	if !strings.Contains(body, "more bytes not shown") {
		t.Error("a 1 MiB result is not cut")
	}
}

// TestLiveUpdates: the live stream announces changes and ends when the
// console closes.
func TestLiveUpdates(t *testing.T) {
	c := console.New(console.Options{})
	srv := httptest.NewServer(c)
	defer srv.Close()
	res, err := http.Get(srv.URL + "/live")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	rd := bufio.NewReader(res.Body)
	next := func() string {
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				return "EOF"
			}
			if strings.HasPrefix(line, "event: ") {
				return strings.TrimSpace(strings.TrimPrefix(line, "event: "))
			}
		}
	}
	if ev := next(); ev != "hello" {
		t.Fatalf("first event %q", ev)
	}
	c.Observer(console.RunInfo{})(agent.Finished{Result: &agent.RunResult{}})
	if ev := next(); ev != "change" {
		t.Fatalf("after a run: %q", ev)
	}
	c.Close()
	if ev := next(); ev != "EOF" {
		t.Fatalf("after Close: %q", ev)
	}
}

// TestLiveClientLimit: connections past MaxLiveClients are refused.
func TestLiveClientLimit(t *testing.T) {
	c := console.New(console.Options{MaxLiveClients: 1})
	srv := httptest.NewServer(c)
	defer srv.Close()
	defer c.Close()
	r1, err := http.Get(srv.URL + "/live")
	if err != nil {
		t.Fatal(err)
	}
	defer r1.Body.Close()
	bufio.NewReader(r1.Body).ReadString('\n')
	r2, err := http.Get(srv.URL + "/live")
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != 503 {
		t.Errorf("second live client: %d", r2.StatusCode)
	}
}

// TestStart: Start listens on loopback only unless told otherwise.
func TestStart(t *testing.T) {
	c := console.New(console.Options{})
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "nonsense"} {
		if _, err := c.Start(addr); !errors.Is(err, console.ErrInvalidOptions) {
			t.Errorf("Start(%q): %v", addr, err)
		}
	}
	if _, err := console.New(console.Options{AllowRemote: true}).Start("0.0.0.0:0"); !errors.Is(err, console.ErrInvalidOptions) {
		t.Errorf("remote without a token: %v", err)
	}
	s, err := c.Start("")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Errorf("URL %s", s.URL)
	}
	res, err := http.Get(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("GET %s: %d", s.URL, res.StatusCode)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
	ct := console.New(console.Options{Token: "tok", Path: "/debug/console"})
	s, err = ct.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.HasSuffix(s.URL, "/debug/console/?token=tok") {
		t.Errorf("URL %s", s.URL)
	}
	res, err = http.Get(s.URL) // follows the redirect with the cookie jar-less client: lands on 401
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
}

// TestMountedUnderPath: with Options.Path every link stays under it.
func TestMountedUnderPath(t *testing.T) {
	d := newDemo(t, console.Options{Path: "/debug/console/"})
	defer d.cleanup()
	mux := http.NewServeMux()
	mux.Handle("/debug/console/", d.c)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "app", 418) })
	for _, p := range []string{"/debug/console/", "/debug/console/runs/r1", "/debug/console/kb/bank-docs", "/debug/console/static/console.js"} {
		res, body := get(t, mux, p)
		if res.StatusCode != 200 {
			t.Errorf("%s: %d", p, res.StatusCode)
		}
		for _, m := range linkRe.FindAllStringSubmatch(body, -1) {
			if !strings.HasPrefix(m[1], "/debug/console/") {
				t.Errorf("%s links to %s", p, m[1])
			}
		}
	}
	if res, _ := get(t, mux, "/debug/console"); res.StatusCode != 301 && res.StatusCode != 307 {
		t.Errorf("/debug/console: %d", res.StatusCode)
	}
	if res, _ := get(t, mux, "/debug/console/nope"); res.StatusCode != 404 {
		t.Errorf("unknown page: %d", res.StatusCode)
	}
}

// TestNotFound: unknown runs, sessions, knowledge bases and traces are 404s.
func TestNotFound(t *testing.T) {
	d := newDemo(t, console.Options{})
	defer d.cleanup()
	for _, p := range []string{"/runs/r999", "/sessions/nope", "/kb/nope", "/traces/abc", "/nope", "/static/nope.js"} {
		if res, _ := get(t, d.c, p); res.StatusCode != 404 {
			t.Errorf("%s: %d", p, res.StatusCode)
		}
	}
	if res, _ := get(t, d.c, "/runs"); res.StatusCode != 200 {
		t.Error("runs page")
	}
	req := httptest.NewRequest("DELETE", "http://localhost/runs/r1", nil)
	rec := httptest.NewRecorder()
	d.c.ServeHTTP(rec, req)
	if rec.Code != 403 && rec.Code != 405 {
		t.Errorf("DELETE: %d", rec.Code)
	}
}

// TestTraces: spans ended on a provider with the console's processor are
// shown as traces, nested by parent.
func TestTraces(t *testing.T) {
	c := console.New(console.Options{})
	defer c.Close()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(c.SpanProcessor()))
	defer tp.Shutdown(context.Background())
	tr := tp.Tracer("test")
	ctx, root := tr.Start(context.Background(), "retrieve bank-docs")
	_, child := tr.Start(ctx, "embeddings titan")
	child.SetAttributes(attribute.String("gen_ai.prompt", "mail bob@example.com <script>x</script>"))
	child.End()
	root.End()
	_, body := get(t, c, "/traces")
	id := root.SpanContext().TraceID().String()
	if !strings.Contains(body, id) || !strings.Contains(body, "retrieve bank-docs") {
		t.Fatalf("the trace is not listed:\n%s", body)
	}
	_, body = get(t, c, "/traces/"+id)
	doc := parseHTML(t, body)
	spans := byClass(doc, "li", "span-depth")
	if len(spans) != 2 || !strings.Contains(text(spans[1]), "· embeddings titan") {
		t.Errorf("spans not nested: %d", len(spans))
	}
	if strings.Contains(body, "bob@example.com") || strings.Contains(body, "<script>x") {
		t.Error("span attributes are not redacted and escaped")
	}
}

// TestRecordedQueriesAndSyncs: the knowledge-base page shows both syncs
// with their statistics and the failed document, and the program's query.
func TestRecordedQueriesAndSyncs(t *testing.T) {
	d := newDemo(t, console.Options{})
	defer d.cleanup()
	_, body := get(t, d.c, "/kb/bank-docs")
	doc := parseHTML(t, body)
	rows := find(byClass(doc, "table", "syncs")[0], func(n *html.Node) bool { return n.Data == "tr" && !hasClass(n, "detail") })
	if len(rows) != 3 { // header and two syncs
		t.Fatalf("%d sync rows", len(rows)-1)
	}
	// Newest first: the second sync modified one document and deleted one.
	cells := func(tr *html.Node) []string {
		var out []string
		for _, td := range find(tr, func(n *html.Node) bool { return n.Data == "td" }) {
			out = append(out, text(td))
		}
		return out
	}
	second, first := cells(rows[1]), cells(rows[2])
	if second[4] != "1" || second[5] != "1" || first[3] != "5" || first[8] != "1" {
		t.Errorf("sync statistics: second %v, first %v", second, first)
	}
	if !strings.Contains(body, "mem:broken.json") {
		t.Error("the failed document is not listed")
	}
	if !strings.Contains(body, "how much is a wire transfer") || !strings.Contains(body, "program") {
		t.Error("the program's query is not listed")
	}
	d.c.RecordSync("other", kb.SyncOptions{Partition: "t1"}, nil, errors.New("store down"))
	_, body = get(t, d.c, "/kb/other")
	if !strings.Contains(body, "store down") || !strings.Contains(body, "t1") {
		t.Error("a recorded failed sync is not shown")
	}
	if code, _, body := playground(t, d.c, url.Values{"query": {"x"}}); code != 200 || !strings.Contains(body, "result(s)") {
		t.Errorf("playground after RecordSync: %d", code)
	}
}

// TestReusedCallIDs: a model that reuses call IDs from step to step gets
// each call shown in its own step.
func TestReusedCallIDs(t *testing.T) {
	c := console.New(console.Options{})
	defer c.Close()
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(call("c1", "take_note", `{"note":"a"}`)),
		bedrockkittest.ToolStep(call("c1", "get_local_time", `{"city":"Oslo"}`)),
		bedrockkittest.TextStep("done"))
	a := &agent.Agent{Model: m, Tools: tools()}
	if _, err := a.Run(c.Observe(context.Background(), console.RunInfo{}), "s", "go"); err != nil {
		t.Fatal(err)
	}
	_, body := get(t, c, "/runs/r1")
	doc := parseHTML(t, body)
	for id, tool := range map[string]string{"it1": "take_note", "it2": "get_local_time"} {
		tc := byClass(byID(doc, id), "details", "tool-call")
		if len(tc) != 1 || attr(tc[0], "data-tool") != tool {
			t.Errorf("%s: %d tool calls, want %s", id, len(tc), tool)
		}
	}
}

// TestResumeAcrossSessions: two sessions paused on calls with the same ID;
// the resumption of the first is linked to the first, not to the latest
// pause.
func TestResumeAcrossSessions(t *testing.T) {
	c := console.New(console.Options{})
	defer c.Close()
	mem := agent.NewInMemory()
	var agents []*agent.Agent
	var pend []*agent.Pending
	for _, s := range []string{"s1", "s2"} {
		m := bedrockkittest.NewScriptedModel(bedrockkittest.ToolStep(call("t1", "transfer", `{"to":"x","amount":1}`)), bedrockkittest.TextStep("ok"))
		a := &agent.Agent{Model: m, Tools: tools(), Memory: mem}
		res, err := a.Run(c.Observe(context.Background(), console.RunInfo{}), s, "pay")
		if err != nil || !res.Paused() {
			t.Fatalf("%s did not pause: %v", s, err)
		}
		agents, pend = append(agents, a), append(pend, res.Pending)
	}
	if _, err := agents[0].Resume(c.Observe(context.Background(), console.RunInfo{}), pend[0], agent.Approve("t1")); err != nil {
		t.Fatal(err)
	}
	_, body := get(t, c, "/runs/r3")
	if !strings.Contains(body, `href="/runs/r1"`) || strings.Contains(body, `href="/runs/r2"`) {
		t.Error("the resumption of s1 is not linked to s1's pause")
	}
	_, body = get(t, c, "/runs/r2")
	if strings.Contains(body, "Resumed by") {
		t.Error("s2's pause is shown resumed")
	}
}
