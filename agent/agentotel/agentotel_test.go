package agentotel_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/agentotel"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type in struct {
	City string `json:"city"`
}

func TestSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())

	tool := agent.MustNewFuncTool("weather", "Weather", func(ctx context.Context, v in) (string, error) { return "sunny", nil })
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.Step{Response: &bedrockkit.Response{
			Message: bedrockkit.Message{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{
				bedrockkit.ToolCall{ID: "c1", Name: "weather", Input: json.RawMessage(`{"city":"Oslo"}`)},
				bedrockkit.ToolCall{ID: "c2", Name: "nope", Input: json.RawMessage(`{}`)},
			}},
			Usage: bedrockkit.Usage{InputTokens: 10, OutputTokens: 3}}},
		bedrockkittest.Step{Response: &bedrockkit.Response{Message: bedrockkit.AssistantText("Sunny."), Usage: bedrockkit.Usage{InputTokens: 12, CacheReadTokens: 8, OutputTokens: 2}}},
	)
	a := &agent.Agent{Name: "helper", Model: m, Tools: []*agent.Tool{tool}}
	ctx, run := agentotel.Start(context.Background(), tp.Tracer("test"), a.Name, "sess-1", agentotel.Options{RecordContent: true})
	_, err := a.Run(ctx, "sess-1", "weather in Oslo?")
	run.End(err)
	if err != nil {
		t.Fatal(err)
	}
	spans := rec.Ended()
	names := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		names[s.Name()] = s
	}
	root := names["invoke_agent helper"]
	if root == nil || len(spans) != 5 { // root, 2 chat, 2 execute_tool
		var got []string
		for _, s := range spans {
			got = append(got, s.Name())
		}
		t.Fatalf("spans %v", got)
	}
	attrs := func(s sdktrace.ReadOnlySpan) map[string]string {
		out := map[string]string{}
		for _, kv := range s.Attributes() {
			out[string(kv.Key)] = kv.Value.Emit()
		}
		return out
	}
	ra := attrs(root)
	if ra["gen_ai.operation.name"] != "invoke_agent" || ra["gen_ai.conversation.id"] != "sess-1" || ra["gen_ai.usage.input_tokens"] != "30" || ra["gen_ai.usage.output_tokens"] != "5" {
		t.Fatalf("root attributes %v", ra)
	}
	w := names["execute_tool weather"]
	wa := attrs(w)
	if wa["gen_ai.tool.call.id"] != "c1" || wa["gen_ai.tool.call.arguments"] != `{"city":"Oslo"}` || wa["gen_ai.tool.call.result"] != "sunny" {
		t.Fatalf("tool attributes %v", wa)
	}
	if w.Parent().SpanID() != root.SpanContext().SpanID() {
		t.Fatal("tool span is not a child of the run span")
	}
	if na := attrs(names["execute_tool nope"]); na["error.type"] != "invalid_tool_call" {
		t.Fatalf("invalid call attributes %v", na)
	}
	var chats int
	for _, s := range spans {
		if s.Name() == "chat" {
			chats++
			if a := attrs(s); a["gen_ai.operation.name"] != "chat" || a["gen_ai.usage.input_tokens"] == "" {
				t.Fatalf("chat attributes %v", a)
			}
		}
	}
	if chats != 2 {
		t.Fatalf("%d chat spans", chats)
	}
}

func TestErrorRun(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())
	a := &agent.Agent{Model: bedrockkittest.NewScriptedModel(bedrockkittest.Step{Err: bedrockkit.ErrThrottled})}
	ctx, run := agentotel.Start(context.Background(), tp.Tracer("t"), "", "s", agentotel.Options{})
	_, err := a.Run(ctx, "s", "hi")
	run.End(err)
	run.End(err) // idempotent
	if !errors.Is(err, bedrockkit.ErrThrottled) {
		t.Fatal(err)
	}
	for _, s := range rec.Ended() {
		for _, kv := range s.Attributes() {
			if kv.Key == "error.type" && kv.Value.AsString() == "throttled" {
				return
			}
		}
	}
	t.Fatal("no span with error.type throttled")
}

// TestAbandonedToolSpan: a tool that ignores its context past its timeout
// is abandoned; its span says so (bedrockkit.tool.abandoned) and carries
// error.type tool_abandoned, so a dashboard can count goroutines left
// running.
func TestAbandonedToolSpan(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())
	release := make(chan struct{})
	stuck := agent.MustNewFuncTool("stuck", "Never looks at ctx", func(ctx context.Context, v in) (string, error) {
		<-release
		return "late", nil
	}, agent.ToolOptions{Timeout: 20 * time.Millisecond})
	fine := agent.MustNewFuncTool("fine", "Returns", func(ctx context.Context, v in) (string, error) { return "ok", nil })
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(
			bedrockkit.ToolCall{ID: "c1", Name: "stuck", Input: json.RawMessage(`{"city":"Oslo"}`)},
			bedrockkit.ToolCall{ID: "c2", Name: "fine", Input: json.RawMessage(`{"city":"Oslo"}`)},
		),
		bedrockkittest.TextStep("It timed out."),
	)
	a := &agent.Agent{Model: m, Tools: []*agent.Tool{stuck, fine}}
	ctx, run := agentotel.Start(context.Background(), tp.Tracer("t"), "", "s", agentotel.Options{})
	_, err := a.Run(ctx, "s", "go")
	run.End(err)
	close(release)
	for stuck.Abandoned() > 0 { // let the abandoned goroutine end before goleak looks
		time.Sleep(time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]map[string]string{}
	for _, s := range rec.Ended() {
		attrs := map[string]string{}
		for _, kv := range s.Attributes() {
			attrs[string(kv.Key)] = kv.Value.Emit()
		}
		found[s.Name()] = attrs
	}
	if a := found["execute_tool stuck"]; a["bedrockkit.tool.abandoned"] != "true" || a["error.type"] != "tool_abandoned" {
		t.Fatalf("abandoned tool span attributes %v", a)
	}
	if a := found["execute_tool fine"]; a["bedrockkit.tool.abandoned"] != "" || a["error.type"] != "" {
		t.Fatalf("finished tool span attributes %v", a)
	}
}
