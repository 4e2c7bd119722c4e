package agent_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/keyprovider"
)

func staticKeys(t testing.TB, keys ...keyprovider.StaticKey) *keyprovider.Static {
	t.Helper()
	p, err := keyprovider.NewStatic(keys[0], keys[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func kek(id string, b byte) keyprovider.StaticKey {
	return keyprovider.StaticKey{ID: id, Key: bytes.Repeat([]byte{b}, 32)}
}

func secretSession(id string) *agent.Session {
	return &agent.Session{ID: id, Messages: []bedrockkit.Message{bedrockkit.UserText("my card number is 4111 1111 1111 1111")},
		Attributes: map[string]string{"email": "ana@example.com"}}
}

// TestEncryptedFileMemory: session files hold no plaintext, load back
// intact after a restart, and the wrong key, no key, a tampered file or
// one session's file under another's name never load.
func TestEncryptedFileMemory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := staticKeys(t, kek("k1", 1))
	mem, err := agent.OpenFileMemory(ctx, dir, agent.FileMemoryOptions{Keys: p})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"user/ana", "user/bob"} {
		if err := mem.Save(ctx, secretSession(id)); err != nil {
			t.Fatal(err)
		}
	}
	s, _ := mem.Load(ctx, "user/ana")
	s.Summary = "second save"
	if err := mem.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	files := 0
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		for _, secret := range []string{"4111", "ana@example.com", "second save", "user"} {
			if bytes.Contains(b, []byte(secret)) {
				t.Fatalf("%s holds %q", e.Name(), secret)
			}
		}
		files++
	}
	if files != 4 { // two sessions, a key file and its copy
		t.Fatalf("%d files in the directory", files)
	}
	// A restarted process with the key.
	mem2, err := agent.OpenFileMemory(ctx, dir, agent.FileMemoryOptions{Keys: p})
	if err != nil {
		t.Fatal(err)
	}
	got, err := mem2.Load(ctx, "user/ana")
	if err != nil || got.Summary != "second save" || got.Attributes["email"] != "ana@example.com" || got.Version != 2 {
		t.Fatalf("Load after restart: %+v, %v", got, err)
	}
	// Wrong key, no key.
	if _, err := agent.OpenFileMemory(ctx, dir, agent.FileMemoryOptions{Keys: staticKeys(t, kek("k2", 2))}); !errors.Is(err, keyprovider.ErrWrongKey) {
		t.Fatalf("wrong key: %v", err)
	}
	plain, _ := agent.OpenFileMemory(context.Background(), dir, agent.FileMemoryOptions{})
	if _, err := plain.Load(ctx, "user/ana"); !errors.Is(err, keyprovider.ErrKeyUnavailable) {
		t.Fatalf("encrypted session without a key: %v", err)
	}
	if err := plain.Save(ctx, &agent.Session{ID: "user/ana", Version: 2}); !errors.Is(err, keyprovider.ErrKeyUnavailable) {
		t.Fatalf("save over an encrypted session without a key: %v", err)
	}
	// Bob's file under Ana's name: refused, never Bob's session as Ana's.
	ana := filepath.Join(dir, "session-user.2f.ana.json")
	bob, _ := os.ReadFile(filepath.Join(dir, "session-user.2f.bob.json"))
	orig, _ := os.ReadFile(ana)
	os.WriteFile(ana, bob, 0o644)
	if s, err := mem2.Load(ctx, "user/ana"); err == nil || !strings.Contains(err.Error(), "does not decrypt") {
		t.Fatalf("Bob's file loaded as Ana's: %+v, %v", s, err)
	}
	for i := range orig {
		b := bytes.Clone(orig)
		b[i] ^= 0x08
		os.WriteFile(ana, b, 0o644)
		if s, err := mem2.Load(ctx, "user/ana"); err == nil {
			t.Fatalf("byte %d changed: loaded %+v", i, s)
		}
	}
	os.WriteFile(ana, orig, 0o644)
	if _, err := mem2.Load(ctx, "user/ana"); err != nil {
		t.Fatal(err)
	}
}

