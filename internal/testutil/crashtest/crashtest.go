package crashtest

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

	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// FullEnv names the environment variable that, set to "1", makes [Kill] run
// the full-size test: [FullKills] children of [FullPerRun] operations each.
const FullEnv = "BEDROCKKIT_CRASH_FULL"

// The full-size test's dimensions (see [FullEnv]).
const (
	FullKills  = 50
	FullPerRun = 10000
)

// Vector returns the deterministic vector of dims components for operation
// i (normally distributed, seeded by i), so the parent can check the
// vector a child stored without having seen it.
func Vector(i, dims int) []float32 {
	r := rand.New(rand.NewPCG(uint64(i), 77))
	v := make([]float32, dims)
	for j := range v {
		v[j] = float32(r.NormFloat64())
	}
	return v
}

// Writer is the store a child process writes to.
type Writer struct {
	// Apply performs operation i of the child whose first operation is
	// start. It returns once the operation is durable: the child then
	// acknowledges i to the parent.
	Apply func(ctx context.Context, start, i int) error
	// Close closes the store after the child's last operation.
	Close func() error
}

// Child runs the writer side of a crash test when the environment set by
// [Kill] (variables envPrefix+"_DIR", "_START" and "_N") asks for it, and
// returns false otherwise. As a child it opens the store in the directory
// with open, applies operations start .. start+n-1 in order, prints each
// number on its own line after Apply returns, closes the store and exits
// with status 0; it exits with status 3 if open fails and 4 if Apply does,
// printing the error to stderr. Call it first in TestMain.
func Child(envPrefix string, open func(dir string) (Writer, error)) bool {
	dir := os.Getenv(envPrefix + "_DIR")
	if dir == "" {
		return false
	}
	start, _ := strconv.Atoi(os.Getenv(envPrefix + "_START"))
	n, _ := strconv.Atoi(os.Getenv(envPrefix + "_N"))
	w, err := open(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(3)
	}
	ctx := context.Background()
	out := bufio.NewWriter(os.Stdout)
	for i := start; i < start+n; i++ {
		if err := w.Apply(ctx, start, i); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(4)
		}
		fmt.Fprintln(out, i)
		out.Flush()
	}
	w.Close()
	os.Exit(0)
	return true
}

// Config describes a crash test.
type Config struct {
	// EnvPrefix is the prefix of the environment variables that pass a
	// child its job; the same value must be given to [Child].
	EnvPrefix string
	// Kills is how many children are started and killed, and PerRun how
	// many operations each is asked for (unless [FullEnv] is "1").
	Kills, PerRun int
}

// State is what the parent knows after killing a child.
type State struct {
	// Dir is the store's directory, shared by all runs.
	Dir string
	// Run counts the children killed so far, from 0.
	Run int
	// Start is the first operation of the child just killed, and Limit
	// Start+PerRun: no operation at or above Limit was ever issued.
	Start, Limit int
	// PerRun is the number of operations each child is asked for.
	PerRun int
	// Acked holds every operation any child acknowledged.
	Acked map[int]bool
	// Starts maps each acknowledged operation to the first operation of
	// the child that acknowledged it.
	Starts map[int]int
}

// Kill runs the parent side of a crash test: for each run it re-executes
// the test binary (with -test.run=^$, so only TestMain's [Child] runs) as a
// child continuing the numbering, reads its acknowledgements, sends it
// SIGKILL after a random number of them (and a random pause of up to
// 300µs), waits for it and calls check. It skips the test under -short. It
// returns the number of children killed and of operations acknowledged.
func Kill(t *testing.T, cfg Config, check func(State)) (kills, acked int) {
	t.Helper()
	if testing.Short() {
		t.Skip("spawns writer processes")
	}
	kills, perRun := cfg.Kills, cfg.PerRun
	if os.Getenv(FullEnv) == "1" {
		kills, perRun = FullKills, FullPerRun
	}
	st := State{Dir: t.TempDir(), PerRun: perRun, Acked: map[int]bool{}, Starts: map[int]int{}}
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for run := range kills {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(),
			cfg.EnvPrefix+"_DIR="+st.Dir,
			cfg.EnvPrefix+"_START="+strconv.Itoa(st.Start),
			cfg.EnvPrefix+"_N="+strconv.Itoa(perRun))
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
			st.Acked[i], st.Starts[i] = true, st.Start
			if n++; n >= target && !killed {
				time.Sleep(time.Duration(r.IntN(300)) * time.Microsecond)
				cmd.Process.Kill() // SIGKILL
				killed = true
			}
		}
		cmd.Wait()
		acked += n

		st.Run, st.Limit = run, st.Start+perRun
		check(st)
		st.Start += perRun
	}
	return kills, acked
}

// Searcher is the part of a kbstore.Store that [State.CheckSearch] uses.
type Searcher interface {
	Search(ctx context.Context, q kbstore.Query) ([]kbstore.Hit, error)
}

// CheckSearch checks a reopened store that holds n records, whose IDs are
// operation numbers, with one search for q and more than n results: it
// must return every record exactly once (no duplicates left by replaying a
// log), and none at or above st.Limit, which no child was asked to write.
func (st State) CheckSearch(t testing.TB, s Searcher, q []float32, n int) {
	t.Helper()
	hits, err := s.Search(context.Background(), kbstore.Query{Vector: q, K: n + 10})
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
		if id, _ := strconv.Atoi(h.ID); id >= st.Limit {
			t.Fatalf("record %s was never written", h.ID)
		}
	}
}
