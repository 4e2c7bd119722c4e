package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/bedrockkit/bedrockkit"
)

// Session is the durable state of one conversation: Bedrock's session state
// (history, session attributes, prompt attributes) plus what the agent needs
// to pause, resume and avoid running a tool twice.
type Session struct {
	ID string
	// Messages is the conversation history, oldest first, after Summary.
	Messages []bedrockkit.Message
	// Summary stands for history that was summarised away.
	Summary string
	// Attributes persist for the whole session; tools see them through
	// CallInfo. They are not shown to the model.
	Attributes map[string]string
	// PromptAttributes hold for the current turn only and are shown to the
	// model in the system prompt.
	PromptAttributes map[string]string
	// Pending is the paused run waiting for Resume, if any.
	Pending *Pending
	// InProgress is the unfinished turn of a run that failed midway (a model
	// error, a cancellation); running the same input again, or retrying the
	// same Resume, continues it.
	InProgress *Checkpoint
	// Records maps idempotency keys of the current turn's tool calls to their
	// results, so a retried turn or a retried Resume does not run a tool twice.
	Records map[string]bedrockkit.ToolResult
	// Resumed lists the IDs of recent pending states already resumed.
	Resumed []string
	// Resuming is when a Resume of Pending started, while it runs; a second
	// Resume of the pause meanwhile fails with ErrConflict instead of
	// running its tools again. Zero when no Resume runs.
	Resuming time.Time
	// Turns counts completed turns.
	Turns int
	// Version is incremented by every Save; Memory implementations use it to
	// refuse a Save based on a stale Load (ErrConflict).
	Version   int64
	UpdatedAt time.Time
}

type wireSession struct {
	ID               string                `json:"id"`
	Messages         []wireMessage         `json:"messages"`
	Summary          string                `json:"summary,omitempty"`
	Attributes       map[string]string     `json:"attributes,omitempty"`
	PromptAttributes map[string]string     `json:"prompt_attributes,omitempty"`
	Pending          *wirePending          `json:"pending,omitempty"`
	InProgress       *wireCheckpoint       `json:"in_progress,omitempty"`
	Records          map[string][]wirePart `json:"records,omitempty"`
	Resumed          []string              `json:"resumed,omitempty"`
	Resuming         int64                 `json:"resuming,omitempty"` // Unix nanoseconds
	Turns            int                   `json:"turns"`
	Version          int64                 `json:"version"`
	UpdatedAt        time.Time             `json:"updated_at"`
}

