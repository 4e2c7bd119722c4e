package bedrockkittest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentruntime"
)

// KBChunk is one chunk of a knowledge base served by FakeAgentRuntime.
type KBChunk struct {
	// Text is the chunk's content.
	Text string
	// Location is where the chunk came from: an s3:// URI is reported as an
	// S3 location, an http(s):// URL as a WEB location, anything else as a
	// CUSTOM document ID.
	Location string
	// Metadata are the chunk's attributes, as in a .metadata.json sidecar:
	// string, number, bool or a list of those. Retrieve filters on them and
	// returns them.
	Metadata map[string]any
}

// RetrieveRequest is a Retrieve call received by FakeAgentRuntime.
type RetrieveRequest struct {
	// KnowledgeBaseID is the decoded ID from the path.
	KnowledgeBaseID string
	// Body is the raw JSON request body.
	Body []byte
	// Header is the request's HTTP header.
	Header http.Header
}

// FakeAgentRuntime is an in-process Bedrock Agent Runtime endpoint serving
// Retrieve and Rerank over their real REST-JSON protocol, so a real
// *bedrockagentruntime.Client pointed at it (see Client) works unchanged.
//
// Rerank (the operation kb/bedrockrerank calls) validates the request as
// Bedrock does (one text query, 1 to 1000 sources of the declared type, a
// reranking model ARN of amazon.rerank-v1:0 or cohere.rerank-v3-5:0,
// numberOfResults 1..1000), scores each source by the share of query words
// it contains, returns the best numberOfResults in descending order with
// their indexes, and pages them with nextToken when PageSize is set.
// Rerank calls are recorded in RerankRequests; FailNext faults apply to
// both operations.
//
// Knowledge bases are filled with AddChunks. Retrieve validates the request
// as Bedrock does (query text present, numberOfResults 1..100, search type
// HYBRID or SEMANTIC, andAll/orAll with at least two members, one operator
// per filter, reranking with a model ARN and 1..100 results), applies the
// metadata filter with Bedrock's documented operator semantics (its own
// implementation, independent of package kb), ranks chunks by the share of
// query words they contain (ties in insertion order), and pages the results
// with nextToken when PageSize is set. Unknown knowledge bases answer
// ResourceNotFoundException. Authentication is not checked.
//
// It is safe for concurrent use.
type FakeAgentRuntime struct {
	srv *httptest.Server

	mu        sync.Mutex
	kbs       map[string][]KBChunk
	reqs      []RetrieveRequest
	rerankReq [][]byte
	faults    []Fault
	pageSize  int
}

// NewFakeAgentRuntime starts a FakeAgentRuntime closed when the test ends.
func NewFakeAgentRuntime(t testing.TB) *FakeAgentRuntime {
	t.Helper()
	f := StartFakeAgentRuntime()
	t.Cleanup(f.Close)
	return f
}

// StartFakeAgentRuntime starts a FakeAgentRuntime outside a test; the
// caller must Close it.
func StartFakeAgentRuntime() *FakeAgentRuntime {
	f := &FakeAgentRuntime{kbs: map[string][]KBChunk{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /knowledgebases/{kbId}/retrieve", f.serveRetrieve)
	mux.HandleFunc("POST /rerank", f.serveRerank)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeFault(w, &Fault{Code: "UnknownOperationException", Message: "fakeagentruntime serves only Retrieve (POST /knowledgebases/{id}/retrieve) and Rerank (POST /rerank), not " + r.Method + " " + r.URL.Path})
	})
	f.srv = newPlainServer(mux)
	return f
}

// URL returns the server's base URL, for BaseEndpoint.
func (f *FakeAgentRuntime) URL() string { return f.srv.URL }

// Close shuts the server down. Calling it again does nothing.
func (f *FakeAgentRuntime) Close() { f.srv.Close() }

// Client returns a real Bedrock Agent Runtime client for the server: region
// us-east-1, static fake credentials, BaseEndpoint set to URL and SDK
// retries off. optFns run last.
func (f *FakeAgentRuntime) Client(optFns ...func(*bedrockagentruntime.Options)) *bedrockagentruntime.Client {
	opts := bedrockagentruntime.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDFAKEBEDROCK", "fake-secret-key", ""),
		BaseEndpoint: aws.String(f.srv.URL),
		HTTPClient:   ownBodyClient{f.srv.Client()},
		Retryer:      aws.NopRetryer{},
	}
	return bedrockagentruntime.New(opts, optFns...)
}

