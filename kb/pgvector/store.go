package pgvector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	pgv "github.com/pgvector/pgvector-go"
	pgxvec "github.com/pgvector/pgvector-go/pgx"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// Distance is the vector distance the table is indexed and searched by.
type Distance string

// Distances supported by pgvector.
const (
	// Cosine searches by cosine distance (<=>); Hit.Score is the cosine
	// similarity. The default, and what the kb package expects.
	Cosine Distance = "cosine"
	// InnerProduct searches by negative inner product (<#>); Hit.Score is
	// the inner product. Use it for normalised embeddings.
	InnerProduct Distance = "ip"
	// L2 searches by Euclidean distance (<->); Hit.Score is the negated
	// distance, so higher is still closer.
	L2 Distance = "l2"
)

func (d Distance) opclass() string {
	return map[Distance]string{Cosine: "vector_cosine_ops", InnerProduct: "vector_ip_ops", L2: "vector_l2_ops"}[d]
}

func (d Distance) operator() string {
	return map[Distance]string{Cosine: "<=>", InnerProduct: "<#>", L2: "<->"}[d]
}

// score turns the operator's distance into Hit.Score (higher is closer).
func (d Distance) score(dist float64) float64 {
	if d == Cosine {
		return 1 - dist
	}
	return -dist
}

// IndexType is the approximate-nearest-neighbour index built on the vectors.
type IndexType string

// Index types.
const (
	// HNSW builds a graph index: best speed/recall, slower to build. The default.
	HNSW IndexType = "hnsw"
	// IVFFlat builds an inverted-list index: fast to build; build it after
	// loading data (DeferIndex + CreateIndex) so its lists fit the data.
	IVFFlat IndexType = "ivfflat"
	// NoIndex searches exactly by scanning, always.
	NoIndex IndexType = "none"
)

// SearchMode says how Search uses the index.
type SearchMode string

// Search modes.
const (
	// Auto searches exactly when the partition holds at most
	// Options.ExactThreshold records; otherwise the PostgreSQL planner
	// chooses between the vector index (with iterative scans) and an exact
	// scan through other indexes, which it prefers for a filter it knows to
	// be selective (see IndexedKeys). The default. It counts the partition (up to ExactThreshold+1 rows) before
	// a search, at most every 10 seconds for a partition found large.
	Auto SearchMode = "auto"
	// Index searches through the vector index (the query is written so
	// that no other index applies and sequential scans are disabled), with pgvector's iterative index scans
	// so that filtered searches still return K rows. Results are approximate.
	Index SearchMode = "index"
	// Exact never uses the vector index: the true top K among the
	// matching records, at the cost of a scan.
	Exact SearchMode = "exact"
)

// HNSWOptions tune the HNSW index (see pgvector's documentation).
type HNSWOptions struct {
	// M is the number of links per node (default 16).
	M int
	// EfConstruction is the candidate list size while building (default
	// 128, twice pgvector's: on 100k clustered 384-dimensional vectors it
	// raised recall@10 under a 1%-selective filter from about 0.95 to 0.97
	// for about 1.5 times the build time; see go run ./internal/cmd/bench pgvector).
	EfConstruction int
	// EfSearch is the candidate list size while searching (default 40,
	// raised to K when K is larger).
	EfSearch int
}

// IVFFlatOptions tune the IVFFlat index.
type IVFFlatOptions struct {
	// Lists is the number of inverted lists (default 100; pgvector suggests
	// rows/1000 up to 1M rows).
	Lists int
	// Probes is the number of lists searched (default 10).
	Probes int
}

