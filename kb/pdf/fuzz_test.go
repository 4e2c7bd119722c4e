package pdf

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/internal/hostiledoc"
	"github.com/bedrockkit/bedrockkit/kb"
)

// FuzzLoader checks the loader contract on arbitrary bytes: no panic and
// no hang (a deadline bounds each input), and either an error wrapping
// bedrockkit.ErrInvalidInput (or the deadline) or valid UTF-8 text with
// page offsets in order inside it.
func FuzzLoader(f *testing.F) {
	good, _ := os.ReadFile("testdata/groff.pdf")
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(hostiledoc.PDFText([]string{"Fees", "Annual (95) USD"}, []string{"Page two"}))
	f.Add(hostiledoc.PDFXRefSize())
	f.Add(hostiledoc.PDFObjStmLoop())
	f.Add(hostiledoc.PDFPageTreeLoop())
	f.Add(hostiledoc.PDFDeepArray(1000))
	f.Add(hostiledoc.PDFHugeImage())
	f.Add([]byte("%PDF-1.4\n%%EOF"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		doc, err := shared.Load(ctx, kb.SourceItem{Name: "f.pdf"}, data)
		if err != nil {
			if !errors.Is(err, bedrockkit.ErrInvalidInput) && !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error wraps neither ErrInvalidInput nor the deadline: %v", err)
			}
			return
		}
		if !utf8.ValidString(doc.Text) {
			t.Fatalf("text is not valid UTF-8: %q", doc.Text)
		}
		prev := 0
		for i, p := range doc.Pages {
			if p < prev || p > len(doc.Text) {
				t.Fatalf("Pages[%d]=%d out of order or outside the text: %v", i, p, doc.Pages)
			}
			prev = p
		}
	})
}
