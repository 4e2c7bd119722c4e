package chunk

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"unicode/utf8"
)

func benchDocs(b *testing.B) ([]string, int64) {
	var docs []string
	var n int64
	for _, dir := range []string{"net/http", "strings", "bytes"} {
		ents, _ := os.ReadDir(filepath.Join(runtime.GOROOT(), "src", dir))
		for _, e := range ents {
			t, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "src", dir, e.Name()))
			if err == nil && utf8.Valid(t) && !e.IsDir() {
				docs = append(docs, string(t))
				n += int64(len(t))
			}
		}
	}
	if len(docs) == 0 {
		b.Skip("no GOROOT sources")
	}
	return docs, n
}

func benchChunker(b *testing.B, c Chunker) {
	docs, n := benchDocs(b)
	CL100K().Count("warm up")
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		for _, d := range docs {
			if _, err := c.Chunk(context.Background(), Document{Text: d}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkFixedSize300(b *testing.B) { benchChunker(b, FixedSize{MaxTokens: 300}) }
func BenchmarkRecursiveChars1000(b *testing.B) {
	benchChunker(b, Recursive{MaxTokens: 1000, Tokenizer: Characters})
}
