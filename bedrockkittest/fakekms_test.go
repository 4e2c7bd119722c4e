package bedrockkittest_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

func TestFakeKMSDataKeys(t *testing.T) {
	ctx := context.Background()
	f := bedrockkittest.NewFakeKMS(t)
	c := f.Client()
	arn := f.CreateKey()
	other := f.CreateKey()
	if err := f.CreateAlias("alias/app", arn); err != nil {
		t.Fatal(err)
	}
	ec := map[string]string{"purpose": "test", "dir": "/data"}
	for _, name := range []string{arn, arn[len("arn:aws:kms:us-east-1:111122223333:key/"):], "alias/app", "arn:aws:kms:us-east-1:111122223333:alias/app"} {
		out, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(name), KeySpec: types.DataKeySpecAes256, EncryptionContext: ec})
		if err != nil {
			t.Fatalf("GenerateDataKey(%s): %v", name, err)
		}
		if len(out.Plaintext) != 32 || aws.ToString(out.KeyId) != arn || bytes.Contains(out.CiphertextBlob, out.Plaintext) {
			t.Fatalf("GenerateDataKey(%s): %d-byte key, KeyId %s", name, len(out.Plaintext), aws.ToString(out.KeyId))
		}
		dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionContext: ec})
		if err != nil || !bytes.Equal(dec.Plaintext, out.Plaintext) || aws.ToString(dec.KeyId) != arn || dec.EncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault {
			t.Fatalf("Decrypt: %+v, %v", dec, err)
		}
		// KeyId pinned to the right key works; to another key fails.
		if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionContext: ec, KeyId: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		var ik *types.IncorrectKeyException
		if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionContext: ec, KeyId: aws.String(other)}); !errors.As(err, &ik) {
			t.Fatalf("Decrypt with another KeyId: %v", err)
		}
		// Another encryption context, a damaged blob: InvalidCiphertext.
		var ic *types.InvalidCiphertextException
		for _, in := range []*kms.DecryptInput{
			{CiphertextBlob: out.CiphertextBlob},
			{CiphertextBlob: out.CiphertextBlob, EncryptionContext: map[string]string{"purpose": "test", "dir": "/other"}},
			{CiphertextBlob: append(bytes.Clone(out.CiphertextBlob[:len(out.CiphertextBlob)-1]), out.CiphertextBlob[len(out.CiphertextBlob)-1]^1), EncryptionContext: ec},
			{CiphertextBlob: []byte("not a blob"), EncryptionContext: ec},
		} {
			if _, err := c.Decrypt(ctx, in); !errors.As(err, &ic) {
				t.Fatalf("Decrypt of a bad blob or context: %v", err)
			}
		}
	}
	n := int32(64)
	if out, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(arn), NumberOfBytes: &n}); err != nil || len(out.Plaintext) != 64 {
		t.Fatalf("NumberOfBytes 64: %v", err)
	}
	if f.Calls("GenerateDataKey") != 5 || f.Calls("Decrypt") < 20 {
		t.Fatalf("calls %d %d", f.Calls("GenerateDataKey"), f.Calls("Decrypt"))
	}
}

func TestFakeKMSRefusesWhatKMSRefuses(t *testing.T) {
	ctx := context.Background()
	f := bedrockkittest.NewFakeKMS(t)
	c := f.Client()
	arn := f.CreateKey()
	n := int32(32)
	zero := int32(0)
	var nf *types.NotFoundException
	for name, in := range map[string]*kms.GenerateDataKeyInput{
		"both":      {KeyId: aws.String(arn), KeySpec: types.DataKeySpecAes256, NumberOfBytes: &n},
		"neither":   {KeyId: aws.String(arn)},
		"zero":      {KeyId: aws.String(arn), NumberOfBytes: &zero},
		"bad spec":  {KeyId: aws.String(arn), KeySpec: "AES_512"},
		"no key id": {KeySpec: types.DataKeySpecAes256},
	} {
		_, err := c.GenerateDataKey(ctx, in)
		var ae smithy.APIError
		if name == "no key id" { // the SDK checks the required member itself
			if err == nil {
				t.Fatal("no key id: accepted")
			}
			continue
		}
		if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if _, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String("alias/none"), KeySpec: types.DataKeySpecAes256}); !errors.As(err, &nf) {
		t.Fatalf("unknown alias: %v", err)
	}
	out, _ := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(arn), KeySpec: types.DataKeySpecAes256})
	// Rotation: new material for new keys, the old blob still decrypts.
	f.RotateKeyMaterial(arn)
	out2, _ := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(arn), KeySpec: types.DataKeySpecAes256})
	for _, o := range []*kms.GenerateDataKeyOutput{out, out2} {
		if d, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: o.CiphertextBlob}); err != nil || !bytes.Equal(d.Plaintext, o.Plaintext) {
			t.Fatalf("after rotation: %v", err)
		}
	}
	if aws.ToString(out.KeyMaterialId) == aws.ToString(out2.KeyMaterialId) {
		t.Fatal("rotation kept the key material ID")
	}
	// Disabled key, dry run, scripted faults, asymmetric algorithm.
	var de *types.DisabledException
	f.SetEnabled(arn, false)
	if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob}); !errors.As(err, &de) {
		t.Fatalf("disabled key: %v", err)
	}
	f.SetEnabled(arn, true)
	var dr *types.DryRunOperationException
	if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob, DryRun: aws.Bool(true)}); !errors.As(err, &dr) {
		t.Fatalf("dry run: %v", err)
	}
	f.FailNext("Decrypt", bedrockkittest.Fault{Code: "KMSInternalException"})
	var ie *types.KMSInternalException
	if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob}); !errors.As(err, &ie) {
		t.Fatalf("scripted fault: %v", err)
	}
	var ku *types.InvalidKeyUsageException
	if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256}); !errors.As(err, &ku) {
		t.Fatalf("asymmetric algorithm: %v", err)
	}
	if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob}); err != nil {
		t.Fatal(err)
	}
}
