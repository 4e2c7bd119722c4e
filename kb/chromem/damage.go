package chromem

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// lossy reports whether ds loses (or may lose) any record.
func lossy(ds []kbstore.Damage) bool {
	n, exact := kbstore.RecordsLost(ds)
	return n > 0 || !exact
}

// copyAside copies the file name in dir to a new name.corrupt (or
// name.N.corrupt), fsynced, and returns the copy's name.
func copyAside(dir, name string) (string, error) {
	src, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return "", err
	}
	defer src.Close()
	for n := 1; ; n++ {
		aside := name + ".corrupt"
		if n > 1 {
			aside = fmt.Sprintf("%s.%d.corrupt", name, n)
		}
		f, err := os.OpenFile(filepath.Join(dir, aside), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) && n < 1000 {
			continue
		}
		if err != nil {
			return "", err
		}
		_, err = io.Copy(f, src)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = syncDir(dir)
		}
		if err != nil {
			os.Remove(filepath.Join(dir, aside))
			return "", err
		}
		return aside, nil
	}
}
