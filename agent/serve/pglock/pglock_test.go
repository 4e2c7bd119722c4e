package pglock_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/pgmemory"
	"github.com/bedrockkit/bedrockkit/agent/serve"
	"github.com/bedrockkit/bedrockkit/agent/serve/pglock"
	"github.com/bedrockkit/bedrockkit/internal/testutil/pgtest"
)

// The tests that need PostgreSQL read BEDROCKKIT_PG_DSN (set by .ci/run)
// and skip without it; BEDROCKKIT_PG_REPORT receives a line saying how
// many ran, so CI can show they were not skipped.
var pg = &pgtest.Server{Package: "agent/serve/pglock", Requires: "any PostgreSQL"}

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(replicaMain())
	}
	pg.Main(m)
}

func TestNewNilPool(t *testing.T) {
	if _, err := pglock.New(nil, pglock.Options{}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatal(err)
	}
}

func ownPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pg.Pool(t)
	p, err := pgxpool.New(context.Background(), pg.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func TestTryLock(t *testing.T) {
	ctx := context.Background()
	a, _ := pglock.New(ownPool(t), pglock.Options{})
	b, _ := pglock.New(ownPool(t), pglock.Options{}) // another "replica"
	other, _ := pglock.New(ownPool(t), pglock.Options{Namespace: "other-service"})
	key := fmt.Sprintf("ns/session-%d", time.Now().UnixNano())
	release, err := a.TryLock(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.TryLock(ctx, key); !errors.Is(err, serve.ErrSessionBusy) || !errors.Is(err, agent.ErrConflict) {
		t.Fatalf("second holder: %v", err)
	}
	if _, err := a.TryLock(ctx, key); !errors.Is(err, serve.ErrSessionBusy) {
		t.Fatalf("same locker, second holder: %v", err)
	}
	r2, err := b.TryLock(ctx, key+"-x")
	if err != nil {
		t.Fatalf("another key: %v", err)
	}
	r2()
	r3, err := other.TryLock(ctx, key)
	if err != nil {
		t.Fatalf("another namespace: %v", err)
	}
	r3()
	release()
	release() // idempotent
	r4, err := b.TryLock(ctx, key)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	r4()
	if _, err := a.TryLock(ctx, "bad\x00key"); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("NUL key: %v", err)
	}
}

// TestLockDiesWithProcess: a holder whose connection ends (a crashed
// replica) releases the lock.
func TestLockDiesWithProcess(t *testing.T) {
	ctx := context.Background()
	app := fmt.Sprintf("pglock-dying-%d", time.Now().UnixNano())
	cfg, err := pgxpool.ParseConfig(pg.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = app
	dying, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer dying.Close()
	a, _ := pglock.New(dying, pglock.Options{})
	b, _ := pglock.New(ownPool(t), pglock.Options{})
	key := fmt.Sprintf("crash-%d", time.Now().UnixNano())
	release, err := a.TryLock(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer release() // its unlock fails on the dead connection, which is then closed
	if _, err := b.TryLock(ctx, key); !errors.Is(err, serve.ErrSessionBusy) {
		t.Fatalf("held lock: %v", err)
	}
	// End the holder's backend, as a crash would end its connection.
	if _, err := pg.Pool(t).Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, app); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := b.TryLock(ctx, key)
		if err == nil {
			r()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the lock outlived its holder's connection: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// replica is a child process serving the agent.
type replica struct {
	name   string
	cmd    *exec.Cmd
	url    string
	client *serve.Client
	stderr *strings.Builder
	done   chan error
}

func startReplica(t *testing.T, name, table, gates string) *replica {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+name, tableEnv+"="+table, gateDirEnv+"="+gates)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	r := &replica{name: name, cmd: cmd, stderr: &strings.Builder{}, done: make(chan error, 1)}
	cmd.Stderr = &lockedWriter{b: r.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	listen := make(chan string, 1)
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(out)
		first := true
		for sc.Scan() {
			if first {
				listen <- sc.Text()
				first = false
			}
		}
		close(listen)
		r.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	select {
	case line := <-listen:
		addr, ok := strings.CutPrefix(line, "LISTEN ")
		if !ok {
			t.Fatalf("replica %s printed %q; stderr: %s", name, line, r.stderr)
		}
		r.url = "http://" + addr
	case <-time.After(60 * time.Second):
		t.Fatalf("replica %s did not start; stderr: %s", name, r.stderr)
	}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	r.client, err = serve.NewClient(r.url, serve.ClientOptions{HTTPClient: &http.Client{Transport: tr, Timeout: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

type lockedWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func waitFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never appeared", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReplicasShareSessions runs two server processes over one
// PostgreSQL: one conversation alternates between them turn by turn with
// nothing lost or duplicated; a pause taken on one is resumed on the
// other and its tool runs once; concurrent invocations of one session on
// both are refused; and a SIGTERM to a replica mid-invocation finishes
// that invocation before the process exits.
func TestReplicasShareSessions(t *testing.T) {
	pool := pg.Pool(t)
	table := pg.Table(t, "bks", func(pool *pgxpool.Pool, name string) {
		ctx := context.Background()
		pool.Exec(ctx, "DROP TABLE IF EXISTS "+pgx.Identifier{name}.Sanitize())
		pool.Exec(ctx, `DELETE FROM bedrockkit_pgmemory_migrations WHERE table_name = $1`, name)
	})
	ctx := context.Background()
	// Migrate once up front so the replicas do not race to create it.
	if err := pgmemory.Migrate(ctx, pool, pgmemory.Options{Table: table}); err != nil {
		t.Fatal(err)
	}
	gates := t.TempDir()
	a := startReplica(t, "A", table, gates)
	b := startReplica(t, "B", table, gates)
	replicas := []*replica{a, b}

	// 1. One conversation, alternating replicas.
	s := serve.NewSessionID()
	const turns = 10
	for i := range turns {
		r := replicas[i%2]
		in := fmt.Sprintf("message %d", i+1)
		out, err := r.client.Invoke(ctx, s, serve.InvocationRequest{Prompt: in})
		if err != nil {
			t.Fatalf("turn %d on %s: %v", i+1, r.name, err)
		}
		want := fmt.Sprintf("turn %d (replica %s): %s", i+1, r.name, in)
		if out.Output != want {
			t.Fatalf("turn %d: %q, want %q", i+1, out.Output, want)
		}
	}
	// The stored history holds every turn once, in order.
	mem, err := pgmemory.New(ctx, pool, pgmemory.Options{Table: table, SkipMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := mem.Load(ctx, "anonymous/"+s)
	if err != nil {
		t.Fatal(err)
	}
	if len(sess.Messages) != 2*turns || sess.Turns != turns {
		t.Fatalf("stored %d messages over %d turns, want %d over %d", len(sess.Messages), sess.Turns, 2*turns, turns)
	}
	for i := range turns {
		u, as := sess.Messages[2*i], sess.Messages[2*i+1]
		if u.Role != bedrockkit.RoleUser || u.Text() != fmt.Sprintf("message %d", i+1) ||
			as.Role != bedrockkit.RoleAssistant || as.Text() != fmt.Sprintf("turn %d (replica %s): message %d", i+1, replicas[i%2].name, i+1) {
			t.Fatalf("stored turn %d: %q / %q", i+1, u.Text(), as.Text())
		}
	}

	// 2. A pause on A, resumed on B; the tool runs once.
	out, err := a.client.Invoke(ctx, s, serve.InvocationRequest{Prompt: "TRANSFER 25 to bob"})
	if err != nil || out.Status != serve.StatusPaused || len(out.Pending.Calls) != 1 {
		t.Fatalf("pause on A: %+v %v", out, err)
	}
	res, err := b.client.Resume(ctx, s, out.Pending.ID, agent.Approve(out.Pending.Calls[0].CallID))
	if err != nil || res.Output != fmt.Sprintf("turn %d (replica B): tool said sent 25 to bob", turns+1) {
		t.Fatalf("resume on B: %+v %v", res, err)
	}
	if _, err := a.client.Resume(ctx, s, out.Pending.ID, agent.Approve(out.Pending.Calls[0].CallID)); !errors.Is(err, agent.ErrConflict) {
		t.Fatalf("resuming the same pause on A: %v", err)
	}
	if log, _ := os.ReadFile(filepath.Join(gates, "transfers")); string(log) != "B bob 25\n" {
		t.Fatalf("transfers run: %q", log)
	}

	// 3. One invocation per session across replicas; SIGTERM drains.
	s2 := serve.NewSessionID()
	slow := make(chan error, 1)
	var slowOut *serve.InvocationResponse
	go func() {
		var err error
		slowOut, err = a.client.Invoke(ctx, s2, serve.InvocationRequest{Prompt: "SLOW job"})
		slow <- err
	}()
	waitFile(t, filepath.Join(gates, "started-A"))
	if _, err := b.client.Invoke(ctx, s2, serve.InvocationRequest{Prompt: "meanwhile"}); !errors.Is(err, serve.ErrSessionBusy) && !errors.Is(err, agent.ErrConflict) {
		t.Fatalf("concurrent invocation on B: %v", err)
	}
	if st, err := a.client.Ping(ctx); err != nil || st.Status != serve.HealthyBusy {
		t.Fatalf("A's ping while busy: %+v %v", st, err)
	}
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// A refuses new work while it drains (503, or the connection is refused
	// once its listener is closed).
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := a.client.Invoke(ctx, serve.NewSessionID(), serve.InvocationRequest{Prompt: "late"})
		var se *serve.Error
		if err != nil && (!errors.As(err, &se) || se.StatusCode == 503) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("A took new work after SIGTERM: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case err := <-a.done:
		t.Fatalf("A exited before its invocation finished: %v; stderr: %s", err, a.stderr)
	default:
	}
	if err := os.WriteFile(filepath.Join(gates, "release"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := <-slow; err != nil {
		t.Fatalf("the invocation running at SIGTERM failed: %v; stderr: %s", err, a.stderr)
	}
	if slowOut.Output != "turn 1 (replica A): SLOW job" {
		t.Fatalf("drained invocation answered %q", slowOut.Output)
	}
	select {
	case err := <-a.done:
		if err != nil {
			t.Fatalf("A exited with %v; stderr: %s", err, a.stderr)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("A did not exit after draining")
	}
	// B continues the session A finished.
	out, err = b.client.Invoke(ctx, s2, serve.InvocationRequest{Prompt: "after"})
	if err != nil || out.Output != "turn 2 (replica B): after" {
		t.Fatalf("B after A's exit: %+v %v", out, err)
	}
}
