package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/credentials"
	"github.com/bedrockkit/bedrockkit/agent/identity"
)

// TargetSeparator joins a target's name and a tool's name, as AgentCore
// Gateway names its tools ("<target>___<tool>").
const TargetSeparator = "___"

// Target is a group of tools exposed under one name (an OpenAPI
// description, a Lambda action group, an imported MCP server, Go
// functions).
type Target struct {
	// Name prefixes the tools' names with TargetSeparator; empty exposes
	// them under their own names.
	Name  string
	Tools []*agent.Tool
}

// Options configure a Gateway. The zero value serves every tool to every
// caller the HTTP authorizer admits, with no policy.
type Options struct {
	// Name and Version describe the server to MCP clients; empty means
	// "bedrockkit-gateway" and "1".
	Name, Version string
	// Instructions are sent to clients at initialization.
	Instructions string
	// Authorizer, if set, decides every tool call before it runs (an
	// agent/policy Engine with Cedar policies): principal = the caller
	// verified by the HTTP authorizer. A denied call, or one it cannot
	// decide, is answered with an error result and does not run.
	Authorizer agent.ToolAuthorizer
	// OnEvent, if set, receives an agent.ToolAuthorized event (when an
	// Authorizer is set) and an agent.ToolCalled event for every call. It
	// is called concurrently.
	OnEvent func(agent.RunEvent)
	// ToolTimeout bounds each tool run unless the tool sets its own; 0
	// means none.
	ToolTimeout time.Duration
	// Stateless serves without MCP sessions (each request stands alone).
	Stateless bool
	// SessionTimeout closes idle MCP sessions; 0 means the SDK's default.
	SessionTimeout time.Duration
	// MaxRequestBytes bounds a request body; 0 means
	// DefaultMaxRequestBytes.
	MaxRequestBytes int64
}

// DefaultMaxRequestBytes bounds request bodies when
// Options.MaxRequestBytes is 0.
const DefaultMaxRequestBytes = 4 << 20

// Gateway serves agent tools as an MCP server over streamable HTTP (the
// official github.com/modelcontextprotocol/go-sdk), as AgentCore Gateway
// turns APIs and Lambda functions into MCP tools. Build it with New, serve
// it with Handler.
type Gateway struct {
	opts   Options
	server *mcp.Server
	tools  map[string]*agent.Tool
}

// New returns a gateway serving the targets' tools. It fails, wrapping
// bedrockkit.ErrInvalidInput, for a tool that could not be built, a name
// MCP refuses, or two tools with one name.
func New(opts Options, targets ...Target) (*Gateway, error) {
	if opts.Name == "" {
		opts.Name = "bedrockkit-gateway"
	}
	if opts.Version == "" {
		opts.Version = "1"
	}
	g := &Gateway{opts: opts, tools: map[string]*agent.Tool{}}
	var sopts *mcp.ServerOptions
	if opts.Instructions != "" {
		sopts = &mcp.ServerOptions{Instructions: opts.Instructions}
	}
	g.server = mcp.NewServer(&mcp.Implementation{Name: opts.Name, Version: opts.Version}, sopts)
	for _, tg := range targets {
		for _, t := range tg.Tools {
			if t == nil {
				return nil, fmt.Errorf("gateway: target %q has a nil tool: %w", tg.Name, bedrockkit.ErrInvalidInput)
			}
			if err := t.Validate(nil); errors.Is(err, agent.ErrInvalidTool) {
				return nil, fmt.Errorf("gateway: target %q: %w", tg.Name, err)
			}
			def := t.Definition()
			name := def.Name
			tool := t
			if tg.Name != "" {
				name = tg.Name + TargetSeparator + def.Name
				inner := t
				var err error
				tool, err = agent.NewTool(name, def.Description, def.InputSchema, func(ctx context.Context, in json.RawMessage) ([]bedrockkit.Part, error) {
					return inner.Call(ctx, in)
				})
				if err != nil {
					return nil, fmt.Errorf("gateway: target %q tool %q: %w", tg.Name, def.Name, err)
				}
			}
			if len(name) > 128 || strings.ContainsAny(name, " /\\") {
				return nil, fmt.Errorf("gateway: tool name %q is not a valid MCP tool name: %w", name, bedrockkit.ErrInvalidInput)
			}
			if _, dup := g.tools[name]; dup {
				return nil, fmt.Errorf("gateway: two tools are named %q; give the targets names: %w", name, bedrockkit.ErrInvalidInput)
			}
			g.tools[name] = tool
			g.server.AddTool(&mcp.Tool{Name: name, Description: def.Description, InputSchema: def.InputSchema}, g.handler(tool))
		}
	}
	return g, nil
}

