package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cedar-policy/cedar-go"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/identity"
)

// Entity types used when Options leaves them empty. They follow AgentCore
// Policy's schema: principals are AgentCore::OAuthUser (JWT callers) and
// actions AgentCore::Action::"<tool name>".
const (
	DefaultPrincipalType = "AgentCore::OAuthUser"
	DefaultAnonymousType = "AgentCore::Anonymous"
	DefaultActionType    = "AgentCore::Action"
	DefaultResourceType  = "AgentCore::Tool"
)

// DefaultMaxPolicyBytes bounds the Cedar text Load accepts when
// Options.MaxPolicyBytes is 0.
const DefaultMaxPolicyBytes = 1 << 20

// Mode says what the engine does with a deny.
type Mode int

const (
	// Enforce refuses denied calls (the default).
	Enforce Mode = iota
	// LogOnly evaluates and reports every decision but lets denied calls
	// run, as AgentCore's LOG_ONLY mode: use it to try a policy set on live
	// traffic before enforcing it. Decisions reported in this mode are
	// allowed, with Reason saying the policies would have denied.
	LogOnly
)

// ResourceArg declares which argument of a tool names the resource it acts
// on: the call's Cedar resource is Type::"<the argument's value>".
type ResourceArg struct {
	// Type is the resource's entity type, such as "Bank::Account".
	Type string
	// Argument is the top-level argument holding the resource's ID, or a
	// JSON pointer into the arguments ("/to/account"). Its value must be a
	// string or an integer; a call without it is not authorized (fail
	// closed).
	Argument string
}

// Options configure an Engine. The zero value uses AgentCore's entity
// types, the verified caller from agent/identity as principal, the tool
// itself as resource and Enforce mode.
type Options struct {
	// PrincipalType is the entity type of verified callers; empty means
	// DefaultPrincipalType. The principal's ID is the token's subject, its
	// attributes are issuer, subject, client_id (strings) and scopes (a
	// set), and its tags are the token's claims (strings, numbers, booleans
	// and lists of them), as AgentCore exposes claims to hasTag/getTag.
	PrincipalType string
	// AnonymousType is the entity type of anonymous callers and of calls
	// whose context carries no caller; empty means DefaultAnonymousType.
	// Its ID is "anonymous".
	AnonymousType string
	// ActionType is the entity type of actions; empty means
	// DefaultActionType. The action of a call is ActionType::"<tool name>".
	ActionType string
	// ActionGroups gives actions parents, so that `action in
	// AgentCore::Action::"<group>"` covers several tools: tool name ->
	// group names. Gateway-style names "<target>___<tool>" get the parent
	// "<target>" without being listed.
	ActionGroups map[string][]string
	// Resources declares, per tool name, the argument that names the
	// resource the tool acts on. Other tools' resource is
	// ResourceType::"<tool name>".
	Resources map[string]ResourceArg
	// ResourceType is the entity type of the default resource; empty means
	// DefaultResourceType.
	ResourceType string
	// Entities, if set, supplies the attributes and parents of resources
	// and other entities the policies read (an account's owner, say). It
	// never defines the principal or the action: those come from the
	// verified caller and the call. It must be safe for concurrent use.
	Entities cedar.EntityGetter
	// Principal, if set, replaces the default principal: it returns the
	// caller's entity (with attributes, tags and parents) from ctx. It
	// must take the caller from verified state only. An error denies the
	// call (fail closed).
	Principal func(ctx context.Context) (cedar.Entity, error)
	// Mode is Enforce (default) or LogOnly.
	Mode Mode
	// MaxPolicyBytes bounds the policy text; 0 means DefaultMaxPolicyBytes.
	MaxPolicyBytes int
}

// Engine authorizes tool calls with a Cedar policy set. It implements
// agent.ToolAuthorizer: set it as Agent.Authorizer (and on a gateway) and
// every tool call is decided by the policies, default deny. It is safe for
// concurrent use, and Load swaps the policy set atomically while calls are
// being decided.
type Engine struct {
	opts    Options
	set     atomic.Pointer[loaded]
	schemas sync.Map // *agent.Tool -> *schemaNode
	cached  atomic.Int64
}

// loaded is one parsed policy set.
type loaded struct {
	set     *cedar.PolicySet
	effects map[cedar.PolicyID]cedar.Effect
	text    []byte
}

