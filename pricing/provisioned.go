package pricing

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/bedrockkit/bedrockkit"
)

// Commitment is a Provisioned Throughput term.
type Commitment string

// Provisioned Throughput commitments Bedrock offers. Base models are sold
// with a 1- or 6-month commitment; no commitment (hourly) is offered for
// custom models and some base models.
const (
	CommitNone      Commitment = "none"
	CommitMonth     Commitment = "1m"
	CommitSixMonths Commitment = "6m"
)

// Commitments lists the terms in order of length.
var Commitments = []Commitment{CommitNone, CommitMonth, CommitSixMonths}

// termHours is how many hours a commitment binds you to (0: none).
func (c Commitment) termHours() int64 {
	switch c {
	case CommitMonth:
		return HoursPerMonth
	case CommitSixMonths:
		return 6 * HoursPerMonth
	}
	return 0
}

// HoursPerMonth is the month the estimates in this package use: 730 hours,
// the average month AWS's pricing calculator uses.
const HoursPerMonth = 730

// ErrUnpublished is wrapped by errors for a price no public source gives
// (a Provisioned Throughput term of a model, a service's rate). The
// calculators report such options as unknown rather than guess.
var ErrUnpublished = errors.New("pricing: no published price")

// ProvisionedRow is the published hourly price of one model unit of a
// model's Provisioned Throughput, per commitment. A commitment missing from
// Hourly has no published price (or is not offered).
type ProvisionedRow struct {
	// IDs are the base model IDs the row prices, without geography prefix.
	IDs  []string
	Name string
	// Hourly is the price of one model unit for one hour, by commitment.
	Hourly map[Commitment]Money
	// Source names where the prices come from, AsOf its date.
	Source, AsOf string
	Note         string
}

// ID returns the row's canonical model ID.
func (r ProvisionedRow) ID() string {
	if len(r.IDs) == 0 {
		return ""
	}
	return r.IDs[0]
}

// ProvisionedModel is a Provisioned Throughput you bought: calls to ARN
// (the provisionedModelArn Bedrock returned) are served by ModelUnits
// model units of BaseModel, paid by the hour whether used or not. A meter
// prices such calls at zero per token (Bill.Committed); the capacity's cost
// is Catalog.ProvisionedCost.
type ProvisionedModel struct {
	ARN        string
	BaseModel  string // the model the units serve; custom models: their base model
	ModelUnits int
	Commitment Commitment
	// HourlyPerUnit is the price you are billed per model unit and hour; 0
	// means the catalog's published price for BaseModel and Commitment.
	HourlyPerUnit Money
}

func (c *Catalog) reindexProvisioned() {
	c.provIndex = map[string]int{}
	for i, r := range c.prov {
		for _, id := range r.IDs {
			c.provIndex[parseModelRef(id).id] = i
		}
	}
}

// ProvisionedRows returns the published Provisioned Throughput prices.
func (c *Catalog) ProvisionedRows() []ProvisionedRow {
	out := make([]ProvisionedRow, len(c.prov))
	for i, r := range c.prov {
		r.IDs = slices.Clone(r.IDs)
		r.Hourly = maps.Clone(r.Hourly)
		out[i] = r
	}
	return out
}

// ProvisionedHourly returns the published price of one model unit of
// modelID for one hour under commitment, with the row it comes from. A
// model or term without a published price is an error wrapping
// ErrUnpublished (and ErrUnpriced).
func (c *Catalog) ProvisionedHourly(modelID string, commitment Commitment) (Money, ProvisionedRow, error) {
	ref := parseModelRef(modelID)
	i, ok := c.provIndex[ref.id]
	if !ok {
		i, ok = c.provIndex[ref.base]
	}
	if !ok {
		return 0, ProvisionedRow{}, &UnpublishedError{What: fmt.Sprintf("Provisioned Throughput price for %q", modelID)}
	}
	r := c.prov[i]
	m, ok := r.Hourly[commitment]
	if !ok {
		return 0, r, &UnpublishedError{What: fmt.Sprintf("%s-commitment Provisioned Throughput price for %q", commitment, modelID)}
	}
	return m, r, nil
}

