package langchaingo_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tmc/langchaingo/llms/openai"
)

// fakeOpenAI is a local server speaking the OpenAI chat-completions JSON
// and SSE streaming, answering each request with the next scripted reply.
type fakeOpenAI struct {
	srv     *httptest.Server
	mu      sync.Mutex
	replies []func(w http.ResponseWriter, stream bool)
	bodies  []map[string]any
}

func newFakeOpenAI(t *testing.T) *fakeOpenAI {
	f := &fakeOpenAI{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/chat/completions" {
			http.Error(w, "unexpected path "+r.URL.Path, http.StatusNotFound)
			return
		}
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.bodies = append(f.bodies, body)
		if len(f.replies) == 0 {
			f.mu.Unlock()
			http.Error(w, `{"error":{"message":"no reply scripted"}}`, http.StatusInternalServerError)
			return
		}
		reply := f.replies[0]
		f.replies = f.replies[1:]
		f.mu.Unlock()
		stream, _ := body["stream"].(bool)
		reply(w, stream)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeOpenAI) push(r func(w http.ResponseWriter, stream bool)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replies = append(f.replies, r)
}

func (f *fakeOpenAI) body(i int) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bodies[i]
}

func (f *fakeOpenAI) llm(t *testing.T) *openai.LLM {
	llm, err := openai.New(openai.WithBaseURL(f.srv.URL), openai.WithToken("test"), openai.WithModel("gpt-4o-mini"), openai.WithHTTPClient(f.srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return llm
}

// jsonReply answers with one chat.completion object.
func jsonReply(message string, finish string, usage string) func(http.ResponseWriter, bool) {
	return func(w http.ResponseWriter, _ bool) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":%s,"finish_reason":%q}],"usage":%s}`, message, finish, usage)
	}
}

// sseReply streams chunks (each a JSON chunk object) then [DONE].
func sseReply(chunks ...string) func(http.ResponseWriter, bool) {
	return func(w http.ResponseWriter, _ bool) {
		w.Header().Set("Content-Type", "text/event-stream")
		fl, _ := w.(http.Flusher)
		for _, c := range chunks {
			fmt.Fprintf(w, "data: %s\n\n", c)
			if fl != nil {
				fl.Flush()
			}
		}
		io.WriteString(w, "data: [DONE]\n\n")
	}
}

func textChunk(s string) string {
	b, _ := json.Marshal(s)
	return `{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":` + string(b) + `}}]}`
}

func finishChunk(reason string) string {
	return `{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"` + reason + `"}]}`
}

func usageChunk(prompt, completion, cached int) string {
	return fmt.Sprintf(`{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d,"prompt_tokens_details":{"cached_tokens":%d}}}`, prompt, completion, prompt+completion, cached)
}

func toolChunk(delta string) string {
	return `{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":` + delta + `}}]}`
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
