package keyprovider_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"go.uber.org/goleak"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/keyprovider"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var bg = context.Background()

func key(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func TestStaticWrapsAndRotates(t *testing.T) {
	old, _ := keyprovider.NewStatic(keyprovider.StaticKey{ID: "2024", Key: key(1)})
	dk, w, err := old.GenerateDataKey(bg)
	if err != nil || len(dk) != 32 || bytes.Contains(w, dk) {
		t.Fatalf("GenerateDataKey: %d-byte key, %v", len(dk), err)
	}
	dk2, w2, _ := old.GenerateDataKey(bg)
	if bytes.Equal(dk, dk2) || bytes.Equal(w, w2) {
		t.Fatal("two data keys are equal")
	}
	got, err := old.DecryptDataKey(bg, w)
	if err != nil || !bytes.Equal(got, dk) {
		t.Fatalf("DecryptDataKey: %v", err)
	}
	// Rotation: the new key wraps, the old still unwraps.
	both, _ := keyprovider.NewStatic(keyprovider.StaticKey{ID: "2025", Key: key(2)}, keyprovider.StaticKey{ID: "2024", Key: key(1)})
	if got, err := both.DecryptDataKey(bg, w); err != nil || !bytes.Equal(got, dk) {
		t.Fatalf("old data key under the rotated provider: %v", err)
	}
	_, w3, _ := both.GenerateDataKey(bg)
	if _, err := old.DecryptDataKey(bg, w3); !errors.Is(err, keyprovider.ErrWrongKey) {
		t.Fatalf("new data key under the old provider: %v", err)
	}
	// Wrong key material under the same ID, damage, garbage.
	same, _ := keyprovider.NewStatic(keyprovider.StaticKey{ID: "2024", Key: key(3)})
	if _, err := same.DecryptDataKey(bg, w); !errors.Is(err, keyprovider.ErrWrongKey) || !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("same ID, other key: %v", err)
	}
	for i := range w {
		b := bytes.Clone(w)
		b[i] ^= 0x10
		if _, err := old.DecryptDataKey(bg, b); !errors.Is(err, keyprovider.ErrWrongKey) {
			t.Fatalf("byte %d changed: %v", i, err)
		}
	}
	for _, b := range [][]byte{nil, []byte("BKSK1"), []byte("BKSK1\xff"), []byte("xyz")} {
		if _, err := old.DecryptDataKey(bg, b); !errors.Is(err, keyprovider.ErrWrongKey) {
			t.Fatalf("%q: %v", b, err)
		}
	}
}

func TestNewStaticRefusesBadKeys(t *testing.T) {
	for _, ks := range [][]keyprovider.StaticKey{
		{{ID: "a", Key: key(1)[:16]}},
		{{ID: string(make([]byte, 256)), Key: key(1)}},
		{{ID: "a", Key: key(1)}, {ID: "a", Key: key(2)}},
	} {
		if _, err := keyprovider.NewStatic(ks[0], ks[1:]...); !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Fatalf("%d keys: %v", len(ks), err)
		}
	}
}

func TestCancelledContext(t *testing.T) {
	p, _ := keyprovider.NewStatic(keyprovider.StaticKey{ID: "a", Key: key(1)})
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if _, _, err := p.GenerateDataKey(ctx); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

func FuzzStaticDecrypt(f *testing.F) {
	p, _ := keyprovider.NewStatic(keyprovider.StaticKey{ID: "a", Key: key(1)})
	_, w, _ := p.GenerateDataKey(bg)
	f.Add(w)
	f.Add([]byte("BKSK1\x01a"))
	f.Fuzz(func(t *testing.T, b []byte) {
		dk, err := p.DecryptDataKey(bg, b)
		if err == nil && len(dk) != 32 {
			t.Fatalf("%d-byte key", len(dk))
		}
	})
}
