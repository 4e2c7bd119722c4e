package agentcorememory_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent/longmemory"
	"github.com/bedrockkit/bedrockkit/agent/longmemory/agentcorememory"
	"github.com/bedrockkit/bedrockkit/agent/longmemory/longmemorytest"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newBackend(t *testing.T) (*bedrockkittest.FakeMemory, string, *agentcorememory.Backend) {
	f := bedrockkittest.NewFakeMemory(t)
	id := f.AddMemory("support")
	return f, id, agentcorememory.New(f.Client(), id, agentcorememory.Options{})
}

func TestConformance(t *testing.T) {
	longmemorytest.Run(t, func(t *testing.T) longmemory.Backend {
		_, _, b := newBackend(t)
		return b
	})
}

func TestIsolationProperty(t *testing.T) {
	for seed := range uint64(8) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			_, _, b := newBackend(t)
			longmemorytest.Isolation(t, b, seed, 8, 60)
		})
	}
}

// TestScenarioRemotely runs the returning-customer scenario through the
// real SDK client against the fake AgentCore Memory, and checks that the
// service holds nothing of the customer afterwards.
func TestScenarioRemotely(t *testing.T) {
	f, mem, b := newBackend(t)
	actor, e := longmemorytest.Scenario(t, b, longmemorytest.ScenarioOptions{SetNow: f.SetNow, LastChangeOnly: true})
	if e.Compacted || e.Residue == "" {
		t.Fatalf("erasure %+v", e)
	}
	for _, ev := range f.Events(mem) {
		if ev.ActorID == actor {
			t.Fatalf("event left: %+v", ev)
		}
	}
	for _, r := range f.Records(mem) {
		if strings.Contains(strings.Join(r.Namespaces, " "), actor) || fmt.Sprint(r.Metadata["actorId"]) == actor {
			t.Fatalf("record left: %+v", r)
		}
	}
	if f.Calls("CreateEvent") != 6 || f.Calls("RetrieveMemoryRecords") == 0 || f.Calls("BatchUpdateMemoryRecords") == 0 {
		t.Fatalf("calls: CreateEvent %d, Retrieve %d, BatchUpdate %d", f.Calls("CreateEvent"), f.Calls("RetrieveMemoryRecords"), f.Calls("BatchUpdateMemoryRecords"))
	}
}

// TestProvenanceInMetadata: what the backend writes is what AgentCore
// allows (at most 5 sources, strings of at most 256 characters), and the
// latest change reads back.
func TestProvenanceInMetadata(t *testing.T) {
	f, mem, b := newBackend(t)
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := longmemory.MemoryRecord{Actor: "a1", Namespace: "/facts/a1", Strategy: "facts", Topic: "city", Text: "The user lives in Porto.",
		Created: now, Updated: now, Expires: now.Add(90 * 24 * time.Hour),
		History: []longmemory.Change{{At: now, Action: longmemory.Updated, Previous: strings.Repeat("é", 400), Reason: "moved"}}}
	for i := range 9 {
		r.Sources = append(r.Sources, longmemory.EventRef{SessionID: fmt.Sprint("s", i), EventID: fmt.Sprintf("%d#ab", i)})
	}
	out, err := b.CreateRecords(ctx, "a1", []longmemory.MemoryRecord{r})
	if err != nil {
		t.Fatal(err)
	}
	raw := f.Records(mem)[0]
	if l := raw.Metadata["sources"].([]string); len(l) != 5 || l[4] != "s8/8#ab" {
		t.Fatalf("sources metadata %v", l)
	}
	if raw.ExpiresAt.IsZero() {
		t.Fatal("no expiry sent")
	}
	got, err := b.GetRecord(ctx, "a1", out[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.History) != 1 || got.History[0].Action != longmemory.Updated || len([]rune(got.History[0].Previous)) != 256 || got.History[0].Reason != "moved" ||
		len(got.Sources) != 5 || !got.Expires.Equal(r.Expires) || got.Topic != "city" || !got.Created.Equal(now) {
		t.Fatalf("read back %+v", got)
	}
}

// TestRecordsOfTheServicesOwnStrategies: records the memory's strategies
// made (no actorId metadata) belong to the actor named in their namespace.
func TestRecordsOfTheServicesOwnStrategies(t *testing.T) {
	f := bedrockkittest.NewFakeMemory(t)
	mem := f.AddMemory("m")
	f.SetExtractor(func(ev bedrockkittest.MemoryEvent) []bedrockkittest.MemoryRecordData {
		return []bedrockkittest.MemoryRecordData{{Text: "The user likes jazz.", StrategyID: "prefs", Namespaces: []string{"/strategies/prefs/actors/" + ev.ActorID}}}
	})
	b := agentcorememory.New(f.Client(), mem, agentcorememory.Options{ServiceExtraction: true})
	ctx := context.Background()
	for _, a := range []string{"amy", "ben"} {
		if _, err := b.AppendEvent(ctx, a, longmemory.ConversationEvent{SessionID: "s1", At: time.Now(), Messages: []longmemory.EventMessage{{Role: longmemory.RoleUser, Text: "I like jazz"}}}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := b.SearchRecords(ctx, "amy", longmemory.RecordQuery{RecordFilter: longmemory.RecordFilter{Namespace: "/strategies/prefs/actors/amy"}, Text: "music", K: 5})
	if err != nil || len(res) != 1 || res[0].Actor != "amy" {
		t.Fatalf("search %+v %v", res, err)
	}
	if _, err := b.GetRecord(ctx, "ben", res[0].ID); !errors.Is(err, longmemory.ErrRecordNotFound) {
		t.Fatalf("ben read amy's service-made record: %v", err)
	}
	e, err := b.DeleteActor(ctx, "amy")
	if err != nil || e.Records != 1 || e.Events != 1 {
		t.Fatalf("erasure %+v %v", e, err)
	}
	if n := len(f.Records(mem)); n != 1 {
		t.Fatalf("%d records left; want ben's", n)
	}
}

// TestServiceErrorsAreClassified: throttling is retryable for the Keeper,
// validation is not.
func TestServiceErrorsAreClassified(t *testing.T) {
	f, _, b := newBackend(t)
	ctx := context.Background()
	f.FailNext("RetrieveMemoryRecords", bedrockkittest.Fault{Code: "ThrottledException"})
	_, err := b.SearchRecords(ctx, "a1", longmemory.RecordQuery{RecordFilter: longmemory.RecordFilter{Namespace: "/facts/a1"}, Text: "x", K: 1})
	if !errors.Is(err, bedrockkit.ErrThrottled) || !bedrockkit.IsRetryable(err) {
		t.Fatalf("throttle: %v", err)
	}
	f.FailNext("CreateEvent", bedrockkittest.Fault{Code: "ValidationException", Message: "bad"})
	_, err = b.AppendEvent(ctx, "a1", longmemory.ConversationEvent{SessionID: "s", At: time.Now(), Messages: []longmemory.EventMessage{{Role: longmemory.RoleUser, Text: "x"}}})
	if !errors.Is(err, bedrockkit.ErrValidation) || bedrockkit.IsRetryable(err) {
		t.Fatalf("validation: %v", err)
	}
}
