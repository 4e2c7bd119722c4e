package main

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/bedrockkit/bedrockkit/agent"
)

// The fake core-banking data the assistant's tools read. Everything here is
// invented; account numbers have Harborview's format HV-dddd-dddd-dd.

type customer struct {
	ID, Name, Product, AccountNumber string
	BalanceCents                     int64
}

type transaction struct {
	Date, Description, Category string
	AmountCents                 int64 // negative for money out
}

var customers = map[string]customer{
	"C-1001": {ID: "C-1001", Name: "Ana Ruiz", Product: "Everyday Checking", AccountNumber: "HV-4821-0093-57", BalanceCents: 243118},
	"C-1002": {ID: "C-1002", Name: "Ben Okafor", Product: "Premier Checking", AccountNumber: "HV-7730-1184-02", BalanceCents: 1890244},
}

// transactions are oldest first.
var transactions = map[string][]transaction{
	"C-1001": {
		{"2026-11-02", "Salary ACME Corp", "income", 312000},
		{"2026-11-03", "Harbor Apartments rent", "housing", -145000},
		{"2026-11-08", "FreshMart groceries", "groceries", -8643},
		{"2026-11-12", "City Transit pass", "transport", -6500},
		{"2026-11-15", "FreshMart groceries", "groceries", -5218},
		{"2026-11-19", "Luna Cafe", "dining", -1840},
		{"2026-11-22", "PowerGrid electricity", "utilities", -7410},
	},
	"C-1002": {
		{"2026-11-01", "Consulting invoice 118", "income", 640000},
		{"2026-11-05", "Mortgage payment", "housing", -238000},
		{"2026-11-09", "Airline tickets", "travel", -61240},
		{"2026-11-20", "Bistro Nord", "dining", -9275},
	},
}

// accountNumberPattern is the bank's account-number format, for the
// guardrail's custom regex.
const accountNumberPattern = `\bHV-\d{4}-\d{4}-\d{2}\b`

var accountNumberRE = regexp.MustCompile(accountNumberPattern)

// maskAccount keeps the last two digits: HV-****-****-57.
func maskAccount(n string) string { return "HV-****-****-" + n[len(n)-2:] }

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

// accountQuery is the input of account_lookup.
type accountQuery struct {
	CustomerID string `json:"customer_id" description:"The customer's id, such as C-1001"`
}

// accountInfo is what account_lookup returns; the account number is masked.
type accountInfo struct {
	CustomerID    string `json:"customer_id"`
	Name          string `json:"name"`
	Product       string `json:"product"`
	AccountNumber string `json:"account_number"`
	Balance       string `json:"balance"`
}

func lookupAccount(_ context.Context, q accountQuery) (accountInfo, error) {
	c, ok := customers[strings.ToUpper(strings.TrimSpace(q.CustomerID))]
	if !ok {
		return accountInfo{}, fmt.Errorf("no customer %q; customer ids look like C-1001", q.CustomerID)
	}
	return accountInfo{CustomerID: c.ID, Name: c.Name, Product: c.Product,
		AccountNumber: maskAccount(c.AccountNumber), Balance: money(c.BalanceCents)}, nil
}

// txnQuery is the input of transaction_summary.
type txnQuery struct {
	CustomerID string `json:"customer_id" description:"The customer's id, such as C-1001"`
	Last       int    `json:"last,omitempty" description:"How many of the most recent transactions, 1 to 20; default 5"`
}

type txnLine struct {
	Date        string `json:"date"`
	Description string `json:"description"`
	Category    string `json:"category"`
	Amount      string `json:"amount"`
}

// txnSummary is what transaction_summary returns: the last N transactions,
// newest first, and their totals by category.
type txnSummary struct {
	CustomerID       string            `json:"customer_id"`
	Transactions     []txnLine         `json:"transactions"`
	TotalsByCategory map[string]string `json:"totals_by_category"`
}

func summarizeTransactions(_ context.Context, q txnQuery) (txnSummary, error) {
	id := strings.ToUpper(strings.TrimSpace(q.CustomerID))
	all, ok := transactions[id]
	if !ok {
		return txnSummary{}, fmt.Errorf("no customer %q; customer ids look like C-1001", q.CustomerID)
	}
	n := q.Last
	if n == 0 {
		n = 5
	}
	if n < 1 || n > 20 {
		return txnSummary{}, fmt.Errorf("last must be between 1 and 20, got %d", n)
	}
	n = min(n, len(all))
	s := txnSummary{CustomerID: id, TotalsByCategory: map[string]string{}}
	totals := map[string]int64{}
	for i := len(all) - 1; i >= len(all)-n; i-- {
		t := all[i]
		s.Transactions = append(s.Transactions, txnLine{t.Date, t.Description, t.Category, money(t.AmountCents)})
		totals[t.Category] += t.AmountCents
	}
	cats := make([]string, 0, len(totals))
	for c := range totals {
		cats = append(cats, c)
	}
	sort.Strings(cats)
	for _, c := range cats {
		s.TotalsByCategory[c] = money(totals[c])
	}
	return s, nil
}

// bankTools are the agent's tools over the fake bank data.
func bankTools() (lookup, summary *agent.Tool) {
	lookup = agent.MustNewFuncTool("account_lookup",
		"Look up a customer's checking account: product, masked account number and current balance.",
		lookupAccount)
	summary = agent.MustNewFuncTool("transaction_summary",
		"Summarise a customer's most recent transactions, newest first, with totals by category.",
		summarizeTransactions)
	return lookup, summary
}
