package pricing

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/bedrockkit/bedrockkit"
)

// SchemaVersion is the version of the price-table JSON this package reads
// and writes. Tables with another version are refused.
const SchemaVersion = 1

// ErrUnknownModel is wrapped by the error for a model ID that no catalog row
// prices (and no fallback row covers). Add a row with Catalog.Override or set
// a fallback with Catalog.WithFallback.
var ErrUnknownModel = errors.New("pricing: no price for model")

// ErrUnpriced is wrapped by the error for usage in a token class (or mode,
// such as batch) that the model's row has no price for. Override the row with
// the missing rate.
var ErrUnpriced = errors.New("pricing: price missing for token class")

// ErrNoPromptCaching is wrapped by the error for usage with cache read or
// write tokens on a model whose row says Bedrock offers no prompt caching for
// it (Row.NoPromptCaching). Such usage is attributed to the wrong model, or
// comes from a provider that is not Bedrock; check the model ID. It wraps
// bedrockkit.ErrUnsupported.
var ErrNoPromptCaching = fmt.Errorf("pricing: the model has no prompt caching on Bedrock: %w", bedrockkit.ErrUnsupported)

// Unit is what a row's prices are quoted per.
type Unit string

// Price units.
const (
	UnitPer1MTokens    Unit = "1M tokens"
	UnitPer1KTokens    Unit = "1K tokens"
	UnitPer1KTextUnits Unit = "1K text units" // guardrail policies; a text unit is up to 1,000 characters
)

// extraDigits returns log10(units per million / units per quote).
func (u Unit) extraDigits() (int, bool) {
	switch u {
	case UnitPer1MTokens:
		return 0, true
	case UnitPer1KTokens, UnitPer1KTextUnits:
		return 3, true
	}
	return 0, false
}

// Kind says what a row prices.
type Kind string

// Row kinds.
const (
	KindText      Kind = "text"      // a text-generation model, priced per token
	KindEmbedding Kind = "embedding" // an embedding model, priced per input token
	KindGuardrail Kind = "guardrail" // a guardrail policy, priced per text unit
)

// Row is the price of one model (or guardrail policy) in one scope. Rates are
// held per million units; Unit only records how the source quoted them. A
// rate that is not set means "no price": using that class is an error.
type Row struct {
	// IDs are the model IDs the row prices, without inference-profile
	// prefixes (they are stripped before lookup), or exact application
	// inference profile ARNs. The first is the row's canonical ID.
	IDs  []string
	Name string
	Kind Kind
	Unit Unit

	Input        Rate // input tokens (embedding tokens, guardrail text units)
	Output       Rate // output tokens
	CacheRead    Rate // prompt-cache read tokens
	CacheWrite5m Rate // prompt-cache write tokens, 5-minute TTL (the default)
	CacheWrite1h Rate // prompt-cache write tokens, 1-hour TTL
	BatchInput   Rate // input tokens of batch inference
	BatchOutput  Rate // output tokens of batch inference

	// Global marks the price of the global cross-Region endpoint ("global."
	// profiles). Regions limits a regional row to those AWS Regions; empty
	// means any Region.
	Global  bool
	Regions []string

	// Source names where the prices come from, and AsOf the source's date
	// (YYYY, YYYY-MM or YYYY-MM-DD; empty when the source is undated).
	Source string
	AsOf   string
	// Derived lists the JSON names of rates computed by a stated rule (for
	// example "cache_read" as 0.10x input) rather than quoted by Source.
	Derived []string
	// Unverified marks a row whose prices no reliable source confirms.
	Unverified bool
	// NoPromptCaching marks a model Bedrock offers no prompt caching for
	// (Llama and Mistral, for example: Bedrock caches prompts only for
	// Claude and Nova models). Usage with cache tokens on such a row is an
	// error wrapping ErrNoPromptCaching rather than ErrUnpriced: no rate is
	// missing, the usage cannot be this model's. A row with it set has no
	// cache rates.
	NoPromptCaching bool
	// Note records disagreements between sources and other caveats.
	Note string

	// ServiceTier and LatencyMode say which way of serving the row prices.
	// Both empty: Bedrock's standard tier at standard latency, the row a
	// call is priced by unless it was served otherwise. A row with
	// ServiceTier bedrockkit.ServiceTierPriority or ServiceTierFlex, or
	// LatencyMode bedrockkit.LatencyOptimized, prices only calls served
	// that way (see Variant); a model without such a row has no price for
	// them, and pricing such a call is an error wrapping ErrUnpriced.
	ServiceTier bedrockkit.ServiceTier
	LatencyMode bedrockkit.LatencyMode
}

