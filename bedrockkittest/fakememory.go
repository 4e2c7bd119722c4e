package bedrockkittest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
)

// MemoryEvent is an event held by FakeMemory (AgentCore Memory's Event).
type MemoryEvent struct {
	MemoryID, ActorID, SessionID, EventID string
	Timestamp                             time.Time
	// Payload is the event's payload list as sent: each item one of
	// {"conversational": {...}}, {"blob": ...} or {"json": ...}.
	Payload []json.RawMessage
	// Metadata holds the event's string metadata.
	Metadata map[string]string
	// Branch is the branch name, if any.
	Branch string
}

// MemoryRecordData is a memory record held by FakeMemory.
type MemoryRecordData struct {
	MemoryID   string
	ID         string
	Text       string
	StrategyID string
	Namespaces []string
	CreatedAt  time.Time
	// Timestamp is the record's source time, as given on create or update.
	Timestamp time.Time
	// ExpiresAt is zero when the record does not expire.
	ExpiresAt time.Time
	// Metadata values are string, []string, float64 or time.Time.
	Metadata map[string]any
}

// FakeMemory is an in-process Amazon Bedrock AgentCore Memory data plane
// serving the short-term event operations (CreateEvent, GetEvent,
// DeleteEvent, ListEvents, ListSessions, ListActors) and the long-term
// memory-record operations (RetrieveMemoryRecords, ListMemoryRecords,
// GetMemoryRecord, DeleteMemoryRecord, BatchCreate/Update/DeleteMemoryRecords)
// over their real REST-JSON wire protocol, so a real *bedrockagentcore.Client
// pointed at it (see Client) works unchanged.
//
// Memories are created with AddMemory. Requests are validated as the
// service model documents (memory, actor, session and event ID patterns;
// 1 to 100 payload items, conversational text 1 to 100,000 characters with
// a known role; 1 to 100 batch records with a request identifier of 1 to 80
// characters, exactly one namespace of at most 512 characters and content
// of 1 to 16,000 characters; at most 20 record metadata entries (strings of
// at most 256 characters, string lists of at most 5); search queries of 1
// to 10,000 characters, topK 1 to 100, maxResults 1 to 100; at most 5
// metadata filters) and refused with ValidationException; unknown memories,
// events and records answer ResourceNotFoundException.
//
// RetrieveMemoryRecords ranks the records of the namespace (exact) or
// namespacePath (prefix) by the cosine similarity of HashEmbedder vectors
// of the query and the record, so related texts rank first, and returns
// it as score. Records whose recordExpirySpecification (days) has passed,
// by the clock set with SetNow, are neither listed nor returned. Lists page
// with nextToken. The fake extracts no records from events by itself:
// SetExtractor installs a function that plays the service's strategies,
// run when an event is created without extractionMode SKIP. Errors come back
// the AWS way, which the SDK turns into its typed errors (FailNext scripts
// them). Authentication is not checked.
//
// It is safe for concurrent use.
type FakeMemory struct {
	srv *httptest.Server

	mu       sync.Mutex
	memories map[string]*fakeMemoryState
	faults   map[string][]Fault
	calls    map[string]int
	now      func() time.Time
	extract  func(MemoryEvent) []MemoryRecordData
	seq      int
}

type fakeMemoryState struct {
	events  []*MemoryEvent // in creation order
	records map[string]*MemoryRecordData
	order   []string // record IDs in creation order
}

// NewFakeMemory starts a FakeMemory closed when the test ends.
func NewFakeMemory(t testing.TB) *FakeMemory {
	t.Helper()
	f := StartFakeMemory()
	t.Cleanup(f.Close)
	return f
}

// StartFakeMemory starts a FakeMemory outside a test; the caller must
// Close it.
func StartFakeMemory() *FakeMemory {
	f := &FakeMemory{memories: map[string]*fakeMemoryState{}, faults: map[string][]Fault{}, calls: map[string]int{}, now: time.Now}
	mux := http.NewServeMux()
	route := func(pattern, op string, h func(w http.ResponseWriter, r *http.Request, st *fakeMemoryState, body []byte)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { f.serve(w, r, op, h) })
	}
	route("POST /memories/{m}/events", "CreateEvent", f.createEvent)
	route("GET /memories/{m}/actor/{a}/sessions/{s}/events/{e}", "GetEvent", f.getEvent)
	route("DELETE /memories/{m}/actor/{a}/sessions/{s}/events/{e}", "DeleteEvent", f.deleteEvent)
	route("POST /memories/{m}/actor/{a}/sessions/{s}", "ListEvents", f.listEvents)
	route("POST /memories/{m}/actor/{a}/sessions", "ListSessions", f.listSessions)
	route("POST /memories/{m}/actors", "ListActors", f.listActors)
	route("POST /memories/{m}/retrieve", "RetrieveMemoryRecords", f.retrieve)
	route("POST /memories/{m}/memoryRecords", "ListMemoryRecords", f.listRecords)
	route("GET /memories/{m}/memoryRecord/{id}", "GetMemoryRecord", f.getRecord)
	route("DELETE /memories/{m}/memoryRecords/{id}", "DeleteMemoryRecord", f.deleteRecord)
	route("POST /memories/{m}/memoryRecords/batchCreate", "BatchCreateMemoryRecords", f.batchCreate)
	route("POST /memories/{m}/memoryRecords/batchUpdate", "BatchUpdateMemoryRecords", f.batchUpdate)
	route("POST /memories/{m}/memoryRecords/batchDelete", "BatchDeleteMemoryRecords", f.batchDelete)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeFault(w, &Fault{Code: "UnknownOperationException", Status: http.StatusNotFound,
			Message: fmt.Sprintf("fakememory: no operation at %s %s; FakeMemory serves the AgentCore Memory event and memory-record operations", r.Method, r.URL.EscapedPath())})
	})
	f.srv = httptest.NewServer(mux)
	return f
}

