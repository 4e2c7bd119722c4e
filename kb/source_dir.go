package kb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path"
	"strings"

	"github.com/bedrockkit/bedrockkit"
)

// DefaultMaxDocumentSize is the default limit on a document's size: 50 MB,
// Amazon Bedrock's limit for a data source file.
const DefaultMaxDocumentSize = 50 << 20

// Errors of symbolic links met by an FSSource, such as one from NewDirSource. Each is
// reported as an *ItemError for the link (or for the document whose
// sidecar it is), and the listing goes on.
var (
	// ErrSymlink: a symbolic link that was not followed: FollowSymlinks is
	// not set, the link leads back into a folder it is in (a loop), or its
	// target does not exist.
	ErrSymlink = fmt.Errorf("kb: symbolic link not followed: %w", bedrockkit.ErrInvalidInput)
	// ErrOutsideRoot: a symbolic link leads outside the source's folder
	// (or is absolute); it is never followed.
	ErrOutsideRoot = fmt.Errorf("kb: it leads outside the folder: %w", ErrSymlink)
)

// FSSource is a Source over the files of an fs.FS: a directory on disk
// (see NewDirSource), an embed.FS, an fstest.MapFS, a zip archive, ...
//
// Every regular file under Root is a document, listed in fs.WalkDir order
// (sorted by name within each directory), with the URI URIPrefix + its
// slash-separated path relative to Root, such as "file:policies/fees.md".
// Files and directories whose names start with "." are skipped unless
// IncludeHidden is set.
//
// A file named "<document>.metadata.json" is not a document: it is the
// sidecar of "<document>" in the same directory, and its attributes (see
// ParseSidecar) become the item's Metadata. A sidecar larger than 10 KB or
// not in Bedrock's format makes its document fail alone, with an
// *ItemError saying why. So does a file larger than MaxSize
// (ErrTooLarge), a file that cannot be stat'ed, and a subdirectory that
// cannot be read (its ItemError's URI is the directory's URI ending in
// "/"). Only a Root that cannot be read ends the listing with an error.
//
// # Symbolic links
//
// A source never reads outside its folder. By default a symbolic link is
// not followed: it is reported as an *ItemError wrapping ErrSymlink (so is
// a document whose sidecar is a link). With FollowSymlinks, a link whose
// target stays inside the folder is followed (a link to a directory is
// walked, under the link's path); a link leading outside, or absolute,
// fails with ErrOutsideRoot, and a link back into a folder it is in fails
// with ErrSymlink, so loops end. NewDirSource enforces this with os.Root,
// which also refuses a file swapped for an outside link after the listing.
// An FSSource over another fs.FS follows a link only if the FS can read
// links (fs.ReadLinkFS) and the target, taken relative to the link, stays
// inside the FS; else the link fails with ErrSymlink.
//
// The zero value is not usable: set FS. An FSSource is safe for
// concurrent use when its fields are not modified.
type FSSource struct {
	// FS is the file system to list.
	FS fs.FS
	// Root is the directory of FS to list; "" or "." lists all of FS.
	Root string
	// URIPrefix is prepended to each file's path to form its URI; "" means
	// "file:". Give two sources feeding one knowledge base different
	// prefixes.
	URIPrefix string
	// MaxSize is the largest document accepted in bytes; 0 means
	// DefaultMaxDocumentSize and a negative value means no limit.
	MaxSize int64
	// IncludeHidden lists files and directories whose names start with ".".
	IncludeHidden bool
	// FollowSymlinks follows symbolic links whose target stays inside the
	// folder; see the type's documentation.
	FollowSymlinks bool

	dir string // set by NewDirSource: list and open through os.Root
}

// NewDirSource returns a Source over the directory dir on disk, with URIs
// "file:<path relative to dir>". Files are listed and opened through
// os.Root, so no path, however linked, reaches outside dir; see FSSource
// for symbolic links (set FollowSymlinks on the result to follow links
// inside dir).
func NewDirSource(dir string) *FSSource {
	return &FSSource{dir: dir}
}

