package batch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/pricing"
)

// echoModel answers "echo: <question>" with a usage derived from it;
// questions starting with "fail" get ErrThrottled.
type echoModel struct {
	delay time.Duration
	calls atomic.Int64
}

func (e *echoModel) Generate(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
	e.calls.Add(1)
	if e.delay > 0 {
		select {
		case <-time.After(e.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	q := req.Messages[len(req.Messages)-1].Text()
	if strings.HasPrefix(q, "fail") {
		return nil, &bedrockkit.APIError{Op: "Converse", Code: "ThrottlingException", Kind: bedrockkit.ErrThrottled}
	}
	return &bedrockkit.Response{Message: bedrockkit.AssistantText("echo: " + q), StopReason: bedrockkit.StopEndTurn,
		Usage: bedrockkit.Usage{InputTokens: 1000 + len(q), OutputTokens: 100}}, nil
}

func (e *echoModel) Stream(ctx context.Context, req *bedrockkit.Request) iter.Seq2[bedrockkit.StreamEvent, error] {
	return func(yield func(bedrockkit.StreamEvent, error) bool) { yield(nil, errors.New("not used")) }
}

// writeInput writes n records asking "question i" (IDs Q0000000001...).
func writeInput(t testing.TB, dir string, n int) string {
	t.Helper()
	var b bytes.Buffer
	for i := 1; i <= n; i++ {
		rec, err := NewRecord(fmt.Sprintf("Q%010d", i), &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText(fmt.Sprintf("question %d", i))}, MaxTokens: 100})
		if err != nil {
			t.Fatal(err)
		}
		line, _ := json.Marshal(rec)
		b.Write(line)
		b.WriteByte('\n')
	}
	p := filepath.Join(dir, "input.jsonl")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readResults(t testing.TB, p string) []RecordResult {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var out []RecordResult
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var r RecordResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %d: %v", len(out)+1, err)
		}
		out = append(out, r)
	}
	return out
}

func runFile(t testing.TB, m bedrockkit.Model, in, out string, opts Options) (Summary, error) {
	t.Helper()
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return Run(context.Background(), m, f, out, opts)
}

// checkComplete asserts out holds exactly records 1..n in order, each
// answered as echoModel answers.
func checkComplete(t *testing.T, out string, n int) {
	t.Helper()
	res := readResults(t, out)
	if len(res) != n {
		t.Fatalf("%d results, want %d", len(res), n)
	}
	for i, r := range res {
		if want := fmt.Sprintf("Q%010d", i+1); r.RecordID != want {
			t.Fatalf("result %d is %s, want %s", i, r.RecordID, want)
		}
		resp, err := r.Response()
		if err != nil {
			t.Fatalf("result %d: %v", i, err)
		}
		if want := fmt.Sprintf("echo: question %d", i+1); resp.Message.Text() != want {
			t.Fatalf("result %d says %q, want %q", i, resp.Message.Text(), want)
		}
	}
}

