package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	josejson "github.com/go-jose/go-jose/v4/json"

	"github.com/bedrockkit/bedrockkit"
)

// PendingKind says what a paused call waits for.
type PendingKind string

// Pending kinds.
const (
	// KindConfirm: the tool needs the caller's approval before it runs
	// (answer with Approve or Deny).
	KindConfirm PendingKind = "confirm"
	// KindReturnControl: the caller runs the tool and supplies its result
	// (answer with Respond or RespondError).
	KindReturnControl PendingKind = "return_control"
)

// PendingCall is one tool call waiting for the caller.
type PendingCall struct {
	Call bedrockkit.ToolCall
	Kind PendingKind
	// IdempotencyKey identifies the call across retries; pass it on to any
	// external system the call changes.
	IdempotencyKey string
}

// Pending is a paused run: the tool calls waiting for approval or for their
// results. Give it to Agent.Resume with a Decision for each call.
//
// The run's state stays in the agent's Memory; a Pending only names the
// pause and shows its calls. Resume always continues the stored pause, and
// only if the Pending agrees with it: a pause resumes once, only with the
// calls the model made, and only before it expires (PauseOptions.TTL).
//
// In the process that paused, pass the *Pending Run returned (or a copy of
// it) as it is; a server that authenticates its clients itself may also
// pass the Session.Pending it loads from Memory. To hand a pause to someone else — a browser, another
// service, a queue — set Agent.Pause.Key and send the signed form:
// MarshalBinary gives an opaque token, and json.Marshal a JSON object with
// the calls (for display) and that token. Decode what comes back with
// UnmarshalBinary or json.Unmarshal and resume with it; Resume checks the
// signature, the expiry and that the state matches the stored pause. The
// signed form is safe to give to an untrusted client: it carries the
// calls' names and arguments but not the conversation, and any change to it
// makes Resume fail with ErrPendingTampered. A decoded Pending holds only
// the fields the signed form carries (ID, SessionID, Turn, Calls,
// ExpiresAt).
type Pending struct {
	// ID identifies this pause (Bedrock's invocationId).
	ID        string
	SessionID string
	// Turn is the index of the paused turn in the session.
	Turn int
	// Iteration is the number of model calls made so far in the turn.
	Iteration int
	// Messages is the turn so far; the last one is the assistant message
	// holding the calls.
	Messages []bedrockkit.Message
	// Calls are the calls waiting for the caller, in the model's order.
	Calls []PendingCall
	// Results are the results already known for the other calls of the last
	// message (tools that ran, or invalid calls).
	Results []bedrockkit.ToolResult
	// Usage is the token usage of the turn so far.
	Usage bedrockkit.Usage
	// PromptAttributes are the turn's prompt attributes.
	PromptAttributes map[string]string
	// InvalidCalls counts invalid tool calls in the turn so far.
	InvalidCalls int
	// ExpiresAt is when the pause can no longer be resumed
	// (PauseOptions.TTL after it paused); zero means never.
	ExpiresAt time.Time

	// origin says where this value came from, for Resume's checks.
	origin pendingOrigin
	// token is the signed form (empty when the agent had no Pause.Key).
	token string
}

// pendingOrigin says where a *Pending came from.
type pendingOrigin uint8

const (
	// originUnknown: built by hand, or decoded from a form without a
	// signature; Resume refuses it unless PauseOptions.InsecureAllowUnsigned.
	originUnknown pendingOrigin = iota
	// originRun: returned by Run or Resume in this process.
	originRun
	// originStored: decoded from a Session, that is, read from a Memory
	// (Session.Pending): the stored pause itself.
	originStored
)

