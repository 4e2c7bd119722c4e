package agent

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/bedrockkit/bedrockkit"
)

// The signed form of a pause is a compact JWS (RFC 7515) with HMAC-SHA256:
// header.payload.signature, each base64url. The header names the key
// ("kid", a fingerprint, for key rotation) and the type; the payload is
// tokenPayload as JSON. go-jose does the JOSE work; this file only says what
// goes in and checks what comes out.

// pendingTokenType is the token's "typ" header. Checking it keeps other JWS
// signed with the same key (a JWT, say) from passing as a pending state.
const pendingTokenType = "bedrockkit-pending"

const tokenFormat = 1

// tokenPayload is what a signed pending state asserts.
type tokenPayload struct {
	Version int `json:"v"`
	// Agent is the pausing agent's Name: a token resumes only on an agent
	// of that name.
	Agent     string      `json:"agent,omitempty"`
	ID        string      `json:"id"`
	SessionID string      `json:"session_id"`
	Turn      int         `json:"turn"`
	Calls     []tokenCall `json:"calls"`
	// IssuedAt and ExpiresAt are Unix nanoseconds; ExpiresAt 0 means never.
	IssuedAt  int64 `json:"iat"`
	ExpiresAt int64 `json:"exp,omitempty"`
	// Digest is the SHA-256 of the whole paused state as stored (without
	// its token): the token resumes that state and no other.
	Digest string `json:"digest"`
}

// tokenCall is a pending call; Input keeps the model's exact bytes.
type tokenCall struct {
	ID             string      `json:"id"`
	Name           string      `json:"name"`
	Input          string      `json:"input"`
	Kind           PendingKind `json:"kind"`
	IdempotencyKey string      `json:"idempotency_key"`
}

// keyID names a key without revealing it.
func keyID(key []byte) string {
	h := sha256.Sum256(append([]byte("bedrockkit-pending-kid\x00"), key...))
	return hex.EncodeToString(h[:8])
}

// digestPending hashes the stored form of p, token left out. It encodes,
// decodes and encodes again, so that the digest of the value Run made
// equals the digest of the copy Memory gives back (encoding normalises
// escapes, invalid UTF-8 and the like).
func digestPending(p *Pending) (string, error) {
	w, err := toStored(p)
	if err != nil {
		return "", err
	}
	w.Token = ""
	b, err := json.Marshal(w)
	if err != nil {
		return "", err
	}
	var back wirePending
	if err := json.Unmarshal(b, &back); err != nil {
		return "", err
	}
	if b, err = json.Marshal(&back); err != nil {
		return "", err
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), nil
}

// signPending returns the token for p, issued now.
func signPending(key []byte, agentName string, p *Pending, now time.Time) (string, error) {
	digest, err := digestPending(p)
	if err != nil {
		return "", err
	}
	tp := tokenPayload{Version: tokenFormat, Agent: agentName, ID: p.ID, SessionID: p.SessionID, Turn: p.Turn,
		IssuedAt: now.UnixNano(), Digest: digest}
	if !p.ExpiresAt.IsZero() {
		tp.ExpiresAt = p.ExpiresAt.UnixNano()
	}
	for _, c := range p.Calls {
		tp.Calls = append(tp.Calls, tokenCall{ID: c.Call.ID, Name: c.Call.Name, Input: string(c.Call.Input), Kind: c.Kind, IdempotencyKey: c.IdempotencyKey})
	}
	payload, err := json.Marshal(tp)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: key},
		(&jose.SignerOptions{}).WithType(pendingTokenType).WithHeader("kid", keyID(key)))
	if err != nil {
		return "", fmt.Errorf("agent: sign pending state: %w", err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("agent: sign pending state: %w", err)
	}
	return obj.CompactSerialize()
}

