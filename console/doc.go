// Package console is a local developer console: an http.Handler that shows,
// in a browser, what the program's agents did, what its knowledge-base
// queries retrieved, what its guardrails caught and what it all cost.
//
// Create a Console, feed it from the program, and mount it (or Start it on
// 127.0.0.1) while developing:
//
//	c := console.New(console.Options{})
//	ctx = c.Observe(ctx, console.RunInfo{Agent: "support"}) // every agent run made with ctx
//	c.Sync(ctx, "docs", base, src)                      // sync history and query playground
//	c.AddGuardrail("support", guard)                         // paste text, see what each policy finds
//	c.AddMeter("llm", meter)                                 // spend per model, tenant, session and tag
//	c.AddEvalReport(report)                                  // eval.Run's report
//	srv, _ := c.Start("127.0.0.1:0")
//	fmt.Println("console:", srv.URL)
//
// The pages are:
//
//   - Runs and sessions: a timeline of each agent run — every model call
//     with its tokens, latency and cost; every tool call with its
//     arguments, result, duration and error, the tool calls one model
//     answer asked for grouped under it (and marked when they ran in
//     parallel); guardrail interventions; policy decisions (ToolAuthorized);
//     pauses and the runs that resumed them. Each step is expandable and
//     has its own link (#it2-t1 is the first tool call of step 2). Event
//     types this package does not know are shown with their fields.
//   - Knowledge bases: the history of Sync reports with Bedrock's ingestion
//     statistics and failures, the queries made through Console.Retriever,
//     and a query playground that calls Retrieve with a search type, a
//     number of results, a partition and a filter in Bedrock's
//     RetrievalFilter JSON, and shows exactly the results Retrieve returns
//     (scores, chunk text, source location, metadata).
//   - Guardrails: paste a text, pick INPUT or OUTPUT (and optionally a
//     grounding source and query), and see the guardrail's action, each
//     policy's findings and the matched spans highlighted in the text.
//   - Costs: spend per model, tenant, session or tag over time, as SVG
//     charts drawn by this package, from pricing meters (AddMeter) and from
//     the recorded model calls priced with the catalog.
//   - Evaluations: eval.Report metrics, cases, verdicts and cost.
//   - Traces: OpenTelemetry spans from SpanProcessor, for what otelkit and
//     agent/agentotel trace outside agent runs.
//
// Pages are rendered on the server with html/template, charts are SVG laid
// out in Go, and the only script is a small embedded file that follows
// live updates (server-sent events) and opens the step a link points at.
// Nothing is fetched from elsewhere; everything is embedded.
//
// # Safety
//
// The console is off unless the program mounts or starts it. Start listens
// on 127.0.0.1 and refuses other addresses unless Options.AllowRemote and a
// Token are set. Requests whose Host is not a loopback name (or one listed
// in Options.AllowedHosts) are refused, which defeats DNS rebinding. With
// Options.Token every request must carry the token. Forms (the playground
// and the guardrail test) are protected against cross-site request forgery
// by the standard library's CrossOriginProtection and a per-browser token;
// every page is sent with a strict Content-Security-Policy (no inline script
// or style). Every value is escaped by html/template.
//
// Everything shown is redacted first (see Redaction): secrets and common PII
// by default, plus whatever Redaction.Guard — typically the agent's own
// guardrail — would mask. Redaction happens when a page is drawn, so
// recording an event costs only a copy into memory; the raw values never
// leave the process through the console. Memory is bounded: the latest
// MaxRuns runs within MaxBytes of text, MaxEventsPerRun events per run,
// and bounded sync, query, span and cost histories; what is dropped is
// counted on the pages.
package console
