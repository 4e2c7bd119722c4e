package pgmemory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
)

// DefaultTable is the table name used when Options.Table is empty.
const DefaultTable = "bedrockkit_sessions"

// Options configure a Memory. The zero value uses DefaultTable in the
// connection's current schema and migrates it.
type Options struct {
	// Table is the sessions table's name: lower-case letters, digits and
	// underscores, at most 48 characters. Default DefaultTable.
	Table string
	// Schema is the PostgreSQL schema holding the table (and its migrations
	// record); it is created if missing. Same rules as Table, at most 63
	// characters. Default: the connection's current schema (the first
	// existing one of its search_path, usually public).
	Schema string
	// SkipMigrate makes New only check that the table exists at
	// SchemaVersion instead of creating or migrating it (for roles that do
	// not own the table; migrate once with Migrate as the owner).
	SkipMigrate bool
}

var identRe = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

func (o Options) withDefaults() (Options, error) {
	bad := func(format string, args ...any) (Options, error) {
		return Options{}, fmt.Errorf("pgmemory: "+format+": %w", append(args, bedrockkit.ErrInvalidInput)...)
	}
	if o.Table == "" {
		o.Table = DefaultTable
	}
	if !identRe.MatchString(o.Table) || len(o.Table) > 48 {
		return bad("table name %q must be lower-case letters, digits and underscores, at most 48 characters, not starting with a digit", o.Table)
	}
	if o.Schema != "" && (!identRe.MatchString(o.Schema) || len(o.Schema) > 63) {
		return bad("schema name %q must be lower-case letters, digits and underscores, at most 63 characters, not starting with a digit", o.Schema)
	}
	return o, nil
}

// qualify returns the quoted, schema-qualified name of a relation.
func (o *Options) qualify(name string) string {
	if o.Schema == "" {
		return pgx.Identifier{name}.Sanitize()
	}
	return pgx.Identifier{o.Schema, name}.Sanitize()
}

// Memory is an agent.Memory storing sessions in a PostgreSQL table. It is
// safe for concurrent use, also by several processes sharing the table.
type Memory struct {
	pool  *pgxpool.Pool
	o     Options
	table string // quoted, qualified
}

var _ agent.Memory = (*Memory)(nil)

