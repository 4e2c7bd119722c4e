package pgvector

import (
	"context"
	"testing"

	"github.com/bedrockkit/bedrockkit/kb/kbstore"
	"github.com/bedrockkit/bedrockkit/kb/kbstore/kbstoretest"
)

// opener opens a fresh table per store. A store that must require a
// partition is opened with row-level security, as the application role,
// after the owner created the table: the suite's tenant-isolation property
// then runs through PostgreSQL's policies, not only through our WHERE
// clauses.
func opener(base Options) kbstoretest.Opener {
	return func(t *testing.T, cfg kbstoretest.Config) kbstore.Store {
		ctx := context.Background()
		o := base
		o.Table = newTable(t)
		o.Dimensions = cfg.Dimensions
		pool := ownerPool(t)
		if cfg.RequirePartition {
			o.RowLevelSecurity = true
			o.GrantTo = []string{appRole}
			app := applicationPool(t)
			if err := Migrate(ctx, pool, o); err != nil {
				t.Fatal(err)
			}
			o.SkipMigrate = true
			pool = app
		}
		s, err := Open(ctx, pool, o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

func TestConformance(t *testing.T) {
	ownerPool(t)
	t.Run("HNSWAuto", func(t *testing.T) { kbstoretest.Run(t, opener(Options{})) })
	t.Run("Exact", func(t *testing.T) { kbstoretest.Run(t, opener(Options{Search: Exact})) })
	t.Run("IVFFlatAuto", func(t *testing.T) {
		kbstoretest.Run(t, opener(Options{Index: IVFFlat, IVFFlat: IVFFlatOptions{Lists: 4}}))
	})
	t.Run("NoIndexIndexedKeys", func(t *testing.T) {
		kbstoretest.Run(t, opener(Options{Index: NoIndex, IndexedKeys: []string{"group", "type", "owner"}}))
	})
}
