package guardrail

import (
	"context"
	"iter"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bedrockkit/bedrockkit"
)

// eventModel streams fixed events; Generate collects them.
type eventModel struct{ events []bedrockkit.StreamEvent }

func (m eventModel) Generate(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
	return bedrockkit.Collect(m.Stream(ctx, req))
}

func (m eventModel) Stream(ctx context.Context, req *bedrockkit.Request) iter.Seq2[bedrockkit.StreamEvent, error] {
	return func(yield func(bedrockkit.StreamEvent, error) bool) {
		for _, e := range m.events {
			if !yield(e, nil) {
				return
			}
		}
	}
}

type streamed struct {
	text, reasoning, signature string
	stop                       bedrockkit.StopReason
}

func runStream(t *testing.T, mw bedrockkit.Middleware, events []bedrockkit.StreamEvent) streamed {
	t.Helper()
	var out streamed
	var text, reasoning strings.Builder
	for ev, err := range mw(eventModel{events}).Stream(context.Background(), &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("hi")}}) {
		if err != nil {
			t.Fatal(err)
		}
		switch e := ev.(type) {
		case bedrockkit.TextDelta:
			text.WriteString(e.Text)
		case bedrockkit.ReasoningDelta:
			reasoning.WriteString(e.Text)
			out.signature += e.Signature
		case bedrockkit.Stop:
			out.stop = e.Reason
		}
	}
	out.text, out.reasoning = text.String(), reasoning.String()
	return out
}

// chunked splits s into pieces of n bytes (the last may be shorter).
func chunked(s string, n int) []string {
	var out []string
	for i := 0; i < len(s); i += n {
		out = append(out, s[i:min(i+n, len(s))])
	}
	return out
}

func reasoningEvents(reasoning, text string, n int) []bedrockkit.StreamEvent {
	var evs []bedrockkit.StreamEvent
	for _, c := range chunked(reasoning, n) {
		evs = append(evs, bedrockkit.ReasoningDelta{Index: 0, Text: c})
	}
	evs = append(evs, bedrockkit.ReasoningDelta{Index: 0, Signature: "c2ln"})
	for _, c := range chunked(text, n) {
		evs = append(evs, bedrockkit.TextDelta{Index: 1, Text: c})
	}
	return append(evs, bedrockkit.Stop{Reason: bedrockkit.StopEndTurn}, bedrockkit.StreamMetadata{})
}

// TestReasoningIsGuarded: reasoning, streamed or whole, is assessed like
// text: PII in it is masked, a violation in it blocks, and the signature
// follows the released reasoning. SkipReasoning turns that off explicitly.
func TestReasoningIsGuarded(t *testing.T) {
	g := testGuard(t)
	reasoning := "The user is jane.doe@example.com; I should answer briefly."
	for _, n := range []int{1, 5, 16, 1000} {
		got := runStream(t, Middleware(g, MiddlewareOptions{HoldBack: 32}), reasoningEvents(reasoning, "Hello!", n))
		if strings.Contains(got.reasoning, "jane") || got.reasoning != "The user is {EMAIL}; I should answer briefly." || got.signature != "c2ln" || got.text != "Hello!" {
			t.Fatalf("chunks of %d: %+v", n, got)
		}
		got = runStream(t, Middleware(g, MiddlewareOptions{HoldBack: 32}), reasoningEvents("They want the badword, fine.", "Hello!", n))
		if got.stop != bedrockkit.StopGuardrailIntervened || strings.Contains(got.reasoning+got.text, "badword") || strings.Contains(got.text, "Hello") {
			t.Fatalf("blocked word in reasoning, chunks of %d: %+v", n, got)
		}
		got = runStream(t, Middleware(g, MiddlewareOptions{Mode: StreamAsync}), reasoningEvents("They want the badword, fine.", "Hello!", n))
		if got.stop != bedrockkit.StopGuardrailIntervened {
			t.Fatalf("async: blocked word in reasoning, chunks of %d: %+v", n, got)
		}
	}
	got := runStream(t, Middleware(g, MiddlewareOptions{SkipReasoning: true}), reasoningEvents(reasoning, "Hello!", 7))
	if got.reasoning != reasoning || got.stop != bedrockkit.StopEndTurn {
		t.Fatalf("SkipReasoning: %+v", got)
	}
	// Generate: Reasoning parts.
	resp, err := Middleware(g, MiddlewareOptions{})(eventModel{reasoningEvents(reasoning, "Hello!", 1000)}).Generate(context.Background(),
		&bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("hi")}})
	if err != nil {
		t.Fatal(err)
	}
	r, ok := resp.Message.Parts[0].(bedrockkit.Reasoning)
	if !ok || r.Text != "The user is {EMAIL}; I should answer briefly." || r.Signature != "c2ln" {
		t.Fatalf("Generate reasoning: %+v", resp.Message.Parts)
	}
	resp, _ = Middleware(g, MiddlewareOptions{})(eventModel{reasoningEvents("the badword", "Hello!", 1000)}).Generate(context.Background(),
		&bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("hi")}})
	if resp.StopReason != bedrockkit.StopGuardrailIntervened || strings.Contains(resp.Message.Text(), "Hello") {
		t.Fatalf("Generate blocked reasoning: %+v", resp)
	}
	// Input: reasoning in the last message is assessed too.
	model := &recordingModel{}
	_, _ = Middleware(g, MiddlewareOptions{})(model).Generate(context.Background(), &bedrockkit.Request{Messages: []bedrockkit.Message{
		{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{bedrockkit.Reasoning{Text: "mail jane@example.com", Signature: "s"}}}}})
	if r := model.last.Messages[0].Parts[0].(bedrockkit.Reasoning); r.Text != "mail {EMAIL}" {
		t.Fatalf("input reasoning: %+v", r)
	}
}

