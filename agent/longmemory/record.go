package longmemory

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bedrockkit/bedrockkit"
)

// MemoryRecord is one thing remembered about an actor: a fact, a
// preference, a session summary or what a custom strategy extracts. It
// mirrors AgentCore Memory's memory record, plus the actor, a topic and the
// provenance (source events and change history) that consolidation keeps.
type MemoryRecord struct {
	// ID identifies the record; backends assign it on create ("mem-...").
	ID string `json:"id"`
	// Actor is whose record it is (see ActorFrom).
	Actor string `json:"actor"`
	// Namespace groups the actor's records by strategy (and session for
	// summaries), such as "/facts/u-abc"; retrieval searches namespaces.
	Namespace string `json:"namespace"`
	// Strategy names the strategy that extracted it ("facts", ...).
	Strategy string `json:"strategy"`
	// Topic is a short stable label for what the record is about ("home
	// city"); consolidation updates the record with the same topic instead
	// of adding another.
	Topic string `json:"topic,omitempty"`
	// Text is what is remembered (at most MaxTextBytes).
	Text string `json:"text"`
	// Sources are the conversation events the record came from, oldest
	// first (the newest MaxSources are kept).
	Sources []EventRef `json:"sources,omitempty"`
	// History lists the record's changes, oldest first (the newest
	// MaxHistory are kept): every change names the events that caused it.
	History []Change `json:"history,omitempty"`
	// Created and Updated are when the record was created and last changed.
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	// Expires, when not zero, is when the record stops being recalled and
	// may be removed.
	Expires time.Time `json:"expires,omitzero"`
	// Score is the relevance of a search result (higher is closer); zero
	// outside search results.
	Score float64 `json:"-"`
}

// Expired reports whether the record has expired at now.
func (r *MemoryRecord) Expired(now time.Time) bool {
	return !r.Expires.IsZero() && !now.Before(r.Expires)
}

// EventRef names one stored conversation event.
type EventRef struct {
	SessionID string `json:"session"`
	EventID   string `json:"event"`
}

// String returns "session/event".
func (e EventRef) String() string { return e.SessionID + "/" + e.EventID }

// ChangeAction is what a change did to a record.
type ChangeAction string

// Change actions.
const (
	// Created: the record was extracted for the first time.
	Created ChangeAction = "created"
	// Confirmed: a conversation repeated what the record says; only its
	// sources and time changed.
	Confirmed ChangeAction = "confirmed"
	// Updated: a conversation refined or contradicted the record and its
	// text was replaced (the previous text is in Change.Previous).
	Updated ChangeAction = "updated"
)

// Change is one change of a record, traceable to the events that caused it.
type Change struct {
	At     time.Time    `json:"at"`
	Action ChangeAction `json:"action"`
	// Previous is the text before an Updated change.
	Previous string `json:"previous,omitempty"`
	// Reason is why the strategy made the change, when it said.
	Reason string `json:"reason,omitempty"`
	// Events are the conversation events the change came from.
	Events []EventRef `json:"events,omitempty"`
}

// Limits on records, shared by every backend.
const (
	// MaxTextBytes bounds a record's text (AgentCore Memory's limit is
	// 16,000 characters).
	MaxTextBytes = 16000
	// MaxTopicBytes bounds a record's topic.
	MaxTopicBytes = 200
	// MaxSources is how many source events a record keeps.
	MaxSources = 32
	// MaxHistory is how many changes a record keeps.
	MaxHistory = 16
	// MaxNamespaceBytes bounds a namespace (AgentCore Memory's limit).
	MaxNamespaceBytes = 512
	// MaxActorBytes bounds an actor ID (AgentCore Memory's limit).
	MaxActorBytes = 255
)

// actorRe is AgentCore Memory's actorId pattern without '/' (which would
// let one actor's namespace be a prefix of another's).
var actorRe = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]*(?::[a-zA-Z0-9_-]+)*$`)

// ValidateActor checks an actor ID: 1 to 255 letters, digits, '-' and '_',
// starting with a letter or digit, in ':'-separated segments. The error
// wraps bedrockkit.ErrInvalidInput.
func ValidateActor(actor string) error {
	if actor == "" || len(actor) > MaxActorBytes || !actorRe.MatchString(actor) {
		return fmt.Errorf("longmemory: actor %q is not a valid actor ID (1-%d letters, digits, '-', '_', ':'-separated segments, starting with a letter or digit): %w",
			clip(actor, 80), MaxActorBytes, bedrockkit.ErrInvalidInput)
	}
	return nil
}

// sessionRe is AgentCore Memory's sessionId pattern.
var sessionRe = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]{0,99}$`)

