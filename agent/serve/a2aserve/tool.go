package a2aserve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/a2aproject/a2a-go/a2a"
	"github.com/a2aproject/a2a-go/a2aclient"
	"github.com/a2aproject/a2a-go/a2aclient/agentcard"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
)

// RemoteOptions configure RemoteAgent.
type RemoteOptions struct {
	// HTTPClient fetches the card and sends the messages; nil means a
	// client with a 5 minute timeout.
	HTTPClient *http.Client
	// Token, if set, returns the bearer token sent to the remote agent
	// (a token for that agent, obtained by this service; never the
	// token of this service's own caller).
	Token func(ctx context.Context) (string, error)
}

// RemoteAgent is a remote A2A agent, reached through its agent card.
type RemoteAgent struct {
	// Card is the remote agent's card.
	Card   *a2a.AgentCard
	client *a2aclient.Client
}

// NewRemoteAgent fetches the agent card at baseURL
// (baseURL/.well-known/agent-card.json) and connects to the agent's
// JSON-RPC interface. Close it when done.
func NewRemoteAgent(ctx context.Context, baseURL string, opts RemoteOptions) (*RemoteAgent, error) {
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Minute}
	}
	card, err := agentcard.NewResolver(hc).Resolve(ctx, baseURL)
	if err != nil {
		return nil, fmt.Errorf("a2aserve: fetch the agent card of %s: %w", baseURL, err)
	}
	fopts := []a2aclient.FactoryOption{a2aclient.WithDefaultsDisabled(), a2aclient.WithJSONRPCTransport(hc)}
	if opts.Token != nil {
		fopts = append(fopts, a2aclient.WithInterceptors(bearer{token: opts.Token}))
	}
	c, err := a2aclient.NewFromCard(ctx, card, fopts...)
	if err != nil {
		return nil, fmt.Errorf("a2aserve: connect to %s (it must offer JSON-RPC): %w", card.Name, err)
	}
	return &RemoteAgent{Card: card, client: c}, nil
}

// Close releases the client.
func (r *RemoteAgent) Close() error { return r.client.Destroy() }

// bearer adds the Authorization header to every call.
type bearer struct {
	a2aclient.PassthroughInterceptor
	token func(ctx context.Context) (string, error)
}

func (b bearer) Before(ctx context.Context, req *a2aclient.Request) (context.Context, error) {
	tok, err := b.token(ctx)
	if err != nil {
		return ctx, fmt.Errorf("a2aserve: get the bearer token: %w", err)
	}
	req.Meta["authorization"] = []string{"Bearer " + tok}
	return ctx, nil
}

// Send sends text to the remote agent in the conversation contextID and
// returns its answer: the completed task's artifacts, or its reply
// message. A task that fails, is rejected or canceled, or needs input or
// authentication is an error saying so.
func (r *RemoteAgent) Send(ctx context.Context, contextID, text string) (string, error) {
	msg := a2a.NewMessage(a2a.MessageRoleUser, a2a.TextPart{Text: text})
	msg.ContextID = contextID
	res, err := r.client.SendMessage(ctx, &a2a.MessageSendParams{Message: msg})
	if err != nil {
		return "", fmt.Errorf("a2aserve: send to %s: %w", r.Card.Name, err)
	}
	switch res := res.(type) {
	case *a2a.Message:
		return partsText(res.Parts), nil
	case *a2a.Task:
		status := ""
		if res.Status.Message != nil {
			status = partsText(res.Status.Message.Parts)
		}
		switch res.Status.State {
		case a2a.TaskStateCompleted:
			var b strings.Builder
			for _, a := range res.Artifacts {
				b.WriteString(partsText(a.Parts))
			}
			if b.Len() == 0 {
				return status, nil
			}
			return b.String(), nil
		case a2a.TaskStateInputRequired, a2a.TaskStateAuthRequired:
			return "", fmt.Errorf("a2aserve: %s needs %s, which a tool call cannot give: %s: %w", r.Card.Name, res.Status.State, status, bedrockkit.ErrUnsupported)
		default:
			return "", fmt.Errorf("a2aserve: %s ended the task %s: %s", r.Card.Name, res.Status.State, status)
		}
	}
	return "", errors.New("a2aserve: the remote agent answered neither a task nor a message")
}

func partsText(ps a2a.ContentParts) string {
	var b strings.Builder
	for _, p := range ps {
		if t, ok := p.(a2a.TextPart); ok {
			b.WriteString(t.Text)
		}
	}
	return b.String()
}

type remoteIn struct {
	Request string `json:"request" description:"The task for the remote agent, self-contained: it does not see this conversation."`
}

// Tool returns the remote agent as a tool taking {"request": "..."}. Each
// conversation of the calling agent is its own A2A context with the remote
// agent (derived from the session and the tool's name), so the remote
// agent keeps its history per conversation. The error wraps
// agent.ErrInvalidTool when name breaks Bedrock's rule for tool names.
func (r *RemoteAgent) Tool(name, description string) (*agent.Tool, error) {
	if description == "" {
		description = r.Card.Description
	}
	return agent.NewFuncTool(name, description, func(ctx context.Context, in remoteIn) (string, error) {
		session := ""
		if ci, ok := agent.CallInfoFrom(ctx); ok {
			session = ci.SessionID
		}
		h := sha256.Sum256([]byte(session + "\x00" + name))
		return r.Send(ctx, "ctx-"+hex.EncodeToString(h[:16]), in.Request)
	})
}
