package localindex

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit/kb"
)

// The crash test re-executes the test binary as a writer process
// (crashWriterMain, entered from TestMain when the environment says so),
// kills it with SIGKILL at a random point and reopens the index.
//
// Default: 5 kills x 2,000 upserts. BEDROCKKIT_CRASH_FULL=1 runs the full
// 50 x 10,000 of the acceptance criteria.

const (
	envCrashDir   = "BEDROCKKIT_CRASH_WRITER_DIR"
	envCrashStart = "BEDROCKKIT_CRASH_WRITER_START"
	envCrashN     = "BEDROCKKIT_CRASH_WRITER_N"
)

func crashVec(i int) []float32 {
	r := rand.New(rand.NewPCG(uint64(i), 77))
	v := make([]float32, 8)
	for j := range v {
		v[j] = float32(r.NormFloat64())
	}
	return v
}

// crashWriterMain runs the writer when the environment asks for it. Each
// op i upserts record i; every tenth op also replaces record i-5 in the
// same (atomic) batch. After an op commits, the writer prints i.
func crashWriterMain() bool {
	dir := os.Getenv(envCrashDir)
	if dir == "" {
		return false
	}
	start, _ := strconv.Atoi(os.Getenv(envCrashStart))
	n, _ := strconv.Atoi(os.Getenv(envCrashN))
	ix, err := Open(Options{Dir: dir, SnapshotBytes: 96 << 10})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(3)
	}
	out := bufio.NewWriter(os.Stdout)
	for i := start; i < start+n; i++ {
		batch := []kb.Record{{ID: strconv.Itoa(i), DocumentID: strconv.Itoa(i / 10), Text: "v1", Vector: crashVec(i)}}
		if i%10 == 0 && i-5 >= start {
			batch = append(batch, kb.Record{ID: strconv.Itoa(i - 5), DocumentID: strconv.Itoa((i - 5) / 10), Text: fmt.Sprint("v2-", i), Vector: crashVec(i - 5)})
		}
		if err := ix.Upsert(context.Background(), batch); err != nil {
			fmt.Fprintln(os.Stderr, "upsert:", err)
			os.Exit(4)
		}
		fmt.Fprintln(out, i)
		out.Flush()
	}
	ix.Close()
	os.Exit(0)
	return true
}

func TestCrashKill(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns writer processes")
	}
	kills, perRun := 5, 2000
	if os.Getenv("BEDROCKKIT_CRASH_FULL") == "1" {
		kills, perRun = 50, 10000
	}
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	acked := map[int]bool{}
	start := 0
	totalAcked, snapshotsSeen := 0, 0
	for run := range kills {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envCrashDir+"="+dir, envCrashStart+"="+strconv.Itoa(start), envCrashN+"="+strconv.Itoa(perRun))
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		target := r.IntN(perRun)
		sc := bufio.NewScanner(stdout)
		n := 0
		killed := false
		for sc.Scan() {
			i, err := strconv.Atoi(sc.Text())
			if err != nil {
				t.Fatalf("writer said %q", sc.Text())
			}
			acked[i] = true
			n++
			if n >= target && !killed {
				time.Sleep(time.Duration(r.IntN(300)) * time.Microsecond)
				cmd.Process.Kill() // SIGKILL
				killed = true
			}
		}
		cmd.Wait()
		totalAcked += n

		ix, err := Open(Options{Dir: dir})
		if err != nil {
			t.Fatalf("run %d: reopen after kill failed: %v", run, err)
		}
		rec := ix.Recovery()
		if rec.SnapshotLSN > 0 {
			snapshotsSeen++
		}
		checkCrashState(t, ix, acked, start+perRun, perRun)
		// Alternate between closing with a snapshot and leaving only the log.
		if run%2 == 0 {
			err = ix.Close()
		} else {
			err = ix.close(false)
		}
		if err != nil {
			t.Fatal(err)
		}
		start += perRun
	}
	t.Logf("%d kills, %d acknowledged upserts, all present; %d reopens started from a snapshot", kills, totalAcked, snapshotsSeen)
}

func checkCrashState(t *testing.T, ix *Index, acked map[int]bool, limit, perRun int) {
	t.Helper()
	ctx := context.Background()
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
	hits, err := ix.Search(ctx, kb.Query{Vector: crashVec(1), K: n + 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != n {
		t.Fatalf("search returned %d records, index holds %d", len(hits), n)
	}
	seen := map[string]bool{}
	for _, h := range hits {
		if seen[h.ID] {
			t.Fatalf("record %s returned twice", h.ID)
		}
		seen[h.ID] = true
		id, _ := strconv.Atoi(h.ID)
		if id >= limit {
			t.Fatalf("record %s was never written", h.ID)
		}
	}
	if n < len(acked) {
		t.Fatalf("index holds %d records, %d were acknowledged", n, len(acked))
	}
}