// New returns a Memory over the table described by opts, creating or
// migrating it first unless opts.SkipMigrate is set. The pool stays the
// caller's; Memory never closes it.
func New(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Memory, error) {
	if pool == nil {
		return nil, fmt.Errorf("pgmemory: New needs a *pgxpool.Pool (pgxpool.New(ctx, dsn)): %w", bedrockkit.ErrInvalidInput)
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	m := &Memory{pool: pool, o: o, table: o.qualify(o.Table)}
	err = pool.AcquireFunc(ctx, func(c *pgxpool.Conn) error {
		if o.SkipMigrate {
			return checkSchema(ctx, c.Conn(), &o)
		}
		return migrate(ctx, c.Conn(), &o)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Migrate creates or migrates the table described by opts without
// returning a Memory: run it as the table's owner, then open it with
// SkipMigrate as the application role.
func Migrate(ctx context.Context, pool *pgxpool.Pool, opts Options) error {
	if pool == nil {
		return fmt.Errorf("pgmemory: Migrate needs a *pgxpool.Pool: %w", bedrockkit.ErrInvalidInput)
	}
	o, err := opts.withDefaults()
	if err != nil {
		return err
	}
	return pool.AcquireFunc(ctx, func(c *pgxpool.Conn) error { return migrate(ctx, c.Conn(), &o) })
}

// validID reports whether PostgreSQL text can hold id (valid UTF-8, no NUL).
func validID(id string) bool {
	return utf8.ValidString(id) && !strings.ContainsRune(id, 0)
}

// Load returns the stored session, or an error wrapping
// agent.ErrSessionNotFound when there is none.
func (m *Memory) Load(ctx context.Context, id string) (*agent.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !validID(id) {
		// PostgreSQL text cannot hold it, so no such session can exist.
		return nil, fmt.Errorf("pgmemory: %q: %w", id, agent.ErrSessionNotFound)
	}
	var (
		version int64
		raw     []byte
	)
	err := m.pool.QueryRow(ctx, `SELECT version, session FROM `+m.table+` WHERE id = $1`, id).Scan(&version, &raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("pgmemory: %q: %w", id, agent.ErrSessionNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("pgmemory: load session %q: %w", id, err)
	}
	var s agent.Session
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("pgmemory: decode session %q from %s: %w", id, m.table, err)
	}
	// The column is authoritative (it is what Save compares against).
	s.Version = version
	return &s, nil
}

// Save stores the session if its Version is the stored one (0 for a new
// session) and then increments s.Version and sets s.UpdatedAt; otherwise it
// returns an error wrapping agent.ErrConflict and changes nothing. The check
// and the write are one statement, so this holds across processes.
//
// Save honours ctx: a Save that returns a context error while its statement
// runs (waiting on another writer, say) has changed nothing. Only if ctx
// ends during the final COMMIT is the outcome unknown, as with any database;
// saving the same session again is safe then, since a save that did land
// makes the retry fail with ErrConflict.
func (m *Memory) Save(ctx context.Context, s *agent.Session) error {
	if s == nil {
		return fmt.Errorf("pgmemory: Save of a nil session: %w", bedrockkit.ErrInvalidInput)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !validID(s.ID) {
		return fmt.Errorf("pgmemory: session ID %q is not valid UTF-8 or holds a NUL character, which PostgreSQL text cannot store; use another ID: %w", s.ID, bedrockkit.ErrInvalidInput)
	}
	next := *s
	next.Version = s.Version + 1
	next.UpdatedAt = time.Now().UTC()
	raw, err := json.Marshal(&next)
	if err != nil {
		return fmt.Errorf("pgmemory: encode session %q: %w", s.ID, err)
	}
	var tag pgconn.CommandTag
	err = m.inTx(ctx, func(tx pgx.Tx) (err error) {
		if s.Version == 0 {
			tag, err = tx.Exec(ctx, `INSERT INTO `+m.table+` (id, version, session, created_at, updated_at)
				VALUES ($1, 1, $2, $3, $3) ON CONFLICT (id) DO NOTHING`,
				s.ID, json.RawMessage(raw), next.UpdatedAt)
		} else {
			tag, err = tx.Exec(ctx, `UPDATE `+m.table+` SET version = $4, session = $2, updated_at = $3
				WHERE id = $1 AND version = $5`,
				s.ID, json.RawMessage(raw), next.UpdatedAt, next.Version, s.Version)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("pgmemory: save session %q: %w", s.ID, err)
	}
	if tag.RowsAffected() != 1 {
		return m.conflict(ctx, s)
	}
	s.Version = next.Version
	s.UpdatedAt = next.UpdatedAt
	return nil
}

// conflict builds the ErrConflict error, reading the current version for
// the message (best effort: it may have moved on again).
func (m *Memory) conflict(ctx context.Context, s *agent.Session) error {
	var cur int64
	err := m.pool.QueryRow(ctx, `SELECT version FROM `+m.table+` WHERE id = $1`, s.ID).Scan(&cur)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("pgmemory: session %q was deleted, the save is based on version %d; load it again (or start a new session): %w", s.ID, s.Version, agent.ErrConflict)
	case err != nil:
		return fmt.Errorf("pgmemory: session %q is no longer at version %d; load it again: %w", s.ID, s.Version, agent.ErrConflict)
	}
	return fmt.Errorf("pgmemory: session %q is at version %d, the save is based on version %d; load it again: %w", s.ID, cur, s.Version, agent.ErrConflict)
}

// Delete removes the session; deleting an unknown session is not an error.
func (m *Memory) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !validID(id) {
		return nil
	}
	err := m.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM `+m.table+` WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("pgmemory: delete session %q: %w", id, err)
	}
	return nil
}

// Prune deletes the sessions last saved before idleSince (Bedrock's idle
// session TTL: Prune(ctx, time.Now().Add(-ttl))) and returns how many it
// deleted. A paused run in a pruned session can no longer be resumed.
func (m *Memory) Prune(ctx context.Context, idleSince time.Time) (int64, error) {
	var tag pgconn.CommandTag
	err := m.inTx(ctx, func(tx pgx.Tx) (err error) {
		tag, err = tx.Exec(ctx, `DELETE FROM `+m.table+` WHERE updated_at < $1`, idleSince)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("pgmemory: prune sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}

// inTx runs a write in an explicit transaction. A single autocommit
// statement would not do: when ctx ends while the statement waits (on
// another writer's row lock, say), pgx abandons the connection, but the
// server still runs the statement once the lock is free and, seeing no
// client yet, commits it, so a Save that returned a context error could land
// later. In an explicit transaction the server then finds the connection
// gone before COMMIT and rolls back.
func (m *Memory) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, m.pool, fn)
}

// Table returns the quoted, schema-qualified table name, for queries of
// your own (the session column is json: cast it to jsonb to index it).
func (m *Memory) Table() string { return m.table }
