package serve_test

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/identity"
	"github.com/bedrockkit/bedrockkit/agent/serve"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

// timedModel wraps a model and records, per prompt (the last user text of
// the request), how long the model took, so that the model's time can be
// taken out of an invocation's latency.
type timedModel struct {
	inner bedrockkit.Model
	mu    sync.Mutex
	spent map[string]time.Duration
}

func (m *timedModel) Generate(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
	start := time.Now()
	resp, err := m.inner.Generate(ctx, req)
	d := time.Since(start)
	us := userTexts(req)
	m.mu.Lock()
	m.spent[us[len(us)-1]] += d
	m.mu.Unlock()
	return resp, err
}

func (m *timedModel) Stream(ctx context.Context, req *bedrockkit.Request) iter.Seq2[bedrockkit.StreamEvent, error] {
	return m.inner.Stream(ctx, req)
}

// loadRun runs invocations over HTTP from `sessions` concurrent clients,
// each on its own sessions (a new one every turnsPerSession turns), and
// returns each invocation's latency minus its model time.
type loadRun struct {
	sessions        int
	turnsPerSession int
	total           int
}

type loadResult struct {
	overhead []time.Duration
	model    *bedrockkittest.ScriptedModel
	mem      *agent.InMemory
	// prompts[session] are the prompts sent to that session, in order.
	prompts map[string][]string
	// started is when the timed invocations began.
	started time.Time
}

func (lr loadRun) run(tb testing.TB, opts serve.Options) *loadResult {
	scripted := bedrockkittest.NewScriptedModel()
	steps := make([]bedrockkittest.Step, lr.total)
	for i := range steps {
		steps[i] = bedrockkittest.TextStep("ok")
	}
	scripted.Push(steps...)
	tm := &timedModel{inner: scripted, spent: map[string]time.Duration{}}
	mem := agent.NewInMemory()
	a := &agent.Agent{Name: "load", Model: tm, Memory: mem}
	if opts.Authorizer == nil {
		opts.Authorizer = identity.Anonymous()
	}
	h, err := serve.New(a, opts)
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: lr.sessions, MaxIdleConns: lr.sessions}
	defer tr.CloseIdleConnections()
	c, err := serve.NewClient(srv.URL, serve.ClientOptions{HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		tb.Fatal(err)
	}
	res := &loadResult{model: scripted, mem: mem, prompts: map[string][]string{}}
	var (
		mu    sync.Mutex
		next  atomic.Int64
		wg    sync.WaitGroup
		lat   = make([]time.Duration, lr.total)
		names = make([]string, lr.total)
		fails atomic.Int64
	)
	ctx := context.Background()
	// Open every client's connection before the clock starts, so connection
	// set-up on loopback is not counted.
	var ready sync.WaitGroup
	ready.Add(lr.sessions)
	startAll := make(chan struct{})
	for w := range lr.sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Ping(ctx); err != nil {
				tb.Error(err)
			}
			ready.Done()
			<-startAll
			turn, gen := 0, 0
			session := ""
			for {
				i := int(next.Add(1)) - 1
				if i >= lr.total {
					return
				}
				if turn%lr.turnsPerSession == 0 {
					session = fmt.Sprintf("worker-%04d-session-%06d-padding-xx", w, gen)
					gen++
				}
				turn++
				prompt := fmt.Sprintf("%s turn %d", session, turn)
				start := time.Now()
				out, err := c.Invoke(ctx, session, serve.InvocationRequest{Prompt: prompt})
				lat[i] = time.Since(start)
				names[i] = prompt
				if err != nil || out.Output != "ok" {
					if fails.Add(1) == 1 {
						tb.Errorf("invocation %d: %+v %v", i, out, err)
					}
					continue
				}
				mu.Lock()
				res.prompts[session] = append(res.prompts[session], prompt)
				mu.Unlock()
			}
		}()
	}
	ready.Wait()
	if timer, ok := tb.(*testing.B); ok {
		timer.ResetTimer()
	}
	res.started = time.Now()
	close(startAll)
	wg.Wait()
	for i, d := range lat {
		res.overhead = append(res.overhead, d-tm.spent[names[i]])
	}
	return res
}

// checkIsolation verifies that each session's stored history holds exactly
// its own turns, in order, and that every model request carried the turns
// of one session only.
func (r *loadResult) checkIsolation(tb testing.TB) {
	ctx := context.Background()
	for session, prompts := range r.prompts {
		s, err := r.mem.Load(ctx, identity.AnonymousNamespace+"/"+session)
		if err != nil {
			tb.Fatalf("session %s: %v", session, err)
		}
		var got []string
		for i, m := range s.Messages {
			switch {
			case i%2 == 0 && m.Role == bedrockkit.RoleUser:
				got = append(got, m.Text())
			case i%2 == 1 && m.Role == bedrockkit.RoleAssistant && m.Text() == "ok":
			default:
				tb.Fatalf("session %s message %d: %s %q", session, i, m.Role, m.Text())
			}
		}
		if !slices.Equal(got, prompts) {
			tb.Fatalf("session %s holds %q, want %q", session, got, prompts)
		}
	}
	for i, req := range r.model.Requests() {
		us := userTexts(req)
		owner, _, _ := strings.Cut(us[0], " turn ")
		for _, u := range us {
			if !strings.HasPrefix(u, owner+" turn ") {
				tb.Fatalf("model request %d mixes sessions: %q", i, us)
			}
		}
	}
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// TestConcurrentSessionsIsolated: hundreds of sessions at once, no turn
// lost and none in another session's history.
func TestConcurrentSessionsIsolated(t *testing.T) {
	r := loadRun{sessions: 200, turnsPerSession: 3, total: 600}.run(t, serve.Options{})
	if t.Failed() {
		return
	}
	n := 0
	for _, ps := range r.prompts {
		n += len(ps)
	}
	if n != 600 || len(r.prompts) < 200 {
		t.Fatalf("%d turns in %d sessions, want 600 in at least 200", n, len(r.prompts))
	}
	r.checkIsolation(t)
}

// BenchmarkInvocationOverhead measures what serving adds to an invocation
// (HTTP on loopback, JSON, session lock, memory load and save, the
// in-process client), the model's own time excluded, with one client and
// with hundreds of concurrent sessions on a ScriptedModel. It reports the
// p50 and p99 of that overhead per invocation (under concurrency it
// includes waiting for a CPU) and the invocations per second, and checks
// that no session's history holds another's turns.
func BenchmarkInvocationOverhead(b *testing.B) {
	for _, sessions := range []int{1, 256, 512} {
		b.Run(fmt.Sprintf("sessions=%d", sessions), func(b *testing.B) {
			b.ReportAllocs()
			total := max(b.N, sessions)
			r := loadRun{sessions: sessions, turnsPerSession: 8, total: total}.run(b, serve.Options{})
			elapsed := time.Since(r.started)
			b.StopTimer()
			b.ReportMetric(float64(total)/elapsed.Seconds(), "inv/s")
			b.ReportMetric(float64(percentile(r.overhead, 0.50).Microseconds()), "p50-µs")
			b.ReportMetric(float64(percentile(r.overhead, 0.99).Microseconds()), "p99-µs")
			r.checkIsolation(b)
		})
	}
}
