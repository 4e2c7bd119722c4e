// Package gateway serves agent tools as an MCP server over streamable
// HTTP, as Amazon Bedrock AgentCore Gateway turns APIs, Lambda functions
// and other MCP servers into one set of MCP tools.
//
// Any agent.Tool can be served: Go functions (agent.NewFuncTool), OpenAPI
// operations (agent/openapitools), Bedrock Agents action-group Lambdas
// (agent/lambdatools) and tools imported from other MCP servers
// (agent/mcptools). Tools are grouped in Targets and named
// "<target>___<tool>", as AgentCore names them.
//
// Handler puts the MCP endpoint (github.com/modelcontextprotocol/go-sdk)
// behind an inbound authorizer from agent/identity: a JWT authorizer, any
// identity.Authorizer, or identity.Anonymous chosen explicitly. The
// verified caller reaches each call's context, so an Options.Authorizer
// (agent/policy's Cedar engine) decides every call by who is asking, and
// credentials.CallerToken can pass the caller's token to the system
// behind a tool. Each MCP session is bound to the caller that opened it.
// Arguments are validated against the tool's schema before anything else;
// refusals, denials and tool failures are error results (isError) the
// client's model can read, and Options.OnEvent receives the decision and
// the call as agent events.
package gateway
