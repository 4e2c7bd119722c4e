package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/chunk"
	"github.com/bedrockkit/bedrockkit/guardrail"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/pricing"
)

// policyJSON is the assistant's guardrail, in the JSON of Bedrock's
// CreateGuardrail request: account numbers are masked wherever they appear,
// and investment advice is refused (a denied topic plus word filters).
const policyJSON = `{
  "name": "harborview-assistant",
  "blockedInputMessaging": "Sorry, I can't give investment advice. A licensed Harborview adviser can help: call 1-800-555-0142.",
  "blockedOutputsMessaging": "Sorry, I can't share that answer.",
  "topicPolicyConfig": {"topicsConfig": [{
    "name": "Investment advice",
    "definition": "Recommendations on which stocks, bonds, funds, cryptocurrencies or other investments to buy, sell or hold, or how to allocate money for investment returns.",
    "examples": [
      "Should I invest in stocks?",
      "Is bitcoin a good investment?",
      "Which mutual funds give the best returns?",
      "Should I buy or sell shares?"
    ],
    "type": "DENY"
  }]},
  "wordPolicyConfig": {"wordsConfig": [
    {"text": "stock tips"},
    {"text": "hot stocks"},
    {"text": "guaranteed returns"}
  ]},
  "sensitiveInformationPolicyConfig": {"regexesConfig": [{
    "name": "Harborview account number",
    "description": "A Harborview Bank account number, HV-dddd-dddd-dd",
    "pattern": "` + `\\bHV-\\d{4}-\\d{4}-\\d{2}\\b` + `",
    "action": "ANONYMIZE"
  }]}
}`

// conversation is one customer's session with the assistant.
type conversation struct {
	session string
	turns   []string
}

var conversations = []conversation{
	{"ana-C-1001", []string{
		"Hi, I'm customer C-1001. What's the balance of my checking account?",
		"What did I spend the most on in my last 5 transactions?",
	}},
	{"ben-C-1002", []string{
		"I'm customer C-1002. How long do I have to dispute a card transaction?",
		"Should I invest my savings in tech stocks or bitcoin?",
	}},
}

const instructions = `You are the customer-service assistant of Harborview Bank. Use account_lookup and
transaction_summary for the customer's own account (the customer gives their id), and search
bank_policies for fees, cards, disputes, privacy and products, naming the document you used.
Never give investment advice. Be brief.`

// newGuard builds the guardrail from policyJSON.
func newGuard() (*guardrail.Local, error) {
	p, err := guardrail.ParsePolicy([]byte(policyJSON))
	if err != nil {
		return nil, err
	}
	return guardrail.NewLocal(p, guardrail.Options{})
}

// tracer prints the trace lines of agent events and guardrail interventions.
// The guard runs inside model calls, so writes are serialized.
type tracer struct {
	mu  sync.Mutex
	out io.Writer
}

func (t *tracer) printf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.out, format, args...)
}

// event prints one agent event.
func (t *tracer) event(ev agent.RunEvent) {
	switch e := ev.(type) {
	case agent.ModelCalled:
		if e.Err != nil {
			t.printf("    [step %d] model call failed after %s: %v\n", e.Iteration, round(e.Duration), e.Err)
			return
		}
		if e.StopReason == bedrockkit.StopGuardrailIntervened && e.Usage.Total() == 0 {
			t.printf("    [step %d] the guardrail answered with its blocked message; the model was not called\n", e.Iteration)
			return
		}
		t.printf("    [step %d] model call: %d input + %d output tokens, stop reason %s, %s\n",
			e.Iteration, e.Usage.InputTokens, e.Usage.OutputTokens, e.StopReason, round(e.Duration))
	case agent.ToolCalled:
		status := "ok"
		switch {
		case e.Invalid:
			status = "REFUSED (invalid call), error sent back to the model"
		case e.Result.IsError:
			status = "tool error sent back to the model"
		}
		t.printf("    [step %d] tool call %s(%s): %s, %s\n", e.Iteration, e.Call.Name, e.Call.Input, status, round(e.Duration))
		t.printf("             result: %s\n", clip(partsText(e.Result.Parts), 160))
	case agent.GuardrailIntervened:
		t.printf("    [guardrail] %s: %s\n", e.Stage, e.Verdict.Detail)
	}
}

