package console_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/console"
	"github.com/bedrockkit/bedrockkit/eval"
	"github.com/bedrockkit/bedrockkit/guardrail"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
	"github.com/bedrockkit/bedrockkit/pricing"
)

// The fixture: a console fed with real agent runs (scripted models, real
// tools), a synced knowledge base, a guardrail, a meter and an evaluation
// report — the data the page tests, the browser tests and the screenshots
// share.

const modelID = "anthropic.claude-3-5-haiku-20241022-v1:0"

// hostile is event content that must be shown as text, never run.
const hostile = `<script>alert("xss")</script><img src=x onerror=alert(1)>"'><svg onload=alert(2)>`

// idModel gives a scripted model an ID, as ConverseModel has, so its calls
// are priced.
type idModel struct {
	bedrockkit.Model
	id bedrockkit.ModelID
}

func (m idModel) ModelID() bedrockkit.ModelID { return m.id }

// demoLatency is a model call's time in the fixture (longer for the
// screenshots, so the timeline looks like a real run's).
var demoLatency = 2 * time.Millisecond

// Generate takes a model's time.
func (m idModel) Generate(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
	time.Sleep(demoLatency * time.Duration(1+len(req.Messages)))
	return m.Model.Generate(ctx, req)
}

func withID(m bedrockkit.Model) bedrockkit.Model {
	id, err := bedrockkit.ParseModelID(modelID)
	if err != nil {
		panic(err)
	}
	return idModel{m, id}
}

func step(u bedrockkit.Usage, s bedrockkittest.Step) bedrockkittest.Step {
	s.Response.Usage = u
	return s
}

func call(id, name, input string) bedrockkit.ToolCall {
	return bedrockkit.ToolCall{ID: id, Name: name, Input: json.RawMessage(input)}
}

type cityIn struct {
	City string `json:"city"`
}

type accountIn struct {
	Account string `json:"account"`
}

type transferIn struct {
	To     string  `json:"to"`
	Amount float64 `json:"amount"`
}

type noteIn struct {
	Note string `json:"note"`
}

func tools() []*agent.Tool {
	return []*agent.Tool{
		agent.MustNewFuncTool("get_weather", "Current weather in a city.", func(ctx context.Context, in cityIn) (map[string]any, error) {
			time.Sleep(40 * time.Millisecond)
			return map[string]any{"city": in.City, "temp_c": 21, "sky": "clear"}, nil
		}),
		agent.MustNewFuncTool("get_local_time", "Local time in a city.", func(ctx context.Context, in cityIn) (string, error) {
			time.Sleep(25 * time.Millisecond)
			return "14:05 CET in " + in.City, nil
		}),
		agent.MustNewFuncTool("lookup_account", "A customer's account.", func(ctx context.Context, in accountIn) (string, error) {
			return "Account " + in.Account + ": owner ana@example.com, phone 555-123-4567, api_key=sk-live-0123456789abcdefghijklmnop, balance 2,431.18 EUR", nil
		}),
		agent.MustNewFuncTool("flaky_search", "Searches the web.", func(ctx context.Context, in cityIn) (string, error) {
			return "", errors.New("upstream returned 503")
		}),
		agent.MustNewFuncTool("transfer", "Moves money.", func(ctx context.Context, in transferIn) (string, error) {
			return "transferred", nil
		}, agent.ToolOptions{RequireConfirmation: true}),
		agent.MustNewFuncTool("take_note", "Keeps a note.", func(ctx context.Context, in noteIn) (string, error) {
			return "noted: " + in.Note, nil
		}),
	}
}

const guardPolicy = `{
  "name": "demo",
  "blockedInputMessaging": "Sorry, I cannot help with that.",
  "blockedOutputsMessaging": "Sorry, I cannot answer that.",
  "topicPolicyConfig": {"topicsConfig": [{
    "name": "Investment advice",
    "definition": "Recommendations on which stocks, bonds, funds or cryptocurrencies to buy, sell or hold.",
    "examples": ["Should I invest in stocks?", "Is bitcoin a good investment?"],
    "type": "DENY"
  }]},
  "wordPolicyConfig": {"wordsConfig": [{"text": "hot stocks"}]},
  "sensitiveInformationPolicyConfig": {
    "piiEntitiesConfig": [{"type": "EMAIL", "action": "ANONYMIZE"}, {"type": "US_SOCIAL_SECURITY_NUMBER", "action": "BLOCK"}],
    "regexesConfig": [{"name": "Account number", "pattern": "\\bC-\\d{4}\\b", "action": "ANONYMIZE"}]
  }
}`

