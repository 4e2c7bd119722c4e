package longmemory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/identity"
	"github.com/bedrockkit/bedrockkit/chunk"
)

// Options configures a Keeper. The zero value gives the defaults; Model
// is needed for extraction.
type Options struct {
	// Model extracts and consolidates records. It is called in the
	// background, never on a reply's path; a model separate from the
	// agent's (a smaller one) is fine.
	Model bedrockkit.Model
	// Structured configures how extraction answers are obtained and
	// validated (bedrockkit.GenerateValue).
	Structured bedrockkit.StructuredOptions
	// Strategies extract the records; nil means Facts, Preferences and
	// Summaries. Names must be distinct.
	Strategies []Strategy
	// RecallTokens bounds the text Recall returns (chunk.Estimate tokens,
	// or Tokenizer's); 0 means 800.
	RecallTokens int
	// RecallPerStrategy is how many records Recall searches for in each
	// strategy's namespace; 0 means 5.
	RecallPerStrategy int
	// Tokenizer counts tokens for RecallTokens; nil means chunk.Estimate.
	Tokenizer chunk.Tokenizer
	// ConsolidationCandidates is how many stored records most related to
	// a conversation are shown to the model to update; 0 means 20.
	ConsolidationCandidates int
	// IncludeToolResults adds tool results to the events (role TOOL);
	// by default only the user's and the assistant's text is kept.
	IncludeToolResults bool
	// Workers is how many turns are extracted at once; 0 means 2. Turns of
	// one actor are always extracted one at a time, in the order they were
	// remembered, so a later turn's correction is never undone by an
	// earlier one.
	Workers int
	// QueueSize bounds the turns waiting for extraction; Remember refuses
	// more with ErrQueueFull. 0 means 256.
	QueueSize int
	// MaxAttempts is how many times each step of an extraction (storing
	// the event, each strategy) is tried; 0 means 3.
	MaxAttempts int
	// RetryDelay is the wait before the second attempt, doubled after
	// each; 0 means 500ms.
	RetryDelay time.Duration
	// JobTimeout bounds the extraction of one turn; 0 means 2 minutes.
	JobTimeout time.Duration
	// Now is the clock (records' times, expiry); nil means time.Now.
	Now func() time.Time
	// ActorOf maps a verified caller to its actor ID; nil means
	// identity.Caller.Namespace. See ActorFrom.
	ActorOf func(*identity.Caller) (string, error)
	// OnExtracted, if set, is called (on a background goroutine) after each
	// turn's extraction with what it did or the error that stopped it
	// after the retries, before the turn counts as done: when Flush
	// returns, every flushed turn has been reported. Failed extractions
	// are also counted in Stats.
	OnExtracted func(ExtractionReport)
}

// ExtractionReport is what the extraction of one turn did.
type ExtractionReport struct {
	Actor     string
	SessionID string
	// Event is the stored event the records came from (empty when the
	// turn had no text to remember).
	Event      EventRef
	Strategies []StrategyReport
	// Err is set when a step failed after its retries; the strategies
	// that succeeded are still reported.
	Err error
}

// Stats counts what a Keeper did.
type Stats struct {
	// Queued is turns waiting or being extracted.
	Queued int
	// Extracted counts turns whose extraction succeeded, Failed those
	// that failed after the retries, Refused those Remember refused
	// (queue full, closed), Dropped those removed by DeleteActor before
	// they ran.
	Extracted, Failed, Refused, Dropped int
}