var _ agent.ToolAuthorizer = (*Engine)(nil)

// New returns an engine with the Cedar policies in text. It fails, with an
// error wrapping bedrockkit.ErrInvalidInput, when the text does not parse,
// two policies share an @id, or Options are inconsistent.
func New(text []byte, opts Options) (*Engine, error) {
	if opts.PrincipalType == "" {
		opts.PrincipalType = DefaultPrincipalType
	}
	if opts.AnonymousType == "" {
		opts.AnonymousType = DefaultAnonymousType
	}
	if opts.ActionType == "" {
		opts.ActionType = DefaultActionType
	}
	if opts.ResourceType == "" {
		opts.ResourceType = DefaultResourceType
	}
	if opts.MaxPolicyBytes <= 0 {
		opts.MaxPolicyBytes = DefaultMaxPolicyBytes
	}
	if opts.Mode != Enforce && opts.Mode != LogOnly {
		return nil, fmt.Errorf("policy: unknown Mode %d; use Enforce or LogOnly: %w", opts.Mode, bedrockkit.ErrInvalidInput)
	}
	for tool, r := range opts.Resources {
		if r.Type == "" || r.Argument == "" {
			return nil, fmt.Errorf("policy: Resources[%q] needs both Type and Argument: %w", tool, bedrockkit.ErrInvalidInput)
		}
	}
	opts.ActionGroups = cloneGroups(opts.ActionGroups)
	if opts.Resources != nil {
		m := make(map[string]ResourceArg, len(opts.Resources))
		for k, v := range opts.Resources {
			m[k] = v
		}
		opts.Resources = m
	}
	e := &Engine{opts: opts}
	if err := e.Load(text); err != nil {
		return nil, err
	}
	return e, nil
}

func cloneGroups(g map[string][]string) map[string][]string {
	if g == nil {
		return nil
	}
	out := make(map[string][]string, len(g))
	for k, v := range g {
		out[k] = slices.Clone(v)
	}
	return out
}

// Load replaces the policy set with the policies in text, atomically:
// decisions in flight finish with the old set, later ones use the new one.
// If text does not parse (or two policies share an @id) the old set stays
// in force and the error, wrapping bedrockkit.ErrInvalidInput, says what is
// wrong and where.
//
// A policy's ID, reported in decisions, is its @id("...") annotation when
// it has one, else "policy<N>" by its position in the text (from 0).
func (e *Engine) Load(text []byte) error {
	if len(text) > e.opts.MaxPolicyBytes {
		return fmt.Errorf("policy: policy text is %d bytes, more than the %d allowed (Options.MaxPolicyBytes): %w", len(text), e.opts.MaxPolicyBytes, bedrockkit.ErrInvalidInput)
	}
	l, err := parse(text)
	if err != nil {
		return err
	}
	e.set.Store(l)
	return nil
}

func parse(text []byte) (l *loaded, err error) {
	defer func() {
		if v := recover(); v != nil {
			l, err = nil, fmt.Errorf("policy: the Cedar parser failed on this text (%v); the previous policies stay in force: %w", v, bedrockkit.ErrInvalidInput)
		}
	}()
	list, err := cedar.NewPolicyListFromBytes("policies.cedar", text)
	if err != nil {
		return nil, fmt.Errorf("policy: %v; the previous policies stay in force: %w", err, bedrockkit.ErrInvalidInput)
	}
	l = &loaded{set: cedar.NewPolicySet(), effects: map[cedar.PolicyID]cedar.Effect{}, text: slices.Clone(text)}
	for i, p := range list {
		id := cedar.PolicyID(fmt.Sprintf("policy%d", i))
		if v, ok := p.Annotations()["id"]; ok {
			if v == "" {
				return nil, fmt.Errorf("policy: policy %d (line %d) has an empty @id: %w", i, p.Position().Line, bedrockkit.ErrInvalidInput)
			}
			id = cedar.PolicyID(v)
		}
		if !l.set.Add(id, p) {
			return nil, fmt.Errorf("policy: two policies have the ID %q (line %d); IDs must be unique: %w", id, p.Position().Line, bedrockkit.ErrInvalidInput)
		}
		l.effects[id] = p.Effect()
	}
	return l, nil
}

// Policies returns the Cedar text in force.
func (e *Engine) Policies() []byte { return slices.Clone(e.set.Load().text) }

