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
// ApplyGuardrail response (Result: action, outputs, assessments). Local
// evaluates a policy in-process:
//
//   - PII: validated patterns (Luhn, IBAN mod-97, SSN/ITIN rules, ABA routing
//     checksum, VIN check digit, NHS mod-11, net/netip addresses), context
//     words, and gazetteer-plus-shape heuristics for names and addresses
//     (street first or house number first, military PSC/APO/FPO, "the
//     corner of", blocks over several lines; capitalised runs that name a
//     company, law or body are no person);
//     anonymized entities are masked with tags such as {EMAIL}. A number is
//     read however it is written: digits of any script (Arabic-Indic,
//     Devanagari, ...), any dash (en dash, U+2011, minus), dots, slashes,
//     underscores or spaces between groups or between every digit, several
//     numbers in one run. Addresses may hold letters of any script. When the
//     same characters fit several enabled types (a phone-shaped number that
//     passes the SSN rules), the strictest action among them applies and the
//     finding names that type.
//   - Word filters: one Aho-Corasick automaton over normalised text.
//   - Every match runs on normalised text (NFKC, digits of every script and
//     dashes folded, look-alike letters from Unicode TR39 folded, zero-width
//     and bidi characters removed, leetspeak and s.p.a.c.e.d words folded)
//     whose positions map back to the original, so masks land on the
//     original characters.
//   - Bounded time: every detector is linear in the length of the text, and
//     Assess returns the context's error promptly when it is cancelled or
//     its deadline passes (the PII scanners poll it as they go, the other
//     stages between passes).
//   - PROMPT_ATTACK and HATE: logistic regression over hashed word and
//     character n-grams, trained by `go generate ./guardrail/internal/classify`
//     from the project's shared data (and everyday requests, so ordinary
//     questions are not flagged), with the penalty chosen and the per-strength
//     thresholds set by template-grouped cross-validation.
//   - HATE requires both a named protected group and derogation of it. The
//     model reads the text with group names removed plus what is said about
//     whom: praise and demeaning with negation scope (before and after the
//     word: "not worthy of respect", "contribute nothing"; rhetorical
//     questions are no negation), in the sentence that names the group or
//     takes it up with they/them, reported speech and its condemnation
//     (counter speech quoting or reporting hate), threats, swearing at a
//     group, slurs and the speaker's own (reclaimed) slur. Misspelt and
//     run-together words ("thraet", "manybitches") are read as the words
//     they stand for unless they are English words of their own. So a
//     neutral or positive mention of a group is no evidence, negated praise
//     is, and text naming no group is damped below every threshold.
//   - PROMPT_ATTACK: the model also reads character n-grams across word
//     boundaries and the moves attacks make (persona, override, task
//     switch, dictated output, talk of instructions), in several languages.
//     Rules catch instruction overrides and their paraphrases, role-play
//     jailbreaks and encoded payloads (base64, hex, ROT13 are decoded and
//     checked again; the ROT13 view only when the text holds the ROT13 form
//     of an attack trigger word, so plain text is folded once), and attacks
//     written backwards (by character or by word), spelled out a letter at a
//     time or run together in camel case. Optimised adversarial suffixes
//     (GCG-style token soup) are found without a neural model: the tail of
//     each line is scored by the likelihood ratio of a character model of
//     token soup to one of ordinary text (prose, code, many languages);
//     soup alone blocks from a high score, after a harmful request from a
//     lower one. Harmful requests wrapped in a persuasive framing (a role or
//     fiction, a justification, a demand for detail, pressure such as
//     "begin your reply with 'Sure, here is'"), all close together, are
//     attacks; ordinary role-play is not. INSULTS, SEXUAL, VIOLENCE and
//     MISCONDUCT use weighted lexicons. Strength maps to a probability
//     threshold. Figures: docs/guardrail-quality.md.
//   - Denied topics: similarity to the topic's definition and examples
//     through an optional bedrockkit.Embedder, plus keyword evidence.
//   - Contextual grounding: sentence-level lexical support of the response by
//     the grounding source and of the query by the response, optionally
//     averaged with a model judge.
//
// Remote calls Amazon Bedrock's ApplyGuardrail for a guardrail created in
// AWS (through any *bedrockruntime.Client), maps its answer onto the same
// Result, locates the matches of anonymized findings in the text so streams
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
// bedrockkit.ErrGuardrailBlocked instead.
package guardrail
