package chromem

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/bedrockkit/bedrockkit/internal/testutil/crashtest"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// The crash test re-executes the test binary as a writer process
// (crashWriterMain, entered from TestMain when the environment says so),
// kills it with SIGKILL at a random point and reopens the store; package
// crashtest does the process handling.
// Default: 5 kills x 1,000 upserts; BEDROCKKIT_CRASH_FULL=1 runs 50 x
// 10,000.

// envCrash prefixes the variables that pass the writer its job
// (BEDROCKKIT_CHROMEM_CRASH_DIR, _START, _N).
const envCrash = "BEDROCKKIT_CHROMEM_CRASH"

func crashVec(i int) []float32 { return crashtest.Vector(i, 8) }

// crashWriterMain runs the writer when the environment asks for it. Op i
// upserts record i; every tenth op also replaces record i-5 in the same
// batch, and every 50th deletes the document of record i-20. After an op
// commits, the writer prints i.
func crashWriterMain() bool {
	return crashtest.Child(envCrash, func(dir string) (crashtest.Writer, error) {
		s, err := Open(Options{Dir: dir, CompactBytes: 64 << 10})
		if err != nil {
			return crashtest.Writer{}, err
		}
		apply := func(ctx context.Context, start, i int) error {
			batch := []kbstore.Record{{ID: strconv.Itoa(i), DocumentID: "d" + strconv.Itoa(i), Text: "v1", Vector: crashVec(i),
				Metadata: map[string]any{"i": i}}}
			if i%10 == 0 && i-5 >= start {
				batch = append(batch, kbstore.Record{ID: strconv.Itoa(i - 5), DocumentID: "d" + strconv.Itoa(i-5), Text: fmt.Sprint("v2-", i), Vector: crashVec(i - 5),
					Metadata: map[string]any{"i": i - 5}})
			}
			if err := s.Upsert(ctx, batch); err != nil {
				return fmt.Errorf("upsert: %w", err)
			}
			if i%50 == 49 && i-20 >= start {
				if _, err := s.DeleteDocuments(ctx, "", []string{"d" + strconv.Itoa(i-20)}); err != nil {
					return fmt.Errorf("delete: %w", err)
				}
			}
			return nil
		}
		return crashtest.Writer{Apply: apply, Close: s.Close}, nil
	})
}

// deleted reports whether acknowledged op i+20 deleted record i.
func deleted(i int, acked map[int]bool, starts map[int]int) bool {
	j := i + 20
	return j%50 == 49 && acked[j] && i >= starts[j]
}

func TestCrashKill(t *testing.T) {
	cuts := 0
	kills, total := crashtest.Kill(t, crashtest.Config{EnvPrefix: envCrash, Kills: 5, PerRun: 1000}, func(st crashtest.State) {
		s, err := Open(Options{Dir: st.Dir})
		if err != nil {
			t.Fatalf("run %d: reopen after kill failed: %v", st.Run, err)
		}
		if s.Recovery().CutBytes > 0 {
			cuts++
		}
		checkCrash(t, s, st)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("%d kills, %d acknowledged operations all present; %d reopens cut a torn tail", kills, total, cuts)
}

func checkCrash(t *testing.T, s *Store, st crashtest.State) {
	t.Helper()
	ctx := context.Background()
	acked, starts := st.Acked, st.Starts
	for i := range acked {
		got, err := s.Get(ctx, "", []string{strconv.Itoa(i)})
		if err != nil {
			t.Fatal(err)
		}
		if deleted(i, acked, starts) {
			if len(got) != 0 {
				t.Fatalf("record %d was deleted by an acknowledged op but is back", i)
			}
			continue
		}
		if len(got) != 1 {
			t.Fatalf("acknowledged upsert %d missing after the kill", i)
		}
		v := crashVec(i)
		for j := range v {
			if got[0].Vector[j] != v[j] {
				t.Fatalf("record %d has a wrong vector", i)
			}
		}
		if got[0].Metadata["i"] != float64(i) {
			t.Fatalf("record %d has metadata %v", i, got[0].Metadata)
		}
		if i%10 == 0 && i-5 >= starts[i] && !deleted(i-5, acked, starts) {
			got, _ := s.Get(ctx, "", []string{strconv.Itoa(i - 5)})
			if len(got) != 1 || got[0].Text != fmt.Sprint("v2-", i) {
				t.Fatalf("replacement of %d in acknowledged op %d lost: %v", i-5, i, got)
			}
		}
	}
	st.CheckSearch(t, s, crashVec(1), s.Len())
}
