// Package credentials gives tools the credentials they call other systems
// with, resolved per call, so that no secret is ever in a tool's
// definition, its arguments, its result, a trace or a log.
//
// A tool declares how it authenticates with an Auth:
//
//   - APIKey: an API key in a header or a query parameter;
//   - OAuth2: an OAuth 2.0 access token as "Authorization: Bearer"
//     (client credentials, or a user's delegated token);
//   - CallerToken: the verified caller's own bearer token, passed through
//     or exchanged for a token of the downstream audience.
//
// The secrets come from a Provider, asked on every call: Local holds API
// keys and OAuth 2.0 client-credentials configurations in the process
// (tokens from golang.org/x/oauth2, cached until they expire); AgentCore
// gets them from Amazon Bedrock AgentCore Identity's token vault
// (GetWorkloadAccessToken*, GetResourceApiKey, GetResourceOauth2Token)
// for the agent's workload identity and the verified caller.
//
// Secrets travel as Secret values, which print, format, marshal and log as
// "[REDACTED]"; only Reveal gives the text, at the moment it goes on the
// wire. Errors name the provider and the failure, never the secret, and
// an Auth never puts a credential where a URL in an error message would
// show it (use a header rather than a query parameter where the API
// allows).
package credentials
