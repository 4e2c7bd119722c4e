package crashtest_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/bedrockkit/bedrockkit/internal/testutil/crashtest"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

const envPrefix = "BEDROCKKIT_CRASHTEST_SELF"

func TestMain(m *testing.M) {
	if crashtest.Child(envPrefix, openLog) {
		return
	}
	goleak.VerifyTestMain(m)
}

// openLog is the simplest durable writer: op i appends the line "i" to a
// file and syncs it.
func openLog(dir string) (crashtest.Writer, error) {
	f, err := os.OpenFile(filepath.Join(dir, "log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return crashtest.Writer{}, err
	}
	apply := func(_ context.Context, _, i int) error {
		if _, err := fmt.Fprintln(f, i); err != nil {
			return err
		}
		return f.Sync()
	}
	return crashtest.Writer{Apply: apply, Close: f.Close}, nil
}

// readLog returns the ops in the log, in order.
func readLog(t *testing.T, dir string) []int {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ops []int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		i, err := strconv.Atoi(sc.Text())
		if err != nil {
			continue // a torn last line
		}
		ops = append(ops, i)
	}
	return ops
}

// TestKill checks the parent's bookkeeping against what the children
// really wrote: every acknowledged op is in the log, each child started
// where the previous one was asked to stop, and State is filled in.
func TestKill(t *testing.T) {
	const kills, perRun = 3, 200
	runs := 0
	gotKills, acked := crashtest.Kill(t, crashtest.Config{EnvPrefix: envPrefix, Kills: kills, PerRun: perRun}, func(st crashtest.State) {
		if st.Run != runs || st.Start != runs*perRun || st.Limit != st.Start+perRun || st.PerRun != perRun {
			t.Fatalf("state of run %d: %+v", runs, st)
		}
		runs++
		logged := readLog(t, st.Dir)
		for i := range st.Acked {
			if !slices.Contains(logged, i) {
				t.Fatalf("acknowledged op %d is not in the log", i)
			}
			if want := i / perRun * perRun; st.Starts[i] != want {
				t.Fatalf("op %d: start %d, want %d", i, st.Starts[i], want)
			}
		}
		for _, i := range logged {
			if i >= st.Limit {
				t.Fatalf("op %d logged, but no child was asked for it (limit %d)", i, st.Limit)
			}
		}
	})
	if os.Getenv(crashtest.FullEnv) == "1" {
		return
	}
	if gotKills != kills || runs != kills {
		t.Fatalf("Kill returned %d kills and called check %d times, want %d", gotKills, runs, kills)
	}
	if acked < kills || acked > kills*perRun {
		t.Fatalf("%d acknowledged ops from %d children of %d", acked, kills, perRun)
	}
}

func TestVectorDeterministic(t *testing.T) {
	a, b := crashtest.Vector(42, 8), crashtest.Vector(42, 8)
	if !slices.Equal(a, b) || len(a) != 8 {
		t.Fatalf("Vector(42, 8) = %v, then %v", a, b)
	}
	if slices.Equal(a, crashtest.Vector(43, 8)) {
		t.Fatal("Vector(42, 8) == Vector(43, 8)")
	}
}

func ExampleVector() {
	v := crashtest.Vector(7, 4)
	fmt.Println(len(v), slices.Equal(v, crashtest.Vector(7, 4)))
	// Output: 4 true
}

// fakeTB records the first failure and stops the goroutine, as t.Fatal does.
type fakeTB struct {
	testing.TB
	failed string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatal(args ...any) {
	f.failed = fmt.Sprint(args...)
	runtime.Goexit()
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

type hitsSearcher []kbstore.Hit

func (h hitsSearcher) Search(context.Context, kbstore.Query) ([]kbstore.Hit, error) { return h, nil }

func TestCheckSearch(t *testing.T) {
	hits := func(ids ...string) hitsSearcher {
		var hs hitsSearcher
		for _, id := range ids {
			hs = append(hs, kbstore.Hit{Record: kbstore.Record{ID: id}})
		}
		return hs
	}
	st := crashtest.State{Limit: 10}
	for _, c := range []struct {
		name string
		s    crashtest.Searcher
		n    int
		want string // "" for a pass, else a fragment of the failure
	}{
		{"ok", hits("0", "3", "9"), 3, ""},
		{"short", hits("0", "3"), 3, "search returned 2 records, store holds 3"},
		{"twice", hits("0", "3", "3"), 3, "record 3 returned twice"},
		{"unwritten", hits("0", "3", "10"), 3, "record 10 was never written"},
	} {
		tb := &fakeTB{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			st.CheckSearch(tb, c.s, nil, c.n)
		}()
		<-done
		if (c.want == "") != (tb.failed == "") || !strings.Contains(tb.failed, c.want) {
			t.Errorf("%s: CheckSearch failed with %q, want %q", c.name, tb.failed, c.want)
		}
	}
}
