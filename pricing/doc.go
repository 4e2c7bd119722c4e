// Package pricing prices Amazon Bedrock usage exactly, meters it per tenant,
// session and tag, and stops spending before a budget is exceeded.
//
// # Catalog and cost
//
// A Catalog is a dated, versioned price table. Default returns the table
// embedded in this package (prices.json): Anthropic Claude, Meta Llama,
// Mistral, Amazon Nova, Titan and Cohere embeddings and guardrail policies,
// each row with input, output, cache read, cache write (5-minute and 1-hour)
// and batch rates where a source gives them, its scope (global endpoint or
// Regions), its source and the source's date. Public sources disagree; each
// row's Note records the disagreement and Derived lists rates computed by a
// stated rule rather than quoted. Load your own table with Load or Parse, or
// replace rows (negotiated prices) with Catalog.Override.
//
// Model IDs resolve through inference-profile prefixes (us., eu., apac.,
// global., ...) and foundation-model or inference-profile ARNs. An unknown
// model is an error wrapping ErrUnknownModel, or is priced by a fallback row
// the caller chose with Catalog.WithFallback; it is never priced at zero.
//
// Amounts are Money, an integer count of nano-dollars, and rates are held as
// nano-dollars per million units, so every rate in the table is exact and
// sums never drift. Cost returns a Bill with a line per token class; each line
// is rounded once, half up, to the nano-dollar, and the total is the sum of
// the lines.
//
//	b, _ := pricing.Cost("anthropic.claude-3-sonnet-20240229-v1:0",
//		bedrockkit.Usage{InputTokens: 5_000_000, OutputTokens: 2_000_000})
//	fmt.Println(b.Input, b.Output, b.Total) // $15.00 $30.00 $45.00
//
// Terms select batch rates and the 1-hour cache-write rate; GuardrailCost
// prices guardrail text units per policy; embedding rows price input tokens.
// Usage in a class a row has no rate for is an error wrapping ErrUnpriced.
// Bedrock caches prompts only for Claude and Nova models, so the Llama and
// Mistral rows are marked NoPromptCaching: cache tokens on them are an error
// wrapping ErrNoPromptCaching (and bedrockkit.ErrUnsupported), which points
// at a usage attributed to the wrong model rather than at a missing price.
//
// # Service tiers, latency and committed capacity
//
// Bedrock serves a call in a service tier (standard, priority, flex,
// reserved) and at a latency (standard or optimized), each with its own
// prices. Rows with ServiceTier or LatencyMode set price those variants;
// Terms.ServiceTier and LatencyMode select them, and the meter prices each
// call by the variant that served it (ServedVariant: the response's tier,
// else the request's, else standard). A variant without a published row is
// an error wrapping ErrUnpriced (VariantUnpricedError), never priced at
// another tier's rates; a budgeted call asking for one is refused as
// unbounded. Calls served by the reserved tier or by a Provisioned
// Throughput ARN (Catalog.WithProvisionedModel) cost nothing per token and
// are marked Committed: their capacity is paid by the hour or month.
//
// # Capacity, knowledge-base and session costs
//
// ProvisionedHourly gives published Provisioned Throughput prices by
// Commitment; PlanCapacity compares a Workload (measured, from
// Snapshot.Workload, or forecast) on demand, as a batch job and on
// provisioned capacity for a month, with savings and break-even, and
// reports options without a published price as unknown with the reason.
// Services holds runtime, storage and request prices (AgentCore Runtime
// vCPU- and GB-hours, AgentCore Gateway requests, OpenSearch Serverless),
// used by RuntimeCost, Meter.SessionCost (a session's model, tool and
// runtime cost) and KnowledgeBaseMonthly (a knowledge base's monthly cost
// on a backend, where a public price exists). EmbeddingCost prices the
// tokens a Sync embedded.
//
// # Metering
//
// A Meter wraps a bedrockkit.Model (Meter.Middleware, priced by the ID the
// model reports, as a ConverseModel does; name another model with
// bedrockkit.WithModelID) and a bedrockkit.Embedder (Meter.Embedder):
//
//	model := bedrockkit.Chain(converse, meter.Middleware())
//
// Each call is priced and attributed to the tenant, session and tags on its
// context (WithTenant, WithSession, WithTags). Snapshot and Reset read the
// totals; a Snapshot exports as CSV or JSON with exact decimal costs.
// Meter.OnCall tells a function about each call; otelkit.NewCostMetrics
// uses it to report OpenTelemetry counters of cost, tokens and calls, so
// this package does not depend on OpenTelemetry. Streams are metered from their final Metadata usage; a
// stream that ends without it after producing output (it failed, or the
// caller stopped reading) is metered from an estimate and flagged Estimated.
// Embedders report no usage, so embedding tokens are always estimated.
//
// # Budgets
//
// A Budget limits spending for a tenant (Meter.SetTenantBudget), a session
// (Meter.SetSessionBudget) or a run (NewBudget and WithBudget). Before a
// call reaches the model the meter reserves, on every budget that applies
// and atomically on each, the most the call can cost: InputTokenBound of the
// request (or MeterOptions.InputCounter's exact count) at the highest rate an
// input token can be billed at (input, cache read, or the cache write the
// request may cause), plus MaxTokens at the output rate. A call whose
// reservation does not fit is refused with a *BudgetError wrapping
// bedrockkit.ErrBudgetExceeded, so an agent loop stops before the step that
// would overspend. After the call the reservation is settled with the real
// cost (a stream settles on its Metadata event, before the caller sees it),
// and the rest is released.
//
// The guarantee: a call that reports its usage never costs more than it
// reserved, so such calls cannot take spending past the limit, however many
// run at once (concurrent calls against a budget of ten calls' cost admit
// at most ten). It rests on a byte-level
// BPE token covering at least one byte (input never has more tokens than
// bytes, whatever it holds; the chars/4 estimate undercounts hex by more
// than half) and on the overheads InputTokenBound documents. What a budget
// cannot see is usage that is never reported:
//
//   - A call that fails without usage (an error from Generate, a stream that
//     fails before its first event, a cancelled call, a panicking model)
//     releases its reservation, although Bedrock may have billed part of it.
//     This is the slack: at most the reservations of the calls in flight
//     that end this way, one call for a sequential agent loop.
//   - A stream that ends without Metadata after producing events (it broke,
//     or its reader stopped early) is charged everything it was seen to cost:
//     its whole input bound and the output received, by size, within its
//     reservation. Tokens the model generated but never delivered are
//     unknown.
//   - An Embedder reports no usage; its budgets are charged the bound (the
//     bytes of the texts plus 8 tokens each), while the meter records the
//     Estimator's estimate.
//
// TokenCounters adapts bedrockkit.TokenCounter values (ConverseModel
// counts with Bedrock's CountTokens) to an InputCounter, by model ID; it
// falls back to the bound where CountTokens cannot count, and a count the
// billed input later passes is reported as a CountMismatchError.
//
// Some calls have no bound and are refused under a budget with an error
// wrapping ErrUnbounded (and bedrockkit.ErrInvalidInput): a request with
// MaxTokens 0 (the model's own default is unknown; set MaxTokens, or
// MeterOptions.DefaultMaxTokens to assert one), and a PDF, Office or S3
// document (a few compressed bytes can hold any amount of text; set
// MeterOptions.Bounds.Document, or count exactly with an InputCounter).
// Calls without a budget are never refused or counted.
//
// Retries inside the wrapped model are one call with one reservation;
// failed attempts are not billed by Bedrock for throttling and availability
// errors. Put a retry middleware inside the meter (after it in
// bedrockkit.Chain) for that, or outside it to reserve per attempt. A
// response cache outside the meter answers hits without reserving; inside
// it, a hit reports zero usage and releases its reservation.
//
// An agent is held to a budget the same way: wrap its Model in the meter's
// middleware and run it with a context that carries the budget; every call
// of the run (summaries and structured-output repairs included) is reserved,
// and the call past the limit ends the run with the partial result.
//
// # Estimates
//
// An Estimator counts the tokens of a text; EstimateRequest applies it to a
// whole request. The default, EstimateBytes, is the chars/4 rule. Any
// tokenizer's count method fits, for example
// pricing.Estimator(chunk.CL100K().Count), without this package importing it.
// The meter uses estimates only for usage a model never reported; budgets
// never reserve by them.
package pricing
