package pgmemory_test

import (
	"context"
	"testing"

	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/pgmemory"
)

// BenchmarkSaveLoad measures one Load plus one Save of a typical session
// (richSession: three messages, a pending pause, a checkpoint) against the
// server in BEDROCKKIT_PG_DSN: what the agent adds per turn for memory.
func BenchmarkSaveLoad(b *testing.B) {
	ctx := context.Background()
	mem, err := pgmemory.New(ctx, sharedPool(b), pgmemory.Options{Table: newTable(b)})
	must(b, err)
	s := richSession("bench")
	must(b, mem.Save(ctx, s))
	var sink *agent.Session
	for b.Loop() {
		s, err = mem.Load(ctx, "bench")
		must(b, err)
		must(b, mem.Save(ctx, s))
		sink = s
	}
	_ = sink
}