// Variant returns the way of serving the row prices.
func (r Row) Variant() Variant { return Variant{Tier: r.ServiceTier, Latency: r.LatencyMode}.normal() }

// ID returns the row's canonical model ID.
func (r Row) ID() string {
	if len(r.IDs) == 0 {
		return ""
	}
	return r.IDs[0]
}

// Catalog is an immutable, dated price table. Methods that change it return a
// new Catalog, so one can be shared by concurrent goroutines without locks.
type Catalog struct {
	version  int
	asOf     string
	currency string
	notes    []string
	rows     []Row
	index    map[string][]int // normalized id -> row indices
	fallback *Row

	prov       []ProvisionedRow            // published Provisioned Throughput prices
	provIndex  map[string]int              // normalized id -> prov index
	provModels map[string]ProvisionedModel // lower-cased ARN -> a purchased Provisioned Throughput
	services   []ServicePrice              // runtime, storage and request prices
}

//go:embed prices.json
var embeddedPrices []byte

var defaultCatalog = sync.OnceValues(func() (*Catalog, error) { return Parse(embeddedPrices) })

// Default returns the catalog embedded in this package (see prices.json for
// each row's source and date). Verify the prices that matter to you and
// override them with Catalog.Override: public sources disagree.
func Default() *Catalog {
	c, err := defaultCatalog()
	if err != nil {
		panic("pricing: embedded prices.json is invalid: " + err.Error()) // caught by tests
	}
	return c
}

// Version returns the catalog's schema version.
func (c *Catalog) Version() int { return c.version }

// AsOf returns the date the table was compiled (YYYY-MM-DD).
func (c *Catalog) AsOf() string { return c.asOf }

// Notes returns the table-wide notes: pricing rules and their sources.
func (c *Catalog) Notes() []string { return slices.Clone(c.notes) }

// Rows returns a copy of the catalog's rows, in table order.
func (c *Catalog) Rows() []Row { return slices.Clone(c.rows) }

// Load reads a price table in the JSON format of prices.json.
func Load(r io.Reader) (*Catalog, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("pricing: read price table: %w", err)
	}
	return Parse(data)
}

// Parse decodes a price table in the JSON format of prices.json. Unknown
// fields, unknown units and prices too precise to hold exactly are errors
// (wrapping bedrockkit.ErrInvalidInput).
func Parse(data []byte) (*Catalog, error) {
	var t tableJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("pricing: decode price table: %w: %w", err, bedrockkit.ErrInvalidInput)
	}
	if t.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("pricing: price table schema_version %d; this package reads version %d: %w", t.SchemaVersion, SchemaVersion, bedrockkit.ErrInvalidInput)
	}
	if !dateRE.MatchString(t.AsOf) {
		return nil, fmt.Errorf("pricing: price table as_of %q; want YYYY-MM-DD: %w", t.AsOf, bedrockkit.ErrInvalidInput)
	}
	if t.Currency != "USD" {
		return nil, fmt.Errorf("pricing: price table currency %q; only USD is supported: %w", t.Currency, bedrockkit.ErrInvalidInput)
	}
	c := &Catalog{version: t.SchemaVersion, asOf: t.AsOf, currency: t.Currency, notes: t.Notes}
	for i, rj := range t.Models {
		row, err := rj.row()
		if err != nil {
			return nil, fmt.Errorf("pricing: price table row %d (%v): %w", i, rj.IDs, err)
		}
		c.rows = append(c.rows, row)
	}
	c.reindex()
	for i, pj := range t.Provisioned {
		row, err := pj.row()
		if err != nil {
			return nil, fmt.Errorf("pricing: price table provisioned_throughput row %d (%v): %w", i, pj.IDs, err)
		}
		c.prov = append(c.prov, row)
	}
	c.reindexProvisioned()
	for i, sj := range t.Services {
		sp, err := sj.price()
		if err != nil {
			return nil, fmt.Errorf("pricing: price table services row %d (%s): %w", i, sj.ID, err)
		}
		c.services = append(c.services, sp)
	}
	if err := checkServiceIDs(c.services); err != nil {
		return nil, err
	}
	return c, nil
}

var dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
var rowDateRE = regexp.MustCompile(`^(\d{4}(-\d{2}(-\d{2})?)?)?$`)

// validate checks a row built in Go or decoded from JSON.
func (r Row) validate() error {
	if len(r.IDs) == 0 {
		return fmt.Errorf("row has no IDs: %w", bedrockkit.ErrInvalidInput)
	}
	for _, id := range r.IDs {
		if strings.TrimSpace(id) == "" {
			return fmt.Errorf("row has an empty ID: %w", bedrockkit.ErrInvalidInput)
		}
	}
	if _, ok := r.Unit.extraDigits(); !ok {
		return fmt.Errorf("unit %q; use %q, %q or %q: %w", r.Unit, UnitPer1MTokens, UnitPer1KTokens, UnitPer1KTextUnits, bedrockkit.ErrInvalidInput)
	}
	switch r.Kind {
	case KindText, KindEmbedding, KindGuardrail:
	default:
		return fmt.Errorf("kind %q; use %q, %q or %q: %w", r.Kind, KindText, KindEmbedding, KindGuardrail, bedrockkit.ErrInvalidInput)
	}
	if !rowDateRE.MatchString(r.AsOf) {
		return fmt.Errorf("as_of %q; want YYYY, YYYY-MM or YYYY-MM-DD: %w", r.AsOf, bedrockkit.ErrInvalidInput)
	}
	if r.NoPromptCaching && (r.CacheRead.IsSet() || r.CacheWrite5m.IsSet() || r.CacheWrite1h.IsSet()) {
		return fmt.Errorf("row %s says the model has no prompt caching but has cache rates; drop one or the other: %w", r.IDs[0], bedrockkit.ErrInvalidInput)
	}
	if r.Global && len(r.Regions) > 0 {
		return fmt.Errorf("row is global and lists regions; a global-endpoint price has no region: %w", bedrockkit.ErrInvalidInput)
	}
	if !r.Input.IsSet() {
		return fmt.Errorf("row has no input price: %w", bedrockkit.ErrInvalidInput)
	}
	if err := r.Variant().validate(); err != nil {
		return err
	}
	return nil
}

// reindex rebuilds the ID index. A later row replaces an earlier one with the
// same ID and the same scope (global flag and region list).
func (c *Catalog) reindex() {
	c.index = map[string][]int{}
	for i, r := range c.rows {
		for _, id := range r.IDs {
			ref := parseModelRef(id)
			keys := []string{ref.id}
			if ref.base != ref.id {
				keys = append(keys, ref.base)
			}
			for _, k := range keys {
				c.index[k] = addCandidate(c.rows, c.index[k], i)
			}
		}
	}
}

func addCandidate(rows []Row, cands []int, i int) []int {
	for j, k := range cands {
		if k == i {
			return cands
		}
		if sameScope(rows[k], rows[i]) {
			cands[j] = i
			return cands
		}
	}
	return append(cands, i)
}