// UnpublishedError reports a price no public source gives. It wraps
// ErrUnpublished and ErrUnpriced.
type UnpublishedError struct {
	What string
}

// Error names the missing price and what to do.
func (e *UnpublishedError) Error() string {
	return "pricing: no published " + e.What + " in the catalog; ask your AWS account team for a quote and add it (Catalog.WithProvisionedModel's HourlyPerUnit, or a row in your own price table)"
}

// Unwrap returns ErrUnpublished and ErrUnpriced.
func (e *UnpublishedError) Unwrap() []error { return []error{ErrUnpublished, ErrUnpriced} }

// WithProvisionedModel returns a copy of c that knows pm: calls metered as
// pm.ARN are priced at zero per token and marked Committed, and
// ProvisionedCost gives the capacity's cost. pm.ARN must be a
// provisioned-model ARN; without HourlyPerUnit the catalog must publish a
// price for BaseModel under Commitment.
func (c *Catalog) WithProvisionedModel(pm ProvisionedModel) (*Catalog, error) {
	id, err := bedrockkit.ParseModelID(pm.ARN)
	if err != nil || id.Kind != bedrockkit.KindProvisionedModel {
		return nil, fmt.Errorf("pricing: provisioned model %q; use the provisionedModelArn CreateProvisionedModelThroughput returned (arn:aws:bedrock:<region>:<account>:provisioned-model/<id>): %w", pm.ARN, bedrockkit.ErrInvalidInput)
	}
	if pm.ModelUnits <= 0 {
		return nil, fmt.Errorf("pricing: provisioned model %s has %d model units; give the units you bought: %w", pm.ARN, pm.ModelUnits, bedrockkit.ErrInvalidInput)
	}
	if !slices.Contains(Commitments, pm.Commitment) {
		return nil, fmt.Errorf("pricing: provisioned model %s: commitment %q; use %v: %w", pm.ARN, pm.Commitment, Commitments, bedrockkit.ErrInvalidInput)
	}
	if pm.HourlyPerUnit < 0 {
		return nil, fmt.Errorf("pricing: provisioned model %s: negative hourly price: %w", pm.ARN, bedrockkit.ErrInvalidInput)
	}
	if pm.HourlyPerUnit == 0 {
		if _, _, err := c.ProvisionedHourly(pm.BaseModel, pm.Commitment); err != nil {
			return nil, fmt.Errorf("pricing: provisioned model %s: %w", pm.ARN, err)
		}
	}
	n := *c
	n.provModels = maps.Clone(c.provModels)
	if n.provModels == nil {
		n.provModels = map[string]ProvisionedModel{}
	}
	n.provModels[strings.ToLower(strings.TrimSpace(pm.ARN))] = pm
	return &n, nil
}

// ProvisionedModels returns the Provisioned Throughputs the catalog knows,
// sorted by ARN.
func (c *Catalog) ProvisionedModels() []ProvisionedModel {
	out := slices.Collect(maps.Values(c.provModels))
	slices.SortFunc(out, func(a, b ProvisionedModel) int { return strings.Compare(a.ARN, b.ARN) })
	return out
}

// ProvisionedCost returns what the Provisioned Throughput arn costs for
// hours hours: model units x hourly price x hours. It does not apply the
// commitment's minimum term (see CapacityPlan for that).
func (c *Catalog) ProvisionedCost(arn string, hours int64) (Money, error) {
	pm, ok := c.provModels[strings.ToLower(strings.TrimSpace(arn))]
	if !ok {
		return 0, fmt.Errorf("pricing: %q is not a Provisioned Throughput the catalog knows; add it with Catalog.WithProvisionedModel: %w", arn, ErrUnknownModel)
	}
	hourly := pm.HourlyPerUnit
	if hourly == 0 {
		h, _, err := c.ProvisionedHourly(pm.BaseModel, pm.Commitment)
		if err != nil {
			return 0, err
		}
		hourly = h
	}
	return mulMoney(hourly, int64(pm.ModelUnits), hours)
}

