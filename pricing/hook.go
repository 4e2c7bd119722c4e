package pricing

import (
	"context"
	"fmt"
	"sync"

	"github.com/bedrockkit/bedrockkit"
)

// BudgetHook adapts a Budget to a before-and-after hook pair, the shape of
// agent.Budget: Allow reserves a call's worst case before it is made and
// Spend settles the reservation with the call's usage. Use it when a loop
// calls an unmetered model; a model wrapped by Meter.Middleware already enforces
// the budgets on its context (use one or the other, or the call is counted
// twice).
//
// Calls through one hook must be sequential, as in one agent run: an Allow
// that finds the previous call's reservation unsettled (the call failed
// without usage, so Spend was not called) releases it first.
type BudgetHook struct {
	meter   *Meter
	modelID string
	price   Price
	budget  *Budget

	mu      sync.Mutex
	pending Money
	held    bool
}

// NewBudgetHook returns a hook charging budget for calls to modelID, priced
// and estimated as m does. An unknown model is an error wrapping
// ErrUnknownModel.
func NewBudgetHook(m *Meter, modelID string, budget *Budget) (*BudgetHook, error) {
	if m == nil || budget == nil {
		return nil, fmt.Errorf("pricing: NewBudgetHook needs a meter and a budget: %w", bedrockkit.ErrInvalidInput)
	}
	p, err := m.cat.Lookup(modelID)
	if err != nil {
		return nil, err
	}
	return &BudgetHook{meter: m, modelID: modelID, price: p, budget: budget}, nil
}

// Allow reserves the most req can cost (see Meter) or refuses with a
// *BudgetError wrapping bedrockkit.ErrBudgetExceeded (or, for a request
// with no bound, an error wrapping ErrUnbounded).
func (h *BudgetHook) Allow(ctx context.Context, req *bedrockkit.Request) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.held {
		h.budget.Release(h.pending)
		h.held = false
	}
	cb, err := h.meter.bound(ctx, h.price, h.modelID, req)
	if err != nil {
		return err
	}
	if err := h.budget.Reserve(cb.amount); err != nil {
		return err
	}
	h.pending, h.held = cb.amount, true
	return nil
}

// Spend settles the pending reservation with the cost of usage. Usage the
// catalog cannot price is charged the whole reservation. Spend without a
// pending reservation charges the cost directly.
func (h *BudgetHook) Spend(ctx context.Context, usage bedrockkit.Usage) {
	h.mu.Lock()
	defer h.mu.Unlock()
	reserved := Money(0)
	if h.held {
		reserved = h.pending
		h.held = false
	}
	bill, err := h.price.Cost(usage, Terms{})
	actual := bill.Total
	if err != nil {
		actual = reserved
		if h.meter.onErr != nil {
			h.meter.onErr(ctx, fmt.Errorf("pricing: budget hook %s: %w", h.price.ID(), err))
		}
	}
	h.budget.Settle(reserved, actual)
}