// AddChunks appends chunks to the knowledge base kbID, creating it.
func (f *FakeAgentRuntime) AddChunks(kbID string, chunks ...KBChunk) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.kbs[kbID] = append(f.kbs[kbID], chunks...)
}

// SetPageSize makes Retrieve return at most n results per response, with a
// nextToken for the rest (0: all requested results in one response).
func (f *FakeAgentRuntime) SetPageSize(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pageSize = n
}

// FailNext makes the next Retrieve calls fail with faults, in order.
func (f *FakeAgentRuntime) FailNext(faults ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, faults...)
}

// Requests returns copies of the Retrieve calls received, in arrival order.
func (f *FakeAgentRuntime) Requests() []RetrieveRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]RetrieveRequest, len(f.reqs))
	for i, r := range f.reqs {
		r.Body = bytes.Clone(r.Body)
		r.Header = r.Header.Clone()
		out[i] = r
	}
	return out
}

type retrieveBody struct {
	RetrievalQuery *struct {
		Text *string `json:"text"`
	} `json:"retrievalQuery"`
	NextToken              *string `json:"nextToken"`
	RetrievalConfiguration *struct {
		VectorSearchConfiguration *struct {
			NumberOfResults        *int            `json:"numberOfResults"`
			OverrideSearchType     string          `json:"overrideSearchType"`
			Filter                 json.RawMessage `json:"filter"`
			RerankingConfiguration *struct {
				Type                          string `json:"type"`
				BedrockRerankingConfiguration *struct {
					ModelConfiguration *struct {
						ModelArn string `json:"modelArn"`
					} `json:"modelConfiguration"`
					NumberOfRerankedResults *int `json:"numberOfRerankedResults"`
				} `json:"bedrockRerankingConfiguration"`
			} `json:"rerankingConfiguration"`
		} `json:"vectorSearchConfiguration"`
	} `json:"retrievalConfiguration"`
}

