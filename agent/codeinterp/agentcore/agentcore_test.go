package agentcore_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent/codeinterp"
	"github.com/bedrockkit/bedrockkit/agent/codeinterp/agentcore"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// jsExecutor answers the fake's executeCode calls by running the code in a
// local JavaScript sandbox per session, with the session's files copied in
// and out: the fake then behaves like the service for JavaScript.
type jsExecutor struct {
	mu    sync.Mutex
	local *codeinterp.Local
	boxes map[string]codeinterp.Sandbox
}

func newJSExecutor() *jsExecutor {
	return &jsExecutor{local: codeinterp.NewLocal(codeinterp.Options{CPUTime: time.Second}), boxes: map[string]codeinterp.Sandbox{}}
}

func (e *jsExecutor) run(c bedrockkittest.CodeCall) bedrockkittest.CodeReply {
	ctx := context.Background()
	e.mu.Lock()
	sb, ok := e.boxes[c.SessionID]
	if !ok {
		sb, _ = e.local.Start(ctx)
		e.boxes[c.SessionID] = sb
	}
	e.mu.Unlock()
	for p, b := range c.Files {
		_ = sb.WriteFiles(ctx, codeinterp.File{Path: p, Content: b})
	}
	ex, err := sb.Execute(ctx, c.Code)
	if err != nil {
		return bedrockkittest.CodeReply{Stderr: err.Error(), ExitCode: 1}
	}
	list, _ := sb.ListFiles(ctx)
	for _, fi := range list {
		got, _ := sb.ReadFiles(ctx, fi.Path)
		c.Files[fi.Path] = got[0].Content
	}
	if ex.Error != "" {
		return bedrockkittest.CodeReply{Stdout: ex.Stdout, Stderr: ex.Error, ExitCode: 1}
	}
	return bedrockkittest.CodeReply{Stdout: ex.Stdout, Stderr: ex.Stderr}
}

func (e *jsExecutor) close() {
	for _, sb := range e.boxes {
		_ = sb.Close(context.Background())
	}
}

func setup(t *testing.T, opts agentcore.Options) (*bedrockkittest.FakeCodeInterpreter, *agentcore.Interpreter) {
	t.Helper()
	fake := bedrockkittest.NewFakeCodeInterpreter(t)
	exec := newJSExecutor()
	t.Cleanup(exec.close)
	fake.SetExecutor(exec.run)
	if opts.Language == "" {
		opts.Language = codeinterp.JavaScript
	}
	return fake, agentcore.New(fake.Client(), opts)
}

