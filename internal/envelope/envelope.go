package envelope

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/bedrockkit/bedrockkit/keyprovider"
)

// Provider wraps and unwraps data keys (keyprovider.Provider's methods).
type Provider interface {
	GenerateDataKey(ctx context.Context) (plaintext, wrapped []byte, err error)
	DecryptDataKey(ctx context.Context, wrapped []byte) ([]byte, error)
}

// Sizes of the parts of a sealed blob.
const (
	KeyIDSize = 8
	SaltSize  = 16
	CtrSize   = 8
	TagSize   = 16
	// HeaderSize is what precedes the ciphertext: key ID, salt, counter.
	HeaderSize = KeyIDSize + SaltSize + CtrSize
	// Overhead is what sealing adds to a plaintext.
	Overhead = HeaderSize + TagSize
)

// ErrAuth reports a sealed blob that does not authenticate: damaged,
// tampered with, or moved from another place (its associated data
// differs).
var ErrAuth = errors.New("envelope: sealed data does not authenticate")

// key is one unwrapped data key.
type key struct {
	id      uint64
	gen     uint64
	wrapped []byte
	secret  []byte
}

// Keyring holds the data keys of one directory: their wrapped forms in
// key files, their plaintext in memory. The newest is the current key,
// which seals new files.
type Keyring struct {
	dir, prefix string
	p           Provider

	mu      sync.Mutex
	keys    map[uint64]*key
	current *key
	aeads   map[aeadKey]cipher.AEAD
}

type aeadKey struct {
	id   uint64
	salt [SaltSize]byte
	info string
}

// Key file:
//
//	keyMagic | u64 id | u64 generation | u32 len | wrapped | 32-byte check | u32 CRC-32C
//
// written as <prefix><16 hex id>.dek and a second copy .dek.bak, each
// through a temporary file, fsync and rename. The check is an HMAC of the
// ID under a key derived from the data key: an unwrapped key that does not
// match it is the wrong one.
const keyMagic = "BKDEK01\n"

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// KeyFileSuffix ends every key file's name (and ".bak" its copy).
const KeyFileSuffix = ".dek"

func (k *Keyring) fileName(id uint64) string {
	return filepath.Join(k.dir, fmt.Sprintf("%s%016x%s", k.prefix, id, KeyFileSuffix))
}

// HasKeyFiles reports whether dir holds key files named with prefix.
func HasKeyFiles(dir, prefix string) bool {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, prefix) && (strings.HasSuffix(n, KeyFileSuffix) || strings.HasSuffix(n, KeyFileSuffix+".bak")) {
			return true
		}
	}
	return false
}

// LoadKeyring reads the key files of dir named prefix<id>.dek and unwraps
// every key with p, checking each against its check value. With none and
// create, it generates the first key. A key that does not unwrap or does
// not match fails with keyprovider.ErrWrongKey; a provider error is
// returned wrapped; a key file unreadable in both copies fails with
// keyprovider.ErrKeyUnavailable. Nothing is written unless a key is
// created.
func LoadKeyring(ctx context.Context, dir, prefix string, p Provider, create bool) (*Keyring, error) {
	if p == nil {
		return nil, fmt.Errorf("envelope: no key provider: %w", keyprovider.ErrKeyUnavailable)
	}
	k := &Keyring{dir: dir, prefix: prefix, p: p, keys: map[uint64]*key{}, aeads: map[aeadKey]cipher.AEAD{}}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	ids := map[uint64]bool{}
	for _, e := range ents {
		n := strings.TrimSuffix(e.Name(), ".bak")
		if !strings.HasPrefix(n, prefix) || !strings.HasSuffix(n, KeyFileSuffix) {
			continue
		}
		id, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(n, prefix), KeyFileSuffix), 16, 64)
		if err != nil {
			continue
		}
		ids[id] = true
	}
	for id := range ids {
		kf, err := k.readKeyFile(id)
		if err != nil {
			return nil, err
		}
		secret, err := p.DecryptDataKey(ctx, kf.wrapped)
		if err != nil {
			return nil, fmt.Errorf("envelope: unwrap data key %016x of %s: %w", id, dir, err)
		}
		if len(secret) != keyprovider.DataKeySize || !hmac.Equal(checkValue(secret, id), kf.check) {
			return nil, fmt.Errorf("envelope: data key %016x of %s unwrapped to a key that does not match its check value: %w", id, dir, keyprovider.ErrWrongKey)
		}
		kf.secret = secret
		k.keys[id] = kf.key
		if k.current == nil || kf.gen > k.current.gen || (kf.gen == k.current.gen && id > k.current.id) {
			k.current = kf.key
		}
	}
	if k.current == nil && create {
		if _, err := k.Rotate(ctx); err != nil {
			return nil, err
		}
	}
	return k, nil
}

