package localindex

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
// kills it with SIGKILL at a random point and reopens the index; package
// crashtest does the process handling.
//
// Default: 5 kills x 2,000 upserts. BEDROCKKIT_CRASH_FULL=1 runs the full
// 50 x 10,000 of the acceptance criteria.

// envCrash prefixes the variables that pass the writer its job
// (BEDROCKKIT_CRASH_WRITER_DIR, _START, _N).
const envCrash = "BEDROCKKIT_CRASH_WRITER"

func crashVec(i int) []float32 { return crashtest.Vector(i, 8) }

// crashWriterMain runs the writer when the environment asks for it. Each
// op i upserts record i; every tenth op also replaces record i-5 in the
// same (atomic) batch. After an op commits, the writer prints i.
func crashWriterMain() bool {
	return crashtest.Child(envCrash, func(dir string) (crashtest.Writer, error) {
		ix, err := Open(tOpts(Options{Dir: dir, SnapshotBytes: 96 << 10}))
		if err != nil {
			return crashtest.Writer{}, err
		}
		apply := func(ctx context.Context, start, i int) error {
			batch := []kbstore.Record{{ID: strconv.Itoa(i), DocumentID: strconv.Itoa(i / 10), Text: "v1", Vector: crashVec(i)}}
			if i%10 == 0 && i-5 >= start {
				batch = append(batch, kbstore.Record{ID: strconv.Itoa(i - 5), DocumentID: strconv.Itoa((i - 5) / 10), Text: fmt.Sprint("v2-", i), Vector: crashVec(i - 5)})
			}
			if err := ix.Upsert(ctx, batch); err != nil {
				return fmt.Errorf("upsert: %w", err)
			}
			return nil
		}
		return crashtest.Writer{Apply: apply, Close: ix.Close}, nil
	})
}

func TestCrashKill(t *testing.T) { bothModes(t, testCrashKill) }

func testCrashKill(t *testing.T) {
	snapshotsSeen := 0
	kills, totalAcked := crashtest.Kill(t, crashtest.Config{EnvPrefix: envCrash, Kills: 5, PerRun: 2000}, func(st crashtest.State) {
		ix, err := Open(tOpts(Options{Dir: st.Dir}))
		if err != nil {
			t.Fatalf("run %d: reopen after kill failed: %v", st.Run, err)
		}
		rec := ix.Recovery()
		if rec.SnapshotLSN > 0 {
			snapshotsSeen++
		}
		checkCrashState(t, ix, st)
		// Alternate between closing with a snapshot and leaving only the log.
		if st.Run%2 == 0 {
			err = ix.Close()
		} else {
			err = ix.close(false)
		}
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("%d kills, %d acknowledged upserts, all present; %d reopens started from a snapshot", kills, totalAcked, snapshotsSeen)
}

func checkCrashState(t *testing.T, ix *Index, st crashtest.State) {
	t.Helper()
	ctx := context.Background()
	acked, perRun := st.Acked, st.PerRun
	for i := range acked {
		got, err := ix.Get(ctx, "", []string{strconv.Itoa(i)})
		if err != nil || len(got) != 1 {
			t.Fatalf("acknowledged upsert %d missing after the kill (%v)", i, err)
		}
		v := crashVec(i)
		for j := range v {
			if got[0].Vector[j] != v[j] {
				t.Fatalf("record %d has a wrong vector", i)
			}
		}
		// Op i (i%10 == 0, not the first op of its run) replaced i-5 in the
		// same atomic batch: if i was acknowledged, the replacement is there.
		if i%10 == 0 && i%perRun != 0 {
			got, _ := ix.Get(ctx, "", []string{strconv.Itoa(i - 5)})
			if len(got) != 1 || got[0].Text != fmt.Sprint("v2-", i) {
				t.Fatalf("replacement of %d in acknowledged op %d lost: %v", i-5, i, got)
			}
		}
	}
	// No duplicates: every record is returned exactly once by a full search.
	n := ix.Len()
	st.CheckSearch(t, ix, crashVec(1), n)
	if n < len(acked) {
		t.Fatalf("index holds %d records, %d were acknowledged", n, len(acked))
	}
}