// TestFileMemoryRotateKeyAndMigrate: a plain directory is refused, then
// read with AllowPlaintext; RotateKey (while sessions are saved) leaves
// every file under one new data key that a provider with only the new
// key-encryption key opens.
func TestFileMemoryRotateKeyAndMigrate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	plain, _ := agent.OpenFileMemory(context.Background(), dir, agent.FileMemoryOptions{})
	for _, id := range []string{"a", "b", "c"} {
		plain.Save(ctx, secretSession(id))
	}
	old := kek("2025", 1)
	strict, err := agent.OpenFileMemory(ctx, dir, agent.FileMemoryOptions{Keys: staticKeys(t, old)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := strict.Load(ctx, "a"); err == nil || !strings.Contains(err.Error(), "AllowPlaintext") {
		t.Fatalf("plain session under encryption: %v", err)
	}
	// Rotate to a new key-encryption key while sessions are written.
	both := staticKeys(t, kek("2026", 2), old)
	mem, err := agent.OpenFileMemory(ctx, dir, agent.FileMemoryOptions{Keys: both, AllowPlaintext: true})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 20 {
			s, err := mem.Load(ctx, "b")
			if err != nil {
				t.Error(err)
				return
			}
			s.Summary += "x"
			if err := mem.Save(ctx, s); err != nil && !errors.Is(err, agent.ErrConflict) {
				t.Error(err)
				return
			}
		}
	}()
	if err := mem.RotateKey(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	keys, _ := filepath.Glob(filepath.Join(dir, "key-*.dek"))
	if len(keys) != 1 {
		t.Fatalf("key files after rotation: %v", keys)
	}
	only := staticKeys(t, kek("2026", 2))
	mem2, err := agent.OpenFileMemory(ctx, dir, agent.FileMemoryOptions{Keys: only})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "c"} {
		if s, err := mem2.Load(ctx, id); err != nil || s.Attributes["email"] != "ana@example.com" {
			t.Fatalf("session %s after rotation: %v", id, err)
		}
	}
	if err := plain.RotateKey(ctx); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("RotateKey without encryption: %v", err)
	}
}

// FuzzEncryptedSessionFile: whatever an encrypted FileMemory's session
// file holds, Load never panics and returns a session only for the bytes
// Save wrote.
func FuzzEncryptedSessionFile(f *testing.F) {
	ctx := context.Background()
	dir := f.TempDir()
	mem, err := agent.OpenFileMemory(ctx, dir, agent.FileMemoryOptions{Keys: staticKeys(f, kek("k", 1))})
	if err != nil {
		f.Fatal(err)
	}
	mem.Save(ctx, secretSession("s"))
	name := filepath.Join(dir, "session-s.json")
	good, _ := os.ReadFile(name)
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add([]byte("BKSESS1\n"))
	f.Add([]byte(`{"id":"s","version":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		os.WriteFile(name, b, 0o644)
		s, err := mem.Load(ctx, "s")
		if err == nil && !bytes.Equal(b, good) {
			t.Fatalf("loaded %+v from bytes Save never wrote", s)
		}
	})
}

// BenchmarkFileMemoryEncryption measures Save (read, version check,
// encode, fsynced atomic write) and Load of one session of 40 messages
// (about 20 KB of JSON) with and without Keys; compare the /plain and
// /encrypted results of one run.
func BenchmarkFileMemoryEncryption(b *testing.B) {
	ctx := context.Background()
	sess := func() *agent.Session {
		s := &agent.Session{ID: "user/ana", Attributes: map[string]string{"email": "ana@example.com"}}
		for i := range 20 {
			s.Messages = append(s.Messages, bedrockkit.UserText(strings.Repeat("question text ", 35)+strconv.Itoa(i)),
				bedrockkit.AssistantText(strings.Repeat("answer text ", 45)+strconv.Itoa(i)))
		}
		return s
	}
	for _, mode := range []string{"plain", "encrypted"} {
		open := func(b *testing.B) *agent.FileMemory {
			opts := agent.FileMemoryOptions{}
			if mode == "encrypted" {
				opts.Keys = staticKeys(b, kek("bench", 1))
			}
			mem, err := agent.OpenFileMemory(ctx, b.TempDir(), opts)
			if err != nil {
				b.Fatal(err)
			}
			return mem
		}
		b.Run("save/"+mode, func(b *testing.B) {
			mem, s := open(b), sess()
			for b.Loop() {
				if err := mem.Save(ctx, s); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("load/"+mode, func(b *testing.B) {
			mem, s := open(b), sess()
			if err := mem.Save(ctx, s); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				got, err := mem.Load(ctx, s.ID)
				if err != nil {
					b.Fatal(err)
				}
				if len(got.Messages) != len(s.Messages) {
					b.Fatalf("Load: %d messages, want %d", len(got.Messages), len(s.Messages))
				}
			}
		})
	}
}
