package pgvector

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// migrationsTable records which schema versions each chunk table has.
const migrationsTable = "bedrockkit_pgvector_migrations"

// migration is one versioned, append-only schema step for a chunk table.
// Its SQL is a template: {{t}} is the quoted table name, {{n}} the bare
// name (for index names), {{dim}} the dimensions, {{ts}} the text search
// configuration literal.
type migration struct {
	version     int
	description string
	sql         string
}

// migrations are applied in order, each once per table. Never edit a
// released step; append a new one.
var migrations = []migration{
	{1, "chunk table, document and full-text indexes, tenant policy", `
CREATE TABLE {{t}} (
	partition   text COLLATE "C" NOT NULL DEFAULT '',
	id          text COLLATE "C" NOT NULL,
	document_id text COLLATE "C" NOT NULL,
	parent_id   text NOT NULL DEFAULT '',
	fingerprint text NOT NULL DEFAULT '',
	content     text NOT NULL DEFAULT '',
	metadata    jsonb,
	embedding   vector({{dim}}),
	tsv         tsvector GENERATED ALWAYS AS (to_tsvector({{ts}}, content)) STORED,
	PRIMARY KEY (partition, id)
);
CREATE INDEX {{n}}_document_idx ON {{t}} (partition, document_id);
CREATE INDEX {{n}}_tsv_idx ON {{t}} USING gin (tsv);
CREATE POLICY {{n}}_tenant ON {{t}}
	USING (partition = current_setting('bedrockkit.partition', true))
	WITH CHECK (partition = current_setting('bedrockkit.partition', true));
`},
	// Version 1's policy let a statement without a tenant see the rows of
	// the default partition (''): once a connection has run a transaction
	// with SET LOCAL bedrockkit.partition, the setting reverts to the empty
	// string, not NULL. An empty setting now means no tenant, which sees
	// and writes nothing.
	{2, "tenant policy: an empty partition setting means no tenant", `
ALTER POLICY {{n}}_tenant ON {{t}}
	USING (partition = nullif(current_setting('bedrockkit.partition', true), ''))
	WITH CHECK (partition = nullif(current_setting('bedrockkit.partition', true), ''));
`},
}

// SchemaVersion is the schema version this package creates and reads.
var SchemaVersion = migrations[len(migrations)-1].version

var identRe = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,29}$`)

// ErrSchema reports a table whose schema this package cannot use: created
// by a newer version, with other dimensions, or not migrated yet.
var ErrSchema = errors.New("pgvector: table schema is not usable")

// migrate brings the table to SchemaVersion and applies the
// option-dependent DDL (vector index, metadata key indexes, row-level
// security, grants). Everything runs in one transaction under an advisory
// lock, so concurrent Opens are safe and a failure changes nothing.
func migrate(ctx context.Context, conn *pgx.Conn, o *Options) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('bedrockkit.pgvector:' || $1, 0))", o.Table); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS vector`); err != nil {
			return fmt.Errorf("pgvector: CREATE EXTENSION vector failed (install pgvector >= 0.8 on the server, or have an administrator create the extension): %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+migrationsTable+` (
			table_name  text NOT NULL,
			version     int NOT NULL,
			description text NOT NULL,
			applied_at  timestamptz NOT NULL DEFAULT now(),
			PRIMARY KEY (table_name, version))`); err != nil {
			return err
		}
		have, err := appliedVersion(ctx, tx, o.Table)
		if err != nil {
			return err
		}
		if have > SchemaVersion {
			return fmt.Errorf("pgvector: table %s is at schema version %d, newer than this package's %d; upgrade bedrockkit: %w", o.Table, have, SchemaVersion, ErrSchema)
		}
		for _, m := range migrations {
			if m.version <= have {
				continue
			}
			if _, err := tx.Exec(ctx, o.render(m.sql)); err != nil {
				return fmt.Errorf("pgvector: migration %d (%s) of %s: %w", m.version, m.description, o.Table, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO `+migrationsTable+` (table_name, version, description) VALUES ($1, $2, $3)`,
				o.Table, m.version, m.description); err != nil {
				return err
			}
		}
		if err := checkDimensions(ctx, tx, o); err != nil {
			return err
		}
		for _, stmt := range o.ensureDDL() {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("pgvector: %s: %w", firstLine(stmt), err)
			}
		}
		return nil
	})
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

