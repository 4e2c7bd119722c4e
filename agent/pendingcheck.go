package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/bedrockkit/bedrockkit"
)

// authenticate decides whether Resume may trust what p claims, and returns
// the claim (the signed one, for a token) with the digest the token binds
// it to ("" when there is no token).
func (a *Agent) authenticate(p *Pending) (*Pending, string, error) {
	if p.origin == originRun || p.origin == originStored {
		return p, "", nil // the value Run returned in this process, or the stored pause itself
	}
	refuse := func(sentinel error, reason string) error {
		return &PendingError{PendingID: p.ID, SessionID: p.SessionID, Err: sentinel, Reason: reason}
	}
	if p.token == "" {
		if a.Pause.InsecureAllowUnsigned {
			return p, "", nil
		}
		return nil, "", refuse(ErrPendingUnsigned, "it carries no signature (built by hand, or encoded by an agent without Pause.Key)")
	}
	if len(a.Pause.Key) == 0 && len(a.Pause.PreviousKeys) == 0 {
		if a.Pause.InsecureAllowUnsigned {
			return p, "", nil
		}
		return nil, "", refuse(ErrPendingUnsigned, "it is signed, but this agent has no Pause.Key to check the signature; give the agent the key that signed it")
	}
	tp, signed, err := verifyToken(p.token, a.Pause)
	if err != nil {
		var pe *PendingError
		if errors.As(err, &pe) && pe.PendingID == "" {
			pe.PendingID, pe.SessionID = p.ID, p.SessionID
		}
		return nil, "", err
	}
	if tp.Agent != a.Name {
		return nil, "", refuse(ErrPendingTampered, fmt.Sprintf("it was signed for agent %q, and this agent is %q", tp.Agent, a.Name))
	}
	if !bytes.Equal(canonicalView(p), canonicalView(signed)) {
		return nil, "", refuse(ErrPendingTampered, "its fields were changed after it was decoded from its token")
	}
	return signed, tp.Digest, nil
}

// maxUsageTokens bounds each stored token count: far above any real turn,
// far below an overflow of their sum.
const maxUsageTokens = 1 << 40

// checkStored checks the stored pause against what the caller claims (and
// the token's digest), its expiry, and that it is a pause this agent could
// have made: only calls the model made, each of the kind its tool asks for,
// with the idempotency key derived from this session, and counters within
// the agent's limits. r.sess must be loaded.
func (r *runner) checkStored(stored, claimed *Pending, digest string) error {
	if err := checkClaim(stored, claimed, digest); err != nil {
		return err
	}
	if err := r.checkCounters(stored); err != nil {
		return err
	}
	return r.checkCalls(stored)
}

// tamperedPause is the error for a stored pause that no run could have made.
func tamperedPause(p *Pending, format string, args ...any) error {
	return &PendingError{PendingID: p.ID, SessionID: p.SessionID, Err: ErrPendingTampered, Reason: fmt.Sprintf(format, args...)}
}

// checkClaim checks that the stored pause is the one the token was signed
// for (digest, "" without a token) and the one the caller claims, and that
// it has not expired.
func checkClaim(stored, claimed *Pending, digest string) error {
	if digest != "" {
		d, err := digestPending(stored)
		if err != nil {
			return fmt.Errorf("agent: encode stored pause %s: %w", stored.ID, err)
		}
		if d != digest {
			return tamperedPause(stored, "the stored pause differs from the one its token was signed for")
		}
	}
	if !bytes.Equal(canonicalView(claimed), canonicalView(stored)) {
		return tamperedPause(stored, "it differs from the stored pause (session, turn, expiry or calls: IDs, tools, arguments, kinds)")
	}
	if !stored.ExpiresAt.IsZero() && !time.Now().Before(stored.ExpiresAt) {
		return &PendingError{PendingID: stored.ID, SessionID: stored.SessionID, Err: ErrPendingExpired,
			Reason: "it expired at " + stored.ExpiresAt.Format(time.RFC3339)}
	}
	return nil
}

// checkCounters checks that the stored pause belongs to this session and
// turn, that its counters are within the agent's limits, and that its turn
// starts with the user's input.
func (r *runner) checkCounters(stored *Pending) error {
	u := stored.Usage
	switch {
	case stored.SessionID != r.sess.ID:
		return tamperedPause(stored, "the stored pause names session %q", stored.SessionID)
	case stored.Turn != r.sess.Turns:
		return tamperedPause(stored, "it is for turn %d and the session is at turn %d", stored.Turn, r.sess.Turns)
	case stored.Iteration < 1 || stored.Iteration > r.limits.MaxIterations:
		return tamperedPause(stored, "its iteration %d is outside 1..%d (Limits.MaxIterations)", stored.Iteration, r.limits.MaxIterations)
	case stored.InvalidCalls < 0 || stored.InvalidCalls > r.limits.MaxToolRetries:
		return tamperedPause(stored, "its count of invalid calls %d is outside 0..%d (Limits.MaxToolRetries)", stored.InvalidCalls, r.limits.MaxToolRetries)
	case !tokensInRange(u.InputTokens) || !tokensInRange(u.OutputTokens) || !tokensInRange(u.CacheReadTokens) || !tokensInRange(u.CacheWriteTokens):
		return tamperedPause(stored, "its token usage %+v is out of range", u)
	case len(stored.Messages) < 2 || stored.Messages[0].Role != bedrockkit.RoleUser:
		return tamperedPause(stored, "its turn does not start with the user's input")
	}
	return nil
}