// Request builds the Cedar request and the entities for a tool call, as
// AuthorizeToolCall does: use it to see what the policies are evaluated
// against, or to evaluate them with cedar-go yourself.
func (e *Engine) Request(ctx context.Context, req agent.ToolCallRequest) (cedar.Request, cedar.EntityGetter, error) {
	principal, err := e.principal(ctx)
	if err != nil {
		return cedar.Request{}, nil, err
	}
	name := req.Call.Name
	if req.Tool != nil {
		name = req.Tool.Name()
	}
	if name == "" {
		return cedar.Request{}, nil, fmt.Errorf("policy: the call names no tool: %w", bedrockkit.ErrInvalidInput)
	}
	action := cedar.Entity{UID: cedar.NewEntityUID(cedar.EntityType(e.opts.ActionType), cedar.String(name))}
	var parents []cedar.EntityUID
	for _, g := range e.opts.ActionGroups[name] {
		parents = append(parents, cedar.NewEntityUID(cedar.EntityType(e.opts.ActionType), cedar.String(g)))
	}
	if target, _, ok := strings.Cut(name, "___"); ok && target != "" {
		parents = append(parents, cedar.NewEntityUID(cedar.EntityType(e.opts.ActionType), cedar.String(target)))
	}
	action.Parents = cedar.NewEntityUIDSet(parents...)

	var args any
	if len(req.Call.Input) > 0 {
		if args, err = decodeJSON(req.Call.Input); err != nil {
			return cedar.Request{}, nil, fmt.Errorf("policy: tool %q: arguments: %w", name, err)
		}
	} else {
		args = map[string]any{}
	}
	schema := e.schemaOf(req.Tool)
	input, err := toCedar(args, schema, 0)
	if err != nil {
		return cedar.Request{}, nil, fmt.Errorf("policy: tool %q: arguments cannot be given to Cedar: %w", name, err)
	}
	resource := cedar.NewEntityUID(cedar.EntityType(e.opts.ResourceType), cedar.String(name))
	if ra, ok := e.opts.Resources[name]; ok {
		id, err := resourceID(args, ra.Argument)
		if err != nil {
			return cedar.Request{}, nil, fmt.Errorf("policy: tool %q: resource argument %q: %w", name, ra.Argument, err)
		}
		resource = cedar.NewEntityUID(cedar.EntityType(ra.Type), cedar.String(id))
	}
	session := cedar.RecordMap{}
	for k, v := range req.Info.Attributes {
		session[cedar.String(k)] = cedar.String(v)
	}
	prompt := cedar.RecordMap{}
	for k, v := range req.Info.PromptAttributes {
		prompt[cedar.String(k)] = cedar.String(v)
	}
	cctx := cedar.NewRecord(cedar.RecordMap{
		"input":   input,
		"session": cedar.NewRecord(session),
		"prompt":  cedar.NewRecord(prompt),
	})
	ents := &requestEntities{fixed: map[cedar.EntityUID]cedar.Entity{principal.UID: principal, action.UID: action}, rest: e.opts.Entities}
	return cedar.Request{Principal: principal.UID, Action: action.UID, Resource: resource, Context: cctx}, ents, nil
}

// requestEntities holds the principal and action built for one call in
// front of the caller's entity store, which cannot redefine them.
type requestEntities struct {
	fixed map[cedar.EntityUID]cedar.Entity
	rest  cedar.EntityGetter
}

func (r *requestEntities) Get(uid cedar.EntityUID) (cedar.Entity, bool) {
	if e, ok := r.fixed[uid]; ok {
		return e, true
	}
	if r.rest == nil {
		return cedar.Entity{}, false
	}
	return r.rest.Get(uid)
}

// AuthorizeToolCall decides a tool call with the policies in force
// (agent.ToolAuthorizer). The call is allowed when a permit policy matches
// and no forbid policy does (Cedar's default deny and forbid-overrides),
// and, stricter than Cedar, when no forbid policy failed to evaluate: a
// forbid that could not be evaluated might have matched, so the call is
// denied (fail closed). Decision.Policies are the IDs of the matching
// forbids, else of the matching permits, else of the forbids that failed.
//
// An error (no usable principal, arguments Cedar cannot represent, a
// declared resource argument missing) means no decision; the agent then
// refuses the call.
func (e *Engine) AuthorizeToolCall(ctx context.Context, req agent.ToolCallRequest) (agent.ToolDecision, error) {
	l := e.set.Load()
	creq, ents, err := e.Request(ctx, req)
	if err != nil {
		return agent.ToolDecision{}, err
	}
	d := decide(l, ents, creq)
	if e.opts.Mode == LogOnly && !d.Allowed {
		d.Allowed = true
		d.Reason = "LOG_ONLY mode: the policies would have denied this call: " + d.Reason
	}
	return d, nil
}

