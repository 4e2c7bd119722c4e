package credentials

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent/identity"
)

// IdentityClient is the part of the AgentCore data-plane client
// (*bedrockagentcore.Client) the AgentCore provider uses.
type IdentityClient interface {
	GetWorkloadAccessToken(ctx context.Context, in *bedrockagentcore.GetWorkloadAccessTokenInput, optFns ...func(*bedrockagentcore.Options)) (*bedrockagentcore.GetWorkloadAccessTokenOutput, error)
	GetWorkloadAccessTokenForJWT(ctx context.Context, in *bedrockagentcore.GetWorkloadAccessTokenForJWTInput, optFns ...func(*bedrockagentcore.Options)) (*bedrockagentcore.GetWorkloadAccessTokenForJWTOutput, error)
	GetWorkloadAccessTokenForUserId(ctx context.Context, in *bedrockagentcore.GetWorkloadAccessTokenForUserIdInput, optFns ...func(*bedrockagentcore.Options)) (*bedrockagentcore.GetWorkloadAccessTokenForUserIdOutput, error)
	GetResourceApiKey(ctx context.Context, in *bedrockagentcore.GetResourceApiKeyInput, optFns ...func(*bedrockagentcore.Options)) (*bedrockagentcore.GetResourceApiKeyOutput, error)
	GetResourceOauth2Token(ctx context.Context, in *bedrockagentcore.GetResourceOauth2TokenInput, optFns ...func(*bedrockagentcore.Options)) (*bedrockagentcore.GetResourceOauth2TokenOutput, error)
}

var _ IdentityClient = (*bedrockagentcore.Client)(nil)

// AgentCoreOptions configure an AgentCore provider.
type AgentCoreOptions struct {
	// WorkloadName is the agent's workload identity in AgentCore Identity
	// (3-255 characters of letters, digits, '_', '.' and '-'). Required
	// unless every call's context carries a workload access token
	// (WithWorkloadAccessToken, as an AgentCore Runtime hands one over).
	WorkloadName string
	// ReturnURL is the resourceOauth2ReturnUrl for FlowUser: where the
	// user's browser lands after consenting (registered on the workload
	// identity).
	ReturnURL string
	// UserID, if set, names the user for GetWorkloadAccessTokenForUserId
	// when the call carries a verified caller but not the caller's token.
	// Nil means the caller's Namespace (stable per issuer and subject).
	UserID func(c *identity.Caller) string
}

// AgentCore is a Provider backed by Amazon Bedrock AgentCore Identity's
// token vault. For each call it obtains a workload access token for the
// agent acting for the verified caller (GetWorkloadAccessTokenForJWT with
// the caller's token when KeepCallerToken kept it, else
// GetWorkloadAccessTokenForUserId, else GetWorkloadAccessToken for the
// agent itself; or the one in the context), then the API key
// (GetResourceApiKey) or OAuth 2.0 token (GetResourceOauth2Token) of the
// named credential provider. The vault caches and refreshes tokens.
type AgentCore struct {
	client IdentityClient
	opts   AgentCoreOptions
}

var _ Provider = (*AgentCore)(nil)

// NewAgentCore returns a provider calling client (a *bedrockagentcore.Client;
// bedrockkittest.FakeIdentity serves one offline).
func NewAgentCore(client IdentityClient, opts AgentCoreOptions) *AgentCore {
	return &AgentCore{client: client, opts: opts}
}

type watKey struct{}

// WithWorkloadAccessToken returns a context carrying the workload access
// token an AgentCore Runtime passed to this invocation (its
// WorkloadAccessToken header); the AgentCore provider then uses it
// instead of minting one.
func WithWorkloadAccessToken(ctx context.Context, tok Secret) context.Context {
	return context.WithValue(ctx, watKey{}, tok)
}

// KeepWorkloadAccessToken is HTTP middleware that keeps the
// WorkloadAccessToken header an AgentCore Runtime sends to the agent in
// the context (WithWorkloadAccessToken). Use it only where that header
// can come from the runtime alone.
func KeepWorkloadAccessToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get("WorkloadAccessToken"); v != "" {
			r = r.WithContext(WithWorkloadAccessToken(r.Context(), NewSecret(v)))
		}
		next.ServeHTTP(w, r)
	})
}

