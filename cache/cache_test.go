package cache_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/cache"
)

func f32(v float32) *float32 { return &v }

func baseReq() *bedrockkit.Request {
	return &bedrockkit.Request{
		System:      []bedrockkit.Part{bedrockkit.Text{Text: "You are a bank assistant."}},
		Messages:    []bedrockkit.Message{bedrockkit.UserText("What is the fee?")},
		Tools:       []bedrockkit.ToolSpec{{Name: "lookup", Description: "Look up", InputSchema: json.RawMessage(`{"type":"object","properties":{"id":{"type":"string"}}}`)}},
		MaxTokens:   200,
		Temperature: f32(0),
		Extra:       map[string]any{"top_k": 5},
	}
}

func mustKey(t *testing.T, r *bedrockkit.Request) string {
	t.Helper()
	k, err := cache.Key("m", r)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestKeyNormalises(t *testing.T) {
	k := mustKey(t, baseReq())
	same := baseReq()
	same.Tools[0].InputSchema = json.RawMessage(" {\"properties\": {\"id\": {\"type\":\"string\"}}, \"type\": \"object\"}\n")
	same.System = append(same.System, bedrockkit.CachePoint{})
	same.ToolCache = &bedrockkit.CachePoint{TTL: bedrockkit.CacheTTL1h}
	same.Messages[0].Parts = append(same.Messages[0].Parts, bedrockkit.CachePoint{})
	if got := mustKey(t, same); got != k {
		t.Fatal("JSON spelling or cache points changed the key")
	}
	for name, change := range map[string]func(r *bedrockkit.Request){
		"text":        func(r *bedrockkit.Request) { r.Messages[0] = bedrockkit.UserText("What is the fee? ") },
		"system":      func(r *bedrockkit.Request) { r.System = nil },
		"temperature": func(r *bedrockkit.Request) { r.Temperature = f32(0.1) },
		"no temp":     func(r *bedrockkit.Request) { r.Temperature = nil },
		"max tokens":  func(r *bedrockkit.Request) { r.MaxTokens = 201 },
		"tool choice": func(r *bedrockkit.Request) { r.ToolChoice = bedrockkit.ToolChoice{Kind: bedrockkit.ToolChoiceAny} },
		"schema":      func(r *bedrockkit.Request) { r.Tools[0].InputSchema = json.RawMessage(`{"type":"object"}`) },
		"extra":       func(r *bedrockkit.Request) { r.Extra["top_k"] = 6 },
		"guardrail":   func(r *bedrockkit.Request) { r.Guardrail = &bedrockkit.GuardrailConfig{ID: "g", Version: "1"} },
		"role":        func(r *bedrockkit.Request) { r.Messages[0].Role = bedrockkit.RoleAssistant },
		"image": func(r *bedrockkit.Request) {
			r.Messages[0].Parts = append(r.Messages[0].Parts, bedrockkit.Image{Format: "png", Bytes: []byte{1}})
		},
	} {
		r := baseReq()
		change(r)
		if mustKey(t, r) == k {
			t.Errorf("%s: key did not change", name)
		}
	}
	if k2, _ := cache.Key("other-model", baseReq()); k2 == k {
		t.Error("model not in the key")
	}
	if _, err := cache.Key("m", nil); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("nil request: %v", err)
	}
	bad := baseReq()
	bad.Extra = map[string]any{"f": func() {}}
	if _, err := cache.Key("m", bad); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("bad extra: %v", err)
	}
}

var answer = &bedrockkit.Response{
	Message: bedrockkit.Message{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{
		bedrockkit.Reasoning{Text: "think", Signature: "sig"},
		bedrockkit.Text{Text: "The fee is 6 dollars."},
		bedrockkit.ToolCall{ID: "t1", Name: "lookup", Input: json.RawMessage(`{"id":"x"}`)},
	}},
	StopReason: bedrockkit.StopToolUse,
	Usage:      bedrockkit.Usage{InputTokens: 100, OutputTokens: 20, CacheReadTokens: 7},
}

