package localindex

import (
	"os"
	"testing"

	"github.com/bedrockkit/bedrockkit/keyprovider"
)

// Tests of damage, crashes and durability run twice: without encryption
// and with it (bothModes), through tOpts, which adds the test key to every
// Options that has a Dir while testEnc is set. The crash test's writer
// child learns the mode from envEncrypt.

const envEncrypt = "BEDROCKKIT_LOCALINDEX_TEST_ENCRYPT"

// testEnc is the encryption the tests of the current mode use (nil: none).
var testEnc *EncryptionOptions

// testKey returns a Static provider over a fixed test key (id names it).
func testKey(id string) *keyprovider.Static {
	k := make([]byte, 32)
	for i := range k {
		k[i] = byte(i*7) ^ id[i%len(id)]
	}
	p, err := keyprovider.NewStatic(keyprovider.StaticKey{ID: id, Key: k})
	if err != nil {
		panic(err)
	}
	return p
}

func tOpts(o Options) Options {
	if testEnc != nil && o.Dir != "" && o.Encryption == nil {
		o.Encryption = testEnc
	}
	return o
}

// bothModes runs f without, then with encryption.
func bothModes(t *testing.T, f func(t *testing.T)) {
	t.Run("plain", f)
	t.Run("encrypted", func(t *testing.T) {
		testEnc = &EncryptionOptions{Keys: testKey("test")}
		t.Setenv(envEncrypt, "1") // for crash-test children
		defer func() { testEnc = nil }()
		f(t)
	})
}

func init() {
	if os.Getenv(envEncrypt) == "1" {
		testEnc = &EncryptionOptions{Keys: testKey("test")}
	}
}
