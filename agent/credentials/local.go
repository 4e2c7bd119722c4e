package credentials

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/bedrockkit/bedrockkit"
)

// LocalOptions configure a Local provider.
type LocalOptions struct {
	// APIKeys are API keys by name.
	APIKeys map[string]Secret
	// Clients are OAuth 2.0 client-credentials configurations by provider
	// name (ClientID, ClientSecret, TokenURL, Scopes, EndpointParams,
	// AuthStyle). A TokenRequest's scopes replace the configuration's
	// when given.
	Clients map[string]clientcredentials.Config
	// HTTPClient calls the token endpoints; nil means a client with a 30
	// second timeout.
	HTTPClient *http.Client
	// Exchange, if set, performs FlowOnBehalfOf: it trades the verified
	// caller's token for one the named provider issues (RFC 8693 token
	// exchange at your identity provider). Without it FlowOnBehalfOf is
	// unsupported.
	Exchange func(ctx context.Context, subjectToken Secret, req TokenRequest) (Secret, error)
	// ExpiryMargin renews a cached token this long before it expires; 0
	// means 30 seconds.
	ExpiryMargin time.Duration
}

// Local is a Provider holding API keys and OAuth 2.0 client credentials in
// the process. Client-credentials tokens are cached per provider and
// scopes until ExpiryMargin before they expire; concurrent calls for the
// same token wait for one fetch.
type Local struct {
	opts   LocalOptions
	mu     sync.Mutex
	tokens map[string]*cachedToken
}

type cachedToken struct {
	mu  sync.Mutex // held while fetching
	tok *oauth2.Token
}

var _ Provider = (*Local)(nil)

// NewLocal returns a Local provider. The maps are copied.
func NewLocal(opts LocalOptions) *Local {
	opts.APIKeys = maps.Clone(opts.APIKeys)
	opts.Clients = maps.Clone(opts.Clients)
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.ExpiryMargin <= 0 {
		opts.ExpiryMargin = 30 * time.Second
	}
	return &Local{opts: opts, tokens: map[string]*cachedToken{}}
}

// APIKey returns the named key, or an error wrapping ErrNoCredential.
func (l *Local) APIKey(ctx context.Context, name string) (Secret, error) {
	k, ok := l.opts.APIKeys[name]
	if !ok || k.Empty() {
		return Secret{}, fmt.Errorf("credentials: no API key named %q in the local provider: %w", name, ErrNoCredential)
	}
	return k, nil
}

// OAuth2Token returns a client-credentials token (FlowClientCredentials),
// or an exchanged one (FlowOnBehalfOf, with LocalOptions.Exchange).
// FlowUser needs a user's consent, which a Local provider cannot obtain: use
// the AgentCore provider.
func (l *Local) OAuth2Token(ctx context.Context, req TokenRequest) (Secret, error) {
	switch req.Flow {
	case FlowClientCredentials, "":
	case FlowOnBehalfOf:
		if l.opts.Exchange == nil {
			return Secret{}, fmt.Errorf("credentials: the local provider has no Exchange function for on-behalf-of tokens (%q): %w", req.Provider, bedrockkit.ErrUnsupported)
		}
		subject, ok := CallerTokenFrom(ctx)
		if !ok {
			return Secret{}, ErrNoCallerToken
		}
		tok, err := l.opts.Exchange(ctx, subject, req)
		if err != nil {
			return Secret{}, providerError(req.Provider, "token exchange", err)
		}
		return tok, nil
	default:
		return Secret{}, fmt.Errorf("credentials: the local provider cannot run the %s flow for %q (it needs the user's consent); use the AgentCore provider: %w", req.Flow, req.Provider, bedrockkit.ErrUnsupported)
	}
	cfg, ok := l.opts.Clients[req.Provider]
	if !ok {
		return Secret{}, fmt.Errorf("credentials: no OAuth 2.0 client named %q in the local provider: %w", req.Provider, ErrNoCredential)
	}
	if len(req.Scopes) > 0 {
		cfg.Scopes = slices.Clone(req.Scopes)
	}
	sorted := slices.Clone(cfg.Scopes)
	slices.Sort(sorted)
	key := req.Provider + "\x00" + strings.Join(sorted, " ")
	l.mu.Lock()
	ct, ok := l.tokens[key]
	if !ok {
		ct = &cachedToken{}
		l.tokens[key] = ct
	}
	l.mu.Unlock()

	ct.mu.Lock()
	defer ct.mu.Unlock()
	if ct.tok != nil && ct.tok.AccessToken != "" && (ct.tok.Expiry.IsZero() || time.Until(ct.tok.Expiry) > l.opts.ExpiryMargin) {
		return NewSecret(ct.tok.AccessToken), nil
	}
	tok, err := cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, l.opts.HTTPClient))
	if err != nil {
		return Secret{}, providerError(req.Provider, "client-credentials token", sanitizeOAuth2(err))
	}
	if tok.AccessToken == "" {
		return Secret{}, fmt.Errorf("credentials: the token endpoint of %q returned no access token: %w", req.Provider, ErrProvider)
	}
	ct.tok = tok
	return NewSecret(tok.AccessToken), nil
}

// sanitizeOAuth2 keeps an OAuth 2.0 error's status and RFC 6749 code but
// drops the response body, which a misbehaving endpoint may fill with
// anything, credentials included.
func sanitizeOAuth2(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return err
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	if re.ErrorCode != "" {
		return fmt.Errorf("token endpoint answered %d %s", status, re.ErrorCode)
	}
	return fmt.Errorf("token endpoint answered %d", status)
}
