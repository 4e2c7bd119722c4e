// Package longmemory is an agent's long-term memory: what it learns about
// each user in one session and brings back in the next, as Amazon Bedrock
// AgentCore Memory does. It is not agent.Memory, which keeps the history
// of one session; long-term memory outlives sessions and belongs to an
// actor (the user), not to a conversation.
//
// The model is AgentCore Memory's. A finished turn is stored as a
// conversation event of the actor and session; strategies read it and ask
// a model for memory records — Facts ("/facts/{actorId}"), Preferences
// ("/preferences/{actorId}"), Summaries (one running summary per session,
// "/summaries/{actorId}/{sessionId}") or your own (NewStrategy, with your
// prompt and output type) — each in its namespace. Extraction uses
// structured output (bedrockkit.GenerateValue), so answers are typed and
// validated, and repaired by the model when they are not.
//
// Consolidation keeps one record per thing remembered. The strategy's model
// is shown the stored records most related to the conversation and may
// update or delete them by ID; on top of that, a candidate with the same
// text as a stored record confirms it, and one with the same topic ("home
// city") updates it. So a repeated fact is confirmed, a refined or
// contradicted one replaced, and nothing piles up. Every record keeps its
// source events and a history of its changes (created, confirmed, updated
// with the previous text), each naming the events that caused it.
//
// A Keeper is the agent.LongTermMemory to set as Agent.LongTerm. On each
// turn the agent calls Recall, which searches the caller's namespaces by
// semantic and keyword relevance and returns the best records within a
// token budget; the agent guards them like retrieved documents and shows
// them to the model as notes, never as instructions. After the turn the
// agent calls Remember, which only queues it: bounded workers store the
// event and run the strategies in the background, retrying failed steps,
// one turn of an actor at a time. Extract does the same on demand; Flush
// waits for the queue; Close ends every goroutine the Keeper started.
//
// Whose memory a run uses comes from the context: the verified caller that
// agent/identity put there (Caller.Namespace is the actor), or an actor the
// application names in code with WithActor when it identifies users itself.
// Nothing a model produced can choose the actor. DeleteActor removes every
// record and event of an actor and drops its queued turns (the right to be
// forgotten).
//
// Storage is a Backend. NewKBBackend keeps memory in any kbstore.Store — the
// embedded kb/localindex by default, kb/chromem, or kb/pgvector when
// several processes share it — with each actor in its own partition (with
// pgvector's row-level security, the database itself keeps actors apart).
// Package agent/longmemory/agentcorememory keeps it in AgentCore Memory
// through aws-sdk-go-v2, so moving between local and managed memory changes
// one constructor.
package longmemory