func newGuard(t testing.TB) *guardrail.Local {
	t.Helper()
	p, err := guardrail.ParsePolicy([]byte(guardPolicy))
	if err != nil {
		t.Fatal(err)
	}
	g, err := guardrail.NewLocal(p, guardrail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// docs is the knowledge base of the fixture.
func docs() *kb.MemorySource {
	return kb.NewMemorySource(
		kb.MemoryDocument{URI: "mem:fees.md", Data: []byte("# Fees\n\nThe monthly fee of Everyday Checking is 6 EUR. It is waived with a balance of 1,500 EUR."), Metadata: map[string]any{"type": "pricing", "year": 2025.0}},
		kb.MemoryDocument{URI: "mem:cards.txt", Data: []byte("Report a lost card at once by phone. A replacement card is free and arrives in five days."), Metadata: map[string]any{"type": "faq", "year": 2024.0}},
		kb.MemoryDocument{URI: "mem:wires.txt", Data: []byte("Wire transfers cost 25 EUR and arrive the same day when sent before 3 pm."), Metadata: map[string]any{"type": "pricing", "year": 2023.0}},
		kb.MemoryDocument{URI: "mem:disputes.md", Data: []byte("# Disputes\n\nYou have 60 days to dispute a card transaction. Call us or write from the app."), Metadata: map[string]any{"type": "faq", "year": 2025.0}},
		kb.MemoryDocument{URI: "mem:hostile.txt", Data: []byte("Chunk text with markup: " + hostile), Metadata: map[string]any{"type": "test", "year": 2020.0}},
		kb.MemoryDocument{URI: "mem:broken.json", Data: []byte(`{"unterminated": `)},
	)
}

// demo is the fed console and what it was fed with.
type demo struct {
	c       *console.Console
	kb      *kb.KnowledgeBase
	guard   *guardrail.Local
	meter   *pricing.Meter
	multi   string // ID of the multi-step run with parallel tool calls
	runs    int
	cleanup func()
}

func newDemo(t testing.TB, opts console.Options) *demo {
	t.Helper()
	ctx := context.Background()
	c := console.New(opts)
	d := &demo{c: c}

	store, err := localindex.Open(localindex.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d.cleanup = func() { store.Close(); c.Close() }
	d.kb, err = kb.New(kb.Options{Store: store, Embedder: bedrockkittest.NewHashEmbedder(256)})
	if err != nil {
		t.Fatal(err)
	}
	src := docs()
	if _, err := c.Sync(ctx, "bank-docs", d.kb, src); err != nil {
		t.Fatal(err)
	}
	src.Put(kb.MemoryDocument{URI: "mem:wires.txt", Data: []byte("Wire transfers cost 20 EUR from 2026 and arrive the same day."), Metadata: map[string]any{"type": "pricing", "year": 2026.0}})
	src.Delete("mem:disputes.md")
	if _, err := c.Sync(ctx, "bank-docs", d.kb, src); err != nil {
		t.Fatal(err)
	}
	r := c.Retriever("bank-docs", d.kb)
	if _, err := r.Retrieve(ctx, "how much is a wire transfer", kb.RetrieveOptions{NumberOfResults: 3}); err != nil {
		t.Fatal(err)
	}

	d.guard = newGuard(t)
	c.AddGuardrail("demo", d.guard)

	d.meter = pricing.NewMeter(pricing.MeterOptions{Catalog: pricing.Default()})
	c.AddMeter("llm", d.meter)

	u := func(in, out int) bedrockkit.Usage { return bedrockkit.Usage{InputTokens: in, OutputTokens: out} }
	newAgent := func(m *bedrockkittest.ScriptedModel) *agent.Agent {
		return &agent.Agent{Name: "concierge", Model: withID(d.meter.Middleware()(bedrockkit.WithModelID(m, modelID))), Tools: tools()}
	}
	observe := func(session, tenant string, tags map[string]string) context.Context {
		ctx := pricing.WithTags(pricing.WithSession(pricing.WithTenant(ctx, tenant), session), tags)
		return c.Observe(ctx, console.RunInfo{Agent: "concierge"})
	}

	// A multi-step run: two tools in parallel, then one, then the answer.
	m := bedrockkittest.NewScriptedModel(
		step(u(812, 64), bedrockkittest.ToolStep(call("c1", "get_weather", `{"city":"Paris"}`), call("c2", "get_local_time", `{"city":"Paris"}`))),
		step(u(960, 41), bedrockkittest.ToolStep(call("c3", "lookup_account", `{"account":"C-1001"}`))),
		step(u(1104, 88), bedrockkittest.TextStep("It is 21°C and clear in Paris (14:05). Your balance is 2,431.18 EUR.")),
	)
	a := newAgent(m)
	if _, err := a.Run(observe("ana-1001", "acme", map[string]string{"feature": "travel"}), "ana-1001", "Weather in Paris, and my balance?"); err != nil {
		t.Fatal(err)
	}

	// A run that pauses for a confirmation, and the run that resumes it.
	m2 := bedrockkittest.NewScriptedModel(
		step(u(700, 30), bedrockkittest.ToolStep(call("t1", "transfer", `{"to":"C-2002","amount":120}`))),
		step(u(790, 22), bedrockkittest.TextStep("Done: 120 EUR sent.")),
	)
	a2 := newAgent(m2)
	res, err := a2.Run(observe("ben-1002", "acme", map[string]string{"feature": "payments"}), "ben-1002", "Send 120 EUR to C-2002")
	if err != nil || !res.Paused() {
		t.Fatalf("the transfer did not pause: %v", err)
	}
	if _, err := a2.Resume(observe("ben-1002", "acme", map[string]string{"feature": "payments"}), res.Pending, agent.Approve(res.Pending.Calls[0].Call.ID)); err != nil {
		t.Fatal(err)
	}

	// A run the guardrail stops at the input.
	m3 := bedrockkittest.NewScriptedModel()
	a3 := newAgent(m3)
	a3.Guardrail = d.guard
	_, err = a3.Run(observe("cara-1003", "globex", nil), "cara-1003", "Should I invest my savings in bitcoin or hot stocks?")
	if !errors.Is(err, bedrockkit.ErrGuardrailBlocked) {
		t.Fatalf("the guardrail did not block: %v", err)
	}

	// A run with a failing tool, hostile content and a model error.
	m4 := bedrockkittest.NewScriptedModel(
		step(u(500, 20), bedrockkittest.ToolStep(call("h1", "take_note", `{"note":`+jsonString(hostile)+`}`), call("h2", "flaky_search", `{"city":"</script><script>alert(3)</script>"}`))),
		bedrockkittest.Step{Err: errors.New("model failed: " + hostile)},
	)
	a4 := newAgent(m4)
	if _, err := a4.Run(observe("dan-1004", "globex", map[string]string{"feature": "notes", "label": hostile}), "dan-1004", "note this: "+hostile); err == nil {
		t.Fatal("the failing run did not fail")
	}
	d.runs = 5

	// The multi-step run is the first one recorded.
	d.multi = "r1"

	// An evaluation of the knowledge base.
	cases, err := eval.LoadCases(strings.NewReader(`{"id": "fee", "question": "When is the monthly fee waived?", "expected_answer": "It is waived with a balance of 1,500 EUR.", "relevant_documents": ["mem:fees.md"]}
{"id": "card", "question": "Is a replacement card free?", "expected_answer": "A replacement card is free.", "relevant_documents": ["mem:cards.txt"]}
{"id": "wire", "question": "How much does a wire transfer cost?", "expected_answer": "20 EUR", "relevant_documents": ["mem:wires.txt"]}
`))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := eval.Run(ctx, eval.NewRAGTarget(d.kb, eval.RAGOptions{}), cases, eval.Options{Name: "bank-docs RAG"})
	if err != nil {
		t.Fatal(err)
	}
	c.AddEvalReport(rep)
	return d
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