// PauseOptions secure paused runs that leave the process (see Pending). The
// zero value keeps paused runs in the process: Resume accepts the *Pending
// that Run returned, and refuses a decoded one with ErrPendingUnsigned.
type PauseOptions struct {
	// Key signs the pending state handed out of the process (HMAC-SHA256,
	// as a compact JWS) and verifies it on Resume. Use at least 32 random
	// bytes (crypto/rand), keep them secret, and give every process that
	// resumes the same key. Shorter keys make Run and Resume fail.
	Key []byte
	// PreviousKeys still verify pending states signed before the key was
	// changed; they never sign. Drop a key once TTL has passed since it was
	// replaced.
	PreviousKeys [][]byte
	// TTL is how long a pause can be resumed; 0 means 24 hours, a negative
	// value means no expiry.
	TTL time.Duration
	// MaxResultBytes bounds what a caller may put in one decision: the
	// parts of a Respond or RespondError result, the reason of a Deny.
	// 0 means 1 MiB.
	MaxResultBytes int
	// ResumeLease is how long a Resume holds its pause against a second
	// Resume of the same pause (which fails with ErrConflict meanwhile, so
	// that a double submission does not run the approved tools twice). A
	// Resume that returns, even with an error, releases it; the lease only
	// matters when a process dies while resuming. 0 means 10 minutes.
	ResumeLease time.Duration
	// InsecureAllowUnsigned makes Resume accept a pending state that is
	// neither the value Run returned nor signed with Key: hand-built or
	// decoded from an unsigned form. It is still checked against the
	// stored pause, so it cannot run calls the model did not make, but
	// anyone who learns a pause's ID and session can resume it. Use it only
	// when every caller of Resume is trusted.
	InsecureAllowUnsigned bool
}

const defaultPauseTTL = 24 * time.Hour

func (o PauseOptions) resumeLease() time.Duration {
	if o.ResumeLease <= 0 {
		return 10 * time.Minute
	}
	return o.ResumeLease
}

func (o PauseOptions) ttl() time.Duration {
	if o.TTL == 0 {
		return defaultPauseTTL
	}
	return o.TTL
}

func (o PauseOptions) maxResultBytes() int {
	if o.MaxResultBytes <= 0 {
		return 1 << 20
	}
	return o.MaxResultBytes
}

// minKeyBytes is the shortest key HMAC-SHA256 may use (RFC 7518, 3.2).
const minKeyBytes = 32

func (o PauseOptions) check() error {
	if len(o.Key) > 0 && len(o.Key) < minKeyBytes {
		return fmt.Errorf("agent: Agent.Pause.Key has %d bytes; use at least %d random bytes (crypto/rand): %w", len(o.Key), minKeyBytes, bedrockkit.ErrInvalidInput)
	}
	for i, k := range o.PreviousKeys {
		if len(k) < minKeyBytes {
			return fmt.Errorf("agent: Agent.Pause.PreviousKeys[%d] has %d bytes; keys have at least %d: %w", i, len(k), minKeyBytes, bedrockkit.ErrInvalidInput)
		}
	}
	return nil
}

// MaxPendingBytes bounds the encoded pending state that UnmarshalBinary and
// UnmarshalJSON accept; longer input fails without being parsed.
const MaxPendingBytes = 4 << 20

// maxPendingCalls bounds the calls one decoded pending state may hold.
const maxPendingCalls = 1024

// pendingView is the JSON form of a Pending given to callers: what a client
// needs to show the calls, and the signed token to send back.
type pendingView struct {
	Version   int               `json:"version"`
	ID        string            `json:"id"`
	SessionID string            `json:"session_id"`
	Turn      int               `json:"turn"`
	ExpiresAt string            `json:"expires_at,omitempty"`
	Calls     []wirePendingCall `json:"calls"`
	Token     string            `json:"token,omitempty"`
}

const viewFormat = 2

func (p *Pending) view() pendingView {
	v := pendingView{Version: viewFormat, ID: p.ID, SessionID: p.SessionID, Turn: p.Turn, Calls: encodeCalls(p.Calls)}
	if !p.ExpiresAt.IsZero() {
		v.ExpiresAt = p.ExpiresAt.UTC().Format(time.RFC3339Nano)
	}
	return v
}