func (f *FakeAgentRuntime) serveRetrieve(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	id := r.PathValue("kbId")
	f.mu.Lock()
	f.reqs = append(f.reqs, RetrieveRequest{KnowledgeBaseID: id, Body: body, Header: r.Header.Clone()})
	var fault *Fault
	if len(f.faults) > 0 {
		fault = &f.faults[0]
		f.faults = f.faults[1:]
	}
	chunks, known := f.kbs[id]
	chunks = append([]KBChunk(nil), chunks...)
	pageSize := f.pageSize
	f.mu.Unlock()
	if fault != nil {
		writeFault(w, fault)
		return
	}
	invalid := func(format string, args ...any) {
		writeFault(w, &Fault{Code: "ValidationException", Message: fmt.Sprintf(format, args...)})
	}
	if !known {
		writeFault(w, &Fault{Code: "ResourceNotFoundException", Message: "knowledge base " + id + " does not exist"})
		return
	}
	var req retrieveBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		invalid("malformed request body: %v", err)
		return
	}
	if req.RetrievalQuery == nil || req.RetrievalQuery.Text == nil || *req.RetrievalQuery.Text == "" {
		invalid("retrievalQuery.text is required")
		return
	}
	n := 5
	var filter json.RawMessage
	reranked := 0
	if rc := req.RetrievalConfiguration; rc != nil && rc.VectorSearchConfiguration != nil {
		vc := rc.VectorSearchConfiguration
		if vc.NumberOfResults != nil {
			n = *vc.NumberOfResults
		}
		if n < 1 || n > 100 {
			invalid("numberOfResults must be between 1 and 100, got %d", n)
			return
		}
		switch vc.OverrideSearchType {
		case "", "HYBRID", "SEMANTIC":
		default:
			invalid("overrideSearchType must be HYBRID or SEMANTIC, got %q", vc.OverrideSearchType)
			return
		}
		filter = vc.Filter
		if rr := vc.RerankingConfiguration; rr != nil {
			b := rr.BedrockRerankingConfiguration
			if rr.Type != "BEDROCK_RERANKING_MODEL" || b == nil || b.ModelConfiguration == nil || b.ModelConfiguration.ModelArn == "" {
				invalid("rerankingConfiguration needs type BEDROCK_RERANKING_MODEL and a modelArn")
				return
			}
			if b.NumberOfRerankedResults != nil {
				reranked = *b.NumberOfRerankedResults
				if reranked < 1 || reranked > 100 {
					invalid("numberOfRerankedResults must be between 1 and 100, got %d", reranked)
					return
				}
			}
		}
	}
	var match func(map[string]any) bool
	if len(filter) > 0 && string(filter) != "null" {
		m, err := parseKBFilter(filter)
		if err != nil {
			invalid("filter: %v", err)
			return
		}
		match = m
	}
	words := kbWords(*req.RetrievalQuery.Text)
	type scored struct {
		c     KBChunk
		score float64
	}
	var hits []scored
	for _, c := range chunks {
		if match != nil && !match(normalizeJSONish(c.Metadata)) {
			continue
		}
		have := map[string]bool{}
		for _, w := range kbWords(c.Text) {
			have[w] = true
		}
		got := 0
		for _, w := range words {
			if have[w] {
				got++
			}
		}
		score := 0.0
		if len(words) > 0 {
			score = float64(got) / float64(len(words))
		}
		hits = append(hits, scored{c, score})
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].score > hits[j].score })
	if len(hits) > n {
		hits = hits[:n]
	}
	if reranked > 0 && len(hits) > reranked {
		hits = hits[:reranked]
	}
	start := 0
	if req.NextToken != nil {
		v, err := strconv.Atoi(strings.TrimPrefix(*req.NextToken, "page-"))
		if err != nil || v < 0 || v > len(hits) {
			invalid("invalid nextToken %q", *req.NextToken)
			return
		}
		start = v
	}
	end := len(hits)
	if pageSize > 0 && start+pageSize < end {
		end = start + pageSize
	}
	results := []map[string]any{}
	for _, h := range hits[start:end] {
		res := map[string]any{
			"content":  map[string]any{"type": "TEXT", "text": h.c.Text},
			"location": kbLocation(h.c.Location),
			"score":    h.score,
		}
		if h.c.Metadata != nil {
			res["metadata"] = h.c.Metadata
		}
		results = append(results, res)
	}
	out := map[string]any{"retrievalResults": results}
	if end < len(hits) {
		out["nextToken"] = "page-" + strconv.Itoa(end)
	}
	b, err := json.Marshal(out)
	if err != nil {
		writeFault(w, &Fault{Code: "InternalServerException", Message: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, b)
}

func kbLocation(loc string) map[string]any {
	switch {
	case strings.HasPrefix(loc, "s3://"):
		return map[string]any{"type": "S3", "s3Location": map[string]any{"uri": loc}}
	case strings.HasPrefix(loc, "http://"), strings.HasPrefix(loc, "https://"):
		return map[string]any{"type": "WEB", "webLocation": map[string]any{"url": loc}}
	}
	return map[string]any{"type": "CUSTOM", "customDocumentLocation": map[string]any{"id": loc}}
}

func kbWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// normalizeJSONish turns Go metadata into what it would be after a JSON
// round trip (float64 numbers, []any lists), so filters compare alike.
func normalizeJSONish(md map[string]any) map[string]any {
	if md == nil {
		return nil
	}
	b, err := json.Marshal(md)
	if err != nil {
		return nil
	}
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// parseKBFilter compiles a RetrievalFilter JSON object to a predicate with
// Bedrock's documented semantics.
func parseKBFilter(raw json.RawMessage) (func(map[string]any) bool, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || len(obj) != 1 {
		return nil, fmt.Errorf("a filter must be an object with exactly one operator, got %s", raw)
	}
	for op, body := range obj {
		switch op {
		case "andAll", "orAll":
			var kids []json.RawMessage
			if err := json.Unmarshal(body, &kids); err != nil {
				return nil, fmt.Errorf("%s must be a list", op)
			}
			if len(kids) < 2 {
				return nil, fmt.Errorf("%s needs at least 2 filters, got %d", op, len(kids))
			}
			preds := make([]func(map[string]any) bool, len(kids))
			for i, k := range kids {
				p, err := parseKBFilter(k)
				if err != nil {
					return nil, err
				}
				preds[i] = p
			}
			all := op == "andAll"
			return func(md map[string]any) bool {
				for _, p := range preds {
					if p(md) != all {
						return !all
					}
				}
				return all
			}, nil
		}
		var leaf struct {
			Key   *string `json:"key"`
			Value any     `json:"value"`
		}
		if err := json.Unmarshal(body, &leaf); err != nil || leaf.Key == nil || leaf.Value == nil {
			return nil, fmt.Errorf("%s needs a key and a value", op)
		}
		key, val := *leaf.Key, leaf.Value
		num := func(a any) (float64, bool) { f, ok := a.(float64); return f, ok }
		switch op {
		case "equals", "notEquals":
			neg := op == "notEquals"
			return func(md map[string]any) bool { return kbScalarEq(md[key], val) != neg }, nil
		case "in", "notIn":
			list, ok := val.([]any)
			if !ok {
				return nil, fmt.Errorf("%s needs a list value", op)
			}
			neg := op == "notIn"
			return func(md map[string]any) bool {
				for _, e := range list {
					if kbScalarEq(md[key], e) {
						return !neg
					}
				}
				return neg
			}, nil
		case "greaterThan", "greaterThanOrEquals", "lessThan", "lessThanOrEquals":
			y, ok := num(val)
			if !ok {
				return nil, fmt.Errorf("%s needs a number", op)
			}
			return func(md map[string]any) bool {
				x, ok := num(md[key])
				if !ok || math.IsNaN(x) {
					return false
				}
				switch op {
				case "greaterThan":
					return x > y
				case "greaterThanOrEquals":
					return x >= y
				case "lessThan":
					return x < y
				}
				return x <= y
			}, nil
		case "startsWith":
			p, ok := val.(string)
			if !ok {
				return nil, fmt.Errorf("startsWith needs a string")
			}
			return func(md map[string]any) bool { s, ok := md[key].(string); return ok && strings.HasPrefix(s, p) }, nil
		case "listContains":
			return func(md map[string]any) bool {
				l, _ := md[key].([]any)
				for _, e := range l {
					if kbScalarEq(e, val) {
						return true
					}
				}
				return false
			}, nil
		case "stringContains":
			sub, ok := val.(string)
			if !ok {
				return nil, fmt.Errorf("stringContains needs a string")
			}
			return func(md map[string]any) bool {
				switch a := md[key].(type) {
				case string:
					return strings.Contains(a, sub)
				case []any:
					for _, e := range a {
						if s, ok := e.(string); ok && strings.Contains(s, sub) {
							return true
						}
					}
				}
				return false
			}, nil
		}
		return nil, fmt.Errorf("unknown operator %q", op)
	}
	return nil, nil // unreachable: len(obj) == 1
}

func kbScalarEq(a, b any) bool {
	switch a.(type) {
	case string, bool, float64:
		return a == b // same dynamic type and value
	}
	return false
}

// RerankRequests returns copies of the bodies of the Rerank calls received,
// in arrival order.
func (f *FakeAgentRuntime) RerankRequests() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([][]byte, len(f.rerankReq))
	for i, b := range f.rerankReq {
		out[i] = bytes.Clone(b)
	}
	return out
}

type rerankBody struct {
	Queries []struct {
		Type      string `json:"type"`
		TextQuery *struct {
			Text *string `json:"text"`
		} `json:"textQuery"`
	} `json:"queries"`
	Sources []struct {
		Type                 string `json:"type"`
		InlineDocumentSource *struct {
			Type         string `json:"type"`
			TextDocument *struct {
				Text *string `json:"text"`
			} `json:"textDocument"`
			JSONDocument json.RawMessage `json:"jsonDocument"`
		} `json:"inlineDocumentSource"`
	} `json:"sources"`
	RerankingConfiguration *struct {
		Type                          string `json:"type"`
		BedrockRerankingConfiguration *struct {
			NumberOfResults    *int `json:"numberOfResults"`
			ModelConfiguration *struct {
				ModelArn string `json:"modelArn"`
			} `json:"modelConfiguration"`
		} `json:"bedrockRerankingConfiguration"`
	} `json:"rerankingConfiguration"`
	NextToken *string `json:"nextToken"`
}

// rerankModelARN is the pattern of reranking model ARNs Bedrock accepts
// (API_agent-runtime_BedrockRerankingModelConfiguration).
var rerankModelARN = regexp.MustCompile(`^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}::foundation-model/(amazon\.rerank-v1:0|cohere\.rerank-v3-5:0)$`)

func (f *FakeAgentRuntime) serveRerank(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	f.mu.Lock()
	f.rerankReq = append(f.rerankReq, body)
	var fault *Fault
	if len(f.faults) > 0 {
		fault = &f.faults[0]
		f.faults = f.faults[1:]
	}
	pageSize := f.pageSize
	f.mu.Unlock()
	if fault != nil {
		writeFault(w, fault)
		return
	}
	var c constraints
	var req rerankBody
	if err := json.Unmarshal(body, &req); err != nil {
		writeFault(w, validationFault("fakeagentruntime: malformed Rerank request body: %v", err))
		return
	}
	if n := len(req.Queries); n != 1 {
		op := "have length less than or equal to 1"
		if n == 0 {
			op = "have length greater than or equal to 1"
		}
		c.add(fmt.Sprintf("%d queries", n), "queries", op)
	}
	if n := len(req.Sources); n < 1 || n > 1000 {
		op := "have length less than or equal to 1000"
		if n == 0 {
			op = "have length greater than or equal to 1"
		}
		c.add(fmt.Sprintf("%d sources", n), "sources", op)
	}
	rc := req.RerankingConfiguration
	if rc == nil || rc.BedrockRerankingConfiguration == nil || rc.BedrockRerankingConfiguration.ModelConfiguration == nil {
		writeFault(w, validationFault("fakeagentruntime: rerankingConfiguration.bedrockRerankingConfiguration.modelConfiguration is required"))
		return
	}
	if rc.Type != "BEDROCK_RERANKING_MODEL" {
		c.add(rc.Type, "rerankingConfiguration.type", "satisfy enum value set: [BEDROCK_RERANKING_MODEL]")
	}
	arn := rc.BedrockRerankingConfiguration.ModelConfiguration.ModelArn
	if !rerankModelARN.MatchString(arn) {
		c.add(arn, "rerankingConfiguration.bedrockRerankingConfiguration.modelConfiguration.modelArn", "satisfy regular expression pattern: "+rerankModelARN.String())
	}
	n := len(req.Sources)
	if p := rc.BedrockRerankingConfiguration.NumberOfResults; p != nil {
		n = *p
		if n < 1 || n > 1000 {
			c.add(strconv.Itoa(n), "rerankingConfiguration.bedrockRerankingConfiguration.numberOfResults", "have value between 1 and 1000")
		}
	}
	if f := c.fault(); f != nil {
		writeFault(w, f)
		return
	}
	q := req.Queries[0]
	if q.Type != "TEXT" || q.TextQuery == nil || q.TextQuery.Text == nil || *q.TextQuery.Text == "" {
		writeFault(w, validationFault("fakeagentruntime: queries[0] must be of type TEXT with a non-empty textQuery.text"))
		return
	}
	words := kbWords(*q.TextQuery.Text)
	type scored struct {
		index int
		score float64
	}
	hits := make([]scored, 0, len(req.Sources))
	for i, src := range req.Sources {
		d := src.InlineDocumentSource
		if src.Type != "INLINE" || d == nil {
			writeFault(w, validationFault("fakeagentruntime: sources[%d] must be of type INLINE with an inlineDocumentSource", i))
			return
		}
		var text string
		switch {
		case d.Type == "TEXT" && d.TextDocument != nil && d.TextDocument.Text != nil:
			text = *d.TextDocument.Text
		case d.Type == "JSON" && len(d.JSONDocument) > 0:
			text = string(d.JSONDocument)
		default:
			writeFault(w, validationFault("fakeagentruntime: sources[%d].inlineDocumentSource must be TEXT with textDocument or JSON with jsonDocument", i))
			return
		}
		have := map[string]bool{}
		for _, w := range kbWords(text) {
			have[w] = true
		}
		got := 0
		for _, w := range words {
			if have[w] {
				got++
			}
		}
		score := 0.0
		if len(words) > 0 {
			score = float64(got) / float64(len(words))
		}
		hits = append(hits, scored{i, score})
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].score > hits[j].score })
	hits = hits[:min(n, len(hits))]
	start := 0
	if req.NextToken != nil {
		v, err := strconv.Atoi(strings.TrimPrefix(*req.NextToken, "rerank-"))
		if err != nil || v < 0 || v > len(hits) {
			writeFault(w, validationFault("fakeagentruntime: invalid nextToken %q", *req.NextToken))
			return
		}
		start = v
	}
	end := len(hits)
	if pageSize > 0 && start+pageSize < end {
		end = start + pageSize
	}
	results := make([]map[string]any, 0, end-start)
	for _, h := range hits[start:end] {
		results = append(results, map[string]any{"index": h.index, "relevanceScore": h.score})
	}
	resp := map[string]any{"results": results}
	if end < len(hits) {
		resp["nextToken"] = "rerank-" + strconv.Itoa(end)
	}
	out, _ := json.Marshal(resp)
	writeJSON(w, http.StatusOK, out)
}