type keyFile struct {
	*key
	check []byte
}

// readKeyFile reads key file id, from its copy if the first does not
// verify.
func (k *Keyring) readKeyFile(id uint64) (keyFile, error) {
	var why []string
	for _, name := range []string{k.fileName(id), k.fileName(id) + ".bak"} {
		b, err := os.ReadFile(name)
		if err != nil {
			why = append(why, err.Error())
			continue
		}
		kf, err := parseKeyFile(b, id)
		if err != nil {
			why = append(why, filepath.Base(name)+": "+err.Error())
			continue
		}
		return kf, nil
	}
	return keyFile{}, fmt.Errorf("envelope: key file %s and its copy are unreadable (%s); restore them from a backup: %w",
		filepath.Base(k.fileName(id)), strings.Join(why, "; "), keyprovider.ErrKeyUnavailable)
}

func parseKeyFile(b []byte, id uint64) (keyFile, error) {
	const fixed = len(keyMagic) + 8 + 8 + 4
	if len(b) < fixed+32+4 || string(b[:len(keyMagic)]) != keyMagic {
		return keyFile{}, errors.New("not a key file")
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, crcTable) != sum {
		return keyFile{}, errors.New("checksum mismatch")
	}
	o := len(keyMagic)
	if binary.LittleEndian.Uint64(body[o:]) != id {
		return keyFile{}, errors.New("holds another key")
	}
	gen := binary.LittleEndian.Uint64(body[o+8:])
	n := int(binary.LittleEndian.Uint32(body[o+16:]))
	if fixed+n+32 != len(body) {
		return keyFile{}, errors.New("bad length")
	}
	wrapped := slices.Clone(body[fixed : fixed+n])
	return keyFile{key: &key{id: id, gen: gen, wrapped: wrapped}, check: slices.Clone(body[fixed+n:])}, nil
}

func checkValue(secret []byte, id uint64) []byte {
	ck, err := hkdf.Key(sha256.New, secret, nil, "bedrockkit/envelope/v1/check", 32)
	if err != nil {
		panic(err) // cannot happen for a 32-byte output
	}
	m := hmac.New(sha256.New, ck)
	m.Write(binary.LittleEndian.AppendUint64(nil, id))
	return m.Sum(nil)
}

