// Package envelope encrypts bedrockkit's files at rest: AES-256-GCM under
// per-file keys derived (HKDF-SHA256) from a data key and a random salt,
// with the data keys kept only wrapped by a key provider in key files.
//
// A sealed blob names its data key and salt and carries its nonce counter,
// so every blob opens on its own (a damaged file header loses nothing);
// the reader supplies the associated data (file kind, file name, log
// position), so a blob opens only where it was written. Nonces never
// repeat under a key: each file is sealed by one Sealer, whose key is
// fresh (random salt) and whose counter only goes up.
package envelope