// tracedGuard reports every assessment in which the guardrail intervened.
type tracedGuard struct {
	guardrail.Guard
	t *tracer
}

func (g tracedGuard) Assess(ctx context.Context, src guardrail.Source, content ...guardrail.Content) (*guardrail.Verdict, error) {
	res, err := g.Guard.Assess(ctx, src, content...)
	if err == nil && res.Action != guardrail.OutcomeNone {
		g.t.printf("    [guardrail] %s %s\n", strings.ToLower(string(src)), describe(res))
	}
	return res, err
}

// describe says what the guardrail did and why: "BLOCKED (...) -> message"
// or "masked (...) -> text".
func describe(res *guardrail.Verdict) string {
	out := ""
	if len(res.Outputs) > 0 {
		out = res.Outputs[0].Text
	}
	if res.Blocked {
		return fmt.Sprintf("BLOCKED (%s) -> %q", reasons(res), out)
	}
	return fmt.Sprintf("masked (%s) -> %q", reasons(res), clip(out, 160))
}

// reasons lists the policies that fired.
func reasons(res *guardrail.Verdict) string {
	var r []string
	for _, a := range res.Assessments {
		if a.TopicPolicy != nil {
			for _, f := range a.TopicPolicy.Topics {
				r = append(r, fmt.Sprintf("denied topic %q", f.Name))
			}
		}
		if a.WordPolicy != nil {
			for _, w := range a.WordPolicy.CustomWords {
				r = append(r, fmt.Sprintf("denied word %q", w.Match))
			}
		}
		if a.SensitiveInformationPolicy != nil {
			for _, x := range a.SensitiveInformationPolicy.Regexes {
				r = append(r, fmt.Sprintf("regex %q %s", x.Name, x.Action))
			}
			for _, p := range a.SensitiveInformationPolicy.PiiEntities {
				r = append(r, fmt.Sprintf("PII %s %s", p.Type, p.Action))
			}
		}
	}
	return strings.Join(r, ", ")
}

