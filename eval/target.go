package eval

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/kb"
)

// Target is the system under evaluation: it answers one case.
// NewRetrieverTarget, NewRAGTarget, NewModelTarget and NewAgentTarget adapt
// a knowledge base, a model and an agent; TargetFunc adapts a function.
type Target interface {
	Answer(ctx context.Context, c Case) (*Output, error)
}

// TargetFunc adapts a function to a Target.
type TargetFunc func(ctx context.Context, c Case) (*Output, error)

// Answer calls f.
func (f TargetFunc) Answer(ctx context.Context, c Case) (*Output, error) { return f(ctx, c) }

// UsageEstimator is implemented by targets and judges that can bound the
// model usage of one case before it runs, so Run can price the run before
// spending (see Options.Budget). The built-in targets and ModelJudge
// implement it.
type UsageEstimator interface {
	EstimateUsage(c Case) []ModelUsage
}

// Output is what a target produced for a case.
type Output struct {
	// Answer is the generated answer (empty for retrieval only).
	Answer string
	// Retrieved are the retrieved passages, best first.
	Retrieved []RetrievedPassage
	// Citations link spans of Answer to their sources.
	Citations []bedrockkit.Citation
	// ToolCalls is the agent's trajectory, in the order the calls were made.
	ToolCalls []TrajectoryCall
	// Steps counts the model calls the answer took.
	Steps int
	// Usage is the model usage, per model.
	Usage []ModelUsage
	// Latency is how long the target took (set by Run when zero).
	Latency time.Duration
}

// RetrievedPassage is one passage a target retrieved.
type RetrievedPassage struct {
	// DocumentID identifies the passage's document, as the case's
	// RelevantDocuments name documents.
	DocumentID string `json:"document_id"`
	// ID is the chunk's own ID.
	ID string `json:"id,omitempty"`
	// Text is the passage (context for judged faithfulness).
	Text string `json:"-"`
	// Score is the retriever's score.
	Score float64 `json:"score"`
}

// TrajectoryCall is one tool call of a trajectory, as the target made it.
type TrajectoryCall struct {
	Name  string          `json:"name"`
	Input json.RawMessage `json:"input"`
	// Invalid is true when the tool refused the arguments (they do not
	// match its schema) or no such tool exists.
	Invalid bool `json:"invalid,omitempty"`
	// Output is the tool's result text (context for judged faithfulness).
	Output string `json:"-"`
}

// ModelUsage is the token usage of one model.
type ModelUsage struct {
	// ModelID prices the usage; empty usage is unpriced.
	ModelID string           `json:"model_id"`
	Usage   bedrockkit.Usage `json:"usage"`
}

// modelIDOf returns the ID a model reports (ConverseModel does), or "".
func modelIDOf(m bedrockkit.Model) string {
	if x, ok := m.(interface{ ModelID() bedrockkit.ModelID }); ok {
		return x.ModelID().Raw
	}
	return ""
}

// RetrieverOptions configures NewRetrieverTarget.
type RetrieverOptions struct {
	// Retrieve are the options of every Retrieve call; NumberOfResults 0
	// means 100, so recall@100 is measurable.
	Retrieve kb.RetrieveOptions
	// DocumentID names a result's document as the cases do; nil means
	// kb.RetrievalResult.DocumentID (the source URI).
	DocumentID func(kb.RetrievalResult) string
}

// NewRetrieverTarget evaluates a knowledge base's Retrieve: the question is the
// query and the results are the output's passages.
func NewRetrieverTarget(base *kb.KnowledgeBase, opts RetrieverOptions) Target {
	if opts.Retrieve.NumberOfResults == 0 {
		opts.Retrieve.NumberOfResults = 100
	}
	return &retriever{base: base, opts: opts}
}

type retriever struct {
	base *kb.KnowledgeBase
	opts RetrieverOptions
}

func (r *retriever) Answer(ctx context.Context, c Case) (*Output, error) {
	ro := r.opts.Retrieve
	res, err := r.base.Retrieve(ctx, c.Question, ro)
	if err != nil {
		return nil, err
	}
	return &Output{Retrieved: passages(res, r.opts.DocumentID)}, nil
}

// EstimateUsage returns nothing: retrieval calls no generating model (the
// query embedding is not priced).
func (r *retriever) EstimateUsage(Case) []ModelUsage { return nil }

func passages(res []kb.RetrievalResult, docID func(kb.RetrievalResult) string) []RetrievedPassage {
	out := make([]RetrievedPassage, len(res))
	for i, r := range res {
		id := r.DocumentID
		if docID != nil {
			id = docID(r)
		}
		out[i] = RetrievedPassage{DocumentID: id, ID: r.ID, Text: r.Text, Score: r.Score}
	}
	return out
}

