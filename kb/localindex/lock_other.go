//go:build !unix

package localindex

import (
	"os"
	"path/filepath"
)

// lockDir creates the LOCK file; on this platform there is no advisory
// lock, so the caller must not open one Dir twice.
func lockDir(dir string) (*os.File, error) {
	return os.OpenFile(filepath.Join(dir, "LOCK"), os.O_RDWR|os.O_CREATE, 0o644)
}