// runAssistant is the customer-service part: with a model, the agent's
// conversations with their trace and cost; without one, the parts that need
// no model, run for real.
func runAssistant(ctx context.Context, out io.Writer, o options, base *kb.KnowledgeBase, p *provider) error {
	fmt.Fprintln(out, "=== The customer-service assistant ===")
	fmt.Fprintln(out)
	lookup, summary := bankTools()
	policies := agent.KnowledgeBaseTool{
		Name:            "bank_policies",
		Description:     "Search Harborview Bank's policy and product documents (fees, lost cards, disputes, privacy, products).",
		Retriever:       agent.FromKnowledgeBase(base, kb.RetrieveOptions{}),
		NumberOfResults: 3,
	}
	guard, err := newGuard()
	if err != nil {
		return err
	}
	catalog := pricing.Default()
	if p == nil {
		return offlineAssistant(ctx, out, o, guard, catalog, lookup, summary, policies)
	}
	if !p.priced {
		// The catalog holds Amazon Bedrock's prices, which say nothing about
		// a model served elsewhere. A meter refuses calls to a model it cannot
		// price, so a free fallback row lets it count the tokens; the cost
		// table then leaves the cost out.
		catalog, err = catalog.WithFallback(pricing.Row{Name: "no price known", Kind: pricing.KindText, Unit: pricing.UnitPer1MTokens,
			Input: pricing.Free, Output: pricing.Free, CacheRead: pricing.Free, CacheWrite5m: pricing.Free, CacheWrite1h: pricing.Free})
		if err != nil {
			return err
		}
	}

	tr := &tracer{out: out}
	meter := pricing.NewMeter(pricing.MeterOptions{Catalog: catalog})
	// The meter sits next to the model, so it counts only calls that reach
	// it; the guardrail is outside, so it sees what the user sends and what
	// the caller gets back.
	guarded := bedrockkit.Chain(meter.Middleware()(bedrockkit.WithModelID(p.model, p.id)), guardrail.Middleware(tracedGuard{guard, tr}, guardrail.MiddlewareOptions{}))
	a := &agent.Agent{
		Name:           "harborview-assistant",
		Model:          guarded,
		Instructions:   instructions,
		Tools:          []*agent.Tool{lookup, summary},
		KnowledgeBases: []agent.KnowledgeBaseTool{policies},
		Limits:         agent.Limits{MaxIterations: 6},
		OnEvent:        tr.event,
	}
	fmt.Fprintf(out, "Agent on %s with tools account_lookup, transaction_summary and bank_policies (knowledge base);\n", p.id)
	fmt.Fprintln(out, "a guardrail masks account numbers and blocks investment advice. Trace of each step:")
	for _, c := range conversations {
		fmt.Fprintf(out, "\n-- Conversation %s --\n", c.session)
		cctx := pricing.WithSession(ctx, c.session)
		for _, turn := range c.turns {
			tr.printf("  Customer: %s\n", turn)
			res, err := a.Run(cctx, c.session, turn)
			if err != nil {
				return p.wrap(err)
			}
			tr.printf("  Assistant: %s\n", res.Output)
		}
	}
	if !p.priced {
		return printTokens(out, meter.Snapshot(), p.id)
	}
	return printCosts(out, meter.Snapshot(), catalog)
}

// printCosts prints the metered cost of each conversation.
func printCosts(out io.Writer, snap pricing.Snapshot, catalog *pricing.Catalog) error {
	fmt.Fprintf(out, "\nCost per conversation (prices from the pricing catalog dated %s):\n\n", catalog.AsOf())
	by := snap.BySession()
	sessions := make([]string, 0, len(by))
	for s := range by {
		sessions = append(sessions, s)
	}
	sort.Strings(sessions)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "conversation\tmodel calls\tinput tokens\toutput tokens\tcost\t")
	for _, s := range sessions {
		e := by[s]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t\n", s, e.Calls, e.InputTokens, e.OutputTokens, e.Cost.Total)
	}
	t := snap.Total()
	fmt.Fprintf(tw, "total\t%d\t%d\t%d\t%s\t\n", t.Calls, t.InputTokens, t.OutputTokens, t.Cost.Total)
	if err := tw.Flush(); err != nil {
		return err
	}
	if t.Unpriced > 0 {
		fmt.Fprintf(out, "%d call(s) could not be priced from the catalog and are missing from the cost.\n", t.Unpriced)
	}
	return nil
}

// printTokens prints the metered tokens of each conversation, for a model
// the pricing catalog has no price for.
func printTokens(out io.Writer, snap pricing.Snapshot, modelID string) error {
	fmt.Fprintf(out, "\nTokens per conversation (no price known for %s: the pricing catalog holds Amazon Bedrock prices):\n\n", modelID)
	by := snap.BySession()
	sessions := make([]string, 0, len(by))
	for s := range by {
		sessions = append(sessions, s)
	}
	sort.Strings(sessions)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "conversation\tmodel calls\tinput tokens\toutput tokens\t")
	for _, s := range sessions {
		e := by[s]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t\n", s, e.Calls, e.InputTokens, e.OutputTokens)
	}
	t := snap.Total()
	fmt.Fprintf(tw, "total\t%d\t%d\t%d\t\n", t.Calls, t.InputTokens, t.OutputTokens)
	if err := tw.Flush(); err != nil {
		return err
	}
	if t.Estimated > 0 {
		fmt.Fprintf(out, "%d call(s) reported no usage; their tokens are estimated.\n", t.Estimated)
	}
	return nil
}