// MarshalJSON encodes the session, parts tagged by type.
func (s *Session) MarshalJSON() ([]byte, error) {
	ms, err := encodeMessages(s.Messages)
	if err != nil {
		return nil, err
	}
	w := wireSession{ID: s.ID, Messages: ms, Summary: s.Summary, Attributes: s.Attributes,
		PromptAttributes: s.PromptAttributes, Resumed: s.Resumed,
		Turns: s.Turns, Version: s.Version, UpdatedAt: s.UpdatedAt}
	if s.Pending != nil {
		if w.Pending, err = toStored(s.Pending); err != nil {
			return nil, err
		}
	}
	if !s.Resuming.IsZero() {
		w.Resuming = s.Resuming.UnixNano()
	}
	if cp := s.InProgress; cp != nil {
		ms, err := encodeMessages(cp.Messages)
		if err != nil {
			return nil, err
		}
		w.InProgress = &wireCheckpoint{Input: cp.Input, ResumeID: cp.ResumeID, Messages: ms, Iteration: cp.Iteration, Usage: cp.Usage, InvalidCalls: cp.InvalidCalls}
	}
	if len(s.Records) > 0 {
		w.Records = make(map[string][]wirePart, len(s.Records))
		for k, r := range s.Records {
			ps, err := encodeResults([]bedrockkit.ToolResult{r})
			if err != nil {
				return nil, err
			}
			w.Records[k] = ps
		}
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes a session written by MarshalJSON.
func (s *Session) UnmarshalJSON(b []byte) error {
	var w wireSession
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	ms, err := decodeMessages(w.Messages)
	if err != nil {
		return err
	}
	*s = Session{ID: w.ID, Messages: ms, Summary: w.Summary, Attributes: w.Attributes,
		PromptAttributes: w.PromptAttributes, Resumed: w.Resumed,
		Turns: w.Turns, Version: w.Version, UpdatedAt: w.UpdatedAt}
	if w.Pending != nil {
		if s.Pending, err = fromStored(w.Pending); err != nil {
			return err
		}
		s.Pending.origin = originStored
	}
	if w.Resuming != 0 {
		s.Resuming = time.Unix(0, w.Resuming).UTC()
	}
	if cp := w.InProgress; cp != nil {
		ms, err := decodeMessages(cp.Messages)
		if err != nil {
			return err
		}
		s.InProgress = &Checkpoint{Input: cp.Input, ResumeID: cp.ResumeID, Messages: ms, Iteration: cp.Iteration, Usage: cp.Usage, InvalidCalls: cp.InvalidCalls}
	}
	if len(w.Records) > 0 {
		s.Records = make(map[string]bedrockkit.ToolResult, len(w.Records))
		for k, ps := range w.Records {
			rs, err := decodeResults(ps)
			if err != nil {
				return err
			}
			if len(rs) == 1 {
				s.Records[k] = rs[0]
			}
		}
	}
	return nil
}

// Checkpoint is an unfinished turn, saved when a run fails midway.
type Checkpoint struct {
	// Input is the user input of the turn (before any guardrail rewrite).
	Input string
	// ResumeID is the ID of the pending state whose Resume was running, if any.
	ResumeID     string
	Messages     []bedrockkit.Message
	Iteration    int
	Usage        bedrockkit.Usage
	InvalidCalls int
}

type wireCheckpoint struct {
	Input        string           `json:"input"`
	ResumeID     string           `json:"resume_id,omitempty"`
	Messages     []wireMessage    `json:"messages"`
	Iteration    int              `json:"iteration"`
	Usage        bedrockkit.Usage `json:"usage"`
	InvalidCalls int              `json:"invalid_calls,omitempty"`
}

// Memory stores sessions. Load returns an error wrapping ErrSessionNotFound
// for an unknown ID. Save must be atomic, and must refuse with ErrConflict a
// session whose Version differs from the stored one (0 for a new session);
// on success it increments s.Version. Implementations must be safe for
// concurrent use; the agent never shares a *Session between goroutines.
type Memory interface {
	Load(ctx context.Context, id string) (*Session, error)
	Save(ctx context.Context, s *Session) error
	Delete(ctx context.Context, id string) error
}

// InMemory is a Memory that keeps sessions in process memory, encoded as JSON
// so that callers never share state with it. The zero value is ready to use.
type InMemory struct {
	mu   sync.Mutex
	data map[string][]byte
}

// NewInMemory returns an empty in-memory Memory.
func NewInMemory() *InMemory { return &InMemory{} }

// Load returns a copy of the session.
func (m *InMemory) Load(ctx context.Context, id string) (*Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	b, ok := m.data[id]
	m.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("agent: %q: %w", id, ErrSessionNotFound)
	}
	var s Session
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("agent: decode session %q: %w", id, err)
	}
	return &s, nil
}

// Save stores a copy of the session.
func (m *InMemory) Save(ctx context.Context, s *Session) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := checkVersion(m.data[s.ID], s); err != nil {
		return err
	}
	b, err := encodeNext(s)
	if err != nil {
		return err
	}
	if m.data == nil {
		m.data = map[string][]byte{}
	}
	m.data[s.ID] = b
	s.Version++
	return nil
}

