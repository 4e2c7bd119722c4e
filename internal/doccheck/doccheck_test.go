package doccheck

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// moduleRoot returns the directory holding go.mod, found from this file's
// location so the test works from any working directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("runtime.Caller failed; cannot locate the module root")
	}
	dir := filepath.Dir(file)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above %s", file)
		}
		dir = parent
	}
}

// publicPackageDirs lists the directories under root that hold an
// importable, non-internal Go package. Directories Go ignores (testdata,
// names starting with '.' or '_') and nested modules are skipped.
func publicPackageDirs(t *testing.T, root string) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root {
			if name == "testdata" || name == "internal" || name == "vendor" ||
				strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // another module
			}
		}
		dirs = append(dirs, path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

// parsePackage parses the non-test Go files of dir. It returns nil when the
// directory has no Go files or holds a command (package main).
func parsePackage(t *testing.T, fset *token.FileSet, dir string) (files []*ast.File) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.ParseComments)
		if err != nil {
			t.Fatalf("parse %s: %v", filepath.Join(dir, n), err)
		}
		if f.Name.Name == "main" {
			return nil
		}
		files = append(files, f)
	}
	return files
}

// undocumented returns a line per exported name of files that go doc would
// show without a comment, and one for a missing package comment.
func undocumented(t *testing.T, fset *token.FileSet, rel string, files []*ast.File) []string {
	t.Helper()
	p, err := doc.NewFromFiles(fset, files, "example.com/"+rel)
	if err != nil {
		t.Fatalf("go/doc on %s: %v", rel, err)
	}
	var out []string
	pos := func(n ast.Node) string {
		position := fset.Position(n.Pos())
		return filepath.Base(position.Filename) + ":" + strconv.Itoa(position.Line)
	}
	if strings.TrimSpace(p.Doc) == "" {
		out = append(out, rel+": package "+p.Name+" has no package doc comment (add a doc.go)")
	}
	values := func(kind string, vs []*doc.Value) {
		for _, v := range vs {
			if strings.TrimSpace(v.Doc) != "" {
				continue // a group comment documents the whole group
			}
			for _, spec := range v.Decl.Specs {
				vs := spec.(*ast.ValueSpec)
				if vs.Doc != nil || vs.Comment != nil {
					continue
				}
				for _, n := range vs.Names {
					if n.IsExported() {
						out = append(out, rel+"/"+pos(n)+": "+kind+" "+n.Name)
					}
				}
			}
		}
	}
	funcs := func(recv string, fs []*doc.Func) {
		for _, f := range fs {
			if strings.TrimSpace(f.Doc) != "" {
				continue
			}
			name := f.Name
			if recv != "" {
				name = recv + "." + f.Name
			}
			out = append(out, rel+"/"+pos(f.Decl)+": func "+name)
		}
	}
	values("const", p.Consts)
	values("var", p.Vars)
	funcs("", p.Funcs)
	for _, typ := range p.Types {
		if strings.TrimSpace(typ.Doc) == "" {
			out = append(out, rel+"/"+pos(typ.Decl)+": type "+typ.Name)
		}
		values("const", typ.Consts)
		values("var", typ.Vars)
		funcs("", typ.Funcs)
		funcs(typ.Name, typ.Methods)
	}
	return out
}

// TestExportedIdentifiersHaveDocComments fails listing every public
// package without a package comment and every exported identifier without
// a doc comment.
func TestExportedIdentifiersHaveDocComments(t *testing.T) {
	root := moduleRoot(t)
	fset := token.NewFileSet()
	var missing []string
	checked := 0
	for _, dir := range publicPackageDirs(t, root) {
		files := parsePackage(t, fset, dir)
		if len(files) == 0 {
			continue
		}
		rel, err := filepath.Rel(root, dir)
		if err != nil {
			t.Fatal(err)
		}
		rel = filepath.ToSlash(rel)
		if rel == "." {
			rel = "bedrockkit"
		}
		checked++
		missing = append(missing, undocumented(t, fset, rel, files)...)
	}
	if checked == 0 {
		t.Fatalf("found no public packages under %s; the walk is broken", root)
	}
	t.Logf("checked %d public packages", checked)
	if len(missing) > 0 {
		sort.Strings(missing)
		t.Errorf("%d exported identifiers or packages have no doc comment; add one so go doc explains them:\n\t%s",
			len(missing), strings.Join(missing, "\n\t"))
	}
}

// TestCheckerFlagsUndocumented makes sure the checker itself reports what it
// should, so an always-passing bug in it cannot hide gaps.
func TestCheckerFlagsUndocumented(t *testing.T) {
	const src = `package p

const A = 1

// B is documented.
const B = 2

const (
	C = 3 // C has a line comment.
	D = 4
)

// Group is documented as a group.
var (
	E = 5
	F = 6
)

type T struct{}

// New makes a T.
func New() *T { return nil }

func Make() T { return T{} }

func (T) M() {}

// N is documented.
func (T) N() {}

func (T) unexported() {}

type hidden struct{}

func (hidden) X() {}

func G() {}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	got := undocumented(t, fset, "p", []*ast.File{f})
	var names []string
	for _, line := range got {
		if i := strings.LastIndex(line, ": "); i >= 0 {
			names = append(names, line[i+2:])
		}
	}
	sort.Strings(names)
	want := []string{"const A", "const D", "func G", "func Make", "func T.M", "package p has no package doc comment (add a doc.go)", "type T"}
	if !slices.Equal(names, want) {
		t.Errorf("checker reported\n\t%s\nwant\n\t%s", strings.Join(names, "\n\t"), strings.Join(want, "\n\t"))
	}
}
