package envelope

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/bedrockkit/bedrockkit/keyprovider"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var bg = context.Background()

func static(t testing.TB, id string) *keyprovider.Static {
	t.Helper()
	k := make([]byte, 32)
	copy(k, id)
	p, err := keyprovider.NewStatic(keyprovider.StaticKey{ID: id, Key: k})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSealOpenAndAssociatedData(t *testing.T) {
	dir := t.TempDir()
	k, err := LoadKeyring(bg, dir, "key-", static(t, "a"), true)
	if err != nil {
		t.Fatal(err)
	}
	s, err := k.NewSealer("wal")
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("the quick brown fox")
	b1, c1 := s.Seal(nil, msg, []byte("pos 1"))
	b2, c2 := s.Seal(nil, msg, []byte("pos 2"))
	if c1 != 0 || c2 != 1 || bytes.Equal(b1[HeaderSize:], b2[HeaderSize:]) {
		t.Fatalf("counters %d %d; ciphertexts equal: %v", c1, c2, bytes.Equal(b1, b2))
	}
	if bytes.Contains(b1, msg) {
		t.Fatal("plaintext visible in the sealed blob")
	}
	got, c, err := k.Open(nil, b1, []byte("pos 1"), "wal")
	if err != nil || !bytes.Equal(got, msg) || c != 0 {
		t.Fatalf("Open = %q, %d, %v", got, c, err)
	}
	// Another position, another kind of file, a changed byte: refused.
	if _, _, err := k.Open(nil, b1, []byte("pos 2"), "wal"); !errors.Is(err, ErrAuth) {
		t.Fatalf("blob opened at another position: %v", err)
	}
	if _, _, err := k.Open(nil, b1, []byte("pos 1"), "snap"); !errors.Is(err, ErrAuth) {
		t.Fatalf("blob opened as another kind of file: %v", err)
	}
	for i := range b1 {
		b := bytes.Clone(b1)
		b[i] ^= 0x01
		if _, _, err := k.Open(nil, b, []byte("pos 1"), "wal"); err == nil {
			t.Fatalf("blob with byte %d changed opened", i)
		}
	}
	// A second sealer has its own salt, hence its own key.
	s2, _ := k.NewSealer("wal")
	b3, c3 := s2.Seal(nil, msg, []byte("pos 1"))
	if c3 != 0 || bytes.Equal(b3[KeyIDSize:KeyIDSize+SaltSize], b1[KeyIDSize:KeyIDSize+SaltSize]) || bytes.Equal(b3[HeaderSize:], b1[HeaderSize:]) {
		t.Fatal("two sealers share a salt or a key stream")
	}
}

func TestKeyringReopenRotateRetire(t *testing.T) {
	dir := t.TempDir()
	p := static(t, "a")
	k, err := LoadKeyring(bg, dir, "key-", p, true)
	if err != nil {
		t.Fatal(err)
	}
	first := k.Current()
	s, _ := k.NewSealer("x")
	old, _ := s.Seal(nil, []byte("old"), nil)
	second, err := k.Rotate(bg)
	if err != nil || second == first || k.Current() != second {
		t.Fatalf("Rotate = %x, %v; current %x", second, err, k.Current())
	}
	s, _ = k.NewSealer("x")
	nw, _ := s.Seal(nil, []byte("new"), nil)
	if s.KeyID() != second {
		t.Fatal("new sealer not under the new key")
	}
	// Reopen: both keys, the newest current.
	k2, err := LoadKeyring(bg, dir, "key-", p, false)
	if err != nil {
		t.Fatal(err)
	}
	if k2.Current() != second || len(k2.IDs()) != 2 {
		t.Fatalf("reopened: current %x, ids %x", k2.Current(), k2.IDs())
	}
	for _, b := range [][]byte{old, nw} {
		if _, _, err := k2.Open(nil, b, nil, "x"); err != nil {
			t.Fatal(err)
		}
	}
	if err := k2.Retire(second); err == nil {
		t.Fatal("retired the current key")
	}
	if err := k2.Retire(first); err != nil {
		t.Fatal(err)
	}
	if _, _, err := k2.Open(nil, old, nil, "x"); !errors.Is(err, keyprovider.ErrKeyUnavailable) {
		t.Fatalf("blob under a retired key: %v", err)
	}
	k3, err := LoadKeyring(bg, dir, "key-", p, false)
	if err != nil || len(k3.IDs()) != 1 {
		t.Fatalf("after retiring: %v, %x", err, k3.IDs())
	}
}

func TestWrongKeyFailsClearly(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadKeyring(bg, dir, "key-", static(t, "a"), true); err != nil {
		t.Fatal(err)
	}
	// Another static key under another ID, and under the same ID.
	for _, p := range []Provider{static(t, "b"), func() Provider {
		k := bytes.Repeat([]byte{7}, 32)
		p, _ := keyprovider.NewStatic(keyprovider.StaticKey{ID: "a", Key: k})
		return p
	}()} {
		if _, err := LoadKeyring(bg, dir, "key-", p, false); !errors.Is(err, keyprovider.ErrWrongKey) {
			t.Fatalf("LoadKeyring with the wrong key = %v, want ErrWrongKey", err)
		}
	}
	// A provider that "unwraps" to garbage is caught by the check value.
	if _, err := LoadKeyring(bg, dir, "key-", liar{}, false); !errors.Is(err, keyprovider.ErrWrongKey) {
		t.Fatalf("LoadKeyring with a lying provider = %v, want ErrWrongKey", err)
	}
	if _, err := LoadKeyring(bg, dir, "key-", nil, false); !errors.Is(err, keyprovider.ErrKeyUnavailable) {
		t.Fatalf("LoadKeyring without a provider = %v", err)
	}
}

type liar struct{}

func (liar) GenerateDataKey(context.Context) ([]byte, []byte, error) {
	return nil, nil, errors.New("no")
}

func (liar) DecryptDataKey(context.Context, []byte) ([]byte, error) {
	b := make([]byte, 32)
	rand.Read(b)
	return b, nil
}

func TestDamagedKeyFileUsesItsCopy(t *testing.T) {
	dir := t.TempDir()
	p := static(t, "a")
	k, _ := LoadKeyring(bg, dir, "key-", p, true)
	s, _ := k.NewSealer("x")
	blob, _ := s.Seal(nil, []byte("data"), nil)
	name := k.fileName(k.Current())
	orig, _ := os.ReadFile(name)
	for i := range orig {
		b := bytes.Clone(orig)
		b[i] ^= 0x40
		os.WriteFile(name, b, 0o600)
		k2, err := LoadKeyring(bg, dir, "key-", p, false)
		if err != nil {
			t.Fatalf("byte %d of the key file damaged: %v", i, err)
		}
		if _, _, err := k2.Open(nil, blob, nil, "x"); err != nil {
			t.Fatal(err)
		}
	}
	// Both copies damaged: a clear error, never a new key.
	os.WriteFile(name, orig[:10], 0o600)
	os.WriteFile(name+".bak", orig[:10], 0o600)
	if _, err := LoadKeyring(bg, dir, "key-", p, true); !errors.Is(err, keyprovider.ErrKeyUnavailable) {
		t.Fatalf("both copies damaged: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "key-*.dek")); len(m) != 1 {
		t.Fatalf("key files %v", m)
	}
}

func TestEphemeralSealer(t *testing.T) {
	s := NewEphemeralSealer("vec")
	b, _ := s.Seal(nil, []byte("v"), []byte{1})
	if got, err := s.Open(nil, b, []byte{1}); err != nil || string(got) != "v" {
		t.Fatal(got, err)
	}
	if _, err := NewEphemeralSealer("vec").Open(nil, b, []byte{1}); err == nil {
		t.Fatal("another ephemeral key opened the blob")
	}
	if _, err := s.Open(nil, b, []byte{2}); err == nil {
		t.Fatal("opened with other associated data")
	}
}

func FuzzParseKeyFile(f *testing.F) {
	dir := f.TempDir()
	k, _ := LoadKeyring(bg, dir, "key-", static(f, "a"), true)
	good, _ := os.ReadFile(k.fileName(k.Current()))
	f.Add(good, k.Current())
	f.Add([]byte(keyMagic), uint64(1))
	f.Add(good[:len(good)-1], k.Current())
	f.Fuzz(func(t *testing.T, b []byte, id uint64) {
		kf, err := parseKeyFile(b, id)
		if err == nil && (kf.id != id || len(kf.check) != 32) {
			t.Fatalf("parsed %+v", kf)
		}
	})
}

func FuzzOpen(f *testing.F) {
	dir := f.TempDir()
	k, _ := LoadKeyring(bg, dir, "key-", static(f, "a"), true)
	s, _ := k.NewSealer("x")
	good, _ := s.Seal(nil, []byte("hello"), []byte("aad"))
	f.Add(good, []byte("aad"))
	f.Add(good[:Overhead-1], []byte("aad"))
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, blob, aad []byte) {
		out, _, err := k.Open(nil, blob, aad, "x")
		if err == nil && !(bytes.Equal(blob, good) && string(aad) == "aad" && string(out) == "hello") {
			t.Fatalf("forged blob opened: %q", out)
		}
	})
}
