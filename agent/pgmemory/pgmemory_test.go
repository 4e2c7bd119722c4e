package pgmemory_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/pgmemory"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

func TestOptionsValidation(t *testing.T) {
	ctx := context.Background()
	if _, err := pgmemory.New(ctx, nil, pgmemory.Options{}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("nil pool: %v", err)
	}
	// Options are checked before the pool is used, so a pool that cannot
	// connect is enough to see the errors.
	pool := unreachablePool(t)
	for _, o := range []pgmemory.Options{
		{Table: "Sessions"},
		{Table: "1sessions"},
		{Table: `x"; DROP TABLE y; --`},
		{Table: strings.Repeat("a", 49)},
		{Schema: "My-Schema"},
		{Schema: strings.Repeat("s", 64)},
	} {
		if _, err := pgmemory.New(ctx, pool, o); !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Errorf("%+v: want ErrInvalidInput, got %v", o, err)
		}
		if err := pgmemory.Migrate(ctx, pool, o); !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Errorf("Migrate %+v: want ErrInvalidInput, got %v", o, err)
		}
	}
}

// TestConcurrentWriters: writers that loaded the same version race to
// save; exactly one wins each round, the others get ErrConflict, and the
// stored session is the winner's.
func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	table := newTable(t)
	// Each writer has its own pool, as separate processes would.
	const writers = 4
	mems := make([]*pgmemory.Memory, writers)
	for i := range mems {
		m, err := pgmemory.New(ctx, newPool(t), pgmemory.Options{Table: table})
		must(t, err)
		mems[i] = m
	}
	for round := range 25 {
		id := fmt.Sprintf("race-%d", round)
		// Odd rounds race on an existing session (UPDATE), even rounds on a
		// new one (INSERT ... ON CONFLICT DO NOTHING).
		var base int64
		if round%2 == 1 {
			s := &agent.Session{ID: id}
			must(t, mems[0].Save(ctx, s))
			base = s.Version
		}
		var (
			start  = make(chan struct{})
			wg     sync.WaitGroup
			errs   = make([]error, writers)
			saved  = make([]*agent.Session, writers)
			winner atomic.Int32
		)
		for w := range writers {
			s := &agent.Session{ID: id, Version: base, Summary: fmt.Sprintf("writer %d", w)}
			if base > 0 {
				s = load(t, mems[w], id)
				s.Summary = fmt.Sprintf("writer %d", w)
			}
			saved[w] = s
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[w] = mems[w].Save(ctx, s)
				if errs[w] == nil {
					winner.Store(int32(w))
				}
			}()
		}
		close(start)
		wg.Wait()
		wins := 0
		for w, err := range errs {
			switch {
			case err == nil:
				wins++
				if saved[w].Version != base+1 {
					t.Fatalf("round %d: winner's Version %d, want %d", round, saved[w].Version, base+1)
				}
			case errors.Is(err, agent.ErrConflict):
				if saved[w].Version != base {
					t.Fatalf("round %d: loser's Version changed to %d", round, saved[w].Version)
				}
			default:
				t.Fatalf("round %d writer %d: %v", round, w, err)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d writers won, want exactly 1 (errors %v)", round, wins, errs)
		}
		got := load(t, mems[0], id)
		if want := fmt.Sprintf("writer %d", winner.Load()); got.Summary != want || got.Version != base+1 {
			t.Fatalf("round %d: stored %q at version %d, want %q at %d", round, got.Summary, got.Version, want, base+1)
		}
	}
}