// validSession reports whether id can name a session in a namespace and at
// AgentCore Memory.
func validSession(id string) bool { return sessionRe.MatchString(id) }

// SessionKey returns the ID under which a session's events and summaries
// are stored: id itself when it is a valid AgentCore Memory session ID (1
// to 100 letters, digits, '-' and '_', starting with a letter or digit),
// else "s-" and 26 base32 characters of its SHA-256, so any agent session
// ID can be remembered without reaching into a namespace's structure.
func SessionKey(id string) string {
	if validSession(id) {
		return id
	}
	h := sha256.Sum256([]byte(id))
	return "s-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:])[:26])
}

// ValidateNamespace checks a resolved namespace of actor: it starts with
// '/', is at most 512 bytes, and has the actor as one whole segment, so
// that no namespace of one actor can be, or be a prefix of, another's. The
// error wraps bedrockkit.ErrInvalidInput.
func ValidateNamespace(ns, actor string) error {
	bad := func(why string) error {
		return fmt.Errorf("longmemory: namespace %q %s: %w", clip(ns, 80), why, bedrockkit.ErrInvalidInput)
	}
	switch {
	case len(ns) > MaxNamespaceBytes:
		return bad(fmt.Sprintf("is longer than %d bytes", MaxNamespaceBytes))
	case !strings.HasPrefix(ns, "/"):
		return bad("must start with '/'")
	case !utf8.ValidString(ns) || strings.ContainsAny(ns, "\x00{}"):
		return bad("holds invalid UTF-8, a NUL byte or an unresolved {placeholder}")
	}
	for _, seg := range strings.Split(ns, "/") {
		if seg == actor {
			return nil
		}
	}
	return bad(fmt.Sprintf("does not hold the actor %q as a whole segment", clip(actor, 80)))
}

// validateRecord checks a record before a backend stores it for actor.
func validateRecord(r *MemoryRecord, actor string) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("longmemory: record %q: "+format+": %w", append([]any{r.ID}, append(args, bedrockkit.ErrInvalidInput)...)...)
	}
	if r.Actor != actor {
		return bad("belongs to actor %q, not %q", clip(r.Actor, 80), clip(actor, 80))
	}
	if err := ValidateNamespace(r.Namespace, actor); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(r.Text) == "":
		return bad("has no text")
	case len(r.Text) > MaxTextBytes:
		return bad("text is %d bytes; the limit is %d", len(r.Text), MaxTextBytes)
	case !utf8.ValidString(r.Text) || strings.IndexByte(r.Text, 0) >= 0:
		return bad("text holds invalid UTF-8 or a NUL byte")
	case len(r.Topic) > MaxTopicBytes || !utf8.ValidString(r.Topic) || strings.IndexByte(r.Topic, 0) >= 0:
		return bad("topic is longer than %d bytes or not valid text", MaxTopicBytes)
	case r.Strategy == "" || len(r.Strategy) > 64 || !utf8.ValidString(r.Strategy):
		return bad("needs a strategy name of 1 to 64 bytes")
	}
	return nil
}

// NewRecordID returns a fresh record ID in AgentCore Memory's form: "mem-"
// and 36 hexadecimal digits.
func NewRecordID() string {
	var b [18]byte
	_, _ = rand.Read(b[:])
	return "mem-" + hex.EncodeToString(b[:])
}

// NewEventID returns a fresh event ID in AgentCore Memory's form: the time
// in milliseconds, '#' and 8 hexadecimal digits.
func NewEventID(at time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%013d#%s", at.UnixMilli(), hex.EncodeToString(b[:]))
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// addSources appends refs to srcs without duplicates, keeping the newest MaxSources.
func addSources(srcs []EventRef, refs ...EventRef) []EventRef {
	for _, r := range refs {
		dup := false
		for _, s := range srcs {
			if s == r {
				dup = true
				break
			}
		}
		if !dup {
			srcs = append(srcs, r)
		}
	}
	if len(srcs) > MaxSources {
		srcs = append([]EventRef(nil), srcs[len(srcs)-MaxSources:]...)
	}
	return srcs
}

// addChange appends c, keeping the newest MaxHistory changes.
func addChange(h []Change, c Change) []Change {
	h = append(h, c)
	if len(h) > MaxHistory {
		h = append([]Change(nil), h[len(h)-MaxHistory:]...)
	}
	return h
}
