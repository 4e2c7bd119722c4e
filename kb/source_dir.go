package kb

import (
	"context"
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

// FSSource is a Source over the files of an fs.FS: a directory on disk
// (see DirSource), an embed.FS, an fstest.MapFS, a zip archive, ...
//
// Every regular file under Root is a document, listed in fs.WalkDir order
// (sorted by name within each directory), with the URI URIPrefix + its
// slash-separated path relative to Root, such as "file:policies/fees.md".
// Files and directories whose names start with "." are skipped unless
// IncludeHidden is set; symbolic links to files are followed, links to
// directories are not.
//
// A file named "<document>.metadata.json" is not a document: it is the
// sidecar of "<document>" in the same directory, and its attributes (see
// ParseMetadata) become the item's Metadata. A sidecar larger than 10 KB or
// not in Bedrock's format makes its document fail alone, with an
// *ItemError saying why. So does a file larger than MaxSize
// (ErrTooLarge), a file that cannot be stat'ed, and a subdirectory that
// cannot be read (its ItemError's URI is the directory's URI ending in
// "/"). Only a Root that cannot be read ends the listing with an error.
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
}

// DirSource returns a Source over the directory dir on disk (os.DirFS),
// with URIs "file:<path relative to dir>".
func DirSource(dir string) *FSSource {
	return &FSSource{FS: os.DirFS(dir)}
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
		if s.FS == nil {
			yield(SourceItem{}, fmt.Errorf("%w: kb: FSSource.FS is nil; set it, for example with os.DirFS(dir)", bedrockkit.ErrInvalidInput))
			return
		}
		root := s.Root
		if root == "" {
			root = "."
		}
		if !fs.ValidPath(root) {
			yield(SourceItem{}, fmt.Errorf("%w: kb: FSSource.Root %q is not a valid fs path (slash-separated, relative, no ..)", bedrockkit.ErrInvalidInput, root))
			return
		}
		entries, err := fs.ReadDir(s.FS, root)
		if err != nil {
			yield(SourceItem{}, fmt.Errorf("kb: listing %s: %w", s.uri(""), err))
			return
		}
		s.walk(ctx, root, "", entries, yield)
	}
}

// walk lists one directory; rel is its path relative to Root ("" at the
// top). It returns false when the listing must stop.
func (s *FSSource) walk(ctx context.Context, dir, rel string, entries []fs.DirEntry, yield func(SourceItem, error) bool) bool {
	names := make(map[string]bool, len(entries))
	for _, e := range entries {
		names[e.Name()] = true
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			yield(SourceItem{}, err)
			return false
		}
		name := e.Name()
		if !s.IncludeHidden && strings.HasPrefix(name, ".") {
			continue
		}
		full, relPath := path.Join(dir, name), path.Join(rel, name)
		if e.IsDir() {
			sub, err := fs.ReadDir(s.FS, full)
			if err != nil {
				if !yield(SourceItem{}, &ItemError{URI: s.uri(relPath) + "/", Err: fmt.Errorf("cannot read directory: %w", err)}) {
					return false
				}
				if len(sub) == 0 {
					continue
				}
			}
			if !s.walk(ctx, full, relPath, sub, yield) {
				return false
			}
			continue
		}
		if strings.HasSuffix(name, MetadataSuffix) {
			continue
		}
		uri := s.uri(relPath)
		fail := func(err error) bool { return yield(SourceItem{}, &ItemError{URI: uri, Err: err}) }
		var info fs.FileInfo
		var err error
		if e.Type()&fs.ModeSymlink != 0 {
			info, err = fs.Stat(s.FS, full)
		} else {
			info, err = e.Info()
		}
		if err != nil {
			if !fail(fmt.Errorf("cannot stat file: %w", err)) {
				return false
			}
			continue
		}
		if !info.Mode().IsRegular() {
			continue // directories behind links, devices, pipes, sockets
		}
		size, limit := info.Size(), s.maxSize()
		if limit > 0 && size > limit {
			if !fail(tooLarge(size, limit)) {
				return false
			}
			continue
		}
		item := SourceItem{URI: uri, Name: name, Size: size}
		if names[name+MetadataSuffix] {
			md, err := s.readSidecar(full + MetadataSuffix)
			if err != nil {
				if !fail(fmt.Errorf("%s: %w", name+MetadataSuffix, err)) {
					return false
				}
				continue
			}
			item.Metadata = md
		}
		fsys := s.FS
		item.Open = func(ctx context.Context) (io.ReadCloser, error) {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			f, err := fsys.Open(full)
			if err != nil {
				return nil, err
			}
			return limitReadCloser(ctx, f, limit), nil
		}
		if !yield(item, nil) {
			return false
		}
	}
	return true
}

func (s *FSSource) readSidecar(p string) (map[string]any, error) {
	f, err := s.FS.Open(p)
	if err != nil {
		return nil, fmt.Errorf("cannot read metadata sidecar: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxMetadataSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read metadata sidecar: %w", err)
	}
	md, err := ParseMetadata(data)
	if err != nil {
		return nil, err
	}
	return md.Attributes, nil
}

func tooLarge(size, limit int64) error {
	return fmt.Errorf("%w: %d bytes is over the limit of %d bytes; split the document or raise the source's MaxSize", ErrTooLarge, size, limit)
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
			return n, fmt.Errorf("%w: more than the limit of %d bytes; split the document or raise the source's MaxSize", ErrTooLarge, r.limit)
		}
	}
	return n, err
}

func (r *limitedReader) Close() error { return r.rc.Close() }