func TestRunWritesInOrderWithPerRecordErrors(t *testing.T) {
	dir := t.TempDir()
	good, _ := NewRecord("A1", &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("hello")}, MaxTokens: 10})
	fail, _ := NewRecord("", &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("fail please")}, MaxTokens: 10})
	lines := []string{
		mustJSON(good),
		`not json at all`,
		`{"recordId":"B2","modelInput":{"messages":[],"bogusField":1}}`,
		"",
		mustJSON(fail),
		`{"recordId":"C3","modelInput":{"messages":[{"role":"user","content":[{"text":"` + strings.Repeat("x", 3000) + `"}]}]}}`,
		`{"recordId":"D4"}`,
		mustJSON(good),
	}
	in := filepath.Join(dir, "in.jsonl")
	if err := os.WriteFile(in, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.jsonl")
	var seen []int
	m := &echoModel{delay: time.Millisecond}
	sum, err := runFile(t, m, in, out, Options{Concurrency: 3, MaxRecordBytes: 2048, ModelID: "us.amazon.nova-lite-v1:0",
		OnResult: func(i int, _ RecordResult) { seen = append(seen, i) }})
	if err != nil {
		t.Fatal(err)
	}
	res := readResults(t, out)
	wantIDs := []string{"A1", RecordIDFor(2), "B2", RecordIDFor(4), RecordIDFor(5), "D4", "A1"}
	wantCodes := []int{0, 400, 400, 429, 400, 400, 0}
	if len(res) != len(wantIDs) {
		t.Fatalf("%d results: %+v", len(res), res)
	}
	for i, r := range res {
		code := 0
		if r.Error != nil {
			code = r.Error.ErrorCode
		}
		if r.RecordID != wantIDs[i] || code != wantCodes[i] {
			t.Errorf("result %d: %s code %d (%v), want %s code %d", i, r.RecordID, code, r.Error, wantIDs[i], wantCodes[i])
		}
	}
	if sum.Records != 7 || sum.Succeeded != 2 || sum.Failed != 5 || sum.Resumed != 0 || sum.Usage.InputTokens != 2010 {
		t.Errorf("summary %+v", sum)
	}
	if len(seen) != 7 || seen[0] != 0 || seen[6] != 6 {
		t.Errorf("OnResult order %v", seen)
	}
	// Priced on demand and at batch rates: Nova Lite's batch rate is half.
	if !sum.OnDemand.Known || !sum.Batch.Known || sum.Batch.Cost*2 != sum.OnDemand.Cost {
		t.Errorf("costs %+v / %+v", sum.OnDemand, sum.Batch)
	}
	if m.calls.Load() != 3 { // two good records and the failing one reach the model
		t.Errorf("model calls %d", m.calls.Load())
	}
	// A model without a batch price says so.
	sum2, err := runFile(t, &echoModel{}, in, filepath.Join(dir, "out2.jsonl"), Options{ModelID: "anthropic.claude-instant-v1"})
	if err != nil || sum2.Batch.Known || !sum2.OnDemand.Known || !strings.Contains(sum2.Batch.Reason, "batch") {
		t.Errorf("no batch price: %+v %v", sum2.Batch, err)
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestRunResumes(t *testing.T) {
	dir := t.TempDir()
	in := writeInput(t, dir, 30)
	out := filepath.Join(dir, "out.jsonl")
	// Cancel after ten results; the run stops with the context's error.
	ctx, cancel := context.WithCancel(context.Background())
	f, _ := os.Open(in)
	_, err := Run(ctx, &echoModel{delay: time.Millisecond}, f, out, Options{Concurrency: 4, OnResult: func(i int, _ RecordResult) {
		if i == 9 {
			cancel()
		}
	}})
	f.Close()
	cancel()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v", err)
	}
	partial := readResults(t, out)
	if len(partial) < 10 || len(partial) >= 30 {
		t.Fatalf("%d results after cancelling", len(partial))
	}
	// A torn last line (a crash in the middle of a write) is cut off.
	fo, _ := os.OpenFile(out, os.O_APPEND|os.O_WRONLY, 0)
	fo.WriteString(`{"recordId":"Q00000000`)
	fo.Close()
	m := &echoModel{}
	sum, err := runFile(t, m, in, out, Options{Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	checkComplete(t, out, 30)
	if sum.Resumed != len(partial) || sum.Records != 30 || int(m.calls.Load()) != 30-len(partial) {
		t.Errorf("resumed %d (had %d), records %d, model calls %d", sum.Resumed, len(partial), sum.Records, m.calls.Load())
	}
	// Running a finished file again does nothing.
	again, err := runFile(t, m, in, out, Options{})
	if err != nil || again.Resumed != 30 || int(m.calls.Load()) != 30-len(partial) {
		t.Errorf("rerun: %+v %v", again, err)
	}
	// An output of another input is refused, not extended.
	other := writeInput(t, t.TempDir(), 31)
	if _, err := runFile(t, m, other, out, Options{}); err != nil {
		t.Errorf("a longer input with the same first records should continue: %v", err)
	}
	short := filepath.Join(dir, "short.jsonl")
	os.WriteFile(short, []byte(`{"recordId":"X1","modelInput":{"messages":[]}}`+"\n"), 0o644)
	if _, err := runFile(t, m, short, out, Options{}); !errors.Is(err, ErrOutputMismatch) {
		t.Errorf("mismatched output: %v", err)
	}
}

const (
	crashChildEnv = "BATCH_CRASH_CHILD"
	crashInEnv    = "BATCH_CRASH_IN"
	crashOutEnv   = "BATCH_CRASH_OUT"
)

// crashChild runs a slow batch run until the parent kills it.
func crashChild() int {
	f, err := os.Open(os.Getenv(crashInEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	_, err = Run(context.Background(), &echoModel{delay: 3 * time.Millisecond}, f, os.Getenv(crashOutEnv), Options{Concurrency: 5})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestRunSurvivesSIGKILL kills a child process running a batch at several
// points with SIGKILL, then resumes in this process: every record is in
// the output exactly once, in order.
func TestRunSurvivesSIGKILL(t *testing.T) {
	const n = 300
	for _, killAt := range []int{1, 40, 150} {
		t.Run(fmt.Sprint(killAt), func(t *testing.T) {
			dir := t.TempDir()
			in := writeInput(t, dir, n)
			out := filepath.Join(dir, "out.jsonl")
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), crashChildEnv+"=1", crashInEnv+"="+in, crashOutEnv+"="+out)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(30 * time.Second)
			for {
				b, _ := os.ReadFile(out)
				if bytes.Count(b, []byte("\n")) >= killAt {
					break
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					cmd.Wait()
					t.Fatalf("the child wrote no %d results in time: %s", killAt, stderr.String())
				}
				time.Sleep(time.Millisecond)
			}
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("child ended %v (stderr %s), want killed", err, stderr.String())
			}
			before := len(readResults(t, out))
			if before >= n {
				t.Skipf("the child finished before the kill (%d results)", before) // not expected: 300 records take ~200 ms
			}
			m := &echoModel{}
			sum, err := runFile(t, m, in, out, Options{Concurrency: 4})
			if err != nil {
				t.Fatal(err)
			}
			checkComplete(t, out, n)
			if sum.Resumed < killAt || sum.Resumed+int(m.calls.Load()) != n {
				t.Errorf("resumed %d, ran %d more, want %d in all", sum.Resumed, m.calls.Load(), n)
			}
		})
	}
}

func TestRecordCodecRoundTrip(t *testing.T) {
	temp := float32(0.2)
	req := &bedrockkit.Request{
		System: []bedrockkit.Part{bedrockkit.Text{Text: "You are a bank assistant."}, bedrockkit.CachePoint{}},
		Messages: []bedrockkit.Message{
			{Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{bedrockkit.Text{Text: "Summarise"}, bedrockkit.Document{Name: "statement", Format: bedrockkit.DocTXT, Text: "Nov: $120"}}},
			{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{bedrockkit.ToolCall{ID: "t1", Name: "lookup", Input: json.RawMessage(`{"id":1}`)}}},
			{Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{bedrockkit.ToolResult{CallID: "t1", Parts: []bedrockkit.Part{bedrockkit.JSON{Value: json.RawMessage(`{"balance":5}`)}}}}},
		},
		Tools:       []bedrockkit.ToolSpec{{Name: "lookup", Description: "d", InputSchema: json.RawMessage(`{"type":"object"}`)}},
		ToolChoice:  bedrockkit.ToolChoice{Kind: bedrockkit.ToolChoiceTool, Name: "lookup"},
		MaxTokens:   64,
		Temperature: &temp,
		Extra:       map[string]any{"top_k": float64(5)},
		ServiceTier: bedrockkit.ServiceTierFlex,
	}
	rec, err := NewRecord("R1", req)
	if err != nil {
		t.Fatal(err)
	}
	back, err := rec.Request()
	if err != nil {
		t.Fatal(err)
	}
	again, err := NewRecord("R1", back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rec.ModelInput, again.ModelInput) {
		t.Errorf("round trip changed the body:\n%s\n%s", rec.ModelInput, again.ModelInput)
	}
	if back.ToolChoice != req.ToolChoice || back.MaxTokens != 64 || *back.Temperature != temp || back.Extra["top_k"] != float64(5) || back.ServiceTier != bedrockkit.ServiceTierFlex {
		t.Errorf("decoded %+v", back)
	}
	schema, _ := bedrockkit.NewOutputSchema("x", "", []byte(`{"type":"object"}`))
	if _, err := NewRecord("R2", &bedrockkit.Request{Messages: req.Messages, Output: schema}); !errors.Is(err, bedrockkit.ErrUnsupported) {
		t.Errorf("structured output: %v", err)
	}
	if _, err := NewRecord("bad id!", req); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("bad ID: %v", err)
	}
	resp := &bedrockkit.Response{Message: bedrockkit.AssistantText("ok"), StopReason: bedrockkit.StopEndTurn, Usage: bedrockkit.Usage{InputTokens: 3, OutputTokens: 1, CacheReadTokens: 2}}
	body, err := encodeResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	got, err := RecordResult{RecordID: "R1", ModelOutput: body}.Response()
	if err != nil || got.Message.Text() != "ok" || got.Usage != resp.Usage || got.StopReason != bedrockkit.StopEndTurn {
		t.Errorf("response round trip: %+v %v", got, err)
	}
}

// FuzzDecodeRequest feeds arbitrary modelInput bodies to the decoder: it
// never panics, and what it accepts encodes and decodes to the same body.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{
		`{"messages":[{"role":"user","content":[{"text":"hi"}]}]}`,
		`{"messages":[{"role":"user","content":[{"toolResult":{"toolUseId":"a","content":[{"json":{"x":1}}]}}]}],"toolConfig":{"tools":[{"toolSpec":{"name":"t","inputSchema":{"json":{}}}}],"toolChoice":{"any":{}}}}`,
		`{"messages":[{"role":"user","content":[{"image":{"format":"png","source":{"bytes":"iVBORw=="}}}]}],"inferenceConfig":{"maxTokens":5}}`,
		`{"messages":[{"role":"user","content":[{"text":"a","image":{}}]}]}`,
		`{"messages":[],"additionalModelRequestFields":[1]}`,
		`{"messages":[{"role":"system","content":[]}]}`,
		`{"messages":[{"role":"user","content":[{"toolResult":{"content":[{"toolResult":{"content":[{"toolResult":{"content":[{"toolResult":{"content":[{"toolResult":{"content":[{"toolResult":{"content":[]}}]}}]}}]}}]}}]}}]}]}`,
		`null`, `{}`, `[`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeRequest(body)
		if err != nil {
			if !errors.Is(err, bedrockkit.ErrInvalidInput) {
				t.Fatalf("error does not wrap ErrInvalidInput: %v", err)
			}
			return
		}
		enc, err := encodeRequest(req)
		if err != nil {
			return // a value the decoder took that has no canonical form (invalid JSON parts)
		}
		req2, err := decodeRequest(enc)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", enc, err)
		}
		enc2, err := encodeRequest(req2)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("not stable:\n%s\n%s (%v)", enc, enc2, err)
		}
	})
}

func TestSummaryPricesWithACatalog(t *testing.T) {
	var s Summary
	s.Usage = bedrockkit.Usage{InputTokens: 1_000_000, OutputTokens: 1_000_000}
	s.price("us.amazon.nova-lite-v1:0", pricing.Default())
	if s.OnDemand.Cost != pricing.MustMoney("0.30") || s.Batch.Cost != pricing.MustMoney("0.15") {
		t.Errorf("nova lite: %v / %v", s.OnDemand.Cost, s.Batch.Cost)
	}
	var none Summary
	none.price("", nil)
	if none.OnDemand.Known || none.OnDemand.Reason == "" {
		t.Errorf("no model: %+v", none.OnDemand)
	}
}