// URL returns the server's base URL, for BaseEndpoint.
func (f *FakeMemory) URL() string { return f.srv.URL }

// Close shuts the server down. Calling it again does nothing.
func (f *FakeMemory) Close() { f.srv.Close() }

// Client returns a real AgentCore data-plane client for the server: region
// us-east-1, static fake credentials, BaseEndpoint set to URL and SDK
// retries off. optFns run last.
func (f *FakeMemory) Client(optFns ...func(*bedrockagentcore.Options)) *bedrockagentcore.Client {
	opts := bedrockagentcore.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDFAKEAGENTCORE", "fake-secret-key", ""),
		BaseEndpoint: aws.String(f.srv.URL),
		HTTPClient:   ownBodyClient{f.srv.Client()},
		Retryer:      aws.NopRetryer{},
	}
	return bedrockagentcore.New(opts, optFns...)
}

var memoryIDRe = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_-]{0,99}-[a-zA-Z0-9]{10}$`)

// AddMemory creates an empty memory and returns its ID. name (letters,
// digits, '-', '_', starting with a letter; "memory" when empty) is the
// ID's prefix, as AgentCore names memories "<name>-<10 characters>".
func (f *FakeMemory) AddMemory(name string) string {
	if name == "" {
		name = "memory"
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	id := fmt.Sprintf("%s-%010d", name, f.seq)
	if !memoryIDRe.MatchString(id) {
		panic(fmt.Sprintf("bedrockkittest: AddMemory(%q): not a valid memory name", name))
	}
	f.memories[id] = &fakeMemoryState{records: map[string]*MemoryRecordData{}}
	return id
}

// SetNow sets the clock used for event and record times and expiry.
func (f *FakeMemory) SetNow(now func() time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = now
}

// SetExtractor installs fn as the service's extraction: for every event
// created without extractionMode SKIP, the records fn returns are stored
// (IDs, creation times and defaults filled in), as a memory with
// strategies would do asynchronously. fn runs while the server holds its
// lock: it must not call the FakeMemory.
func (f *FakeMemory) SetExtractor(fn func(MemoryEvent) []MemoryRecordData) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.extract = fn
}

// FailNext makes the next calls of op (such as "CreateEvent") fail with
// faults, in order.
func (f *FakeMemory) FailNext(op string, faults ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[op] = append(f.faults[op], faults...)
}

// Calls returns how many calls of op the server received.
func (f *FakeMemory) Calls(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// Events returns copies of a memory's events, in creation order.
func (f *FakeMemory) Events(memoryID string) []MemoryEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.memories[memoryID]
	if st == nil {
		return nil
	}
	out := make([]MemoryEvent, len(st.events))
	for i, e := range st.events {
		out[i] = cloneMemoryEvent(e)
	}
	return out
}

// Records returns copies of a memory's records (expired ones included),
// in creation order.
func (f *FakeMemory) Records(memoryID string) []MemoryRecordData {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.memories[memoryID]
	if st == nil {
		return nil
	}
	out := make([]MemoryRecordData, 0, len(st.order))
	for _, id := range st.order {
		out = append(out, cloneMemoryRecord(st.records[id]))
	}
	return out
}

func cloneMemoryEvent(e *MemoryEvent) MemoryEvent {
	c := *e
	c.Payload = slices.Clone(e.Payload)
	c.Metadata = make(map[string]string, len(e.Metadata))
	for k, v := range e.Metadata {
		c.Metadata[k] = v
	}
	return c
}

func cloneMemoryRecord(r *MemoryRecordData) MemoryRecordData {
	c := *r
	c.Namespaces = slices.Clone(r.Namespaces)
	c.Metadata = make(map[string]any, len(r.Metadata))
	for k, v := range r.Metadata {
		if l, ok := v.([]string); ok {
			v = slices.Clone(l)
		}
		c.Metadata[k] = v
	}
	return c
}

// ---- plumbing ----

// memFault is an error the handlers return; the server writes it.
type memFault struct{ f Fault }

func memInvalid(format string, args ...any) *memFault {
	return &memFault{Fault{Code: "ValidationException", Status: http.StatusBadRequest, Message: "fakememory: " + fmt.Sprintf(format, args...)}}
}

func memNotFound(format string, args ...any) *memFault {
	return &memFault{Fault{Code: "ResourceNotFoundException", Status: http.StatusNotFound, Message: "fakememory: " + fmt.Sprintf(format, args...)}}
}

// memStatus gives AgentCore Memory's statuses for its error codes.
func memStatus(code string) int {
	switch normalizeCode(code) {
	case "ThrottledException", "ThrottlingException":
		return http.StatusTooManyRequests
	case "ServiceException":
		return http.StatusInternalServerError
	case "ServiceQuotaExceededException":
		return http.StatusPaymentRequired
	case "RetryableConflictException", "ConflictException":
		return http.StatusConflict
	}
	return StatusFor(code)
}

// serve takes the memory's lock, checks the memory exists and runs h,
// which writes the reply or returns a fault by panicking with *memFault.
func (f *FakeMemory) serve(w http.ResponseWriter, r *http.Request, op string, h func(w http.ResponseWriter, r *http.Request, st *fakeMemoryState, body []byte)) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[op]++
	if q := f.faults[op]; len(q) > 0 {
		fault := q[0]
		f.faults[op] = q[1:]
		if fault.Status == 0 {
			fault.Status = memStatus(fault.Code)
		}
		writeFault(w, &fault)
		return
	}
	defer func() {
		if v := recover(); v != nil {
			mf, ok := v.(*memFault)
			if !ok {
				panic(v)
			}
			writeFault(w, &mf.f)
		}
	}()
	m := r.PathValue("m")
	if !memoryIDRe.MatchString(m) {
		panic(memInvalid("memoryId %q does not match [a-zA-Z][a-zA-Z0-9-_]{0,99}-[a-zA-Z0-9]{10}", m))
	}
	st := f.memories[m]
	if st == nil {
		panic(memNotFound("memory %s does not exist", m))
	}
	if len(bytes.TrimSpace(body)) > 0 && !json.Valid(body) {
		panic(memInvalid("request body is not valid JSON"))
	}
	h(w, r, st, body)
}

func decodeMem(body []byte, v any) {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		panic(memInvalid("request body does not match the operation's input: %v", err))
	}
}

func replyMem(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	writeJSON(w, status, b)
}

// epoch is a timestamp on the wire: epoch seconds (restJson1's default);
// an RFC 3339 string is accepted too.
type epoch struct{ t time.Time }

func (e *epoch) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err == nil {
		sec, frac := math.Modf(f)
		e.t = time.Unix(int64(sec), int64(math.Round(frac*1e3))*int64(time.Millisecond)).UTC()
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("timestamp must be epoch seconds or an RFC 3339 string")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	e.t = t.UTC()
	return err
}

func epochOf(t time.Time) json.Number {
	return json.Number(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64))
}

var (
	actorIDRe   = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9\-_/]*(?::[a-zA-Z0-9\-_/]+)*[a-zA-Z0-9\-_/]*$`)
	sessionIDRe = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9\-_]*$`)
	eventIDRe   = regexp.MustCompile(`^[0-9]+#[a-fA-F0-9]+$`)
	metaKeyRe   = regexp.MustCompile(`^[a-zA-Z0-9\s._:/=+@-]*$`)
)

