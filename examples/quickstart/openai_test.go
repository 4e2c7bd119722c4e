package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeOpenAI is an OpenAI-compatible chat-completions server, as Ollama
// serves at /v1: each request is recorded and answered with the next
// scripted reply. The quickstart does not stream, so a streaming request is
// refused (the test would then fail on the run's error).
type fakeOpenAI struct {
	srv *httptest.Server

	mu      sync.Mutex
	replies []string // chat.completion objects, in order
	status  int      // when non-zero, every request is answered with this status
	reqs    []recorded
}

type recorded struct {
	auth string
	raw  string
	body chatRequest
}

// chatRequest is the part of an OpenAI chat request the tests look at.
type chatRequest struct {
	Model               string `json:"model"`
	Stream              bool   `json:"stream"`
	MaxTokens           int    `json:"max_tokens"`
	MaxCompletionTokens int    `json:"max_completion_tokens"`
	Messages            []struct {
		Role       string `json:"role"`
		Content    any    `json:"content"`
		ToolCallID string `json:"tool_call_id"`
		ToolCalls  []struct {
			ID       string `json:"id"`
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		} `json:"tool_calls"`
	} `json:"messages"`
	Tools []struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	} `json:"tools"`
}

func newFakeOpenAI(t *testing.T) *fakeOpenAI {
	f := &fakeOpenAI{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" {
			http.Error(w, `{"error":{"message":"unexpected path `+r.URL.Path+`"}}`, http.StatusNotFound)
			return
		}
		raw, _ := io.ReadAll(r.Body)
		var body chatRequest
		if err := json.Unmarshal(raw, &body); err != nil {
			http.Error(w, `{"error":{"message":"bad JSON"}}`, http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{auth: r.Header.Get("Authorization"), raw: string(raw), body: body})
		var reply string
		status := f.status
		if status == 0 && len(f.replies) > 0 && !body.Stream {
			reply, f.replies = f.replies[0], f.replies[1:]
		}
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case status != 0:
			w.WriteHeader(status)
			io.WriteString(w, `{"error":{"message":"scripted failure","type":"invalid_request_error"}}`)
		case body.Stream:
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":{"message":"the fake does not stream"}}`)
		case reply == "":
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"error":{"message":"no reply scripted"}}`)
		default:
			io.WriteString(w, reply)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeOpenAI) baseURL() string { return f.srv.URL + "/v1" }

func (f *fakeOpenAI) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

func (f *fakeOpenAI) script(replies ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replies = append(f.replies, replies...)
}

func completion(message, finish string, prompt, completionTokens int) string {
	return fmt.Sprintf(`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"llama3.1","choices":[{"index":0,"message":%s,"finish_reason":%q}],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`,
		message, finish, prompt, completionTokens, prompt+completionTokens)
}

func oaText(text string) string {
	b, _ := json.Marshal(text)
	return completion(`{"role":"assistant","content":`+string(b)+`}`, "stop", 1500, 60)
}

func oaToolCall(id, name, args string) string {
	a, _ := json.Marshal(args)
	return completion(`{"role":"assistant","content":null,"tool_calls":[{"id":"`+id+`","type":"function","function":{"name":"`+name+`","arguments":`+string(a)+`}}]}`,
		"tool_calls", 1000, 40)
}

// toolMessage returns the content of the tool message answering callID.
func toolMessage(r chatRequest, callID string) (string, bool) {
	for _, m := range r.Messages {
		if m.Role == "tool" && m.ToolCallID == callID {
			s, _ := m.Content.(string)
			return s, true
		}
	}
	return "", false
}

// TestOpenAICompatible runs the -openai-base-url path against a fake
// OpenAI-compatible server (as a local Ollama serves), through langchaingo's
// real OpenAI client: the cited answer and every agent step go over HTTP,
// the tools run, and the guardrail masks what the model leaks.
func TestOpenAICompatible(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	fake := newFakeOpenAI(t)
	const leaked = "HV-4821-0093-57" // ana's full account number
	fake.script(
		// The knowledge base's cited answer to -q.
		oaText("Lock the card in the app and call us [1]. The replacement is free [2]."),
		// ana, turn 1: a tool call, then an answer that leaks the full
		// account number, which the guardrail must mask.
		oaToolCall("call_1", "account_lookup", `{"customer_id":"C-1001"}`),
		oaText("Your Everyday Checking account "+leaked+" has $2,431.18."),
		// ana, turn 2.
		oaToolCall("call_2", "transaction_summary", `{"customer_id":"C-1001","last":5}`),
		oaText("Groceries: $138.61 of your last 5 transactions."),
		// ben, turn 1: the knowledge-base search tool.
		oaToolCall("call_3", "bank_policies", `{"query":"dispute a card transaction"}`),
		oaText("You have 60 days (disputes.html)."),
		// ben, turn 2 is blocked by the guardrail before any model call.
	)
	o, err := parseOptions([]string{"-openai-base-url", fake.baseURL(), "-q", "I lost my card"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o.dir = t.TempDir() // not the user cache folder
	var out strings.Builder
	if err := run(context.Background(), &out, o); err != nil {
		t.Fatalf("%v\noutput:\n%s", err, out.String())
	}
	s := out.String()

	reqs := fake.requests()
	if len(reqs) != 7 {
		t.Fatalf("%d requests reached the server, want 7 (1 answer, 6 agent steps; the blocked turn never reaches the model)\n%s", len(reqs), s)
	}
	for i, r := range reqs {
		if r.body.Model != "llama3.1" {
			t.Errorf("request %d: model %q, want the default llama3.1", i, r.body.Model)
		}
		if r.auth != "Bearer "+localAPIKey {
			t.Errorf("request %d: Authorization %q, want the local placeholder key", i, r.auth)
		}
		// Nothing sent to the model, history included, holds the account
		// number the model leaked: the agent stored the masked answer.
		if strings.Contains(r.raw, leaked) {
			t.Errorf("request %d sends the unmasked account number: %s", i, r.raw)
		}
	}
	// The cited answer: no tools, a local server gets max_tokens (Ollama does
	// not read max_completion_tokens).
	if rag := reqs[0].body; len(rag.Tools) != 0 || rag.MaxTokens != 1024 || rag.MaxCompletionTokens != 0 {
		t.Errorf("answer request: %d tools, max_tokens %d, max_completion_tokens %d; want 0, 1024, 0",
			len(rag.Tools), rag.MaxTokens, rag.MaxCompletionTokens)
	}
	var tools []string
	for _, tl := range reqs[1].body.Tools {
		tools = append(tools, tl.Function.Name)
	}
	if got := strings.Join(tools, ","); got != "account_lookup,transaction_summary,bank_policies" {
		t.Errorf("agent request offers tools %s", got)
	}
	// Each tool really ran: its output is in the next request, answering
	// the model's call by ID.
	for _, c := range []struct {
		req    int
		callID string
		want   []string
	}{
		{2, "call_1", []string{`"account_number":"HV-****-****-57"`, `"balance":"$2,431.18"`}},
		{4, "call_2", []string{`"groceries":"-$138.61"`, `"utilities":"-$74.10"`}},
		{6, "call_3", []string{"harborview:disputes.html"}},
	} {
		got, ok := toolMessage(reqs[c.req].body, c.callID)
		if !ok {
			t.Errorf("request %d has no tool message for %s: %s", c.req, c.callID, reqs[c.req].raw)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("request %d: tool result for %s lacks %q: %s", c.req, c.callID, w, got)
			}
		}
	}
	// ana's second turn carries her first turn, masked.
	if !strings.Contains(reqs[3].raw, "{Harborview account number}") {
		t.Errorf("ana's second turn lacks the masked first answer in its history: %s", reqs[3].raw)
	}

	for _, want := range []string{
		"Using llama3.1 at " + fake.baseURL() + " (OpenAI-compatible API, through langchaingo)",
		"the knowledge base stays keyword-only (BM25, no embedder).",
		"A: Lock the card in the app and call us.[1] The replacement is free.[2]",
		"Agent on llama3.1 with tools",
		"[step 1] model call: 1000 input + 40 output tokens, stop reason tool_use",
		`[step 1] tool call account_lookup({"customer_id":"C-1001"}): ok`,
		`[guardrail] output masked (regex "Harborview account number" ANONYMIZED)`,
		"Assistant: Your Everyday Checking account {Harborview account number} has $2,431.18.",
		`tool call transaction_summary({"customer_id":"C-1001","last":5}): ok`,
		"Assistant: Groceries: $138.61 of your last 5 transactions.",
		`tool call bank_policies({"query":"dispute a card transaction"}): ok`,
		"Assistant: You have 60 days (disputes.html).",
		`[guardrail] input BLOCKED (denied topic "Investment advice")`,
		"Assistant: Sorry, I can't give investment advice.",
		"Tokens per conversation (no price known for llama3.1",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	for _, never := range []string{leaked, "No model is configured", "Cost per conversation", "Offline mode"} {
		if strings.Contains(s, never) {
			t.Errorf("output has %q:\n%s", never, s)
		}
	}
	// 1000+40 per tool step, 1500+60 per answer, as the server reported.
	if !lineHas(s, "ana-C-1001", "4", "5000", "200") {
		t.Errorf("token table lacks ana's row:\n%s", s)
	}
	if !lineHas(s, "ben-C-1002", "2", "2500", "100") {
		t.Errorf("token table lacks ben's row:\n%s", s)
	}
	if !lineHas(s, "total", "6", "7500", "300") {
		t.Errorf("token table lacks the total:\n%s", s)
	}
}

// TestOpenAIFailureSaysWhatToCheck: a server that refuses the first call
// stops the run with an error naming the server and model, and the key from
// OPENAI_API_KEY is what was sent.
func TestOpenAIFailureSaysWhatToCheck(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-test")
	fake := newFakeOpenAI(t)
	fake.status = http.StatusNotFound
	o, err := parseOptions([]string{"-openai-base-url", fake.baseURL(), "-openai-model", "qwen2.5"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o.dir = t.TempDir() // not the user cache folder
	err = run(context.Background(), io.Discard, o)
	if err == nil {
		t.Fatal("run succeeded against a server that refuses every call")
	}
	for _, want := range []string{"is the server at " + fake.baseURL() + " running and does it serve qwen2.5?", "ollama pull qwen2.5"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	reqs := fake.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1 (the run stops at the first failure)", len(reqs))
	}
	if reqs[0].auth != "Bearer sk-test" || reqs[0].body.Model != "qwen2.5" {
		t.Errorf("sent Authorization %q and model %q, want the key from OPENAI_API_KEY and qwen2.5", reqs[0].auth, reqs[0].body.Model)
	}
}

// TestOpenAIRemoteNeedsKey: a server on another network gets no placeholder
// key; the run stops before any request, saying to set OPENAI_API_KEY.
func TestOpenAIRemoteNeedsKey(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	o, err := parseOptions([]string{"-openai-base-url", "https://api.example.com/v1", "-openai-model", "gpt-4o-mini"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o.dir = t.TempDir() // not the user cache folder
	err = run(context.Background(), io.Discard, o)
	if err == nil || !strings.Contains(err.Error(), "export OPENAI_API_KEY=") {
		t.Fatalf("got %v, want an error saying to set OPENAI_API_KEY", err)
	}
}

func TestParseOptions(t *testing.T) {
	for _, c := range []struct {
		args    []string
		wantErr string // empty: no error
	}{
		{[]string{"-bedrock", "-openai-base-url", ollamaBaseURL}, "-bedrock and -openai-base-url each choose the model; use one of them, not both"},
		{[]string{"-openai-base-url", ollamaBaseURL, "-bedrock"}, "-bedrock and -openai-base-url each choose the model"},
		{[]string{"-openai-model", "qwen2.5"}, "-openai-model needs -openai-base-url (for a local Ollama: -openai-base-url http://localhost:11434/v1)"},
		{[]string{"-openai-base-url", ollamaBaseURL, "-model", "llama3.1"}, "with -openai-base-url, name the model with -openai-model"},
		{[]string{"-openai-base-url", ollamaBaseURL, "-endpoint", "https://vpce.example"}, "-model and -endpoint are for -bedrock"},
		{[]string{"-openai-base-url", "localhost:11434/v1"}, `want an http:// or https:// URL, such as http://localhost:11434/v1`},
		{[]string{"-openai-base-url", ollamaBaseURL, "-openai-model", " "}, "-openai-model is empty"},
		{[]string{"What does a wire cost?"}, `unexpected argument "What does a wire cost?"; to ask your own question use -q`},
		{nil, ""},
		{[]string{"-bedrock", "-model", "us.anthropic.claude-3-5-haiku-20241022-v1:0"}, ""},
		{[]string{"-openai-base-url", ollamaBaseURL}, ""},
		{[]string{"-model", "amazon.nova-pro-v1:0"}, ""}, // offline: prices this model in the offline cost note
	} {
		o, err := parseOptions(c.args, io.Discard)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%q: %v", c.args, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%q: got error %v, want one containing %q", c.args, err, c.wantErr)
		case c.wantErr == "" && o.openaiBaseURL != "" && o.openaiModel != defaultOpenAIModel:
			t.Errorf("%q: model %q, want the default %q", c.args, o.openaiModel, defaultOpenAIModel)
		}
	}
	// An unknown flag is reported by the flag package, with the usage.
	var usage strings.Builder
	_, err := parseOptions([]string{"-ollama"}, &usage)
	var fe flagError
	if !errors.As(err, &fe) || !strings.Contains(usage.String(), "-openai-base-url") {
		t.Errorf("unknown flag: got %v and usage %q", err, usage.String())
	}
	// -h prints the usage and is not a failure.
	if _, err := parseOptions([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: got %v, want flag.ErrHelp", err)
	}
}

func TestIsLocal(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "ollama.localhost": true, "127.0.0.1": true, "::1": true,
		"192.168.1.20": true, "10.0.0.5": true, "fe80::1": true,
		"api.openai.com": false, "8.8.8.8": false, "ollama": false,
	} {
		if got := isLocal(host); got != want {
			t.Errorf("isLocal(%q) = %v, want %v", host, got, want)
		}
	}
}