// Options configure a Store. Dimensions is required; the zero value of
// everything else is a sensible default.
type Options struct {
	// Table is the chunk table's name: lower-case letters, digits and
	// underscores, at most 30 characters, in the connection's search_path.
	// Default "bedrockkit_chunks".
	Table string
	// Dimensions is the length of every vector. Required.
	Dimensions int
	// Distance is the search distance (default Cosine).
	Distance Distance
	// Index is the vector index type (default HNSW).
	Index IndexType
	// HNSW and IVFFlat tune the index.
	HNSW    HNSWOptions
	IVFFlat IVFFlatOptions
	// DeferIndex skips building the vector index when the table is opened;
	// call CreateIndex after a bulk load (much faster than maintaining the
	// index row by row, and required for a good IVFFlat index).
	DeferIndex bool
	// Search is how searches use the index (default Auto).
	Search SearchMode
	// ExactThreshold is the partition size up to which Auto searches
	// exactly (default 10000).
	ExactThreshold int
	// MaxScanTuples bounds the rows an iterative HNSW scan visits before it
	// gives up (pgvector's hnsw.max_scan_tuples, default 20000 there).
	// Raise it for filters that match a very small fraction of a large table.
	MaxScanTuples int
	// TextSearchConfig is the PostgreSQL text search configuration used for
	// keyword search (default "english"). Fixed when the table is created.
	TextSearchConfig string
	// IndexedKeys are metadata keys that get a B-tree expression index, so
	// equals and in filters on them can use it.
	IndexedKeys []string
	// RequirePartition makes every call name a partition (tenant); calls
	// without one fail with kbstore.ErrPartitionRequired.
	RequirePartition bool
	// RowLevelSecurity enables (and forces) PostgreSQL row-level security on
	// the table: every statement sees only the rows of the partition set for
	// its transaction (SET LOCAL bedrockkit.partition), and a statement
	// without one sees nothing. It implies RequirePartition. The store must
	// then connect as a role that is neither superuser nor BYPASSRLS; Open
	// refuses otherwise. Create the table with Migrate as the owner and
	// GrantTo the application role.
	RowLevelSecurity bool
	// GrantTo are roles that Migrate grants SELECT, INSERT, UPDATE and
	// DELETE on the table (the application roles used with RowLevelSecurity).
	GrantTo []string
	// SkipMigrate makes Open only check that the table exists at the
	// current schema version instead of creating or migrating it (for roles
	// that do not own the table).
	SkipMigrate bool
}

var regconfigRe = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// withDefaults fills in defaults and validates.
func (o Options) withDefaults() (Options, error) {
	steps := []func(*Options) error{
		(*Options).defaultTable, (*Options).defaultIndex, (*Options).defaultIndexTuning,
		(*Options).defaultSearch, (*Options).checkLists,
	}
	for _, step := range steps {
		if err := step(&o); err != nil {
			return Options{}, err
		}
	}
	if o.RowLevelSecurity {
		o.RequirePartition = true
	}
	o.IndexedKeys = append([]string(nil), o.IndexedKeys...)
	o.GrantTo = append([]string(nil), o.GrantTo...)
	return o, nil
}

// badOption is the error for an invalid option.
func badOption(format string, args ...any) error {
	return fmt.Errorf("pgvector: "+format+": %w", append(args, bedrockkit.ErrInvalidInput)...)
}

// defaultTable fills in and checks the table's name, its vectors'
// dimensions and the distance.
func (o *Options) defaultTable() error {
	if o.Table == "" {
		o.Table = "bedrockkit_chunks"
	}
	if !identRe.MatchString(o.Table) {
		return badOption("table name %q must be lower-case letters, digits and underscores, at most 30 characters", o.Table)
	}
	if o.Dimensions < 1 || o.Dimensions > 16000 {
		return badOption("Dimensions is %d; set it to the embedding model's dimensions (1..16000)", o.Dimensions)
	}
	if o.Distance == "" {
		o.Distance = Cosine
	}
	if o.Distance.opclass() == "" {
		return badOption("unknown Distance %q; use Cosine, InnerProduct or L2", o.Distance)
	}
	return nil
}

// defaultIndex fills in and checks the index kind, which must fit the
// dimensions.
func (o *Options) defaultIndex() error {
	if o.Index == "" {
		o.Index = HNSW
	}
	switch o.Index {
	case HNSW, IVFFlat, NoIndex:
	default:
		return badOption("unknown Index %q; use HNSW, IVFFlat or NoIndex", o.Index)
	}
	if o.Index == HNSW && o.Dimensions > 2000 || o.Index == IVFFlat && o.Dimensions > 2000 {
		return badOption("pgvector indexes hold at most 2000 dimensions, got %d; use NoIndex", o.Dimensions)
	}
	return nil
}