// Rotate generates a new data key, stores it (both copies, fsynced) and
// makes it current: files sealed from now on use it. Keys already held
// stay usable for reading.
func (k *Keyring) Rotate(ctx context.Context) (uint64, error) {
	secret, wrapped, err := k.p.GenerateDataKey(ctx)
	if err != nil {
		return 0, fmt.Errorf("envelope: generate a data key: %w", err)
	}
	if len(secret) != keyprovider.DataKeySize || len(wrapped) == 0 || len(wrapped) > 1<<20 {
		return 0, fmt.Errorf("envelope: the key provider returned a %d-byte data key (want %d) and a %d-byte wrapped key: %w",
			len(secret), keyprovider.DataKeySize, len(wrapped), keyprovider.ErrKeyUnavailable)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	var id uint64
	for id == 0 || k.keys[id] != nil {
		var b [8]byte
		rand.Read(b[:])
		id = binary.LittleEndian.Uint64(b[:])
	}
	gen := uint64(1)
	if k.current != nil {
		gen = k.current.gen + 1
	}
	b := []byte(keyMagic)
	b = binary.LittleEndian.AppendUint64(b, id)
	b = binary.LittleEndian.AppendUint64(b, gen)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(wrapped)))
	b = append(b, wrapped...)
	b = append(b, checkValue(secret, id)...)
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
	name := k.fileName(id)
	for _, n := range []string{name, name + ".bak"} {
		if err := writeFileSync(n, b); err != nil {
			os.Remove(name)
			os.Remove(name + ".bak")
			return 0, fmt.Errorf("envelope: store the data key: %w", err)
		}
	}
	if err := syncDir(k.dir); err != nil {
		return 0, fmt.Errorf("envelope: store the data key: %w", err)
	}
	kk := &key{id: id, gen: gen, wrapped: wrapped, secret: secret}
	k.keys[id] = kk
	k.current = kk
	return id, nil
}

// Current returns the current key's ID (0 for none).
func (k *Keyring) Current() uint64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.current == nil {
		return 0
	}
	return k.current.id
}

// IDs returns the IDs of the keys held.
func (k *Keyring) IDs() []uint64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]uint64, 0, len(k.keys))
	for id := range k.keys {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// Has reports whether the keyring holds key id.
func (k *Keyring) Has(id uint64) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keys[id] != nil
}

// Retire deletes the key files of key id, which must not be current,
// and forgets it. Call it only when no file sealed under it remains.
func (k *Keyring) Retire(id uint64) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.current != nil && k.current.id == id {
		return errors.New("envelope: the current key cannot be retired")
	}
	delete(k.keys, id)
	for ak := range k.aeads {
		if ak.id == id {
			delete(k.aeads, ak)
		}
	}
	name := k.fileName(id)
	err := errors.Join(ignoreNotExist(os.Remove(name)), ignoreNotExist(os.Remove(name+".bak")))
	if err == nil {
		err = syncDir(k.dir)
	}
	return err
}