// Close ends every open MCP session (their goroutines end with them).
// Call it when the server stops; the handlers keep serving new sessions.
func (g *Gateway) Close() error {
	var errs []error
	for ss := range g.server.Sessions() {
		if err := ss.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Server returns the MCP server, to serve over another transport.
func (g *Gateway) Server() *mcp.Server { return g.server }

// Tools returns the names of the tools served, sorted.
func (g *Gateway) Tools() []string {
	names := make([]string, 0, len(g.tools))
	for n := range g.tools {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Handler returns the MCP streamable-HTTP endpoint behind authz, the
// inbound authorizer (agent/identity: an identity.JWTAuthorizer, or
// identity.Anonymous chosen deliberately; nil refuses every request). A
// refused request gets identity's JSON error and WWW-Authenticate
// challenge. Each MCP session is bound to the caller that opened it: a
// request from another caller with its session ID is refused (403). The
// caller, and the caller's bearer token for credentials.CallerToken, reach
// the authorizer and the tools through the call's context.
func (g *Gateway) Handler(authz identity.Authorizer, ropts identity.RequireOptions) http.Handler {
	mcpHandler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return g.server },
		&mcp.StreamableHTTPOptions{Stateless: g.opts.Stateless, SessionTimeout: g.opts.SessionTimeout})
	// The SDK binds sessions to TokenInfo.UserID and hands TokenInfo to
	// each call; RequireBearerToken is the only way to set it, so the
	// verified caller is handed over through a verifier that trusts what
	// identity.Require put in the context.
	bind := auth.RequireBearerToken(func(ctx context.Context, _ string, r *http.Request) (*auth.TokenInfo, error) {
		c, ok := identity.CallerFrom(r.Context())
		if !ok || c == nil {
			return nil, auth.ErrInvalidToken
		}
		extra := map[string]any{callerExtra: c}
		if tok, err := identity.BearerToken(r); err == nil {
			extra[tokenExtra] = credentials.NewSecret(tok)
		}
		return &auth.TokenInfo{UserID: c.Namespace(), Scopes: c.Scopes, Expiration: c.ExpiresAt, Extra: extra}, nil
	}, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(mcpHandler)
	limit := g.opts.MaxRequestBytes
	if limit <= 0 {
		limit = DefaultMaxRequestBytes
	}
	return identity.Require(authz, ropts, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if c, ok := identity.CallerFrom(r.Context()); ok && c != nil && !c.Anonymous {
			if _, err := identity.BearerToken(r); err == nil {
				bind.ServeHTTP(w, r)
				return
			}
			// A caller verified some other way (mTLS, a signed header):
			// sessions cannot be bound to it through the SDK, so serve
			// statelessly per request with the caller in the context.
		}
		mcpHandler.ServeHTTP(w, r)
	}))
}

const (
	callerExtra = "bedrockkit.caller"
	tokenExtra  = "bedrockkit.caller_token"
)

// callContext puts the call's verified caller (and token) in ctx.
func callContext(ctx context.Context, req *mcp.CallToolRequest) context.Context {
	if req == nil || req.Extra == nil || req.Extra.TokenInfo == nil {
		return ctx
	}
	ti := req.Extra.TokenInfo
	if c, ok := ti.Extra[callerExtra].(*identity.Caller); ok && c != nil {
		ctx = identity.WithCaller(ctx, c)
		if tok, ok := ti.Extra[tokenExtra].(credentials.Secret); ok {
			ctx = credentials.WithCallerToken(ctx, tok)
		}
	}
	return ctx
}

func (g *Gateway) emit(e agent.RunEvent) {
	if g.opts.OnEvent != nil {
		g.opts.OnEvent(e)
	}
}

// handler runs one tool for MCP: validate, authorize, run, convert.
func (g *Gateway) handler(t *agent.Tool) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		ctx = callContext(ctx, req)
		var input json.RawMessage
		if req != nil && req.Params != nil {
			input = req.Params.Arguments
		}
		if len(input) == 0 || string(input) == "null" {
			input = json.RawMessage(`{}`)
		}
		call := bedrockkit.ToolCall{Name: t.Name(), Input: input}
		if err := t.Validate(input); err != nil {
			res := errorResult(err.Error() + ". Correct the call and try again.")
			g.emit(agent.ToolCalled{Call: call, Result: toolResult(res), Invalid: true})
			return res, nil
		}
		if g.opts.ToolTimeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, g.opts.ToolTimeout)
			defer cancel()
		}
		start := time.Now()
		var parts []bedrockkit.Part
		var err error
		if g.opts.Authorizer != nil {
			var d agent.ToolDecision
			parts, d, err = agent.CallAuthorized(ctx, g.opts.Authorizer, t, input)
			ev := agent.ToolAuthorized{Call: call, Decision: d}
			if errors.Is(err, agent.ErrToolCallDenied) {
				text := strings.TrimPrefix(err.Error(), agent.ErrToolCallDenied.Error()+": ")
				if errors.Is(err, agent.ErrAuthorizerFailed) { // fail closed
					ev.Err = err
					text = fmt.Sprintf("The call to tool %q could not be authorized (the policy check failed), so it was not run.", t.Name())
				}
				g.emit(ev)
				res := errorResult(text)
				g.emit(agent.ToolCalled{Call: call, Result: toolResult(res)})
				return res, nil
			}
			g.emit(ev)
		} else {
			parts, err = t.Call(ctx, input)
		}
		var res *mcp.CallToolResult
		if err != nil {
			res = errorResult(fmt.Sprintf("tool %q failed: %v", t.Name(), err))
		} else {
			res = contentOf(parts)
		}
		g.emit(agent.ToolCalled{Call: call, Result: toolResult(res), Start: start, Duration: max(time.Since(start), 1)})
		return res, nil
	}
}