// defaultIndexTuning fills in and checks the HNSW and IVFFlat settings.
func (o *Options) defaultIndexTuning() error {
	if o.HNSW.M == 0 {
		o.HNSW.M = 16
	}
	if o.HNSW.EfConstruction == 0 {
		o.HNSW.EfConstruction = 128
	}
	if o.HNSW.EfSearch == 0 {
		o.HNSW.EfSearch = 40
	}
	if o.HNSW.M < 2 || o.HNSW.M > 100 || o.HNSW.EfConstruction < 2*o.HNSW.M || o.HNSW.EfConstruction > 1000 || o.HNSW.EfSearch < 1 || o.HNSW.EfSearch > 1000 {
		return badOption("HNSW options %+v out of range (M 2..100, EfConstruction 2*M..1000, EfSearch 1..1000)", o.HNSW)
	}
	if o.IVFFlat.Lists == 0 {
		o.IVFFlat.Lists = 100
	}
	if o.IVFFlat.Probes == 0 {
		o.IVFFlat.Probes = 10
	}
	if o.IVFFlat.Lists < 1 || o.IVFFlat.Lists > 32768 || o.IVFFlat.Probes < 1 {
		return badOption("IVFFlat options %+v out of range (Lists 1..32768, Probes >= 1)", o.IVFFlat)
	}
	return nil
}

// defaultSearch fills in and checks the search mode, its limits and the
// text search configuration.
func (o *Options) defaultSearch() error {
	if o.Search == "" {
		o.Search = Auto
	}
	switch o.Search {
	case Auto, Index, Exact:
	default:
		return badOption("unknown Search mode %q; use Auto, Index or Exact", o.Search)
	}
	if o.ExactThreshold == 0 {
		o.ExactThreshold = 10000
	}
	if o.MaxScanTuples < 0 {
		return badOption("MaxScanTuples is negative")
	}
	if o.TextSearchConfig == "" {
		o.TextSearchConfig = "english"
	}
	if !regconfigRe.MatchString(o.TextSearchConfig) {
		return badOption("TextSearchConfig %q is not a text search configuration name", o.TextSearchConfig)
	}
	return nil
}

// checkLists checks the indexed metadata keys and the roles to grant to.
func (o *Options) checkLists() error {
	for _, k := range o.IndexedKeys {
		if k == "" || strings.IndexByte(k, 0) >= 0 || !utf8.ValidString(k) {
			return badOption("IndexedKeys has an invalid key %q", k)
		}
	}
	for _, r := range o.GrantTo {
		if r == "" {
			return badOption("GrantTo has an empty role name")
		}
	}
	return nil
}

// ErrRLSBypassed: RowLevelSecurity is on but the store's role bypasses it
// (a superuser or a BYPASSRLS role), so tenant isolation would not hold.
var ErrRLSBypassed = errors.New("pgvector: row-level security is enabled but this role bypasses it (superuser or BYPASSRLS); connect as an ordinary application role")

// Store is a kbstore.Store (and kbstore.KeywordSearcher) backed by one PostgreSQL
// table with pgvector. It is safe for concurrent use.
type Store struct {
	pool   *pgxpool.Pool
	o      Options
	table  string // quoted
	closed atomic.Bool
	large  sync.Map // partition -> time.Time it was last counted above ExactThreshold
}

// largeFor is how long Auto trusts that a partition is above ExactThreshold.
const largeFor = 10 * time.Second

var (
	_ kbstore.Store           = (*Store)(nil)
	_ kbstore.KeywordSearcher = (*Store)(nil)
)

// Migrate creates or migrates the table described by opts (versioned,
// idempotent, safe to run concurrently) and applies its index, row-level
// security and grant options. Run it as the role that should own the table.
// Open calls it unless opts.SkipMigrate is set.
func Migrate(ctx context.Context, pool *pgxpool.Pool, opts Options) error {
	o, err := opts.withDefaults()
	if err != nil {
		return err
	}
	return pool.AcquireFunc(ctx, func(c *pgxpool.Conn) error { return migrate(ctx, c.Conn(), &o) })
}

