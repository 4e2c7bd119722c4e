// Package openapitools turns the operations of an OpenAPI 3.0 or 3.1
// description into agent tools (Bedrock Agents' API-schema action groups,
// AgentCore Gateway's OpenAPI targets).
//
// Parse reads the document (JSON or YAML, with github.com/getkin/kin-openapi)
// and resolves its internal references; references to other files or
// URLs are refused. Document.Tools makes one tool per operation, named by
// its operationId: the arguments are the operation's parameters, by name,
// and its request body as "body", with the schemas converted to JSON
// Schema 2020-12 (references inlined, or shared in $defs when inlining
// would be too large; formats, enums and bounds kept; OpenAPI 3.0's
// nullable as a null type; readOnly properties left out of requests).
// Header parameters named Accept, Content-Type and Authorization are not
// offered to the model: the client sets them, and credentials come from
// Options.Auth (agent/credentials), resolved per call, never from the
// model.
//
// A call validates the arguments against that schema, fills the path
// (each value escaped within its segment; "." and ".." refused), the
// query (form, spaceDelimited, pipeDelimited and deepObject styles),
// headers and cookies, encodes the body as JSON, form-urlencoded or text,
// and sends it with a timeout. The response is read up to a size limit;
// a JSON object becomes a JSON part, other bodies text, and an HTTP error
// an error result with the status and an excerpt of the body, so the
// model can correct itself. Errors never include the request URL, whose
// query may hold a credential.
//
// The Report of Tools lists the operations converted and those left out
// with the reason (a required body in a media type that cannot be sent,
// such as multipart/form-data; a schema over Options.MaxSchemaBytes).
// Options.Invoke replaces HTTP with a function (agent/lambdatools sends
// Bedrock Agents' Lambda events through it).
package openapitools
