package chromem

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
// kills it with SIGKILL at a random point and reopens the store.
// Default: 5 kills x 1,000 upserts; BEDROCKKIT_CRASH_FULL=1 runs 50 x
// 10,000.

const (
	envCrashDir   = "BEDROCKKIT_CHROMEM_CRASH_DIR"
	envCrashStart = "BEDROCKKIT_CHROMEM_CRASH_START"
	envCrashN     = "BEDROCKKIT_CHROMEM_CRASH_N"
)

func crashVec(i int) []float32 {
	r := rand.New(rand.NewPCG(uint64(i), 77))
	v := make([]float32, 8)
	for j := range v {
		v[j] = float32(r.NormFloat64())
	}
	return v
}

// crashWriterMain runs the writer when the environment asks for it. Op i
// upserts record i; every tenth op also replaces record i-5 in the same
// batch, and every 50th deletes the document of record i-20. After an op
// commits, the writer prints i.
func crashWriterMain() bool {
	dir := os.Getenv(envCrashDir)
	if dir == "" {
		return false
	}
	start, _ := strconv.Atoi(os.Getenv(envCrashStart))
	n, _ := strconv.Atoi(os.Getenv(envCrashN))
	s, err := Open(Options{Dir: dir, CompactBytes: 64 << 10})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(3)
	}
	ctx := context.Background()
	out := bufio.NewWriter(os.Stdout)
	for i := start; i < start+n; i++ {
		batch := []kb.Record{{ID: strconv.Itoa(i), DocumentID: "d" + strconv.Itoa(i), Text: "v1", Vector: crashVec(i),
			Metadata: map[string]any{"i": i}}}
		if i%10 == 0 && i-5 >= start {
			batch = append(batch, kb.Record{ID: strconv.Itoa(i - 5), DocumentID: "d" + strconv.Itoa(i-5), Text: fmt.Sprint("v2-", i), Vector: crashVec(i - 5),
				Metadata: map[string]any{"i": i - 5}})
		}
		if err := s.Upsert(ctx, batch); err != nil {
			fmt.Fprintln(os.Stderr, "upsert:", err)
			os.Exit(4)
		}
		if i%50 == 49 && i-20 >= start {
			if _, err := s.DeleteDocuments(ctx, "", []string{"d" + strconv.Itoa(i-20)}); err != nil {
				fmt.Fprintln(os.Stderr, "delete:", err)
				os.Exit(5)
			}
		}
		fmt.Fprintln(out, i)
		out.Flush()
	}
	s.Close()
	os.Exit(0)
	return true
}

// deleted reports whether acknowledged op i+20 deleted record i.
func deleted(i int, acked map[int]bool, starts map[int]int) bool {
	j := i + 20
	return j%50 == 49 && acked[j] && i >= starts[j]
}

func TestCrashKill(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns writer processes")
	}
	kills, perRun := 5, 1000
	if os.Getenv("BEDROCKKIT_CRASH_FULL") == "1" {
		kills, perRun = 50, 10000
	}
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	acked := map[int]bool{}
	starts := map[int]int{} // op -> start of its run
	start, total, cuts := 0, 0, 0
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
		n, killed := 0, false
		for sc.Scan() {
			i, err := strconv.Atoi(sc.Text())
			if err != nil {
				t.Fatalf("writer said %q", sc.Text())
			}
			acked[i], starts[i] = true, start
			if n++; n >= target && !killed {
				time.Sleep(time.Duration(r.IntN(300)) * time.Microsecond)
				cmd.Process.Kill() // SIGKILL
				killed = true
			}
		}
		cmd.Wait()
		total += n

		s, err := Open(Options{Dir: dir})
		if err != nil {
			t.Fatalf("run %d: reopen after kill failed: %v", run, err)
		}
		if s.Recovery().CutBytes > 0 {
			cuts++
		}
		checkCrash(t, s, acked, starts, start+perRun)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		start += perRun
	}
	t.Logf("%d kills, %d acknowledged operations all present; %d reopens cut a torn tail", kills, total, cuts)
}

func checkCrash(t *testing.T, s *Store, acked map[int]bool, starts map[int]int, limit int) {
	t.Helper()
	ctx := context.Background()
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
	n := s.Len()
	hits, err := s.Search(ctx, kb.Query{Vector: crashVec(1), K: n + 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != n {
		t.Fatalf("search returned %d records, store holds %d", len(hits), n)
	}
	seen := map[string]bool{}
	for _, h := range hits {
		if seen[h.ID] {
			t.Fatalf("record %s returned twice", h.ID)
		}
		seen[h.ID] = true
		if id, _ := strconv.Atoi(h.ID); id >= limit {
			t.Fatalf("record %s was never written", h.ID)
		}
	}
}
