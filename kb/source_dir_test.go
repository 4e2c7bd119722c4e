package kb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

// listing is what a Source yielded, one line per item: "URI name size" or
// "ERR URI reason".
func listing(t *testing.T, src Source) ([]string, []SourceItem, error) {
	t.Helper()
	var (
		lines []string
		items []SourceItem
	)
	for item, err := range src.Items(context.Background()) {
		if err != nil {
			var ie *ItemError
			if !errors.As(err, &ie) {
				return lines, items, err
			}
			lines = append(lines, "ERR "+ie.URI)
			continue
		}
		lines = append(lines, fmt.Sprintf("%s %s %d", item.URI, item.Name, item.Size))
		items = append(items, item)
	}
	return lines, items, nil
}

func readItem(t *testing.T, item SourceItem) (string, error) {
	t.Helper()
	rc, err := item.Open(context.Background())
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	return string(b), err
}

func testFS() fstest.MapFS {
	return fstest.MapFS{
		"policies/fees.md":                     {Data: []byte("# Fees\nAnnual fee 95.")},
		"policies/fees.md.metadata.json":       {Data: []byte(`{"metadataAttributes": {"year": 2024, "tags": ["fees"]}}`)},
		"policies/cards.txt":                   {Data: []byte("Lost cards.")},
		"policies/cards.txt.metadata.json":     {Data: []byte(`{"metadataAttributes": {"year": null}}`)},
		"policies/sub/deep.html":               {Data: []byte("<p>deep</p>")},
		"big.txt":                              {Data: []byte(strings.Repeat("x", 100))},
		"orphan.pdf.metadata.json":             {Data: []byte(`{"metadataAttributes": {}}`)},
		".hidden/secret.txt":                   {Data: []byte("s")},
		".DS_Store":                            {Data: []byte("junk")},
		"a.txt":                                {Data: []byte("a")},
		"a.txt.metadata.json.metadata.json":    {Data: []byte("{}")},
		"huge-sidecar.txt":                     {Data: []byte("h")},
		"huge-sidecar.txt.metadata.json":       {Data: []byte(strings.Repeat(" ", MaxMetadataSize+1))},
		"policies/sub/deep.html.metadata.json": {Data: []byte(`{"metadataAttributes": {"deep": true}}`)},
	}
}

func TestFSSource(t *testing.T) {
	src := &FSSource{FS: testFS(), MaxSize: 50}
	lines, items, err := listing(t, src)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"file:a.txt a.txt 1",
		"ERR file:big.txt",
		"ERR file:huge-sidecar.txt",
		"ERR file:policies/cards.txt",
		"file:policies/fees.md fees.md 21",
		"file:policies/sub/deep.html deep.html 11",
	}
	if !reflect.DeepEqual(lines, want) {
		t.Fatalf("listing\n got %q\nwant %q", lines, want)
	}
	if got := items[1].Metadata; !reflect.DeepEqual(got, map[string]any{"year": 2024.0, "tags": []string{"fees"}}) {
		t.Fatalf("fees.md metadata %#v", got)
	}
	if items[0].Metadata != nil {
		t.Fatalf("a.txt has metadata %v", items[0].Metadata)
	}
	if text, err := readItem(t, items[1]); err != nil || text != "# Fees\nAnnual fee 95." {
		t.Fatalf("Open: %q %v", text, err)
	}

	// The reasons are clear and typed.
	errs := map[string]error{}
	for _, err := range src.Items(context.Background()) {
		var ie *ItemError
		if errors.As(err, &ie) {
			errs[ie.URI] = ie
		}
	}
	if err := errs["file:big.txt"]; !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "100 bytes is over the limit of 50") {
		t.Errorf("big.txt: %v", err)
	}
	if err := errs["file:policies/cards.txt"]; !errors.Is(err, ErrInvalidMetadata) || !strings.Contains(err.Error(), "cards.txt.metadata.json") || !strings.Contains(err.Error(), "null") {
		t.Errorf("cards.txt: %v", err)
	}
	if err := errs["file:huge-sidecar.txt"]; !errors.Is(err, ErrInvalidMetadata) || !strings.Contains(err.Error(), "10 KB") {
		t.Errorf("huge-sidecar.txt: %v", err)
	}

	// Hidden files on request; Root and URIPrefix.
	lines, _, _ = listing(t, &FSSource{FS: testFS(), IncludeHidden: true, Root: ".hidden", URIPrefix: "kb://x/"})
	if !reflect.DeepEqual(lines, []string{"kb://x/secret.txt secret.txt 1"}) {
		t.Fatalf("hidden %q", lines)
	}
}

func TestFSSourceDeterministic(t *testing.T) {
	a, _, _ := listing(t, &FSSource{FS: testFS()})
	for range 5 {
		b, _, _ := listing(t, &FSSource{FS: testFS()})
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("order changed:\n%q\n%q", a, b)
		}
	}
}

// failFS fails ReadDir of one directory and Open of one file.
type failFS struct {
	fstest.MapFS
	badDir, badFile string
}

func (f failFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if name == f.badDir {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrPermission}
	}
	return f.MapFS.ReadDir(name)
}

