package kb

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
)

func TestMemorySource(t *testing.T) {
	var s MemorySource // the zero value is ready
	data := []byte("# FAQ")
	md := map[string]any{"k": "v"}
	if err := s.Put(MemoryDocument{URI: "mem:b/faq.md", Data: data, Metadata: md}); err != nil {
		t.Fatal(err)
	}
	data[0], md["k"] = 'X', "changed" // Put copied both
	s.Put(MemoryDocument{URI: "mem:a", Name: "a.txt", Data: []byte("A")})
	if err := s.Put(MemoryDocument{}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("empty URI: %v", err)
	}
	lines, items, err := listing(t, &s)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"mem:a a.txt 1", "mem:b/faq.md faq.md 5"}; !reflect.DeepEqual(lines, want) {
		t.Fatalf("got %q", lines)
	}
	if text, err := readItem(t, items[1]); err != nil || text != "# FAQ" || items[1].Metadata["k"] != "v" {
		t.Fatalf("faq: %q %v %v", text, err, items[1].Metadata)
	}
	if !s.Delete("mem:a") || s.Delete("mem:a") || s.Len() != 1 {
		t.Fatal("Delete")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, err := range s.Items(ctx) {
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled: %v", err)
		}
	}
	// A document without a URI is refused: listing fails with the reason,
	// before any document, so a Sync of the source fails closed (it does
	// not take the missing document as deleted).
	bad := NewMemorySource(MemoryDocument{URI: "mem:a", Data: []byte("a")}, MemoryDocument{Data: []byte("x")})
	n := 0
	for it, err := range bad.Items(context.Background()) {
		if err == nil {
			t.Fatalf("listed %q from a source with a document without URI", it.URI)
		}
		if !errors.Is(err, bedrockkit.ErrInvalidInput) || !strings.Contains(err.Error(), "URI is empty") {
			t.Fatalf("listing error %v; want ErrInvalidInput saying the URI is empty", err)
		}
		n++
	}
	if n != 1 {
		t.Fatalf("%d errors; want 1", n)
	}
}
