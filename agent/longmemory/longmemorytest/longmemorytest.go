package longmemorytest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent/longmemory"
)

// NewBackend returns a fresh, empty backend for one test.
type NewBackend func(t *testing.T) longmemory.Backend

var t0 = time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)

func record(actor, ns, strategy, topic, text string) longmemory.MemoryRecord {
	return longmemory.MemoryRecord{Actor: actor, Namespace: ns, Strategy: strategy, Topic: topic, Text: text,
		Sources: []longmemory.EventRef{{SessionID: "s1", EventID: "1775044800000#0a0b0c0d"}},
		History: []longmemory.Change{{At: t0, Action: longmemory.Created}}, Created: t0, Updated: t0}
}

func texts(recs []longmemory.MemoryRecord) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Text
	}
	return out
}

// Run runs the conformance checks on backends from newBackend: create,
// get, update, list (exact, prefix, strategy), search relevance, delete,
// events, DeleteActor, refusals of invalid input, and Isolation.
func Run(t *testing.T, newBackend NewBackend) {
	t.Run("Records", func(t *testing.T) { testRecords(t, newBackend(t)) })
	t.Run("Search", func(t *testing.T) { testSearch(t, newBackend(t)) })
	t.Run("Events", func(t *testing.T) { testEvents(t, newBackend(t)) })
	t.Run("DeleteActor", func(t *testing.T) { testDeleteActor(t, newBackend(t)) })
	t.Run("Invalid", func(t *testing.T) { testInvalid(t, newBackend(t)) })
	t.Run("Isolation", func(t *testing.T) { Isolation(t, newBackend(t), 1, 6, 60) })
}

