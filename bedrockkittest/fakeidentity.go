package bedrockkittest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
)

// FakeIdentity is a wire-level fake of the Amazon Bedrock AgentCore
// Identity data plane: GetWorkloadAccessToken, GetWorkloadAccessTokenForJWT,
// GetWorkloadAccessTokenForUserId, GetResourceApiKey,
// GetResourceOauth2Token and CompleteResourceTokenAuth over the service's
// REST-JSON protocol, so the real SDK client can be tested against it.
//
// Workload identities, API-key providers and OAuth 2.0 providers are
// registered with AddWorkload, AddAPIKey and AddOAuth2. Workload access
// tokens are opaque random strings bound to the workload and, for the
// ForJWT and ForUserId variants, to the user. GetResourceOauth2Token
// answers the M2M flow with the provider's token; USER_FEDERATION returns
// an authorization URL and session URI until the user consents
// (CompleteResourceTokenAuth or Consent), then the token;
// ON_BEHALF_OF_TOKEN_EXCHANGE needs a workload token bound to a user.
// Inputs are validated with the service's constraints (lengths, patterns,
// required members) and refused with its error codes.
type FakeIdentity struct {
	srv *httptest.Server

	mu        sync.Mutex
	workloads map[string]bool
	apiKeys   map[string]string
	oauth     map[string]string
	wats      map[string]watBinding
	sessions  map[string]*fakeConsent
	calls     map[string]int
}

type watBinding struct {
	workload string
	user     string // "" for the workload itself
}

type fakeConsent struct {
	provider, user string
	done           bool
}

// NewFakeIdentity starts a FakeIdentity closed when the test ends.
func NewFakeIdentity(t testing.TB) *FakeIdentity {
	t.Helper()
	f := StartFakeIdentity()
	t.Cleanup(f.Close)
	return f
}

// StartFakeIdentity starts a FakeIdentity outside a test; the caller must
// Close it.
func StartFakeIdentity() *FakeIdentity {
	f := &FakeIdentity{workloads: map[string]bool{}, apiKeys: map[string]string{}, oauth: map[string]string{},
		wats: map[string]watBinding{}, sessions: map[string]*fakeConsent{}, calls: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /identities/GetWorkloadAccessToken", f.serveWAT("GetWorkloadAccessToken"))
	mux.HandleFunc("POST /identities/GetWorkloadAccessTokenForJWT", f.serveWAT("GetWorkloadAccessTokenForJWT"))
	mux.HandleFunc("POST /identities/GetWorkloadAccessTokenForUserId", f.serveWAT("GetWorkloadAccessTokenForUserId"))
	mux.HandleFunc("POST /identities/api-key", f.serveAPIKey)
	mux.HandleFunc("POST /identities/oauth2/token", f.serveOAuth2)
	mux.HandleFunc("POST /identities/CompleteResourceTokenAuth", f.serveComplete)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeFault(w, &Fault{Code: "UnknownOperationException", Status: http.StatusNotFound,
			Message: fmt.Sprintf("fakeidentity: no operation at %s %s", r.Method, r.URL.EscapedPath())})
	})
	f.srv = httptest.NewServer(mux)
	return f
}

// URL returns the server's base URL, for BaseEndpoint.
func (f *FakeIdentity) URL() string { return f.srv.URL }

// Close shuts the server down.
func (f *FakeIdentity) Close() { f.srv.Close() }

// Client returns a real AgentCore data-plane client for the server
// (us-east-1, static fake credentials, no retries). optFns run last.
func (f *FakeIdentity) Client(optFns ...func(*bedrockagentcore.Options)) *bedrockagentcore.Client {
	return bedrockagentcore.New(bedrockagentcore.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDFAKEIDENTITY", "fake-secret-key", ""),
		BaseEndpoint: aws.String(f.srv.URL),
		HTTPClient:   ownBodyClient{f.srv.Client()},
		Retryer:      aws.NopRetryer{},
	}, optFns...)
}

// AddWorkload registers a workload identity.
func (f *FakeIdentity) AddWorkload(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.workloads[name] = true
}

// AddAPIKey registers an API-key credential provider holding key.
func (f *FakeIdentity) AddAPIKey(provider, key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.apiKeys[provider] = key
}

// AddOAuth2 registers an OAuth 2.0 credential provider whose tokens are
// token.
func (f *FakeIdentity) AddOAuth2(provider, token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.oauth[provider] = token
}

