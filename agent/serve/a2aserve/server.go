package a2aserve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/a2aproject/a2a-go/a2a"
	"github.com/a2aproject/a2a-go/a2asrv"
	"github.com/a2aproject/a2a-go/a2asrv/eventqueue"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/identity"
	"github.com/bedrockkit/bedrockkit/agent/serve"
)

// ProtocolVersion is the A2A protocol version served (AgentCore's A2A
// examples use 0.3).
const ProtocolVersion = "0.3.0"

// DefaultURL is the card's URL when Options.URL is empty: AgentCore
// Runtime's A2A port and path.
const DefaultURL = "http://localhost:9000/"

// Options configure an A2A server. Authorizer must be set.
type Options struct {
	// Authorizer decides who the caller is; required (identity.Anonymous()
	// serves without authentication on purpose).
	Authorizer identity.Authorizer
	// Challenge configures the WWW-Authenticate challenge of refusals.
	Challenge identity.RequireOptions
	// URL is the public URL of the JSON-RPC endpoint, advertised in the
	// agent card; empty means DefaultURL. On AgentCore Runtime, use the
	// runtime's invocation URL.
	URL string
	// Description and Skills fill the agent card.
	Description string
	Skills      []a2a.AgentSkill
	// Locker gives each conversation (A2A context) one run at a time; nil
	// means a serve.LocalLocker.
	Locker serve.SessionLocker
}

// New returns the A2A server of a: JSON-RPC 2.0 at "/" (message/send,
// message/stream, tasks/get, tasks/cancel, ...), the public agent card at
// /.well-known/agent-card.json and GET /ping, as AgentCore Runtime expects
// on port 9000.
//
// Each A2A context is a session of the agent, kept apart per caller
// (identity.Caller.Namespace). A message's text parts are the turn's
// input; the answer is the task's artifact, streamed as it is generated
// (unless the agent has a Guardrail, whose rewriting of the answer the
// raw stream would bypass). A paused run leaves the task input-required,
// with a data part {"pending_id", "calls"}; a later message in the same
// task with a data part {"pending_id", "decisions"} (serve.DecisionRecord
// values) resumes it.
func New(a *agent.Agent, opts Options) (http.Handler, error) {
	switch {
	case a == nil || a.Model == nil:
		return nil, fmt.Errorf("a2aserve: the agent has no Model: %w", bedrockkit.ErrInvalidInput)
	case a.Memory == nil:
		return nil, fmt.Errorf("a2aserve: Agent.Memory is nil; set agent.NewInMemory() or a shared Memory: %w", bedrockkit.ErrInvalidInput)
	case opts.Authorizer == nil:
		return nil, fmt.Errorf("a2aserve: Options.Authorizer is nil; pass an identity.JWTAuthorizer, or identity.Anonymous() to serve without authentication on purpose: %w", bedrockkit.ErrInvalidInput)
	}
	if opts.URL == "" {
		opts.URL = DefaultURL
	}
	if opts.Locker == nil {
		opts.Locker = serve.NewLocalLocker()
	}
	name := a.Name
	if name == "" {
		name = "agent"
	}
	card := &a2a.AgentCard{
		Name:               name,
		Description:        opts.Description,
		URL:                opts.URL,
		PreferredTransport: a2a.TransportProtocolJSONRPC,
		ProtocolVersion:    ProtocolVersion,
		Version:            "1.0.0",
		DefaultInputModes:  []string{"text/plain", "application/json"},
		DefaultOutputModes: []string{"text/plain"},
		Capabilities:       a2a.AgentCapabilities{Streaming: true},
		Skills:             opts.Skills,
	}
	if card.Description == "" {
		card.Description = "A bedrockkit agent."
	}
	if card.Skills == nil {
		card.Skills = []a2a.AgentSkill{{ID: "chat", Name: name, Description: card.Description, Tags: []string{"agent"}}}
	}
	exec := &executor{a: a, lock: opts.Locker}
	rpc := a2asrv.NewJSONRPCHandler(a2asrv.NewHandler(exec))
	mux := http.NewServeMux()
	mux.Handle("GET "+a2asrv.WellKnownAgentCardPath, a2asrv.NewStaticAgentCardHandler(card))
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":%q}`+"\n", serve.Healthy)
	})
	mux.Handle("POST /", identity.Require(opts.Authorizer, opts.Challenge, rpc))
	return mux, nil
}

