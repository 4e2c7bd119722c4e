// Package agentcore runs the code interpreter remotely, in Amazon Bedrock
// AgentCore Code Interpreter: New returns a codeinterp.Interpreter whose
// sandboxes are AgentCore sessions (Python by default; JavaScript and
// TypeScript too), so an agent's tool works the same with the local
// JavaScript sandbox or with AWS's.
//
// It lives apart from package codeinterp so that the local interpreter does
// not pull in the AWS SDK. bedrockkittest.FakeCodeInterpreter serves the
// same wire protocol in-process for tests.
package agentcore