// Keeper is the long-term memory of an agent: it implements
// agent.LongTermMemory over a Backend. Recall searches the caller's
// namespaces of every strategy; Remember queues a finished turn, and
// background workers store it as an event, ask each strategy's model for
// candidate records and consolidate them with what is stored (see
// Candidate and StrategyReport). Extract does the same on demand.
//
// Set Agent.LongTerm to a Keeper; call Close when done (Flush first to
// let queued turns finish). A Keeper is safe for concurrent use.
type Keeper struct {
	b     Backend
	o     Options
	err   error // invalid options
	specs []StrategySpec

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []job
	started bool
	closed  bool
	running int
	idle    chan struct{} // closed when queue and running are empty
	gen     map[string]uint64
	busy    map[string]bool // actors with a queued turn being extracted
	actors  map[string]*actorState
	stats   Stats
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

type job struct {
	actor string
	turn  agent.FinishedTurn
	gen   uint64
}

// actorState serialises the work on one actor.
type actorState struct {
	mu     sync.Mutex
	refs   int
	cancel context.CancelFunc // of the job running for the actor, if any
}

var _ agent.LongTermMemory = (*Keeper)(nil)

// New returns a Keeper over b. Invalid options (strategies with bad names
// or namespace templates, two strategies with one name) make every call
// fail with the reason. No goroutine starts until the first Remember.
func New(b Backend, opts Options) *Keeper {
	if opts.Strategies == nil {
		opts.Strategies = []Strategy{Facts(), Preferences(), Summaries()}
	}
	opts.Strategies = slices.Clone(opts.Strategies)
	if opts.RecallTokens <= 0 {
		opts.RecallTokens = 800
	}
	if opts.RecallPerStrategy <= 0 {
		opts.RecallPerStrategy = 5
	}
	opts.RecallPerStrategy = min(opts.RecallPerStrategy, 100)
	if opts.Tokenizer == nil {
		opts.Tokenizer = chunk.Estimate
	}
	if opts.ConsolidationCandidates <= 0 {
		opts.ConsolidationCandidates = 20
	}
	opts.ConsolidationCandidates = min(opts.ConsolidationCandidates, 100)
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 256
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 3
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = 500 * time.Millisecond
	}
	if opts.JobTimeout <= 0 {
		opts.JobTimeout = 2 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	k := &Keeper{b: b, o: opts, gen: map[string]uint64{}, busy: map[string]bool{}, actors: map[string]*actorState{}}
	k.cond = sync.NewCond(&k.mu)
	k.ctx, k.cancel = context.WithCancel(context.Background())
	if b == nil {
		k.err = fmt.Errorf("longmemory: New needs a Backend: %w", bedrockkit.ErrInvalidInput)
	}
	seen := map[string]bool{}
	for _, s := range opts.Strategies {
		if s == nil {
			k.err = errors.Join(k.err, fmt.Errorf("longmemory: nil strategy: %w", bedrockkit.ErrInvalidInput))
			continue
		}
		spec := s.Spec()
		if err := spec.validate(); err != nil {
			k.err = errors.Join(k.err, err)
		}
		if seen[spec.Name] {
			k.err = errors.Join(k.err, fmt.Errorf("longmemory: two strategies are named %q: %w", spec.Name, bedrockkit.ErrInvalidInput))
		}
		seen[spec.Name] = true
		k.specs = append(k.specs, spec)
	}
	return k
}

// Backend returns the Keeper's backend, for listing, reading and deleting
// records directly (always for an actor you have authorised).
func (k *Keeper) Backend() Backend { return k.b }

// Actor returns the actor of ctx (see ActorFrom, with Options.ActorOf).
func (k *Keeper) Actor(ctx context.Context) (string, error) {
	return ActorFrom(ctx, k.o.ActorOf)
}

// Recall implements agent.LongTermMemory: it searches each strategy's
// namespaces of the caller's actor for q.Input, drops expired records, and
// returns the most relevant first within Options.RecallTokens.
func (k *Keeper) Recall(ctx context.Context, q agent.RecallQuery) ([]agent.Recollection, error) {
	if k.err != nil {
		return nil, k.err
	}
	actor, err := k.Actor(ctx)
	if err != nil {
		return nil, err
	}
	text := strings.TrimSpace(q.Input)
	if text == "" {
		return nil, nil
	}
	text = clip(text, 10000-3)
	now := k.o.Now()
	// Each namespace's results are ranked by its backend; their scores are
	// not comparable across namespaces (rank fusion, or another search's
	// similarity), so the union is ranked again: its rank in its namespace
	// fused with a BM25 rank over the union.
	var found []MemoryRecord
	nsRank := map[string]int{}
	for _, spec := range k.specs {
		recs, err := k.b.SearchRecords(ctx, actor, RecordQuery{RecordFilter: spec.recallFilter(actor), Text: text, K: k.o.RecallPerStrategy})
		if err != nil {
			return nil, fmt.Errorf("longmemory: recall %s: %w", spec.Name, err)
		}
		rank := 0
		for _, r := range recs {
			if _, dup := nsRank[r.ID]; dup || r.Expired(now) || r.Actor != actor {
				continue
			}
			nsRank[r.ID] = rank
			rank++
			found = append(found, r)
		}
	}
	lexRank := map[string]int{}
	for i, r := range rankBM25(text, found, len(found)) {
		lexRank[r.ID] = i
	}
	for i := range found {
		found[i].Score = 1 / float64(rrfK+nsRank[found[i].ID]+1)
		if lr, ok := lexRank[found[i].ID]; ok {
			found[i].Score += 1 / float64(rrfK+lr+1)
		}
	}
	slices.SortStableFunc(found, func(a, b MemoryRecord) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		if c := b.Updated.Compare(a.Updated); c != 0 {
			return c
		}
		return strings.Compare(a.Text, b.Text)
	})
	var out []agent.Recollection
	budget := k.o.RecallTokens
	for _, r := range found {
		cost := k.o.Tokenizer.Count(r.Text) + 4
		if cost > budget {
			continue // a smaller record may still fit
		}
		budget -= cost
		out = append(out, agent.Recollection{ID: r.ID, Kind: r.Strategy, Text: r.Text, Updated: r.Updated, Score: r.Score})
	}
	return out, nil
}