// Delete removes the session; deleting an unknown session is not an error.
func (m *InMemory) Delete(ctx context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.data, id)
	return nil
}

// checkVersion compares the stored encoding's version with s.Version.
func checkVersion(stored []byte, s *Session) error {
	var cur int64
	if stored != nil {
		var v struct {
			Version int64 `json:"version"`
		}
		if err := json.Unmarshal(stored, &v); err != nil {
			return fmt.Errorf("agent: decode stored session %q: %w", s.ID, err)
		}
		cur = v.Version
	}
	if cur != s.Version {
		return fmt.Errorf("agent: session %q is at version %d, the save is based on version %d: %w", s.ID, cur, s.Version, ErrConflict)
	}
	return nil
}

// encodeNext encodes s as it will be after a successful save.
func encodeNext(s *Session) ([]byte, error) {
	next := *s
	next.Version++
	next.UpdatedAt = time.Now().UTC()
	b, err := json.Marshal(&next)
	if err != nil {
		return nil, fmt.Errorf("agent: encode session %q: %w", s.ID, err)
	}
	s.UpdatedAt = next.UpdatedAt
	return b, nil
}

// FileMemory is a Memory that keeps one JSON file per session in a
// directory. Writes are atomic and durable: a temporary file is written,
// synced and renamed over the old one, and the directory is synced, so a
// crash leaves either the old or the new session, never a torn one. Sessions
// survive process restarts. Concurrent use from one process is safe; for
// several processes sharing a directory, the version check narrows but does
// not close the race, so give each session one writer.
type FileMemory struct {
	dir   string
	mu    sync.Mutex
	crypt *fileCrypt // nil: plain JSON (see OpenFileMemory)
}

// newFileMemory returns a plain FileMemory storing sessions in dir,
// creating it if needed (OpenFileMemory is the constructor).
func newFileMemory(dir string) (*FileMemory, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("agent: create session directory: %w", err)
	}
	return &FileMemory{dir: dir}, nil
}

// path maps a session ID to a file name that is safe on every file system.
func (m *FileMemory) path(id string) string {
	var b strings.Builder
	for _, r := range id {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			b.WriteRune(r)
		} else {
			fmt.Fprintf(&b, ".%x.", r)
		}
	}
	return filepath.Join(m.dir, "session-"+b.String()+".json")
}

// Load reads the session file.
func (m *FileMemory) Load(ctx context.Context, id string) (*Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(m.path(id))
	if os.IsNotExist(err) {
		return nil, fmt.Errorf("agent: %q: %w", id, ErrSessionNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("agent: read session %q: %w", id, err)
	}
	if b, err = m.decode(id, b); err != nil {
		return nil, err
	}
	var s Session
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("agent: decode session file %s: %w", m.path(id), err)
	}
	return &s, nil
}

// Save writes the session file atomically.
func (m *FileMemory) Save(ctx context.Context, s *Session) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.path(s.ID)
	old, err := os.ReadFile(p)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("agent: read session %q: %w", s.ID, err)
	}
	if old != nil {
		if old, err = m.decode(s.ID, old); err != nil {
			return err
		}
	}
	if err := checkVersion(old, s); err != nil {
		return err
	}
	b, err := encodeNext(s)
	if err == nil {
		b, err = m.encode(s.ID, b)
	}
	if err != nil {
		return err
	}
	if err := writeAtomic(p, b); err != nil {
		return fmt.Errorf("agent: write session %q: %w", s.ID, err)
	}
	s.Version++
	return nil
}

// Delete removes the session file; deleting an unknown session is not an error.
func (m *FileMemory) Delete(ctx context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := os.Remove(m.path(id)); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("agent: delete session %q: %w", id, err)
	}
	return nil
}

// writeAtomic writes b to path through a synced temporary file and a rename,
// then syncs the directory so the rename itself is durable.
func writeAtomic(path string, b []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err = f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func cloneAttrs(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	return maps.Clone(m)
}