// mulMoney returns m x a x b, or an error on overflow.
func mulMoney(m Money, a, b int64) (Money, error) {
	if m < 0 || a < 0 || b < 0 {
		return 0, fmt.Errorf("pricing: negative amount: %w", bedrockkit.ErrInvalidInput)
	}
	if a != 0 && int64(m) > (1<<63-1)/a {
		return 0, fmt.Errorf("pricing: amount overflows: %w", bedrockkit.ErrInvalidInput)
	}
	x := int64(m) * a
	if b != 0 && x > (1<<63-1)/b {
		return 0, fmt.Errorf("pricing: amount overflows: %w", bedrockkit.ErrInvalidInput)
	}
	return Money(x * b), nil
}

// provisioned returns the price of a call to a known Provisioned
// Throughput ARN: every rate Free, Committed.
func (c *Catalog) provisioned(modelID string) (Price, bool) {
	if len(c.provModels) == 0 {
		return Price{}, false
	}
	pm, ok := c.provModels[strings.ToLower(strings.TrimSpace(modelID))]
	if !ok {
		return Price{}, false
	}
	row := Row{IDs: []string{pm.ARN}, Name: "Provisioned Throughput of " + pm.BaseModel, Kind: KindText, Unit: UnitPer1MTokens,
		Input: Free, Output: Free, CacheRead: Free, CacheWrite5m: Free, CacheWrite1h: Free, BatchInput: Free, BatchOutput: Free,
		Source: "Provisioned Throughput: billed per model unit and hour, not per token (Catalog.ProvisionedCost)"}
	return Price{Row: row, Committed: true}, true
}

type provJSON struct {
	IDs    []string `json:"ids"`
	Name   string   `json:"name,omitempty"`
	None   *string  `json:"no_commitment,omitempty"`
	Month  *string  `json:"one_month,omitempty"`
	Six    *string  `json:"six_months,omitempty"`
	Source string   `json:"source"`
	AsOf   string   `json:"as_of"`
	Note   string   `json:"note,omitempty"`
}

func (pj provJSON) row() (ProvisionedRow, error) {
	r := ProvisionedRow{IDs: pj.IDs, Name: pj.Name, Source: pj.Source, AsOf: pj.AsOf, Note: pj.Note, Hourly: map[Commitment]Money{}}
	if len(r.IDs) == 0 || slices.Contains(r.IDs, "") {
		return r, fmt.Errorf("row has no IDs or an empty one: %w", bedrockkit.ErrInvalidInput)
	}
	if r.Source == "" {
		return r, fmt.Errorf("row has no source; every price needs one: %w", bedrockkit.ErrInvalidInput)
	}
	if !rowDateRE.MatchString(r.AsOf) {
		return r, fmt.Errorf("as_of %q; want YYYY, YYYY-MM or YYYY-MM-DD: %w", r.AsOf, bedrockkit.ErrInvalidInput)
	}
	for _, f := range []struct {
		s *string
		c Commitment
	}{{pj.None, CommitNone}, {pj.Month, CommitMonth}, {pj.Six, CommitSixMonths}} {
		if f.s == nil {
			continue
		}
		m, err := ParseMoney(*f.s)
		if err != nil || m < 0 {
			return r, fmt.Errorf("%s price %q: %w", f.c, *f.s, bedrockkit.ErrInvalidInput)
		}
		r.Hourly[f.c] = m
	}
	if len(r.Hourly) == 0 {
		return r, fmt.Errorf("row has no price: %w", bedrockkit.ErrInvalidInput)
	}
	return r, nil
}

func provToJSON(r ProvisionedRow) provJSON {
	q := func(c Commitment) *string {
		m, ok := r.Hourly[c]
		if !ok {
			return nil
		}
		b, _ := m.MarshalText()
		s := string(b)
		return &s
	}
	return provJSON{IDs: r.IDs, Name: r.Name, None: q(CommitNone), Month: q(CommitMonth), Six: q(CommitSixMonths),
		Source: r.Source, AsOf: r.AsOf, Note: r.Note}
}
