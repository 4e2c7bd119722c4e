// Package a2aserve serves an agent over the Agent2Agent (A2A) protocol
// and lets an agent call a remote A2A agent as a tool, with the official
// Go SDK (github.com/a2aproject/a2a-go, protocol 0.3, the version
// AgentCore Runtime's A2A examples use). The SDK, and the gRPC it brings,
// stay in this leaf package.
//
// New returns the handler AgentCore Runtime expects of an A2A container
// (port 9000): JSON-RPC 2.0 at "/", the public agent card at
// /.well-known/agent-card.json, and GET /ping. Callers are authorized
// like package serve's (agent/identity); each A2A context is a session of
// the agent, kept apart per caller. Return of control crosses A2A as an
// input-required task answered by a data part with decisions.
//
// NewRemoteAgent connects to a remote A2A agent through its card;
// RemoteAgent.Tool makes it a tool of a local agent.
package a2aserve