// Remember implements agent.LongTermMemory: it resolves the caller's
// actor from ctx and queues the turn for extraction, without waiting. It
// fails with ErrQueueFull when Options.QueueSize turns are waiting and
// with ErrClosed after Close.
func (k *Keeper) Remember(ctx context.Context, t agent.FinishedTurn) error {
	if k.err != nil {
		return k.err
	}
	actor, err := k.Actor(ctx)
	if err != nil {
		return err
	}
	t.Messages = slices.Clone(t.Messages)
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case k.closed:
		k.stats.Refused++
		return ErrClosed
	case len(k.queue) >= k.o.QueueSize:
		k.stats.Refused++
		return ErrQueueFull
	}
	if !k.started {
		k.started = true
		for range k.o.Workers {
			k.wg.Add(1)
			go k.work()
		}
	}
	if k.idle == nil {
		k.idle = make(chan struct{})
	}
	k.queue = append(k.queue, job{actor: actor, turn: t, gen: k.gen[actor]})
	k.cond.Signal()
	return nil
}

// Extract extracts one turn now, for the actor of ctx, and returns what it
// did. It waits for queued work of the same actor that is running.
func (k *Keeper) Extract(ctx context.Context, t agent.FinishedTurn) (ExtractionReport, error) {
	if k.err != nil {
		return ExtractionReport{}, k.err
	}
	actor, err := k.Actor(ctx)
	if err != nil {
		return ExtractionReport{}, err
	}
	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		return ExtractionReport{}, ErrClosed
	}
	g := k.gen[actor]
	k.mu.Unlock()
	rep := k.run(ctx, job{actor: actor, turn: t, gen: g})
	return rep, rep.Err
}

// work is one background worker.
func (k *Keeper) work() {
	defer k.wg.Done()
	for {
		k.mu.Lock()
		i := -1
		for !k.closed {
			if i = k.next(); i >= 0 {
				break
			}
			k.cond.Wait()
		}
		if k.closed {
			k.mu.Unlock()
			return
		}
		j := k.queue[i]
		k.queue = slices.Delete(k.queue, i, i+1)
		k.busy[j.actor] = true
		k.running++
		k.mu.Unlock()

		ctx, cancel := context.WithTimeout(k.ctx, k.o.JobTimeout)
		rep := k.run(ctx, j)
		cancel()
		// Reported before the turn counts as done, so that when Flush
		// returns every turn's report has been delivered.
		if k.o.OnExtracted != nil && !errors.Is(rep.Err, errForgotten) {
			k.o.OnExtracted(rep)
		}

		k.mu.Lock()
		k.running--
		delete(k.busy, j.actor)
		k.cond.Broadcast() // the actor's next turn may run now
		switch {
		case errors.Is(rep.Err, errForgotten):
			k.stats.Dropped++
		case rep.Err != nil:
			k.stats.Failed++
		default:
			k.stats.Extracted++
		}
		k.settle()
		k.mu.Unlock()
	}
}

// next returns the index of the oldest queued turn whose actor has no turn
// running, or -1: turns of one actor are extracted in the order they were
// queued (a later turn may correct an earlier one). k.mu is held.
func (k *Keeper) next() int {
	for i, j := range k.queue {
		if !k.busy[j.actor] {
			return i
		}
	}
	return -1
}

