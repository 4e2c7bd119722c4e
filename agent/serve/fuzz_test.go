package serve_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit/agent/identity"
	"github.com/bedrockkit/bedrockkit/agent/serve"
)

// FuzzReadEvents: any byte stream is parsed without panicking, no event
// exceeds the limit, and a stream of well-formed events round-trips.
func FuzzReadEvents(f *testing.F) {
	for _, s := range []string{
		"data: {\"type\":\"finished\"}\n\n",
		"data: a\ndata: b\n\n: comment\n\nevent: x\ndata: c\r\n\r\n",
		"data:no-space\n\ndata: cut off",
		"\n\n\n",
		"data: " + strings.Repeat("x", 100) + "\n\n",
		"retry: 10\nid: 3\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		const limit = 64
		n := 0
		for data, err := range serve.ReadEvents(bytes.NewReader(b), limit) {
			if err != nil {
				return
			}
			if len(data) > limit {
				t.Fatalf("event of %d bytes over the %d limit", len(data), limit)
			}
			n++
		}
		// Round trip: re-encode what was read as events and read again.
		var enc bytes.Buffer
		var want [][]byte
		for data, err := range serve.ReadEvents(bytes.NewReader(b), limit) {
			if err != nil {
				return
			}
			want = append(want, data)
			for _, line := range bytes.Split(data, []byte("\n")) {
				enc.WriteString("data: ")
				enc.Write(line)
				enc.WriteString("\n")
			}
			enc.WriteString("\n")
		}
		i := 0
		for data, err := range serve.ReadEvents(&enc, limit+len(want)) {
			if err != nil {
				t.Fatal(err)
			}
			if i >= len(want) || !bytes.Equal(data, want[i]) {
				t.Fatalf("round trip event %d: %q", i, data)
			}
			i++
		}
		if i != len(want) || n != len(want) {
			t.Fatalf("round trip gave %d events, want %d", i, len(want))
		}
	})
}

// FuzzInvocationBody: any body gets a JSON answer with a status of the
// contract, never a panic or a 5xx.
func FuzzInvocationBody(f *testing.F) {
	for _, s := range []string{`{"prompt":"hi"}`, `{"resume":{"pending_id":"p","decisions":[{"call_id":"c","result":{"x":1}}]}}`,
		`{"prompt":1}`, "\xff", `null`, `{"prompt":"x","session_attributes":{"a":"b"},"prompt_attributes":{"c":"d"}}`} {
		f.Add([]byte(s))
	}
	h, err := serve.New(newAgent(echo()), serve.Options{Authorizer: identity.Anonymous(), MaxBodyBytes: 4096})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", "/invocations", bytes.NewReader(body))
		r.Header.Set(serve.SessionHeader, sid("fuzz"))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch w.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusNotFound, http.StatusConflict, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("content type %q", ct)
		}
	})
}
