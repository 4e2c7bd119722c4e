// Package guardrail gives a Go service what Amazon Bedrock Guardrails gives
// a cloud account, in-process.
//
// A Policy has the fields and JSON of Bedrock's CreateGuardrail request
// (content filters with strengths, denied topics, word filters and the
// managed profanity list, the 31 PII entity types with BLOCK / ANONYMIZE /
// NONE, custom regexes, contextual grounding thresholds, blocked messages);
// ParsePolicy and LoadPolicy read and validate it.
//
// A Guard assesses content and answers in the shape of Bedrock's
// ApplyGuardrail response (a Verdict: action, outputs, assessments). Local
// evaluates a policy in-process:
//
//   - PII: the 31 Bedrock entity types, found by validated patterns
//     (checksums such as Luhn and IBAN mod-97), context words and name and
//     address heuristics, however the number is written (digits of any
//     script, any separator); anonymized entities are masked with tags such
//     as {EMAIL}.
//   - Word filters and the managed profanity list.
//   - Content filters: PROMPT_ATTACK and HATE by small embedded
//     classifiers plus rules (encoded, reversed and spelled-out attacks,
//     adversarial token soup, persuasion framings); INSULTS, SEXUAL,
//     VIOLENCE and MISCONDUCT by weighted lexicons. Strength maps to a
//     probability threshold.
//   - Denied topics: similarity to the topic's definition and examples
//     through an optional bedrockkit.Embedder, plus keyword evidence.
//   - Contextual grounding: sentence-level lexical support of the response by
//     the grounding source and of the query by the response, optionally
//     averaged with a model judge.
//
// Every match runs on normalised text (NFKC, look-alike letters, zero-width
// characters and leetspeak folded) whose positions map back to the
// original, so masks land on the original characters. Every detector is
// linear in the length of the text, and Assess returns promptly when its
// context is cancelled. How each detector works and how well it does, with
// the figures and how they were measured: docs/guardrail-quality.md.
//
// Remote calls Amazon Bedrock's ApplyGuardrail for a guardrail created in
// AWS (through any *bedrockruntime.Client), maps its answer onto the same
// Verdict, locates the matches of anonymized findings in the text so streams
// can be masked, and retries throttling like the root adapters. Both runs
// two guards at once (typically Local and Remote): it blocks if either
// blocks and otherwise applies the masks of both.
//
// Middleware wraps any bedrockkit.Model: the last message (text, reasoning
// and tool results) is assessed before the call and blocked input never
// reaches the model; output text, reasoning (extended thinking) and
// tool-call inputs are assessed after (MiddlewareOptions.SkipReasoning and
// SkipTools turn those off explicitly). Streams use a hold-back window (sync
// mode): text and reasoning are assessed in windows of a few HoldBack
// lengths, each once, so guarding costs time linear in the length of the
// stream, no unmasked PII or blocked word is released and where the chunks
// were split never changes the output; or streams release at once and cut
// the stream on a violation (async mode). A blocked call returns, as Bedrock
// does, the blocked message with StopReason guardrail_intervened; with
// MiddlewareOptions.BlockAsError it returns a *BlockedError wrapping
// bedrockkit.ErrGuardrailBlocked instead:
//
//	g, err := guardrail.NewLocal(policy, guardrail.Options{})
//	if err != nil {
//		return err
//	}
//	model := bedrockkit.Chain(converse, guardrail.Middleware(g, guardrail.MiddlewareOptions{}))
package guardrail
