// Package lambdatools runs agent tools in AWS Lambda functions written for
// Amazon Bedrock Agents' action groups, unchanged: the tools send the
// action-group input event Bedrock sends (messageVersion "1.0", agent,
// sessionId, actionGroup, apiPath and httpMethod or function, parameters
// with string values, requestBody, sessionAttributes and
// promptSessionAttributes) and read the response event Bedrock reads
// (httpStatusCode and responseBody for API-schema groups; functionResponse
// with its TEXT body and responseState for function-details groups).
//
// FunctionTools makes tools from function definitions (Bedrock's
// FunctionSchema); APITools from the OpenAPI schema of an API-schema group,
// through agent/openapitools. Calls go through aws-sdk-go-v2's Lambda
// client (any Invoker); bedrockkittest.FakeLambda serves the Invoke API
// offline.
//
// The session ID and attributes come from the running call
// (agent.CallInfoFrom). Differences from Bedrock: inputText is empty (a
// tool does not see the user's input), session and prompt attributes the
// function returns are not written back to the session, and a FAILURE or
// REPROMPT responseState becomes an error result the model reads instead
// of ending the invocation.
package lambdatools