// decide evaluates the set and applies the fail-closed rule for forbids
// that failed to evaluate.
func decide(l *loaded, ents cedar.EntityGetter, creq cedar.Request) agent.ToolDecision {
	dec, diag := cedar.Authorize(l.set, ents, creq)
	var d agent.ToolDecision
	var brokenForbids []string
	for _, er := range diag.Errors {
		d.Errors = append(d.Errors, fmt.Sprintf("%s: %s", er.PolicyID, er.Message))
		if l.effects[er.PolicyID] == cedar.Forbid {
			brokenForbids = append(brokenForbids, string(er.PolicyID))
		}
	}
	for _, r := range diag.Reasons {
		d.Policies = append(d.Policies, string(r.PolicyID))
	}
	switch {
	case dec == cedar.Allow && len(brokenForbids) == 0:
		d.Allowed = true
	case dec == cedar.Allow:
		d.Policies = brokenForbids
		d.Reason = "a forbid policy could not be evaluated for this call, so it is refused"
	case len(d.Policies) > 0:
		d.Reason = "a policy forbids this call"
	default:
		d.Reason = "no policy permits this call"
	}
	return d
}

// principal builds the principal entity from the verified caller.
func (e *Engine) principal(ctx context.Context) (cedar.Entity, error) {
	if e.opts.Principal != nil {
		p, err := e.opts.Principal(ctx)
		if err != nil {
			return cedar.Entity{}, fmt.Errorf("policy: principal: %w", err)
		}
		return p, nil
	}
	c, ok := identity.CallerFrom(ctx)
	if !ok || c == nil || c.Anonymous {
		return cedar.Entity{UID: cedar.NewEntityUID(cedar.EntityType(e.opts.AnonymousType), "anonymous")}, nil
	}
	if c.Subject == "" {
		return cedar.Entity{}, fmt.Errorf("policy: the verified caller has no subject; cannot name the principal: %w", bedrockkit.ErrAccessDenied)
	}
	tags := cedar.RecordMap{}
	for k, v := range c.Claims {
		cv, err := toCedar(v, nil, 1)
		if err != nil {
			continue // a claim Cedar cannot hold is left out; hasTag reports it absent
		}
		tags[cedar.String(k)] = cv
	}
	scopes := make([]cedar.Value, 0, len(c.Scopes))
	for _, s := range c.Scopes {
		scopes = append(scopes, cedar.String(s))
	}
	return cedar.Entity{
		UID: cedar.NewEntityUID(cedar.EntityType(e.opts.PrincipalType), cedar.String(c.Subject)),
		Attributes: cedar.NewRecord(cedar.RecordMap{
			"issuer":    cedar.String(c.Issuer),
			"subject":   cedar.String(c.Subject),
			"client_id": cedar.String(c.ClientID),
			"scopes":    cedar.NewSet(scopes...),
		}),
		Tags: cedar.NewRecord(tags),
	}, nil
}

// resourceID reads the resource argument (a top-level name or a JSON
// pointer) from the decoded arguments.
func resourceID(args any, arg string) (string, error) {
	var v any
	var ok bool
	if strings.HasPrefix(arg, "/") {
		v, ok = pointer(args, arg)
	} else if m, isObj := args.(map[string]any); isObj {
		v, ok = m[arg]
	}
	if !ok {
		return "", errors.New("the call does not give it, so the resource is unknown")
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return x.String(), nil
		}
	}
	return "", fmt.Errorf("it must be a string or an integer, not %s", jsonKind(v))
}

// pointer resolves an RFC 6901 JSON pointer.
func pointer(doc any, ptr string) (any, bool) {
	cur := doc
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			var i int
			if _, err := fmt.Sscanf(tok, "%d", &i); err != nil || i < 0 || i >= len(c) || fmt.Sprint(i) != tok {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}
