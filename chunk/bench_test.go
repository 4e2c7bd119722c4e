package chunk

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"unicode/utf8"
)

// benchDocs reads Go source files from GOROOT/src/net/http, strings and
// bytes.
func benchDocs(b *testing.B) ([]string, int64) {
	return readDocs(b, "src/net/http", "src/strings", "src/bytes")
}

// readDocs reads the files of the given GOROOT directories.
func readDocs(b *testing.B, dirs ...string) ([]string, int64) {
	var docs []string
	var n int64
	for _, dir := range dirs {
		ents, _ := os.ReadDir(filepath.Join(runtime.GOROOT(), dir))
		for _, e := range ents {
			t, err := os.ReadFile(filepath.Join(runtime.GOROOT(), dir, e.Name()))
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
	benchChunkDocs(b, c, docs, n)
}

func benchChunkDocs(b *testing.B, c Chunker, docs []string, n int64) {
	CL100K().Count("warm up")
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		for _, d := range docs {
			if _, err := c.Chunk(context.Background(), ParsedDocument{Text: d}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkFixedSize300(b *testing.B) { benchChunker(b, FixedSize{MaxTokens: 300}) }
func BenchmarkRecursiveChars1000(b *testing.B) {
	benchChunker(b, Recursive{MaxTokens: 1000, Tokenizer: Characters})
}

// BenchmarkRecursiveChars1000API chunks GOROOT/api: line-oriented text
// without blank lines, the worst case for looking back from a window's end.
func BenchmarkRecursiveChars1000API(b *testing.B) {
	docs, n := readDocs(b, "api")
	benchChunkDocs(b, Recursive{MaxTokens: 1000, Tokenizer: Characters}, docs, n)
}

func BenchmarkRecursive300(b *testing.B) { benchChunker(b, Recursive{}) }