func sameScope(a, b Row) bool {
	if a.Global != b.Global || len(a.Regions) != len(b.Regions) || a.Variant() != b.Variant() {
		return false
	}
	x, y := slices.Clone(a.Regions), slices.Clone(b.Regions)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// Override returns a copy of c with rows added. A row replaces an existing
// row that has one of its IDs and the same scope (Global and Regions), for
// example a negotiated price; other rows are added. Rows are validated.
func (c *Catalog) Override(rows ...Row) (*Catalog, error) {
	for _, r := range rows {
		if err := r.validate(); err != nil {
			return nil, fmt.Errorf("pricing: override %v: %w", r.IDs, err)
		}
	}
	n := *c
	n.rows = append(slices.Clip(slices.Clone(c.rows)), rows...)
	n.notes = slices.Clone(c.notes)
	// Drop rows that are now fully shadowed so Rows() shows the live table.
	n.reindex()
	live := map[int]bool{}
	for _, cands := range n.index {
		for _, i := range cands {
			live[i] = true
		}
	}
	kept := n.rows[:0:0]
	for i, r := range n.rows {
		if live[i] {
			kept = append(kept, r)
		}
	}
	n.rows = kept
	n.reindex()
	return &n, nil
}

// WithFallback returns a copy of c that prices models it does not know with
// row (its IDs are ignored and may be empty). Bills priced by the fallback
// have Fallback set. Without a fallback an unknown model is an error.
func (c *Catalog) WithFallback(row Row) (*Catalog, error) {
	if len(row.IDs) == 0 {
		row.IDs = []string{"fallback"}
	}
	if err := row.validate(); err != nil {
		return nil, fmt.Errorf("pricing: fallback row: %w", err)
	}
	n := *c
	n.fallback = &row
	return &n, nil
}

// Price is a resolved catalog row for one model ID.
type Price struct {
	Row
	// Fallback is true when no row matched and the catalog's fallback row was used.
	Fallback bool
	// Committed is true when the call is served by capacity paid for by the
	// hour or month (a Provisioned Throughput ARN, or the reserved tier): its
	// rates are all Free, and the capacity's cost is counted apart (see
	// ProvisionedModel).
	Committed bool
}

// Lookup returns the row pricing modelID in any Region. See LookupRegion.
func (c *Catalog) Lookup(modelID string) (Price, error) {
	return c.LookupRegion(modelID, "")
}

// LookupRegion returns the row pricing modelID called in region (empty: any).
// modelID may be a base model ID ("anthropic.claude-3-haiku-20240307-v1:0"),
// an inference-profile ID ("us.", "eu.", "apac.", "global." ... prefix), a
// foundation-model or inference-profile ARN (whose Region is used when region
// is empty), or any ID a row lists verbatim (such as an application inference
// profile ARN). A "global." profile takes the row marked Global; other IDs
// take a regional row, preferring one listing the Region. When a model has no
// global row its regional row is used for "global." too, and vice versa.
// An ID matches a row ID also when they differ only after the first ':'
// (a version or context-window suffix).
func (c *Catalog) LookupRegion(modelID, region string) (Price, error) {
	return c.LookupVariant(modelID, region, Variant{})
}

// LookupVariant returns the row pricing modelID in region (see
// LookupRegion) when served as v: the standard tier at standard latency
// for the zero Variant, otherwise the row whose ServiceTier and
// LatencyMode match v exactly. A model the catalog knows but has no row
// for v is a *VariantUnpricedError (wrapping ErrUnpriced): the catalog
// never prices one tier at another's rates, and a fallback row is not used
// for it.
func (c *Catalog) LookupVariant(modelID, region string, v Variant) (Price, error) {
	v = v.normal()
	if v.Tier == bedrockkit.ServiceTierReserved {
		p, err := c.LookupVariant(modelID, region, Variant{Latency: v.Latency})
		if err != nil {
			return Price{}, err
		}
		p.Row = committedRow(p.Row, "served by the reserved tier: capacity billed per reserved tokens-per-minute by the month, nothing per token")
		p.Committed = true
		return p, nil
	}
	if p, ok := c.provisioned(modelID); ok {
		return p, nil
	}
	ref := parseModelRef(modelID)
	if region == "" {
		region = ref.region
	}
	cands := c.index[ref.id]
	if len(cands) == 0 {
		cands = c.index[ref.base]
	}
	if len(cands) == 0 {
		if id, err := bedrockkit.ParseModelID(strings.TrimSpace(modelID)); err == nil && id.Kind == bedrockkit.KindProvisionedModel {
			// Never priced per token, nor by a fallback row.
			return Price{}, &UnknownModelError{ModelID: modelID, Resolved: ref.id, Provisioned: true}
		}
		if c.fallback != nil && v.isStandard() {
			return Price{Row: *c.fallback, Fallback: true}, nil
		}
		return Price{}, &UnknownModelError{ModelID: modelID, Resolved: ref.id}
	}
	best, bestScore := -1, -1
	known := false // a row for the model exists in the Region, in another variant
	for _, i := range cands {
		r := c.rows[i]
		if r.Variant() != v {
			if len(r.Regions) == 0 || region == "" || slices.Contains(r.Regions, region) {
				known = true
			}
			continue
		}
		score := 0
		switch {
		case len(r.Regions) == 0:
			score = 1
		case region == "":
			score = 0 // a Region-limited row, Region unknown: last resort
		case slices.Contains(r.Regions, region):
			score = 2
		default:
			continue // priced for other Regions only
		}
		if r.Global == ref.global {
			score += 4
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	if best < 0 && known {
		return Price{}, &VariantUnpricedError{ModelID: modelID, Resolved: ref.id, Variant: v}
	}
	if best < 0 {
		if c.fallback != nil && v.isStandard() {
			return Price{Row: *c.fallback, Fallback: true}, nil
		}
		return Price{}, &UnknownModelError{ModelID: modelID, Resolved: ref.id, Region: region}
	}
	return Price{Row: c.rows[best]}, nil
}

// UnknownModelError reports a model ID no catalog row prices. It wraps ErrUnknownModel.
type UnknownModelError struct {
	ModelID  string // as given
	Resolved string // after stripping ARN and inference-profile prefix
	Region   string // the Region asked for, if any
	// Provisioned is true for a Provisioned Throughput ARN the catalog
	// was not told about (Catalog.WithProvisionedModel).
	Provisioned bool
}

// Error says which model is missing and how to price it.
func (e *UnknownModelError) Error() string {
	if e.Provisioned {
		return fmt.Sprintf("pricing: %q is a Provisioned Throughput the catalog does not know; its calls cost nothing per token and its capacity costs by the hour: add it with Catalog.WithProvisionedModel", e.ModelID)
	}
	where := ""
	if e.Region != "" {
		where = " in " + e.Region
	}
	return fmt.Sprintf("pricing: no price for model %q (resolved as %q)%s; add a row with Catalog.Override or set Catalog.WithFallback",
		e.ModelID, e.Resolved, where)
}

// Unwrap returns ErrUnknownModel.
func (e *UnknownModelError) Unwrap() error { return ErrUnknownModel }

// MarshalJSON encodes the catalog in the format Parse reads.
func (c *Catalog) MarshalJSON() ([]byte, error) {
	t := tableJSON{SchemaVersion: c.version, AsOf: c.asOf, Currency: c.currency, Notes: c.notes}
	for _, r := range c.rows {
		t.Models = append(t.Models, rowToJSON(r))
	}
	for _, r := range c.prov {
		t.Provisioned = append(t.Provisioned, provToJSON(r))
	}
	for _, sp := range c.services {
		t.Services = append(t.Services, serviceToJSON(sp))
	}
	return json.Marshal(t)
}

type tableJSON struct {
	SchemaVersion int       `json:"schema_version"`
	AsOf          string    `json:"as_of"`
	Currency      string    `json:"currency"`
	Notes         []string  `json:"notes,omitempty"`
	Models        []rowJSON `json:"models"`
	// Provisioned holds published Provisioned Throughput prices, Services
	// runtime, storage and request prices (both optional).
	Provisioned []provJSON    `json:"provisioned_throughput,omitempty"`
	Services    []serviceJSON `json:"services,omitempty"`
}

type rowJSON struct {
	IDs          []string `json:"ids"`
	Name         string   `json:"name,omitempty"`
	Kind         Kind     `json:"kind"`
	Unit         Unit     `json:"unit"`
	Input        *string  `json:"input"`
	Output       *string  `json:"output,omitempty"`
	CacheRead    *string  `json:"cache_read,omitempty"`
	CacheWrite5m *string  `json:"cache_write_5m,omitempty"`
	CacheWrite1h *string  `json:"cache_write_1h,omitempty"`
	BatchInput   *string  `json:"batch_input,omitempty"`
	BatchOutput  *string  `json:"batch_output,omitempty"`
	Scope        string   `json:"scope"`
	Regions      []string `json:"regions,omitempty"`
	Source       string   `json:"source"`
	AsOf         string   `json:"as_of"`
	Derived      []string `json:"derived,omitempty"`
	Unverified   bool     `json:"unverified,omitempty"`
	NoCaching    bool     `json:"no_prompt_caching,omitempty"`
	Note         string   `json:"note,omitempty"`
	ServiceTier  string   `json:"service_tier,omitempty"`
	Latency      string   `json:"latency,omitempty"`
}

// Scope values in the JSON table.
const (
	scopeGlobal   = "global"
	scopeRegional = "regional"
)

var rateFields = []string{"input", "output", "cache_read", "cache_write_5m", "cache_write_1h", "batch_input", "batch_output"}

func (rj rowJSON) row() (Row, error) {
	r := Row{IDs: rj.IDs, Name: rj.Name, Kind: rj.Kind, Unit: rj.Unit, Regions: rj.Regions,
		Source: rj.Source, AsOf: rj.AsOf, Derived: rj.Derived, Unverified: rj.Unverified, NoPromptCaching: rj.NoCaching, Note: rj.Note,
		ServiceTier: bedrockkit.ServiceTier(rj.ServiceTier), LatencyMode: bedrockkit.LatencyMode(rj.Latency)}
	switch rj.Scope {
	case scopeGlobal:
		r.Global = true
	case scopeRegional:
	default:
		return Row{}, fmt.Errorf("scope %q; use %q or %q: %w", rj.Scope, scopeGlobal, scopeRegional, bedrockkit.ErrInvalidInput)
	}
	if rj.Source == "" {
		return Row{}, fmt.Errorf("row has no source; every price needs one: %w", bedrockkit.ErrInvalidInput)
	}
	for _, d := range rj.Derived {
		if !slices.Contains(rateFields, d) {
			return Row{}, fmt.Errorf("derived %q; use rate field names %v: %w", d, rateFields, bedrockkit.ErrInvalidInput)
		}
	}
	if _, ok := r.Unit.extraDigits(); !ok {
		return Row{}, fmt.Errorf("unit %q; use %q, %q or %q: %w", r.Unit, UnitPer1MTokens, UnitPer1KTokens, UnitPer1KTextUnits, bedrockkit.ErrInvalidInput)
	}
	for _, f := range []struct {
		s   *string
		dst *Rate
	}{{rj.Input, &r.Input}, {rj.Output, &r.Output}, {rj.CacheRead, &r.CacheRead}, {rj.CacheWrite5m, &r.CacheWrite5m},
		{rj.CacheWrite1h, &r.CacheWrite1h}, {rj.BatchInput, &r.BatchInput}, {rj.BatchOutput, &r.BatchOutput}} {
		if f.s == nil {
			continue
		}
		rate, err := ParseRate(*f.s, r.Unit)
		if err != nil {
			return Row{}, err
		}
		*f.dst = rate
	}
	if err := r.validate(); err != nil {
		return Row{}, err
	}
	return r, nil
}

func rowToJSON(r Row) rowJSON {
	q := func(rate Rate) *string {
		if !rate.IsSet() {
			return nil
		}
		s := rate.quote(r.Unit)
		return &s
	}
	scope := scopeRegional
	if r.Global {
		scope = scopeGlobal
	}
	return rowJSON{IDs: r.IDs, Name: r.Name, Kind: r.Kind, Unit: r.Unit,
		Input: q(r.Input), Output: q(r.Output), CacheRead: q(r.CacheRead), CacheWrite5m: q(r.CacheWrite5m),
		CacheWrite1h: q(r.CacheWrite1h), BatchInput: q(r.BatchInput), BatchOutput: q(r.BatchOutput),
		Scope: scope, Regions: r.Regions, Source: r.Source, AsOf: r.AsOf, Derived: r.Derived,
		Unverified: r.Unverified, NoCaching: r.NoPromptCaching, Note: r.Note,
		ServiceTier: string(r.ServiceTier), Latency: string(r.LatencyMode)}
}