// settle closes idle when nothing is queued or running. k.mu is held.
func (k *Keeper) settle() {
	if len(k.queue) == 0 && k.running == 0 && k.idle != nil {
		close(k.idle)
		k.idle = nil
	}
}

// errForgotten stops a job whose actor was deleted after it was queued.
var errForgotten = errors.New("longmemory: the actor was deleted")

// lockActor takes the actor's lock, registering cancel as the running
// job's; the returned function releases it.
func (k *Keeper) lockActor(actor string, cancel context.CancelFunc) func() {
	k.mu.Lock()
	st := k.actors[actor]
	if st == nil {
		st = &actorState{}
		k.actors[actor] = st
	}
	st.refs++
	k.mu.Unlock()
	st.mu.Lock()
	k.mu.Lock()
	st.cancel = cancel
	k.mu.Unlock()
	return func() {
		k.mu.Lock()
		st.cancel = nil
		st.refs--
		if st.refs == 0 {
			delete(k.actors, actor)
		}
		k.mu.Unlock()
		st.mu.Unlock()
	}
}

// run extracts one turn under the actor's lock.
func (k *Keeper) run(ctx context.Context, j job) ExtractionReport {
	session := SessionKey(j.turn.SessionID)
	rep := ExtractionReport{Actor: j.actor, SessionID: session}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	unlock := k.lockActor(j.actor, cancel)
	defer unlock()
	k.mu.Lock()
	forgotten := k.gen[j.actor] != j.gen
	k.mu.Unlock()
	if forgotten {
		rep.Err = errForgotten
		return rep
	}
	msgs := k.eventMessages(j.turn.Messages)
	if len(msgs) == 0 {
		return rep
	}
	at := j.turn.At
	if at.IsZero() {
		at = k.o.Now()
	}
	now := k.o.Now()
	ev := ConversationEvent{SessionID: session, At: at.UTC(), Messages: msgs}
	err := k.retry(ctx, func() error {
		ref, err := k.b.AppendEvent(ctx, j.actor, ev)
		rep.Event = ref
		return err
	})
	if err != nil {
		rep.Err = fmt.Errorf("longmemory: store the turn's event: %w", err)
		return rep
	}
	var errs []error
	for i, s := range k.o.Strategies {
		spec := k.specs[i]
		var sr StrategyReport
		err := k.retry(ctx, func() error {
			var err error
			sr, err = k.extractOne(ctx, s, spec, j.actor, session, msgs, rep.Event, now)
			return err
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("longmemory: strategy %s: %w", spec.Name, err))
			continue
		}
		rep.Strategies = append(rep.Strategies, sr)
	}
	rep.Err = errors.Join(errs...)
	return rep
}

// extractOne runs one strategy on a turn and consolidates its candidates.
func (k *Keeper) extractOne(ctx context.Context, s Strategy, spec StrategySpec, actor, session string, msgs []EventMessage, ref EventRef, now time.Time) (StrategyReport, error) {
	ns, err := spec.namespace(actor, session)
	if err != nil {
		return StrategyReport{}, err
	}
	all, err := k.b.ListRecords(ctx, actor, RecordFilter{Namespace: ns, Strategy: spec.Name})
	if err != nil {
		return StrategyReport{}, err
	}
	// Expired records are removed, not consolidated with.
	var expired []string
	live := all[:0]
	for _, r := range all {
		if r.Expired(now) {
			expired = append(expired, r.ID)
		} else {
			live = append(live, r)
		}
	}
	if len(expired) > 0 {
		if _, err := k.b.DeleteRecords(ctx, actor, expired); err != nil {
			return StrategyReport{}, err
		}
	}
	shown := live
	if len(live) > k.o.ConsolidationCandidates {
		var q strings.Builder
		for _, m := range msgs {
			if m.Role == RoleUser {
				q.WriteString(m.Text)
				q.WriteString("\n")
			}
		}
		text := clip(strings.TrimSpace(q.String()), 10000-3)
		if text == "" {
			text = clip(msgs[0].Text, 10000-3)
		}
		shown, err = k.b.SearchRecords(ctx, actor, RecordQuery{RecordFilter: RecordFilter{Namespace: ns, Strategy: spec.Name}, Text: text, K: k.o.ConsolidationCandidates})
		if err != nil {
			return StrategyReport{}, err
		}
	}
	cands, err := s.Extract(ctx, ExtractionInput{Model: k.o.Model, Structured: k.o.Structured, Actor: actor, SessionID: session,
		Messages: msgs, Existing: shown, Now: now})
	if err != nil {
		return StrategyReport{}, err
	}
	return consolidate(ctx, k.b, actor, spec, ns, live, cands, []EventRef{ref}, now)
}