func ignoreNotExist(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// aead returns the AES-256-GCM of key id with salt and info, derived with
// HKDF-SHA256 and cached. Caller holds k.mu.
func (k *Keyring) aead(id uint64, salt [SaltSize]byte, info string) (cipher.AEAD, error) {
	ak := aeadKey{id, salt, info}
	if a := k.aeads[ak]; a != nil {
		return a, nil
	}
	kk := k.keys[id]
	if kk == nil {
		return nil, fmt.Errorf("envelope: data sealed under key %016x, which no key file in %s holds: %w", id, k.dir, keyprovider.ErrKeyUnavailable)
	}
	a, err := deriveAEAD(kk.secret, salt[:], info)
	if err != nil {
		return nil, err
	}
	if len(k.aeads) >= 4096 {
		clear(k.aeads)
	}
	k.aeads[ak] = a
	return a, nil
}

func deriveAEAD(secret, salt []byte, info string) (cipher.AEAD, error) {
	fk, err := hkdf.Key(sha256.New, secret, salt, "bedrockkit/envelope/v1/"+info, 32)
	if err != nil {
		return nil, err
	}
	b, err := aes.NewCipher(fk)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// Sealer seals the blobs of one file under a key of its own, derived from
// the data key and a random salt; each blob's nonce is the next value of a
// counter that starts at zero and never goes back. A file must be written
// through one Sealer only, and never appended to by another (a new Sealer
// means a new salt, hence a new key): then no nonce ever repeats under a
// key, whatever crashes, truncations and retries happen.
type Sealer struct {
	keyID uint64
	salt  [SaltSize]byte
	aead  cipher.AEAD
	ctr   atomic.Uint64
}

// NewSealer returns a Sealer under the current key for info (the kind of
// file: it enters the key derivation).
func (k *Keyring) NewSealer(info string) (*Sealer, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.current == nil {
		return nil, fmt.Errorf("envelope: no data key: %w", keyprovider.ErrKeyUnavailable)
	}
	s := &Sealer{keyID: k.current.id}
	rand.Read(s.salt[:])
	a, err := k.aead(s.keyID, s.salt, info)
	if err != nil {
		return nil, err
	}
	s.aead = a
	return s, nil
}

// NewEphemeralSealer returns a Sealer under a random key that exists only
// in memory: what it seals is unreadable once the process ends. Open its
// blobs with its Open method.
func NewEphemeralSealer(info string) *Sealer {
	secret := make([]byte, 32)
	rand.Read(secret)
	s := &Sealer{}
	rand.Read(s.salt[:])
	a, err := deriveAEAD(secret, s.salt[:], info)
	if err != nil {
		panic(err) // cannot happen for a 32-byte key
	}
	s.aead = a
	return s
}

// KeyID returns the ID of the data key the Sealer seals under.
func (s *Sealer) KeyID() uint64 { return s.keyID }

func nonce(ctr uint64) []byte {
	var n [12]byte
	binary.BigEndian.PutUint64(n[4:], ctr)
	return n[:]
}

// Seal appends to dst the sealed blob of plaintext,
//
//	u64 key ID | salt | u64 counter | ciphertext | tag
//
// authenticating aad too (which is not stored: the reader supplies it, so
// a blob only opens where it was written). It returns the blob's counter.
func (s *Sealer) Seal(dst, plaintext, aad []byte) ([]byte, uint64) {
	c := s.ctr.Add(1) - 1
	dst = binary.LittleEndian.AppendUint64(dst, s.keyID)
	dst = append(dst, s.salt[:]...)
	dst = binary.LittleEndian.AppendUint64(dst, c)
	return s.aead.Seal(dst, nonce(c), plaintext, aad), c
}

// Open opens a blob this (ephemeral) Sealer sealed.
func (s *Sealer) Open(dst, blob, aad []byte) ([]byte, error) {
	id, salt, c, body, err := Parse(blob)
	if err != nil {
		return nil, err
	}
	if id != s.keyID || salt != s.salt {
		return nil, ErrAuth
	}
	out, err := s.aead.Open(dst, nonce(c), body, aad)
	if err != nil {
		return nil, ErrAuth
	}
	return out, nil
}

// Parse splits a sealed blob into its header fields and ciphertext+tag.
func Parse(blob []byte) (keyID uint64, salt [SaltSize]byte, ctr uint64, body []byte, err error) {
	if len(blob) < Overhead {
		return 0, salt, 0, nil, ErrAuth
	}
	keyID = binary.LittleEndian.Uint64(blob)
	copy(salt[:], blob[KeyIDSize:])
	ctr = binary.LittleEndian.Uint64(blob[KeyIDSize+SaltSize:])
	return keyID, salt, ctr, blob[HeaderSize:], nil
}

// Open opens a blob sealed under one of the keyring's keys for info and
// aad, appending the plaintext to dst, and returns its counter. A blob
// under a key the keyring does not hold fails with an error matching
// keyprovider.ErrKeyUnavailable; one that does not authenticate, with
// ErrAuth.
func (k *Keyring) Open(dst, blob, aad []byte, info string) ([]byte, uint64, error) {
	id, salt, c, body, err := Parse(blob)
	if err != nil {
		return nil, 0, err
	}
	k.mu.Lock()
	a, err := k.aead(id, salt, info)
	k.mu.Unlock()
	if err != nil {
		return nil, 0, err
	}
	out, err := a.Open(dst, nonce(c), body, aad)
	if err != nil {
		return nil, 0, ErrAuth
	}
	return out, c, nil
}

func writeFileSync(name string, b []byte) error {
	tmp := name + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