// offlineAssistant says the conversation needs a model and demonstrates what
// runs without one: the tools, the knowledge-base search, the guardrail and
// the price table.
func offlineAssistant(ctx context.Context, out io.Writer, o options, guard *guardrail.Local, catalog *pricing.Catalog,
	lookup, summary *agent.Tool, policies agent.KnowledgeBaseTool) error {
	fmt.Fprintln(out, "No model is configured, so the agent conversation is skipped: deciding which tool to call")
	fmt.Fprintln(out, "and writing the reply needs a language model, and this example does not fake one.")
	fmt.Fprintln(out, "To run it, configure a model in one of two ways.")
	fmt.Fprintln(out, "Amazon Bedrock, with your AWS credentials:")
	fmt.Fprintln(out, "  export AWS_REGION=us-east-1          # a Region where you have model access")
	fmt.Fprintln(out, "  export AWS_PROFILE=...               # or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or AWS_BEARER_TOKEN_BEDROCK")
	fmt.Fprintf(out, "  go run ./examples/quickstart -bedrock -model %s\n", o.modelID)
	fmt.Fprintln(out, "Or a local Ollama (https://ollama.com), through langchaingo's OpenAI client; the model must support tool calling:")
	fmt.Fprintf(out, "  ollama pull %s\n", defaultOpenAIModel)
	fmt.Fprintf(out, "  go run ./examples/quickstart -openai-base-url %s -openai-model %s\n", ollamaBaseURL, defaultOpenAIModel)
	fmt.Fprintln(out, "  (any OpenAI-compatible server works the same way: vLLM, LM Studio, or OpenAI itself with OPENAI_API_KEY set)")
	fmt.Fprintln(out)
	fmt.Fprintln(out, "What runs without a model, for real:")

	// The tools: the arguments are checked by the agent's Tool objects (the
	// JSON Schema check the agent applies to a model's calls), then the
	// functions those tools wrap are run.
	fmt.Fprintln(out, "\n1. The agent's tools, called directly with the arguments a model would send:")
	if err := callTool(ctx, out, lookup, `{"customer_id":"C-1001"}`); err != nil {
		return err
	}
	if err := callTool(ctx, out, summary, `{"customer_id":"C-1001","last":5}`); err != nil {
		return err
	}
	if err := callTool(ctx, out, summary, `{"customer":"C-1001"}`); err != nil {
		return err
	}

	fmt.Fprintln(out, "\n2. The bank_policies search tool (the knowledge base through agent.FromKnowledgeBase):")
	const q = "dispute a card transaction"
	ps, err := policies.Retriever.Retrieve(ctx, q, policies.NumberOfResults)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "   search %q -> %d passages:\n", q, len(ps))
	for i, p := range ps {
		fmt.Fprintf(out, "   [%d] %s: %s\n", i+1, p.Source, clip(strings.Join(strings.Fields(p.Text), " "), 90))
	}

	fmt.Fprintln(out, "\n3. The guardrail (guardrail.NewLocal, the policy in assistant.go):")
	for _, c := range []struct {
		src  guardrail.Source
		text string
	}{
		{guardrail.SourceOutput, "Your Everyday Checking account HV-4821-0093-57 has a balance of $2,431.18."},
		{guardrail.SourceInput, "Should I invest my savings in tech stocks or bitcoin?"},
		{guardrail.SourceInput, "Any hot stocks I should know about?"},
		{guardrail.SourceInput, "How long do I have to dispute a card transaction?"},
	} {
		res, err := guard.Assess(ctx, c.src, guardrail.Content{Text: c.text})
		if err != nil {
			return err
		}
		kind := "answer"
		if c.src == guardrail.SourceInput {
			kind = "question"
		}
		fmt.Fprintf(out, "   %s: %s\n", kind, c.text)
		if res.Action == guardrail.OutcomeNone {
			fmt.Fprintln(out, "     -> allowed unchanged")
		} else {
			fmt.Fprintf(out, "     -> %s\n", describe(res))
		}
	}

	// The cost table: the first model call of the first conversation, built
	// from the real system prompt, tool definitions and customer message,
	// counted with a tokenizer (an estimate: Bedrock models count a few
	// percent differently) and priced for several models.
	policyTool, err := policies.Tool()
	if err != nil {
		return err
	}
	req := &bedrockkit.Request{
		System:   []bedrockkit.Part{bedrockkit.Text{Text: instructions}},
		Messages: []bedrockkit.Message{bedrockkit.UserText(conversations[0].turns[0])},
		Tools:    []bedrockkit.ToolSpec{lookup.Definition(), summary.Definition(), policyTool.Definition()},
	}
	inTokens := pricing.EstimateRequest(req, chunk.CL100K().Count)
	const outTokens = 150 // a tool call or a short reply
	fmt.Fprintf(out, "\n4. What one model call of the assistant would cost (prices from the pricing catalog dated %s):\n", catalog.AsOf())
	fmt.Fprintf(out, "   the first call of conversation %s: system prompt, 3 tool definitions and the customer's message,\n", conversations[0].session)
	fmt.Fprintf(out, "   about %d input tokens (counted with cl100k; each model's tokenizer differs a little) and %d output tokens:\n\n", inTokens, outTokens)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "   model\tinput\toutput\tper call\tper 1,000 calls\t")
	models := []string{o.modelID, "us.amazon.nova-pro-v1:0", "us.anthropic.claude-haiku-4-5-20251001-v1:0", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"}
	for i, id := range models {
		if slices.Contains(models[:i], id) {
			continue
		}
		bill, err := catalog.Cost(id, bedrockkit.Usage{InputTokens: inTokens, OutputTokens: outTokens})
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "   %s\t%s\t%s\t%s\t%s\t\n", id, bill.Input, bill.Output, bill.Total, bill.Total*1000)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out, "\n   A conversation makes a few such calls (each resends the history and tool results). With -bedrock,")
	fmt.Fprintln(out, "   a pricing.Meter around the model prints each conversation's measured cost; with -openai-base-url,")
	fmt.Fprintln(out, "   its token counts (the catalog has Amazon Bedrock prices only).")
	return nil
}