// RAGOptions configures NewRAGTarget.
type RAGOptions struct {
	// Generate are the options of every RetrieveAndGenerate call (a case
	// never shares a Session with another).
	Generate kb.GenerateOptions
	// ModelID prices the answers: the ID of the knowledge base's Model.
	// Empty leaves the usage unpriced.
	ModelID string
	// DocumentID names a passage's document as the cases do; nil means
	// kb.RetrievalResult.DocumentID.
	DocumentID func(kb.RetrievalResult) string
	// PassageTokens is the size of one passage assumed by the cost
	// estimate; 0 means 300 (Bedrock's default chunk size).
	PassageTokens int
}

// NewRAGTarget evaluates a knowledge base's RetrieveAndGenerate: answer, passages
// and citations.
func NewRAGTarget(base *kb.KnowledgeBase, opts RAGOptions) Target {
	return &rag{base: base, opts: opts}
}

type rag struct {
	base *kb.KnowledgeBase
	opts RAGOptions
}

func (r *rag) Answer(ctx context.Context, c Case) (*Output, error) {
	o := r.opts.Generate
	o.Conversation = nil
	a, err := r.base.RetrieveAndGenerate(ctx, c.Question, o)
	if err != nil {
		return nil, err
	}
	out := &Output{Answer: a.Text, Retrieved: passages(a.Passages, r.opts.DocumentID), Citations: a.Citations}
	if a.Usage.Total() > 0 {
		out.Steps = 1
		out.Usage = []ModelUsage{{ModelID: r.opts.ModelID, Usage: a.Usage}}
	}
	return out, nil
}

// EstimateUsage bounds one answer: the question, NumberOfResults passages
// of PassageTokens and the instructions in, MaxTokens out (an upper bound:
// answers are usually shorter).
func (r *rag) EstimateUsage(c Case) []ModelUsage {
	n := r.opts.Generate.Retrieve.NumberOfResults
	if n == 0 {
		n = 5
	}
	pt := r.opts.PassageTokens
	if pt <= 0 {
		pt = 300
	}
	maxOut := r.opts.Generate.MaxTokens
	if maxOut <= 0 {
		maxOut = 1024
	}
	in := estimateTokens(c.Question) + n*pt + estimateTokens(r.opts.Generate.Instructions) + 200
	if r.opts.Generate.Decompose {
		in *= 2
	}
	return []ModelUsage{{ModelID: r.opts.ModelID, Usage: bedrockkit.Usage{InputTokens: in, OutputTokens: maxOut, Estimated: true}}}
}

// estimateTokens is pricing.EstimateBytes' rule: a token per started 4
// bytes.
func estimateTokens(s string) int { return (len(s) + 3) / 4 }

// ModelOptions configures NewModelTarget.
type ModelOptions struct {
	// System is the system prompt; empty sends none.
	System string
	// MaxTokens caps each answer; 0 means 1024.
	MaxTokens int
	// Temperature is passed on; nil keeps the model's default.
	Temperature *float32
	// ModelID prices the answers; empty means the model's own ID when it
	// reports one (bedrockkit.ConverseModel does).
	ModelID string
}

// NewModelTarget evaluates a model answering the question directly. A case's
// Context, when present, is sent before the question, delimited as data.
func NewModelTarget(m bedrockkit.Model, opts ModelOptions) Target {
	if opts.ModelID == "" {
		opts.ModelID = modelIDOf(m)
	}
	if opts.MaxTokens <= 0 {
		opts.MaxTokens = 1024
	}
	return &modelTarget{m: m, opts: opts}
}

type modelTarget struct {
	m    bedrockkit.Model
	opts ModelOptions
}

func (t *modelTarget) request(c Case) *bedrockkit.Request {
	req := &bedrockkit.Request{MaxTokens: t.opts.MaxTokens, Temperature: t.opts.Temperature}
	if t.opts.System != "" {
		req.System = []bedrockkit.Part{bedrockkit.Text{Text: t.opts.System}}
	}
	text := c.Question
	if len(c.Context) > 0 {
		var b strings.Builder
		b.WriteString("Use the context below to answer the question.\n\n")
		for i, s := range c.Context {
			fmt.Fprintf(&b, "<context index=\"%d\">\n%s\n</context>\n", i+1, s)
		}
		b.WriteString("\nQuestion: ")
		b.WriteString(c.Question)
		text = b.String()
	}
	req.Messages = []bedrockkit.Message{bedrockkit.UserText(text)}
	return req
}

