package pricing

import (
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/bedrockkit/bedrockkit"
)

// Workload is the token usage of one model over a period: measured (see
// Snapshot.Workload) or forecast.
type Workload struct {
	ModelID string
	Usage   bedrockkit.Usage
	Calls   int64
	// Period is how long the usage took; it scales the usage to a month.
	Period time.Duration
}

// Workload sums the entries metered as modelID into a Workload over period
// (the time the snapshot covers).
func (s Snapshot) Workload(modelID string, period time.Duration) Workload {
	w := Workload{ModelID: modelID, Period: period}
	for _, e := range s.Entries {
		if e.Model != modelID {
			continue
		}
		w.Calls += e.Calls
		w.Usage = w.Usage.Add(bedrockkit.Usage{InputTokens: int(e.InputTokens), OutputTokens: int(e.OutputTokens),
			CacheReadTokens: int(e.CacheReadTokens), CacheWriteTokens: int(e.CacheWriteTokens)})
		if e.Estimated > 0 {
			w.Usage.Estimated = true
		}
	}
	return w
}

// CapacityOptions configures Catalog.PlanCapacity. The zero value means one
// model unit and no throughput check.
type CapacityOptions struct {
	// ModelUnits is how many model units the provisioned options buy; 0
	// means 1.
	ModelUnits int
	// Region prefers Region-limited on-demand rows.
	Region string
	// TokensPerMinutePerUnit, if known (AWS gives it per model through your
	// account team, not publicly), lets the plan say whether ModelUnits
	// carry the workload's average rate. 0 means unknown.
	TokensPerMinutePerUnit int64
}

// Quote is a monthly cost, or why it is unknown.
type Quote struct {
	// Cost is the cost of the workload's month; meaningful when Known.
	Cost  Money
	Known bool
	// Reason says why the cost is unknown (no published price, ...).
	Reason string
	// Source and AsOf are the price's source and date.
	Source, AsOf string
}

// ProvisionedQuote is the monthly cost of Provisioned Throughput under one
// commitment, compared with on-demand.
type ProvisionedQuote struct {
	Commitment Commitment
	ModelUnits int
	Quote
	// HourlyPerUnit is the published price of a model unit for an hour.
	HourlyPerUnit Money
	// Savings is the on-demand month minus this option's month: positive
	// when provisioned capacity is cheaper, negative when it costs more.
	// Meaningful when both are Known.
	Savings Money
	// BreakEven is the monthly on-demand spend above which this option is
	// cheaper (its own monthly cost).
	BreakEven Money
	// Carries says whether the units carry the workload's average token
	// rate: "yes", "no", or "unknown" when TokensPerMinutePerUnit is not
	// given. An average says nothing about peaks.
	Carries string
}

// CapacityPlan compares what a workload costs in a month on demand, as a
// Bedrock batch job and on Provisioned Throughput. Unknown prices are
// reported as unknown with the reason, never estimated.
type CapacityPlan struct {
	ModelID string
	// Monthly is the workload's usage scaled to a month of HoursPerMonth.
	Monthly bedrockkit.Usage
	// TokensPerMinute is the workload's average input plus output rate.
	TokensPerMinute int64
	OnDemand        Quote
	Batch           Quote
	Provisioned     []ProvisionedQuote // one per commitment, in the order of Commitments
	// CatalogAsOf is the catalog's date.
	CatalogAsOf string
}

// Best returns the cheapest known option's name ("on-demand", "batch",
// "provisioned 1m", ...) and cost, or ok false when no cost is known.
// Batch is included: it suits only work that can wait up to a day.
func (p CapacityPlan) Best() (name string, cost Money, ok bool) {
	consider := func(n string, q Quote) {
		if q.Known && (!ok || q.Cost < cost) {
			name, cost, ok = n, q.Cost, true
		}
	}
	consider("on-demand", p.OnDemand)
	consider("batch", p.Batch)
	for _, pq := range p.Provisioned {
		consider("provisioned "+string(pq.Commitment), pq.Quote)
	}
	return name, cost, ok
}

// PlanCapacity prices w's usage, scaled to a month, on demand, at batch
// rates and on Provisioned Throughput under each commitment, and says
// where provisioned capacity beats on-demand and by how much. A workload
// without a period or with negative usage is an error wrapping
// bedrockkit.ErrInvalidInput; a model the catalog has no on-demand price
// for is an error wrapping ErrUnknownModel. Options without a published
// price are reported unknown.
func (c *Catalog) PlanCapacity(w Workload, o CapacityOptions) (CapacityPlan, error) {
	monthly, err := w.monthly()
	if err != nil {
		return CapacityPlan{}, err
	}
	units := o.ModelUnits
	if units <= 0 {
		units = 1
	}
	plan := CapacityPlan{ModelID: w.ModelID, CatalogAsOf: c.asOf, Monthly: monthly}
	tokens := int64(monthly.InputTokens) + int64(monthly.OutputTokens) + int64(monthly.CacheReadTokens) + int64(monthly.CacheWriteTokens)
	plan.TokensPerMinute = tokens / (HoursPerMonth * 60)

	lookupErr := c.quoteOnDemand(&plan, o.Region)
	if lookupErr != nil && !errors.Is(lookupErr, ErrUnknownModel) {
		return CapacityPlan{}, lookupErr
	}
	anyKnown := plan.OnDemand.Known
	for _, cm := range Commitments {
		pq, err := c.quoteProvisioned(plan, cm, units, o.TokensPerMinutePerUnit)
		if err != nil {
			return CapacityPlan{}, err
		}
		plan.Provisioned = append(plan.Provisioned, pq)
		anyKnown = anyKnown || pq.Known
	}
	if !anyKnown && lookupErr != nil {
		return CapacityPlan{}, lookupErr
	}
	return plan, nil
}