// callTool runs the tool with Tool.Call, the code path an agent uses for a
// model's call: the arguments are checked against the tool's schema first.
// The check is made here with Validate (Call repeats it) so that a refusal
// is told apart from the tool's own errors: a tool whose function calls
// another tool may return that tool's ErrInvalidToolCall.
func callTool(ctx context.Context, out io.Writer, t *agent.Tool, args string) error {
	start := time.Now()
	fmt.Fprintf(out, "   %s(%s)", t.Name(), args)
	if err := t.Validate(json.RawMessage(args)); err != nil {
		fmt.Fprintf(out, ": REFUSED by the tool's schema check: %v\n", err)
		return nil
	}
	parts, err := t.Call(ctx, json.RawMessage(args))
	if err != nil {
		fmt.Fprintf(out, ": tool error: %v\n", err)
		return nil
	}
	var res strings.Builder
	for _, p := range parts {
		switch p := p.(type) {
		case bedrockkit.JSON:
			res.Write(p.Value)
		case bedrockkit.Text:
			res.WriteString(p.Text)
		}
	}
	fmt.Fprintf(out, " in %s\n     -> %s\n", round(time.Since(start)), res.String())
	return nil
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "..."
	}
	return s
}

func partsText(parts []bedrockkit.Part) string {
	var b strings.Builder
	for _, p := range parts {
		switch p := p.(type) {
		case bedrockkit.Text:
			b.WriteString(p.Text)
		case bedrockkit.JSON:
			b.Write(p.Value)
		default:
			fmt.Fprintf(&b, "%T", p)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}