func checkActor(a string) {
	if a == "" || utf8.RuneCountInString(a) > 255 || !actorIDRe.MatchString(a) {
		panic(memInvalid("actorId %q must be 1-255 characters matching %s", a, actorIDRe))
	}
}

func checkSession(s string) {
	if s == "" || len(s) > 100 || !sessionIDRe.MatchString(s) {
		panic(memInvalid("sessionId %q must be 1-100 characters matching %s", s, sessionIDRe))
	}
}

func checkMaxResults(n *int, def int) int {
	if n == nil {
		return def
	}
	if *n < 1 || *n > 100 {
		panic(memInvalid("maxResults must be between 1 and 100, got %d", *n))
	}
	return *n
}

// page returns items[start:start+n] and the next token.
func page[T any](items []T, token *string, n int) ([]T, *string) {
	start := 0
	if token != nil {
		v, err := strconv.Atoi(*token)
		if err != nil || v < 0 || v > len(items) {
			panic(memInvalid("nextToken %q is not valid", *token))
		}
		start = v
	}
	end := min(start+n, len(items))
	var next *string
	if end < len(items) {
		s := strconv.Itoa(end)
		next = &s
	}
	return items[start:end], next
}

// ---- events ----

type memPayload struct {
	Conversational *struct {
		Content *struct {
			Text *string `json:"text"`
		} `json:"content"`
		Role string `json:"role"`
	} `json:"conversational"`
	Blob json.RawMessage `json:"blob"`
	JSON json.RawMessage `json:"json"`
}

func (e *MemoryEvent) wire() map[string]any {
	out := map[string]any{"memoryId": e.MemoryID, "actorId": e.ActorID, "sessionId": e.SessionID, "eventId": e.EventID,
		"eventTimestamp": epochOf(e.Timestamp), "payload": e.Payload}
	if len(e.Metadata) > 0 {
		md := map[string]any{}
		for k, v := range e.Metadata {
			md[k] = map[string]string{"stringValue": v}
		}
		out["metadata"] = md
	}
	if e.Branch != "" {
		out["branch"] = map[string]string{"name": e.Branch}
	}
	return out
}

