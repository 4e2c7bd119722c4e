package keyprovider

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	"github.com/bedrockkit/bedrockkit"
)

// Provider wraps fresh data keys and unwraps stored ones: the key source of
// every encrypted store (kb/localindex EncryptionOptions.Keys, agent
// FileMemoryOptions.Keys). awskms.Provider implements it over AWS KMS and
// NewStatic over a key the caller holds; any type with these two methods
// will do. A key wrapped under another key must fail DecryptDataKey with an
// error matching ErrWrongKey.
type Provider interface {
	// GenerateDataKey returns a new random 256-bit data key and its
	// wrapped form, which is all that is stored.
	GenerateDataKey(ctx context.Context) (plaintext, wrapped []byte, err error)
	// DecryptDataKey returns the data key wrapped in wrapped.
	DecryptDataKey(ctx context.Context, wrapped []byte) ([]byte, error)
}

var (
	// ErrWrongKey reports that a data key cannot be unwrapped with the key
	// given: the data was encrypted under another key (or the wrapped key
	// is damaged). Nothing is read; open the store with the key it was
	// written with.
	ErrWrongKey = fmt.Errorf("keyprovider: the data key was wrapped under another key; open the store with the key it was encrypted with: %w", bedrockkit.ErrInvalidInput)
	// ErrKeyUnavailable reports that no key could be used: the store is
	// encrypted but no provider was given, its key file is missing, or
	// the provider could not use its key (disabled, deleted, access
	// denied).
	ErrKeyUnavailable = fmt.Errorf("keyprovider: the encryption key is not available: %w", bedrockkit.ErrInvalidInput)
)

// DataKeySize is the size of a data key: AES-256.
const DataKeySize = 32

// StaticKey is one key-encryption key of a Static provider.
type StaticKey struct {
	// ID names the key in every data key it wraps (at most 255 bytes),
	// so a Static holding several keys unwraps each with the right one.
	ID string
	// Key is the 32-byte AES-256 key-encryption key.
	Key []byte
}

// Static wraps data keys with AES-256-GCM under key-encryption keys the
// caller holds (from a secrets manager or an HSM, say). The first key
// wraps new data keys; all of them unwrap, so a key can be rotated by
// putting the new one first and keeping the old one until every store
// has rotated its data keys.
type Static struct {
	keys []staticKey
}

type staticKey struct {
	id   string
	aead cipher.AEAD
}

// NewStatic returns a Static provider. It fails on an empty list, a key
// that is not 32 bytes, an ID over 255 bytes or two keys with one ID.
func NewStatic(current StaticKey, previous ...StaticKey) (*Static, error) {
	s := &Static{}
	seen := map[string]bool{}
	for _, k := range append([]StaticKey{current}, previous...) {
		if len(k.Key) != 32 {
			return nil, fmt.Errorf("keyprovider: static key %q is %d bytes; use a 32-byte AES-256 key: %w", k.ID, len(k.Key), bedrockkit.ErrInvalidInput)
		}
		if len(k.ID) > 255 || seen[k.ID] {
			return nil, fmt.Errorf("keyprovider: static key ID %q is too long or repeated: %w", k.ID, bedrockkit.ErrInvalidInput)
		}
		seen[k.ID] = true
		b, err := aes.NewCipher(k.Key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(b)
		if err != nil {
			return nil, err
		}
		s.keys = append(s.keys, staticKey{id: k.ID, aead: aead})
	}
	return s, nil
}

// staticMagic starts every data key Static wraps.
const staticMagic = "BKSK1"

// wrapped: staticMagic | u8 len(id) | id | 12-byte random nonce | GCM(dk)
// with the magic and id as associated data.

func staticAAD(id string) []byte {
	h := sha256.Sum256([]byte("bedrockkit keyprovider static wrap\x00" + id))
	return h[:]
}

// GenerateDataKey returns a random data key wrapped under the current key.
func (s *Static) GenerateDataKey(ctx context.Context) ([]byte, []byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	dk := make([]byte, DataKeySize)
	rand.Read(dk)
	k := s.keys[0]
	w := append([]byte(staticMagic), byte(len(k.id)))
	w = append(w, k.id...)
	nonce := make([]byte, k.aead.NonceSize())
	rand.Read(nonce)
	w = append(w, nonce...)
	w = k.aead.Seal(w, nonce, dk, staticAAD(k.id))
	return dk, w, nil
}

// DecryptDataKey unwraps a data key wrapped by any of the provider's keys.
func (s *Static) DecryptDataKey(ctx context.Context, wrapped []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(wrapped) < len(staticMagic)+1 || string(wrapped[:len(staticMagic)]) != staticMagic {
		return nil, fmt.Errorf("keyprovider: the data key was not wrapped by a Static provider: %w", ErrWrongKey)
	}
	p := wrapped[len(staticMagic):]
	n := int(p[0])
	p = p[1:]
	if len(p) < n {
		return nil, fmt.Errorf("keyprovider: wrapped data key is truncated: %w", ErrWrongKey)
	}
	id := string(p[:n])
	p = p[n:]
	for _, k := range s.keys {
		if k.id != id {
			continue
		}
		if len(p) < k.aead.NonceSize()+k.aead.Overhead() {
			return nil, fmt.Errorf("keyprovider: wrapped data key is truncated: %w", ErrWrongKey)
		}
		dk, err := k.aead.Open(nil, p[:k.aead.NonceSize()], p[k.aead.NonceSize():], staticAAD(id))
		if err != nil || len(dk) != DataKeySize {
			return nil, fmt.Errorf("keyprovider: static key %q does not unwrap this data key (another key with the same ID, or a damaged key file): %w", id, ErrWrongKey)
		}
		return dk, nil
	}
	return nil, fmt.Errorf("keyprovider: the data key was wrapped by static key %q, which this provider does not hold: %w", id, ErrWrongKey)
}

var _ Provider = (*Static)(nil)