func TestCodeInterpAgentCoreSession(t *testing.T) {
	fake, interp := setup(t, agentcore.Options{SessionName: "bank-report", SessionTimeout: time.Hour})
	ctx := context.Background()
	sb, err := interp.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	csv := "category,amount\nfood,12.40\nrent,900\nfood,7.60\n"
	if err := sb.WriteFiles(ctx, codeinterp.File{Path: "tx.csv", Content: []byte(csv)}, codeinterp.File{Path: "raw.bin", Content: []byte{0xff, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	ex, err := sb.Execute(ctx, `const fs = require('fs');
const rows = fs.readFileSync('tx.csv', 'utf8').trim().split('\n').slice(1).map(l => l.split(','));
const food = rows.filter(r => r[0] === 'food').reduce((s, r) => s + Number(r[1]), 0);
fs.writeFileSync('out.txt', 'food=' + food);
console.log(food.toFixed(2));`)
	if err != nil || ex.Error != "" || ex.Stdout != "20.00\n" {
		t.Fatalf("Execute: %v %+v", err, ex)
	}
	ex, err = sb.Execute(ctx, `console.log(typeof food, rows.length)`)
	if err != nil || ex.Stdout != "number 3\n" {
		t.Fatalf("state across calls: %v %+v", err, ex)
	}
	files, err := sb.ReadFiles(ctx, "out.txt", "raw.bin")
	if err != nil || string(files[0].Content) != "food=20" || files[0].Path != "out.txt" || string(files[1].Content) != "\xff\x00\x01" {
		t.Fatalf("ReadFiles: %v %+v", err, files)
	}
	if _, err := sb.ReadFiles(ctx, "nope.txt"); !errors.Is(err, bedrockkit.ErrNotFound) {
		t.Fatalf("missing file: %v", err)
	}
	list, err := sb.ListFiles(ctx)
	if err != nil || len(list) != 3 || list[0].Path != "out.txt" || list[2].Path != "tx.csv" || list[2].Size != int64(len(csv)) {
		t.Fatalf("ListFiles: %v %+v", err, list)
	}
	ex, err = sb.Execute(ctx, `throw new Error('bad input')`)
	if err != nil || !strings.Contains(ex.Error, "bad input") {
		t.Fatalf("program error: %v %+v", err, ex)
	}
	if err := sb.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sb.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	sessions := fake.Sessions()
	if len(sessions) != 1 || sessions[0].Status != "TERMINATED" || sessions[0].Name != "bank-report" || sessions[0].Timeout != time.Hour {
		t.Fatalf("fake sessions: %+v", sessions)
	}
	if _, err := sb.Execute(ctx, `1`); !errors.Is(err, codeinterp.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

func TestCodeInterpAgentCoreExpiredSession(t *testing.T) {
	fake, interp := setup(t, agentcore.Options{SessionTimeout: time.Minute})
	now := time.Now()
	var mu sync.Mutex
	fake.SetNow(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	ctx := context.Background()
	sb, err := interp.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	_, err = sb.Execute(ctx, `1`)
	if !errors.Is(err, codeinterp.ErrClosed) {
		t.Fatalf("expired session: want ErrClosed, got %v", err)
	}
	if err := sb.Close(ctx); err != nil {
		t.Fatalf("closing an expired session: %v", err)
	}
}

func TestCodeInterpAgentCoreErrors(t *testing.T) {
	fake, interp := setup(t, agentcore.Options{})
	ctx := context.Background()
	sb, err := interp.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close(ctx)
	fake.FailNext(
		bedrockkittest.CodeInterpreterFault{Fault: bedrockkittest.Fault{Code: "ThrottlingException"}},
		bedrockkittest.CodeInterpreterFault{Fault: bedrockkittest.Fault{Code: "InternalServerException"}, InStream: true},
		bedrockkittest.CodeInterpreterFault{Fault: bedrockkittest.Fault{Code: "AccessDeniedException"}},
	)
	for _, want := range []error{bedrockkit.ErrThrottled, bedrockkit.ErrInternal, bedrockkit.ErrAccessDenied} {
		if _, err := sb.Execute(ctx, `1`); !errors.Is(err, want) {
			t.Fatalf("want %v, got %v", want, err)
		}
	}
	if ex, err := sb.Execute(ctx, `console.log('still works')`); err != nil || ex.Stdout != "still works\n" {
		t.Fatalf("after faults: %v %+v", err, ex)
	}

	bad := agentcore.New(fake.Client(), agentcore.Options{Identifier: "no-such-interpreter"})
	if _, err := bad.Start(ctx); !errors.Is(err, bedrockkit.ErrNotFound) {
		t.Fatalf("unknown interpreter: %v", err)
	}
	long := agentcore.New(fake.Client(), agentcore.Options{SessionName: strings.Repeat("n", 101)})
	if _, err := long.Start(ctx); !errors.Is(err, bedrockkit.ErrValidation) {
		t.Fatalf("name too long: %v", err)
	}
}

func TestCodeInterpAgentCoreTool(t *testing.T) {
	_, interp := setup(t, agentcore.Options{})
	pool := codeinterp.NewPool(interp, codeinterp.PoolOptions{})
	defer pool.Close(context.Background())
	tool, err := codeinterp.NewTool(pool, codeinterp.ToolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tool.Definition().Description, "console.log") {
		t.Fatalf("description for a JavaScript remote interpreter: %s", tool.Definition().Description)
	}
	parts, err := tool.Call(context.Background(), []byte(`{"code":"console.log([1,2,3].reduce((a,b)=>a+b))"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(parts[0].(bedrockkit.JSON).Value); got != `{"status":"ok","stdout":"6\n"}` {
		t.Fatalf("tool result %s", got)
	}
	py, err := codeinterp.NewTool(codeinterp.NewPool(agentcore.New(nil, agentcore.Options{}), codeinterp.PoolOptions{}), codeinterp.ToolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(py.Definition().Description, "Python") {
		t.Fatalf("default language is Python: %s", py.Definition().Description)
	}
}
