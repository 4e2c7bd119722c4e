package kb_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/chunk"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

// latencyEmbedder simulates a remote embedding model: every call takes
// the given latency, whatever the batch size.
type latencyEmbedder struct {
	*bedrockkittest.HashEmbedder
	latency time.Duration
}

func (e latencyEmbedder) Embed(ctx context.Context, texts []string, p bedrockkit.Purpose) ([][]float32, error) {
	t := time.NewTimer(e.latency)
	defer t.Stop()
	start := time.Now()
	v, err := e.HashEmbedder.Embed(ctx, texts, p)
	if err != nil {
		return nil, err
	}
	if time.Since(start) > e.latency {
		return v, nil
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
	}
	return v, nil
}

// BenchmarkSyncThroughput ingests 2,048 one-chunk documents through an
// embedder with 50 ms latency per call, 16 calls at a time in batches of
// 32. The ideal rate is 16 x 32 / 50 ms = 10,240 chunks/s; x_ideal reports
// the measured fraction of it.
func BenchmarkSyncThroughput(b *testing.B) {
	const (
		docs, concurrency, batch = 2048, 16, 32
		latency                  = 50 * time.Millisecond
	)
	files := map[string]string{}
	for i := range docs {
		files[fmt.Sprintf("d%05d.txt", i)] = fmt.Sprintf("Document %d. ", i) + strings.Repeat("A short policy sentence about fees. ", 4)
	}
	src := newMemSource(files)
	ideal := float64(concurrency*batch) / latency.Seconds()
	var chunks int
	var elapsed time.Duration
	for b.Loop() {
		store, err := localindex.Open(localindex.Options{})
		if err != nil {
			b.Fatal(err)
		}
		k, err := kb.New(kb.Options{Store: store, Embedder: latencyEmbedder{bedrockkittest.NewHashEmbedder(256), latency},
			Chunker: chunk.None{Tokenizer: chunk.Estimate}, BatchSize: batch, Concurrency: concurrency})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		rep, err := k.Sync(context.Background(), src)
		elapsed += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		chunks += rep.Chunks
		store.Close()
	}
	rate := float64(chunks) / elapsed.Seconds()
	b.ReportMetric(rate, "chunks/s")
	b.ReportMetric(rate/ideal, "x_ideal")
}
