package bedrockkittest

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
)

func richResponse() *bedrockkit.Response {
	return &bedrockkit.Response{
		Message: bedrockkit.Message{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{
			bedrockkit.Reasoning{Text: "The user wants the weather in Paris.", Signature: "sig-1"},
			bedrockkit.Text{Text: "Let me check the weather — un instant ☀️."},
			bedrockkit.ToolCall{ID: "tooluse_1", Name: "get_weather", Input: json.RawMessage(`{"city":"Paris","units":"metric"}`)},
		}},
		Usage:   bedrockkit.Usage{InputTokens: 12, OutputTokens: 34, CacheReadTokens: 5, CacheWriteTokens: 6},
		Latency: 1500 * time.Millisecond,
	}
}

func TestScriptedGenerateAndStreamAgree(t *testing.T) {
	m := NewScriptedModel(Step{Response: richResponse()}, Step{Response: richResponse()})
	ctx := context.Background()
	got, err := m.Generate(ctx, &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("hi")}})
	if err != nil {
		t.Fatal(err)
	}
	if got.StopReason != bedrockkit.StopToolUse {
		t.Errorf("StopReason = %q, want tool_use (default for a message with tool calls)", got.StopReason)
	}
	var evs []bedrockkit.StreamEvent
	streamed, err := bedrockkit.Collect(func(yield func(bedrockkit.StreamEvent, error) bool) {
		for ev, err := range m.Stream(ctx, &bedrockkit.Request{}) {
			if err == nil {
				evs = append(evs, ev)
			}
			if !yield(ev, err) {
				return
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, streamed) {
		t.Errorf("Generate and Collect(Stream) differ:\n gen %#v\n str %#v", got, streamed)
	}
	// The tool input must arrive in several fragments, and the first delta of a call carries ID and Name.
	var frags []string
	var sawStart bool
	for _, ev := range evs {
		if d, ok := ev.(bedrockkit.ToolCallDelta); ok {
			if d.ID == "tooluse_1" && d.Name == "get_weather" {
				sawStart = true
			} else {
				frags = append(frags, d.InputFragment)
			}
		}
	}
	if !sawStart || len(frags) < 2 || strings.Join(frags, "") != `{"city":"Paris","units":"metric"}` {
		t.Errorf("tool deltas: start=%v frags=%q", sawStart, frags)
	}
	if _, ok := evs[len(evs)-1].(bedrockkit.StreamMetadata); !ok {
		t.Errorf("last event = %T, want Metadata", evs[len(evs)-1])
	}
	if m.Calls() != 2 || m.Remaining() != 0 {
		t.Errorf("Calls=%d Remaining=%d", m.Calls(), m.Remaining())
	}
}

func TestScriptedExhausted(t *testing.T) {
	m := NewScriptedModel(TextStep("one"))
	if _, err := m.Generate(context.Background(), &bedrockkit.Request{}); err != nil {
		t.Fatal(err)
	}
	_, err := m.Generate(context.Background(), &bedrockkit.Request{})
	if !errors.Is(err, ErrScriptExhausted) || !strings.Contains(err.Error(), "only 1 step(s) scripted") {
		t.Fatalf("err = %v, want ErrScriptExhausted saying 1 step scripted", err)
	}
	var serr error
	for _, err := range m.Stream(context.Background(), &bedrockkit.Request{}) {
		serr = err
	}
	if !errors.Is(serr, ErrScriptExhausted) {
		t.Fatalf("stream err = %v", serr)
	}
	if m.Calls() != 3 {
		t.Errorf("Calls = %d, want 3", m.Calls())
	}
	m.Push(TextStep("two"))
	r, err := m.Generate(context.Background(), &bedrockkit.Request{})
	if err != nil || r.Message.Text() != "two" {
		t.Fatalf("after Push: %v %v", r, err)
	}
}

func TestScriptedErrorsAndEvents(t *testing.T) {
	boom := errors.New("boom")
	m := NewScriptedModel(
		Step{Err: boom},
		Step{Events: []bedrockkit.StreamEvent{bedrockkit.TextDelta{Text: "par"}, bedrockkit.TextDelta{Text: "tial"}}, Err: boom},
		Step{Events: []bedrockkit.StreamEvent{bedrockkit.TextDelta{Text: "ok"}, bedrockkit.Stop{Reason: bedrockkit.StopMaxTokens}}},
	)
	ctx := context.Background()
	if _, err := m.Generate(ctx, &bedrockkit.Request{}); !errors.Is(err, boom) {
		t.Fatalf("Generate err = %v", err)
	}
	resp, err := bedrockkit.Collect(m.Stream(ctx, &bedrockkit.Request{}))
	if !errors.Is(err, boom) || resp.Message.Text() != "partial" {
		t.Fatalf("stream: %q %v", resp.Message.Text(), err)
	}
	resp, err = m.Generate(ctx, &bedrockkit.Request{})
	if err != nil || resp.Message.Text() != "ok" || resp.StopReason != bedrockkit.StopMaxTokens {
		t.Fatalf("events-only Generate: %+v %v", resp, err)
	}
}

func TestScriptedContext(t *testing.T) {
	m := NewScriptedModel(TextStep("hello there general kenobi"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Generate(ctx, &bedrockkit.Request{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if m.Calls() != 0 || m.Remaining() != 1 {
		t.Fatalf("cancelled call consumed a step: calls=%d remaining=%d", m.Calls(), m.Remaining())
	}
	// Cancel in the middle of a stream.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	var n int
	var last error
	for _, err := range m.Stream(ctx, &bedrockkit.Request{}) {
		if err != nil {
			last = err
			break
		}
		n++
		cancel()
	}
	if n != 1 || !errors.Is(last, context.Canceled) {
		t.Fatalf("events=%d last=%v", n, last)
	}
}

func TestScriptedRecordsDeepCopies(t *testing.T) {
	m := NewScriptedModel(TextStep("a"))
	temp := float32(0.5)
	req := &bedrockkit.Request{
		Messages:    []bedrockkit.Message{{Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{bedrockkit.Image{Format: bedrockkit.ImagePNG, Bytes: []byte{1, 2}}}}},
		Temperature: &temp,
		Extra:       map[string]any{"thinking": map[string]any{"budget": 10}},
	}
	if _, err := m.Generate(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	req.Messages[0].Parts[0].(bedrockkit.Image).Bytes[0] = 9
	temp = 1
	req.Extra["thinking"].(map[string]any)["budget"] = 99
	got := m.Requests()[0]
	if got.Messages[0].Parts[0].(bedrockkit.Image).Bytes[0] != 1 || *got.Temperature != 0.5 ||
		got.Extra["thinking"].(map[string]any)["budget"] != 10 {
		t.Fatalf("recorded request shares memory with the caller's: %+v", got)
	}
}

func TestScriptedConcurrent(t *testing.T) {
	const n = 50
	m := NewScriptedModel()
	for i := 0; i < n; i++ {
		m.Push(TextStep("x"))
	}
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Go(func() {
			if i%2 == 0 {
				_, _ = m.Generate(context.Background(), &bedrockkit.Request{})
			} else {
				_, _ = bedrockkit.Collect(m.Stream(context.Background(), &bedrockkit.Request{}))
			}
		})
	}
	wg.Wait()
	if m.Calls() != n || m.Remaining() != 0 {
		t.Fatalf("calls=%d remaining=%d", m.Calls(), m.Remaining())
	}
}

func TestSplitText(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want []string
	}{
		{"hello big world", 0, []string{"hello ", "big ", "world"}},
		{"  lead", 0, []string{"  ", "lead"}},
		{"héllo☀", 2, []string{"hé", "ll", "o☀"}},
		{"", 3, nil},
	} {
		if got := splitText(tc.s, tc.n); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitText(%q,%d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}

func FuzzResponseEventsRoundTrip(f *testing.F) {
	f.Add("hello world", `{"a":1}`, "thinking…", 0)
	f.Add("日本語のテキスト", `{}`, "", 3)
	f.Add("", `{"k":"vé"}`, "x", 1)
	f.Fuzz(func(t *testing.T, text, input, reasoning string, chunk int) {
		parts := []bedrockkit.Part{}
		if reasoning != "" {
			parts = append(parts, bedrockkit.Reasoning{Text: reasoning})
		}
		if text != "" {
			parts = append(parts, bedrockkit.Text{Text: text})
		}
		parts = append(parts, bedrockkit.ToolCall{ID: "id", Name: "n", Input: json.RawMessage(input)})
		r := completeResponse(&bedrockkit.Response{Message: bedrockkit.Message{Parts: parts}})
		got, err := bedrockkit.Collect(eventSeq(ResponseEvents(r, chunk%16)))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Message, r.Message) {
			t.Fatalf("round trip:\n got %#v\nwant %#v", got.Message, r.Message)
		}
	})
}