func testRecords(t *testing.T, b longmemory.Backend) {
	ctx := context.Background()
	a := "alice"
	in := []longmemory.MemoryRecord{
		record(a, "/facts/alice", "facts", "home city", "The user lives in Porto."),
		record(a, "/facts/alice", "facts", "pet", "The user has a dog named Rex."),
		record(a, "/summaries/alice/s1", "summaries", "session summary", "The user asked about loans."),
	}
	in[1].Created = t0.Add(time.Second)
	in[1].Expires = t0.Add(30 * 24 * time.Hour)
	in[2].Created = t0.Add(2 * time.Second)
	stored, err := b.CreateRecords(ctx, a, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 3 {
		t.Fatalf("CreateRecords returned %d records", len(stored))
	}
	for i, r := range stored {
		if r.ID == "" || r.Text != in[i].Text || r.Namespace != in[i].Namespace {
			t.Fatalf("stored[%d] = %+v", i, r)
		}
	}
	got, err := b.GetRecord(ctx, a, stored[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Actor != a || got.Topic != "pet" || got.Strategy != "facts" || !got.Created.Equal(in[1].Created) || !got.Updated.Equal(t0) ||
		len(got.Sources) != 1 || got.Sources[0] != in[1].Sources[0] || len(got.History) == 0 || got.History[len(got.History)-1].Action != longmemory.Created {
		t.Fatalf("GetRecord = %+v", got)
	}
	if got.Expires.IsZero() || got.Expires.Before(in[1].Expires.Add(-24*time.Hour)) || got.Expires.After(in[1].Expires.Add(24*time.Hour)) {
		t.Fatalf("expiry %v, want about %v", got.Expires, in[1].Expires)
	}
	facts, err := b.ListRecords(ctx, a, longmemory.RecordFilter{Namespace: "/facts/alice"})
	if err != nil || !slices.Equal(texts(facts), []string{in[0].Text, in[1].Text}) {
		t.Fatalf("list facts = %v, %v", texts(facts), err)
	}
	all, err := b.ListRecords(ctx, a, longmemory.RecordFilter{Namespace: "/summaries/alice/", Prefix: true})
	if err != nil || !slices.Equal(texts(all), []string{in[2].Text}) {
		t.Fatalf("list summaries by prefix = %v, %v", texts(all), err)
	}
	if l, err := b.ListRecords(ctx, a, longmemory.RecordFilter{Namespace: "/facts/alice", Strategy: "other"}); err != nil || len(l) != 0 {
		t.Fatalf("strategy filter = %v, %v", texts(l), err)
	}
	// Update.
	upd := got
	upd.Text = "The user has a cat named Tom."
	upd.Updated = t0.Add(time.Hour)
	upd.Sources = append(upd.Sources, longmemory.EventRef{SessionID: "s2", EventID: "1775048400000#01020304"})
	upd.History = append(upd.History, longmemory.Change{At: upd.Updated, Action: longmemory.Updated, Previous: got.Text, Events: upd.Sources[1:]})
	if err := b.UpdateRecords(ctx, a, []longmemory.MemoryRecord{upd}); err != nil {
		t.Fatal(err)
	}
	got, err = b.GetRecord(ctx, a, upd.ID)
	if err != nil || got.Text != upd.Text || !got.Updated.Equal(upd.Updated) || len(got.Sources) != 2 ||
		got.History[len(got.History)-1].Action != longmemory.Updated || got.History[len(got.History)-1].Previous != "The user has a dog named Rex." {
		t.Fatalf("after update %+v, %v", got, err)
	}
	// Updating an unknown record fails and creates nothing.
	ghost := upd
	ghost.ID = "mem-000000000000000000000000000000000000"
	if err := b.UpdateRecords(ctx, a, []longmemory.MemoryRecord{ghost}); !errors.Is(err, longmemory.ErrRecordNotFound) {
		t.Fatalf("update of an unknown record: %v", err)
	}
	if _, err := b.GetRecord(ctx, a, ghost.ID); !errors.Is(err, longmemory.ErrRecordNotFound) || !errors.Is(err, bedrockkit.ErrNotFound) {
		t.Fatalf("get of an unknown record: %v", err)
	}
	// Delete.
	n, err := b.DeleteRecords(ctx, a, []string{stored[0].ID, ghost.ID})
	if err != nil || n != 1 {
		t.Fatalf("DeleteRecords = %d, %v", n, err)
	}
	if facts, _ := b.ListRecords(ctx, a, longmemory.RecordFilter{Namespace: "/facts/alice"}); !slices.Equal(texts(facts), []string{upd.Text}) {
		t.Fatalf("after delete %v", texts(facts))
	}
}

func testSearch(t *testing.T, b longmemory.Backend) {
	ctx := context.Background()
	a := "bob"
	var in []longmemory.MemoryRecord
	for _, s := range []string{
		"The user lives in Porto, Portugal.",
		"The user prefers replies in French.",
		"The user has two children, Ana and Rui.",
		"The user works as a nurse at the city hospital.",
		"The user is saving for a house deposit.",
		"The user is allergic to peanuts.",
	} {
		in = append(in, record(a, "/facts/bob", "facts", "", s))
	}
	if _, err := b.CreateRecords(ctx, a, in); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{
		"which language should replies be in, French?": "The user prefers replies in French.",
		"is the user saving for a house":               "The user is saving for a house deposit.",
		"peanuts allergy":                              "The user is allergic to peanuts.",
		"where does the user work, which hospital":     "The user works as a nurse at the city hospital.",
	} {
		res, err := b.SearchRecords(ctx, a, longmemory.RecordQuery{RecordFilter: longmemory.RecordFilter{Namespace: "/facts/bob"}, Text: q, K: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(res) == 0 || len(res) > 3 || res[0].Text != want {
			t.Errorf("search %q = %q; want %q first", q, texts(res), want)
		}
		for i := 1; i < len(res); i++ {
			if res[i].Score > res[i-1].Score {
				t.Errorf("search %q: scores not descending: %v", q, res)
			}
		}
	}
	res, err := b.SearchRecords(ctx, a, longmemory.RecordQuery{RecordFilter: longmemory.RecordFilter{Namespace: "/preferences/bob"}, Text: "French", K: 5})
	if err != nil || len(res) != 0 {
		t.Fatalf("search of an empty namespace = %v, %v", texts(res), err)
	}
}

func testEvents(t *testing.T, b longmemory.Backend) {
	ctx := context.Background()
	a := "carol"
	var refs []longmemory.EventRef
	for i := range 3 {
		ev := longmemory.ConversationEvent{SessionID: "s1", At: t0.Add(time.Duration(i) * time.Minute), Messages: []longmemory.EventMessage{
			{Role: longmemory.RoleUser, Text: fmt.Sprintf("message %d", i)}, {Role: longmemory.RoleAssistant, Text: "ok"}}}
		ref, err := b.AppendEvent(ctx, a, ev)
		if err != nil {
			t.Fatal(err)
		}
		if ref.SessionID != "s1" || ref.EventID == "" || slices.Contains(refs, ref) {
			t.Fatalf("ref %+v", ref)
		}
		refs = append(refs, ref)
	}
	if _, err := b.AppendEvent(ctx, a, longmemory.ConversationEvent{SessionID: "s2", At: t0, Messages: []longmemory.EventMessage{{Role: longmemory.RoleUser, Text: "other"}}}); err != nil {
		t.Fatal(err)
	}
	evs, err := b.ListEvents(ctx, a, "s1")
	if err != nil || len(evs) != 3 {
		t.Fatalf("ListEvents = %+v, %v", evs, err)
	}
	for i, ev := range evs {
		if ev.Ref != refs[i] || !ev.At.Equal(t0.Add(time.Duration(i)*time.Minute)) || len(ev.Messages) != 2 ||
			ev.Messages[0] != (longmemory.EventMessage{Role: longmemory.RoleUser, Text: fmt.Sprintf("message %d", i)}) {
			t.Fatalf("event %d = %+v", i, ev)
		}
	}
}

func testDeleteActor(t *testing.T, b longmemory.Backend) {
	ctx := context.Background()
	for _, a := range []string{"dave", "dave-2", "erin"} {
		if _, err := b.CreateRecords(ctx, a, []longmemory.MemoryRecord{record(a, "/facts/"+a, "facts", "", "secret of "+a),
			record(a, "/summaries/"+a+"/s1", "summaries", "", "summary of "+a)}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.AppendEvent(ctx, a, longmemory.ConversationEvent{SessionID: "s1", At: t0, Messages: []longmemory.EventMessage{{Role: longmemory.RoleUser, Text: "hi from " + a}}}); err != nil {
			t.Fatal(err)
		}
	}
	e, err := b.DeleteActor(ctx, "dave")
	if err != nil {
		t.Fatal(err)
	}
	if e.Records != 2 || e.Events != 1 {
		t.Fatalf("erasure %+v; want 2 records and 1 event", e)
	}
	if l, err := b.ListRecords(ctx, "dave", longmemory.RecordFilter{Namespace: "/facts/dave"}); err != nil || len(l) != 0 {
		t.Fatalf("dave's facts after DeleteActor: %v, %v", texts(l), err)
	}
	if l, err := b.ListRecords(ctx, "dave", longmemory.RecordFilter{Namespace: "/summaries/dave/", Prefix: true}); err != nil || len(l) != 0 {
		t.Fatalf("dave's summaries after DeleteActor: %v, %v", texts(l), err)
	}
	if evs, err := b.ListEvents(ctx, "dave", "s1"); err != nil || len(evs) != 0 {
		t.Fatalf("dave's events after DeleteActor: %+v, %v", evs, err)
	}
	for _, a := range []string{"dave-2", "erin"} {
		l, err := b.ListRecords(ctx, a, longmemory.RecordFilter{Namespace: "/facts/" + a})
		evs, err2 := b.ListEvents(ctx, a, "s1")
		if err != nil || err2 != nil || len(l) != 1 || len(evs) != 1 {
			t.Fatalf("deleting dave touched %s: %v %+v %v %v", a, texts(l), evs, err, err2)
		}
	}
	if e, err := b.DeleteActor(ctx, "dave"); err != nil || e.Records != 0 || e.Events != 0 {
		t.Fatalf("second DeleteActor = %+v, %v", e, err)
	}
}

func testInvalid(t *testing.T, b longmemory.Backend) {
	ctx := context.Background()
	for name, call := range map[string]func() error{
		"bad actor": func() error {
			_, err := b.CreateRecords(ctx, "a/b", []longmemory.MemoryRecord{record("a/b", "/facts/a/b", "facts", "", "x")})
			return err
		},
		"foreign namespace": func() error {
			_, err := b.CreateRecords(ctx, "frank", []longmemory.MemoryRecord{record("frank", "/facts/grace", "facts", "", "x")})
			return err
		},
		"foreign actor field": func() error {
			_, err := b.CreateRecords(ctx, "frank", []longmemory.MemoryRecord{record("grace", "/facts/frank", "facts", "", "x")})
			return err
		},
		"empty text": func() error {
			_, err := b.CreateRecords(ctx, "frank", []longmemory.MemoryRecord{record("frank", "/facts/frank", "facts", "", " ")})
			return err
		},
		"search another's namespace": func() error {
			_, err := b.SearchRecords(ctx, "frank", longmemory.RecordQuery{RecordFilter: longmemory.RecordFilter{Namespace: "/facts/grace"}, Text: "x", K: 1})
			return err
		},
		"prefix without slash": func() error {
			_, err := b.ListRecords(ctx, "frank", longmemory.RecordFilter{Namespace: "/facts/frank", Prefix: true})
			return err
		},
		"K": func() error {
			_, err := b.SearchRecords(ctx, "frank", longmemory.RecordQuery{RecordFilter: longmemory.RecordFilter{Namespace: "/facts/frank"}, Text: "x", K: 101})
			return err
		},
		"event role": func() error {
			_, err := b.AppendEvent(ctx, "frank", longmemory.ConversationEvent{SessionID: "s", At: t0, Messages: []longmemory.EventMessage{{Role: "ROOT", Text: "x"}}})
			return err
		},
		"event session": func() error {
			_, err := b.AppendEvent(ctx, "frank", longmemory.ConversationEvent{SessionID: "../s", At: t0, Messages: []longmemory.EventMessage{{Role: longmemory.RoleUser, Text: "x"}}})
			return err
		},
	} {
		if err := call(); !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Errorf("%s: %v; want an error wrapping bedrockkit.ErrInvalidInput", name, err)
		}
	}
}

// Isolation checks, as a property over random actors and namespaces
// (seeded), that no actor reads or influences another's records or events:
// each actor writes records and events holding its own marker words; then
// random reads (search, list, get by any actor's record IDs, events of any
// session), writes (update and delete by other actors' IDs) and deletions
// of whole actors must only ever see or touch the caller's own data, and
// every other actor's data must stay exactly as written.
func Isolation(t *testing.T, b longmemory.Backend, seed uint64, actors, ops int) {
	t.Helper()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(seed, 19))
	// Actor IDs that are prefixes of one another, with ':' segments and
	// namespaces that mention other actors' IDs as literals.
	pool := []string{"u", "u1", "u-1", "u:1", "u1:x", "facts", "summaries", "acme:u", "acme:u1", "U1"}
	r.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	for len(pool) < actors {
		pool = append(pool, fmt.Sprintf("actor-%d", r.IntN(1e6)))
	}
	pool = pool[:actors]
	type owned struct {
		recs map[string]longmemory.MemoryRecord // by ID
		nss  []string
	}
	state := map[string]*owned{}
	marker := func(a string) string { return "marker" + strings.NewReplacer(":", "c", "-", "d").Replace(a) + "x" }
	for _, a := range pool {
		o := &owned{recs: map[string]longmemory.MemoryRecord{}}
		o.nss = []string{"/facts/" + a, "/summaries/" + a + "/s" + fmt.Sprint(r.IntN(3)), "/custom/" + pool[r.IntN(len(pool))] + "/" + a}
		var in []longmemory.MemoryRecord
		for i := range 2 + r.IntN(4) {
			ns := o.nss[r.IntN(len(o.nss))]
			in = append(in, record(a, ns, "facts", fmt.Sprint("t", i), fmt.Sprintf("%s note %d about money and home", marker(a), i)))
		}
		stored, err := b.CreateRecords(ctx, a, in)
		if err != nil {
			t.Fatalf("create for %s: %v", a, err)
		}
		for _, s := range stored {
			o.recs[s.ID] = s
		}
		if _, err := b.AppendEvent(ctx, a, longmemory.ConversationEvent{SessionID: "s0", At: t0, Messages: []longmemory.EventMessage{{Role: longmemory.RoleUser, Text: marker(a) + " said hi"}}}); err != nil {
			t.Fatal(err)
		}
		state[a] = o
	}
	var allIDs []string
	for _, o := range state {
		for id := range o.recs {
			allIDs = append(allIDs, id)
		}
	}
	slices.Sort(allIDs)
	deleted := map[string]bool{}
	check := func(caller string, recs []longmemory.MemoryRecord, what string) {
		t.Helper()
		for _, rec := range recs {
			if _, mine := state[caller].recs[rec.ID]; !mine || rec.Actor != caller || !strings.Contains(rec.Text, marker(caller)) {
				t.Fatalf("%s: actor %q saw %+v", what, caller, rec)
			}
		}
	}
	for op := range ops {
		caller := pool[r.IntN(len(pool))]
		other := pool[r.IntN(len(pool))]
		o := state[caller]
		switch r.IntN(6) {
		case 0: // search own namespaces for another's marker
			ns := o.nss[r.IntN(len(o.nss))]
			res, err := b.SearchRecords(ctx, caller, longmemory.RecordQuery{RecordFilter: longmemory.RecordFilter{Namespace: ns}, Text: marker(other) + " money home", K: 10})
			if err != nil {
				t.Fatalf("op %d search: %v", op, err)
			}
			check(caller, res, "search")
		case 1: // list by every prefix of an own namespace
			ns := o.nss[r.IntN(len(o.nss))]
			if i := strings.LastIndex(ns, "/"); i > 0 && slices.Contains(strings.Split(ns[:i], "/"), caller) {
				res, err := b.ListRecords(ctx, caller, longmemory.RecordFilter{Namespace: ns[:i+1], Prefix: true})
				if err != nil {
					t.Fatalf("op %d list prefix: %v", op, err)
				}
				check(caller, res, "list by prefix")
			}
			res, err := b.ListRecords(ctx, caller, longmemory.RecordFilter{Namespace: ns})
			if err != nil {
				t.Fatalf("op %d list: %v", op, err)
			}
			check(caller, res, "list")
		case 2: // get any record ID
			id := allIDs[r.IntN(len(allIDs))]
			rec, err := b.GetRecord(ctx, caller, id)
			_, mine := o.recs[id]
			switch {
			case mine && !deleted[caller]:
				if err != nil {
					t.Fatalf("op %d: %s cannot read its own record: %v", op, caller, err)
				}
				check(caller, []longmemory.MemoryRecord{rec}, "get")
			case !errors.Is(err, longmemory.ErrRecordNotFound):
				t.Fatalf("op %d: %s got record %s of another actor: %+v, %v", op, caller, id, rec, err)
			}
		case 3: // update another's record through the caller's own namespace
			id := allIDs[r.IntN(len(allIDs))]
			if _, mine := o.recs[id]; mine {
				continue
			}
			forged := record(caller, o.nss[0], "facts", "x", "forged by "+caller)
			forged.ID = id
			if err := b.UpdateRecords(ctx, caller, []longmemory.MemoryRecord{forged}); !errors.Is(err, longmemory.ErrRecordNotFound) {
				t.Fatalf("op %d: %s updated record %s of another actor: %v", op, caller, id, err)
			}
		case 4: // delete another's records
			var theirs []string
			for id := range state[other].recs {
				theirs = append(theirs, id)
			}
			if other == caller {
				continue
			}
			if n, err := b.DeleteRecords(ctx, caller, theirs); err != nil || n != 0 {
				t.Fatalf("op %d: %s deleted %d records of %s (%v)", op, caller, n, other, err)
			}
		case 5: // events of the other's session
			evs, err := b.ListEvents(ctx, caller, "s0")
			if err != nil {
				t.Fatalf("op %d events: %v", op, err)
			}
			for _, ev := range evs {
				if !strings.Contains(ev.Messages[0].Text, marker(caller)) {
					t.Fatalf("op %d: %s saw event %+v", op, caller, ev)
				}
			}
		}
		if op == ops/2 { // forget one actor half-way
			victim := pool[r.IntN(len(pool))]
			if _, err := b.DeleteActor(ctx, victim); err != nil {
				t.Fatal(err)
			}
			deleted[victim] = true
			state[victim].recs = map[string]longmemory.MemoryRecord{}
		}
	}
	// Every other actor's data is exactly as written.
	for a, o := range state {
		for id, want := range o.recs {
			got, err := b.GetRecord(ctx, a, id)
			if err != nil || got.Text != want.Text || got.Namespace != want.Namespace || got.Actor != a {
				t.Fatalf("record %s of %s changed: %+v, %v (want %+v)", id, a, got, err, want)
			}
		}
		evs, err := b.ListEvents(ctx, a, "s0")
		if want := 1; deleted[a] {
			want = 0
			if err != nil || len(evs) != want {
				t.Fatalf("events of deleted %s: %+v, %v", a, evs, err)
			}
		} else if err != nil || len(evs) != want {
			t.Fatalf("events of %s: %+v, %v", a, evs, err)
		}
	}
}