// executor runs the agent for A2A tasks.
type executor struct {
	a    *agent.Agent
	lock serve.SessionLocker
}

// pauseData is the data part of an input-required status.
type pauseData struct {
	PendingID string                        `json:"pending_id"`
	Calls     []serve.InvocationPendingCall `json:"calls"`
}

// resumeData is the data part of a message answering a pause.
type resumeData struct {
	PendingID string                 `json:"pending_id"`
	Decisions []serve.DecisionRecord `json:"decisions"`
}

func (e *executor) Execute(ctx context.Context, rc *a2asrv.RequestContext, q eventqueue.Queue) error {
	if rc.StoredTask == nil {
		if err := q.Write(ctx, a2a.NewSubmittedTask(rc, rc.Message)); err != nil {
			return err
		}
	}
	tw := &taskWriter{ctx: ctx, q: q, rc: rc}
	caller, ok := identity.CallerFrom(ctx)
	if !ok {
		return tw.fail("the caller is not authenticated")
	}
	key := caller.Namespace() + "/a2a/" + rc.ContextID
	release, err := e.lock.TryLock(ctx, key)
	if err != nil {
		return tw.fail("another request of this conversation is running; send this one again when it has finished")
	}
	release = sync.OnceFunc(release)
	defer release()
	if err := q.Write(ctx, a2a.NewStatusUpdateEvent(rc, a2a.TaskStateWorking, nil)); err != nil {
		return err
	}

	input, resume, err := readMessage(rc.Message)
	if err != nil {
		return tw.fail(err.Error())
	}
	events, msg := e.events(ctx, key, input, resume)
	if events == nil {
		return tw.fail(msg)
	}
	// With a Guardrail the raw model text could hold what the guardrail
	// masks, so only the final, guarded answer is sent.
	final, err := tw.run(events, e.a.Guardrail == nil)
	if err != nil {
		return err
	}
	release()
	if final == nil {
		return tw.fail("the run ended without an answer")
	}
	return final()
}

// events starts the run: a new turn with input, or the resumption of the
// stored pause resume answers. Without events, msg says why.
func (e *executor) events(ctx context.Context, key, input string, resume *resumeData) (events func(yield func(agent.RunEvent, error) bool), msg string) {
	if resume == nil {
		return e.a.Stream(ctx, key, input), ""
	}
	sess, err := e.a.Memory.Load(ctx, key)
	if err != nil || sess.Pending == nil || sess.Pending.ID != resume.PendingID {
		return nil, fmt.Sprintf("this conversation has no pause %q waiting", resume.PendingID)
	}
	ds := make([]agent.Decision, 0, len(resume.Decisions))
	for _, d := range resume.Decisions {
		dec, err := d.Decision()
		if err != nil {
			return nil, err.Error()
		}
		ds = append(ds, dec)
	}
	return e.a.ResumeStream(ctx, sess.Pending, ds...), ""
}

// taskWriter writes one task's events to the queue.
type taskWriter struct {
	ctx      context.Context
	q        eventqueue.Queue
	rc       *a2asrv.RequestContext
	artifact a2a.ArtifactID // the answer's, once started
}

// fail ends the task as failed with msg.
func (tw *taskWriter) fail(msg string) error {
	ev := a2a.NewStatusUpdateEvent(tw.rc, a2a.TaskStateFailed, a2a.NewMessageForTask(a2a.MessageRoleAgent, tw.rc, a2a.TextPart{Text: msg}))
	ev.Final = true
	return tw.q.Write(tw.ctx, ev)
}

// emitText appends text to the answer, which streams as one artifact whose
// text chunks are appended.
func (tw *taskWriter) emitText(text string, last bool) error {
	if text == "" && !last {
		return nil
	}
	var ev *a2a.TaskArtifactUpdateEvent
	if tw.artifact == "" {
		ev = a2a.NewArtifactEvent(tw.rc, a2a.TextPart{Text: text})
		ev.Artifact.Name = "answer"
		tw.artifact = ev.Artifact.ID
	} else {
		ev = a2a.NewArtifactUpdateEvent(tw.rc, tw.artifact, a2a.TextPart{Text: text})
	}
	ev.LastChunk = last
	return tw.q.Write(tw.ctx, ev)
}