func errorResult(text string) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: text}}}
}

// contentOf converts a tool's parts to MCP content. A single JSON object
// is also the structured content.
func contentOf(parts []bedrockkit.Part) *mcp.CallToolResult {
	res := &mcp.CallToolResult{Content: []mcp.Content{}}
	for _, p := range parts {
		switch x := p.(type) {
		case bedrockkit.Text:
			res.Content = append(res.Content, &mcp.TextContent{Text: x.Text})
		case bedrockkit.JSON:
			res.Content = append(res.Content, &mcp.TextContent{Text: string(x.Value)})
			if len(parts) == 1 {
				res.StructuredContent = x.Value
			}
		case bedrockkit.Image:
			res.Content = append(res.Content, &mcp.ImageContent{Data: x.Bytes, MIMEType: "image/" + string(x.Format)})
		default:
			res.Content = append(res.Content, &mcp.TextContent{Text: fmt.Sprintf("(a %T part the gateway cannot send)", p)})
		}
	}
	if len(res.Content) == 0 {
		res.Content = append(res.Content, &mcp.TextContent{Text: "(no output)"})
	}
	return res
}

// toolResult renders an MCP result as a ToolResult for events.
func toolResult(res *mcp.CallToolResult) bedrockkit.ToolResult {
	tr := bedrockkit.ToolResult{IsError: res.IsError}
	for _, c := range res.Content {
		switch x := c.(type) {
		case *mcp.TextContent:
			tr.Parts = append(tr.Parts, bedrockkit.Text{Text: x.Text})
		case *mcp.ImageContent:
			tr.Parts = append(tr.Parts, bedrockkit.Text{Text: fmt.Sprintf("(image %s, %d bytes)", x.MIMEType, len(x.Data))})
		}
	}
	return tr
}
