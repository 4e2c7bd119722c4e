package console

import (
	"crypto/rand"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/guardrail"
	"github.com/bedrockkit/bedrockkit/pricing"
)

// Options configures a Console. The zero value is a console for the
// program's own machine: served under "/", loopback Host names only, no
// token, secrets and common PII masked, and bounded retention.
type Options struct {
	// Path is the URL path the console is mounted at, for example
	// "/debug/console"; mount the Console at Path+"/" in your ServeMux
	// without http.StripPrefix. Empty means the root.
	Path string

	// Token, when set, must accompany every request: as a bearer token
	// (Authorization: Bearer <token>), or once as ?token=<token>, which
	// sets an HttpOnly cookie and redirects to the same page without it.
	Token string

	// AllowedHosts are Host header values (host or host:port) accepted
	// besides the loopback names (localhost, *.localhost, 127.0.0.1,
	// [::1]). Requests for any other Host are refused, which defeats DNS
	// rebinding; add the name you serve the console under when it is not
	// a loopback one.
	AllowedHosts []string

	// AllowRemote lets Start listen on an address that is not a loopback
	// one. It requires Token. It does not change AllowedHosts.
	AllowRemote bool

	// MaxRuns is how many agent runs are kept (oldest dropped first);
	// 0 means 500.
	MaxRuns int
	// MaxEventsPerRun is how many events of one run are kept; later events
	// are counted and the count is shown. 0 means 5000.
	MaxEventsPerRun int
	// MaxBytes bounds the text (messages, tool arguments and results) the
	// kept runs hold, roughly; oldest runs are dropped first. 0 means
	// 64 MiB.
	MaxBytes int64
	// MaxSyncs is how many sync reports are kept per knowledge base, and
	// MaxQueries how many recorded queries; 0 means 100 and 200.
	MaxSyncs, MaxQueries int
	// MaxEvalReports is how many evaluation reports are kept; 0 means 50.
	MaxEvalReports int
	// MaxSpans is how many OpenTelemetry spans are kept; 0 means 5000.
	MaxSpans int
	// MaxCostPoints is how many points of spend are kept for the charts;
	// 0 means 20000.
	MaxCostPoints int
	// MaxFieldBytes is how much of one text (a tool result, a message) a
	// page shows; the rest is cut with a note. 0 means 64 KiB.
	MaxFieldBytes int

	// Redaction controls what is masked in everything the console shows.
	Redaction Redaction

	// Catalog prices the agents' model calls; nil means pricing.Default().
	Catalog *pricing.Catalog
	// CostSampleInterval is how often attached meters are sampled for the
	// spend-over-time charts: when a run ends, when the costs page is
	// shown and while a browser is connected for live updates. 0 means 10
	// seconds.
	CostSampleInterval time.Duration

	// QueryTimeout bounds one playground query or guardrail test; 0 means
	// 30 seconds.
	QueryTimeout time.Duration
	// MaxLiveClients bounds the browsers connected for live updates at
	// once; 0 means 16.
	MaxLiveClients int
}

// Redaction says what the console masks before it shows anything. By
// default it masks secrets (AWS keys, passwords, bearer tokens, JSON Web
// Tokens, private keys, values of JSON keys named like secrets) and the
// common PII types (e-mail addresses, phone numbers, card numbers and CVVs,
// bank account and social security numbers, IBANs) with their type in
// braces, e.g. {EMAIL}.
type Redaction struct {
	// Disable shows everything as recorded. Use it only with data that
	// holds no secrets.
	Disable bool
	// Guard, when set, also masks what this guardrail would mask: every
	// sensitive-information finding (PII entity or custom regex) it reports
	// with action ANONYMIZED or BLOCKED. Pass the guardrail your agent
	// uses.
	Guard guardrail.Guard
	// Func, when set, is applied last to every text shown.
	Func func(string) string
}

