package keyprovider_test

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/bedrockkit/bedrockkit/keyprovider"
)

// A Static provider wraps data keys under a key-encryption key you hold.
// To rotate it, put the new key first and keep the old one until every
// store has re-encrypted its data (localindex's Index.RotateKey,
// agent's FileMemory.RotateKey).
func ExampleNewStatic() {
	kek := make([]byte, 32)
	rand.Read(kek) // in practice: from your secrets manager
	p, err := keyprovider.NewStatic(keyprovider.StaticKey{ID: "kek-2026-01", Key: kek})
	if err != nil {
		panic(err)
	}
	dk, wrapped, _ := p.GenerateDataKey(context.Background())
	back, _ := p.DecryptDataKey(context.Background(), wrapped)
	fmt.Println(len(dk), string(back) == string(dk))
	// Output: 32 true
}
