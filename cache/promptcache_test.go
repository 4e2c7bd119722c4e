package cache_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/cache"
)

const (
	claude37  = "us.anthropic.claude-3-7-sonnet-20250219-v1:0" // min 1,024 tokens, no 1 h TTL
	haiku45   = "us.anthropic.claude-haiku-4-5-20251001-v1:0"  // min 4,096 tokens, 1 h TTL
	novaPro   = "us.amazon.nova-pro-v1:0"                      // min 1,000, no tool cache
	llama     = "us.meta.llama3-3-70b-instruct-v1:0"           // no prompt caching
	tokens4kB = 4 * 1100                                       // ~1,100 tokens at 4 bytes a token
)

func longReq(sysBytes, toolBytes int) *bedrockkit.Request {
	r := &bedrockkit.Request{
		System:   []bedrockkit.Part{bedrockkit.Text{Text: strings.Repeat("policy ", sysBytes/7)}},
		Messages: []bedrockkit.Message{bedrockkit.UserText("hi")},
	}
	if toolBytes > 0 {
		r.Tools = []bedrockkit.ToolSpec{{Name: "t", Description: strings.Repeat("d", toolBytes), InputSchema: json.RawMessage(`{"type":"object"}`)}}
	}
	return r
}

func points(r *bedrockkit.Request) (sys []bedrockkit.CacheTTL, tool *bedrockkit.CachePoint) {
	for _, p := range r.System {
		if cp, ok := p.(bedrockkit.CachePoint); ok {
			sys = append(sys, cp.TTL)
		}
	}
	return sys, r.ToolCache
}

func caps(id string) bedrockkit.Capabilities { return bedrockkit.CapabilitiesOfBase(id) }

func TestPlaceSystemAndTools(t *testing.T) {
	req := longReq(tokens4kB, tokens4kB)
	orig := longReq(tokens4kB, tokens4kB)
	out := cache.PlaceCachePoints(req, caps(claude37), 0, "", nil)
	if !reflect.DeepEqual(req, orig) {
		t.Fatal("caller's request modified")
	}
	sys, tool := points(out)
	if len(sys) != 1 || tool == nil {
		t.Fatalf("system points %v tool point %v", sys, tool)
	}
	if _, ok := out.System[len(out.System)-1].(bedrockkit.CachePoint); !ok {
		t.Fatal("system point not at the end")
	}
}

func TestPlaceOnlyWhenLongEnough(t *testing.T) {
	short := longReq(400, 0)
	if out := cache.PlaceCachePoints(short, caps(claude37), 0, "", nil); out != short {
		t.Fatal("point placed on a short prefix")
	}
	// Short system prompt but tools long enough: the system point's prefix
	// counts the tools before it; the tools alone are short.
	mixed := longReq(700, 4*900)
	sys, tool := points(cache.PlaceCachePoints(mixed, caps(claude37), 0, "", nil))
	if len(sys) != 1 || tool != nil {
		t.Fatalf("mixed: system %v tool %v", sys, tool)
	}
	// Haiku 4.5 needs 4,096 tokens.
	if out := cache.PlaceCachePoints(longReq(tokens4kB, 0), caps(haiku45), 0, "", nil); len(out.System) != 1 {
		t.Fatal("point placed below Haiku 4.5's minimum")
	}
	// A higher MinTokens is respected.
	if out := cache.PlaceCachePoints(longReq(tokens4kB, 0), caps(claude37), 5000, "", nil); len(out.System) != 1 {
		t.Fatal("MinTokens ignored")
	}
}

func TestPlaceByModel(t *testing.T) {
	req := longReq(tokens4kB, tokens4kB)
	if out := cache.PlaceCachePoints(req, caps(llama), 0, "", nil); out != req {
		t.Fatal("point placed for a model without prompt caching")
	}
	sys, tool := points(cache.PlaceCachePoints(req, caps(novaPro), 0, "", nil))
	if len(sys) != 1 || tool != nil {
		t.Fatalf("nova: system %v tool %v (Nova does not cache tools)", sys, tool)
	}
}