// checkCalls checks that every call of the model's last message is either
// pending (each as its tool asks, with this session's idempotency key) or
// has a result, and that the pause holds nothing else.
func (r *runner) checkCalls(stored *Pending) error {
	last := stored.Messages[len(stored.Messages)-1]
	made := map[string]bedrockkit.ToolCall{}
	if last.Role == bedrockkit.RoleAssistant {
		for _, c := range last.ToolCalls() {
			if c.ID == "" || made[c.ID].ID != "" {
				return tamperedPause(stored, "the model's call ID %q is empty or repeated", c.ID)
			}
			made[c.ID] = c
		}
	}
	if len(made) == 0 {
		return tamperedPause(stored, "its last message holds no tool call of the model's")
	}
	waiting := map[string]bool{}
	for _, pc := range stored.Calls {
		if err := r.checkPendingCall(stored, pc, made, waiting); err != nil {
			return err
		}
		waiting[pc.Call.ID] = true
	}
	known := map[string]bool{}
	for _, res := range stored.Results {
		if _, ok := made[res.CallID]; !ok || waiting[res.CallID] || known[res.CallID] {
			return tamperedPause(stored, "it holds a result for call %q, which is not one of the model's other calls", res.CallID)
		}
		known[res.CallID] = true
	}
	if len(known)+len(waiting) != len(made) {
		return tamperedPause(stored, "some of the model's calls have neither a result nor a pending entry")
	}
	return nil
}

// checkPendingCall checks one pending call against the call the model made
// and the tool it names.
func (r *runner) checkPendingCall(stored *Pending, pc PendingCall, made map[string]bedrockkit.ToolCall, waiting map[string]bool) error {
	c, ok := made[pc.Call.ID]
	switch {
	case !ok:
		return tamperedPause(stored, "call %q is not one the model made", pc.Call.ID)
	case waiting[c.ID]:
		return tamperedPause(stored, "call %q is pending twice", c.ID)
	case c.Name != pc.Call.Name || !sameInput(c.Input, pc.Call.Input):
		return tamperedPause(stored, "call %q differs from the model's (tool %q with %s)", c.ID, c.Name, c.Input)
	case pc.IdempotencyKey != r.key(c.ID):
		return tamperedPause(stored, "call %q has an idempotency key not derived from this session and turn", c.ID)
	}
	t := r.tools[c.Name]
	if t == nil {
		return fmt.Errorf("agent: pending call %q names tool %q, which this agent does not have; resume with the tools the run paused with: %w", c.ID, c.Name, bedrockkit.ErrInvalidInput)
	}
	want := KindConfirm
	if t.returnControl {
		want = KindReturnControl
	} else if !t.confirm {
		want = ""
	}
	if pc.Kind != want {
		return tamperedPause(stored, "call %q waits as %q, but tool %q asks for %q", c.ID, pc.Kind, c.Name, want)
	}
	return nil
}

func tokensInRange(n int) bool { return n >= 0 && n <= maxUsageTokens }

// sameInput compares tool arguments, reading empty as {} as Validate does.
func sameInput(a, b json.RawMessage) bool {
	a, b = bytes.TrimSpace(a), bytes.TrimSpace(b)
	if len(a) == 0 {
		a = json.RawMessage(`{}`)
	}
	if len(b) == 0 {
		b = json.RawMessage(`{}`)
	}
	return bytes.Equal(a, b)
}

// checkDecision refuses a result or reason a tool result cannot carry.
func (a *Agent) checkDecision(d Decision) error {
	limit := a.Pause.maxResultBytes()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("agent: call %q: %s: %w", d.CallID, fmt.Sprintf(format, args...), ErrInvalidDecision)
	}
	if !utf8.ValidString(d.Reason) {
		return bad("the reason is not valid UTF-8")
	}
	if len(d.Reason) > limit {
		return bad("the reason has %d bytes, over Pause.MaxResultBytes (%d)", len(d.Reason), limit)
	}
	if d.Result == nil {
		return nil
	}
	n := 0
	for i, p := range d.Result.Parts {
		switch p := p.(type) {
		case bedrockkit.Text:
			if !utf8.ValidString(p.Text) {
				return bad("part %d: text is not valid UTF-8", i)
			}
			n += len(p.Text)
		case bedrockkit.JSON:
			if !json.Valid(p.Value) {
				return bad("part %d: JSON content is not valid JSON", i)
			}
			n += len(p.Value)
		case bedrockkit.Image:
			n += len(p.Bytes) + len(p.S3URI)
		case bedrockkit.Document:
			if !utf8.ValidString(p.Text) || !utf8.ValidString(p.Name) {
				return bad("part %d: document text or name is not valid UTF-8", i)
			}
			n += len(p.Bytes) + len(p.Text) + len(p.Name) + len(p.S3URI)
		default:
			return bad("part %d is a %T; a tool result holds text, JSON, images and documents", i, p)
		}
		if n > limit {
			return bad("the result is over Pause.MaxResultBytes (%d bytes)", limit)
		}
	}
	return nil
}
