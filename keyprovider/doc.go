// Package keyprovider wraps and unwraps the data keys that encrypt
// bedrockkit's files at rest (envelope encryption): kb/localindex's log,
// snapshots and graph files, and agent.FileMemory's session files.
//
// Each store encrypts its files with AES-256-GCM under a random data key.
// The data key itself is stored only wrapped (encrypted) by a key
// provider: AWS KMS (package keyprovider/awskms, GenerateDataKey and
// Decrypt under a customer-managed key) or a key-encryption key the caller
// holds (Static). A Provider is the two calls; any type with these methods
// can be passed to localindex.EncryptionOptions.Keys and
// agent.FileMemoryOptions.Keys.
//
// Errors: a provider that cannot unwrap a data key because it was wrapped
// under another key returns an error matching ErrWrongKey; one that cannot
// reach or use its key (no key, a disabled KMS key, access denied) returns
// one matching ErrKeyUnavailable. The stores wrap both and fail to open
// rather than read anything.
package keyprovider
