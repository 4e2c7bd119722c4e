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
package pricing