func (o Options) withDefaults() Options {
	def := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	def(&o.MaxRuns, 500)
	def(&o.MaxEventsPerRun, 5000)
	def(&o.MaxSyncs, 100)
	def(&o.MaxQueries, 200)
	def(&o.MaxEvalReports, 50)
	def(&o.MaxSpans, 5000)
	def(&o.MaxCostPoints, 20000)
	def(&o.MaxFieldBytes, 64<<10)
	def(&o.MaxLiveClients, 16)
	if o.MaxBytes <= 0 {
		o.MaxBytes = 64 << 20
	}
	if o.CostSampleInterval <= 0 {
		o.CostSampleInterval = 10 * time.Second
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = 30 * time.Second
	}
	if o.Catalog == nil {
		o.Catalog = pricing.Default()
	}
	o.Path = strings.TrimRight(o.Path, "/")
	if o.Path != "" && !strings.HasPrefix(o.Path, "/") {
		o.Path = "/" + o.Path
	}
	return o
}

// ErrInvalidOptions reports Options the console cannot work with.
var ErrInvalidOptions = fmt.Errorf("console: invalid options: %w", bedrockkit.ErrInvalidInput)

// Console is a local developer console: an http.Handler showing the agent
// runs, knowledge-base syncs and queries, guardrail assessments, spend and
// evaluation reports the program feeds it. Create it with New, feed it
// (Observe, Observer, Sync, Retriever, AddGuardrail, AddMeter,
// AddEvalReport, SpanProcessor) and mount it, or call Start. Nothing is
// served unless the program does so. A Console is safe for concurrent use.
type Console struct {
	opts   Options
	key    [32]byte // signs CSRF tokens
	red    *redactor
	tmpl   *template.Template
	mux    *http.ServeMux
	cop    *http.CrossOriginProtection
	closed chan struct{}
	once   sync.Once

	version atomic.Uint64 // bumped on every change, for live updates

	sampleMu sync.Mutex // one meter sample at a time

	mu          sync.Mutex
	runs        []*runRec          // oldest first
	pending     map[string]*runRec // call ID of a paused run's pending call
	runBytes    int64
	nextRun     uint64
	evictedRuns int
	cache       map[string]*runView
	kbs         map[string]*kbRec
	kbOrder     []string
	guards      map[string]guardrail.Guard
	guardOrder  []string
	meters      []*meterRec
	costPts     []costPoint
	droppedPts  int
	lastSample  time.Time
	evals       []*evalRec
	nextEval    int
	spans       *spanStore

	subsMu sync.Mutex
	subs   map[chan struct{}]struct{}
	nsubs  atomic.Int32
}

// New returns a Console with opts. It serves nothing until mounted or
// started.
func New(opts Options) *Console {
	c := &Console{
		opts:    opts.withDefaults(),
		closed:  make(chan struct{}),
		pending: map[string]*runRec{},
		cache:   map[string]*runView{},
		kbs:     map[string]*kbRec{},
		guards:  map[string]guardrail.Guard{},
		subs:    map[chan struct{}]struct{}{},
	}
	rand.Read(c.key[:]) // never fails (crypto/rand since Go 1.24)
	c.spans = newSpanStore(c.opts.MaxSpans)
	c.red = newRedactor(c.opts.Redaction)
	c.tmpl = parseTemplates()
	c.cop = http.NewCrossOriginProtection()
	c.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, http.StatusForbidden, errors.New("cross-origin request refused"))
	}))
	c.routes()
	return c
}

// Close ends the live-update streams of connected browsers (and the meter
// sampling they drive); pages no longer update by themselves. The console
// keeps what it recorded and still serves pages and records events.
func (c *Console) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

// changed bumps the version and wakes the live-update streams. It is cheap
// when no browser is connected.
func (c *Console) changed() {
	c.version.Add(1)
	if c.nsubs.Load() == 0 {
		return
	}
	c.subsMu.Lock()
	for ch := range c.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	c.subsMu.Unlock()
}

// url joins the console's mount path and p (which starts with "/").
func (c *Console) url(p string) string { return c.opts.Path + p }