func TestGenerateHit(t *testing.T) {
	ctx := context.Background()
	sm := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Response: answer})
	var lookups []cache.Lookup
	c := cache.New(cache.Options{OnLookup: func(_ context.Context, l cache.Lookup) { lookups = append(lookups, l) }})
	m := bedrockkit.Chain(bedrockkit.WithModelID(sm, "m"), c.Middleware())
	first, err := m.Generate(ctx, baseReq())
	if err != nil || first.Usage != answer.Usage {
		t.Fatalf("miss: %v %+v", err, first)
	}
	second, err := m.Generate(ctx, baseReq())
	if err != nil {
		t.Fatal(err)
	}
	if sm.Calls() != 1 {
		t.Fatalf("model called %d times", sm.Calls())
	}
	if !reflect.DeepEqual(second.Message, answer.Message) || second.StopReason != answer.StopReason {
		t.Fatalf("hit differs: %+v", second)
	}
	if second.Usage != (bedrockkit.Usage{}) {
		t.Fatalf("a hit must report zero usage, got %+v", second.Usage)
	}
	if len(lookups) != 2 || lookups[0].Hit || !lookups[1].Hit || lookups[1].Saved != answer.Usage || lookups[1].Key != lookups[0].Key {
		t.Fatalf("lookups %+v", lookups)
	}
	st := c.Stats()
	if st.Hits != 1 || st.Misses != 1 || st.Stores != 1 || st.Saved != answer.Usage {
		t.Fatalf("stats %+v", st)
	}
}