// Consent marks the USER_FEDERATION session as authorized by its user, as
// the user's visit to the authorization URL and CompleteResourceTokenAuth
// would.
func (f *FakeIdentity) Consent(sessionURI string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sessions[sessionURI]
	if ok {
		s.done = true
	}
	return ok
}

// Calls returns how many requests an operation received ("GetResourceApiKey", ...).
func (f *FakeIdentity) Calls(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// WorkloadTokenUser returns the user a workload access token was issued
// for ("" for the workload itself) and whether the token is known.
func (f *FakeIdentity) WorkloadTokenUser(token string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.wats[token]
	return b.user, ok
}

var (
	idWorkloadRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)
	idProviderRE = regexp.MustCompile(`^[a-zA-Z0-9\-_]{1,128}$`)
)

func idInvalid(w http.ResponseWriter, format string, args ...any) {
	writeFault(w, &Fault{Code: "ValidationException", Status: http.StatusBadRequest, Message: "fakeidentity: " + fmt.Sprintf(format, args...)})
}

// jwtUser names the user of a token without keeping the token.
func jwtUser(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return "jwt:" + hex.EncodeToString(h[:8])
}

func idRandom(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// decodeID reads a JSON body of at most 1 MiB into v.
func decodeID(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
	if err != nil || len(b) > 1<<20 {
		idInvalid(w, "request body unreadable or over 1 MiB")
		return false
	}
	if len(b) == 0 {
		b = []byte("{}")
	}
	if err := json.Unmarshal(b, v); err != nil {
		writeFault(w, &Fault{Code: "SerializationException", Status: http.StatusBadRequest, Message: "fakeidentity: " + err.Error()})
		return false
	}
	return true
}

func idReply(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	writeJSON(w, http.StatusOK, b)
}

func (f *FakeIdentity) serveWAT(op string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			WorkloadName *string `json:"workloadName"`
			UserToken    *string `json:"userToken"`
			UserID       *string `json:"userId"`
		}
		if !decodeID(w, r, &in) {
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		f.calls[op]++
		name := aws.ToString(in.WorkloadName)
		if !idWorkloadRE.MatchString(name) {
			idInvalid(w, "workloadName must be 3-255 characters of [A-Za-z0-9_.-]")
			return
		}
		if !f.workloads[name] {
			writeFault(w, &Fault{Code: "ResourceNotFoundException", Status: http.StatusNotFound, Message: fmt.Sprintf("fakeidentity: workload identity %q not found", name)})
			return
		}
		b := watBinding{workload: name}
		switch op {
		case "GetWorkloadAccessTokenForJWT":
			tok := aws.ToString(in.UserToken)
			if tok == "" || len(tok) > 131072 {
				idInvalid(w, "userToken is required (1-131072 characters)")
				return
			}
			b.user = jwtUser(tok)
		case "GetWorkloadAccessTokenForUserId":
			uid := aws.ToString(in.UserID)
			if uid == "" || len(uid) > 128 {
				idInvalid(w, "userId is required (1-128 characters)")
				return
			}
			b.user = "user:" + uid
		}
		wat := idRandom("wat-")
		f.wats[wat] = b
		idReply(w, map[string]string{"workloadAccessToken": wat})
	}
}

// checkWAT validates the workload token and provider name members.
func (f *FakeIdentity) checkWAT(w http.ResponseWriter, wat, provider string) (watBinding, bool) {
	if wat == "" || len(wat) > 131072 {
		idInvalid(w, "workloadIdentityToken is required (1-131072 characters)")
		return watBinding{}, false
	}
	if !idProviderRE.MatchString(provider) {
		idInvalid(w, "resourceCredentialProviderName must be 1-128 characters of [a-zA-Z0-9-_]")
		return watBinding{}, false
	}
	b, ok := f.wats[wat]
	if !ok {
		writeFault(w, &Fault{Code: "UnauthorizedException", Status: http.StatusUnauthorized, Message: "fakeidentity: the workload access token is not valid"})
		return watBinding{}, false
	}
	return b, true
}

func (f *FakeIdentity) serveAPIKey(w http.ResponseWriter, r *http.Request) {
	var in struct {
		WAT      string `json:"workloadIdentityToken"`
		Provider string `json:"resourceCredentialProviderName"`
	}
	if !decodeID(w, r, &in) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["GetResourceApiKey"]++
	if _, ok := f.checkWAT(w, in.WAT, in.Provider); !ok {
		return
	}
	key, ok := f.apiKeys[in.Provider]
	if !ok {
		writeFault(w, &Fault{Code: "ResourceNotFoundException", Status: http.StatusNotFound, Message: fmt.Sprintf("fakeidentity: API key credential provider %q not found", in.Provider)})
		return
	}
	idReply(w, map[string]string{"apiKey": key})
}