// Open returns a Store over the table described by opts, creating or
// migrating it first unless opts.SkipMigrate is set. The pool stays the
// caller's: Close does not close it. Connections get pgvector's types
// registered on first use, so any pgxpool works.
func Open(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Store, error) {
	if pool == nil {
		return nil, fmt.Errorf("pgvector: Open needs a *pgxpool.Pool: %w", bedrockkit.ErrInvalidInput)
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Store{pool: pool, o: o, table: pgx.Identifier{o.Table}.Sanitize()}
	err = s.withConn(ctx, func(c *pgx.Conn) error {
		if o.SkipMigrate {
			if err := checkSchema(ctx, c, &o); err != nil {
				return err
			}
		} else if err := migrate(ctx, c, &o); err != nil {
			return err
		}
		var ver string
		if err := c.QueryRow(ctx, `SELECT extversion FROM pg_extension WHERE extname = 'vector'`).Scan(&ver); err != nil {
			return fmt.Errorf("pgvector: the vector extension is not installed in this database (CREATE EXTENSION vector): %w", err)
		}
		if o.Index != NoIndex && o.Search != Exact && !atLeast(ver, 0, 8) {
			return fmt.Errorf("pgvector: the server has pgvector %s, which lacks iterative index scans, so filtered searches through the index would return too few rows; upgrade to 0.8 or newer, or use Search: Exact: %w", ver, bedrockkit.ErrUnsupported)
		}
		if o.RowLevelSecurity {
			var bypass bool
			if err := c.QueryRow(ctx, `SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user`).Scan(&bypass); err != nil {
				return err
			}
			if bypass {
				return ErrRLSBypassed
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// atLeast reports whether version "major.minor[.patch]" is at least major.minor.
func atLeast(version string, major, minor int) bool {
	var ma, mi int
	if _, err := fmt.Sscanf(version, "%d.%d", &ma, &mi); err != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}

// Options returns the store's options with defaults filled in.
func (s *Store) Options() Options { return s.o }

// CreateIndex builds the configured vector index if it does not exist (use
// it after a bulk load with DeferIndex), then updates the planner's
// statistics.
func (s *Store) CreateIndex(ctx context.Context) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	return s.withConn(ctx, func(c *pgx.Conn) error {
		if ddl := s.o.indexDDL(); ddl != "" {
			if _, err := c.Exec(ctx, ddl); err != nil {
				return s.wrap(ctx, "building the vector index", err)
			}
		}
		_, err := c.Exec(ctx, "ANALYZE "+s.table)
		return s.wrap(ctx, "analyzing the table", err)
	})
}

// Close marks the store closed; later calls fail with kbstore.ErrClosed. It
// does not close the pool.
func (s *Store) Close() error {
	s.closed.Store(true)
	return nil
}

func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return kbstore.ErrClosed
	}
	return ctx.Err()
}

// wrap adds context to a database error, preferring the context's own
// error when the call was cancelled.
func (s *Store) wrap(ctx context.Context, what string, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("pgvector: %s: %w (%v)", what, cerr, err)
	}
	return fmt.Errorf("pgvector: %s on %s: %w", what, s.o.Table, err)
}

// withConn runs f on a pooled connection with pgvector's types registered.
func (s *Store) withConn(ctx context.Context, f func(*pgx.Conn) error) error {
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return s.wrap(ctx, "acquiring a connection", err)
	}
	defer c.Release()
	conn := c.Conn()
	if _, ok := conn.TypeMap().TypeForName("vector"); !ok {
		if err := pgxvec.RegisterTypes(ctx, conn); err != nil {
			return s.wrap(ctx, "registering the vector type (is the vector extension installed?)", err)
		}
	}
	return f(conn)
}

// inTx runs f in a transaction on a pooled connection. With row-level
// security the partition is set for the transaction first (SET LOCAL).
func (s *Store) inTx(ctx context.Context, partition string, f func(pgx.Tx) error) error {
	return s.withConn(ctx, func(c *pgx.Conn) error {
		return pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
			if s.o.RowLevelSecurity {
				if err := setPartition(ctx, tx, partition); err != nil {
					return err
				}
			}
			return f(tx)
		})
	})
}