// monthly checks w and scales its usage to a month (HoursPerMonth).
func (w Workload) monthly() (bedrockkit.Usage, error) {
	if w.Period <= 0 {
		return bedrockkit.Usage{}, fmt.Errorf("pricing: workload of %s has no period; give the time the usage took: %w", w.ModelID, bedrockkit.ErrInvalidInput)
	}
	u := w.Usage
	if u.InputTokens < 0 || u.OutputTokens < 0 || u.CacheReadTokens < 0 || u.CacheWriteTokens < 0 {
		return bedrockkit.Usage{}, fmt.Errorf("pricing: workload of %s has negative token counts: %w", w.ModelID, bedrockkit.ErrInvalidInput)
	}
	month := time.Duration(HoursPerMonth) * time.Hour
	scale := func(n int) int {
		v := new(big.Int).Mul(big.NewInt(int64(n)), big.NewInt(int64(month)))
		v.Quo(v, big.NewInt(int64(w.Period)))
		if !v.IsInt64() || v.Int64() > int64(^uint(0)>>1) {
			return -1
		}
		return int(v.Int64())
	}
	m := bedrockkit.Usage{InputTokens: scale(u.InputTokens), OutputTokens: scale(u.OutputTokens),
		CacheReadTokens: scale(u.CacheReadTokens), CacheWriteTokens: scale(u.CacheWriteTokens), Estimated: u.Estimated}
	if m.InputTokens < 0 || m.OutputTokens < 0 || m.CacheReadTokens < 0 || m.CacheWriteTokens < 0 {
		return bedrockkit.Usage{}, fmt.Errorf("pricing: workload of %s is too large to scale to a month: %w", w.ModelID, bedrockkit.ErrInvalidInput)
	}
	return m, nil
}

// quoteOnDemand prices the plan's monthly usage on demand and at batch
// rates. It returns the catalog's lookup error; for an unknown model (a
// custom model, say: only provisioned capacity may be priced) both quotes
// say why they are unknown.
func (c *Catalog) quoteOnDemand(plan *CapacityPlan, region string) error {
	p, err := c.LookupRegion(plan.ModelID, region)
	if err != nil {
		plan.OnDemand.Reason = err.Error()
		plan.Batch.Reason = err.Error()
		return err
	}
	quote := func(t Terms) Quote {
		b, err := p.Cost(plan.Monthly, t)
		if err != nil {
			return Quote{Reason: err.Error()}
		}
		return Quote{Cost: b.Total, Known: true, Source: p.Source, AsOf: p.AsOf}
	}
	plan.OnDemand = quote(Terms{Region: region})
	plan.Batch = quote(Terms{Region: region, Batch: true})
	if !plan.Batch.Known && !p.BatchInput.IsSet() {
		plan.Batch.Reason = fmt.Sprintf("no batch price for %s in the catalog (batch is offered for select models only)", p.ID())
	}
	return nil
}

// quoteProvisioned prices a month of units model units under commitment
// cm, against the plan's on-demand cost and throughput (tpmPerUnit 0:
// unknown whether the units carry it).
func (c *Catalog) quoteProvisioned(plan CapacityPlan, cm Commitment, units int, tpmPerUnit int64) (ProvisionedQuote, error) {
	pq := ProvisionedQuote{Commitment: cm, ModelUnits: units, Carries: "unknown"}
	hourly, row, err := c.ProvisionedHourly(plan.ModelID, cm)
	if err != nil {
		pq.Reason = fmt.Sprintf("no published %s-commitment Provisioned Throughput price for %s", cm, plan.ModelID)
		return pq, nil
	}
	cost, err := mulMoney(hourly, int64(units), HoursPerMonth)
	if err != nil {
		return pq, err
	}
	pq.HourlyPerUnit = hourly
	pq.Quote = Quote{Cost: cost, Known: true, Source: row.Source, AsOf: row.AsOf}
	pq.BreakEven = cost
	if plan.OnDemand.Known {
		pq.Savings = plan.OnDemand.Cost - cost
	}
	if tpmPerUnit > 0 {
		pq.Carries = "no"
		if plan.TokensPerMinute <= tpmPerUnit*int64(units) {
			pq.Carries = "yes"
		}
	}
	return pq, nil
}