// parseJWS parses a token's structure and header, not its signature.
func parseJWS(s string) (*jose.JSONWebSignature, error) {
	bad := func(reason string) error {
		return &PendingError{Err: ErrPendingTampered, Reason: reason}
	}
	if len(s) > MaxPendingBytes {
		return nil, bad(fmt.Sprintf("the token has %d bytes, over MaxPendingBytes (%d)", len(s), MaxPendingBytes))
	}
	obj, err := jose.ParseSignedCompact(s, []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		return nil, bad("it is not a compact JWS signed with HS256: " + err.Error())
	}
	if len(obj.Signatures) != 1 {
		return nil, bad("the token must carry exactly one signature")
	}
	h := obj.Signatures[0].Header
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != pendingTokenType || len(h.ExtraHeaders) != 1 || h.JSONWebKey != nil {
		return nil, bad(fmt.Sprintf("the token's header is not that of a pending state (typ %q)", h.ExtraHeaders[jose.HeaderType]))
	}
	return obj, nil
}

// decodePayload checks a token payload and converts it.
func decodePayload(b []byte, token string) (*tokenPayload, *Pending, error) {
	var tp tokenPayload
	if err := strictUnmarshal(b, &tp); err != nil {
		return nil, nil, &PendingError{Err: ErrPendingTampered, Reason: "the token's payload does not decode: " + err.Error()}
	}
	bad := func(reason string) error {
		return &PendingError{PendingID: tp.ID, SessionID: tp.SessionID, Err: ErrPendingTampered, Reason: reason}
	}
	switch {
	case tp.Version != tokenFormat:
		return nil, nil, bad(fmt.Sprintf("token format %d, this build reads %d", tp.Version, tokenFormat))
	case len(tp.Calls) > maxPendingCalls:
		return nil, nil, bad(fmt.Sprintf("it holds %d calls, more than %d", len(tp.Calls), maxPendingCalls))
	case tp.ExpiresAt < 0 || tp.IssuedAt < 0:
		return nil, nil, bad("a time is negative")
	}
	p := &Pending{ID: tp.ID, SessionID: tp.SessionID, Turn: tp.Turn, token: token}
	if tp.ExpiresAt != 0 {
		p.ExpiresAt = time.Unix(0, tp.ExpiresAt).UTC()
	}
	for _, c := range tp.Calls {
		p.Calls = append(p.Calls, PendingCall{Call: toolCall(c.ID, c.Name, c.Input), Kind: c.Kind, IdempotencyKey: c.IdempotencyKey})
	}
	if err := p.checkShape(); err != nil {
		return nil, nil, err
	}
	return &tp, p, nil
}

// parseToken decodes a token without checking its signature, for
// UnmarshalBinary and UnmarshalJSON; Resume verifies it.
func parseToken(s string) (*Pending, error) {
	obj, err := parseJWS(s)
	if err != nil {
		return nil, err
	}
	_, p, err := decodePayload(obj.UnsafePayloadWithoutVerification(), s)
	return p, err
}

// verifyToken checks a token's signature with the key its header names
// (Key or one of PreviousKeys) and returns what it asserts.
func verifyToken(s string, opts PauseOptions) (*tokenPayload, *Pending, error) {
	obj, err := parseJWS(s)
	if err != nil {
		return nil, nil, err
	}
	kid := obj.Signatures[0].Header.KeyID
	var key []byte
	for _, k := range append([][]byte{opts.Key}, opts.PreviousKeys...) {
		if len(k) > 0 && keyID(k) == kid {
			key = k
			break
		}
	}
	if key == nil {
		return nil, nil, &PendingError{Err: ErrPendingTampered, Reason: "it was signed with a key this agent does not have (Pause.Key, Pause.PreviousKeys)"}
	}
	payload, err := obj.Verify(key)
	if err != nil {
		return nil, nil, &PendingError{Err: ErrPendingTampered, Reason: "its signature does not verify"}
	}
	return decodePayload(payload, s)
}

func toolCall(id, name, input string) bedrockkit.ToolCall {
	c := bedrockkit.ToolCall{ID: id, Name: name}
	if input != "" {
		c.Input = json.RawMessage(input)
	}
	return c
}
