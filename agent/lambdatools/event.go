package lambdatools

// The event and response shapes of Bedrock Agents' action-group Lambda
// functions, field by field as AWS documents them in "Configure Lambda
// functions to send information that an Amazon Bedrock agent elicits from
// the user" (https://docs.aws.amazon.com/bedrock/latest/userguide/agents-lambda.html,
// sections "Lambda input event from Amazon Bedrock" and "Lambda response
// event to Amazon Bedrock"), cross-checked with the test events of AWS
// Lambda Powertools (tests/events/bedrockAgentFunctionEvent.json and
// bedrockAgentPostEvent.json). shapes_test.go checks each field.

// Event is the input event Bedrock Agents sends an action group's Lambda
// function. APIPath, HTTPMethod and RequestBody are set for action groups
// defined by an OpenAPI schema; Function for function-details groups.
type Event struct {
	MessageVersion string `json:"messageVersion"` // always "1.0"
	Agent          Agent  `json:"agent"`
	InputText      string `json:"inputText"`
	SessionID      string `json:"sessionId"`
	ActionGroup    string `json:"actionGroup"`
	// API-schema groups.
	APIPath    string `json:"apiPath,omitempty"`
	HTTPMethod string `json:"httpMethod,omitempty"`
	// Function-details groups.
	Function string `json:"function,omitempty"`
	// Parameters are the operation's parameters (path, query, header) or
	// the function's parameters; values are always strings.
	Parameters  []Parameter  `json:"parameters"`
	RequestBody *RequestBody `json:"requestBody,omitempty"`
	// SessionAttributes persist across the session;
	// PromptSessionAttributes hold for the turn.
	SessionAttributes       map[string]string `json:"sessionAttributes"`
	PromptSessionAttributes map[string]string `json:"promptSessionAttributes"`
}

// Agent identifies the agent in an Event.
type Agent struct {
	Name    string `json:"name"`
	ID      string `json:"id"`
	Alias   string `json:"alias"`
	Version string `json:"version"`
}

// Parameter is a name, its declared type and its value as a string.
type Parameter struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Value string `json:"value"`
}

// RequestBody is the body of an API-schema call: by media type, the
// top-level properties as Parameters.
type RequestBody struct {
	Content map[string]BodyContent `json:"content"`
}

// BodyContent lists a body's properties.
type BodyContent struct {
	Properties []Parameter `json:"properties"`
}

// Response is what the Lambda function returns: Response holds the API
// result (APIPath, HTTPMethod, HTTPStatusCode, ResponseBody) or the
// function result (Function, FunctionResponse).
type Response struct {
	MessageVersion              string            `json:"messageVersion"`
	Response                    ResponseDetail    `json:"response"`
	SessionAttributes           map[string]string `json:"sessionAttributes,omitempty"`
	PromptSessionAttributes     map[string]string `json:"promptSessionAttributes,omitempty"`
	KnowledgeBasesConfiguration []map[string]any  `json:"knowledgeBasesConfiguration,omitempty"`
}

// ResponseDetail is the "response" member of a Response.
type ResponseDetail struct {
	ActionGroup string `json:"actionGroup"`
	// API-schema groups.
	APIPath        string                  `json:"apiPath,omitempty"`
	HTTPMethod     string                  `json:"httpMethod,omitempty"`
	HTTPStatusCode int                     `json:"httpStatusCode,omitempty"`
	ResponseBody   map[string]ResponseText `json:"responseBody,omitempty"`
	// Function-details groups.
	Function         string            `json:"function,omitempty"`
	FunctionResponse *FunctionResponse `json:"functionResponse,omitempty"`
}

// FunctionResponse is a function-details group's result. Bedrock accepts
// only the "TEXT" body for it.
type FunctionResponse struct {
	// ResponseState is "", "FAILURE" or "REPROMPT".
	ResponseState string                  `json:"responseState,omitempty"`
	ResponseBody  map[string]ResponseText `json:"responseBody"`
}

// ResponseText is a body string.
type ResponseText struct {
	Body string `json:"body"`
}

// Response states.
const (
	StateFailure  = "FAILURE"
	StateReprompt = "REPROMPT"
)