// workloadToken obtains the workload access token for this call.
func (a *AgentCore) workloadToken(ctx context.Context) (string, error) {
	if tok, ok := ctx.Value(watKey{}).(Secret); ok && !tok.Empty() {
		return tok.Reveal(), nil
	}
	if a.client == nil {
		return "", fmt.Errorf("credentials: the AgentCore provider has no client: %w", bedrockkit.ErrInvalidInput)
	}
	if a.opts.WorkloadName == "" {
		return "", fmt.Errorf("credentials: AgentCoreOptions.WorkloadName is empty and the call carries no workload access token: %w", bedrockkit.ErrInvalidInput)
	}
	name := aws.String(a.opts.WorkloadName)
	if jwt, ok := CallerTokenFrom(ctx); ok {
		out, err := a.client.GetWorkloadAccessTokenForJWT(ctx, &bedrockagentcore.GetWorkloadAccessTokenForJWTInput{WorkloadName: name, UserToken: aws.String(jwt.Reveal())})
		if err != nil {
			return "", providerError(a.opts.WorkloadName, "workload access token for the caller's token", err)
		}
		return aws.ToString(out.WorkloadAccessToken), nil
	}
	if c, ok := identity.CallerFrom(ctx); ok && c != nil && !c.Anonymous {
		uid := c.Namespace()
		if a.opts.UserID != nil {
			uid = a.opts.UserID(c)
		}
		out, err := a.client.GetWorkloadAccessTokenForUserId(ctx, &bedrockagentcore.GetWorkloadAccessTokenForUserIdInput{WorkloadName: name, UserId: aws.String(uid)})
		if err != nil {
			return "", providerError(a.opts.WorkloadName, "workload access token for the caller", err)
		}
		return aws.ToString(out.WorkloadAccessToken), nil
	}
	out, err := a.client.GetWorkloadAccessToken(ctx, &bedrockagentcore.GetWorkloadAccessTokenInput{WorkloadName: name})
	if err != nil {
		return "", providerError(a.opts.WorkloadName, "workload access token", err)
	}
	return aws.ToString(out.WorkloadAccessToken), nil
}

// APIKey returns the API key of the named credential provider.
func (a *AgentCore) APIKey(ctx context.Context, name string) (Secret, error) {
	wat, err := a.workloadToken(ctx)
	if err != nil {
		return Secret{}, err
	}
	out, err := a.client.GetResourceApiKey(ctx, &bedrockagentcore.GetResourceApiKeyInput{
		WorkloadIdentityToken: aws.String(wat), ResourceCredentialProviderName: aws.String(name)})
	if err != nil {
		return Secret{}, providerError(name, "API key", err)
	}
	if aws.ToString(out.ApiKey) == "" {
		return Secret{}, fmt.Errorf("credentials: AgentCore Identity returned no API key for %q: %w", name, ErrProvider)
	}
	return NewSecret(aws.ToString(out.ApiKey)), nil
}

// OAuth2Token returns an access token of the named credential provider.
// For FlowUser, a user who has not consented yet gets an
// *AuthorizationRequiredError with the authorization URL; call again
// after they have.
func (a *AgentCore) OAuth2Token(ctx context.Context, req TokenRequest) (Secret, error) {
	flow := req.Flow
	if flow == "" {
		flow = FlowClientCredentials
	}
	if flow == FlowOnBehalfOf {
		if _, ok := CallerTokenFrom(ctx); !ok {
			return Secret{}, ErrNoCallerToken
		}
	}
	wat, err := a.workloadToken(ctx)
	if err != nil {
		return Secret{}, err
	}
	in := &bedrockagentcore.GetResourceOauth2TokenInput{
		WorkloadIdentityToken:          aws.String(wat),
		ResourceCredentialProviderName: aws.String(req.Provider),
		Scopes:                         slices.Clone(req.Scopes),
		Oauth2Flow:                     types.Oauth2FlowType(flow),
	}
	if in.Scopes == nil {
		in.Scopes = []string{}
	}
	if flow == FlowUser && a.opts.ReturnURL != "" {
		in.ResourceOauth2ReturnUrl = aws.String(a.opts.ReturnURL)
	}
	out, err := a.client.GetResourceOauth2Token(ctx, in)
	if err != nil {
		return Secret{}, providerError(req.Provider, "OAuth 2.0 token", err)
	}
	if tok := aws.ToString(out.AccessToken); tok != "" {
		return NewSecret(tok), nil
	}
	if u := aws.ToString(out.AuthorizationUrl); u != "" {
		return Secret{}, &AuthorizationRequiredError{Provider: req.Provider, URL: u, SessionURI: aws.ToString(out.SessionUri)}
	}
	return Secret{}, fmt.Errorf("credentials: AgentCore Identity returned neither a token nor an authorization URL for %q (session status %q): %w", req.Provider, out.SessionStatus, ErrProvider)
}