func TestTTLAndUncacheable(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	store := cache.NewMemoryStore(cache.MemoryOptions{Now: clock})
	c := cache.New(cache.Options{Store: store, TTL: time.Minute, Now: clock})
	sm := bedrockkittest.NewScriptedModel(
		bedrockkittest.TextStep("a"), bedrockkittest.TextStep("b"),
		bedrockkittest.Step{Response: &bedrockkit.Response{Message: bedrockkit.AssistantText("blocked"), StopReason: bedrockkit.StopGuardrailIntervened}},
		bedrockkittest.Step{Err: bedrockkit.ErrThrottled},
		bedrockkittest.TextStep("c"),
	)
	m := c.Middleware()(bedrockkit.WithModelID(sm, "m"))
	get := func(r *bedrockkit.Request) string {
		resp, err := m.Generate(ctx, r)
		if err != nil {
			return "error"
		}
		return resp.Message.Text()
	}
	if get(baseReq()) != "a" || get(baseReq()) != "a" {
		t.Fatal("not cached")
	}
	now = now.Add(time.Minute)
	if got := get(baseReq()); got != "b" {
		t.Fatalf("expired entry served: %q", got)
	}
	other := baseReq()
	other.MaxTokens = 1
	if get(other) != "blocked" || get(other) != "error" || get(other) != "c" {
		t.Fatal("a guardrail intervention or an error was cached")
	}
	if st := c.Stats(); st.Uncacheable != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestMemoryStoreBounds(t *testing.T) {
	ctx := context.Background()
	s := cache.NewMemoryStore(cache.MemoryOptions{MaxEntries: 2, MaxBytes: 10})
	s.Set(ctx, "a", []byte("1"), 0)
	s.Set(ctx, "b", []byte("2"), 0)
	s.Get(ctx, "a") // a is now the most recent
	s.Set(ctx, "c", []byte("3"), 0)
	if _, ok, _ := s.Get(ctx, "b"); ok {
		t.Fatal("least recently used entry not evicted")
	}
	if _, ok, _ := s.Get(ctx, "a"); !ok {
		t.Fatal("recently used entry evicted")
	}
	s.Set(ctx, "big", []byte("123456789"), 0) // 9 bytes: c (least recent) goes, a stays
	if _, ok, _ := s.Get(ctx, "c"); ok || s.Len() != 2 || s.Bytes() != 10 || s.Evictions() != 2 {
		t.Fatalf("len %d bytes %d evictions %d", s.Len(), s.Bytes(), s.Evictions())
	}
	s.Set(ctx, "huge", make([]byte, 11), 0)
	if _, ok, _ := s.Get(ctx, "huge"); ok {
		t.Fatal("value larger than MaxBytes stored")
	}
	s.Set(ctx, "big", []byte("x"), 0)
	if v, _, _ := s.Get(ctx, "big"); string(v) != "x" || s.Bytes() != 2 {
		t.Fatalf("replace: %q bytes %d", v, s.Bytes())
	}
	s.Delete("big")
	if s.Len() != 1 {
		t.Fatal("delete")
	}
}

func TestStream(t *testing.T) {
	ctx := context.Background()
	events := []bedrockkit.StreamEvent{
		bedrockkit.TextDelta{Index: 0, Text: "Hel"}, bedrockkit.TextDelta{Index: 0, Text: "lo"},
		bedrockkit.ToolCallDelta{Index: 1, ID: "t", Name: "lookup"}, bedrockkit.ToolCallDelta{Index: 1, InputFragment: `{"id":1}`},
		bedrockkit.ToolCallDone{Index: 1, Call: bedrockkit.ToolCall{ID: "t", Name: "lookup", Input: json.RawMessage(`{"id":1}`)}},
		bedrockkit.Stop{Reason: bedrockkit.StopToolUse},
		bedrockkit.StreamMetadata{Usage: bedrockkit.Usage{InputTokens: 9, OutputTokens: 4}},
	}
	sm := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Events: events[:2]}, bedrockkittest.Step{Events: events})
	c := cache.New(cache.Options{})
	m := c.Middleware()(bedrockkit.WithModelID(sm, "m"))

	// An abandoned stream is not stored.
	for range m.Stream(ctx, baseReq()) {
		break
	}
	var passed []bedrockkit.StreamEvent
	for ev, err := range m.Stream(ctx, baseReq()) {
		if err != nil {
			t.Fatal(err)
		}
		passed = append(passed, ev)
	}
	if !reflect.DeepEqual(passed, events) {
		t.Fatalf("miss changed the events: %v", passed)
	}
	want, _ := bedrockkit.Collect(seq(events))
	// Hit: the stored answer replayed, and Generate shares the entry.
	got, err := bedrockkit.Collect(m.Stream(ctx, baseReq()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Message, want.Message) || got.StopReason != bedrockkit.StopToolUse || got.Usage != (bedrockkit.Usage{}) {
		t.Fatalf("replayed %+v", got)
	}
	if g, err := m.Generate(ctx, baseReq()); err != nil || g.Message.Text() != "Hello" {
		t.Fatalf("generate after stream: %v %+v", err, g)
	}
	if sm.Calls() != 2 {
		t.Fatalf("model calls %d", sm.Calls())
	}
	if st := c.Stats(); st.Hits != 2 || st.Saved.InputTokens != 18 || st.Uncacheable != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func seq(evs []bedrockkit.StreamEvent) iter.Seq2[bedrockkit.StreamEvent, error] {
	return func(yield func(bedrockkit.StreamEvent, error) bool) {
		for _, e := range evs {
			if !yield(e, nil) {
				return
			}
		}
	}
}

// countingModel answers every request with its first message's text.
type countingModel struct{ calls atomic.Int64 }

func (m *countingModel) Generate(_ context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
	m.calls.Add(1)
	return &bedrockkit.Response{Message: bedrockkit.AssistantText("echo " + req.Messages[0].Text()), StopReason: bedrockkit.StopEndTurn, Usage: bedrockkit.Usage{InputTokens: 1}}, nil
}

func (m *countingModel) Stream(ctx context.Context, req *bedrockkit.Request) iter.Seq2[bedrockkit.StreamEvent, error] {
	resp, err := m.Generate(ctx, req)
	return func(yield func(bedrockkit.StreamEvent, error) bool) {
		if err != nil {
			yield(nil, err)
			return
		}
		for _, e := range cache.Replay(resp) {
			if !yield(e, nil) {
				return
			}
		}
	}
}

func TestConcurrent(t *testing.T) {
	ctx := context.Background()
	cm := &countingModel{}
	c := cache.New(cache.Options{Store: cache.NewMemoryStore(cache.MemoryOptions{MaxEntries: 8})})
	m := c.Middleware()(bedrockkit.WithModelID(cm, "m"))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				q := fmt.Sprintf("q%d", (g+i)%12)
				req := &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText(q)}}
				var resp *bedrockkit.Response
				var err error
				if i%2 == 0 {
					resp, err = m.Generate(ctx, req)
				} else {
					resp, err = bedrockkit.Collect(m.Stream(ctx, req))
				}
				if err != nil || resp.Message.Text() != "echo "+q {
					t.Errorf("%s: %v %q", q, err, resp.Message.Text())
					return
				}
			}
		}()
	}
	wg.Wait()
	st := c.Stats()
	if st.Hits+st.Misses+st.Shared != 400 || st.Misses != cm.calls.Load() {
		t.Fatalf("stats %+v, model calls %d", st, cm.calls.Load())
	}
}

