package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/internal/envelope"
	"github.com/bedrockkit/bedrockkit/keyprovider"
)

// FileMemoryOptions configures OpenFileMemory.
type FileMemoryOptions struct {
	// Keys, if set, encrypts every session file with AES-256-GCM under a
	// data key wrapped by Keys and kept in the directory (key-<id>.dek and
	// a copy, key-<id>.dek.bak). Each save seals the session under a key
	// of its own (derived from the data key and a random salt) with the
	// session ID as associated data, so one session's file cannot be
	// passed off as another's. The writes stay atomic (temporary file,
	// fsync, rename). Nil stores plain JSON.
	Keys keyprovider.Provider
	// AllowPlaintext lets an encrypted FileMemory read session files
	// written without encryption (a directory being encrypted); each is
	// encrypted when it is next saved, or by RotateKey. Without it such a
	// file fails to load.
	AllowPlaintext bool
}

// sessionMagic starts an encrypted session file; the sealed session JSON
// follows.
const sessionMagic = "BKSESS1\n"

const sessionKeyPrefix = "key-"

// fileCrypt is a FileMemory's encryption.
type fileCrypt struct {
	keys           *envelope.Keyring
	allowPlaintext bool
}

// OpenFileMemory returns a FileMemory storing sessions in dir, creating
// it if needed, with the options. With Keys, the directory's data key is
// unwrapped now (the first one is created for a new directory): a wrong
// key fails with an error matching keyprovider.ErrWrongKey, a missing one
// with keyprovider.ErrKeyUnavailable, and nothing is read or written.
func OpenFileMemory(ctx context.Context, dir string, opts FileMemoryOptions) (*FileMemory, error) {
	m, err := newFileMemory(dir)
	if err != nil || opts.Keys == nil {
		return m, err
	}
	sealedFiles := false
	if !envelope.HasKeyFiles(dir, sessionKeyPrefix) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("agent: read session directory: %w", err)
		}
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), "session-") && strings.HasSuffix(e.Name(), ".json") {
				if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil && bytes.HasPrefix(b, []byte(sessionMagic)) {
					sealedFiles = true
					break
				}
			}
		}
		if sealedFiles {
			return nil, fmt.Errorf("agent: %s holds encrypted sessions but no key files (key-*.dek); restore them from a backup: %w", dir, keyprovider.ErrKeyUnavailable)
		}
	}
	keys, err := envelope.LoadKeyring(ctx, dir, sessionKeyPrefix, opts.Keys, true)
	if err != nil {
		return nil, fmt.Errorf("agent: open the session data keys of %s: %w", dir, err)
	}
	m.crypt = &fileCrypt{keys: keys, allowPlaintext: opts.AllowPlaintext}
	return m, nil
}

func sessionAAD(id string) []byte { return append([]byte("session\x00"), id...) }

// decode returns the session JSON of a file's bytes b for session id.
func (m *FileMemory) decode(id string, b []byte) ([]byte, error) {
	sealed := bytes.HasPrefix(b, []byte(sessionMagic))
	switch {
	case sealed && m.crypt == nil:
		return nil, fmt.Errorf("agent: session %q is encrypted; open the FileMemory with OpenFileMemory and the key provider it was written with: %w", id, keyprovider.ErrKeyUnavailable)
	case sealed:
		out, _, err := m.crypt.keys.Open(nil, b[len(sessionMagic):], sessionAAD(id), "session")
		if err != nil {
			if errors.Is(err, keyprovider.ErrKeyUnavailable) {
				return nil, fmt.Errorf("agent: session %q: %w", id, err)
			}
			return nil, fmt.Errorf("agent: session file %s does not decrypt: it is damaged, or it is not session %q's file; nothing was read from it", m.path(id), id)
		}
		return out, nil
	case m.crypt != nil && !m.crypt.allowPlaintext:
		return nil, fmt.Errorf("agent: session file %s is not encrypted; set FileMemoryOptions.AllowPlaintext to encrypt an existing directory", m.path(id))
	}
	return b, nil
}

// encode returns the bytes to store for session id's JSON.
func (m *FileMemory) encode(id string, b []byte) ([]byte, error) {
	if m.crypt == nil {
		return b, nil
	}
	s, err := m.crypt.keys.NewSealer("session")
	if err != nil {
		return nil, err
	}
	out, _ := s.Seal(append(make([]byte, 0, len(sessionMagic)+len(b)+envelope.Overhead), sessionMagic...), b, sessionAAD(id))
	return out, nil
}

// RotateKey makes a new data key current, re-encrypts every session file
// under it (each atomically, while Load and Save go on; a Save waits for
// the file being rewritten) and deletes the old data keys. With
// keyprovider/awskms the new data key is wrapped by the KMS key the
// provider names now. A FileMemory without Keys fails with
// bedrockkit.ErrInvalidInput. If a file cannot be rewritten (damaged),
// the new key is in use but the old ones are kept, and the error names
// the file.
func (m *FileMemory) RotateKey(ctx context.Context) error {
	if m.crypt == nil {
		return fmt.Errorf("agent: RotateKey on a FileMemory without encryption (OpenFileMemory with Keys): %w", bedrockkit.ErrInvalidInput)
	}
	if _, err := m.crypt.keys.Rotate(ctx); err != nil {
		return fmt.Errorf("agent: rotate the session data key: %w", err)
	}
	ents, err := os.ReadDir(m.dir)
	if err != nil {
		return fmt.Errorf("agent: read session directory: %w", err)
	}
	var failed []string
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, "session-") || !strings.HasSuffix(name, ".json") {
			continue
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("agent: RotateKey stopped (new saves use the new key; the old key is kept): %w", err)
		}
		if err := m.reseal(name); err != nil {
			failed = append(failed, fmt.Sprintf("%s (%v)", name, err))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("agent: sessions re-encrypted under the new key except %s; the old key is kept", strings.Join(failed, ", "))
	}
	cur := m.crypt.keys.Current()
	var errs []error
	for _, id := range m.crypt.keys.IDs() {
		if id != cur {
			errs = append(errs, m.crypt.keys.Retire(id))
		}
	}
	return errors.Join(errs...)
}

// reseal rewrites one session file under the current key.
func (m *FileMemory) reseal(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := filepath.Join(m.dir, name)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil // deleted meanwhile
	}
	if err != nil {
		return err
	}
	id, ok := sessionIDOf(name)
	if !ok {
		return errors.New("not a session file name")
	}
	plain, err := m.decode(id, b)
	if err != nil {
		// A plain file needs AllowPlaintext to be read at all; encrypt it
		// anyway only when allowed.
		return err
	}
	out, err := m.encode(id, plain)
	if err != nil {
		return err
	}
	return writeAtomic(p, out)
}

// sessionIDOf inverts FileMemory.path's file naming.
func sessionIDOf(name string) (string, bool) {
	s := strings.TrimSuffix(strings.TrimPrefix(name, "session-"), ".json")
	var b strings.Builder
	for len(s) > 0 {
		if s[0] != '.' {
			b.WriteByte(s[0])
			s = s[1:]
			continue
		}
		end := strings.IndexByte(s[1:], '.')
		if end < 0 {
			return "", false
		}
		var r rune
		if _, err := fmt.Sscanf(s[1:1+end], "%x", &r); err != nil {
			return "", false
		}
		b.WriteRune(r)
		s = s[end+2:]
	}
	return b.String(), true
}
