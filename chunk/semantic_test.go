package chunk

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

// topicEmbedder embeds a text as the unit vector of its topic: texts that
// mention "cat" point one way, "car" another, anything else a third. It
// records the batches it was given.
type topicEmbedder struct{ calls [][]string }

func (e *topicEmbedder) Dimensions() int { return 3 }

func (e *topicEmbedder) Embed(_ context.Context, texts []string, _ bedrockkit.Purpose) ([][]float32, error) {
	e.calls = append(e.calls, texts)
	out := make([][]float32, len(texts))
	for i, t := range texts {
		switch {
		case strings.Contains(t, "cat"):
			out[i] = []float32{1, 0, 0}
		case strings.Contains(t, "car"):
			out[i] = []float32{0, 1, 0}
		default:
			out[i] = []float32{0, 0, 1}
		}
	}
	return out, nil
}

func TestSemanticScriptedBreakpoints(t *testing.T) {
	text := "The cat sleeps. The cat eats. The cat purrs. The car starts. The car stops. " +
		"Rain falls. Rain stops. The cat returns."
	emb := &topicEmbedder{}
	// 8 sentences, 7 gaps, 3 of which change topic (distance 1, the others 0).
	// Percentile 58: round(7*0.42) = 3 breakpoints, exactly the topic changes.
	cs, err := Semantic{Embedder: emb, BreakpointPercentile: 58, BatchSize: 3}.Chunk(context.Background(), ParsedDocument{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cs {
		got = append(got, c.Text)
	}
	want := []string{"The cat sleeps. The cat eats. The cat purrs.", "The car starts. The car stops.", "Rain falls. Rain stops.", "The cat returns."}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("chunks\n got %q\nwant %q", got, want)
	}
	if len(emb.calls) != 3 || len(emb.calls[0]) != 3 || len(emb.calls[2]) != 2 {
		t.Fatalf("embedding batches: %d calls %v", len(emb.calls), emb.calls)
	}
	check(t, ParsedDocument{Text: text}, cs, nil, DefaultMaxTokens, 0)
}

func TestSemanticBufferAndResplit(t *testing.T) {
	text := strings.Repeat("The cat sleeps on the warm mat all day long. ", 40)
	emb := &topicEmbedder{}
	cs, err := Semantic{Embedder: emb, BufferSize: 1, BreakpointPercentile: 90, MaxTokens: 50}.Chunk(context.Background(), ParsedDocument{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) < 5 {
		t.Fatalf("oversize piece not re-split: %d chunks", len(cs))
	}
	check(t, ParsedDocument{Text: text}, cs, nil, 50, 0)
	// With buffer 1, the second text embedded holds three sentences.
	if g := emb.calls[0][1]; strings.Count(g, "The cat") != 3 {
		t.Fatalf("buffered group %q", g)
	}
}

func TestSemanticHashEmbedder(t *testing.T) {
	text := "Go programs use goroutines and channels. Go programs use channels and goroutines often. Go programs use goroutines. " +
		"Bread dough needs flour and water. Bread dough needs water and flour. Bread dough rises."
	// 6 sentences, 5 gaps; percentile 80 gives one breakpoint: the topic change.
	cs, err := Semantic{Embedder: bedrockkittest.NewHashEmbedder(256), BreakpointPercentile: 80, MaxTokens: 100}.Chunk(context.Background(), ParsedDocument{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	check(t, ParsedDocument{Text: text}, cs, nil, 100, 0)
	if len(cs) < 2 {
		t.Fatalf("no breakpoint found: %+v", cs)
	}
	// The switch from Go to bread is one of the least similar pairs.
	found := false
	for _, c := range cs {
		if strings.HasPrefix(c.Text, "Bread dough needs flour") {
			found = true
		}
	}
	if !found {
		var got []string
		for _, c := range cs {
			got = append(got, c.Text)
		}
		t.Fatalf("no chunk starts at the topic change: %q", got)
	}
}

type failingEmbedder struct{}

func (failingEmbedder) Dimensions() int { return 1 }
func (failingEmbedder) Embed(context.Context, []string, bedrockkit.Purpose) ([][]float32, error) {
	return nil, bedrockkit.ErrThrottled
}

func TestSemanticErrors(t *testing.T) {
	ctx := context.Background()
	doc := ParsedDocument{Text: "One. Two. Three."}
	if _, err := (Semantic{Embedder: failingEmbedder{}}).Chunk(ctx, doc); !errors.Is(err, bedrockkit.ErrThrottled) {
		t.Fatalf("embedder error not wrapped: %v", err)
	}
	for _, s := range []Semantic{{}, {Embedder: failingEmbedder{}, BufferSize: 2}, {Embedder: failingEmbedder{}, BreakpointPercentile: 49}, {Embedder: failingEmbedder{}, MaxTokens: -1}} {
		if _, err := s.Chunk(ctx, doc); !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Errorf("%+v: got %v, want ErrInvalidInput", s, err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := (Semantic{Embedder: &topicEmbedder{}}).Chunk(cctx, doc); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
}

func FuzzSemantic(f *testing.F) {
	emb := bedrockkittest.NewHashEmbedder(16)
	fuzzStrategy(f, func(t *testing.T, text string, a, b uint8) {
		s := Semantic{Embedder: emb, BufferSize: int(b) % 2, BreakpointPercentile: 50 + int(b)%50, MaxTokens: 1 + int(a)%64}
		cs, err := s.Chunk(context.Background(), ParsedDocument{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		check(t, ParsedDocument{Text: text}, cs, nil, s.MaxTokens, 0)
	})
}
