package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/bedrockkit/bedrockkit/agent"
)

// The fake core-banking data of examples/quickstart, trimmed to what this
// example's conversation needs. Everything here is invented.

type customer struct {
	Name, Product, MaskedAccount string
	BalanceCents                 int64
}

type transaction struct {
	Date, Description, Category string
	AmountCents                 int64
}

var customers = map[string]customer{
	"C-1001": {Name: "Ana Ruiz", Product: "Everyday Checking", MaskedAccount: "HV-****-****-57", BalanceCents: 243118},
	"C-1002": {Name: "Ben Okafor", Product: "Premier Checking", MaskedAccount: "HV-****-****-02", BalanceCents: 1890244},
}

// transactions are oldest first.
var transactions = map[string][]transaction{
	"C-1001": {
		{"2026-11-02", "Salary ACME Corp", "income", 312000},
		{"2026-11-03", "Harbor Apartments rent", "housing", -145000},
		{"2026-11-15", "FreshMart groceries", "groceries", -5218},
		{"2026-11-19", "Luna Cafe", "dining", -1840},
		{"2026-11-22", "PowerGrid electricity", "utilities", -7410},
	},
}

func money(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	d := strconv.FormatInt(cents/100, 10)
	for i := len(d) - 3; i > 0; i -= 3 {
		d = d[:i] + "," + d[i:]
	}
	return fmt.Sprintf("%s$%s.%02d", sign, d, cents%100)
}

type accountQuery struct {
	CustomerID string `json:"customer_id" description:"The customer's id, such as C-1001"`
}

type txnQuery struct {
	CustomerID string `json:"customer_id" description:"The customer's id, such as C-1001"`
	Last       int    `json:"last,omitempty" description:"How many of the most recent transactions, 1 to 20; default 5"`
}

type transferArgs struct {
	CustomerID  string `json:"customer_id" description:"The paying customer's id"`
	To          string `json:"to" description:"The payee's name"`
	AmountCents int64  `json:"amount_cents" description:"The amount in cents, at most 100000"`
}

// ledger records transfers, so the example shows each ran once.
var ledger struct {
	mu   sync.Mutex
	sent []string
}

func bankTools() []*agent.Tool {
	lookup := agent.MustNewFuncTool("account_lookup", "Look up a customer's checking account: product, masked account number and balance.",
		func(_ context.Context, q accountQuery) (map[string]string, error) {
			c, ok := customers[strings.ToUpper(strings.TrimSpace(q.CustomerID))]
			if !ok {
				return nil, fmt.Errorf("no customer %q; customer ids look like C-1001", q.CustomerID)
			}
			return map[string]string{"name": c.Name, "product": c.Product, "account_number": c.MaskedAccount, "balance": money(c.BalanceCents)}, nil
		})
	summary := agent.MustNewFuncTool("transaction_summary", "Summarise a customer's most recent transactions, newest first.",
		func(_ context.Context, q txnQuery) ([]map[string]string, error) {
			all, ok := transactions[strings.ToUpper(strings.TrimSpace(q.CustomerID))]
			if !ok {
				return nil, fmt.Errorf("no transactions for customer %q", q.CustomerID)
			}
			n := q.Last
			if n == 0 {
				n = 5
			}
			if n < 1 || n > 20 {
				return nil, fmt.Errorf("last must be between 1 and 20, got %d", n)
			}
			var out []map[string]string
			for i := len(all) - 1; i >= 0 && len(out) < n; i-- {
				t := all[i]
				out = append(out, map[string]string{"date": t.Date, "description": t.Description, "category": t.Category, "amount": money(t.AmountCents)})
			}
			return out, nil
		})
	transfer := agent.MustNewFuncTool("transfer", "Send money from the customer's account to a payee. The customer approves each transfer.",
		func(ctx context.Context, t transferArgs) (string, error) {
			if t.AmountCents <= 0 || t.AmountCents > 100000 {
				return "", fmt.Errorf("amount_cents must be between 1 and 100000, got %d", t.AmountCents)
			}
			ledger.mu.Lock()
			defer ledger.mu.Unlock()
			ledger.sent = append(ledger.sent, fmt.Sprintf("%s -> %s %s", t.CustomerID, t.To, money(t.AmountCents)))
			return fmt.Sprintf("sent %s to %s", money(t.AmountCents), t.To), nil
		}, agent.ToolOptions{RequireConfirmation: true})
	return []*agent.Tool{lookup, summary, transfer}
}
