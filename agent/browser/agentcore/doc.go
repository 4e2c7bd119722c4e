// Package agentcore runs the browser tools in Amazon Bedrock AgentCore
// Browser: a browser.Backend whose sessions are AgentCore browser
// sessions (StartBrowserSession, the SigV4-signed CDP automation stream,
// StopBrowserSession), driven by exactly the same code as a local
// Chromium — the tools, the origin allow-list, the untrusted-content
// envelope and the limits all come from package browser.
//
//	client := bedrockagentcore.NewFromConfig(cfg)
//	pool := browser.NewPool(agentcore.New(client, agentcore.Options{}), browser.Options{
//		AllowedOrigins: []string{"https://www.example-bank.com"},
//	})
//	defer pool.Close(ctx)
//	a.Tools = append(a.Tools, pool.Tools()...)
//
// bedrockkittest.FakeBrowser serves the same API in-process for tests,
// forwarding each session's automation stream to a local Chromium.
package agentcore
