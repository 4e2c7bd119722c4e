package pdf_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/bedrockkit/bedrockkit/internal/hostiledoc"
	"github.com/bedrockkit/bedrockkit/internal/hostilesync"
	"github.com/bedrockkit/bedrockkit/kb/pdf"
)

// A folder of good documents next to hostile PDFs, DOCX, JSON, CSV and
// Markdown files syncs to the end: every good document is indexed and
// found, every hostile one fails alone with the error of its class. Here
// the hostile files are scaled down, with the limits to match, so the race
// detector can run it; CI syncs the full-size ones under a 2 GiB
// address-space limit (.ci/hostile.sh).
func TestSyncHostileFolder(t *testing.T) {
	cache := os.Getenv("BEDROCKKIT_PDF_CACHE")
	if cache == "" {
		cache = filepath.Join(os.TempDir(), "bedrockkit-pdf-engine-cache")
	}
	res, err := hostilesync.Run(context.Background(), hostilesync.Options{
		Dir:   t.TempDir(),
		PDF:   pdf.NewLoader(pdf.Options{CacheDir: cache, MaxMemoryBytes: hostiledoc.SmallMaxMemoryBytes}),
		Small: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	o := res.Report.OverLimit
	if o.Memory == 0 || o.Structure == 0 || o.Text == 0 {
		t.Errorf("limit counts %+v: every class should be counted", o)
	}
}
