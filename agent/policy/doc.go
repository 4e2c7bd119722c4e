// Package policy authorizes every tool call of an agent with Cedar
// policies (github.com/cedar-policy/cedar-go), the way AgentCore Policy
// guards a gateway's tools.
//
// An Engine is an agent.ToolAuthorizer: set it as Agent.Authorizer (or on
// an agent/gateway server) and each call the model makes is decided before
// the tool runs, with
//
//   - principal: the verified caller from the context (agent/identity):
//     AgentCore::OAuthUser::"<subject>" with the token's claims as tags
//     (principal.hasTag("role"), principal.getTag("role")), or
//     AgentCore::Anonymous::"anonymous" when there is no verified caller;
//   - action: AgentCore::Action::"<tool name>", with parents from
//     Options.ActionGroups and "<target>" for gateway names
//     "<target>___<tool>";
//   - resource: what the tool acts on, Type::"<argument value>" for a tool
//     that declares a resource argument in Options.Resources, else
//     AgentCore::Tool::"<tool name>"; Options.Entities supplies resources'
//     attributes (an account's owner);
//   - context: input (the validated arguments; integers are Longs, numbers
//     decimals, objects records, arrays sets), session (the session
//     attributes) and prompt (the prompt attributes).
//
// With a policy set in force the default is deny: a call runs only when a
// permit matches and no forbid does. A forbid that fails to evaluate (for
// example it reads an argument the call left out) denies the call too,
// since it might have matched. A denied call becomes a refusal the model
// can read, and the agent's trace records the decision and the IDs of the
// deciding policies (@id annotations). If the engine cannot build the
// request at all, the agent fails closed and runs nothing.
//
// Load replaces the policies at run time atomically; text that does not
// parse leaves the policies in force unchanged and returns the error.
package policy
