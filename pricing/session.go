package pricing

import (
	"fmt"
	"time"

	"github.com/bedrockkit/bedrockkit"
)

// RuntimeUsage is what a session used of a hosting runtime such as
// AgentCore Runtime, which bills active CPU time and peak memory per second
// (1 second minimum).
type RuntimeUsage struct {
	// CPU is the active CPU time, summed over vCPUs (2 vCPUs busy for a
	// minute is 2 minutes). I/O wait is not billed.
	CPU time.Duration
	// MemoryGBSeconds is peak memory in GB times the seconds it was held.
	MemoryGBSeconds float64
}

// SessionExtras is what a session used beyond model calls.
type SessionExtras struct {
	// Runtime is the hosting runtime's usage, zero when the agent runs in
	// your own process.
	Runtime RuntimeUsage
	// GatewayRequests counts AgentCore Gateway requests (ListTools,
	// InvokeTool, Ping). Tools run in your own process cost nothing here;
	// tools that call models are metered as model calls.
	GatewayRequests int64
}

// SessionCost is one session's cost by part.
type SessionCost struct {
	Session string
	// Model is the cost of the session's metered model and embedder
	// calls; Tokens and Calls their usage.
	Model  Breakdown
	Tokens bedrockkit.Usage
	Calls  int64
	// Unpriced counts calls whose usage could not be priced.
	Unpriced int64
	// Tools is the price of the gateway requests; Runtime the price of the
	// runtime usage.
	Tools, Runtime Money
	// Total is Model.Total + Tools + Runtime.
	Total Money
}

// SessionCost returns session's cost from the meter's entries (its model
// and embedder calls, attributed with WithSession) plus extras priced at
// the catalog's service prices. A non-zero extra whose price the catalog
// does not publish is an error wrapping ErrUnpublished.
func (m *Meter) SessionCost(session string, extras SessionExtras) (SessionCost, error) {
	sc := SessionCost{Session: session}
	for _, e := range m.Snapshot().Entries {
		if e.Session != session {
			continue
		}
		sc.Model = sc.Model.Add(e.Cost)
		sc.Calls += e.Calls
		sc.Unpriced += e.Unpriced
		sc.Tokens = sc.Tokens.Add(bedrockkit.Usage{InputTokens: int(e.InputTokens), OutputTokens: int(e.OutputTokens),
			CacheReadTokens: int(e.CacheReadTokens), CacheWriteTokens: int(e.CacheWriteTokens), Estimated: e.Estimated > 0})
	}
	var err error
	sc.Runtime, err = m.cat.RuntimeCost(extras.Runtime)
	if err != nil {
		return SessionCost{}, err
	}
	if extras.GatewayRequests < 0 {
		return SessionCost{}, fmt.Errorf("pricing: %d gateway requests: %w", extras.GatewayRequests, bedrockkit.ErrInvalidInput)
	}
	if extras.GatewayRequests > 0 {
		sp, err := m.cat.Service(ServiceAgentCoreGatewayRequest)
		if err != nil {
			return SessionCost{}, err
		}
		if sc.Tools, err = sp.CostOf(extras.GatewayRequests, 1); err != nil {
			return SessionCost{}, err
		}
	}
	sc.Total = sc.Model.Total + sc.Tools + sc.Runtime
	return sc, nil
}

// RuntimeCost prices AgentCore Runtime usage: vCPU-hours of active CPU and
// GB-hours of memory, each billed per second with a 1-second minimum.
// Zero usage costs nothing; usage whose price the catalog does not publish
// is an error wrapping ErrUnpublished.
func (c *Catalog) RuntimeCost(u RuntimeUsage) (Money, error) {
	if u.CPU < 0 || u.MemoryGBSeconds < 0 {
		return 0, fmt.Errorf("pricing: runtime usage %+v: %w", u, bedrockkit.ErrInvalidInput)
	}
	var total Money
	if u.CPU > 0 {
		sp, err := c.Service(ServiceAgentCoreRuntimeVCPUHour)
		if err != nil {
			return 0, err
		}
		secs := max(int64((u.CPU+time.Second-1)/time.Second), 1)
		m, err := sp.CostOf(secs, 3600)
		if err != nil {
			return 0, err
		}
		total += m
	}
	if u.MemoryGBSeconds > 0 {
		sp, err := c.Service(ServiceAgentCoreRuntimeGBHour)
		if err != nil {
			return 0, err
		}
		// Millionths of a GB-second, so fractional GB stay exact enough.
		micro := int64(u.MemoryGBSeconds*1e6 + 0.5)
		m, err := sp.CostOf(micro, 3600*1_000_000)
		if err != nil {
			return 0, err
		}
		total += m
	}
	return total, nil
}
