// Package agentotel exports agent runs as OpenTelemetry spans following the
// GenAI semantic conventions: one "invoke_agent {name}" span per run, with a
// "chat {model}" child per model call (token usage, finish reasons) and an
// "execute_tool {tool}" child per tool call (call ID, duration, error type;
// arguments and results only when Options.RecordContent is set, as the
// conventions make content opt-in; whether the Authorizer allowed the call,
// and by which policies). Guardrail interventions, tool authorizations,
// long-term memory recalls and hand-offs (counts, record IDs and errors,
// never the remembered text), summarisation and pauses are span events on
// the run span.
//
// It lives apart from package agent so that agents without tracing do not
// import OpenTelemetry.
package agentotel