func (s *FSSource) maxSize() int64 { return effectiveMaxSize(s.MaxSize) }

func effectiveMaxSize(n int64) int64 {
	if n == 0 {
		return DefaultMaxDocumentSize
	}
	return n
}

func (s *FSSource) uri(p string) string {
	prefix := s.URIPrefix
	if prefix == "" {
		prefix = "file:"
	}
	return prefix + p
}

// Items implements Source.
func (s *FSSource) Items(ctx context.Context) iter.Seq2[SourceItem, error] {
	return func(yield func(SourceItem, error) bool) {
		fsys := s.FS
		if s.dir != "" {
			root, err := os.OpenRoot(s.dir)
			if err != nil {
				yield(SourceItem{}, fmt.Errorf("kb: listing %s: %w", s.uri(""), err))
				return
			}
			defer root.Close()
			fsys = root.FS()
		}
		if fsys == nil {
			yield(SourceItem{}, fmt.Errorf("kb: FSSource.FS is nil; set it, or use NewDirSource(dir) for a folder on disk: %w", bedrockkit.ErrInvalidInput))
			return
		}
		root := s.Root
		if root == "" {
			root = "."
		}
		if !fs.ValidPath(root) {
			yield(SourceItem{}, fmt.Errorf("kb: FSSource.Root %q is not a valid fs path (slash-separated, relative, no ..): %w", root, bedrockkit.ErrInvalidInput))
			return
		}
		entries, err := fs.ReadDir(fsys, root)
		if err != nil {
			yield(SourceItem{}, fmt.Errorf("kb: listing %s: %w", s.uri(""), err))
			return
		}
		var ancestors []fs.FileInfo
		if info, err := fs.Stat(fsys, root); err == nil {
			ancestors = append(ancestors, info)
		}
		w := &fsWalk{s: s, fsys: fsys, yield: yield}
		w.walk(ctx, root, "", entries, ancestors)
	}
}

// fsWalk is one listing of an FSSource.
type fsWalk struct {
	s     *FSSource
	fsys  fs.FS
	yield func(SourceItem, error) bool
}

// walk lists one directory; rel is its path relative to Root ("" at the
// top) and ancestors the directories it is in, itself last. It returns
// false when the listing must stop.
func (w *fsWalk) walk(ctx context.Context, dir, rel string, entries []fs.DirEntry, ancestors []fs.FileInfo) bool {
	byName := make(map[string]fs.DirEntry, len(entries))
	for _, e := range entries {
		byName[e.Name()] = e
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			w.yield(SourceItem{}, err)
			return false
		}
		name := e.Name()
		if !w.s.IncludeHidden && strings.HasPrefix(name, ".") {
			continue
		}
		if strings.HasSuffix(name, MetadataSuffix) && !e.IsDir() {
			continue // a sidecar, read with its document
		}
		relPath := path.Join(rel, name)
		we := walkEntry{e: e, full: path.Join(dir, name), relPath: relPath, uri: w.s.uri(relPath)}
		if !w.entry(ctx, we, byName, ancestors) {
			return false
		}
	}
	return true
}

// walkEntry is one entry of a listed directory.
type walkEntry struct {
	e       fs.DirEntry
	full    string // its path in the file system
	relPath string // its path relative to Root
	uri     string
}

// fail reports the entry as failed; it returns false when the listing must
// stop.
func (w *fsWalk) fail(we walkEntry, err error) bool {
	return w.yield(SourceItem{}, &ItemError{URI: we.uri, Err: err})
}

// entry lists one directory entry: a folder is walked, a regular file
// yielded, anything else skipped. It returns false when the listing must
// stop.
func (w *fsWalk) entry(ctx context.Context, we walkEntry, byName map[string]fs.DirEntry, ancestors []fs.FileInfo) bool {
	target, info, err := w.resolve(we)
	if err != nil {
		return w.fail(we, err)
	}
	if we.e.IsDir() || info != nil && info.IsDir() {
		return w.subdir(ctx, we, target, info, ancestors)
	}
	if info == nil {
		if info, err = we.e.Info(); err != nil {
			return w.fail(we, fmt.Errorf("cannot stat file: %w", err))
		}
	}
	if !info.Mode().IsRegular() {
		return true // devices, pipes, sockets
	}
	return w.file(we, target, info, byName)
}