type recordingModel struct{ last *bedrockkit.Request }

func (m *recordingModel) Generate(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
	m.last = req
	return &bedrockkit.Response{Message: bedrockkit.AssistantText("ok"), StopReason: bedrockkit.StopEndTurn}, nil
}

func (m *recordingModel) Stream(ctx context.Context, req *bedrockkit.Request) iter.Seq2[bedrockkit.StreamEvent, error] {
	return nil
}

// longText is a generated output with PII every few hundred bytes.
func longText(n int) string {
	var b strings.Builder
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"the", "order", "ships", "today", "and", "arrives", "soon", "please", "contact", "support", "team"}
	for i := 0; b.Len() < n; i++ {
		b.WriteString(words[r.IntN(len(words))])
		b.WriteByte(' ')
		if i%41 == 40 {
			b.WriteString([]string{"mail jane.doe@example.com ", "or (555) 123-4567 ", "ref ORD-654321 ", "visit 10.0.0.12 "}[r.IntN(4)])
		}
	}
	return b.String()[:n]
}

// TestStreamSplitNeverMatters: whatever the chunk sizes, a long stream is
// released the same, with every entity of the whole text masked.
func TestStreamSplitNeverMatters(t *testing.T) {
	g := testGuard(t)
	mw := Middleware(g, MiddlewareOptions{HoldBack: 64})
	text := longText(6000)
	whole, _ := g.Assess(context.Background(), SourceOutput, Content{Text: text})
	var first string
	for _, n := range []int{1, 3, 16, 63, 64, 65, 200, 6000} {
		var evs []bedrockkit.StreamEvent
		for _, c := range chunked(text, n) {
			evs = append(evs, bedrockkit.TextDelta{Text: c})
		}
		evs = append(evs, bedrockkit.Stop{Reason: bedrockkit.StopEndTurn})
		got := runStream(t, mw, evs).text
		if first == "" {
			first = got
		}
		if got != first {
			t.Fatalf("chunks of %d: output differs from chunks of 1", n)
		}
		for _, leak := range []string{"jane", "123-4567", "654321"} {
			if strings.Contains(got, leak) {
				t.Fatalf("chunks of %d leaked %q", n, leak)
			}
		}
	}
	if first != whole.Outputs[0].Text {
		t.Fatalf("stream differs from the whole text's masking")
	}
}

// countingGuard counts the bytes and calls a guard assesses.
type countingGuard struct {
	g            Guard
	bytes, calls atomic.Int64
}

func (c *countingGuard) Assess(ctx context.Context, s Source, content ...Content) (*Verdict, error) {
	c.calls.Add(1)
	for _, x := range content {
		c.bytes.Add(int64(len(x.Text)))
	}
	return c.g.Assess(ctx, s, content...)
}

