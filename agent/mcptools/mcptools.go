package mcptools

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
)

// Options control how MCP tools are imported. The zero value imports every
// tool under its own name.
type Options struct {
	// Prefix is prepended to every tool name, to keep the tools of several
	// servers apart (for example "github_").
	Prefix string
	// Include, when not nil, keeps only the tools it returns true for (by MCP name).
	Include func(t *mcp.Tool) bool
	// ConfirmDestructive makes tools whose annotations do not mark them
	// read-only, and do not deny being destructive, pause for confirmation
	// (agent.ToolOptions.RequireConfirmation). MCP's default for an unannotated tool is
	// "may be destructive".
	ConfirmDestructive bool
	// ToolOptions are the settings of every imported tool (for example a
	// Timeout).
	ToolOptions agent.ToolOptions
}

var badChars = regexp.MustCompile(`[^a-zA-Z0-9_-]`)

// Tools lists the server's tools and returns them as agent tools that call
// the server through session. Names are made Bedrock-safe (characters other
// than letters, digits, '_' and '-' become '_'); two tools that collide
// after that are an error, and so is a tool whose schema does not compile
// (wrapping agent.ErrInvalidTool; use Include to leave such a tool out).
func Tools(ctx context.Context, session *mcp.ClientSession, opts Options) ([]*agent.Tool, error) {
	if session == nil {
		return nil, fmt.Errorf("mcptools: nil session: %w", bedrockkit.ErrInvalidInput)
	}
	var out []*agent.Tool
	seen := map[string]string{}
	for t, err := range session.Tools(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("mcptools: list tools: %w", err)
		}
		if opts.Include != nil && !opts.Include(t) {
			continue
		}
		name := badChars.ReplaceAllString(opts.Prefix+t.Name, "_")
		if len(name) > 64 {
			name = name[:64]
		}
		if prev, dup := seen[name]; dup {
			return nil, fmt.Errorf("mcptools: tools %q and %q both map to the name %q; set Options.Prefix or Include: %w", prev, t.Name, name, bedrockkit.ErrInvalidInput)
		}
		seen[name] = t.Name
		schema, err := inputSchema(t.InputSchema)
		if err != nil {
			return nil, fmt.Errorf("mcptools: tool %q: %w", t.Name, err)
		}
		toolOpts := opts.ToolOptions
		if opts.ConfirmDestructive && mayDestroy(t.Annotations) {
			toolOpts.RequireConfirmation = true
		}
		desc := t.Description
		if desc == "" && t.Title != "" {
			desc = t.Title
		}
		tool, err := agent.NewTool(name, desc, schema, caller(session, t.Name), toolOpts)
		if err != nil {
			return nil, fmt.Errorf("mcptools: tool %q: %w", t.Name, err)
		}
		out = append(out, tool)
	}
	return out, nil
}

// mayDestroy applies MCP's annotation defaults: readOnlyHint false and
// destructiveHint true unless stated.
func mayDestroy(a *mcp.ToolAnnotations) bool {
	if a == nil {
		return true
	}
	if a.ReadOnlyHint {
		return false
	}
	return a.DestructiveHint == nil || *a.DestructiveHint
}

// inputSchema re-encodes the server's schema, adding "type": "object" when
// the server left it out.
func inputSchema(s any) (json.RawMessage, error) {
	if s == nil {
		return json.RawMessage(`{"type":"object"}`), nil
	}
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode input schema: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("input schema is not a JSON object: %w", err)
	}
	if _, ok := m["type"]; !ok {
		m["type"] = "object"
		return json.Marshal(m)
	}
	return b, nil
}

func caller(session *mcp.ClientSession, name string) agent.RunFunc {
	return func(ctx context.Context, input json.RawMessage) ([]bedrockkit.Part, error) {
		args := json.RawMessage(`{}`)
		if len(input) > 0 {
			args = input
		}
		res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			return nil, fmt.Errorf("MCP call: %w", err)
		}
		parts := contentParts(res)
		if res.IsError {
			return nil, toolError{text: bedrockkit.Message{Parts: parts}.Text()}
		}
		return parts, nil
	}
}

type toolError struct{ text string }

func (e toolError) Error() string {
	if e.text == "" {
		return "the MCP tool reported an error"
	}
	return e.text
}

// contentParts maps MCP content to bedrockkit parts.
func contentParts(res *mcp.CallToolResult) []bedrockkit.Part {
	var parts []bedrockkit.Part
	for _, c := range res.Content {
		switch c := c.(type) {
		case *mcp.TextContent:
			parts = append(parts, bedrockkit.Text{Text: c.Text})
		case *mcp.ImageContent:
			if f, ok := imageFormat(c.MIMEType); ok {
				parts = append(parts, bedrockkit.Image{Format: f, Bytes: c.Data})
			} else {
				parts = append(parts, bedrockkit.Text{Text: fmt.Sprintf("(image of type %s omitted)", c.MIMEType)})
			}
		default:
			b, err := c.MarshalJSON()
			if err == nil {
				parts = append(parts, bedrockkit.Text{Text: string(b)})
			}
		}
	}
	if len(parts) == 0 && res.StructuredContent != nil {
		if b, err := json.Marshal(res.StructuredContent); err == nil {
			if len(b) > 0 && b[0] == '{' {
				parts = append(parts, bedrockkit.JSON{Value: b})
			} else {
				parts = append(parts, bedrockkit.Text{Text: string(b)})
			}
		}
	}
	return parts
}

func imageFormat(mime string) (bedrockkit.ImageFormat, bool) {
	switch strings.ToLower(mime) {
	case "image/png":
		return bedrockkit.ImagePNG, true
	case "image/jpeg", "image/jpg":
		return bedrockkit.ImageJPEG, true
	case "image/gif":
		return bedrockkit.ImageGIF, true
	case "image/webp":
		return bedrockkit.ImageWebP, true
	}
	return "", false
}