func (f *FakeMemory) createEvent(w http.ResponseWriter, r *http.Request, st *fakeMemoryState, body []byte) {
	var req struct {
		ActorID        string                     `json:"actorId"`
		SessionID      *string                    `json:"sessionId"`
		EventTimestamp *epoch                     `json:"eventTimestamp"`
		Payload        []json.RawMessage          `json:"payload"`
		Branch         *struct{ Name string }     `json:"branch"`
		Metadata       map[string]json.RawMessage `json:"metadata"`
		ExtractionMode string                     `json:"extractionMode"`
	}
	decodeMem(body, &req)
	checkActor(req.ActorID)
	session := "default"
	if req.SessionID != nil {
		checkSession(*req.SessionID)
		session = *req.SessionID
	}
	if req.EventTimestamp == nil {
		panic(memInvalid("eventTimestamp is required"))
	}
	if len(req.Payload) < 1 || len(req.Payload) > 100 {
		panic(memInvalid("payload must hold 1 to 100 items, got %d", len(req.Payload)))
	}
	for i, raw := range req.Payload {
		var p memPayload
		if err := json.Unmarshal(raw, &p); err != nil {
			panic(memInvalid("payload[%d] is not a PayloadType: %v", i, err))
		}
		set := 0
		for _, ok := range []bool{p.Conversational != nil, len(p.Blob) > 0, len(p.JSON) > 0} {
			if ok {
				set++
			}
		}
		if set != 1 {
			panic(memInvalid("payload[%d] must set exactly one of conversational, blob and json", i))
		}
		if c := p.Conversational; c != nil {
			if c.Content == nil || c.Content.Text == nil || utf8.RuneCountInString(*c.Content.Text) < 1 || utf8.RuneCountInString(*c.Content.Text) > 100000 {
				panic(memInvalid("payload[%d].conversational.content.text must be 1 to 100,000 characters", i))
			}
			switch c.Role {
			case "USER", "ASSISTANT", "TOOL", "OTHER":
			default:
				panic(memInvalid("payload[%d].conversational.role %q must be USER, ASSISTANT, TOOL or OTHER", i, c.Role))
			}
		}
		if len(p.JSON) > 100*1024 {
			panic(memInvalid("payload[%d].json is larger than 100 KB", i))
		}
	}
	if len(req.Metadata) > 15 {
		panic(memInvalid("metadata holds %d entries; at most 15", len(req.Metadata)))
	}
	md := map[string]string{}
	for k, raw := range req.Metadata {
		var v struct {
			StringValue *string `json:"stringValue"`
		}
		if err := json.Unmarshal(raw, &v); err != nil || v.StringValue == nil || len(k) < 1 || len(k) > 128 || len(*v.StringValue) > 256 || !metaKeyRe.MatchString(*v.StringValue) {
			panic(memInvalid("metadata %q must be a key of 1-128 characters with a stringValue of at most 256 characters", k))
		}
		md[k] = *v.StringValue
	}
	if req.ExtractionMode != "" && req.ExtractionMode != "SKIP" {
		panic(memInvalid("extractionMode %q must be SKIP", req.ExtractionMode))
	}
	var rb [4]byte
	_, _ = rand.Read(rb[:])
	ev := &MemoryEvent{MemoryID: r.PathValue("m"), ActorID: req.ActorID, SessionID: session,
		EventID:   fmt.Sprintf("%d#%s", req.EventTimestamp.t.UnixMilli(), hex.EncodeToString(rb[:])),
		Timestamp: req.EventTimestamp.t, Payload: req.Payload, Metadata: md}
	if req.Branch != nil {
		ev.Branch = req.Branch.Name
	}
	st.events = append(st.events, ev)
	if f.extract != nil && req.ExtractionMode != "SKIP" {
		for _, rec := range f.extract(cloneMemoryEvent(ev)) {
			rec := rec
			rec.MemoryID, rec.ID, rec.CreatedAt = ev.MemoryID, newMemoryRecordID(), f.now().UTC()
			if rec.Timestamp.IsZero() {
				rec.Timestamp = ev.Timestamp
			}
			st.records[rec.ID] = &rec
			st.order = append(st.order, rec.ID)
		}
	}
	replyMem(w, http.StatusCreated, map[string]any{"event": ev.wire()})
}

func (f *FakeMemory) findEvent(st *fakeMemoryState, r *http.Request) (int, *MemoryEvent) {
	a, s, e := r.PathValue("a"), r.PathValue("s"), r.PathValue("e")
	checkActor(a)
	checkSession(s)
	if !eventIDRe.MatchString(e) {
		panic(memInvalid("eventId %q does not match %s", e, eventIDRe))
	}
	for i, ev := range st.events {
		if ev.ActorID == a && ev.SessionID == s && ev.EventID == e {
			return i, ev
		}
	}
	panic(memNotFound("event %s of actor %s in session %s does not exist", e, a, s))
}

func (f *FakeMemory) getEvent(w http.ResponseWriter, r *http.Request, st *fakeMemoryState, _ []byte) {
	_, ev := f.findEvent(st, r)
	replyMem(w, http.StatusOK, map[string]any{"event": ev.wire()})
}

func (f *FakeMemory) deleteEvent(w http.ResponseWriter, r *http.Request, st *fakeMemoryState, _ []byte) {
	i, ev := f.findEvent(st, r)
	st.events = slices.Delete(st.events, i, i+1)
	replyMem(w, http.StatusOK, map[string]any{"eventId": ev.EventID})
}

