package codeinterp

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/bedrockkit/bedrockkit"
)

// fileSpace is a sandbox's virtual file system: a flat map from cleaned
// relative paths to contents, bounded in total size and count. It never
// touches the host file system.
type fileSpace struct {
	max      int64
	maxFiles int
	size     int64
	files    map[string][]byte
}

func newFileSpace(max int64, maxFiles int) *fileSpace {
	return &fileSpace{max: max, maxFiles: maxFiles, files: map[string][]byte{}}
}

// cleanPath maps what a program or caller calls a file ("data.csv",
// "./data.csv", "/data.csv", "out//a.txt") to its key, refusing paths that
// climb out of the sandbox's root.
func cleanPath(p string) (string, error) {
	if p == "" || strings.ContainsRune(p, 0) || len(p) > 1024 {
		return "", fmt.Errorf("codeinterp: invalid file path %q: use a relative path such as \"data.csv\": %w", truncate(p, 80), bedrockkit.ErrInvalidInput)
	}
	c := path.Clean("/" + strings.ReplaceAll(p, "\\", "/"))
	c = strings.TrimPrefix(c, "/")
	if c == "" || c == "." {
		return "", fmt.Errorf("codeinterp: invalid file path %q: it names the root directory: %w", p, bedrockkit.ErrInvalidInput)
	}
	return c, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func (fs *fileSpace) write(p string, b []byte) error {
	key, err := cleanPath(p)
	if err != nil {
		return err
	}
	old, exists := fs.files[key]
	if !exists && len(fs.files) >= fs.maxFiles {
		return &LimitError{Limit: LimitSize, Detail: fmt.Sprintf("the sandbox already holds %d files, the most allowed: remove some first", fs.maxFiles)}
	}
	if n := fs.size - int64(len(old)) + int64(len(b)); n > fs.max {
		return &LimitError{Limit: LimitSize, Detail: fmt.Sprintf("writing %s (%d bytes) would bring the sandbox's files to %d bytes, over the %d allowed: write less or remove files", key, len(b), n, fs.max)}
	}
	fs.size += int64(len(b)) - int64(len(old))
	fs.files[key] = slices.Clone(b)
	return nil
}

func (fs *fileSpace) read(p string) ([]byte, string, error) {
	key, err := cleanPath(p)
	if err != nil {
		return nil, "", err
	}
	b, ok := fs.files[key]
	if !ok {
		return nil, key, fmt.Errorf("codeinterp: no file %q in the sandbox (files: %s): %w", key, strings.Join(fs.names(10), ", "), bedrockkit.ErrNotFound)
	}
	return slices.Clone(b), key, nil
}

func (fs *fileSpace) remove(p string) (bool, error) {
	key, err := cleanPath(p)
	if err != nil {
		return false, err
	}
	b, ok := fs.files[key]
	if ok {
		fs.size -= int64(len(b))
		delete(fs.files, key)
	}
	return ok, nil
}

func (fs *fileSpace) names(max int) []string {
	names := make([]string, 0, len(fs.files))
	for k := range fs.files {
		names = append(names, k)
	}
	slices.Sort(names)
	if max > 0 && len(names) > max {
		names = append(names[:max], "…")
	}
	return names
}

func (fs *fileSpace) list() []FileInfo {
	out := []FileInfo{}
	for _, n := range fs.names(0) {
		out = append(out, FileInfo{Path: n, Size: int64(len(fs.files[n]))})
	}
	return out
}

// infos describes the named files that still exist, sorted by path.
func (fs *fileSpace) infos(set map[string]bool) []FileInfo {
	var out []FileInfo
	for _, n := range fs.names(0) {
		if set[n] {
			out = append(out, FileInfo{Path: n, Size: int64(len(fs.files[n]))})
		}
	}
	return out
}

func (fs *fileSpace) clear() { fs.files, fs.size = map[string][]byte{}, 0 }