func (f failFS) Open(name string) (fs.File, error) {
	if name == f.badFile || name == f.badDir {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return f.MapFS.Open(name)
}

func TestFSSourceFailuresAlone(t *testing.T) {
	fsys := failFS{MapFS: fstest.MapFS{
		"locked/x.txt":  {Data: []byte("x")},
		"ok/unread.txt": {Data: []byte("u")},
		"ok/y.txt":      {Data: []byte("y")},
	}, badDir: "locked", badFile: "ok/unread.txt"}
	lines, items, err := listing(t, &FSSource{FS: fsys})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ERR file:locked/", "file:ok/unread.txt unread.txt 1", "file:ok/y.txt y.txt 1"}; !reflect.DeepEqual(lines, want) {
		t.Fatalf("got %q want %q", lines, want)
	}
	if _, err := readItem(t, items[0]); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("unreadable file: %v", err)
	}
	if text, err := readItem(t, items[1]); err != nil || text != "y" {
		t.Fatalf("y.txt: %q %v", text, err)
	}

	// An unreadable root ends the listing with a non-item error.
	_, _, err = listing(t, &FSSource{FS: fsys, Root: "locked"})
	var ie *ItemError
	if err == nil || errors.As(err, &ie) || !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("root error = %v", err)
	}
	_, _, err = listing(t, &FSSource{FS: fsys, Root: "../x"})
	if err == nil {
		t.Fatal("invalid root accepted")
	}
	_, _, err = listing(t, &FSSource{})
	if err == nil {
		t.Fatal("nil FS accepted")
	}
}

func TestFSSourceCancelAndBreak(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	var last error
	for _, err := range (&FSSource{FS: testFS()}).Items(ctx) {
		n++
		cancel()
		last = err
	}
	if !errors.Is(last, context.Canceled) || n != 2 {
		t.Fatalf("after cancel: %d yields, last %v", n, last)
	}
	n = 0
	for range (&FSSource{FS: testFS()}).Items(context.Background()) {
		n++
		break
	}
	if n != 1 {
		t.Fatal("break did not stop the listing")
	}
	// Open honours its context too.
	for item, err := range (&FSSource{FS: testFS()}).Items(context.Background()) {
		if err == nil {
			if _, err := item.Open(ctx); !errors.Is(err, context.Canceled) {
				t.Fatalf("Open with cancelled ctx: %v", err)
			}
			break
		}
	}
}

func TestLimitedReaderGrownFile(t *testing.T) {
	rc := limitReadCloser(context.Background(), io.NopCloser(strings.NewReader(strings.Repeat("x", 20))), 10)
	b, err := io.ReadAll(rc)
	if !errors.Is(err, ErrTooLarge) || len(b) > 11 {
		t.Fatalf("read %d bytes, err %v", len(b), err)
	}
	rc = limitReadCloser(context.Background(), io.NopCloser(strings.NewReader(strings.Repeat("x", 10))), 10)
	if b, err := io.ReadAll(rc); err != nil || len(b) != 10 {
		t.Fatalf("exact size: %d %v", len(b), err)
	}
}

func TestDirSource(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "docs"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "docs", "b.md"), []byte("# B"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "docs", "b.md.metadata.json"), []byte(`{"metadataAttributes":{"k":"v"}}`), 0o644))
	must(os.WriteFile(filepath.Join(dir, "a.txt"), []byte("A"), 0o644))
	// Links are reported, not followed, unless FollowSymlinks is set; then
	// a link inside the folder is followed and a loop is reported.
	must(os.Symlink("a.txt", filepath.Join(dir, "link.txt")))
	must(os.Symlink(".", filepath.Join(dir, "loop")))
	lines, items, err := listing(t, NewDirSource(dir))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"file:a.txt a.txt 1", "file:docs/b.md b.md 3", "ERR file:link.txt", "ERR file:loop"}; !reflect.DeepEqual(lines, want) {
		t.Fatalf("got %q want %q", lines, want)
	}
	if items[1].Metadata["k"] != "v" {
		t.Fatalf("metadata %v", items[1].Metadata)
	}
	src := NewDirSource(dir)
	src.FollowSymlinks = true
	lines, items, err = listing(t, src)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"file:a.txt a.txt 1", "file:docs/b.md b.md 3", "file:link.txt link.txt 1", "ERR file:loop"}; !reflect.DeepEqual(lines, want) {
		t.Fatalf("following: got %q want %q", lines, want)
	}
	if text, err := readItem(t, items[2]); err != nil || text != "A" {
		t.Fatalf("link: %q %v", text, err)
	}
	if _, _, err := listing(t, NewDirSource(filepath.Join(dir, "missing"))); err == nil {
		t.Fatal("a missing folder listed without error")
	}
}

// An fs.FS that can read links (os.DirFS) is followed only inside.
func TestFSSourceLinksOverDirFS(t *testing.T) {
	root := linkTree(t)
	src := &FSSource{FS: os.DirFS(root), FollowSymlinks: true}
	ok, failed := itemErrors(t, src)
	if want := []string{"file:a.txt", "file:d.txt", "file:in-dir/b.md", "file:in-file.txt", "file:sub/b.md"}; !reflect.DeepEqual(ok, want) {
		t.Fatalf("listed %q, want %q", ok, want)
	}
	for _, uri := range []string{"file:abs-file", "file:rel-file", "file:abs-dir", "file:rel-dir", "file:c.txt"} {
		if err := failed[uri]; !errors.Is(err, ErrOutsideRoot) {
			t.Errorf("%s: %v, want ErrOutsideRoot", uri, err)
		}
	}
	ok, _ = itemErrors(t, &FSSource{FS: os.DirFS(root)})
	if want := []string{"file:a.txt", "file:sub/b.md"}; !reflect.DeepEqual(ok, want) {
		t.Fatalf("not following: listed %q, want %q", ok, want)
	}
}
