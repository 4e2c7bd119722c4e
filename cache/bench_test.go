package cache_test

import (
	"context"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/cache"
)

// benchReq is a typical agent turn: a 6 kB system prompt, a tool, and a
// few messages.
func benchReq() *bedrockkit.Request {
	r := baseReq()
	r.System = []bedrockkit.Part{bedrockkit.Text{Text: strings.Repeat("Policy sentence number one. ", 220)}}
	for range 3 {
		r.Messages = append(r.Messages, bedrockkit.AssistantText("An answer of moderate length for the benchmark."), bedrockkit.UserText("A follow-up question?"))
	}
	return r
}

func BenchmarkKey(b *testing.B) {
	r := benchReq()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cache.Key("m", r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGenerateHit(b *testing.B) {
	for _, tc := range []struct {
		name string
		cfg  cache.Options
	}{{"dedup", cache.Options{}}, {"nodedup", cache.Options{DisableDedup: true}}} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			m := cache.New(tc.cfg).Middleware()(bedrockkit.WithModelID(bedrockkittest.NewScriptedModel(bedrockkittest.Step{Response: answer}), "m"))
			r := benchReq()
			if _, err := m.Generate(ctx, r); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Generate(ctx, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkPlaceCachePoints(b *testing.B) {
	r := benchReq()
	caps := bedrockkit.CapabilitiesOfBase("us.anthropic.claude-3-7-sonnet-20250219-v1:0")
	b.ReportAllocs()
	for b.Loop() {
		cache.PlaceCachePoints(r, caps, 0, "", nil)
	}
}