func (f *FakeIdentity) serveOAuth2(w http.ResponseWriter, r *http.Request) {
	var in struct {
		WAT        string   `json:"workloadIdentityToken"`
		Provider   string   `json:"resourceCredentialProviderName"`
		Scopes     []string `json:"scopes"`
		Flow       string   `json:"oauth2Flow"`
		ReturnURL  string   `json:"resourceOauth2ReturnUrl"`
		SessionURI string   `json:"sessionUri"`
	}
	if !decodeID(w, r, &in) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["GetResourceOauth2Token"]++
	b, ok := f.checkWAT(w, in.WAT, in.Provider)
	if !ok {
		return
	}
	if in.Scopes == nil {
		idInvalid(w, "scopes is required")
		return
	}
	if len(in.ReturnURL) > 2048 {
		idInvalid(w, "resourceOauth2ReturnUrl is longer than 2048 characters")
		return
	}
	tok, ok := f.oauth[in.Provider]
	if !ok {
		writeFault(w, &Fault{Code: "ResourceNotFoundException", Status: http.StatusNotFound, Message: fmt.Sprintf("fakeidentity: OAuth2 credential provider %q not found", in.Provider)})
		return
	}
	switch in.Flow {
	case "M2M":
		idReply(w, map[string]string{"accessToken": tok})
	case "ON_BEHALF_OF_TOKEN_EXCHANGE":
		if b.user == "" {
			idInvalid(w, "ON_BEHALF_OF_TOKEN_EXCHANGE needs a workload access token issued for a user")
			return
		}
		idReply(w, map[string]string{"accessToken": tok})
	case "USER_FEDERATION":
		if b.user == "" {
			idInvalid(w, "USER_FEDERATION needs a workload access token issued for a user")
			return
		}
		if s, ok := f.sessions[in.SessionURI]; ok && s.provider == in.Provider && s.user == b.user {
			if s.done {
				idReply(w, map[string]string{"accessToken": tok})
				return
			}
			idReply(w, map[string]string{"authorizationUrl": "https://fake-idp.example/authorize?session=" + in.SessionURI[len("urn:ietf:params:oauth:request_uri:"):], "sessionUri": in.SessionURI, "sessionStatus": "IN_PROGRESS"})
			return
		}
		for _, s := range f.sessions {
			if s.provider == in.Provider && s.user == b.user && s.done {
				idReply(w, map[string]string{"accessToken": tok})
				return
			}
		}
		id := idRandom("")
		uri := "urn:ietf:params:oauth:request_uri:" + id
		f.sessions[uri] = &fakeConsent{provider: in.Provider, user: b.user}
		idReply(w, map[string]string{"authorizationUrl": "https://fake-idp.example/authorize?session=" + id, "sessionUri": uri, "sessionStatus": "IN_PROGRESS"})
	default:
		idInvalid(w, "oauth2Flow must be one of %v", slices.Sorted(slices.Values([]string{"M2M", "USER_FEDERATION", "ON_BEHALF_OF_TOKEN_EXCHANGE"})))
	}
}

func (f *FakeIdentity) serveComplete(w http.ResponseWriter, r *http.Request) {
	var in struct {
		SessionURI string `json:"sessionUri"`
		User       struct {
			UserToken string `json:"userToken"`
			UserID    string `json:"userId"`
		} `json:"userIdentifier"`
	}
	if !decodeID(w, r, &in) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["CompleteResourceTokenAuth"]++
	s, ok := f.sessions[in.SessionURI]
	if !ok {
		writeFault(w, &Fault{Code: "ResourceNotFoundException", Status: http.StatusNotFound, Message: "fakeidentity: no such session"})
		return
	}
	user := "user:" + in.User.UserID
	if in.User.UserToken != "" {
		user = jwtUser(in.User.UserToken)
	}
	if user != s.user {
		writeFault(w, &Fault{Code: "AccessDeniedException", Status: http.StatusForbidden, Message: "fakeidentity: the session belongs to another user"})
		return
	}
	s.done = true
	idReply(w, map[string]any{})
}
