// Package pgmemory is an agent.Memory backed by PostgreSQL, for agent
// sessions shared by several processes or kept across restarts and
// deployments (what Bedrock AgentCore's session store and memory do).
//
//	pool, _ := pgxpool.New(ctx, dsn)
//	mem, err := pgmemory.New(ctx, pool, pgmemory.Options{Table: "agent_sessions"})
//	a := &agent.Agent{Model: model, Memory: mem}
//
// One row holds one session: its ID, a version, the session's own JSON
// encoding (agent.Session's MarshalJSON) in a json column, and the creation
// and update times. The column is json, not jsonb, on purpose: json keeps
// the text exactly as written, so tool-call arguments and JSON tool results
// come back byte for byte as the model produced them (jsonb would re-space
// and re-order them), and it accepts strings holding U+0000, which jsonb
// refuses. It can still be queried, for example
// session->'attributes'->>'tier'.
//
// Save is optimistic: a new session (Version 0) is written with INSERT ...
// ON CONFLICT DO NOTHING and an existing one with UPDATE ... WHERE version =
// the version it was loaded at, so of two writers that loaded the same
// version exactly one wins and the other gets an error wrapping
// agent.ErrConflict, as with agent.InMemory and agent.FileMemory. Unlike
// FileMemory this holds across processes: the check and the write are one
// statement. Load of an unknown session returns an error wrapping
// agent.ErrSessionNotFound. Every call runs under the caller's context, so
// cancelling it abandons a statement that is waiting, for instance on
// another writer's row lock.
//
// New creates the table (and Options.Schema if given) with versioned,
// append-only migrations recorded in bedrockkit_pgmemory_migrations, in one
// transaction under an advisory lock: idempotent and safe to run from many
// processes at once. Roles that do not own the table use SkipMigrate, which
// only checks the schema version.
//
// Prune deletes sessions idle since a given time (Bedrock's idle session
// TTL), through an index on the update time.
//
// The tests run against a real server when BEDROCKKIT_PG_DSN is set
// (.ci/pg.sh starts PostgreSQL 17) and skip otherwise.
package pgmemory
