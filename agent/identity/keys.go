package identity

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// maxDocBytes bounds a discovery document or key set read from the network.
const maxDocBytes = 1 << 20

// parseKeySet decodes a JWKS document, keeping the public signing keys it
// can use and skipping the others (encryption keys, symmetric keys, key
// types this build does not know) so one odd key does not lose the set.
func parseKeySet(b []byte) ([]jose.JSONWebKey, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("decode JWKS: %w", err)
	}
	var keys []jose.JSONWebKey
	for _, raw := range doc.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			continue
		}
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		if !k.Valid() || !k.IsPublic() {
			continue // private or symmetric keys never verify tokens here
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// keySource holds the verification keys: static, or fetched from a JWKS
// URL (found through discovery or given) and refetched when a token names
// a key it does not hold (key rotation), at most once per minRefresh.
type keySource struct {
	client     *http.Client
	discovery  string // discovery URL, when the issuer and JWKS URL come from it
	wantIssuer string // configured issuer, checked against discovery's
	minRefresh time.Duration
	maxAge     time.Duration
	now        func() time.Time

	// sem serialises fetches; a waiter gives up when its context ends.
	sem chan struct{}

	mu        sync.Mutex
	static    bool
	issuer    string
	jwksURL   string
	keys      []jose.JSONWebKey
	fetched   time.Time // when keys were last fetched successfully
	attempted time.Time // when a fetch was last attempted
	unknownAt time.Time // when a token with an unknown key last caused a fetch
	gen       int       // incremented by every successful fetch
	lastErr   error
}

// state returns the issuer and the current keys, fetching them first when
// none were fetched yet or they are older than maxAge (keeping the old
// ones if that fetch fails).
func (s *keySource) state(ctx context.Context) (string, []jose.JSONWebKey, error) {
	s.mu.Lock()
	static, issuer, keys, fetched, gen := s.static, s.issuer, s.keys, s.fetched, s.gen
	s.mu.Unlock()
	if static {
		return issuer, keys, nil
	}
	if gen == 0 || s.now().Sub(fetched) > s.maxAge {
		if err := s.refresh(ctx, gen, false); err != nil && gen == 0 {
			return "", nil, err
		}
		s.mu.Lock()
		issuer, keys = s.issuer, s.keys
		s.mu.Unlock()
	}
	return issuer, keys, nil
}

// refreshForUnknownKey refetches the key set because a token named a key
// the set lacks; it reports whether the keys changed.
func (s *keySource) refreshForUnknownKey(ctx context.Context) (bool, error) {
	s.mu.Lock()
	static, gen := s.static, s.gen
	s.mu.Unlock()
	if static {
		return false, nil
	}
	if err := s.refresh(ctx, gen, true); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gen != gen, nil
}

// refresh fetches the key set unless another caller already did so since
// seen, or it is rate limited: a fetch for an unknown key (unknown) comes
// at most once per minRefresh, and so does a retry after a failed fetch.
func (s *keySource) refresh(ctx context.Context, seen int, unknown bool) error {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return &AuthError{Reason: ReasonKeys, Detail: "gave up waiting for the key set: " + ctx.Err().Error(), Err: ErrKeysUnavailable}
	}
	defer func() { <-s.sem }()
	s.mu.Lock()
	if s.gen != seen {
		s.mu.Unlock()
		return nil // someone else fetched while we waited
	}
	now := s.now()
	limited := unknown && !s.unknownAt.IsZero() && now.Sub(s.unknownAt) < s.minRefresh
	if s.lastErr != nil && now.Sub(s.attempted) < s.minRefresh {
		limited = true // the provider just failed; do not hammer it
	}
	if limited {
		err := s.lastErr
		s.mu.Unlock()
		return err // a flood of unknown key IDs must not flood the provider
	}
	s.attempted = now
	if unknown {
		s.unknownAt = now
	}
	jwksURL, issuer := s.jwksURL, s.issuer
	s.mu.Unlock()

	err := func() error {
		if jwksURL == "" {
			var err error
			if issuer, jwksURL, err = s.discover(ctx); err != nil {
				return err
			}
		}
		b, err := s.get(ctx, jwksURL)
		if err != nil {
			return err
		}
		keys, err := parseKeySet(b)
		if err != nil {
			return err
		}
		if len(keys) == 0 {
			return fmt.Errorf("the key set at %s holds no usable public signing key", jwksURL)
		}
		s.mu.Lock()
		s.issuer, s.jwksURL, s.keys, s.fetched, s.lastErr = issuer, jwksURL, keys, s.now(), nil
		s.gen++
		s.mu.Unlock()
		return nil
	}()
	if err != nil {
		ae := &AuthError{Reason: ReasonKeys, Detail: err.Error(), Err: ErrKeysUnavailable}
		s.mu.Lock()
		s.lastErr = ae
		s.mu.Unlock()
		return ae
	}
	return nil
}

// discover reads the OpenID discovery document.
func (s *keySource) discover(ctx context.Context) (issuer, jwksURL string, err error) {
	b, err := s.get(ctx, s.discovery)
	if err != nil {
		return "", "", err
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return "", "", fmt.Errorf("decode discovery document %s: %w", s.discovery, err)
	}
	if doc.Issuer == "" || doc.JWKSURI == "" {
		return "", "", fmt.Errorf("discovery document %s lacks issuer or jwks_uri", s.discovery)
	}
	if s.wantIssuer != "" && doc.Issuer != s.wantIssuer {
		return "", "", fmt.Errorf("discovery document %s names issuer %q, not the configured %q", s.discovery, doc.Issuer, s.wantIssuer)
	}
	if !strings.HasPrefix(doc.JWKSURI, "https://") && !strings.HasPrefix(doc.JWKSURI, "http://") {
		return "", "", fmt.Errorf("discovery document %s has a jwks_uri that is not an http(s) URL", s.discovery)
	}
	return doc.Issuer, doc.JWKSURI, nil
}

func (s *keySource) get(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDocBytes))
		return nil, fmt.Errorf("fetch %s: HTTP %d", url, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxDocBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", url, err)
	}
	if len(b) > maxDocBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", url, maxDocBytes)
	}
	return b, nil
}