// resolve returns the path to read (the link's resolved target, for an FS
// without os.Root) and, for a link or a folder, its FileInfo.
func (w *fsWalk) resolve(we walkEntry) (target string, info fs.FileInfo, err error) {
	if we.e.Type()&fs.ModeSymlink != 0 {
		return w.follow(we.full)
	}
	if we.e.IsDir() {
		if info, err := we.e.Info(); err == nil {
			return we.full, info, nil
		}
	}
	return we.full, nil, nil
}

// subdir walks a folder (target) unless it is one of its own ancestors.
func (w *fsWalk) subdir(ctx context.Context, we walkEntry, target string, info fs.FileInfo, ancestors []fs.FileInfo) bool {
	if looped(ancestors, info) {
		return w.fail(we, fmt.Errorf("kb: the link leads back into a folder it is in (a loop): %w", ErrSymlink))
	}
	sub, err := fs.ReadDir(w.fsys, target)
	if err != nil {
		if !w.yield(SourceItem{}, &ItemError{URI: we.uri + "/", Err: fmt.Errorf("cannot read directory: %w", err)}) {
			return false
		}
		if len(sub) == 0 {
			return true
		}
	}
	return w.walk(ctx, target, we.relPath, sub, append(ancestors[:len(ancestors):len(ancestors)], info))
}

// file yields a regular file, with the metadata of its sidecar, unless it
// is over the size limit or its sidecar is bad.
func (w *fsWalk) file(we walkEntry, target string, info fs.FileInfo, byName map[string]fs.DirEntry) bool {
	s, name := w.s, we.e.Name()
	size, limit := info.Size(), s.maxSize()
	if limit > 0 && size > limit {
		return w.fail(we, tooLarge(size, limit))
	}
	item := SourceItem{URI: we.uri, Name: name, Size: size}
	if se, ok := byName[name+MetadataSuffix]; ok && !se.IsDir() {
		md, err := w.readSidecar(se, we.full+MetadataSuffix)
		if err != nil {
			return w.fail(we, fmt.Errorf("%s: %w", name+MetadataSuffix, err))
		}
		item.Metadata = md
	}
	item.Open = s.opener(w.fsys, target, limit)
	return w.yield(item, nil)
}

// looped reports whether info is the same directory as one of ancestors.
func looped(ancestors []fs.FileInfo, info fs.FileInfo) bool {
	if info == nil {
		return false
	}
	for _, a := range ancestors {
		if a != nil && os.SameFile(a, info) {
			return true
		}
	}
	return false
}

// follow resolves the symbolic link at p, which must stay inside the
// folder, and returns the path to read and its target's info.
func (w *fsWalk) follow(p string) (string, fs.FileInfo, error) {
	if !w.s.FollowSymlinks {
		return "", nil, fmt.Errorf("kb: set FollowSymlinks to follow links whose target is inside the folder: %w", ErrSymlink)
	}
	if w.s.dir != "" {
		// os.Root resolves the link and refuses any step outside.
		info, err := fs.Stat(w.fsys, p)
		switch {
		case err == nil:
			return p, info, nil
		case errors.Is(err, fs.ErrNotExist):
			return "", nil, fmt.Errorf("kb: its target does not exist: %w", ErrSymlink)
		case strings.Contains(err.Error(), "escapes"):
			return "", nil, fmt.Errorf("%w (absolute links count as outside)", ErrOutsideRoot)
		}
		return "", nil, fmt.Errorf("cannot stat the link's target: %w", err)
	}
	// Another fs.FS: resolve the link by its text, a few hops at most.
	rl, ok := w.fsys.(fs.ReadLinkFS)
	if !ok {
		return "", nil, fmt.Errorf("kb: this file system cannot read links, so where it leads is unknown: %w", ErrSymlink)
	}
	cur := p
	for range 8 {
		t, err := rl.ReadLink(cur)
		if err != nil {
			return "", nil, fmt.Errorf("kb: %v: %w", err, ErrSymlink)
		}
		if path.IsAbs(t) || strings.HasPrefix(t, "/") {
			return "", nil, fmt.Errorf("%w (absolute links count as outside)", ErrOutsideRoot)
		}
		next := path.Join(path.Dir(cur), t)
		if !fs.ValidPath(next) || next == ".." || strings.HasPrefix(next, "../") {
			return "", nil, ErrOutsideRoot
		}
		info, err := rl.Lstat(next)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return "", nil, fmt.Errorf("kb: its target does not exist: %w", ErrSymlink)
			}
			return "", nil, fmt.Errorf("cannot stat the link's target: %w", err)
		}
		if info.Mode()&fs.ModeSymlink == 0 {
			return next, info, nil
		}
		cur = next
	}
	return "", nil, fmt.Errorf("kb: more than 8 links in a row: %w", ErrSymlink)
}

