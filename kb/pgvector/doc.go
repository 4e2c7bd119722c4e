// Package pgvector is a kbstore.Store backed by PostgreSQL with the pgvector
// extension (0.8 or newer), for knowledge bases that outgrow one process.
// Amazon Bedrock Knowledge Bases use the same kind of store on Aurora
// PostgreSQL.
//
// One table holds the chunks of one knowledge base: text, a JSONB metadata
// column, the embedding, a generated tsvector for full-text search, and a
// partition (tenant) column that is part of the primary key.
//
//	pool, _ := pgxpool.New(ctx, dsn)
//	store, err := pgvector.Open(ctx, pool, pgvector.Options{Table: "docs", Dimensions: 1024})
//
// What it does:
//
//   - Schema: Open (or Migrate) creates and migrates the table with
//     versioned, append-only steps recorded in bedrockkit_pgvector_migrations,
//     in one transaction under an advisory lock, so it is idempotent and safe
//     to run from many processes at once.
//   - Writes: Upsert streams the batch with COPY into a staging table and
//     merges it with INSERT ... ON CONFLICT, in one transaction (atomic).
//     For bulk loads set DeferIndex and call CreateIndex afterwards.
//   - Indexes: HNSW (M, EfConstruction, EfSearch) or IVFFlat (Lists,
//     Probes), for Cosine, InnerProduct or L2 distance; B-tree expression
//     indexes on chosen metadata keys (IndexedKeys).
//   - Filters: every kbstore.Filter operator compiles to SQL on the JSONB column
//     (WhereClause) with exactly kbstore.Filter's semantics. Keys and values are
//     bind parameters, never SQL text, so no key or value can change the
//     statement, whatever the session's standard_conforming_strings; a key
//     or string value PostgreSQL cannot hold (a NUL byte, invalid UTF-8) is
//     refused as an invalid filter before it reaches the server. The filter
//     is part of the query, not applied to a top-K afterwards. pgvector's HNSW index
//     otherwise post-filters its ef_search candidates (40 by default), so a
//     selective filter would silently return too few rows; this store turns
//     on pgvector's iterative index scans (relaxed order, re-sorted) so the
//     walk continues until K matching rows are found.
//     SearchMode Exact never uses the vector index; Auto (the default)
//     searches partitions of at most ExactThreshold rows exactly and
//     otherwise lets the planner choose, which scans exactly through an
//     IndexedKeys index when it knows a filter is selective; Index always
//     walks the vector index. Every search is planned afresh
//     (plan_cache_mode), since a cached generic plan would ignore these
//     per-search settings. Explain shows the plan of a search.
//   - Keyword search: SearchText (kbstore.KeywordSearcher) uses PostgreSQL
//     full-text search (any of the query's words, ranked by ts_rank_cd), so
//     hybrid search runs server-side.
//   - Tenancy: RequirePartition makes every call name a tenant. With
//     RowLevelSecurity the table also gets a forced row-level security
//     policy and every transaction sets the tenant with SET LOCAL
//     (set_config(..., true)), so even a hand-written query on the same
//     connection sees only that tenant and a query without a tenant sees
//     nothing and writes nothing. The policy treats an empty setting as no
//     tenant: a connection that has served a tenant keeps the setting
//     defined, as the empty string, after its transaction ends, and the
//     empty string is also the default partition's name. (Schema version 1
//     read it as the default partition; version 2 fixes the policy, and
//     Open or Migrate as the owner applies it. A SkipMigrate Open refuses a
//     table still at version 1.) Superusers and BYPASSRLS roles would
//     bypass the policy, so the store refuses to run as one
//     (ErrRLSBypassed): create the table with
//     Migrate as its owner, GrantTo the application role, and Open as that
//     role with SkipMigrate.
//   - Sync: Documents reports each document's fingerprint for incremental sync.
//
// The store runs the kb/kbstore/kbstoretest conformance suite against a real server
// when BEDROCKKIT_PG_DSN is set; .ci/pg.sh starts one (PostgreSQL 17 and
// pgvector from a Debian trixie root).
package pgvector