func TestPlaceRespectsLimitAndExisting(t *testing.T) {
	req := longReq(tokens4kB, tokens4kB)
	for range 3 {
		req.Messages = append(req.Messages, bedrockkit.Message{Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{bedrockkit.Text{Text: "x"}, bedrockkit.CachePoint{}}})
	}
	sys, tool := points(cache.PlaceCachePoints(req, caps(claude37), 0, "", nil))
	if len(sys) != 1 || tool != nil {
		t.Fatalf("one slot left: system %v tool %v", sys, tool)
	}
	req.Messages = append(req.Messages, bedrockkit.Message{Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{bedrockkit.CachePoint{}}})
	if out := cache.PlaceCachePoints(req, caps(claude37), 0, "", nil); out != req {
		t.Fatal("a fifth point placed")
	}
	done := longReq(tokens4kB, 0)
	done.System = append(done.System, bedrockkit.CachePoint{})
	if out := cache.PlaceCachePoints(done, caps(claude37), 0, "", nil); out != done {
		t.Fatal("second point placed after an existing one")
	}
}

func TestPlaceTTL(t *testing.T) {
	// 1 h asked on a model without it: default TTL.
	sys, _ := points(cache.PlaceCachePoints(longReq(tokens4kB, 0), caps(claude37), 0, bedrockkit.CacheTTL1h, nil))
	if len(sys) != 1 || sys[0] != bedrockkit.CacheTTLDefault {
		t.Fatalf("claude 3.7: %v", sys)
	}
	sys, _ = points(cache.PlaceCachePoints(longReq(4*4200, 0), caps(haiku45), 0, bedrockkit.CacheTTL1h, nil))
	if len(sys) != 1 || sys[0] != bedrockkit.CacheTTL1h {
		t.Fatalf("haiku 4.5: %v", sys)
	}
	// A later 1 h point forces the placed points up to 1 h.
	req := longReq(4*4200, 4*4200)
	req.Messages[0].Parts = append(req.Messages[0].Parts, bedrockkit.CachePoint{TTL: bedrockkit.CacheTTL1h})
	out := cache.PlaceCachePoints(req, caps(haiku45), 0, "", nil)
	sys, tool := points(out)
	if len(sys) != 1 || sys[0] != bedrockkit.CacheTTL1h || tool == nil || tool.TTL != bedrockkit.CacheTTL1h {
		t.Fatalf("raised: %v %v", sys, tool)
	}
	// An earlier 5 m tool point and a later 1 h message point leave no
	// valid TTL for the system point.
	req.ToolCache = &bedrockkit.CachePoint{}
	if out := cache.PlaceCachePoints(req, caps(haiku45), 0, "", nil); out != req {
		t.Fatal("placed a point that breaks TTL order")
	}
}

func TestPromptCachingMiddleware(t *testing.T) {
	sm := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("a"), bedrockkittest.TextStep("b"))
	m := bedrockkit.Chain(bedrockkit.WithModelID(sm, claude37), cache.PromptCaching(cache.PromptCacheOptions{}))
	m.Generate(context.Background(), longReq(tokens4kB, 0))
	for range m.Stream(context.Background(), longReq(tokens4kB, 0)) {
	}
	for i, r := range sm.Requests() {
		if sys, _ := points(r); len(sys) != 1 {
			t.Fatalf("request %d: no system point", i)
		}
	}
	// A model without caching, or one that says neither its ID nor its
	// capabilities, is returned unwrapped.
	for _, m := range []bedrockkit.Model{bedrockkit.WithModelID(sm, llama), sm} {
		if got := cache.PromptCaching(cache.PromptCacheOptions{})(m); got != m {
			t.Fatalf("wrapped %T, a model that cannot cache", m)
		}
	}
	// The capabilities a model reports win over its ID (a ConverseModel
	// with ConverseOptions.BaseModel under an application profile ARN).
	arn := "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"
	f := bedrockkittest.NewFakeBedrock(t)
	conv, err := bedrockkit.NewConverseModel(f.Client(), arn, bedrockkit.ConverseOptions{BaseModel: claude37})
	if err != nil {
		t.Fatal(err)
	}
	if got := cache.PromptCaching(cache.PromptCacheOptions{})(conv); got == bedrockkit.Model(conv) {
		t.Fatal("did not wrap an application profile whose BaseModel caches")
	}
	// Capabilities given in the config win over both.
	if got := cache.PromptCaching(cache.PromptCacheOptions{Capabilities: &bedrockkit.Capabilities{}})(conv); got != bedrockkit.Model(conv) {
		t.Fatal("wrapped a model the config says cannot cache")
	}
}