// TestSessionSurvivesRestart runs a turn through an agent, closes the
// pool, and continues the session from a new pool on the same DSN, as a
// restarted process would.
func TestSessionSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	table := newTable(t)
	{
		pool := newPool(t)
		mem, err := pgmemory.New(ctx, pool, pgmemory.Options{Table: table})
		must(t, err)
		a := &agent.Agent{Model: bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("Hi Ana.")), Memory: mem}
		_, err = a.Run(ctx, "user/ana", "I am Ana", agent.RunOptions{SessionAttributes: map[string]string{"tier": "gold"}})
		must(t, err)
		pool.Close()
	}
	pool := newPool(t)
	mem, err := pgmemory.New(ctx, pool, pgmemory.Options{Table: table}) // migrating again is a no-op
	must(t, err)
	var seen map[string]string
	who := agent.MustNewFuncTool("who", "Who is calling", func(ctx context.Context, in struct{}) (string, error) {
		ci, _ := agent.CallInfoFrom(ctx)
		seen = ci.Attributes
		return "ok", nil
	})
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "w", Name: "who", Input: json.RawMessage(`{}`)}),
		bedrockkittest.TextStep("You are Ana."))
	a := &agent.Agent{Model: m, Memory: mem, Tools: []*agent.Tool{who}}
	res, err := a.Run(ctx, "user/ana", "who am I?")
	must(t, err)
	msgs := m.Requests()[0].Messages
	if len(msgs) != 3 || msgs[0].Text() != "I am Ana" || msgs[1].Text() != "Hi Ana." || msgs[2].Text() != "who am I?" {
		t.Fatalf("history not restored: %+v", msgs)
	}
	if seen["tier"] != "gold" || res.Output != "You are Ana." {
		t.Fatalf("attributes %v output %q", seen, res.Output)
	}
	s := load(t, mem, "user/ana")
	if s.Turns != 2 || len(s.Messages) != 6 || s.Version < 2 {
		t.Fatalf("stored session: turns %d messages %d version %d", s.Turns, len(s.Messages), s.Version)
	}
}

type transferIn struct {
	To     string  `json:"to"`
	Amount float64 `json:"amount"`
}

func bank(runs *atomic.Int32) *agent.Tool {
	return agent.MustNewFuncTool("transfer", "Send money", func(ctx context.Context, in transferIn) (string, error) {
		runs.Add(1)
		return fmt.Sprintf("sent %g to %s", in.Amount, in.To), nil
	}, agent.ToolOptions{RequireConfirmation: true})
}

// pauseKey signs the pending state handed between the two "processes".
var pauseKey = []byte("pgmemory test key, 32 bytes long")

// TestAgentPauseAndResume pauses a run on a confirmation with the session
// in PostgreSQL, then resumes it with a fresh pool, Memory and Agent from
// the signed pending state decoded from JSON; a second resume is refused.
func TestAgentPauseAndResume(t *testing.T) {
	ctx := context.Background()
	table := newTable(t)
	var runs atomic.Int32
	var state []byte
	{
		pool := newPool(t)
		mem, err := pgmemory.New(ctx, pool, pgmemory.Options{Table: table})
		must(t, err)
		m := bedrockkittest.NewScriptedModel(bedrockkittest.ToolStep(
			bedrockkit.ToolCall{ID: "t1", Name: "transfer", Input: json.RawMessage(`{"to":"bob","amount":10}`)}))
		a := &agent.Agent{Model: m, Memory: mem, Tools: []*agent.Tool{bank(&runs)}, Pause: agent.PauseOptions{Key: pauseKey}}
		res, err := a.Run(ctx, "user-1", "send bob 10", agent.RunOptions{PromptAttributes: map[string]string{"currency": "EUR"}})
		must(t, err)
		if !res.Paused() || len(res.Pending.Calls) != 1 || res.Pending.Calls[0].Kind != agent.KindConfirm || runs.Load() != 0 {
			t.Fatalf("want a pause before the transfer, got %+v (runs %d)", res, runs.Load())
		}
		if state, err = json.Marshal(res.Pending); err != nil {
			t.Fatal(err)
		}
		// The pause is in the database.
		if s := load(t, mem, "user-1"); s.Pending == nil || s.Pending.ID != res.Pending.ID {
			t.Fatalf("stored pending %+v", s.Pending)
		}
		pool.Close()
	}

	var p agent.Pending
	must(t, json.Unmarshal(state, &p))
	mem, err := pgmemory.New(ctx, newPool(t), pgmemory.Options{Table: table})
	must(t, err)
	m := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("Sent 10 to bob."))
	a := &agent.Agent{Model: m, Memory: mem, Tools: []*agent.Tool{bank(&runs)}, Pause: agent.PauseOptions{Key: pauseKey}}
	res, err := a.Resume(ctx, &p, agent.Approve("t1"))
	must(t, err)
	if res.Output != "Sent 10 to bob." || runs.Load() != 1 {
		t.Fatalf("output %q, transfer runs %d", res.Output, runs.Load())
	}
	req := m.Requests()[0]
	if sys := (bedrockkit.Message{Parts: req.System}).Text(); !strings.Contains(sys, "currency: EUR") {
		t.Fatalf("prompt attributes lost across the restart: %q", sys)
	}
	if _, err := a.Resume(ctx, &p, agent.Approve("t1")); !errors.Is(err, agent.ErrNotPending) || runs.Load() != 1 {
		t.Fatalf("second resume: err %v, runs %d", err, runs.Load())
	}
	s := load(t, mem, "user-1")
	if s.Turns != 1 || len(s.Messages) != 4 || s.Pending != nil || len(s.Records) != 0 {
		t.Fatalf("session after resume: turns=%d messages=%d pending=%v records=%d", s.Turns, len(s.Messages), s.Pending, len(s.Records))
	}
}

