package chromem

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/bedrockkit/bedrockkit/kb/kbstore"
	"github.com/bedrockkit/bedrockkit/kb/kbstore/kbstoretest"
)

func TestMain(m *testing.M) {
	if crashWriterMain() {
		return
	}
	goleak.VerifyTestMain(m)
}

func opener(base Options, dir bool) kbstoretest.Opener {
	return func(t *testing.T, cfg kbstoretest.Config) kbstore.Store {
		o := base
		o.Dimensions = cfg.Dimensions
		o.RequirePartition = cfg.RequirePartition
		if dir {
			o.Dir = t.TempDir()
		}
		s, err := Open(o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

func TestConformance(t *testing.T) {
	t.Run("Memory", func(t *testing.T) { kbstoretest.Run(t, opener(Options{}, false)) })
	t.Run("Durable", func(t *testing.T) { kbstoretest.Run(t, opener(Options{}, true)) })
	t.Run("DurableCompacting", func(t *testing.T) {
		kbstoretest.Run(t, opener(Options{NoSync: true, CompactBytes: 2048}, true))
	})
}