// canonicalView encodes what a Pending shows — ID, session, turn, expiry
// and calls — in one normal form, so that two states can be compared
// whatever whitespace, escaping or key order their call arguments went
// through on the way (a client may re-encode them). Resume runs the stored
// arguments, never the compared ones.
func canonicalView(p *Pending) []byte {
	v := p.view()
	for i, c := range v.Calls {
		if len(c.Input) > 0 {
			v.Calls[i].Input = canonicalJSON(c.Input)
		}
	}
	b, err := json.Marshal(v)
	if err != nil { // call inputs are valid JSON or carried as text
		return nil
	}
	return b
}

// canonicalJSON re-encodes valid JSON with object keys sorted and no
// insignificant space; numbers keep their text.
func canonicalJSON(b json.RawMessage) json.RawMessage {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return b
	}
	out, err := json.Marshal(v)
	if err != nil {
		return b
	}
	return out
}

// MarshalJSON encodes the pending state as a JSON object holding its ID,
// session, turn, expiry and calls, and, when the agent had Pause.Key set,
// the signed token. It leaves out the conversation, which stays in Memory.
func (p *Pending) MarshalJSON() ([]byte, error) {
	v := p.view()
	v.Token = p.token
	return json.Marshal(v)
}

// UnmarshalJSON decodes a pending state written by MarshalJSON. When it
// carries a token, the fields are taken from the token and must agree with
// the rest of the object. The signature is checked by Resume, which holds
// the key. Duplicate keys, input over MaxPendingBytes and values out of
// range are refused. Format 1 (the whole state, written by earlier
// versions) is read as unsigned.
func (p *Pending) UnmarshalJSON(b []byte) error {
	if len(b) > MaxPendingBytes {
		return &PendingError{Err: ErrPendingTampered, Reason: fmt.Sprintf("%d bytes of JSON, over MaxPendingBytes (%d)", len(b), MaxPendingBytes)}
	}
	var head struct {
		Version int `json:"version"`
	}
	if err := strictUnmarshal(b, &head); err != nil {
		return fmt.Errorf("agent: decode pending state: %w", err)
	}
	switch head.Version {
	case storedFormat:
		var w wirePending
		if err := strictUnmarshal(b, &w); err != nil {
			return fmt.Errorf("agent: decode pending state: %w", err)
		}
		q, err := fromStored(&w)
		if err != nil {
			return err
		}
		q.token = "" // an old or stored form carries no signature a client may rely on
		if err := q.checkShape(); err != nil {
			return err
		}
		*p = *q
		return nil
	case viewFormat:
	default:
		return fmt.Errorf("agent: pending state has format version %d, this build reads %d and %d: %w", head.Version, storedFormat, viewFormat, bedrockkit.ErrInvalidInput)
	}
	var v pendingView
	if err := strictUnmarshal(b, &v); err != nil {
		return fmt.Errorf("agent: decode pending state: %w", err)
	}
	q, err := fromView(v)
	if err != nil {
		return err
	}
	if v.Token != "" {
		signed, err := parseToken(v.Token)
		if err != nil {
			return err
		}
		if !bytes.Equal(canonicalView(q), canonicalView(signed)) {
			return &PendingError{PendingID: signed.ID, SessionID: signed.SessionID, Err: ErrPendingTampered,
				Reason: "the JSON object's fields differ from its signed token"}
		}
		q = signed
	}
	*p = *q
	return nil
}

// MarshalBinary returns the signed token: an opaque, URL-safe string (a
// compact JWS, HMAC-SHA256) that is safe to hand to an untrusted client. It
// fails with ErrPendingUnsigned when the agent that paused had no
// Pause.Key.
func (p *Pending) MarshalBinary() ([]byte, error) {
	if p.token == "" {
		return nil, &PendingError{PendingID: p.ID, SessionID: p.SessionID, Err: ErrPendingUnsigned,
			Reason: "it was made by an agent without Pause.Key"}
	}
	return []byte(p.token), nil
}

