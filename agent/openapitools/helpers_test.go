package openapitools_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// kinDir returns the kin-openapi module directory in the module cache; its
// testdata holds the real-world descriptions the conformance tests use.
func kinDir(t testing.TB) string {
	t.Helper()
	kinOnce.Do(func() {
		// The test runs in the package directory, inside the module, so
		// go list resolves the version go.mod requires.
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/getkin/kin-openapi").Output()
		if err != nil {
			kinErr = err
			return
		}
		kinPath = strings.TrimSpace(string(out))
		if _, err := os.Stat(kinPath); err != nil {
			kinErr = err
		}
	})
	if kinErr != nil || kinPath == "" {
		t.Fatalf("kin-openapi module not found in the module cache (run go mod download): %v", kinErr)
	}
	return kinPath
}

var (
	kinOnce sync.Once
	kinPath string
	kinErr  error
)

func readKin(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(kinDir(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// seenRequest is what the spec server received and accepted.
type seenRequest struct {
	Operation string            `json:"operation"`
	Path      map[string]string `json:"path"`
	Query     url.Values
	Header    http.Header
	Body      json.RawMessage
}

// specServer serves the document: every request is routed and validated
// against it by kin-openapi's openapi3filter (parameters, body, security);
// a valid one is answered by reply (or echoed), an invalid one with 400
// and the validation error.
type specServer struct {
	*httptest.Server
	mu       sync.Mutex
	seen     []seenRequest
	rejected []string
	reply    func(w http.ResponseWriter, r *http.Request, route *routers.Route) bool
	apiKey   string
}

func newSpecServer(t testing.TB, doc []byte, basePath string) *specServer {
	t.Helper()
	s := &specServer{}
	s.Server = httptest.NewUnstartedServer(nil)
	s.Start()
	t.Cleanup(s.Close)
	loader := openapi3.NewLoader()
	d, err := loader.LoadFromData(doc)
	if err != nil {
		t.Fatal(err)
	}
	d.Servers = openapi3.Servers{{URL: s.URL + basePath}}
	if d.Info != nil && d.Info.Version == "" {
		d.Info.Version = "unversioned" // SendGrid's description leaves it empty
	}
	// Real descriptions carry examples and defaults that break their own
	// schemas; the router must not refuse the document for those.
	router, err := legacy.NewRouter(d, openapi3.DisableExamplesValidation(), openapi3.DisableSchemaDefaultsValidation())
	if err != nil {
		t.Fatal(err)
	}
	s.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.URL.Scheme, r.URL.Host = "http", r.Host // server requests carry only the path
		route, pathParams, err := router.FindRoute(r)
		if err != nil {
			s.reject(w, "route: "+err.Error())
			return
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		in := &openapi3filter.RequestValidationInput{Request: r, PathParams: pathParams, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: func(ctx context.Context, ai *openapi3filter.AuthenticationInput) error {
				if ai.SecurityScheme.Type == "apiKey" && s.apiKey != "" {
					var got string
					switch ai.SecurityScheme.In {
					case "header":
						got = r.Header.Get(ai.SecurityScheme.Name)
					case "query":
						got = r.URL.Query().Get(ai.SecurityScheme.Name)
					}
					if got != s.apiKey && got != "Bearer "+s.apiKey {
						return errors.New("wrong API key")
					}
				}
				return nil
			}}}
		if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
			s.reject(w, err.Error())
			return
		}
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		s.mu.Lock()
		s.seen = append(s.seen, seenRequest{Operation: route.Operation.OperationID, Path: pathParams, Query: r.URL.Query(), Header: r.Header.Clone(), Body: json.RawMessage(body)})
		reply := s.reply
		s.mu.Unlock()
		if reply != nil && reply(w, r, route) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		q := r.URL.Query()
		q.Del("api_key") // like any real server, never echo a credential
		_ = json.NewEncoder(w).Encode(map[string]any{"operation": route.Operation.OperationID, "path": pathParams, "query": q})
	})
	return s
}

func (s *specServer) reject(w http.ResponseWriter, msg string) {
	s.mu.Lock()
	s.rejected = append(s.rejected, msg)
	s.mu.Unlock()
	http.Error(w, msg, http.StatusBadRequest)
}

func (s *specServer) last() seenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seen) == 0 {
		return seenRequest{}
	}
	return s.seen[len(s.seen)-1]
}