// TestSaveHonoursCancellation: a Save waiting on another transaction's row
// lock returns when its context is cancelled, and changes nothing, also
// after the lock is released.
func TestSaveHonoursCancellation(t *testing.T) {
	ctx := context.Background()
	pool := sharedPool(t)
	mem, err := pgmemory.New(ctx, pool, pgmemory.Options{Table: newTable(t)})
	must(t, err)
	s := &agent.Session{ID: "locked", Summary: "before"}
	must(t, mem.Save(ctx, s))

	tx, err := pool.Begin(ctx)
	must(t, err)
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT 1 FROM `+mem.Table()+` WHERE id = 'locked' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	// Save blocks on the lock; once the server shows it waiting, cancel it.
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.Summary = "after"
	done := make(chan error, 1)
	go func() { done <- mem.Save(sctx, s) }()
	for waiting := 0; waiting == 0; {
		select {
		case err := <-done:
			t.Fatalf("Save returned %v while the row was locked", err)
		default:
		}
		must(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE '||$1||'%'`, mem.Table()).Scan(&waiting))
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if s.Version != 1 {
		t.Fatalf("cancelled save changed Version to %d", s.Version)
	}
	// Release the lock. The server-side statement of the abandoned Save is
	// still queued on it; it must not commit.
	must(t, tx.Rollback(ctx))
	if got := load(t, mem, "locked"); got.Summary != "before" || got.Version != 1 {
		t.Fatalf("the cancelled save landed: stored %q at %d", got.Summary, got.Version)
	}
	// Saving again from version 1 queues behind the abandoned statement on
	// the row lock, so it conflicts if that statement committed.
	s.Summary = "retried"
	if err := mem.Save(ctx, s); err != nil {
		t.Fatalf("save after the cancelled one: %v (did the cancelled save land?)", err)
	}
	if got := load(t, mem, "locked"); got.Summary != "retried" || got.Version != 2 {
		t.Fatalf("stored %q at %d", got.Summary, got.Version)
	}
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	pool := sharedPool(t)
	table := newTable(t)

	// SkipMigrate on a table that does not exist yet says what to do.
	_, err := pgmemory.New(ctx, pool, pgmemory.Options{Table: table, SkipMigrate: true})
	if !errors.Is(err, pgmemory.ErrSchema) || !strings.Contains(err.Error(), "Migrate") {
		t.Fatalf("SkipMigrate before migration: %v", err)
	}

	// Many processes opening at once: the advisory lock serialises them.
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = pgmemory.New(ctx, pool, pgmemory.Options{Table: table})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		must(t, err)
	}
	var rows int
	must(t, pool.QueryRow(ctx, `SELECT count(*) FROM `+migrationsTable+` WHERE table_name = $1`, table).Scan(&rows))
	if rows != pgmemory.SchemaVersion {
		t.Fatalf("%d migration records, want %d", rows, pgmemory.SchemaVersion)
	}
	mem, err := pgmemory.New(ctx, pool, pgmemory.Options{Table: table, SkipMigrate: true})
	must(t, err)
	must(t, mem.Save(ctx, &agent.Session{ID: "x"}))

	// A table migrated by a newer version is refused, not misread.
	_, err = pool.Exec(ctx, `INSERT INTO `+migrationsTable+` (table_name, version, description) VALUES ($1, $2, 'from the future')`, table, pgmemory.SchemaVersion+1)
	must(t, err)
	if _, err := pgmemory.New(ctx, pool, pgmemory.Options{Table: table}); !errors.Is(err, pgmemory.ErrSchema) {
		t.Fatalf("newer schema: %v", err)
	}
	if _, err := pgmemory.New(ctx, pool, pgmemory.Options{Table: table, SkipMigrate: true}); !errors.Is(err, pgmemory.ErrSchema) {
		t.Fatalf("newer schema with SkipMigrate: %v", err)
	}
}

// TestSchemaOption keeps tables of the same name in different schemas apart.
func TestSchemaOption(t *testing.T) {
	ctx := context.Background()
	pool := sharedPool(t)
	table := newTable(t)
	schema := fmt.Sprintf("bkm_schema_%d", os.Getpid())
	t.Cleanup(func() {
		pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	})

	inSchema, err := pgmemory.New(ctx, pool, pgmemory.Options{Schema: schema, Table: table})
	must(t, err)
	plain, err := pgmemory.New(ctx, pool, pgmemory.Options{Table: table})
	must(t, err)
	if want := `"` + schema + `"."` + table + `"`; inSchema.Table() != want {
		t.Fatalf("Table() = %s, want %s", inSchema.Table(), want)
	}
	must(t, inSchema.Save(ctx, &agent.Session{ID: "s", Summary: "in schema"}))
	if _, err := plain.Load(ctx, "s"); !errors.Is(err, agent.ErrSessionNotFound) {
		t.Fatalf("schemas not separate: %v", err)
	}
	var n int
	must(t, pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{schema, table}.Sanitize()).Scan(&n))
	if n != 1 {
		t.Fatalf("%d rows in the schema's table", n)
	}
	// The session column can be queried with PostgreSQL's JSON operators.
	var summary string
	must(t, pool.QueryRow(ctx, `SELECT session->>'summary' FROM `+inSchema.Table()+` WHERE id = 's'`).Scan(&summary))
	if summary != "in schema" {
		t.Fatalf("summary via SQL: %q", summary)
	}
}

