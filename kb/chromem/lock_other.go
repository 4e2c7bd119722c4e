//go:build !unix

package chromem

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockDir creates the LOCK file; without flock there is no cross-process
// exclusion on this platform, so do not open one Dir from two processes.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("kb/chromem: %w", err)
	}
	return f, nil
}
