// Package agentcorememory is a longmemory.Backend over Amazon Bedrock
// AgentCore Memory, through aws-sdk-go-v2's bedrockagentcore client: the
// same long-term memory as the embedded backend, kept by the managed
// service, so a team moves between local and managed memory by changing
// one constructor.
//
//	client := bedrockagentcore.NewFromConfig(cfg)
//	keeper := longmemory.New(agentcorememory.New(client, memoryID, agentcorememory.Options{}),
//		longmemory.Options{Model: extractionModel})
//	assistant.LongTerm = keeper
//
// Turns become events (CreateEvent with conversational payloads, per actor
// and session). By default the Keeper extracts and consolidates records
// itself and writes them with BatchCreate/UpdateMemoryRecords (AgentCore's
// self-managed mode; events are created with extractionMode SKIP);
// Options.ServiceExtraction lets the memory's own strategies extract as
// well. Recall uses RetrieveMemoryRecords, the service's relevance search,
// in the strategies' namespaces.
//
// AgentCore records have no actor field: this backend keeps the actor in
// each record's metadata and namespace and checks it on every read, update
// and delete, so one actor never sees or changes another's records by ID.
// Provenance lives in record metadata too, within the service's limits
// (see Backend). bedrockkittest.FakeMemory serves the same wire protocol
// for tests.
package agentcorememory