type failingStore struct{}

func (failingStore) Get(context.Context, string) ([]byte, bool, error) {
	return nil, false, errors.New("store down")
}
func (failingStore) Set(context.Context, string, []byte, time.Duration) error {
	return errors.New("store down")
}

func TestStoreFailureNeverFailsACall(t *testing.T) {
	var lerr error
	c := cache.New(cache.Options{Store: failingStore{}, OnLookup: func(_ context.Context, l cache.Lookup) { lerr = l.Err }})
	resp, err := c.Middleware()(bedrockkit.WithModelID(bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("ok")), "m")).Generate(context.Background(), baseReq())
	if err != nil || resp.Message.Text() != "ok" {
		t.Fatalf("%v %+v", err, resp)
	}
	if lerr == nil || !strings.Contains(lerr.Error(), "store down") || c.Stats().StoreErrors != 2 {
		t.Fatalf("lookup err %v stats %+v", lerr, c.Stats())
	}
}

func TestSkip(t *testing.T) {
	sm := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("1"), bedrockkittest.TextStep("2"))
	c := cache.New(cache.Options{Skip: func(_ context.Context, r *bedrockkit.Request) bool {
		return r.Temperature == nil || *r.Temperature > 0.5
	}})
	m := c.Middleware()(bedrockkit.WithModelID(sm, "m"))
	r := baseReq()
	r.Temperature = f32(0.9)
	a, _ := m.Generate(context.Background(), r)
	b, _ := m.Generate(context.Background(), r)
	if a.Message.Text() != "1" || b.Message.Text() != "2" || c.Stats().Hits+c.Stats().Misses != 0 {
		t.Fatal("skipped request was cached")
	}
}

// Two models that say no ID would share keys in one Store and answer each
// other's requests: the cache refuses to wrap them silently.
func TestMiddlewareWithoutModelIDFailsClosed(t *testing.T) {
	for _, dedup := range []bool{false, true} {
		c := cache.New(cache.Options{DisableDedup: !dedup})
		a := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("a"))
		m := c.Middleware()(a)
		if _, err := m.Generate(context.Background(), baseReq()); !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Fatalf("dedup %v: Generate err = %v, want ErrInvalidInput", dedup, err)
		}
		if _, err := bedrockkit.Collect(m.Stream(context.Background(), baseReq())); !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Fatalf("dedup %v: Stream err = %v, want ErrInvalidInput", dedup, err)
		}
		if a.Calls() != 0 || c.Stats().Misses != 0 {
			t.Fatalf("dedup %v: model calls %d, stats %+v", dedup, a.Calls(), c.Stats())
		}
		// Named, two models sharing the store keep their answers apart.
		b := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("b"))
		ma := c.Middleware()(bedrockkit.WithModelID(a, "model-a"))
		mb := c.Middleware()(bedrockkit.WithModelID(b, "model-b"))
		ra, err := ma.Generate(context.Background(), baseReq())
		if err != nil {
			t.Fatal(err)
		}
		rb, err := mb.Generate(context.Background(), baseReq())
		if err != nil || ra.Message.Text() != "a" || rb.Message.Text() != "b" {
			t.Fatalf("dedup %v: answers %q %q (%v)", dedup, ra.Message.Text(), rb.Message.Text(), err)
		}
		if got := bedrockkit.ModelIDOf(ma); got != "model-a" {
			t.Fatalf("the cached model says ID %q", got)
		}
	}
}
