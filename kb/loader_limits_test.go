package kb

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/internal/hostiledoc"
)

// allocated runs f and returns the bytes it allocated (garbage included).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Every loader stops at the limits, whatever the file does to reach them,
// with an error that says which limit, and without first building what it
// refuses.
func TestLoaderLimits(t *testing.T) {
	small := WithLoadLimits(context.Background(), LoadLimits{MaxTextBytes: 1 << 20})
	bg := context.Background()
	for _, c := range []struct {
		name     string
		loader   Loader
		ctx      context.Context
		data     []byte
		want     error
		maxAlloc uint64
	}{
		{"DOCX nested 100000 deep", DOCXLoader{}, bg, hostiledoc.DOCXDeep(100_000), ErrTooComplex, 64 << 20},
		{"DOCX of 300000 elements over MaxElements", DOCXLoader{MaxElements: 100_000}, bg, hostiledoc.DOCXManyElements(300_000), ErrTooComplex, 64 << 20},
		{"DOCX member inflating past MaxXMLBytes", DOCXLoader{MaxXMLBytes: 1 << 20}, bg, hostiledoc.DOCXTextBomb(8), ErrTooComplex, 32 << 20},
		{"DOCX text over MaxTextBytes", DOCXLoader{}, small, hostiledoc.DOCXTextBomb(8), ErrTextTooLarge, 32 << 20},
		{"DOCX of 100000 headings", DOCXLoader{}, small, hostiledoc.DOCXManyHeadings(100_000), ErrTextTooLarge, 128 << 20},
		{"DOCX tag of 400000 attributes", DOCXLoader{}, bg, hostiledoc.DOCXManyAttributes(400_000), ErrTooComplex, 64 << 20},
		{"JSON long key over many leaves", JSONLoader{}, small, hostiledoc.JSONLongKeys(10_000, 2_000), ErrTextTooLarge, 16 << 20},
		{"JSON nested 100000 deep", JSONLoader{}, bg, hostiledoc.JSONDeep(100_000), ErrTooComplex, 64 << 20},
		{"JSON pretty nested 5000 deep", JSONLoader{Pretty: true, MaxDepth: 10_000}, small, hostiledoc.JSONDeep(5_000), ErrTextTooLarge, 16 << 20},
		{"JSON Lines nested too deep", JSONLoader{Lines: true}, bg, hostiledoc.JSONDeep(2_000), ErrTooComplex, 16 << 20},
		{"CSV record of 2000000 fields", CSVLoader{}, bg, hostiledoc.CSVWideRecord(2_000_000), ErrTooComplex, 24 << 20},
		{"CSV long header over many rows", CSVLoader{}, small, hostiledoc.CSVLongHeader(100, 1000, 1000), ErrTextTooLarge, 16 << 20},
		{"HTML of 1000000 list items", HTMLLoader{}, small, hostiledoc.HTMLListBomb(1_000_000), ErrTextTooLarge, 32 << 20},
		{"Markdown of 100000 headings", MarkdownLoader{}, small, hostiledoc.MarkdownHeadings(100_000), ErrTextTooLarge, 32 << 20},
		{"text over MaxTextBytes", TextLoader{}, small, []byte(strings.Repeat("a", 2<<20)), ErrTextTooLarge, 16 << 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			var err error
			n := allocated(func() {
				_, err = c.loader.Load(c.ctx, SourceItem{URI: "mem:x", Name: "x"}, c.data)
			})
			if !errors.Is(err, c.want) || !errors.Is(err, ErrLoadLimit) || !errors.Is(err, bedrockkit.ErrInvalidInput) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if n > c.maxAlloc {
				t.Errorf("allocated %d MiB for a %d KiB file; the bound is %d MiB", n>>20, len(c.data)>>10, c.maxAlloc>>20)
			}
		})
	}
}

// Structure that costs nothing to stream stays accepted, in bounded memory.
func TestLoaderLimitsAccept(t *testing.T) {
	for _, c := range []struct {
		name     string
		loader   Loader
		data     []byte
		want     string
		maxAlloc uint64
	}{
		{"HTML nested 100000 divs", HTMLLoader{}, hostiledoc.HTMLDeep(100_000), "deep text", 32 << 20},
		{"JSON key path of 1 MB", JSONLoader{}, hostiledoc.JSONDeepKeys(100, 10_000), ": 1", 16 << 20},
		{"JSON Lines of 10000000 blank lines", JSONLoader{Lines: true}, hostiledoc.JSONLinesBlank(10_000_000), "", 48 << 20},
		{"DOCX nested 200 deep", DOCXLoader{}, hostiledoc.DOCXDeep(200), "deep", 16 << 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			var (
				text string
				err  error
			)
			n := allocated(func() {
				var d = struct{ Text string }{}
				doc, e := c.loader.Load(context.Background(), SourceItem{URI: "mem:x", Name: "x"}, c.data)
				d.Text, err = doc.Text, e
				text = d.Text
			})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text, c.want) {
				t.Fatalf("text %.200q lacks %q", text, c.want)
			}
			if n > c.maxAlloc {
				t.Errorf("allocated %d MiB for a %d KiB file; the bound is %d MiB", n>>20, len(c.data)>>10, c.maxAlloc>>20)
			}
		})
	}
}

// A cancelled context stops every loader inside its loop.
func TestLoadersStopOnCancelMidway(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, c := range map[string]struct {
		l    Loader
		data []byte
	}{
		"docx": {DOCXLoader{}, hostiledoc.DOCXManyElements(50_000)},
		"json": {JSONLoader{}, hostiledoc.JSONLongKeys(1, 50_000)},
		"csv":  {CSVLoader{}, hostiledoc.CSVLongHeader(2, 1, 50_000)},
		"html": {HTMLLoader{}, hostiledoc.HTMLListBomb(50_000)},
	} {
		if _, err := c.l.Load(ctx, SourceItem{Name: "x"}, c.data); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
