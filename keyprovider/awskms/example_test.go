package awskms_test

import (
	"context"
	"fmt"

	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
	"github.com/bedrockkit/bedrockkit/keyprovider/awskms"
)

// An index encrypted under a KMS key. Here the KMS is bedrockkittest's
// fake; in production pass kms.NewFromConfig(cfg) and your key's ARN or
// alias.
func Example() {
	fake := bedrockkittest.StartFakeKMS()
	defer fake.Close()
	keyARN := fake.CreateKey()

	keys, err := awskms.New(fake.Client(), keyARN, awskms.Options{
		EncryptionContext: map[string]string{"app": "support-bot"},
	})
	if err != nil {
		panic(err)
	}
	dir, cleanup := tempDir()
	defer cleanup()
	ix, err := localindex.Open(localindex.Options{Dir: dir, Encryption: &localindex.EncryptionOptions{Keys: keys}})
	if err != nil {
		panic(err)
	}
	ix.Upsert(context.Background(), []kbstore.Record{{ID: "1", DocumentID: "d", Text: "confidential", Vector: []float32{1, 0}}})
	ix.Close()

	ix, err = localindex.Open(localindex.Options{Dir: dir, Encryption: &localindex.EncryptionOptions{Keys: keys}})
	if err != nil {
		panic(err)
	}
	defer ix.Close()
	got, _ := ix.Get(context.Background(), "", []string{"1"})
	fmt.Println(got[0].Text)
	// Output: confidential
}