func TestIDsPostgreSQLCannotStore(t *testing.T) {
	ctx := context.Background()
	mem, err := pgmemory.New(ctx, sharedPool(t), pgmemory.Options{Table: newTable(t)})
	must(t, err)
	for _, id := range []string{"nul\x00inside", "bad\xffutf8"} {
		if err := mem.Save(ctx, &agent.Session{ID: id}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Errorf("save %q: want ErrInvalidInput, got %v", id, err)
		}
		if _, err := mem.Load(ctx, id); !errors.Is(err, agent.ErrSessionNotFound) {
			t.Errorf("load %q: want ErrSessionNotFound, got %v", id, err)
		}
		must(t, mem.Delete(ctx, id))
	}
	// Empty and unusual but valid IDs are stored as they are.
	for _, id := range []string{"", "user/ana", "a b\tc", "日本語", strings.Repeat("x", 2000)} {
		must(t, mem.Save(ctx, &agent.Session{ID: id, Summary: id}))
		if got := load(t, mem, id); got.ID != id || got.Summary != id {
			t.Fatalf("id %q came back as %q", id, got.ID)
		}
	}
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	pool := sharedPool(t)
	mem, err := pgmemory.New(ctx, pool, pgmemory.Options{Table: newTable(t)})
	must(t, err)
	for _, id := range []string{"old1", "old2", "fresh"} {
		must(t, mem.Save(ctx, &agent.Session{ID: id}))
	}
	// Age two sessions by moving their update time back a day.
	_, err = pool.Exec(ctx, `UPDATE `+mem.Table()+` SET updated_at = updated_at - interval '1 day' WHERE id LIKE 'old%'`)
	must(t, err)
	n, err := mem.Prune(ctx, time.Now().Add(-time.Hour))
	must(t, err)
	if n != 2 {
		t.Fatalf("pruned %d, want 2", n)
	}
	if _, err := mem.Load(ctx, "old1"); !errors.Is(err, agent.ErrSessionNotFound) {
		t.Fatalf("old1: %v", err)
	}
	load(t, mem, "fresh")
}

// unreachablePool returns a pool that never connects (pgxpool connects lazily).
func unreachablePool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	p, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}
