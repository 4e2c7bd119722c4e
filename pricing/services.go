package pricing

import (
	"fmt"
	"math/big"
	"regexp"
	"slices"

	"github.com/bedrockkit/bedrockkit"
)

// ServicePrice is the published price of a unit of a service other than a
// model's tokens: runtime vCPU-hours and GB-hours, vector-store capacity
// and storage, gateway requests. Price is per Per units of Unit.
type ServicePrice struct {
	// ID names the price, such as ServiceAgentCoreRuntimeVCPUHour.
	ID   string
	Name string
	// Unit is what is counted ("vCPU-hour", "GB-month", "request").
	Unit string
	// Per is how many units Price is quoted for (1, or 1000 for "per 1,000
	// requests").
	Per   int64
	Price Money
	// Source names where the price comes from, AsOf its date.
	Source, AsOf string
	Note         string
}

// Service price IDs in the embedded catalog.
const (
	// ServiceAgentCoreRuntimeVCPUHour is AgentCore Runtime's price per
	// vCPU-hour of active CPU (per second, 1 s minimum).
	ServiceAgentCoreRuntimeVCPUHour = "agentcore.runtime.vcpu-hour"
	// ServiceAgentCoreRuntimeGBHour is AgentCore Runtime's price per
	// GB-hour of peak memory.
	ServiceAgentCoreRuntimeGBHour = "agentcore.runtime.gb-hour"
	// ServiceAgentCoreGatewayRequest is AgentCore Gateway's price of
	// ListTools, InvokeTool and Ping requests.
	ServiceAgentCoreGatewayRequest = "agentcore.gateway.request"
	// ServiceOpenSearchServerlessOCUHour is the price of one OpenSearch
	// Compute Unit for an hour (Bedrock Knowledge Bases' default vector store).
	ServiceOpenSearchServerlessOCUHour = "opensearch-serverless.ocu-hour"
	// ServiceOpenSearchServerlessStorage is OpenSearch Serverless managed
	// storage per GB-month.
	ServiceOpenSearchServerlessStorage = "opensearch-serverless.storage-gb-month"
)

// Services returns the catalog's service prices.
func (c *Catalog) Services() []ServicePrice { return slices.Clone(c.services) }

// Service returns the service price id, or an error wrapping
// ErrUnpublished.
func (c *Catalog) Service(id string) (ServicePrice, error) {
	for _, sp := range c.services {
		if sp.ID == id {
			return sp, nil
		}
	}
	return ServicePrice{}, &UnpublishedError{What: fmt.Sprintf("service price %q", id)}
}

// CostOf returns the price of num/den units, rounded half up to the
// nano-dollar: CostOf(90, 3600) is 90 seconds of an hourly unit.
func (sp ServicePrice) CostOf(num, den int64) (Money, error) {
	if num < 0 || den <= 0 {
		return 0, fmt.Errorf("pricing: quantity %d/%d of %s: %w", num, den, sp.ID, bedrockkit.ErrInvalidInput)
	}
	r := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(int64(sp.Price)), big.NewInt(num)), new(big.Int).Mul(big.NewInt(sp.Per), big.NewInt(den)))
	return ratMoney(r)
}

// ratMoney rounds a non-negative number of nano-dollars half up.
func ratMoney(r *big.Rat) (Money, error) {
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if new(big.Int).Mul(m, big.NewInt(2)).Cmp(r.Denom()) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if !q.IsInt64() {
		return 0, fmt.Errorf("pricing: amount overflows: %w", bedrockkit.ErrInvalidInput)
	}
	return Money(q.Int64()), nil
}

var serviceIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*$`)

type serviceJSON struct {
	ID     string `json:"id"`
	Name   string `json:"name,omitempty"`
	Unit   string `json:"unit"`
	Per    int64  `json:"per,omitempty"`
	Price  string `json:"price"`
	Source string `json:"source"`
	AsOf   string `json:"as_of"`
	Note   string `json:"note,omitempty"`
}

func (sj serviceJSON) price() (ServicePrice, error) {
	sp := ServicePrice{ID: sj.ID, Name: sj.Name, Unit: sj.Unit, Per: sj.Per, Source: sj.Source, AsOf: sj.AsOf, Note: sj.Note}
	if sp.Per == 0 {
		sp.Per = 1
	}
	if !serviceIDRE.MatchString(sp.ID) || sp.Unit == "" || sp.Per < 0 {
		return sp, fmt.Errorf("id %q, unit %q, per %d; want a lower-case id, a unit and a positive per: %w", sp.ID, sp.Unit, sp.Per, bedrockkit.ErrInvalidInput)
	}
	if sp.Source == "" {
		return sp, fmt.Errorf("row has no source; every price needs one: %w", bedrockkit.ErrInvalidInput)
	}
	if !rowDateRE.MatchString(sp.AsOf) {
		return sp, fmt.Errorf("as_of %q; want YYYY, YYYY-MM or YYYY-MM-DD: %w", sp.AsOf, bedrockkit.ErrInvalidInput)
	}
	m, err := ParseMoney(sj.Price)
	if err != nil || m < 0 {
		return sp, fmt.Errorf("price %q: %w", sj.Price, bedrockkit.ErrInvalidInput)
	}
	sp.Price = m
	return sp, nil
}

func checkServiceIDs(s []ServicePrice) error {
	seen := map[string]bool{}
	for _, sp := range s {
		if seen[sp.ID] {
			return fmt.Errorf("pricing: price table lists service %q twice: %w", sp.ID, bedrockkit.ErrInvalidInput)
		}
		seen[sp.ID] = true
	}
	return nil
}

func serviceToJSON(sp ServicePrice) serviceJSON {
	b, _ := sp.Price.MarshalText()
	per := sp.Per
	if per == 1 {
		per = 0
	}
	return serviceJSON{ID: sp.ID, Name: sp.Name, Unit: sp.Unit, Per: per, Price: string(b), Source: sp.Source, AsOf: sp.AsOf, Note: sp.Note}
}
