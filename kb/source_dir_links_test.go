package kb

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// linkTree builds a folder with every kind of symbolic link next to a
// secret outside it:
//
//	outside/secret.txt, outside/dir/inner.txt     (not in the source)
//	root/a.txt, root/sub/b.md (+ sidecar)
//	root/abs-file   -> outside/secret.txt   (absolute)
//	root/rel-file   -> ../outside/secret.txt
//	root/abs-dir    -> outside/dir
//	root/rel-dir    -> ../outside/dir
//	root/in-file.txt -> a.txt
//	root/in-dir     -> sub
//	root/loop       -> .
//	root/sub/up     -> ..
//	root/dangling.txt -> nowhere.txt
//	root/c.txt (sidecar c.txt.metadata.json -> outside/secret.md.json)
//	root/d.txt (sidecar d.txt.metadata.json -> sub/b.md.metadata.json)
func linkTree(t *testing.T) (root string) {
	t.Helper()
	base := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	out, root := filepath.Join(base, "outside"), filepath.Join(base, "root")
	must(os.MkdirAll(filepath.Join(out, "dir"), 0o755))
	must(os.MkdirAll(filepath.Join(root, "sub"), 0o755))
	must(os.WriteFile(filepath.Join(out, "secret.txt"), []byte("root:x:0:0:SECRET"), 0o644))
	must(os.WriteFile(filepath.Join(out, "dir", "inner.txt"), []byte("SECRET inner"), 0o644))
	must(os.WriteFile(filepath.Join(out, "secret.md.json"), []byte(`{"metadataAttributes":{"leak":"SECRET"}}`), 0o644))
	must(os.WriteFile(filepath.Join(root, "a.txt"), []byte("A"), 0o644))
	must(os.WriteFile(filepath.Join(root, "sub", "b.md"), []byte("# B"), 0o644))
	must(os.WriteFile(filepath.Join(root, "sub", "b.md.metadata.json"), []byte(`{"metadataAttributes":{"k":"v"}}`), 0o644))
	must(os.WriteFile(filepath.Join(root, "c.txt"), []byte("C"), 0o644))
	must(os.WriteFile(filepath.Join(root, "d.txt"), []byte("D"), 0o644))
	for link, target := range map[string]string{
		"abs-file":            filepath.Join(out, "secret.txt"),
		"rel-file":            "../outside/secret.txt",
		"abs-dir":             filepath.Join(out, "dir"),
		"rel-dir":             "../outside/dir",
		"in-file.txt":         "a.txt",
		"in-dir":              "sub",
		"loop":                ".",
		"sub/up":              "..",
		"dangling.txt":        "nowhere.txt",
		"c.txt.metadata.json": filepath.Join(out, "secret.md.json"),
		"d.txt.metadata.json": "sub/b.md.metadata.json",
	} {
		must(os.Symlink(target, filepath.Join(root, link)))
	}
	return root
}

// itemErrors lists a source, returning the listed URIs and the failed ones
// with their errors.
func itemErrors(t *testing.T, src Source) ([]string, map[string]error) {
	t.Helper()
	var ok []string
	failed := map[string]error{}
	for item, err := range src.Items(context.Background()) {
		if err != nil {
			var ie *ItemError
			if !errors.As(err, &ie) {
				t.Fatalf("listing ended: %v", err)
			}
			failed[ie.URI] = err
			continue
		}
		text, err := readItem(t, item)
		if err != nil {
			t.Fatalf("%s: %v", item.URI, err)
		}
		if strings.Contains(text, "SECRET") || strings.Contains(strings.Join(strings.Fields(strings.TrimSpace(fmtAny(item.Metadata))), " "), "SECRET") {
			t.Fatalf("%s read data from outside the folder: %q %v", item.URI, text, item.Metadata)
		}
		ok = append(ok, item.URI)
	}
	sort.Strings(ok)
	return ok, failed
}

func fmtAny(m map[string]any) string {
	var b strings.Builder
	for k, v := range m {
		b.WriteString(k)
		b.WriteString("=")
		if s, ok := v.(string); ok {
			b.WriteString(s)
		}
		b.WriteString(" ")
	}
	return b.String()
}

// By default NewDirSource follows no link: each is reported, none is read.
func TestDirSourceRefusesLinks(t *testing.T) {
	root := linkTree(t)
	ok, failed := itemErrors(t, NewDirSource(root))
	if want := []string{"file:a.txt", "file:sub/b.md"}; !reflect.DeepEqual(ok, want) {
		t.Fatalf("listed %q, want %q", ok, want)
	}
	for _, uri := range []string{"file:abs-file", "file:rel-file", "file:abs-dir", "file:rel-dir", "file:in-file.txt", "file:in-dir", "file:loop", "file:sub/up", "file:dangling.txt", "file:c.txt", "file:d.txt"} {
		err := failed[uri]
		if err == nil {
			t.Errorf("%s: not reported", uri)
			continue
		}
		if !errors.Is(err, ErrSymlink) {
			t.Errorf("%s: %v, want ErrSymlink", uri, err)
		}
	}
	if len(failed) != 11 {
		t.Errorf("%d failures: %v", len(failed), failed)
	}
}

// With FollowSymlinks, links that stay inside are followed, loops are cut,
// and links leaving the folder are still refused.
func TestDirSourceFollowsInsideLinks(t *testing.T) {
	root := linkTree(t)
	src := NewDirSource(root)
	src.FollowSymlinks = true
	ok, failed := itemErrors(t, src)
	want := []string{"file:a.txt", "file:d.txt", "file:in-dir/b.md", "file:in-file.txt", "file:sub/b.md"}
	if !reflect.DeepEqual(ok, want) {
		t.Fatalf("listed %q, want %q", ok, want)
	}
	for _, uri := range []string{"file:abs-file", "file:rel-file", "file:abs-dir", "file:rel-dir", "file:c.txt"} {
		if err := failed[uri]; !errors.Is(err, ErrOutsideRoot) {
			t.Errorf("%s: %v, want ErrOutsideRoot", uri, err)
		}
	}
	for _, uri := range []string{"file:loop", "file:sub/up", "file:in-dir/up"} {
		if err := failed[uri]; !errors.Is(err, ErrSymlink) || !strings.Contains(err.Error(), "loop") {
			t.Errorf("%s: %v, want a loop error", uri, err)
		}
	}
	if err := failed["file:dangling.txt"]; err == nil {
		t.Errorf("dangling link not reported")
	}
}

// A file replaced by a link to the outside after the listing is refused
// when it is opened.
func TestDirSourceLinkSwappedAfterListing(t *testing.T) {
	root := linkTree(t)
	var item SourceItem
	for it, err := range NewDirSource(root).Items(context.Background()) {
		if err == nil && it.URI == "file:a.txt" {
			item = it
		}
	}
	if item.Open == nil {
		t.Fatal("a.txt not listed")
	}
	target, _ := filepath.Abs(filepath.Join(root, "..", "outside", "secret.txt"))
	os.Remove(filepath.Join(root, "a.txt"))
	if err := os.Symlink(target, filepath.Join(root, "a.txt")); err != nil {
		t.Fatal(err)
	}
	if text, err := readItem(t, item); err == nil {
		t.Fatalf("opened %q through a link to the outside", text)
	}
}