// setPartition is SET LOCAL bedrockkit.partition = partition, with the
// value bound as a parameter.
func setPartition(ctx context.Context, tx pgx.Tx, partition string) error {
	_, err := tx.Exec(ctx, `SELECT set_config('bedrockkit.partition', $1, true)`, partition)
	return err
}

func (s *Store) needPartition(p string) error {
	if s.o.RequirePartition && p == "" {
		return kbstore.ErrPartitionRequired
	}
	return checkText("partition", p)
}

// checkText refuses what PostgreSQL text cannot hold, with ErrInvalidInput
// rather than a server error.
func checkText(what, v string) error {
	if strings.IndexByte(v, 0) >= 0 {
		return fmt.Errorf("pgvector: %s contains a NUL byte, which PostgreSQL text cannot hold: %w", what, bedrockkit.ErrInvalidInput)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("pgvector: %s is not valid UTF-8: %w", what, bedrockkit.ErrInvalidInput)
	}
	return nil
}

func checkRecordText(r *kbstore.Record) error {
	for _, f := range []struct{ what, v string }{
		{"ID", r.ID}, {"DocumentID", r.DocumentID}, {"Partition", r.Partition}, {"ParentID", r.ParentID},
		{"Fingerprint", r.Fingerprint}, {"Text", r.Text},
	} {
		if err := checkText(fmt.Sprintf("record %q %s", r.ID, f.what), f.v); err != nil {
			return err
		}
	}
	for k, v := range r.Metadata {
		if err := checkText(fmt.Sprintf("record %q metadata key", r.ID), k); err != nil {
			return err
		}
		vals := []any{v}
		if l, ok := v.([]any); ok {
			vals = l
		}
		for _, e := range vals {
			if str, ok := e.(string); ok {
				if err := checkText(fmt.Sprintf("record %q metadata %q", r.ID, k), str); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

const stageTable = "bedrockkit_pgvector_stage"

// Upsert writes the records with one COPY into a per-connection staging
// table and one INSERT ... ON CONFLICT per partition, all in one
// transaction: the batch is atomic.
func (s *Store) Upsert(ctx context.Context, records []kbstore.Record) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if len(records) == 0 {
		return nil
	}
	type key struct{ p, id string }
	last := make(map[key]int, len(records))
	clean := make([]kbstore.Record, len(records))
	for i, r := range records {
		v, err := kbstore.ValidateRecord(r, s.o.Dimensions, s.o.RequirePartition)
		if err != nil {
			return err
		}
		if err := checkRecordText(&v); err != nil {
			return err
		}
		clean[i] = v
		last[key{v.Partition, v.ID}] = i
	}
	rows := make([][]any, 0, len(last))
	partitions := []string{}
	seen := map[string]bool{}
	for i, r := range clean {
		if last[key{r.Partition, r.ID}] != i {
			continue // a later record with the same key wins
		}
		var md any // NULL for no metadata
		if len(r.Metadata) > 0 {
			b, err := json.Marshal(r.Metadata)
			if err != nil {
				return fmt.Errorf("pgvector: record %q metadata: %v: %w", r.ID, err, bedrockkit.ErrInvalidInput)
			}
			md = string(b)
		}
		var vec any // NULL for vector-less records
		if r.Vector != nil {
			vec = pgv.NewVector(r.Vector)
		}
		rows = append(rows, []any{r.Partition, r.ID, r.DocumentID, r.ParentID, r.Fingerprint, r.Text, md, vec})
		if !seen[r.Partition] {
			seen[r.Partition] = true
			partitions = append(partitions, r.Partition)
		}
	}
	err := s.withConn(ctx, func(c *pgx.Conn) error {
		return pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS `+stageTable+` (
				partition text, id text, document_id text, parent_id text, fingerprint text,
				content text, metadata jsonb, embedding vector) ON COMMIT DELETE ROWS`); err != nil {
				return err
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{stageTable},
				[]string{"partition", "id", "document_id", "parent_id", "fingerprint", "content", "metadata", "embedding"},
				pgx.CopyFromRows(rows)); err != nil {
				return err
			}
			for _, p := range partitions {
				if s.o.RowLevelSecurity {
					if err := setPartition(ctx, tx, p); err != nil {
						return err
					}
				}
				if _, err := tx.Exec(ctx, `INSERT INTO `+s.table+` AS t
					(partition, id, document_id, parent_id, fingerprint, content, metadata, embedding)
					SELECT partition, id, document_id, parent_id, fingerprint, content, metadata, embedding::vector(`+fmt.Sprint(s.o.Dimensions)+`)
					FROM `+stageTable+` WHERE partition = $1
					ON CONFLICT (partition, id) DO UPDATE SET
						document_id = EXCLUDED.document_id, parent_id = EXCLUDED.parent_id,
						fingerprint = EXCLUDED.fingerprint, content = EXCLUDED.content,
						metadata = EXCLUDED.metadata, embedding = EXCLUDED.embedding`, p); err != nil {
					return err
				}
			}
			return nil // the staging rows go at commit (ON COMMIT DELETE ROWS)
		})
	})
	return s.wrap(ctx, "upsert", err)
}

// DeleteDocuments removes every record of the documents in the partition.
func (s *Store) DeleteDocuments(ctx context.Context, partition string, documentIDs []string) (int, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	if err := s.needPartition(partition); err != nil {
		return 0, err
	}
	if len(documentIDs) == 0 {
		return 0, nil
	}
	var n int64
	err := s.inTx(ctx, partition, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM `+s.table+` WHERE partition = $1 AND document_id = ANY($2::text[])`, partition, documentIDs)
		n = tag.RowsAffected()
		return err
	})
	return int(n), s.wrap(ctx, "delete documents", err)
}

const recordColumns = `partition, id, document_id, parent_id, fingerprint, content, metadata`

// scanRecord scans recordColumns plus an embedding (possibly NULL).
func scanRecord(rows pgx.Rows, extra ...any) (kbstore.Record, error) {
	var r kbstore.Record
	var md []byte
	var vec *pgv.Vector
	dest := append([]any{&r.Partition, &r.ID, &r.DocumentID, &r.ParentID, &r.Fingerprint, &r.Text, &md, &vec}, extra...)
	if err := rows.Scan(dest...); err != nil {
		return r, err
	}
	if len(md) > 0 && string(md) != "null" {
		if err := json.Unmarshal(md, &r.Metadata); err != nil {
			return r, fmt.Errorf("metadata of %q: %w", r.ID, err)
		}
		if len(r.Metadata) == 0 {
			r.Metadata = nil
		}
	}
	if vec != nil {
		r.Vector = vec.Slice()
	}
	return r, nil
}

// Get returns the records with the given IDs, in the order asked.
func (s *Store) Get(ctx context.Context, partition string, ids []string) ([]kbstore.Record, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if err := s.needPartition(partition); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	byID := map[string]kbstore.Record{}
	err := s.inTx(ctx, partition, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+recordColumns+`, embedding FROM `+s.table+` WHERE partition = $1 AND id = ANY($2::text[])`, partition, ids)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRecord(rows)
			if err != nil {
				return err
			}
			byID[r.ID] = r
		}
		return rows.Err()
	})
	if err != nil {
		return nil, s.wrap(ctx, "get", err)
	}
	out := make([]kbstore.Record, 0, len(byID))
	for _, id := range ids {
		if r, ok := byID[id]; ok {
			out = append(out, kbstore.CloneRecord(r))
		}
	}
	return out, nil
}

