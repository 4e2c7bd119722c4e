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
// # Metering
//
// A Meter wraps a bedrockkit.Model together with its model ID
// (Meter.Model, or Meter.Middleware for bedrockkit.Chain) and a
// bedrockkit.Embedder (Meter.Embedder). Each call is priced and attributed to
// the tenant, session and tags on its context (WithTenant, WithSession,
// WithTags). Snapshot and Reset read the totals; a Snapshot exports as CSV or
// JSON with exact decimal costs. With MeterConfig.MeterProvider set, the
// meter also reports OpenTelemetry counters of cost (in nano-dollars),
// tokens and calls; they are observed at collection, so metering a call does
// no metric work. Streams are metered from their final Metadata usage; a
// stream that ends without it after producing output (it failed, or the
// caller stopped reading) is metered from an estimate and flagged Estimated.
// Embedders report no usage, so embedding tokens are always estimated.
//
// # Budgets
//
// A Budget limits spending for a tenant (Meter.SetTenantBudget), a session
// (Meter.SetSessionBudget) or a run (NewBudget and WithBudget). Before a
// call reaches the model the meter reserves its worst case on every budget
// that applies: estimated input tokens plus MaxTokens (or
// MeterConfig.DefaultMaxTokens when MaxTokens is 0), all priced at the
// model's highest rate. A call whose reservation does not fit is refused with
// a *BudgetError wrapping bedrockkit.ErrBudgetExceeded, so an agent loop stops
// before the step that would overspend. After the call the reservation is
// settled with the real cost, or released if the call failed without usage.
// Spending can pass a limit only if a call costs more than it reserved, which
// needs the input estimate to be off by more than the ratio of the highest
// rate to the input rate (5x on Claude). BudgetHook offers the same
// reservation as an Allow/Spend pair for loops that call an unmetered model
// (it has the shape of agent.Budget).
//
// # Estimates
//
// An Estimator counts the tokens of a text; EstimateRequest applies it to a
// whole request. The default, EstimateBytes, is the chars/4 rule. Any
// tokenizer's count method fits, for example
// pricing.Estimator(chunk.CL100K().Count), without this package importing it.
package pricing