func (t *modelTarget) Answer(ctx context.Context, c Case) (*Output, error) {
	resp, err := t.m.Generate(ctx, t.request(c))
	if err != nil {
		return nil, err
	}
	return &Output{Answer: resp.Message.Text(), Citations: resp.Message.Citations(), Steps: 1,
		Usage: []ModelUsage{{ModelID: t.opts.ModelID, Usage: resp.Usage}}}, nil
}

// EstimateUsage bounds one answer: the request's estimated input tokens
// and MaxTokens out.
func (t *modelTarget) EstimateUsage(c Case) []ModelUsage {
	in := 0
	req := t.request(c)
	for _, p := range req.System {
		if x, ok := p.(bedrockkit.Text); ok {
			in += estimateTokens(x.Text)
		}
	}
	in += estimateTokens(req.Messages[0].Text()) + 4
	return []ModelUsage{{ModelID: t.opts.ModelID, Usage: bedrockkit.Usage{InputTokens: in, OutputTokens: t.opts.MaxTokens, Estimated: true}}}
}

// AgentOptions configures NewAgentTarget.
type AgentOptions struct {
	// RunOptions are the settings of every Run.
	RunOptions agent.RunOptions
	// StepTokens is the input assumed per model call by the cost estimate
	// on top of the question and tool definitions; 0 means 500.
	StepTokens int
}

// NewAgentTarget evaluates an agent: each case runs in a session of its own
// (a new random ID, so a rerun never continues an earlier one), and the
// output holds the answer, every tool call in order (with Invalid set for
// calls the agent refused), the number of model calls and their usage per
// model. A run that pauses for confirmation or return of control ends the
// case there, with the calls made so far.
func NewAgentTarget(a *agent.Agent, opts AgentOptions) Target {
	return &agentTarget{a: a, opts: opts}
}

type agentTarget struct {
	a    *agent.Agent
	opts AgentOptions
}

func (t *agentTarget) Answer(ctx context.Context, c Case) (*Output, error) {
	var mu sync.Mutex
	out := &Output{}
	usage := map[string]bedrockkit.Usage{}
	var models []string
	obs := func(e agent.RunEvent) {
		mu.Lock()
		defer mu.Unlock()
		switch e := e.(type) {
		case agent.ToolCalled:
			out.ToolCalls = append(out.ToolCalls, TrajectoryCall{Name: e.Call.Name, Input: append(json.RawMessage(nil), e.Call.Input...),
				Invalid: e.Invalid, Output: toolText(e.Result)})
		case agent.ModelCalled:
			if _, ok := usage[e.Model]; !ok {
				models = append(models, e.Model)
			}
			usage[e.Model] = usage[e.Model].Add(e.Usage)
		}
	}
	res, err := t.a.Run(agent.WithObserver(ctx, obs), "eval-"+randomID(), c.Question, t.opts.RunOptions)
	if err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	out.Answer = res.Output
	out.Citations = res.Message.Citations()
	out.Steps = res.Iterations
	for _, m := range models {
		out.Usage = append(out.Usage, ModelUsage{ModelID: m, Usage: usage[m]})
	}
	return out, nil
}

// EstimateUsage bounds one run as one model call per expected tool call
// plus the answer (at least two when tools are expected), each sending the
// instructions, tool definitions, question and StepTokens, and writing
// the agent's MaxTokens (default 1024).
func (t *agentTarget) EstimateUsage(c Case) []ModelUsage {
	steps := len(c.ExpectedToolCalls) + 1
	step := t.opts.StepTokens
	if step <= 0 {
		step = 500
	}
	in := estimateTokens(t.a.Instructions) + estimateTokens(c.Question) + step
	for _, tool := range t.a.Tools {
		d := tool.Definition()
		in += estimateTokens(d.Name) + estimateTokens(d.Description) + estimateTokens(string(d.InputSchema))
	}
	out := t.a.Limits.MaxTokens
	if out <= 0 {
		out = t.a.Inference.MaxTokens
	}
	if out <= 0 {
		out = 1024
	}
	return []ModelUsage{{ModelID: modelIDOf(t.a.Model), Usage: bedrockkit.Usage{InputTokens: steps * in, OutputTokens: steps * out, Estimated: true}}}
}

func toolText(r bedrockkit.ToolResult) string {
	var b strings.Builder
	for _, p := range r.Parts {
		switch p := p.(type) {
		case bedrockkit.Text:
			b.WriteString(p.Text)
		case bedrockkit.JSON:
			b.Write(p.Value)
		}
	}
	return b.String()
}

func randomID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