// opener opens the file at p for reading, within limit bytes.
func (s *FSSource) opener(fsys fs.FS, p string, limit int64) func(context.Context) (io.ReadCloser, error) {
	dir := s.dir
	return func(ctx context.Context) (io.ReadCloser, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if dir != "" {
			// The listing's root may be closed by now: open it again, so
			// the path is resolved inside dir at the time of reading.
			root, err := os.OpenRoot(dir)
			if err != nil {
				return nil, err
			}
			defer root.Close()
			if !s.FollowSymlinks {
				if info, err := root.Lstat(p); err == nil && info.Mode()&fs.ModeSymlink != 0 {
					return nil, fmt.Errorf("kb: the file became a link after it was listed: %w", ErrSymlink)
				}
			}
			f, err := root.Open(p)
			if err != nil {
				return nil, err
			}
			return limitReadCloser(ctx, f, limit), nil
		}
		f, err := fsys.Open(p)
		if err != nil {
			return nil, err
		}
		return limitReadCloser(ctx, f, limit), nil
	}
}

func (w *fsWalk) readSidecar(e fs.DirEntry, p string) (map[string]any, error) {
	if e.Type()&fs.ModeSymlink != 0 {
		target, info, err := w.follow(p)
		if err != nil {
			return nil, fmt.Errorf("the sidecar is a link: %w", err)
		}
		if !info.Mode().IsRegular() {
			return nil, fmt.Errorf("kb: the sidecar's link does not lead to a file: %w", ErrSymlink)
		}
		p = target
	}
	f, err := w.fsys.Open(p)
	if err != nil {
		return nil, fmt.Errorf("cannot read metadata sidecar: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxMetadataSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read metadata sidecar: %w", err)
	}
	md, err := ParseSidecar(data)
	if err != nil {
		return nil, err
	}
	return md.Attributes, nil
}

func tooLarge(size, limit int64) error {
	return fmt.Errorf("kb: %d bytes is over the limit of %d bytes; split the document or raise the source's MaxSize: %w", size, limit, ErrTooLarge)
}

// limitReadCloser fails reads once more than limit bytes have been read
// (the file grew after listing) or ctx is done. limit <= 0 means none.
func limitReadCloser(ctx context.Context, rc io.ReadCloser, limit int64) io.ReadCloser {
	return &limitedReader{ctx: ctx, rc: rc, left: limit, limit: limit}
}

type limitedReader struct {
	ctx         context.Context
	rc          io.ReadCloser
	left, limit int64
}

func (r *limitedReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	if r.limit > 0 && int64(len(p)) > r.left+1 {
		p = p[:r.left+1]
	}
	n, err := r.rc.Read(p)
	if r.limit > 0 {
		r.left -= int64(n)
		if r.left < 0 {
			return n, fmt.Errorf("kb: more than the limit of %d bytes; split the document or raise the source's MaxSize: %w", r.limit, ErrTooLarge)
		}
	}
	return n, err
}

func (r *limitedReader) Close() error { return r.rc.Close() }
