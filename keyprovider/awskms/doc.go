// Package awskms is a keyprovider.Provider over AWS KMS: data keys come
// from GenerateDataKey under a customer-managed KMS key and are unwrapped
// with Decrypt, through aws-sdk-go-v2 (the SDK stays in this package, so
// importing kb/localindex or agent does not pull it in).
//
// Every call sends the provider's encryption context, which KMS binds to
// the wrapped key, and Decrypt names the KMS key it expects (and then the
// previous ones), as AWS recommends, so a wrapped key made under another
// KMS key is refused. To move to a new KMS key, create the provider with
// the new key and the old one in Options.PreviousKeyIDs, open the store
// and call its RotateKey; afterwards the old key is no longer needed.
// Automatic rotation of a KMS key's material needs nothing from the
// caller.
//
// Errors: a wrapped key KMS refuses as made under another key or context
// (InvalidCiphertextException, IncorrectKeyException) matches
// keyprovider.ErrWrongKey; a key KMS cannot use (NotFoundException,
// DisabledException, KMSInvalidStateException, KeyUnavailableException,
// AccessDeniedException, InvalidKeyUsageException) matches
// keyprovider.ErrKeyUnavailable; both also match the SDK's error (errors.As
// with the kms/types exception). Other errors (throttling, network) are
// returned wrapped as they are; the SDK client's retryer retries them.
package awskms
