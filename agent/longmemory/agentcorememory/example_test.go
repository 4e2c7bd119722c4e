package agentcorememory_test

import (
	"context"
	"fmt"
	"time"

	"github.com/bedrockkit/bedrockkit/agent/longmemory"
	"github.com/bedrockkit/bedrockkit/agent/longmemory/agentcorememory"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

// Records kept in AgentCore Memory (here the fake, through the real SDK
// client): written for one actor, found by relevance, invisible to others.
func Example() {
	fake := bedrockkittest.StartFakeMemory()
	defer fake.Close()
	memoryID := fake.AddMemory("assistant")
	backend := agentcorememory.New(fake.Client(), memoryID, agentcorememory.Options{})

	ctx := context.Background()
	now := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	_, err := backend.CreateRecords(ctx, "customer-1", []longmemory.MemoryRecord{
		{Actor: "customer-1", Namespace: "/facts/customer-1", Strategy: "facts", Text: "The user lives in Porto.", Created: now, Updated: now},
		{Actor: "customer-1", Namespace: "/facts/customer-1", Strategy: "facts", Text: "The user has a dog named Rex.", Created: now, Updated: now},
	})
	if err != nil {
		panic(err)
	}
	found, err := backend.SearchRecords(ctx, "customer-1", longmemory.RecordQuery{
		RecordFilter: longmemory.RecordFilter{Namespace: "/facts/customer-1"}, Text: "which city the user lives in", K: 1})
	if err != nil {
		panic(err)
	}
	fmt.Println(found[0].Text)
	_, err = backend.GetRecord(ctx, "customer-2", found[0].ID)
	fmt.Println(err != nil)
	// Output:
	// The user lives in Porto.
	// true
}