// Documents lists the partition's documents sorted by ID (byte order),
// leaving out the document in which a knowledge base keeps its
// configuration (kbstore.ConfigRecordID).
func (s *Store) Documents(ctx context.Context, partition string) ([]kbstore.DocumentInfo, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if err := s.needPartition(partition); err != nil {
		return nil, err
	}
	var out []kbstore.DocumentInfo
	err := s.inTx(ctx, partition, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT document_id,
			CASE WHEN count(DISTINCT fingerprint) = 1 THEN min(fingerprint) ELSE '' END, count(*)
			FROM `+s.table+` WHERE partition = $1 AND document_id <> $2
			GROUP BY document_id ORDER BY document_id COLLATE "C"`, partition, kbstore.ConfigRecordID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d kbstore.DocumentInfo
			if err := rows.Scan(&d.ID, &d.Fingerprint, &d.Records); err != nil {
				return err
			}
			out = append(out, d)
		}
		return rows.Err()
	})
	return out, s.wrap(ctx, "documents", err)
}

// Search returns the K nearest records of the partition that match the
// filter, best first. The filter is part of the SQL WHERE clause; with an
// index, pgvector's iterative scan keeps walking the index until K matching
// rows are found (or MaxScanTuples is reached), and Exact (or Auto on a
// small partition) scans without the index for the true top K.
func (s *Store) Search(ctx context.Context, q kbstore.Query) ([]kbstore.Hit, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if err := kbstore.ValidateQuery(q, s.o.Dimensions, s.o.RequirePartition); err != nil {
		return nil, err
	}
	if err := checkText("partition", q.Partition); err != nil {
		return nil, err
	}
	sql, args, err := s.searchSQL(q)
	if err != nil {
		return nil, err
	}
	var hits []kbstore.Hit
	err = s.inTx(ctx, q.Partition, func(tx pgx.Tx) error {
		if err := s.searchSettings(ctx, tx, q.Partition, q.K); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var dist float64
			r, err := scanRecord(rows, &dist)
			if err != nil {
				return err
			}
			hits = append(hits, kbstore.Hit{Record: r, Score: s.o.Distance.score(dist)})
		}
		return rows.Err()
	})
	if err != nil {
		return nil, s.wrap(ctx, "search", err)
	}
	return hits, nil
}

// searchSQL builds the vector search statement for q.
func (s *Store) searchSQL(q kbstore.Query) (string, []any, error) {
	op := s.o.Distance.operator()
	args := []any{pgv.NewVector(q.Vector), q.Partition, q.K}
	// In Index mode the partition and filter are written so that no B-tree
	// index can serve them (the planner would otherwise scan a selective
	// partition or key exactly): the vector index does the work.
	force := s.o.Search == Index && s.o.Index != NoIndex
	where := "embedding IS NOT NULL AND partition = $2"
	if force {
		where = "embedding IS NOT NULL AND (partition || '') = $2"
	}
	if !q.Filter.IsZero() {
		w, fargs, err := WhereClause(q.Filter, "metadata", len(args)+1)
		if err != nil {
			return "", nil, err
		}
		if force {
			w = "(" + w + ") IS TRUE"
		}
		where += " AND " + w
		args = append(args, fargs...)
	}
	vecCol := "NULL::vector"
	if q.WithVectors {
		vecCol = "embedding"
	}
	// The inner query is what the index serves; the outer one re-sorts,
	// since a relaxed-order iterative scan may return rows slightly out of order.
	return `WITH c AS MATERIALIZED (
		SELECT ` + recordColumns + `, ` + vecCol + ` AS embedding, embedding ` + op + ` $1 AS distance
		FROM ` + s.table + ` WHERE ` + where + `
		ORDER BY embedding ` + op + ` $1 LIMIT $3)
		SELECT * FROM c ORDER BY distance, id`, args, nil
}

// Explain returns PostgreSQL's plan (EXPLAIN, without running it) for the
// search q under the store's settings: use it to see whether a filtered
// search walks the vector index or scans exactly.
func (s *Store) Explain(ctx context.Context, q kbstore.Query) (string, error) {
	if err := s.check(ctx); err != nil {
		return "", err
	}
	if err := kbstore.ValidateQuery(q, s.o.Dimensions, s.o.RequirePartition); err != nil {
		return "", err
	}
	sql, args, err := s.searchSQL(q)
	if err != nil {
		return "", err
	}
	var lines []string
	err = s.inTx(ctx, q.Partition, func(tx pgx.Tx) error {
		if err := s.searchSettings(ctx, tx, q.Partition, q.K); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "EXPLAIN (COSTS OFF) "+sql, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				return err
			}
			lines = append(lines, l)
		}
		return rows.Err()
	})
	if err != nil {
		return "", s.wrap(ctx, "explain", err)
	}
	return strings.Join(lines, "\n"), nil
}

// searchSettings sets the transaction's planner and pgvector settings for
// a search of k rows.
func (s *Store) searchSettings(ctx context.Context, tx pgx.Tx, partition string, k int) error {
	exact := s.o.Search == Exact || s.o.Index == NoIndex
	if !exact && s.o.Search == Auto {
		// A partition found large is assumed to stay large for a while, so
		// most searches skip the count.
		if seen, ok := s.large.Load(partition); !ok || time.Since(seen.(time.Time)) > largeFor {
			var n int
			err := tx.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM `+s.table+` WHERE partition = $1 LIMIT $2) s`,
				partition, s.o.ExactThreshold+1).Scan(&n)
			if err != nil {
				return err
			}
			exact = n <= s.o.ExactThreshold
			if exact {
				s.large.Delete(partition)
			} else {
				s.large.Store(partition, time.Now())
			}
		}
	}
	names, vals := []string{}, []string{}
	set := func(n, v string) { names = append(names, n); vals = append(vals, v) }
	// pgx prepares statements, and PostgreSQL may switch a prepared
	// statement to a cached generic plan, which ignores the planner
	// settings below (a plan made for an index search would then run in
	// exact mode, or without the filter's selectivity). Plan every search.
	set("plan_cache_mode", "force_custom_plan")
	if exact {
		set("enable_indexscan", "off")
	} else {
		if s.o.Search == Index {
			// Steer the planner to the vector index even where it would
			// prefer an exact scan (see searchSQL).
			set("enable_seqscan", "off")
		}
		switch s.o.Index {
		case HNSW:
			set("hnsw.ef_search", fmt.Sprint(min(max(s.o.HNSW.EfSearch, k), 1000)))
			set("hnsw.iterative_scan", "relaxed_order")
			if s.o.MaxScanTuples > 0 {
				set("hnsw.max_scan_tuples", fmt.Sprint(s.o.MaxScanTuples))
			}
		case IVFFlat:
			set("ivfflat.probes", fmt.Sprint(min(s.o.IVFFlat.Probes, s.o.IVFFlat.Lists)))
			set("ivfflat.iterative_scan", "relaxed_order")
		}
	}
	_, err := tx.Exec(ctx, `SELECT set_config(n, v, true) FROM unnest($1::text[], $2::text[]) AS s(n, v)`, names, vals)
	return err
}

// SearchText is keyword search through PostgreSQL full-text search: the
// query's words (any of them) against the records' text, ranked by
// ts_rank_cd, with the same filter and partition rules as Search.
func (s *Store) SearchText(ctx context.Context, q kbstore.TextQuery) ([]kbstore.Hit, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if s.o.RequirePartition && q.Partition == "" {
		return nil, kbstore.ErrPartitionRequired
	}
	if q.K < 1 {
		return nil, fmt.Errorf("pgvector: K is %d; ask for at least 1 result: %w", q.K, bedrockkit.ErrInvalidInput)
	}
	if err := checkText("partition", q.Partition); err != nil {
		return nil, err
	}
	if err := checkText("query", q.Text); err != nil {
		return nil, err
	}
	words := strings.FieldsFunc(q.Text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	kept := words[:0]
	for _, w := range words {
		if !strings.EqualFold(w, "or") {
			kept = append(kept, w)
		}
	}
	if len(kept) == 0 {
		return nil, nil
	}
	args := []any{strings.Join(kept, " or "), q.Partition, q.K, s.o.TextSearchConfig}
	where := "partition = $2 AND tsv @@ q.query"
	if !q.Filter.IsZero() {
		w, fargs, err := WhereClause(q.Filter, "metadata", len(args)+1)
		if err != nil {
			return nil, err
		}
		where += " AND " + w
		args = append(args, fargs...)
	}
	sql := `SELECT ` + recordColumns + `, NULL::vector, ts_rank_cd(tsv, q.query, 1) AS score
		FROM ` + s.table + `, (SELECT websearch_to_tsquery($4::text::regconfig, $1) AS query) q
		WHERE ` + where + ` ORDER BY score DESC, id LIMIT $3`
	var hits []kbstore.Hit
	err := s.inTx(ctx, q.Partition, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var score float64
			r, err := scanRecord(rows, &score)
			if err != nil {
				return err
			}
			hits = append(hits, kbstore.Hit{Record: r, Score: score})
		}
		return rows.Err()
	})
	if err != nil {
		return nil, s.wrap(ctx, "keyword search", err)
	}
	return hits, nil
}