// UnmarshalBinary decodes a token written by MarshalBinary. It checks the
// token's structure only; Resume checks its signature with the agent's key.
func (p *Pending) UnmarshalBinary(b []byte) error {
	q, err := parseToken(string(b))
	if err != nil {
		return err
	}
	*p = *q
	return nil
}

// fromView checks and converts the JSON view.
func fromView(v pendingView) (*Pending, error) {
	p := &Pending{ID: v.ID, SessionID: v.SessionID, Turn: v.Turn}
	if v.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339Nano, v.ExpiresAt)
		if err != nil {
			return nil, fmt.Errorf("agent: pending state: expires_at: %v: %w", err, bedrockkit.ErrInvalidInput)
		}
		p.ExpiresAt = t.UTC()
	}
	if len(v.Calls) > maxPendingCalls {
		return nil, fmt.Errorf("agent: pending state holds %d calls, more than %d: %w", len(v.Calls), maxPendingCalls, bedrockkit.ErrInvalidInput)
	}
	p.Calls = decodeCalls(v.Calls)
	if err := p.checkShape(); err != nil {
		return nil, err
	}
	return p, nil
}

// checkShape refuses decoded values no pause produces.
func (p *Pending) checkShape() error {
	bad := func(format string, args ...any) error {
		return &PendingError{PendingID: p.ID, SessionID: p.SessionID, Err: ErrPendingTampered, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case p.ID == "" || p.SessionID == "":
		return bad("it has no ID or no session ID")
	case p.Turn < 0 || p.Iteration < 0 || p.InvalidCalls < 0:
		return bad("a counter is negative (turn %d, iteration %d, invalid calls %d)", p.Turn, p.Iteration, p.InvalidCalls)
	case len(p.Calls) == 0:
		return bad("it holds no pending call")
	}
	seen := make(map[string]bool, len(p.Calls))
	for _, c := range p.Calls {
		if c.Call.ID == "" || seen[c.Call.ID] {
			return bad("call ID %q is empty or repeated", c.Call.ID)
		}
		seen[c.Call.ID] = true
		if c.Kind != KindConfirm && c.Kind != KindReturnControl {
			return bad("call %q has kind %q", c.Call.ID, c.Kind)
		}
	}
	return nil
}

type wirePendingCall struct {
	ID             string          `json:"id"`
	Name           string          `json:"name"`
	Input          json.RawMessage `json:"input,omitempty"`
	InputText      string          `json:"input_text,omitempty"`
	Kind           PendingKind     `json:"kind"`
	IdempotencyKey string          `json:"idempotency_key"`
}

func encodeCalls(cs []PendingCall) []wirePendingCall {
	out := make([]wirePendingCall, 0, len(cs))
	for _, c := range cs {
		wc := wirePendingCall{ID: c.Call.ID, Name: c.Call.Name, Input: c.Call.Input, Kind: c.Kind, IdempotencyKey: c.IdempotencyKey}
		if len(wc.Input) > 0 && !json.Valid(wc.Input) {
			wc.Input, wc.InputText = nil, string(c.Call.Input)
		}
		out = append(out, wc)
	}
	return out
}

func decodeCalls(ws []wirePendingCall) []PendingCall {
	var out []PendingCall
	for _, c := range ws {
		in := c.Input
		if c.InputText != "" {
			in = json.RawMessage(c.InputText)
		}
		out = append(out, PendingCall{Call: bedrockkit.ToolCall{ID: c.ID, Name: c.Name, Input: in}, Kind: c.Kind, IdempotencyKey: c.IdempotencyKey})
	}
	return out
}

// wirePending is the stored form of a Pending, inside a Session. Format 1
// is also what earlier versions gave callers.
type wirePending struct {
	Version          int               `json:"version"`
	ID               string            `json:"id"`
	SessionID        string            `json:"session_id"`
	Turn             int               `json:"turn"`
	Iteration        int               `json:"iteration"`
	Messages         []wireMessage     `json:"messages"`
	Calls            []wirePendingCall `json:"calls"`
	Results          []wirePart        `json:"results,omitempty"`
	Usage            bedrockkit.Usage  `json:"usage"`
	PromptAttributes map[string]string `json:"prompt_attributes,omitempty"`
	InvalidCalls     int               `json:"invalid_calls,omitempty"`
	// ExpiresAt is in Unix nanoseconds; 0 means no expiry.
	ExpiresAt int64 `json:"expires_at,omitempty"`
	// Token is the signed form given to callers, kept so that a pause
	// loaded from Memory can be handed out again.
	Token string `json:"token,omitempty"`
}

const storedFormat = 1

// toStored encodes p for storage.
func toStored(p *Pending) (*wirePending, error) {
	ms, err := encodeMessages(p.Messages)
	if err != nil {
		return nil, err
	}
	rs, err := encodeResults(p.Results)
	if err != nil {
		return nil, err
	}
	w := &wirePending{Version: storedFormat, ID: p.ID, SessionID: p.SessionID, Turn: p.Turn,
		Iteration: p.Iteration, Messages: ms, Calls: encodeCalls(p.Calls), Results: rs, Usage: p.Usage,
		PromptAttributes: p.PromptAttributes, InvalidCalls: p.InvalidCalls, Token: p.token}
	if !p.ExpiresAt.IsZero() {
		w.ExpiresAt = p.ExpiresAt.UnixNano()
	}
	return w, nil
}

// fromStored decodes a stored pending state.
func fromStored(w *wirePending) (*Pending, error) {
	if w.Version != storedFormat {
		return nil, fmt.Errorf("agent: stored pending state has format version %d, this build reads %d", w.Version, storedFormat)
	}
	ms, err := decodeMessages(w.Messages)
	if err != nil {
		return nil, err
	}
	rs, err := decodeResults(w.Results)
	if err != nil {
		return nil, err
	}
	p := &Pending{ID: w.ID, SessionID: w.SessionID, Turn: w.Turn, Iteration: w.Iteration,
		Messages: ms, Calls: decodeCalls(w.Calls), Results: rs, Usage: w.Usage, PromptAttributes: w.PromptAttributes,
		InvalidCalls: w.InvalidCalls, token: w.Token}
	if w.ExpiresAt != 0 {
		p.ExpiresAt = time.Unix(0, w.ExpiresAt).UTC()
	}
	return p, nil
}

// strictUnmarshal decodes JSON refusing duplicate object keys, which
// encoding/json resolves silently (the last wins) and which would let one
// value be shown to a reviewer and another be acted on. Keys match field
// names exactly, not case-insensitively.
func strictUnmarshal(b []byte, v any) error {
	return josejson.Unmarshal(b, v)
}

// Decision answers one pending call. Build it with Approve, Deny, Respond or
// RespondError.
type Decision struct {
	CallID string
	// Approved answers a KindConfirm call.
	Approved bool
	// Reason is shown to the model when a call is denied.
	Reason string
	// Result answers a KindReturnControl call; nil for confirmations.
	Result *bedrockkit.ToolResult
}

// Approve lets a call that needs confirmation run.
func Approve(callID string) Decision { return Decision{CallID: callID, Approved: true} }

// Deny refuses a call that needs confirmation; the model is told it was
// denied, with reason.
func Deny(callID, reason string) Decision { return Decision{CallID: callID, Reason: reason} }

// Respond supplies the result of a return-of-control call. The parts may be
// text, JSON, images and documents (what a tool result holds in Bedrock),
// at most PauseOptions.MaxResultBytes in all.
func Respond(callID string, parts ...bedrockkit.Part) Decision {
	return Decision{CallID: callID, Result: &bedrockkit.ToolResult{CallID: callID, Parts: parts}}
}

// RespondError reports that the caller's run of a return-of-control call failed.
func RespondError(callID, message string) Decision {
	return Decision{CallID: callID, Result: &bedrockkit.ToolResult{CallID: callID, Parts: []bedrockkit.Part{bedrockkit.Text{Text: message}}, IsError: true}}
}
