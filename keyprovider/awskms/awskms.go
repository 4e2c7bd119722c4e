package awskms

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/keyprovider"
)

// Client is the part of *kms.Client the provider uses.
type Client interface {
	GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, optFns ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// Options configures a Provider. The zero value is usable.
type Options struct {
	// EncryptionContext is sent with every GenerateDataKey and Decrypt
	// call; KMS binds it to the wrapped key (a Decrypt with another
	// context fails) and records it in CloudTrail, so it must not hold
	// secrets. Nil means {"bedrockkit:purpose": "data-key"}.
	EncryptionContext map[string]string
	// PreviousKeyIDs are KMS keys that wrapped data keys earlier (before a
	// move to KeyID); Decrypt tries them, in order, when KMS says a
	// wrapped key was made under another key than KeyID.
	PreviousKeyIDs []string
}

// Provider makes and unwraps data keys with AWS KMS.
type Provider struct {
	client Client
	keyID  string
	o      Options
}

// New returns a Provider whose data keys are made under keyID (a key ID,
// key ARN, alias name such as "alias/bedrockkit", or alias ARN). It fails
// with bedrockkit.ErrInvalidInput for a nil client or an empty keyID.
func New(client Client, keyID string, opts Options) (*Provider, error) {
	if client == nil || keyID == "" {
		return nil, fmt.Errorf("awskms: a KMS client and a key ID are required: %w", bedrockkit.ErrInvalidInput)
	}
	if opts.EncryptionContext == nil {
		opts.EncryptionContext = map[string]string{"bedrockkit:purpose": "data-key"}
	} else {
		opts.EncryptionContext = maps.Clone(opts.EncryptionContext)
	}
	opts.PreviousKeyIDs = append([]string(nil), opts.PreviousKeyIDs...)
	return &Provider{client: client, keyID: keyID, o: opts}, nil
}

// GenerateDataKey returns a new AES-256 data key and its KMS ciphertext
// blob.
func (p *Provider) GenerateDataKey(ctx context.Context) ([]byte, []byte, error) {
	out, err := p.client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId:             aws.String(p.keyID),
		KeySpec:           types.DataKeySpecAes256,
		EncryptionContext: p.o.EncryptionContext,
	})
	if err != nil {
		return nil, nil, classify("GenerateDataKey under "+p.keyID, err)
	}
	if len(out.Plaintext) != keyprovider.DataKeySize || len(out.CiphertextBlob) == 0 {
		return nil, nil, fmt.Errorf("awskms: GenerateDataKey returned a %d-byte key and a %d-byte blob: %w", len(out.Plaintext), len(out.CiphertextBlob), keyprovider.ErrKeyUnavailable)
	}
	return out.Plaintext, out.CiphertextBlob, nil
}

// DecryptDataKey unwraps a KMS ciphertext blob, naming KeyID, then each of
// PreviousKeyIDs while KMS answers IncorrectKeyException.
func (p *Provider) DecryptDataKey(ctx context.Context, wrapped []byte) ([]byte, error) {
	var err error
	for _, id := range append([]string{p.keyID}, p.o.PreviousKeyIDs...) {
		var out *kms.DecryptOutput
		out, err = p.client.Decrypt(ctx, &kms.DecryptInput{
			CiphertextBlob:    wrapped,
			KeyId:             aws.String(id),
			EncryptionContext: p.o.EncryptionContext,
		})
		var ik *types.IncorrectKeyException
		if errors.As(err, &ik) {
			continue
		}
		if err != nil {
			return nil, classify("Decrypt", err)
		}
		if len(out.Plaintext) != keyprovider.DataKeySize {
			return nil, fmt.Errorf("awskms: Decrypt returned a %d-byte data key: %w", len(out.Plaintext), keyprovider.ErrWrongKey)
		}
		return out.Plaintext, nil
	}
	return nil, classify(fmt.Sprintf("Decrypt (the data key was wrapped under none of %s and %d previous keys)", p.keyID, len(p.o.PreviousKeyIDs)), err)
}

// classify wraps a KMS error with the keyprovider sentinel it means.
func classify(what string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "InvalidCiphertextException", "IncorrectKeyException":
			return fmt.Errorf("awskms: %s: %w (%w)", what, keyprovider.ErrWrongKey, err)
		case "NotFoundException", "DisabledException", "KMSInvalidStateException", "KeyUnavailableException",
			"AccessDeniedException", "InvalidKeyUsageException":
			return fmt.Errorf("awskms: %s: %w (%w)", what, keyprovider.ErrKeyUnavailable, err)
		}
	}
	return fmt.Errorf("awskms: %s: %w", what, err)
}

var _ keyprovider.Provider = (*Provider)(nil)
