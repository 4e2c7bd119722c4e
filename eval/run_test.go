package eval_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/eval"
	"github.com/bedrockkit/bedrockkit/pricing"
)

// haiku is a model the default catalog prices.
const haiku = "anthropic.claude-3-haiku-20240307-v1:0"

func numberedCases(n int) []eval.Case {
	cs := make([]eval.Case, n)
	for i := range cs {
		cs[i] = eval.Case{ID: fmt.Sprintf("c%03d", i), Question: fmt.Sprintf("what is %d+%d?", i, i), ExpectedAnswer: fmt.Sprint(2 * i)}
	}
	return cs
}

// adder answers c's sum, wrong for every third case, and counts calls.
type adder struct {
	calls    atomic.Int64
	inFlight atomic.Int64
	peak     atomic.Int64
	delay    time.Duration
	seen     sync.Map
}

func (a *adder) Answer(ctx context.Context, c eval.Case) (*eval.Output, error) {
	a.calls.Add(1)
	a.seen.Store(c.ID, true)
	n := a.inFlight.Add(1)
	defer a.inFlight.Add(-1)
	for {
		p := a.peak.Load()
		if n <= p || a.peak.CompareAndSwap(p, n) {
			break
		}
	}
	if a.delay > 0 {
		select {
		case <-time.After(a.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	var x, y int
	fmt.Sscanf(c.Question, "what is %d+%d?", &x, &y)
	ans := fmt.Sprint(x + y)
	if x%3 == 0 {
		ans = "I do not know"
	}
	return &eval.Output{Answer: ans, Steps: 1, Usage: []eval.ModelUsage{{ModelID: haiku, Usage: bedrockkit.Usage{InputTokens: 1000, OutputTokens: 100}}}}, nil
}

func (a *adder) EstimateUsage(eval.Case) []eval.ModelUsage {
	return []eval.ModelUsage{{ModelID: haiku, Usage: bedrockkit.Usage{InputTokens: 1000, OutputTokens: 1000, Estimated: true}}}
}

func TestRunScoresAndPrices(t *testing.T) {
	a := &adder{delay: time.Millisecond}
	rep, err := eval.Run(context.Background(), a, numberedCases(30), eval.Options{Name: "adder", Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	if a.peak.Load() > 3 {
		t.Fatalf("peak concurrency %d, over the bound of 3", a.peak.Load())
	}
	if len(rep.Cases) != 30 || rep.Total != 30 || rep.Failed != 0 {
		t.Fatalf("report: %d cases, total %d, failed %d", len(rep.Cases), rep.Total, rep.Failed)
	}
	for i, c := range rep.Cases {
		if c.ID != fmt.Sprintf("c%03d", i) {
			t.Fatalf("case %d is %s: the report keeps dataset order", i, c.ID)
		}
	}
	if em, _ := rep.Metric(eval.ExactMatch); !near(em, 20.0/30) {
		t.Fatalf("exact match %v, want 20/30", em)
	}
	one, err := pricing.Cost(haiku, bedrockkit.Usage{InputTokens: 1000, OutputTokens: 100})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Cost.Metered != 30*one.Total {
		t.Fatalf("metered %s, want 30 x %s", rep.Cost.Metered, one.Total)
	}
	bound, _ := pricing.Cost(haiku, bedrockkit.Usage{InputTokens: 1000, OutputTokens: 1000})
	if rep.Cost.Estimated != 30*bound.Total || rep.Cost.Estimated < rep.Cost.Metered {
		t.Fatalf("estimated %s, want 30 x %s", rep.Cost.Estimated, bound.Total)
	}
	if c, _ := rep.Metric(eval.CostUSD); !near(c, one.Total.Dollars()) {
		t.Fatalf("cost per case %v, want %v", c, one.Total.Dollars())
	}
	rep.Require(t, eval.Min(eval.ExactMatch, 0.6), eval.Max(eval.ErrorRate, 0), eval.Max(eval.Steps, 1))
	var ft fakeT
	rep.Require(&ft, eval.Min(eval.ExactMatch, 0.9), eval.Min("ndcg@10", 0.5))
	if !ft.failed || len(ft.errs) != 2 || !strings.Contains(ft.errs[1], `no case has metric "ndcg@10"`) {
		t.Fatalf("Require on missed thresholds: failed=%v %q", ft.failed, ft.errs)
	}
	var sum bytes.Buffer
	if err := rep.WriteSummary(&sum); err != nil || !strings.Contains(sum.String(), "exact_match") {
		t.Fatalf("summary: %v\n%s", err, sum.String())
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back eval.Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Cost.Metered != rep.Cost.Metered || len(back.Cases) != 30 {
		t.Fatalf("JSON round trip: %v", err)
	}
}

// Cases do run concurrently: the first three wait for each other, which
// only finishes when three run at once; no fourth ever joins them.
func TestRunIsConcurrent(t *testing.T) {
	var inFlight, peak atomic.Int64
	var arrived atomic.Int64
	all := make(chan struct{})
	target := eval.TargetFunc(func(ctx context.Context, c eval.Case) (*eval.Output, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		if k := arrived.Add(1); k == 3 {
			close(all)
		} else if k < 3 {
			select {
			case <-all:
			case <-time.After(20 * time.Second):
				return nil, errors.New("the other cases never ran alongside")
			}
		}
		return &eval.Output{Answer: c.ExpectedAnswer}, nil
	})
	rep, err := eval.Run(context.Background(), target, numberedCases(12), eval.Options{Concurrency: 3})
	if err != nil || rep.Failed != 0 || peak.Load() != 3 {
		t.Fatalf("err %v, failed %d, peak %d", err, rep.Failed, peak.Load())
	}
}

type fakeT struct {
	errs   []string
	failed bool
}

func (f *fakeT) Helper()                      {}
func (f *fakeT) Errorf(s string, args ...any) { f.errs = append(f.errs, fmt.Sprintf(s, args...)) }
func (f *fakeT) FailNow()                     { f.failed = true }

func TestRunFailuresAndPanics(t *testing.T) {
	target := eval.TargetFunc(func(_ context.Context, c eval.Case) (*eval.Output, error) {
		switch c.ID {
		case "c001":
			return nil, errors.New("boom")
		case "c002":
			panic("kaboom")
		case "c003":
			return nil, nil
		}
		return &eval.Output{Answer: c.ExpectedAnswer}, nil
	})
	rep, err := eval.Run(context.Background(), target, numberedCases(5), eval.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 3 || len(rep.Cases) != 5 {
		t.Fatalf("failed %d of %d", rep.Failed, len(rep.Cases))
	}
	if er, _ := rep.Metric(eval.ErrorRate); !near(er, 0.6) {
		t.Fatalf("error rate %v", er)
	}
	if em, _ := rep.Metric(eval.ExactMatch); em != 1 {
		t.Fatalf("exact match over the cases that ran: %v", em)
	}
	if !strings.Contains(rep.Cases[2].Error, "panicked: kaboom") {
		t.Fatalf("panic: %q", rep.Cases[2].Error)
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	ok := eval.TargetFunc(func(context.Context, eval.Case) (*eval.Output, error) { return &eval.Output{}, nil })
	for name, f := range map[string]func() error{
		"nil target": func() error {
			_, err := eval.Run(context.Background(), nil, numberedCases(1), eval.Options{})
			return err
		},
		"duplicate": func() error {
			_, err := eval.Run(context.Background(), ok, append(numberedCases(2), numberedCases(1)...), eval.Options{})
			return err
		},
		"no judge": func() error {
			_, err := eval.Run(context.Background(), ok, numberedCases(1), eval.Options{Judged: []string{eval.Correctness}})
			return err
		},
		"bad cutoff": func() error {
			_, err := eval.Run(context.Background(), ok, numberedCases(1), eval.Options{Cutoffs: []int{0}})
			return err
		},
	} {
		if err := f(); !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Errorf("%s: %v, want ErrInvalidInput", name, err)
		}
	}
}

func TestRunBudget(t *testing.T) {
	a := &adder{}
	_, err := eval.Run(context.Background(), a, numberedCases(100), eval.Options{Budget: pricing.MustMoney("0.01")})
	if !errors.Is(err, bedrockkit.ErrBudgetExceeded) || a.calls.Load() != 0 {
		t.Fatalf("over-budget estimate: %v after %d calls", err, a.calls.Load())
	}
	unpriced := eval.TargetFunc(func(context.Context, eval.Case) (*eval.Output, error) { return &eval.Output{}, nil })
	est := estimating{unpriced, "no-such-model"}
	if _, err := eval.Run(context.Background(), est, numberedCases(1), eval.Options{Budget: pricing.MustMoney("100")}); !errors.Is(err, bedrockkit.ErrBudgetExceeded) {
		t.Fatalf("a budget cannot hold unpriced usage: %v", err)
	}
	// A budget above the estimate runs everything.
	rep, err := eval.Run(context.Background(), a, numberedCases(10), eval.Options{Budget: pricing.MustMoney("1")})
	if err != nil || len(rep.Cases) != 10 {
		t.Fatalf("within budget: %v, %d cases", err, len(rep.Cases))
	}
}

type estimating struct {
	eval.Target
	model string
}

func (e estimating) EstimateUsage(eval.Case) []eval.ModelUsage {
	return []eval.ModelUsage{{ModelID: e.model, Usage: bedrockkit.Usage{InputTokens: 10}}}
}

// Cancelling the run stops it; the finished cases are reported, and those
// cut short are neither reported nor recorded.
func TestRunCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int64
	target := eval.TargetFunc(func(ctx context.Context, c eval.Case) (*eval.Output, error) {
		if n.Add(1) == 5 {
			cancel()
		}
		<-time.After(time.Millisecond)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return &eval.Output{Answer: c.ExpectedAnswer}, nil
	})
	progress := filepath.Join(t.TempDir(), "progress.jsonl")
	rep, err := eval.Run(ctx, target, numberedCases(50), eval.Options{Concurrency: 2, Progress: progress})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if rep == nil || len(rep.Cases) >= 50 || rep.Failed != 0 {
		t.Fatalf("report after cancel: %+v", rep)
	}
	if got := recordedIDs(t, progress); len(got) != len(rep.Cases) {
		t.Fatalf("%d recorded, %d reported", len(got), len(rep.Cases))
	}
}

func recordedIDs(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ids []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for first := true; sc.Scan(); first = false {
		if first {
			continue
		}
		var l struct{ ID string }
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.ID != "" {
			ids = append(ids, l.ID)
		}
	}
	return ids
}

func TestResumeSkipsFinishedCases(t *testing.T) {
	dir := t.TempDir()
	progress := filepath.Join(dir, "progress.jsonl")
	cases := numberedCases(20)
	first := &adder{}
	// The first run does half the cases (the other half is "not yet in the dataset").
	if _, err := eval.Run(context.Background(), first, cases[:10], eval.Options{Progress: progress}); err != nil {
		t.Fatal(err)
	}
	// A torn last line, as a kill in the middle of a write leaves.
	f, _ := os.OpenFile(progress, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"id":"c015","fingerprint":"x","result":{"id":"c01`)
	f.Close()
	// A changed case is redone.
	cases[3].ExpectedAnswer = "6 (changed)"
	second := &adder{}
	rep, err := eval.Run(context.Background(), second, cases, eval.Options{Progress: progress})
	if err != nil {
		t.Fatal(err)
	}
	if second.calls.Load() != 11 {
		t.Fatalf("second run called the target %d times, want 11 (10 new + 1 changed)", second.calls.Load())
	}
	if _, redone := second.seen.Load("c003"); !redone {
		t.Fatal("the changed case was not redone")
	}
	if rep.Resumed != 9 || len(rep.Cases) != 20 {
		t.Fatalf("resumed %d, cases %d", rep.Resumed, len(rep.Cases))
	}
	if got := len(recordedIDs(t, progress)); got != 21 {
		t.Fatalf("%d records, want 21 (the torn line cut off, the changed case recorded again)", got)
	}
	// Other metrics: the file is refused rather than mixed.
	_, err = eval.Run(context.Background(), second, cases, eval.Options{Progress: progress, Cutoffs: []int{5}})
	if !errors.Is(err, eval.ErrProgressMismatch) {
		t.Fatalf("mismatched progress file: %v", err)
	}
	os.WriteFile(progress, []byte("not a progress file\n"), 0o644)
	if _, err := eval.Run(context.Background(), second, cases, eval.Options{Progress: progress}); !errors.Is(err, eval.ErrProgressMismatch) {
		t.Fatalf("foreign file: %v", err)
	}
}

// Killing the process mid-run (SIGKILL: no deferred code, no flush) and
// running again completes the dataset without redoing any recorded case.
func TestResumeAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	progress := filepath.Join(dir, "progress.jsonl")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+progress)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(recordedIDs(t, progress)) < 8 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the child recorded too little: %s", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	done := recordedIDs(t, progress)
	if len(done) >= crashCases {
		t.Fatalf("the child finished before it was killed (%d records)", len(done))
	}
	a := &adder{}
	rep, err := eval.Run(context.Background(), a, numberedCases(crashCases), eval.Options{Progress: progress, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range done {
		if _, redone := a.seen.Load(id); redone {
			t.Fatalf("case %s was recorded before the kill and run again", id)
		}
	}
	if int(a.calls.Load()) != crashCases-len(uniq(done)) || len(rep.Cases) != crashCases || rep.Failed != 0 {
		t.Fatalf("rerun: %d calls, %d recorded before, %d cases reported", a.calls.Load(), len(done), len(rep.Cases))
	}
	if em, _ := rep.Metric(eval.ExactMatch); !near(em, 2.0/3) && crashCases%3 == 0 {
		t.Fatalf("exact match over resumed and new cases: %v", em)
	}
}

func uniq(ids []string) map[string]bool {
	m := map[string]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

const (
	crashEnv   = "BEDROCKKIT_EVAL_CRASH_PROGRESS"
	crashCases = 300
)

// crashChild runs the killed side of TestResumeAfterKill: a slow run that
// never ends by itself before the parent kills it.
func crashChild() bool {
	path := os.Getenv(crashEnv)
	if path == "" {
		return false
	}
	a := &adder{delay: 20 * time.Millisecond}
	_, err := eval.Run(context.Background(), a, numberedCases(crashCases), eval.Options{Progress: path, Concurrency: 4})
	fmt.Fprintln(os.Stderr, "child finished:", err)
	os.Exit(0)
	return true
}

// A target returning hostile output (a huge, invalid tool input; a huge
// answer) is recorded bounded, and the progress file still resumes.
func TestHostileOutputStaysBounded(t *testing.T) {
	progress := filepath.Join(t.TempDir(), "p.jsonl")
	huge := strings.Repeat("x", 3<<20)
	target := eval.TargetFunc(func(context.Context, eval.Case) (*eval.Output, error) {
		return &eval.Output{Answer: huge, ToolCalls: []eval.TrajectoryCall{{Name: "f", Input: json.RawMessage(`{"a":"` + huge + `"}`)}, {Name: "g", Input: json.RawMessage(`{not json`)}}}, nil
	})
	cases := numberedCases(2)
	if _, err := eval.Run(context.Background(), target, cases, eval.Options{Progress: progress}); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(progress)
	if st.Size() > 1<<20 {
		t.Fatalf("progress file of %d bytes", st.Size())
	}
	a := &adder{}
	rep, err := eval.Run(context.Background(), a, cases, eval.Options{Progress: progress})
	if err != nil || a.calls.Load() != 0 || rep.Resumed != 2 {
		t.Fatalf("resume: %v, %d calls, %d resumed", err, a.calls.Load(), rep.Resumed)
	}
	if in := rep.Cases[0].ToolCalls[1].Input; !json.Valid(in) {
		t.Fatalf("stored input %s is not JSON", in)
	}
}
