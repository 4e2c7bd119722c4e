package mcptools_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.uber.org/goleak"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/mcptools"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

// stdioServerEnv makes the test binary act as an MCP server on stdin and
// stdout, so TestToolsStdio can start it as a real subprocess.
const stdioServerEnv = "BEDROCKKIT_MCPTOOLS_STDIO_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(stdioServerEnv) == "1" {
		if err := newServer().Run(context.Background(), &mcp.StdioTransport{}); err != nil {
			fmt.Fprintln(os.Stderr, "mcp stdio server:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// TestToolsStdio imports the tools of an MCP server running as a separate
// process over stdio (the test binary itself, in server mode) and calls one
// through an agent run.
func TestToolsStdio(t *testing.T) {
	ctx := context.Background()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), stdioServerEnv+"=1")
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).
		Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	tools, err := mcptools.Tools(ctx, cs, mcptools.Options{Include: func(t *mcp.Tool) bool { return t.Name == "math.add" }})
	if err != nil || len(tools) != 1 {
		t.Fatal(err, tools)
	}
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "1", Name: tools[0].Name(), Input: json.RawMessage(`{"a":19,"b":23}`)}),
		bedrockkittest.TextStep("42"),
	)
	if _, err := (&agent.Agent{Model: m, Tools: tools}).Run(ctx, "s", "add"); err != nil {
		t.Fatal(err)
	}
	reqs := m.Requests()
	last := reqs[len(reqs)-1].Messages
	tr := last[len(last)-1].Parts[0].(bedrockkit.ToolResult)
	if tr.IsError || !strings.Contains(bedrockkit.Message{Parts: tr.Parts}.Text(), `"sum":42`) {
		t.Fatalf("tool result over stdio %+v", tr)
	}
}

type addIn struct {
	A int `json:"a" jsonschema:"first addend"`
	B int `json:"b" jsonschema:"second addend"`
}

type sumOut struct {
	Sum int `json:"sum"`
}

func newServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "calc", Version: "1.0.0"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "math.add", Description: "Add two integers", Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true}},
		func(ctx context.Context, req *mcp.CallToolRequest, in addIn) (*mcp.CallToolResult, sumOut, error) {
			return nil, sumOut{Sum: in.A + in.B}, nil
		})
	s.AddTool(&mcp.Tool{Name: "wipe", Description: "Delete everything", InputSchema: json.RawMessage(`{"type":"object"}`)},
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: "permission denied"}}}, nil
		})
	return s
}

// connectInMemory connects a client to an in-process server.
func connectInMemory(t *testing.T) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	st, ct := mcp.NewInMemoryTransports()
	ss, err := newServer().Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cs.Close()
		ss.Wait()
	})
	return cs
}

func TestToolsInMemory(t *testing.T) {
	cs := connectInMemory(t)
	tools, err := mcptools.Tools(context.Background(), cs, mcptools.Options{Prefix: "calc_", ConfirmDestructive: true})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*agent.Tool{}
	for _, tl := range tools {
		byName[tl.Name()] = tl
	}
	add, wipe := byName["calc_math_add"], byName["calc_wipe"]
	if add == nil || wipe == nil {
		t.Fatalf("tools %v", byName)
	}
	if add.NeedsConfirmation() || !wipe.NeedsConfirmation() {
		t.Fatal("read-only tool must not need confirmation; unannotated tool must")
	}
	// The server's schema is enforced by the agent before the call.
	if err := add.Validate(json.RawMessage(`{"a":"x","b":2}`)); !errors.Is(err, agent.ErrInvalidToolCall) {
		t.Fatalf("schema not enforced: %v", err)
	}

	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "1", Name: "calc_math_add", Input: json.RawMessage(`{"a":2,"b":40}`)}),
		bedrockkittest.TextStep("2 + 40 = 42"),
	)
	a := &agent.Agent{Model: m, Tools: tools}
	res, err := a.Run(context.Background(), "s", "add 2 and 40")
	if err != nil || res.Output != "2 + 40 = 42" {
		t.Fatal(err, res)
	}
	reqs := m.Requests()
	last := reqs[len(reqs)-1].Messages
	tr := last[len(last)-1].Parts[0].(bedrockkit.ToolResult)
	if tr.IsError || !strings.Contains(bedrockkit.Message{Parts: tr.Parts}.Text(), `"sum":42`) {
		t.Fatalf("tool result %+v", tr)
	}
}

func TestToolErrorResult(t *testing.T) {
	cs := connectInMemory(t)
	tools, err := mcptools.Tools(context.Background(), cs, mcptools.Options{Include: func(t *mcp.Tool) bool { return t.Name == "wipe" }})
	if err != nil || len(tools) != 1 {
		t.Fatal(err, tools)
	}
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "1", Name: "wipe", Input: json.RawMessage(`{}`)}),
		bedrockkittest.TextStep("I could not wipe."),
	)
	a := &agent.Agent{Model: m, Tools: tools}
	if _, err := a.Run(context.Background(), "s", "wipe"); err != nil {
		t.Fatal(err)
	}
	reqs := m.Requests()
	last := reqs[len(reqs)-1].Messages
	tr := last[len(last)-1].Parts[0].(bedrockkit.ToolResult)
	if !tr.IsError || !strings.Contains(bedrockkit.Message{Parts: tr.Parts}.Text(), "permission denied") {
		t.Fatalf("error result %+v", tr)
	}
}

func TestToolsStreamableHTTP(t *testing.T) {
	srv := newServer()
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil)
	ts := httptest.NewServer(h)
	defer ts.Close()
	ctx := context.Background()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).
		Connect(ctx, &mcp.StreamableClientTransport{Endpoint: ts.URL, DisableStandaloneSSE: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	tools, err := mcptools.Tools(ctx, cs, mcptools.Options{})
	if err != nil || len(tools) != 2 {
		t.Fatal(err, tools)
	}
	for _, tl := range tools {
		if tl.Name() != "math_add" {
			continue
		}
		a := &agent.Agent{Model: bedrockkittest.NewScriptedModel(
			bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "1", Name: "math_add", Input: json.RawMessage(`{"a":1,"b":1}`)}),
			bedrockkittest.TextStep("2"),
		), Tools: []*agent.Tool{tl}}
		if res, err := a.Run(ctx, "s", "1+1"); err != nil || res.Output != "2" {
			t.Fatal(err, res)
		}
		return
	}
	t.Fatal("math_add not imported")
}