// eventMessages keeps the text of the turn worth remembering.
func (k *Keeper) eventMessages(ms []bedrockkit.Message) []EventMessage {
	var out []EventMessage
	for _, m := range ms {
		role := RoleUser
		if m.Role == bedrockkit.RoleAssistant {
			role = RoleAssistant
		}
		if t := strings.TrimSpace(m.Text()); t != "" {
			out = append(out, EventMessage{Role: role, Text: clip(t, 100000-3)})
		}
		if !k.o.IncludeToolResults {
			continue
		}
		for _, p := range m.Parts {
			if tr, ok := p.(bedrockkit.ToolResult); ok {
				if t := strings.TrimSpace(bedrockkit.Message{Parts: tr.Parts}.Text()); t != "" {
					out = append(out, EventMessage{Role: RoleTool, Text: clip(t, 100000-3)})
				}
			}
		}
	}
	if len(out) > 100 {
		out = out[len(out)-100:]
	}
	return out
}

// retry runs f up to MaxAttempts times while it fails with an error worth
// retrying, waiting RetryDelay, doubled each time, between attempts.
func (k *Keeper) retry(ctx context.Context, f func() error) error {
	delay := k.o.RetryDelay
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil || attempt >= k.o.MaxAttempts || !retryable(err) || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
		delay *= 2
	}
}

// retryable reports whether an extraction step may succeed when tried
// again: not for the caller's own mistakes or refusals.
func retryable(err error) bool {
	for _, e := range []error{bedrockkit.ErrInvalidInput, bedrockkit.ErrValidation, bedrockkit.ErrAccessDenied,
		bedrockkit.ErrQuotaExceeded, bedrockkit.ErrUnsupported, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, e) {
			return false
		}
	}
	return true
}

// DeleteActor forgets actor: turns of the actor still queued are dropped,
// a running extraction is cancelled (and can no longer write), and every
// record and event of the actor is deleted from the backend. Authorise the
// request before calling it.
func (k *Keeper) DeleteActor(ctx context.Context, actor string) (Erasure, error) {
	if err := ValidateActor(actor); err != nil {
		return Erasure{}, err
	}
	if k.b == nil {
		return Erasure{}, k.err
	}
	k.mu.Lock()
	k.gen[actor]++ // running and queued jobs of the actor are now stale
	kept := k.queue[:0]
	for _, j := range k.queue {
		if j.actor == actor {
			k.stats.Dropped++
			continue
		}
		kept = append(kept, j)
	}
	clear(k.queue[len(kept):]) // drop the references to the removed turns
	k.queue = kept
	if st := k.actors[actor]; st != nil && st.cancel != nil {
		st.cancel()
	}
	k.settle()
	k.mu.Unlock()
	unlock := k.lockActor(actor, nil)
	defer unlock()
	return k.b.DeleteActor(ctx, actor)
}

// Flush waits until every queued turn has been extracted (or has failed),
// or ctx is done.
func (k *Keeper) Flush(ctx context.Context) error {
	k.mu.Lock()
	ch := k.idle
	k.mu.Unlock()
	if ch == nil {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats returns what the Keeper has done so far.
func (k *Keeper) Stats() Stats {
	k.mu.Lock()
	defer k.mu.Unlock()
	s := k.stats
	s.Queued = len(k.queue) + k.running
	return s
}

// Close stops the Keeper: Remember and Extract are refused, running
// extractions are cancelled, and Close returns when every background
// goroutine has ended. Turns still queued are not extracted; the error
// says how many (call Flush first to let them finish). Calling Close again
// does nothing.
func (k *Keeper) Close() error {
	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		return nil
	}
	k.closed = true
	lost := len(k.queue)
	k.queue = nil
	k.stats.Dropped += lost
	k.cond.Broadcast()
	k.mu.Unlock()
	k.cancel()
	k.wg.Wait()
	k.mu.Lock()
	k.settle()
	k.mu.Unlock()
	if lost > 0 {
		return fmt.Errorf("longmemory: closed with %d turns not yet extracted (Flush before Close to let them finish)", lost)
	}
	return nil
}