// TestStreamGuardingIsLinear counts what the guard is asked to read: for a
// stream of n bytes in 16-byte deltas, sync mode assesses about 3n bytes
// in about n/HoldBack calls whatever n is, and async mode about 2n (its
// windows plus one whole pass). No clock is read.
func TestStreamGuardingIsLinear(t *testing.T) {
	for _, mode := range []StreamMode{StreamSync, StreamAsync} {
		for _, n := range []int{10 << 10, 40 << 10} {
			cg := &countingGuard{g: testGuard(t)}
			text := longText(n)
			var evs []bedrockkit.StreamEvent
			for _, c := range chunked(text, 16) {
				evs = append(evs, bedrockkit.TextDelta{Text: c})
			}
			evs = append(evs, bedrockkit.Stop{Reason: bedrockkit.StopEndTurn})
			runStream(t, Middleware(cg, MiddlewareOptions{Mode: mode}), evs)
			perByte := float64(cg.bytes.Load()) / float64(n)
			if perByte > 3.2 || mode == StreamSync && cg.calls.Load() > int64(n/MaxEntityLen+2) {
				t.Errorf("%s, %d bytes: %d bytes assessed in %d calls (%.1f per byte)", mode, n, cg.bytes.Load(), cg.calls.Load(), perByte)
			}
		}
	}
}

// FuzzStreamSplits: for any text and any split into chunks, the sync
// stream releases the same text as for one chunk, and no anonymized value
// found in the whole text (long enough not to occur by chance, and not
// occurring outside its span) is released.
func FuzzStreamSplits(f *testing.F) {
	g := testGuard(f)
	mw := Middleware(g, MiddlewareOptions{HoldBack: 24})
	f.Add("Thanks! Reach jane.doe@example.com or (555) 123-4567 for order ORD-654321 today.", uint64(7))
	f.Add(longText(300), uint64(1))
	f.Add("a@b.co "+strings.Repeat("x", 40)+" 555-123-4567 ORD-000001", uint64(99))
	f.Fuzz(func(t *testing.T, text string, seed uint64) {
		if len(text) > 2000 {
			return
		}
		r := rand.New(rand.NewPCG(seed, 1))
		var evs, one []bedrockkit.StreamEvent
		for i := 0; i < len(text); {
			n := 1 + r.IntN(40)
			evs = append(evs, bedrockkit.TextDelta{Text: text[i:min(i+n, len(text))]})
			i += n
		}
		one = append(one, bedrockkit.TextDelta{Text: text}, bedrockkit.Stop{Reason: bedrockkit.StopEndTurn})
		evs = append(evs, bedrockkit.Stop{Reason: bedrockkit.StopEndTurn})
		a, b := runStream(t, mw, evs), runStream(t, mw, one)
		if a != b {
			t.Fatalf("split changed the stream: %+v vs %+v", a, b)
		}
		whole, err := g.Assess(context.Background(), SourceOutput, Content{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		if whole.Blocked || b.stop == bedrockkit.StopGuardrailIntervened {
			return
		}
		outside := maskedOutside(text, whole)
		for _, m := range anonymizedMatches(whole) {
			if len(m) >= 6 && strings.Contains(b.text, m) && !strings.Contains(outside, m) {
				t.Fatalf("stream released %q: %q", m, b.text)
			}
		}
	})
}

func anonymizedMatches(res *Verdict) []string {
	var out []string
	for _, a := range res.Assessments {
		if sp := a.SensitiveInformationPolicy; sp != nil {
			for _, e := range sp.PiiEntities {
				if e.Action == actAnonymized {
					out = append(out, e.Match)
				}
			}
			for _, r := range sp.Regexes {
				if r.Action == actAnonymized {
					out = append(out, r.Match)
				}
			}
		}
	}
	return out
}

// BenchmarkStreamSync100KDeltas16 guards 100 KB streamed in 16-byte deltas
// (sync mode), to compare with BenchmarkAssessOnce100K.
func BenchmarkStreamSync100KDeltas16(b *testing.B) {
	g := testGuard(b)
	text := longText(100 << 10)
	var evs []bedrockkit.StreamEvent
	for _, c := range chunked(text, 16) {
		evs = append(evs, bedrockkit.TextDelta{Text: c})
	}
	evs = append(evs, bedrockkit.Stop{Reason: bedrockkit.StopEndTurn})
	m := Middleware(g, MiddlewareOptions{})(eventModel{evs})
	req := &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("hi")}}
	b.SetBytes(int64(len(text)))
	cpu0 := cpuTime()
	n := 0
	for b.Loop() {
		for _, err := range m.Stream(context.Background(), req) {
			if err != nil {
				b.Fatal(err)
			}
		}
		n++
	}
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/op")
	}
}

// BenchmarkAssessOnce100K assesses the same 100 KB in one call.
func BenchmarkAssessOnce100K(b *testing.B) {
	g := testGuard(b)
	text := longText(100 << 10)
	b.SetBytes(int64(len(text)))
	cpu0 := cpuTime()
	n := 0
	for b.Loop() {
		if _, err := g.Assess(context.Background(), SourceOutput, Content{Text: text}); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/op")
	}
}