// run writes the run's text as it comes when stream is set, and returns
// the writing of the final status, which waits until the run has ended
// and the lock is released, so a client's next message never finds the
// context busy.
func (tw *taskWriter) run(events func(yield func(agent.RunEvent, error) bool), stream bool) (final func() error, err error) {
	ctx, q, rc := tw.ctx, tw.q, tw.rc
	for ev, err := range events {
		if err != nil {
			var ge *agent.GuardrailError
			if errors.As(err, &ge) {
				return func() error {
					tw.artifact = "" // the blocked message replaces anything streamed
					if werr := tw.emitText(ge.Verdict.Message, true); werr != nil {
						return werr
					}
					return complete(ctx, q, rc)
				}, nil
			}
			return func() error { return tw.fail("the agent failed: " + err.Error()) }, nil
		}
		switch ev := ev.(type) {
		case agent.ModelText:
			if stream {
				if err := tw.emitText(ev.Text, false); err != nil {
					return nil, err
				}
			}
		case agent.Finished:
			text := ev.Result.Output
			if stream && tw.artifact != "" {
				text = "" // already streamed; close the artifact
			}
			final = func() error {
				if err := tw.emitText(text, true); err != nil {
					return err
				}
				return complete(ctx, q, rc)
			}
		case agent.Paused:
			final = tw.paused(ev.Pending)
		}
	}
	return final, nil
}

// paused returns the writing of the input-required status that asks for
// decisions on p's calls.
func (tw *taskWriter) paused(p *agent.Pending) func() error {
	data, _ := json.Marshal(pauseData{PendingID: p.ID, Calls: pendingCalls(p)})
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	msg := a2a.NewMessageForTask(a2a.MessageRoleAgent, tw.rc,
		a2a.TextPart{Text: "The agent needs a decision on " + callNames(p) + " before it goes on."},
		a2a.DataPart{Data: m})
	return func() error {
		st := a2a.NewStatusUpdateEvent(tw.rc, a2a.TaskStateInputRequired, msg)
		st.Final = true
		return tw.q.Write(tw.ctx, st)
	}
}

func complete(ctx context.Context, q eventqueue.Queue, rc *a2asrv.RequestContext) error {
	st := a2a.NewStatusUpdateEvent(rc, a2a.TaskStateCompleted, nil)
	st.Final = true
	return q.Write(ctx, st)
}

func (e *executor) Cancel(ctx context.Context, rc *a2asrv.RequestContext, q eventqueue.Queue) error {
	st := a2a.NewStatusUpdateEvent(rc, a2a.TaskStateCanceled, nil)
	st.Final = true
	return q.Write(ctx, st)
}

// readMessage returns the text of a message, or the resume it carries.
func readMessage(m *a2a.Message) (string, *resumeData, error) {
	if m == nil {
		return "", nil, errors.New("the request has no message")
	}
	var texts []string
	var resume *resumeData
	for _, p := range m.Parts {
		switch p := p.(type) {
		case a2a.TextPart:
			texts = append(texts, p.Text)
		case a2a.DataPart:
			if _, ok := p.Data["decisions"]; !ok {
				b, _ := json.Marshal(p.Data)
				texts = append(texts, string(b))
				continue
			}
			b, _ := json.Marshal(p.Data)
			var r resumeData
			if err := json.Unmarshal(b, &r); err != nil || r.PendingID == "" {
				return "", nil, errors.New(`a data part with "decisions" must also hold the "pending_id" it answers`)
			}
			resume = &r
		default:
			return "", nil, fmt.Errorf("this agent reads text and data parts, not %T", p)
		}
	}
	input := strings.Join(texts, "\n")
	if resume == nil && strings.TrimSpace(input) == "" {
		return "", nil, errors.New("the message holds no text")
	}
	return input, resume, nil
}

func pendingCalls(p *agent.Pending) []serve.InvocationPendingCall {
	out := make([]serve.InvocationPendingCall, 0, len(p.Calls))
	for _, c := range p.Calls {
		in := c.Call.Input
		if !json.Valid(in) {
			in = json.RawMessage(`{}`)
		}
		out = append(out, serve.InvocationPendingCall{CallID: c.Call.ID, Name: c.Call.Name, Input: in, Kind: string(c.Kind), IdempotencyKey: c.IdempotencyKey})
	}
	return out
}

func callNames(p *agent.Pending) string {
	names := make([]string, len(p.Calls))
	for i, c := range p.Calls {
		names[i] = c.Call.Name
	}
	return strings.Join(names, ", ")
}
