package pdf

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"go.uber.org/goleak"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/chunk"
	"github.com/bedrockkit/bedrockkit/internal/hostiledoc"
	"github.com/bedrockkit/bedrockkit/kb"
)

// shared is one Loader for the package's tests: compiling the engine takes
// seconds (a minute under the race detector), so it is done once and kept
// in a cache directory that later runs on the machine reuse.
var shared *Loader

// testCacheDir is where the tests keep the compiled engine:
// $BEDROCKKIT_PDF_CACHE, or a directory in the system's temporary folder.
func testCacheDir() string {
	if d := os.Getenv("BEDROCKKIT_PDF_CACHE"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "bedrockkit-pdf-engine-cache")
}

func TestMain(m *testing.M) {
	shared = NewLoader(Options{CacheDir: testCacheDir()})
	code := m.Run()
	shared.Close()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			os.Stderr.WriteString("goleak: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}

func load(t testing.TB, l *Loader, data []byte) (chunk.ParsedDocument, error) {
	t.Helper()
	return l.Load(context.Background(), kb.SourceItem{URI: "mem:t.pdf", Name: "t.pdf"}, data)
}

func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
}

// recall is the share of want's words (with repeats) found in got.
func recall(want, got string) float64 {
	have := map[string]int{}
	for _, w := range words(got) {
		have[w]++
	}
	ww := words(want)
	n := 0
	for _, w := range ww {
		if have[w] > 0 {
			have[w]--
			n++
		}
	}
	return float64(n) / float64(len(ww))
}

func pages(doc chunk.ParsedDocument) []string {
	var out []string
	for i, off := range doc.Pages {
		end := len(doc.Text)
		if i+1 < len(doc.Pages) {
			end = doc.Pages[i+1]
		}
		out = append(out, doc.Text[off:end])
	}
	return out
}

// Real PDFs from four producers (LibreOffice, groff's gropdf, Ghostscript,
// and qpdf's object streams over LibreOffice's file): every page's text is
// found on that page, in order, with words separated.
func TestLoaderRealPDFs(t *testing.T) {
	abstracts, err := os.ReadFile("testdata/abstracts.txt")
	if err != nil {
		t.Fatal(err)
	}
	multi, err := os.ReadFile("testdata/multilingual.txt")
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{
		"libreoffice.pdf":   string(abstracts),
		"groff.pdf":         string(abstracts),
		"ghostscript.pdf":   string(abstracts),
		"objectstreams.pdf": string(abstracts),
		"multilingual.pdf":  string(multi),
	} {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile("testdata/" + file)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := load(t, shared, data)
			if err != nil {
				t.Fatal(err)
			}
			wantPages := strings.Split(want, "\f")
			got := pages(doc)
			if len(got) != len(wantPages) {
				t.Fatalf("%d pages, want %d", len(got), len(wantPages))
			}
			for i := range got {
				// Producers that hyphenate split a few words across lines.
				if r := recall(wantPages[i], got[i]); r < 0.98 {
					t.Errorf("page %d: %.3f of the words found\n got %q\nwant %q", i+1, r, got[i], wantPages[i])
				}
				if r := recall(got[i], wantPages[i]); r < 0.97 {
					t.Errorf("page %d: %.3f of the extracted words are the page's", i+1, r)
				}
			}
		})
	}
}

func TestLoaderMultilingualExact(t *testing.T) {
	data, err := os.ReadFile("testdata/multilingual.pdf")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := load(t, shared, data)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Les frais annuels de la carte Gold sont de 95 €.", "Η ετήσια χρέωση είναι 95 ευρώ.", "Годовая плата составляет 95 евро.", "Grüße aus Köln, Øresund, İstanbul."} {
		if !strings.Contains(doc.Text, s) {
			t.Errorf("text lacks %q:\n%s", s, doc.Text)
		}
	}
}

func TestLoaderRefusesNonPDF(t *testing.T) {
	for _, data := range [][]byte{nil, []byte("hello"), []byte("%PDF-"), []byte("%PDF-1.4\n%%EOF"), []byte("%PDF-1.4\n1 0 obj <<")} {
		_, err := load(t, shared, data)
		if !errors.Is(err, kb.ErrMalformedDocument) || !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Errorf("%q: %v", data, err)
		}
	}
}

// Files built to exhaust a parser's memory or time each fail alone, with
// a reason, and the engine goes on loading good files.
func TestLoaderHostile(t *testing.T) {
	good, err := os.ReadFile("testdata/libreoffice.pdf")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data []byte
		want error
	}{
		{"xref stream of two billion objects", hostiledoc.PDFXRefSize(), kb.ErrMalformedDocument},
		{"object stream extending itself", hostiledoc.PDFObjStmLoop(), kb.ErrMalformedDocument},
		{"page tree loop", hostiledoc.PDFPageTreeLoop(), kb.ErrMalformedDocument},
		{"content stream inflating to 8 GiB", hostiledoc.PDFFlateBomb(8), kb.ErrLoadMemory},
		{"array nested 100000 deep", hostiledoc.PDFDeepArray(100000), kb.ErrNoText},
		{"image of 10^10 pixels", hostiledoc.PDFHugeImage(), kb.ErrNoText},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := load(t, shared, c.data)
			if !errors.Is(err, c.want) || !errors.Is(err, bedrockkit.ErrInvalidInput) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if doc, err := load(t, shared, good); err != nil || len(doc.Pages) != 3 {
				t.Fatalf("a good file after it: %d pages, %v", len(doc.Pages), err)
			}
		})
	}
}

// A small memory budget turns a large page into kb.ErrLoadMemory, not a
// crash.
func TestLoaderMemoryBudget(t *testing.T) {
	l := NewLoader(Options{MaxMemoryBytes: 48 << 20, CacheDir: testCacheDir()})
	defer l.Close()
	_, err := load(t, l, hostiledoc.PDFManyOps(400_000))
	if !errors.Is(err, kb.ErrLoadMemory) {
		t.Fatalf("got %v, want ErrLoadMemory", err)
	}
	if !strings.Contains(err.Error(), "MaxMemoryBytes") {
		t.Errorf("the message does not say what to raise: %v", err)
	}
}

// A deadline stops the engine in the middle of a page.
func TestLoaderDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := shared.Load(ctx, kb.SourceItem{Name: "slow.pdf"}, hostiledoc.PDFManyOps(1_000_000))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the deadline", err)
	}
	good, _ := os.ReadFile("testdata/groff.pdf")
	if _, err := load(t, shared, good); err != nil {
		t.Fatalf("a good file after a killed one: %v", err)
	}
}

func TestLoaderTextLimit(t *testing.T) {
	data, _ := os.ReadFile("testdata/libreoffice.pdf")
	ctx := kb.WithLoadLimits(context.Background(), kb.LoadLimits{MaxTextBytes: 1500})
	_, err := shared.Load(ctx, kb.SourceItem{Name: "t.pdf"}, data)
	if !errors.Is(err, kb.ErrTextTooLarge) {
		t.Fatalf("got %v, want ErrTextTooLarge", err)
	}
}

func TestLoaderClosed(t *testing.T) {
	l := NewLoader(Options{})
	l.Close()
	if _, err := load(t, l, []byte("%PDF-1.4\n")); !errors.Is(err, ErrEngine) {
		t.Fatalf("closed loader: %v", err)
	}
}
