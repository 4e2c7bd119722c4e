package awskms_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"go.uber.org/goleak"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
	"github.com/bedrockkit/bedrockkit/keyprovider"
	"github.com/bedrockkit/bedrockkit/keyprovider/awskms"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var bg = context.Background()

func provider(t *testing.T, f *bedrockkittest.FakeKMS, key string, o awskms.Options) *awskms.Provider {
	t.Helper()
	p, err := awskms.New(f.Client(), key, o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func records(from, to int) []kbstore.Record {
	var out []kbstore.Record
	for i := from; i < to; i++ {
		out = append(out, kbstore.Record{ID: strconv.Itoa(i), DocumentID: "d" + strconv.Itoa(i), Text: "text " + strconv.Itoa(i),
			Vector: []float32{float32(i%7) + 1, float32(i%5) + 1, float32(i%3) + 1}})
	}
	return out
}

// TestLocalindexOverKMS: an encrypted index whose data key is wrapped by
// KMS through the real SDK client: reopened with the key, refused under
// another KMS key, another encryption context or a disabled key, and
// moved to a new KMS key with RotateKey.
func TestLocalindexOverKMS(t *testing.T) {
	f := bedrockkittest.NewFakeKMS(t)
	k1, k2 := f.CreateKey(), f.CreateKey()
	f.CreateAlias("alias/index", k1)
	dir := t.TempDir()
	open := func(p keyprovider.Provider) (*localindex.Index, error) {
		return localindex.Open(localindex.Options{Dir: dir, NoSync: true, Encryption: &localindex.EncryptionOptions{Keys: p}})
	}
	ix, err := open(provider(t, f, "alias/index", awskms.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Upsert(bg, records(0, 50)); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	if f.Calls("GenerateDataKey") != 1 {
		t.Fatalf("%d GenerateDataKey calls for one data key", f.Calls("GenerateDataKey"))
	}
	decrypts := f.Calls("Decrypt")
	ix, err = open(provider(t, f, k1, awskms.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if ix.Len() != 50 || f.Calls("Decrypt") != decrypts+1 {
		t.Fatalf("%d records, %d Decrypt calls for one open", ix.Len(), f.Calls("Decrypt")-decrypts)
	}
	ix.Close()
	var ik *types.IncorrectKeyException
	if _, err := open(provider(t, f, k2, awskms.Options{})); !errors.Is(err, keyprovider.ErrWrongKey) || !errors.As(err, &ik) {
		t.Fatalf("another KMS key: %v", err)
	}
	if _, err := open(provider(t, f, k1, awskms.Options{EncryptionContext: map[string]string{"app": "other"}})); !errors.Is(err, keyprovider.ErrWrongKey) {
		t.Fatalf("another encryption context: %v", err)
	}
	f.SetEnabled(k1, false)
	if _, err := open(provider(t, f, k1, awskms.Options{})); !errors.Is(err, keyprovider.ErrKeyUnavailable) {
		t.Fatalf("disabled key: %v", err)
	}
	f.SetEnabled(k1, true)
	f.FailNext("Decrypt", bedrockkittest.Fault{Code: "ThrottlingException"})
	if _, err := open(provider(t, f, k1, awskms.Options{})); err == nil || errors.Is(err, keyprovider.ErrWrongKey) {
		t.Fatalf("throttled: %v", err)
	}

	// Move to k2: open with k2 and k1 as previous, rotate; then k1 can be
	// disabled.
	ix, err = open(provider(t, f, k2, awskms.Options{PreviousKeyIDs: []string{k1}}))
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Upsert(bg, records(50, 60)); err != nil {
		t.Fatal(err)
	}
	if err := ix.RotateKey(bg); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	f.SetEnabled(k1, false)
	ix, err = open(provider(t, f, k2, awskms.Options{}))
	if err != nil {
		t.Fatalf("after moving to the new KMS key: %v", err)
	}
	defer ix.Close()
	if got, err := ix.Get(bg, "", []string{"0", "59"}); err != nil || len(got) != 2 || got[0].Text != "text 0" {
		t.Fatalf("records after the move: %v, %v", got, err)
	}
}

func TestFileMemoryOverKMS(t *testing.T) {
	f := bedrockkittest.NewFakeKMS(t)
	key := f.CreateKey()
	dir := t.TempDir()
	mem, err := agent.OpenFileMemory(bg, dir, agent.FileMemoryOptions{Keys: provider(t, f, key, awskms.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	if err := mem.Save(bg, &agent.Session{ID: "s", Messages: []bedrockkit.Message{bedrockkit.UserText("hello")}}); err != nil {
		t.Fatal(err)
	}
	mem, err = agent.OpenFileMemory(bg, dir, agent.FileMemoryOptions{Keys: provider(t, f, key, awskms.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := mem.Load(bg, "s"); err != nil || s.Messages[0].Text() != "hello" {
		t.Fatalf("Load: %v", err)
	}
	if _, err := agent.OpenFileMemory(bg, dir, agent.FileMemoryOptions{Keys: provider(t, f, f.CreateKey(), awskms.Options{})}); !errors.Is(err, keyprovider.ErrWrongKey) {
		t.Fatalf("another KMS key: %v", err)
	}
}

func TestNewRefusesMissingArguments(t *testing.T) {
	if _, err := awskms.New(nil, "k", awskms.Options{}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatal(err)
	}
	f := bedrockkittest.NewFakeKMS(t)
	if _, err := awskms.New(f.Client(), "", awskms.Options{}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatal(err)
	}
}