func (f *FakeMemory) listEvents(w http.ResponseWriter, r *http.Request, st *fakeMemoryState, body []byte) {
	a, s := r.PathValue("a"), r.PathValue("s")
	checkActor(a)
	checkSession(s)
	var req struct {
		IncludePayloads *bool   `json:"includePayloads"`
		MaxResults      *int    `json:"maxResults"`
		NextToken       *string `json:"nextToken"`
		Filter          *struct {
			Branch *struct {
				Name string `json:"name"`
			} `json:"branch"`
		} `json:"filter"`
	}
	decodeMem(body, &req)
	n := checkMaxResults(req.MaxResults, 20)
	var evs []map[string]any
	for _, ev := range st.events {
		if ev.ActorID != a || ev.SessionID != s {
			continue
		}
		if req.Filter != nil && req.Filter.Branch != nil && ev.Branch != req.Filter.Branch.Name {
			continue
		}
		wire := ev.wire()
		if req.IncludePayloads != nil && !*req.IncludePayloads {
			delete(wire, "payload")
		}
		evs = append(evs, wire)
	}
	items, next := page(evs, req.NextToken, n)
	out := map[string]any{"events": nonNil(items)}
	if next != nil {
		out["nextToken"] = *next
	}
	replyMem(w, http.StatusOK, out)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (f *FakeMemory) listSessions(w http.ResponseWriter, r *http.Request, st *fakeMemoryState, body []byte) {
	a := r.PathValue("a")
	checkActor(a)
	var req struct {
		MaxResults *int    `json:"maxResults"`
		NextToken  *string `json:"nextToken"`
	}
	decodeMem(body, &req)
	n := checkMaxResults(req.MaxResults, 20)
	seen := map[string]bool{}
	var out []map[string]any
	for _, ev := range st.events {
		if ev.ActorID == a && !seen[ev.SessionID] {
			seen[ev.SessionID] = true
			out = append(out, map[string]any{"sessionId": ev.SessionID, "actorId": a, "createdAt": epochOf(ev.Timestamp)})
		}
	}
	items, next := page(out, req.NextToken, n)
	res := map[string]any{"sessionSummaries": nonNil(items)}
	if next != nil {
		res["nextToken"] = *next
	}
	replyMem(w, http.StatusOK, res)
}

func (f *FakeMemory) listActors(w http.ResponseWriter, r *http.Request, st *fakeMemoryState, body []byte) {
	var req struct {
		MaxResults *int    `json:"maxResults"`
		NextToken  *string `json:"nextToken"`
	}
	decodeMem(body, &req)
	n := checkMaxResults(req.MaxResults, 20)
	seen := map[string]bool{}
	var out []map[string]any
	for _, ev := range st.events {
		if !seen[ev.ActorID] {
			seen[ev.ActorID] = true
			out = append(out, map[string]any{"actorId": ev.ActorID})
		}
	}
	items, next := page(out, req.NextToken, n)
	res := map[string]any{"actorSummaries": nonNil(items)}
	if next != nil {
		res["nextToken"] = *next
	}
	replyMem(w, http.StatusOK, res)
}

// ---- memory records ----

func newMemoryRecordID() string {
	var b [18]byte
	_, _ = rand.Read(b[:])
	return "mem-" + hex.EncodeToString(b[:])
}

var memRecordIDRe = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]{11,49}$`)

func checkRecordID(id string) {
	if len(id) < 12 || len(id) > 50 || !memRecordIDRe.MatchString(id) {
		panic(memInvalid("memoryRecordId %q must be 12-50 characters matching %s", id, memRecordIDRe))
	}
}

func checkNamespace(what, ns string) {
	if ns == "" || utf8.RuneCountInString(ns) > 512 {
		panic(memInvalid("%s must be 1 to 512 characters, got %d", what, utf8.RuneCountInString(ns)))
	}
}

func (rec *MemoryRecordData) wire(score *float64) map[string]any {
	out := map[string]any{"memoryRecordId": rec.ID, "content": map[string]string{"text": rec.Text},
		"memoryStrategyId": rec.StrategyID, "namespaces": nonNil(rec.Namespaces), "createdAt": epochOf(rec.CreatedAt)}
	if !rec.Timestamp.IsZero() {
		out["timestamp"] = epochOf(rec.Timestamp)
	}
	if score != nil {
		out["score"] = *score
	} else if !rec.ExpiresAt.IsZero() {
		out["expiresAt"] = epochOf(rec.ExpiresAt)
	}
	if len(rec.Metadata) > 0 {
		md := map[string]any{}
		for k, v := range rec.Metadata {
			switch x := v.(type) {
			case string:
				md[k] = map[string]any{"stringValue": x}
			case []string:
				md[k] = map[string]any{"stringListValue": x}
			case float64:
				md[k] = map[string]any{"numberValue": x}
			case time.Time:
				md[k] = map[string]any{"dateTimeValue": epochOf(x)}
			}
		}
		out["metadata"] = md
	}
	return out
}

// memMetaValue is a MemoryRecordMetadataValue on the wire.
type memMetaValue struct {
	StringValue     *string  `json:"stringValue"`
	StringListValue []string `json:"stringListValue"`
	NumberValue     *float64 `json:"numberValue"`
	DateTimeValue   *epoch   `json:"dateTimeValue"`
}

func (v memMetaValue) value(key string) any {
	set := 0
	var out any
	if v.StringValue != nil {
		set++
		if utf8.RuneCountInString(*v.StringValue) > 256 {
			panic(memInvalid("metadata %q: stringValue is longer than 256 characters", key))
		}
		out = *v.StringValue
	}
	if v.StringListValue != nil {
		set++
		if len(v.StringListValue) > 5 {
			panic(memInvalid("metadata %q: stringListValue holds %d values; at most 5", key, len(v.StringListValue)))
		}
		for _, s := range v.StringListValue {
			if utf8.RuneCountInString(s) > 256 {
				panic(memInvalid("metadata %q: a stringListValue entry is longer than 256 characters", key))
			}
		}
		out = slices.Clone(v.StringListValue)
	}
	if v.NumberValue != nil {
		set++
		out = *v.NumberValue
	}
	if v.DateTimeValue != nil {
		set++
		out = v.DateTimeValue.t
	}
	if set != 1 {
		panic(memInvalid("metadata %q must set exactly one of stringValue, stringListValue, numberValue and dateTimeValue", key))
	}
	return out
}

func recordMetadata(md map[string]memMetaValue) map[string]any {
	if len(md) > 20 {
		panic(memInvalid("metadata holds %d entries; at most 20", len(md)))
	}
	out := make(map[string]any, len(md))
	for k, v := range md {
		if k == "" || len(k) > 128 {
			panic(memInvalid("metadata key %q must be 1 to 128 characters", k))
		}
		out[k] = v.value(k)
	}
	return out
}

type memExpiry struct {
	Days   *int   `json:"recordExpiryDurationDays"`
	Action string `json:"action"`
}

// expiry returns the expiry a specification sets (zero for none) and
// whether it removes an existing one.
func (f *FakeMemory) expiry(spec *memExpiry, creating bool) (time.Time, bool) {
	if spec == nil {
		return time.Time{}, false
	}
	switch {
	case spec.Days != nil && spec.Action != "":
		panic(memInvalid("recordExpirySpecification must set one of recordExpiryDurationDays and action"))
	case spec.Days != nil:
		if *spec.Days < 1 || *spec.Days > 36500 {
			panic(memInvalid("recordExpiryDurationDays must be at least 1, got %d", *spec.Days))
		}
		return f.now().UTC().Add(time.Duration(*spec.Days) * 24 * time.Hour), false
	case spec.Action == "REMOVE" && !creating:
		return time.Time{}, true
	}
	panic(memInvalid("recordExpirySpecification: action %q is not valid here", spec.Action))
}

func (f *FakeMemory) live(rec *MemoryRecordData) bool {
	return rec.ExpiresAt.IsZero() || f.now().Before(rec.ExpiresAt)
}

type memContent struct {
	Text *string `json:"text"`
}

func checkContent(i int, c *memContent) string {
	if c == nil || c.Text == nil || utf8.RuneCountInString(*c.Text) < 1 || utf8.RuneCountInString(*c.Text) > 16000 {
		panic(memInvalid("records[%d].content.text must be 1 to 16,000 characters", i))
	}
	return *c.Text
}

func batchResult(status, id, reqID string, code int, msg string) map[string]any {
	out := map[string]any{"memoryRecordId": id, "status": status}
	if reqID != "" {
		out["requestIdentifier"] = reqID
	}
	if code != 0 {
		out["errorCode"] = code
		out["errorMessage"] = msg
	}
	return out
}

func (f *FakeMemory) batchCreate(w http.ResponseWriter, r *http.Request, st *fakeMemoryState, body []byte) {
	var req struct {
		Records []struct {
			RequestIdentifier *string                 `json:"requestIdentifier"`
			Namespaces        []string                `json:"namespaces"`
			Content           *memContent             `json:"content"`
			Timestamp         *epoch                  `json:"timestamp"`
			MemoryStrategyID  *string                 `json:"memoryStrategyId"`
			Metadata          map[string]memMetaValue `json:"metadata"`
		} `json:"records"`
		ClientToken *string    `json:"clientToken"`
		Expiry      *memExpiry `json:"recordExpirySpecification"`
	}
	decodeMem(body, &req)
	if len(req.Records) < 1 || len(req.Records) > 100 {
		panic(memInvalid("records must hold 1 to 100 records, got %d", len(req.Records)))
	}
	expires, _ := f.expiry(req.Expiry, true)
	created := make([]*MemoryRecordData, len(req.Records))
	ids := map[string]bool{}
	for i, in := range req.Records {
		if in.RequestIdentifier == nil || len(*in.RequestIdentifier) < 1 || len(*in.RequestIdentifier) > 80 {
			panic(memInvalid("records[%d].requestIdentifier must be 1 to 80 characters", i))
		}
		if ids[*in.RequestIdentifier] {
			panic(memInvalid("records[%d].requestIdentifier %q is used twice", i, *in.RequestIdentifier))
		}
		ids[*in.RequestIdentifier] = true
		if len(in.Namespaces) != 1 {
			panic(memInvalid("records[%d].namespaces must hold exactly one namespace, got %d", i, len(in.Namespaces)))
		}
		checkNamespace(fmt.Sprintf("records[%d].namespaces[0]", i), in.Namespaces[0])
		if in.Timestamp == nil {
			panic(memInvalid("records[%d].timestamp is required", i))
		}
		rec := &MemoryRecordData{MemoryID: r.PathValue("m"), ID: newMemoryRecordID(), Text: checkContent(i, in.Content),
			Namespaces: slices.Clone(in.Namespaces), CreatedAt: f.now().UTC(), Timestamp: in.Timestamp.t,
			ExpiresAt: expires, Metadata: recordMetadata(in.Metadata)}
		if in.MemoryStrategyID != nil {
			rec.StrategyID = *in.MemoryStrategyID
		}
		created[i] = rec
	}
	var ok []map[string]any
	for i, rec := range created {
		st.records[rec.ID] = rec
		st.order = append(st.order, rec.ID)
		ok = append(ok, batchResult("SUCCEEDED", rec.ID, *req.Records[i].RequestIdentifier, 0, ""))
	}
	replyMem(w, http.StatusCreated, map[string]any{"successfulRecords": ok, "failedRecords": []any{}})
}

func (f *FakeMemory) batchUpdate(w http.ResponseWriter, r *http.Request, st *fakeMemoryState, body []byte) {
	var req struct {
		Records []struct {
			MemoryRecordID   string                  `json:"memoryRecordId"`
			Timestamp        *epoch                  `json:"timestamp"`
			Content          *memContent             `json:"content"`
			Namespaces       []string                `json:"namespaces"`
			MemoryStrategyID *string                 `json:"memoryStrategyId"`
			Metadata         map[string]memMetaValue `json:"metadata"`
		} `json:"records"`
		Expiry *memExpiry `json:"recordExpirySpecification"`
	}
	decodeMem(body, &req)
	if len(req.Records) < 1 || len(req.Records) > 100 {
		panic(memInvalid("records must hold 1 to 100 records, got %d", len(req.Records)))
	}
	expires, remove := f.expiry(req.Expiry, false)
	var ok, failed []map[string]any
	for i, in := range req.Records {
		checkRecordID(in.MemoryRecordID)
		if in.Timestamp == nil {
			panic(memInvalid("records[%d].timestamp is required", i))
		}
		if in.Content != nil {
			checkContent(i, in.Content)
		}
		if in.Namespaces != nil {
			if len(in.Namespaces) != 1 {
				panic(memInvalid("records[%d].namespaces must hold exactly one namespace", i))
			}
			checkNamespace(fmt.Sprintf("records[%d].namespaces[0]", i), in.Namespaces[0])
		}
		if in.Metadata != nil {
			recordMetadata(in.Metadata)
		}
	}
	for _, in := range req.Records {
		rec := st.records[in.MemoryRecordID]
		if rec == nil {
			failed = append(failed, batchResult("FAILED", in.MemoryRecordID, "", 404, "memory record not found"))
			continue
		}
		rec.Timestamp = in.Timestamp.t
		if in.Content != nil {
			rec.Text = *in.Content.Text
		}
		if in.Namespaces != nil {
			rec.Namespaces = slices.Clone(in.Namespaces)
		}
		if in.MemoryStrategyID != nil {
			rec.StrategyID = *in.MemoryStrategyID
		}
		if in.Metadata != nil {
			rec.Metadata = recordMetadata(in.Metadata)
		}
		if remove {
			rec.ExpiresAt = time.Time{}
		} else if !expires.IsZero() {
			rec.ExpiresAt = expires
		}
		ok = append(ok, batchResult("SUCCEEDED", rec.ID, "", 0, ""))
	}
	replyMem(w, http.StatusOK, map[string]any{"successfulRecords": nonNil(ok), "failedRecords": nonNil(failed)})
}

func (f *FakeMemory) removeRecord(st *fakeMemoryState, id string) {
	delete(st.records, id)
	if i := slices.Index(st.order, id); i >= 0 {
		st.order = slices.Delete(st.order, i, i+1)
	}
}

func (f *FakeMemory) batchDelete(w http.ResponseWriter, r *http.Request, st *fakeMemoryState, body []byte) {
	var req struct {
		Records []struct {
			MemoryRecordID string  `json:"memoryRecordId"`
			Namespace      *string `json:"namespace"`
		} `json:"records"`
	}
	decodeMem(body, &req)
	if len(req.Records) < 1 || len(req.Records) > 100 {
		panic(memInvalid("records must hold 1 to 100 records, got %d", len(req.Records)))
	}
	for _, in := range req.Records {
		checkRecordID(in.MemoryRecordID)
	}
	var ok, failed []map[string]any
	for _, in := range req.Records {
		rec := st.records[in.MemoryRecordID]
		if rec == nil || in.Namespace != nil && !slices.Contains(rec.Namespaces, *in.Namespace) {
			failed = append(failed, batchResult("FAILED", in.MemoryRecordID, "", 404, "memory record not found"))
			continue
		}
		f.removeRecord(st, rec.ID)
		ok = append(ok, batchResult("SUCCEEDED", rec.ID, "", 0, ""))
	}
	replyMem(w, http.StatusOK, map[string]any{"successfulRecords": nonNil(ok), "failedRecords": nonNil(failed)})
}

func (f *FakeMemory) recordOf(st *fakeMemoryState, r *http.Request) *MemoryRecordData {
	id := r.PathValue("id")
	checkRecordID(id)
	rec := st.records[id]
	ns := r.URL.Query().Get("namespace")
	if rec == nil || ns != "" && !slices.Contains(rec.Namespaces, ns) {
		panic(memNotFound("memory record %s does not exist", id))
	}
	return rec
}

func (f *FakeMemory) getRecord(w http.ResponseWriter, r *http.Request, st *fakeMemoryState, _ []byte) {
	rec := f.recordOf(st, r)
	if !f.live(rec) {
		panic(memNotFound("memory record %s does not exist", rec.ID))
	}
	replyMem(w, http.StatusOK, map[string]any{"memoryRecord": rec.wire(nil)})
}

func (f *FakeMemory) deleteRecord(w http.ResponseWriter, r *http.Request, st *fakeMemoryState, _ []byte) {
	rec := f.recordOf(st, r)
	f.removeRecord(st, rec.ID)
	replyMem(w, http.StatusOK, map[string]any{"memoryRecordId": rec.ID})
}

// memFilter is a MemoryMetadataFilterExpression on the wire.
type memFilter struct {
	Left *struct {
		MetadataKey string `json:"metadataKey"`
	} `json:"left"`
	Operator string `json:"operator"`
	Right    *struct {
		MetadataValue *memMetaValue `json:"metadataValue"`
	} `json:"right"`
}

func (mf memFilter) match(md map[string]any) bool {
	v, has := md[mf.Left.MetadataKey]
	switch mf.Operator {
	case "EXISTS":
		return has
	case "NOT_EXISTS":
		return !has
	}
	if !has {
		return false
	}
	want := mf.Right.MetadataValue.value(mf.Left.MetadataKey)
	switch mf.Operator {
	case "EQUALS_TO":
		switch w := want.(type) {
		case []string:
			l, ok := v.([]string)
			return ok && slices.Equal(l, w)
		case time.Time:
			t, ok := v.(time.Time)
			return ok && t.Equal(w)
		}
		return v == want
	case "CONTAINS":
		w, ok := want.(string)
		switch x := v.(type) {
		case string:
			return ok && strings.Contains(x, w)
		case []string:
			return ok && slices.Contains(x, w)
		}
		return false
	case "BEFORE", "AFTER":
		t, ok1 := v.(time.Time)
		w, ok2 := want.(time.Time)
		return ok1 && ok2 && (mf.Operator == "BEFORE" && t.Before(w) || mf.Operator == "AFTER" && t.After(w))
	}
	x, ok1 := v.(float64)
	w, ok2 := want.(float64)
	if !ok1 || !ok2 {
		return false
	}
	switch mf.Operator {
	case "GREATER_THAN":
		return x > w
	case "GREATER_THAN_OR_EQUALS":
		return x >= w
	case "LESS_THAN":
		return x < w
	default: // LESS_THAN_OR_EQUALS
		return x <= w
	}
}

func checkFilters(fs []memFilter) {
	if len(fs) > 5 {
		panic(memInvalid("metadataFilters holds %d filters; at most 5", len(fs)))
	}
	for i, mf := range fs {
		if mf.Left == nil || mf.Left.MetadataKey == "" {
			panic(memInvalid("metadataFilters[%d].left.metadataKey is required", i))
		}
		switch mf.Operator {
		case "EXISTS", "NOT_EXISTS":
			if mf.Right != nil {
				panic(memInvalid("metadataFilters[%d]: %s takes no right operand", i, mf.Operator))
			}
		case "EQUALS_TO", "CONTAINS", "BEFORE", "AFTER", "GREATER_THAN", "GREATER_THAN_OR_EQUALS", "LESS_THAN", "LESS_THAN_OR_EQUALS":
			if mf.Right == nil || mf.Right.MetadataValue == nil {
				panic(memInvalid("metadataFilters[%d]: %s needs right.metadataValue", i, mf.Operator))
			}
			mf.Right.MetadataValue.value(mf.Left.MetadataKey)
		default:
			panic(memInvalid("metadataFilters[%d].operator %q is not a MemoryRecordOperatorType", i, mf.Operator))
		}
	}
}

// selectRecords returns the live records of a namespace (exact) or
// namespace path (prefix), of a strategy, matching every filter, in
// creation order.
func (f *FakeMemory) selectRecords(st *fakeMemoryState, ns, nsPath, strategy *string, filters []memFilter) []*MemoryRecordData {
	if ns != nil && nsPath != nil {
		panic(memInvalid("set one of namespace and namespacePath, not both"))
	}
	if ns != nil {
		checkNamespace("namespace", *ns)
	}
	if nsPath != nil {
		checkNamespace("namespacePath", *nsPath)
	}
	checkFilters(filters)
	var out []*MemoryRecordData
	for _, id := range st.order {
		rec := st.records[id]
		if !f.live(rec) || strategy != nil && rec.StrategyID != *strategy {
			continue
		}
		if ns != nil && !slices.Contains(rec.Namespaces, *ns) {
			continue
		}
		if nsPath != nil && !slices.ContainsFunc(rec.Namespaces, func(n string) bool { return strings.HasPrefix(n, *nsPath) }) {
			continue
		}
		keep := true
		for _, mf := range filters {
			if !mf.match(rec.Metadata) {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, rec)
		}
	}
	return out
}

func (f *FakeMemory) listRecords(w http.ResponseWriter, r *http.Request, st *fakeMemoryState, body []byte) {
	var req struct {
		Namespace        *string     `json:"namespace"`
		NamespacePath    *string     `json:"namespacePath"`
		MemoryStrategyID *string     `json:"memoryStrategyId"`
		MaxResults       *int        `json:"maxResults"`
		NextToken        *string     `json:"nextToken"`
		MetadataFilters  []memFilter `json:"metadataFilters"`
	}
	decodeMem(body, &req)
	n := checkMaxResults(req.MaxResults, 20)
	recs := f.selectRecords(st, req.Namespace, req.NamespacePath, req.MemoryStrategyID, req.MetadataFilters)
	items, next := page(recs, req.NextToken, n)
	out := make([]map[string]any, len(items))
	for i, rec := range items {
		out[i] = rec.wire(nil)
		delete(out[i], "expiresAt")
	}
	res := map[string]any{"memoryRecordSummaries": out}
	if next != nil {
		res["nextToken"] = *next
	}
	replyMem(w, http.StatusOK, res)
}

func (f *FakeMemory) retrieve(w http.ResponseWriter, r *http.Request, st *fakeMemoryState, body []byte) {
	var req struct {
		Namespace      *string `json:"namespace"`
		NamespacePath  *string `json:"namespacePath"`
		MaxResults     *int    `json:"maxResults"`
		NextToken      *string `json:"nextToken"`
		SearchCriteria *struct {
			SearchQuery      *string     `json:"searchQuery"`
			MemoryStrategyID *string     `json:"memoryStrategyId"`
			TopK             *int        `json:"topK"`
			MetadataFilters  []memFilter `json:"metadataFilters"`
		} `json:"searchCriteria"`
	}
	decodeMem(body, &req)
	sc := req.SearchCriteria
	switch {
	case sc == nil:
		panic(memInvalid("searchCriteria is required"))
	case sc.SearchQuery == nil || utf8.RuneCountInString(*sc.SearchQuery) < 1 || utf8.RuneCountInString(*sc.SearchQuery) > 10000:
		panic(memInvalid("searchCriteria.searchQuery must be 1 to 10,000 characters"))
	case sc.TopK != nil && (*sc.TopK < 1 || *sc.TopK > 100):
		panic(memInvalid("searchCriteria.topK must be between 1 and 100, got %d", *sc.TopK))
	case req.Namespace == nil && req.NamespacePath == nil:
		panic(memInvalid("set namespace or namespacePath"))
	}
	n := checkMaxResults(req.MaxResults, 20)
	topK := 10
	if sc.TopK != nil {
		topK = *sc.TopK
	}
	recs := f.selectRecords(st, req.Namespace, req.NamespacePath, sc.MemoryStrategyID, sc.MetadataFilters)
	emb := NewHashEmbedder(256)
	q := emb.Vector(*sc.SearchQuery)
	type scored struct {
		rec   *MemoryRecordData
		score float64
	}
	ranked := make([]scored, len(recs))
	for i, rec := range recs {
		v := emb.Vector(rec.Text)
		s := 0.0
		for j := range q {
			s += float64(q[j]) * float64(v[j])
		}
		ranked[i] = scored{rec, math.Round(s*1e6) / 1e6}
	}
	slices.SortStableFunc(ranked, func(a, b scored) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	ranked = ranked[:min(topK, len(ranked))]
	items, next := page(ranked, req.NextToken, n)
	out := make([]map[string]any, len(items))
	for i, s := range items {
		out[i] = s.rec.wire(&s.score)
	}
	res := map[string]any{"memoryRecordSummaries": out}
	if next != nil {
		res["nextToken"] = *next
	}
	replyMem(w, http.StatusOK, res)
}
