package credentials

import (
	"fmt"
	"log/slog"
)

// Redacted is what a Secret prints as.
const Redacted = "[REDACTED]"

// Secret is a credential's text. It prints, formats (%v, %s, %q, %#v),
// marshals to JSON and text, and logs through log/slog as Redacted; only
// Reveal returns the text. The zero Secret is empty.
type Secret struct {
	v string
}

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{v: s} }

// Reveal returns the secret's text. Call it only where the text goes on
// the wire.
func (s Secret) Reveal() string { return s.v }

// Empty reports whether the secret has no text.
func (s Secret) Empty() bool { return s.v == "" }

// String returns Redacted.
func (s Secret) String() string { return Redacted }

// GoString returns Redacted.
func (s Secret) GoString() string { return Redacted }

// Format writes Redacted for every verb.
func (s Secret) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(Redacted)) }

// MarshalJSON encodes the secret as the JSON string "[REDACTED]".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText returns Redacted.
func (s Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// LogValue returns Redacted for log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }
