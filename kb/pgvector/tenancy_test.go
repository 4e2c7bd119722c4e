package pgvector

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
	"github.com/bedrockkit/bedrockkit/kb/kbstore/kbstoretest"
)

// singleConnPool returns a pool of one connection with the config of base,
// changed by edit, closed when the test ends.
func singleConnPool(t testing.TB, base *pgxpool.Pool, edit func(*pgxpool.Config)) *pgxpool.Pool {
	t.Helper()
	cfg := base.Config()
	cfg.MaxConns, cfg.MinConns = 1, 0
	if edit != nil {
		edit(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// rlsTableWithDefaultRows creates a table holding rows in the default
// partition (written before row-level security was turned on, as an
// installation that adopts it later has) and in tenant acme, then turns
// row-level security on for the application role.
func rlsTableWithDefaultRows(t *testing.T) (Options, int) {
	t.Helper()
	owner := ownerPool(t)
	applicationPool(t) // creates the role granted below
	o := Options{Table: newTable(t), Dimensions: 4}
	s, err := Open(ctx, owner, o)
	if err != nil {
		t.Fatal(err)
	}
	var recs []kbstore.Record
	for i := range 5 {
		recs = append(recs, kbstore.Record{ID: fmt.Sprint("d", i), DocumentID: "shared", Text: "default partition secret", Vector: []float32{1, 0, 0, float32(i)}})
	}
	for i := range 3 {
		recs = append(recs, kbstore.Record{ID: fmt.Sprint("a", i), DocumentID: "doc", Partition: "acme", Text: "acme text", Vector: []float32{0, 1, 0, float32(i)}})
	}
	if err := s.Upsert(ctx, recs); err != nil {
		t.Fatal(err)
	}
	s.Close()
	o.RowLevelSecurity, o.GrantTo = true, []string{appRole}
	if err := Migrate(ctx, owner, o); err != nil {
		t.Fatal(err)
	}
	o.SkipMigrate = true
	return o, 3
}

// TestRLSNoTenantAfterReuse: on a pool of one connection, after a
// transaction served tenant acme, statements that set no tenant (in a
// transaction or not), and a session that sets it to the empty string,
// see no row and cannot write one; the store's own calls keep working.
// Version 1 of the policy showed them the default partition's rows.
func TestRLSNoTenantAfterReuse(t *testing.T) {
	o, acmeRows := rlsTableWithDefaultRows(t)
	pool := singleConnPool(t, applicationPool(t), nil)
	s, err := Open(ctx, pool, o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	table := pgx.Identifier{o.Table}.Sanitize()
	countIn := func(tenant *string) (n int) {
		t.Helper()
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if tenant != nil {
				if err := setPartition(ctx, tx, *tenant); err != nil {
					return err
				}
			}
			return tx.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n)
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	acme := "acme"
	for round := range 3 {
		if n := countIn(&acme); n != acmeRows {
			t.Fatalf("round %d: tenant acme sees %d rows, want %d", round, n, acmeRows)
		}
		hits, err := s.Search(ctx, kbstore.Query{Vector: []float32{0, 1, 0, 0}, K: 10, Partition: "acme"})
		if err != nil || len(hits) != acmeRows {
			t.Fatalf("round %d: store search as acme: %d hits, %v", round, len(hits), err)
		}
		if n := countIn(nil); n != 0 {
			t.Fatalf("round %d: a transaction without a tenant, on the connection that served acme, sees %d rows", round, n)
		}
		var n int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil || n != 0 {
			t.Fatalf("round %d: a statement outside a transaction without a tenant sees %d rows (%v)", round, n, err)
		}
		empty := ""
		if n := countIn(&empty); n != 0 {
			t.Fatalf("round %d: the empty tenant sees %d rows", round, n)
		}
	}
	// A session-level empty setting is no tenant either.
	err = pool.AcquireFunc(ctx, func(c *pgxpool.Conn) error {
		if _, err := c.Exec(ctx, "SELECT set_config('bedrockkit.partition', '', false)"); err != nil {
			return err
		}
		defer c.Exec(ctx, "RESET bedrockkit.partition")
		var n int
		if err := c.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			return err
		}
		if n != 0 {
			return fmt.Errorf("a session set to the empty tenant sees %d rows", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Writing without a tenant fails the policy's check, after reuse too.
	for _, sql := range []string{
		"INSERT INTO " + table + " (partition, id, document_id) VALUES ('', 'x', 'd')",
		"UPDATE " + table + " SET content = 'overwritten'",
		"DELETE FROM " + table,
	} {
		countIn(&acme)
		tag, err := pool.Exec(ctx, sql)
		if strings.HasPrefix(sql, "INSERT") {
			if err == nil {
				t.Fatalf("%s succeeded without a tenant", sql)
			}
		} else if err != nil || tag.RowsAffected() != 0 {
			t.Fatalf("%s without a tenant: %v rows, %v", sql, tag.RowsAffected(), err)
		}
	}
	var total int
	if err := ownerPool(t).QueryRow(ctx, "SELECT count(*) FROM "+table+" WHERE content <> 'overwritten'").Scan(&total); err != nil || total != 5+acmeRows {
		t.Fatalf("rows after the refused writes: %d (%v)", total, err)
	}
}

// TestRLSPolicyMigration: a table created and secured by version 1 (the
// policy that reads an empty setting as the default partition) is migrated
// to the fixed policy by the next Open or Migrate with the owner role;
// until then an application role's SkipMigrate Open refuses it.
func TestRLSPolicyMigration(t *testing.T) {
	owner := ownerPool(t)
	applicationPool(t) // creates the role granted below
	o := Options{Table: newTable(t), Dimensions: 4, RowLevelSecurity: true, GrantTo: []string{appRole}}
	ov, err := o.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	// Build the table as version 1 did.
	err = pgx.BeginFunc(ctx, owner, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+migrationsTable+` (
			table_name text NOT NULL, version int NOT NULL, description text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (table_name, version))`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, ov.render(migrations[0].sql)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+migrationsTable+` (table_name, version, description) VALUES ($1, 1, $2)`, o.Table, migrations[0].description); err != nil {
			return err
		}
		table := pgx.Identifier{o.Table}.Sanitize()
		for _, stmt := range []string{
			"INSERT INTO " + table + " (partition, id, document_id, embedding) VALUES ('', 'd', 'doc', '[1,0,0,0]'), ('acme', 'a', 'doc', '[0,1,0,0]')",
			"ALTER TABLE " + table + " ENABLE ROW LEVEL SECURITY",
			"ALTER TABLE " + table + " FORCE ROW LEVEL SECURITY",
			"GRANT SELECT, INSERT, UPDATE, DELETE ON " + table + " TO " + appRole,
			"GRANT SELECT ON " + migrationsTable + " TO " + appRole,
		} {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("%s: %w", stmt, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	policy := func() string {
		var qual string
		if err := owner.QueryRow(ctx, `SELECT qual FROM pg_policies WHERE tablename = $1`, o.Table).Scan(&qual); err != nil {
			t.Fatal(err)
		}
		return qual
	}
	if strings.Contains(strings.ToLower(policy()), "nullif") {
		t.Fatal("the version-1 table already has the fixed policy; the test builds the wrong starting point")
	}
	app := o
	app.SkipMigrate = true
	if _, err := Open(ctx, applicationPool(t), app); !errors.Is(err, ErrSchema) {
		t.Fatalf("SkipMigrate Open of a version-1 table: %v, want ErrSchema", err)
	}
	if err := Migrate(ctx, owner, o); err != nil {
		t.Fatal(err)
	}
	if q := policy(); !strings.Contains(strings.ToLower(q), "nullif") {
		t.Fatalf("policy after migration: %s", q)
	}
	var versions []int
	rows, err := owner.Query(ctx, "SELECT version FROM "+migrationsTable+" WHERE table_name = $1 ORDER BY version", o.Table)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v int
		rows.Scan(&v)
		versions = append(versions, v)
	}
	if !slices.Equal(versions, []int{1, 2}) || SchemaVersion != 2 {
		t.Fatalf("versions %v, SchemaVersion %d", versions, SchemaVersion)
	}
	// The migrated table fails closed on a reused connection.
	pool := singleConnPool(t, applicationPool(t), nil)
	s, err := Open(ctx, pool, app)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if hits, err := s.Search(ctx, kbstore.Query{Vector: []float32{0, 1, 0, 0}, K: 5, Partition: "acme"}); err != nil || len(hits) != 1 {
		t.Fatalf("acme after migration: %d hits, %v", len(hits), err)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{o.Table}.Sanitize()).Scan(&n); err != nil || n != 0 {
		t.Fatalf("no tenant after migration sees %d rows (%v)", n, err)
	}
}

// Keys and values that break out of a string literal when backslashes are
// escapes (standard_conforming_strings off), or when quotes are not doubled.
var hostileKeys = []string{
	`it's`,
	`back\slash\`,
	`\'`,
	`x\' OR true --`,
	`'); DROP TABLE bkt; --`,
	`$1`,
	`E'\\'`,
	`é "quoted" \n`,
}

var hostileValues = []any{`it's`, `\`, `\'`, `' OR '1'='1`, `\x00-not-a-nul`, "tab\there", 1.5, true}

// scsOffPool is a one-connection pool whose sessions start with
// standard_conforming_strings off (backslashes escape in '...' literals).
func scsOffPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return singleConnPool(t, ownerPool(t), func(c *pgxpool.Config) {
		c.ConnConfig.RuntimeParams["standard_conforming_strings"] = "off"
		c.ConnConfig.RuntimeParams["escape_string_warning"] = "off"
	})
}

// TestHostileFilterKeysWithStandardConformingStringsOff: with backslashes
// as escapes in the session, a store (its migration, indexed keys, writes
// and every filter operator) works on keys and values made of quotes and
// backslashes, and each search returns exactly the records the in-memory
// filter selects.
func TestHostileFilterKeysWithStandardConformingStringsOff(t *testing.T) {
	pool := scsOffPool(t)
	var scs string
	if err := pool.QueryRow(ctx, "SHOW standard_conforming_strings").Scan(&scs); err != nil || scs != "off" {
		t.Fatalf("standard_conforming_strings = %q (%v), want off", scs, err)
	}
	o := Options{Table: newTable(t), Dimensions: 4, Index: NoIndex, IndexedKeys: hostileKeys}
	s, err := Open(ctx, pool, o)
	if err != nil {
		t.Fatalf("Open with hostile IndexedKeys and standard_conforming_strings off: %v", err)
	}
	defer s.Close()
	r := rand.New(rand.NewPCG(3, 4))
	var recs []kbstore.Record
	for i := range 40 {
		md := map[string]any{}
		for _, k := range hostileKeys {
			switch r.IntN(4) {
			case 0:
			case 1:
				md[k] = []any{hostileValues[r.IntN(len(hostileValues))], hostileValues[r.IntN(len(hostileValues))]}
			default:
				md[k] = hostileValues[r.IntN(len(hostileValues))]
			}
		}
		recs = append(recs, kbstore.Record{ID: fmt.Sprint("r", i), DocumentID: "d", Text: "t", Vector: randVec(r, 4), Metadata: md})
	}
	if err := s.Upsert(ctx, recs); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, k := range hostileKeys {
		for _, v := range hostileValues {
			fs := []kb.Filter{kb.Equals(k, v), kb.NotEquals(k, v), kb.In(k, v, "zz"), kb.NotIn(k, v, "zz"), kb.ListContains(k, v), kb.GreaterThan(k, 1.0)}
			if str, ok := v.(string); ok {
				fs = append(fs, kb.StartsWith(k, str), kb.StringContains(k, str))
			}
			for _, f := range fs {
				checkFilter(t, s, recs, f)
				checked++
			}
		}
	}
	// The indexed keys' expression indexes hold the keys themselves: a
	// custom plan of a query binding the key as a parameter uses them.
	for _, k := range hostileKeys {
		var plan []string
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = off; SET LOCAL plan_cache_mode = force_custom_plan"); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, "EXPLAIN (COSTS OFF) SELECT id FROM "+s.table+" WHERE (metadata -> $1::text) = $2::jsonb", k, `"x"`)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var l string
				rows.Scan(&l)
				plan = append(plan, l)
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("%s_md_%08x_idx", o.Table, fnv32(k))
		if !strings.Contains(strings.Join(plan, "\n"), want) {
			t.Errorf("key %q: the plan does not use %s:\n%s", k, want, strings.Join(plan, "\n"))
		}
	}
	t.Logf("%d filters over %d hostile keys matched the in-memory reference", checked, len(hostileKeys))
}

// checkFilter runs f as an exact search over every record and compares the
// IDs with those the in-memory filter selects.
func checkFilter(t *testing.T, s *Store, recs []kbstore.Record, f kb.Filter) {
	t.Helper()
	n, err := f.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range recs {
		md, err := kbstore.NormalizeMetadata(r.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		if n.Match(md) {
			want = append(want, r.ID)
		}
	}
	hits, err := s.Search(ctx, kbstore.Query{Vector: []float32{1, 1, 1, 1}, K: len(recs) + 1, Filter: f})
	if err != nil {
		t.Fatalf("filter %+v: %v", f, err)
	}
	var got []string
	for _, h := range hits {
		got = append(got, h.Record.ID)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("filter %+v: got %v, want %v", f, got, want)
	}
}

// TestRandomFiltersMatchReference: random filters of every operator and
// nesting (package kbstoretest's generator) over hostile keys and values, on
// a session with standard_conforming_strings off, select exactly what the
// in-memory filter selects.
func TestRandomFiltersMatchReference(t *testing.T) {
	pool := scsOffPool(t)
	s, err := Open(ctx, pool, Options{Table: newTable(t), Dimensions: 4, Search: Exact})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// kbstoretest draws keys a, b, c and string values x, y, xy: rename them.
	keys := map[string]string{"a": hostileKeys[1], "b": hostileKeys[3], "c": hostileKeys[4]}
	strs := map[string]string{"x": `\'x`, "y": `y'\`, "xy": `\'xy'\`}
	var rename func(any) any
	rename = func(v any) any {
		switch x := v.(type) {
		case string:
			return strs[x]
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = rename(e)
			}
			return out
		}
		return v
	}
	var renameFilter func(kb.Filter) kb.Filter
	renameFilter = func(f kb.Filter) kb.Filter {
		out := kb.Filter{Op: f.Op, Key: keys[f.Key], Value: rename(f.Value)}
		for _, c := range f.Filters {
			out.Filters = append(out.Filters, renameFilter(c))
		}
		return out
	}
	r := rand.New(rand.NewPCG(5, 6))
	var recs []kbstore.Record
	for i := range 60 {
		md := map[string]any{}
		for k, v := range kbstoretest.RandomMetadata(r) {
			md[keys[k]] = rename(v)
		}
		recs = append(recs, kbstore.Record{ID: fmt.Sprint("r", i), DocumentID: "d", Vector: randVec(r, 4), Metadata: md})
	}
	if err := s.Upsert(ctx, recs); err != nil {
		t.Fatal(err)
	}
	for range 300 {
		checkFilter(t, s, recs, renameFilter(kbstoretest.RandomFilter(r)))
	}
}

// FuzzFilterOnPostgres: any key and value, with any operator, either is
// refused as an invalid filter before reaching the server or runs without
// a SQL error and selects exactly what the in-memory filter selects, on a
// session where backslashes escape. The seed corpus runs as a normal test
// (against the server CI starts).
func FuzzFilterOnPostgres(f *testing.F) {
	for _, k := range hostileKeys {
		f.Add(k, `it's`, uint8(0))
	}
	f.Add("k", `\`, uint8(6))
	f.Add("k", "", uint8(7))
	f.Add("nul\x00key", "v", uint8(0))
	f.Add("k", "bad\xffutf8", uint8(7))
	f.Add(`k\`, `\\'`, uint8(3))
	// One table for the whole run, on a session where backslashes escape.
	s, err := Open(ctx, scsOffPool(f), Options{Table: newTable(f), Dimensions: 2, Search: Exact})
	if err != nil {
		f.Fatal(err)
	}
	var recs []kbstore.Record
	f.Fuzz(func(t *testing.T, key, value string, op uint8) {
		var flt kb.Filter
		switch op % 8 {
		case 0:
			flt = kb.Equals(key, value)
		case 1:
			flt = kb.NotEquals(key, value)
		case 2:
			flt = kb.In(key, value, "other")
		case 3:
			flt = kb.NotIn(key, value)
		case 4:
			flt = kb.ListContains(key, value)
		case 5:
			flt = kb.GreaterThanOrEquals(key, float64(len(value)))
		case 6:
			flt = kb.StartsWith(key, value)
		default:
			flt = kb.StringContains(key, value)
		}
		if _, err := flt.Normalize(); err != nil {
			return // kb refuses it (an empty key); not the store's concern
		}
		// Records holding the key with the value, a prefix of it, a list
		// containing it, and a record without it.
		var batch []kbstore.Record
		if checkText("", key) == nil && checkText("", value) == nil {
			batch = []kbstore.Record{
				{ID: "exact", DocumentID: "d", Vector: []float32{1, 0}, Metadata: map[string]any{key: value}},
				{ID: "prefix", DocumentID: "d", Vector: []float32{1, 0}, Metadata: map[string]any{key: value + "tail"}},
				{ID: "list", DocumentID: "d", Vector: []float32{1, 0}, Metadata: map[string]any{key: []any{"z", value}}},
				{ID: "number", DocumentID: "d", Vector: []float32{1, 0}, Metadata: map[string]any{key: float64(len(value))}},
				{ID: "absent", DocumentID: "d", Vector: []float32{1, 0}, Metadata: map[string]any{"other key": value}},
			}
			if _, err := s.DeleteDocuments(ctx, "", []string{"d"}); err != nil {
				t.Fatal(err)
			}
			if err := s.Upsert(ctx, batch); err != nil {
				t.Fatalf("upsert of key %q value %q: %v", key, value, err)
			}
			recs = batch
		}
		_, _, werr := WhereClause(flt, "metadata", 1)
		hits, err := s.Search(ctx, kbstore.Query{Vector: []float32{1, 0}, K: 10, Filter: flt})
		if werr != nil || err != nil {
			var fe *kbstore.FilterError
			if werr == nil || !errors.As(err, &fe) || !errors.Is(err, bedrockkit.ErrInvalidInput) {
				t.Fatalf("key %q value %q op %d: WhereClause %v, Search %v; want a *kbstore.FilterError from both", key, value, op, werr, err)
			}
			if checkText("", key) == nil && checkText("", value) == nil {
				t.Fatalf("a valid key %q and value %q were refused: %v", key, value, err)
			}
			return
		}
		n, _ := flt.Normalize()
		var want, got []string
		for _, r := range recs {
			md, _ := kbstore.NormalizeMetadata(r.Metadata)
			if n.Match(md) {
				want = append(want, r.ID)
			}
		}
		for _, h := range hits {
			got = append(got, h.Record.ID)
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("key %q value %q op %d: got %v, want %v", key, value, op, got, want)
		}
	})
}
