package bedrockkittest

import (
	"context"
	"errors"
	"hash/fnv"
	"math"
	"testing"

	"github.com/bedrockkit/bedrockkit"
)

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return dot / math.Sqrt(na*nb)
}

func TestHashEmbedderStableAndUnit(t *testing.T) {
	e := NewHashEmbedder(64)
	v := e.Vector("The quick brown fox")
	// Pinned values: these must never change, or stored test fixtures built
	// with the kit would silently stop matching.
	want := NewHashEmbedder(64).Vector("the QUICK brown fox!")
	for i := range v {
		if v[i] != want[i] {
			t.Fatalf("case/punctuation changed the vector at %d", i)
		}
	}
	for _, text := range []string{"", "   ", "!!!", "hello", "Ünïcödé straße 東京"} {
		var n float64
		for _, x := range e.Vector(text) {
			n += float64(x) * float64(x)
		}
		if math.Abs(n-1) > 1e-5 {
			t.Errorf("|v(%q)|² = %v, want 1", text, n)
		}
	}
	if cosine(e.Vector(""), e.Vector(" \t")) < 0.9999 {
		t.Error("empty and white-space texts should share the fixed vector")
	}
	if cosine(e.Vector("???"), e.Vector("!!!")) > 0.5 {
		t.Error("different punctuation-only texts should differ")
	}
}

// TestHashEmbedderPinned guards cross-process stability: the vector of a
// fixed text is compared with values computed once and written here.
func TestHashEmbedderPinned(t *testing.T) {
	v := NewHashEmbedder(8).Vector("hello world")
	got := [8]float32(v)
	if got != pinnedHelloWorld8 {
		t.Fatalf("Vector(\"hello world\") with 8 dims = %#v; the hashing changed", got)
	}
}

func TestHashEmbedderSimilarity(t *testing.T) {
	e := NewHashEmbedder(1024)
	q := e.Vector("How do I reset my password?")
	near := e.Vector("Steps to reset your password")
	far := e.Vector("Quarterly revenue grew in the European market")
	if cn, cf := cosine(q, near), cosine(q, far); cn <= cf+0.2 {
		t.Fatalf("cos(near)=%.3f cos(far)=%.3f: similar texts should score clearly higher", cn, cf)
	}
	// Inflections share character 3-grams.
	c, u := cosine(e.Vector("embedding"), e.Vector("embeddings")), cosine(e.Vector("embedding"), e.Vector("saxophone"))
	if c < 0.4 || u > 0.2 {
		t.Errorf("cos(embedding, embeddings) = %.3f (want >= 0.4), cos(embedding, saxophone) = %.3f (want <= 0.2)", c, u)
	}
}

func TestHashEmbedderEmbed(t *testing.T) {
	e := NewHashEmbedder(16)
	if e.Dimensions() != 16 {
		t.Fatal(e.Dimensions())
	}
	vs, err := e.Embed(context.Background(), []string{"a", "b"}, bedrockkit.PurposeQuery)
	if err != nil || len(vs) != 2 || len(vs[0]) != 16 {
		t.Fatalf("%v %v", vs, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Embed(ctx, []string{"a"}, bedrockkit.PurposeDocument); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	var zero HashEmbedder
	if _, err := zero.Embed(context.Background(), []string{"a"}, 0); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("zero value err = %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("NewHashEmbedder(0) did not panic")
		}
	}()
	NewHashEmbedder(0)
}

func FuzzHashEmbedder(f *testing.F) {
	f.Add("hello world", 7)
	f.Add("", 1)
	f.Add("\xff\xfe invalid utf8", 3)
	f.Fuzz(func(t *testing.T, text string, dims int) {
		dims = 1 + (dims&0xffff)%512
		v := NewHashEmbedder(dims).Vector(text)
		var n float64
		for _, x := range v {
			if math.IsNaN(float64(x)) {
				t.Fatal("NaN")
			}
			n += float64(x) * float64(x)
		}
		if len(v) != dims || math.Abs(n-1) > 1e-4 {
			t.Fatalf("len=%d norm²=%v", len(v), n)
		}
	})
}

// pinnedHelloWorld8 was computed once by this implementation (golden value).
var pinnedHelloWorld8 = [8]float32{-0.18158862, -0.18158862, -0.51882464, -0.18158862, 0.18158862, -0.5447659, 0.51882464, -0.18158862}

func TestFNV1aMatchesStdlib(t *testing.T) {
	for _, s := range []string{"", "a", "w\x00hello", "東京"} {
		h := fnv.New64a()
		h.Write([]byte(s))
		if got, want := fnv1a(s), h.Sum64(); got != want {
			t.Errorf("fnv1a(%q) = %x, want %x", s, got, want)
		}
	}
}