func appliedVersion(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, table string) (int, error) {
	var v int
	err := q.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM `+migrationsTable+` WHERE table_name = $1`, table).Scan(&v)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table
		return 0, nil
	}
	return v, err
}

// checkSchema verifies, without changing anything, that the table is at
// SchemaVersion and holds vectors of the configured dimensions (used when
// Options.SkipMigrate is set, typically for a non-owner application role).
func checkSchema(ctx context.Context, conn *pgx.Conn, o *Options) error {
	have, err := appliedVersion(ctx, conn, o.Table)
	if err != nil {
		return err
	}
	if have != SchemaVersion {
		return fmt.Errorf("pgvector: table %s is at schema version %d, want %d; open it once with the owner role and SkipMigrate false to migrate: %w", o.Table, have, SchemaVersion, ErrSchema)
	}
	return checkDimensions(ctx, conn, o)
}

func checkDimensions(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, o *Options) error {
	var typmod int
	err := q.QueryRow(ctx, `SELECT atttypmod FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'embedding'`, o.Table).Scan(&typmod)
	if err != nil {
		return fmt.Errorf("pgvector: reading the dimensions of %s: %v: %w", o.Table, err, ErrSchema)
	}
	if typmod != o.Dimensions {
		return fmt.Errorf("pgvector: table %s holds %d-dimensional vectors but Options.Dimensions is %d; use the table's embedding model or another table: %w",
			o.Table, typmod, o.Dimensions, kbstore.ErrDimensionMismatch)
	}
	return nil
}

func (o *Options) render(s string) string {
	return strings.NewReplacer(
		"{{t}}", pgx.Identifier{o.Table}.Sanitize(),
		"{{n}}", o.Table,
		"{{dim}}", fmt.Sprint(o.Dimensions),
		"{{ts}}", "'"+o.TextSearchConfig+"'::regconfig",
	).Replace(s)
}

// ensureDDL returns the idempotent statements that follow the options:
// they may change between Opens without a new schema version.
func (o *Options) ensureDDL() []string {
	t := pgx.Identifier{o.Table}.Sanitize()
	var out []string
	if !o.DeferIndex {
		if s := o.indexDDL(); s != "" {
			out = append(out, s)
		}
	}
	for _, k := range o.IndexedKeys {
		name := pgx.Identifier{fmt.Sprintf("%s_md_%08x_idx", o.Table, fnv32(k))}.Sanitize()
		lit, _ := quoteLiteral(k) // validated in Options.check
		out = append(out, fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s ((metadata -> %s))", name, t, lit))
	}
	if o.RowLevelSecurity {
		out = append(out, "ALTER TABLE "+t+" ENABLE ROW LEVEL SECURITY", "ALTER TABLE "+t+" FORCE ROW LEVEL SECURITY")
	} else {
		out = append(out, "ALTER TABLE "+t+" NO FORCE ROW LEVEL SECURITY", "ALTER TABLE "+t+" DISABLE ROW LEVEL SECURITY")
	}
	for _, r := range o.GrantTo {
		out = append(out, "GRANT SELECT, INSERT, UPDATE, DELETE ON "+t+" TO "+pgx.Identifier{r}.Sanitize(),
			"GRANT SELECT ON "+migrationsTable+" TO "+pgx.Identifier{r}.Sanitize())
	}
	return out
}

// indexDDL is the CREATE INDEX statement of the configured vector index,
// named after its method, distance and parameters so a change of options
// builds a new index instead of silently keeping the old one.
func (o *Options) indexDDL() string {
	t := pgx.Identifier{o.Table}.Sanitize()
	ops := o.Distance.opclass()
	switch o.Index {
	case HNSW:
		name := fmt.Sprintf("%s_hnsw_%s_m%d_ef%d_idx", o.Table, o.Distance, o.HNSW.M, o.HNSW.EfConstruction)
		return fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s USING hnsw (embedding %s) WITH (m = %d, ef_construction = %d)",
			pgx.Identifier{name}.Sanitize(), t, ops, o.HNSW.M, o.HNSW.EfConstruction)
	case IVFFlat:
		name := fmt.Sprintf("%s_ivfflat_%s_l%d_idx", o.Table, o.Distance, o.IVFFlat.Lists)
		return fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s USING ivfflat (embedding %s) WITH (lists = %d)",
			pgx.Identifier{name}.Sanitize(), t, ops, o.IVFFlat.Lists)
	}
	return ""
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}
