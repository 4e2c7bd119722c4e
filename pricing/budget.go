package pricing

import (
	"fmt"
	"sync"

	"github.com/bedrockkit/bedrockkit"
)

// Scope says what a budget limits.
type Scope string

// Budget scopes. Tenant and session budgets are registered on a Meter and
// found through the context's tenant and session; run budgets travel on the
// context itself (WithBudget).
const (
	ScopeTenant  Scope = "tenant"
	ScopeSession Scope = "session"
	ScopeRun     Scope = "run"
)

// Budget is a spending limit that is checked before each call. A call first
// reserves its worst-case cost; the reservation is refused when spent plus
// reserved plus the new reservation would pass the limit, and settled with
// the real cost after the call (released when the call failed without
// usage). As long as calls cost no more than they reserved, spending never
// passes the limit, even with concurrent calls. A Budget is safe for
// concurrent use.
type Budget struct {
	scope Scope
	id    string

	mu       sync.Mutex
	limit    Money
	spent    Money
	reserved Money
}

// NewBudget returns a budget of limit for scope and id (used in errors and
// reports; a run budget might be NewBudget(ScopeRun, runID, limit)).
func NewBudget(scope Scope, id string, limit Money) *Budget {
	return &Budget{scope: scope, id: id, limit: limit}
}

// Scope returns the budget's scope.
func (b *Budget) Scope() Scope { return b.scope }

// ID returns the budget's tenant, session or run ID.
func (b *Budget) ID() string { return b.id }

// BudgetState is a budget's figures at one moment.
type BudgetState struct {
	Limit    Money `json:"limit"`
	Spent    Money `json:"spent"`
	Reserved Money `json:"reserved"`
}

// Remaining returns what is left to reserve: limit - spent - reserved (negative
// when real costs overshot their reservations).
func (s BudgetState) Remaining() Money { return s.Limit - s.Spent - s.Reserved }

// State returns the budget's current figures.
func (b *Budget) State() BudgetState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return BudgetState{Limit: b.limit, Spent: b.spent, Reserved: b.reserved}
}

// SetLimit changes the limit. Calls already reserved are not affected.
func (b *Budget) SetLimit(limit Money) {
	b.mu.Lock()
	b.limit = limit
	b.mu.Unlock()
}

// Reserve sets aside amount for a call. It fails with a *BudgetError
// (wrapping bedrockkit.ErrBudgetExceeded) when the amount does not fit.
// Every successful Reserve must be followed by Settle or Release.
func (b *Budget) Reserve(amount Money) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if amount < 0 || b.spent+b.reserved+amount > b.limit {
		return &BudgetError{Scope: b.scope, ID: b.id, Limit: b.limit, Spent: b.spent, Reserved: b.reserved, Needed: amount}
	}
	b.reserved += amount
	return nil
}

// Settle replaces a reservation of reserved by the real cost actual.
func (b *Budget) Settle(reserved, actual Money) {
	b.mu.Lock()
	b.reserved -= reserved
	b.spent += actual
	b.mu.Unlock()
}

// Release drops a reservation of reserved without spending.
func (b *Budget) Release(reserved Money) { b.Settle(reserved, 0) }

// BudgetError is a call refused because its worst-case cost does not fit a
// budget. It wraps bedrockkit.ErrBudgetExceeded.
type BudgetError struct {
	Scope    Scope
	ID       string
	Limit    Money
	Spent    Money
	Reserved Money // by calls in flight
	Needed   Money // the refused call's worst case
}

// Error gives the figures and what to do.
func (e *BudgetError) Error() string {
	return fmt.Sprintf("pricing: %s %q budget of %v would be exceeded: the call may cost up to %v, %v is spent and %v reserved by calls in flight; raise the budget, lower MaxTokens or shorten the input",
		e.Scope, e.ID, e.Limit, e.Needed, e.Spent, e.Reserved)
}

// Unwrap returns bedrockkit.ErrBudgetExceeded.
func (e *BudgetError) Unwrap() error { return bedrockkit.ErrBudgetExceeded }

// reservation is one call's hold on its budgets.
type reservation struct {
	budgets []*Budget
	amount  Money
}

// reserveAll reserves amount on every budget, or on none: on a refusal the
// budgets already reserved are released.
func reserveAll(budgets []*Budget, amount Money) (reservation, error) {
	for i, b := range budgets {
		if err := b.Reserve(amount); err != nil {
			for _, done := range budgets[:i] {
				done.Release(amount)
			}
			return reservation{}, err
		}
	}
	return reservation{budgets: budgets, amount: amount}, nil
}

func (r reservation) settle(actual Money) {
	for _, b := range r.budgets {
		b.Settle(r.amount, actual)
	}
}

// adjust corrects the spending of a settled reservation by delta.
func (r reservation) adjust(delta Money) {
	if delta == 0 {
		return
	}
	for _, b := range r.budgets {
		b.Settle(0, delta)
	}
}
