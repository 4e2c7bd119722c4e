// Package mcptools imports the tools of a Model Context Protocol server as
// agent tools, using the official MCP Go SDK
// (github.com/modelcontextprotocol/go-sdk). It lives apart from package
// agent so that agents which do not use MCP do not import the SDK.
//
// Connect an mcp.Client over any transport — mcp.CommandTransport for a
// server run as a subprocess over stdio, mcp.StreamableClientTransport for
// streamable HTTP — and pass the session to Tools. Each MCP tool becomes an
// agent tool with the server's input schema: arguments are validated by the
// agent before the call, the call goes through the session, and the result's
// content comes back as text, images or JSON. A result flagged isError is
// shown to the model as an error result.
package mcptools
