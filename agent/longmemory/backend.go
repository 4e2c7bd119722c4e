package longmemory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bedrockkit/bedrockkit"
)

// Backend is where long-term memory lives: the records and the
// conversation events they came from. NewKBBackend keeps them in any
// kbstore.Store (embedded by default, PostgreSQL when scaled out); package
// agent/longmemory/agentcorememory keeps them in Amazon Bedrock AgentCore
// Memory. Every method works on one actor, named by the caller: a backend
// never returns, changes or deletes another actor's records or events,
// whatever IDs it is given.
//
// Implementations are safe for concurrent use. Every backend passes the
// same conformance checks (see the package tests).
type Backend interface {
	RecordStore
	EventLog
	// DeleteActor removes every record and event of actor and reports
	// what it removed and whether storage was compacted afterwards.
	DeleteActor(ctx context.Context, actor string) (Erasure, error)
}

// RecordStore holds memory records, per actor.
type RecordStore interface {
	// CreateRecords stores new records of actor, assigning their IDs and
	// returning them as stored. The records' Actor must be actor.
	CreateRecords(ctx context.Context, actor string, records []MemoryRecord) ([]MemoryRecord, error)
	// UpdateRecords replaces existing records of actor (by ID). A record
	// actor does not have fails the call with ErrRecordNotFound.
	UpdateRecords(ctx context.Context, actor string, records []MemoryRecord) error
	// GetRecord returns one record of actor, or ErrRecordNotFound.
	GetRecord(ctx context.Context, actor, id string) (MemoryRecord, error)
	// ListRecords returns actor's records matching f, oldest first.
	ListRecords(ctx context.Context, actor string, f RecordFilter) ([]MemoryRecord, error)
	// SearchRecords returns up to q.K of actor's records matching q's
	// namespace and strategy, most relevant to q.Text first (semantic and
	// keyword relevance), with Score set.
	SearchRecords(ctx context.Context, actor string, q RecordQuery) ([]MemoryRecord, error)
	// DeleteRecords removes records of actor by ID and returns how many
	// it removed; IDs actor does not have are skipped.
	DeleteRecords(ctx context.Context, actor string, ids []string) (int, error)
}

// EventLog holds the conversation events records are extracted from.
type EventLog interface {
	// AppendEvent stores a conversation event of actor and returns its
	// reference (the backend assigns the event ID).
	AppendEvent(ctx context.Context, actor string, ev ConversationEvent) (EventRef, error)
	// ListEvents returns actor's events of one session, oldest first.
	ListEvents(ctx context.Context, actor, sessionID string) ([]ConversationEvent, error)
}

// RecordFilter selects records.
type RecordFilter struct {
	// Namespace is the namespace to list (required).
	Namespace string
	// Prefix matches every namespace that starts with Namespace instead
	// of Namespace exactly (the session summaries of an actor, say). A
	// prefix must end with '/'.
	Prefix bool
	// Strategy, if set, keeps only that strategy's records.
	Strategy string
}

// RecordQuery is a relevance search over records.
type RecordQuery struct {
	RecordFilter
	// Text is what to search for (required).
	Text string
	// K is how many records to return, 1 to 100.
	K int
}

// ConversationEvent is one stored turn of a conversation (AgentCore
// Memory's event with conversational payloads).
type ConversationEvent struct {
	// Ref is set by the backend.
	Ref       EventRef       `json:"ref"`
	SessionID string         `json:"sessionId"`
	At        time.Time      `json:"at"`
	Messages  []EventMessage `json:"messages"`
}

// EventMessage is one message of an event.
type EventMessage struct {
	// Role is USER, ASSISTANT, TOOL or OTHER (AgentCore Memory's roles).
	Role string `json:"role"`
	Text string `json:"text"`
}

// Event message roles.
const (
	RoleUser      = "USER"
	RoleAssistant = "ASSISTANT"
	RoleTool      = "TOOL"
	RoleOther     = "OTHER"
)

// Erasure reports what DeleteActor removed.
type Erasure struct {
	Records int
	Events  int
	// Compacted is true when the backend also rewrote its storage so that
	// the removed data no longer exists on disk (see NewKBBackend for what
	// each kbstore.Store guarantees).
	Compacted bool
	// Residue says where removed data may still physically remain, when
	// the backend cannot guarantee it is gone (empty when it can).
	Residue string
}

// Errors.
var (
	// ErrRecordNotFound: the actor has no record with that ID. It wraps
	// bedrockkit.ErrNotFound.
	ErrRecordNotFound = fmt.Errorf("longmemory: no such memory record for this actor: %w", bedrockkit.ErrNotFound)
	// ErrNoActor: no actor could be determined from the context. Serve
	// callers through agent/identity, or set the actor in code with
	// WithActor. It wraps bedrockkit.ErrInvalidInput.
	ErrNoActor = fmt.Errorf("longmemory: no actor in the context: authenticate callers (agent/identity) or name the actor with longmemory.WithActor: %w", bedrockkit.ErrInvalidInput)
	// ErrActorMismatch: WithActor named an actor other than the verified
	// caller's. It wraps bedrockkit.ErrAccessDenied.
	ErrActorMismatch = fmt.Errorf("longmemory: the actor set with WithActor differs from the verified caller's; a verified caller's memory is its own: %w", bedrockkit.ErrAccessDenied)
	// ErrQueueFull: Remember found the extraction queue full; the turn is
	// not remembered. It wraps bedrockkit.ErrThrottled.
	ErrQueueFull = fmt.Errorf("longmemory: extraction queue is full; raise Options.QueueSize or Workers: %w", bedrockkit.ErrThrottled)
	// ErrClosed: the Keeper was closed.
	ErrClosed = errors.New("longmemory: keeper is closed")
	// ErrActorFull: the actor already has the most records a backend
	// allows. It wraps bedrockkit.ErrQuotaExceeded.
	ErrActorFull = fmt.Errorf("longmemory: the actor has the most memory records allowed; delete some or raise the limit: %w", bedrockkit.ErrQuotaExceeded)
)

// ValidateQuery checks a search for actor; backends call it first.
func ValidateQuery(q RecordQuery, actor string) error {
	if err := ValidateFilter(q.RecordFilter, actor); err != nil {
		return err
	}
	if q.K < 1 || q.K > 100 {
		return fmt.Errorf("longmemory: K is %d; ask for 1 to 100 records: %w", q.K, bedrockkit.ErrInvalidInput)
	}
	if q.Text == "" || len(q.Text) > 10000 {
		return fmt.Errorf("longmemory: search text must be 1 to 10,000 bytes, got %d: %w", len(q.Text), bedrockkit.ErrInvalidInput)
	}
	return nil
}

// ValidateFilter checks a filter for actor; backends call it first.
func ValidateFilter(f RecordFilter, actor string) error {
	if err := ValidateActor(actor); err != nil {
		return err
	}
	ns := f.Namespace
	if f.Prefix {
		if len(ns) < 2 || ns[len(ns)-1] != '/' {
			return fmt.Errorf("longmemory: namespace prefix %q must end with '/': %w", clip(ns, 80), bedrockkit.ErrInvalidInput)
		}
		ns = ns[:len(ns)-1]
	}
	return ValidateNamespace(ns, actor)
}

// Matches reports whether r is selected by f.
func (f RecordFilter) Matches(r *MemoryRecord) bool {
	if f.Strategy != "" && r.Strategy != f.Strategy {
		return false
	}
	if f.Prefix {
		return len(r.Namespace) >= len(f.Namespace) && r.Namespace[:len(f.Namespace)] == f.Namespace
	}
	return r.Namespace == f.Namespace
}
