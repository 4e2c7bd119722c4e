package pgmemory

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// migrationsTable records the schema versions of each sessions table. It
// lives in the same schema as the table.
const migrationsTable = "bedrockkit_pgmemory_migrations"

// migration is one versioned, append-only schema step. Its SQL is a
// template: {{t}} is the quoted, qualified table name and {{n}} the bare
// name (for index names, which PostgreSQL puts in the table's schema).
type migration struct {
	version     int
	description string
	sql         string
}

// migrations are applied in order, each once per table. Never edit a
// released step; append a new one.
var migrations = []migration{
	{1, "sessions table with version column and update-time index", `
CREATE TABLE {{t}} (
	id         text COLLATE "C" PRIMARY KEY,
	version    bigint NOT NULL CHECK (version > 0),
	session    json NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX {{n}}_updated_at_idx ON {{t}} (updated_at);
`},
}

// SchemaVersion is the schema version this package creates and reads.
var SchemaVersion = migrations[len(migrations)-1].version

// ErrSchema reports a table whose schema this package cannot use: created
// by a newer version of the package, or not migrated yet.
var ErrSchema = errors.New("pgmemory: sessions table schema is not usable")

// migrate brings the table to SchemaVersion in one transaction under an
// advisory lock, so concurrent calls are safe and a failure changes nothing.
func migrate(ctx context.Context, conn *pgx.Conn, o *Options) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('bedrockkit.pgmemory:' || $1 || '.' || $2, 0))`, o.Schema, o.Table); err != nil {
			return err
		}
		if o.Schema != "" {
			if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{o.Schema}.Sanitize()); err != nil {
				return fmt.Errorf("pgmemory: create schema %s (or create it as an administrator and grant CREATE on it): %w", o.Schema, err)
			}
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+o.qualify(migrationsTable)+` (
			table_name  text NOT NULL,
			version     int NOT NULL,
			description text NOT NULL,
			applied_at  timestamptz NOT NULL DEFAULT now(),
			PRIMARY KEY (table_name, version))`); err != nil {
			return fmt.Errorf("pgmemory: create %s: %w", migrationsTable, err)
		}
		have, err := appliedVersion(ctx, tx, o)
		if err != nil {
			return err
		}
		if have > SchemaVersion {
			return fmt.Errorf("pgmemory: table %s is at schema version %d, newer than this package's %d; upgrade bedrockkit: %w", o.qualify(o.Table), have, SchemaVersion, ErrSchema)
		}
		for _, m := range migrations {
			if m.version <= have {
				continue
			}
			if _, err := tx.Exec(ctx, o.render(m.sql)); err != nil {
				return fmt.Errorf("pgmemory: migration %d (%s) of %s: %w", m.version, m.description, o.qualify(o.Table), err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO `+o.qualify(migrationsTable)+` (table_name, version, description) VALUES ($1, $2, $3)`,
				o.Table, m.version, m.description); err != nil {
				return err
			}
		}
		return nil
	})
}

// checkSchema verifies, without changing anything, that the table is at
// SchemaVersion (used with Options.SkipMigrate).
func checkSchema(ctx context.Context, conn *pgx.Conn, o *Options) error {
	have, err := appliedVersion(ctx, conn, o)
	if err != nil {
		return err
	}
	if have != SchemaVersion {
		return fmt.Errorf("pgmemory: table %s is at schema version %d, want %d; run pgmemory.Migrate (or New without SkipMigrate) once as the table's owner: %w", o.qualify(o.Table), have, SchemaVersion, ErrSchema)
	}
	return nil
}

// appliedVersion returns the table's recorded schema version, 0 when the
// migrations table does not exist yet.
func appliedVersion(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, o *Options) (int, error) {
	var v int
	err := q.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM `+o.qualify(migrationsTable)+` WHERE table_name = $1`, o.Table).Scan(&v)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "42P01" || pgErr.Code == "3F000") { // undefined_table, invalid_schema_name
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("pgmemory: read the schema version of %s: %w", o.qualify(o.Table), err)
	}
	return v, nil
}

func (o *Options) render(s string) string {
	return strings.NewReplacer(
		"{{t}}", o.qualify(o.Table),
		"{{n}}", o.Table,
	).Replace(s)
}
