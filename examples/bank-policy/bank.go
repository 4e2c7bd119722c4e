package main

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/cedar-policy/cedar-go"

	"github.com/bedrockkit/bedrockkit/agent"
)

// policies is the bank's Cedar policy set: tellers may look up any
// account, customers only their own; customers transfer only from their
// own accounts, tellers from any; and no transfer above 1,000.00 runs,
// whoever asks. Anything not permitted is denied.
const policies = `
@id("teller-lookup")
permit(principal, action == AgentCore::Action::"get_account", resource)
when { principal.hasTag("role") && principal.getTag("role") == "teller" };

@id("customer-own-lookup")
permit(principal, action == AgentCore::Action::"get_account", resource is Bank::Account)
when { principal.hasTag("customer_id") && resource has owner && resource.owner == principal.getTag("customer_id") };

@id("customer-own-transfer")
permit(principal, action == AgentCore::Action::"transfer", resource is Bank::Account)
when { principal.hasTag("customer_id") && resource has owner && resource.owner == principal.getTag("customer_id") };

@id("teller-transfer")
permit(principal, action == AgentCore::Action::"transfer", resource)
when { principal.hasTag("role") && principal.getTag("role") == "teller" };

@id("transfer-limit")
forbid(principal, action == AgentCore::Action::"transfer", resource)
when { context.input.amount.greaterThan(decimal("1000.00")) };
`

// freeze is added at run time to stop every transfer (the kill switch).
const freeze = `
@id("freeze-transfers")
forbid(principal, action == AgentCore::Action::"transfer", resource);
`

type account struct {
	owner   string
	balance int64 // cents
}

// bank is an in-memory core-banking system.
type bank struct {
	mu       sync.Mutex
	accounts map[string]*account
}

func newBank() *bank {
	return &bank{accounts: map[string]*account{
		"A-1001": {owner: "C-1", balance: 254_300},
		"A-1002": {owner: "C-1", balance: 1_200_000},
		"A-2001": {owner: "C-2", balance: 88_050},
	}}
}

// Get makes the bank the policies' entity store: each account is a
// Bank::Account entity whose owner attribute is the customer ID.
func (b *bank) Get(uid cedar.EntityUID) (cedar.Entity, bool) {
	if uid.Type != "Bank::Account" {
		return cedar.Entity{}, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	a, ok := b.accounts[string(uid.ID)]
	if !ok {
		return cedar.Entity{}, false
	}
	return cedar.Entity{UID: uid, Attributes: cedar.NewRecord(cedar.RecordMap{"owner": cedar.String(a.owner)})}, true
}

type lookupIn struct {
	AccountID string `json:"account_id" description:"The account, such as A-1001."`
}

type transferIn struct {
	AccountID string  `json:"account_id" description:"The account the money leaves."`
	To        string  `json:"to" description:"The account the money goes to."`
	Amount    float64 `json:"amount" description:"The amount in EUR, such as 250.00." jsonschema:"minimum=0.01"`
}

func cents(v int64) string { return fmt.Sprintf("%d.%02d EUR", v/100, v%100) }

// tools returns the bank's agent tools.
func (b *bank) tools() []*agent.Tool {
	lookup := agent.MustNewFuncTool("get_account", "Look up an account's owner and balance.", func(ctx context.Context, in lookupIn) (string, error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		a, ok := b.accounts[in.AccountID]
		if !ok {
			return "", fmt.Errorf("no account %s", in.AccountID)
		}
		return fmt.Sprintf("account %s of customer %s: balance %s", in.AccountID, a.owner, cents(a.balance)), nil
	})
	transfer := agent.MustNewFuncTool("transfer", "Transfer money between accounts.", func(ctx context.Context, in transferIn) (string, error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		from, to := b.accounts[in.AccountID], b.accounts[in.To]
		if from == nil || to == nil {
			return "", fmt.Errorf("unknown account")
		}
		amount := int64(in.Amount*100 + 0.5)
		if from.balance < amount {
			return "", fmt.Errorf("insufficient funds in %s", in.AccountID)
		}
		from.balance -= amount
		to.balance += amount
		return fmt.Sprintf("transferred %s from %s to %s", cents(amount), in.AccountID, in.To), nil
	})
	return []*agent.Tool{lookup, transfer}
}

func (b *bank) balances() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	ids := make([]string, 0, len(b.accounts))
	for id := range b.accounts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	s := ""
	for _, id := range ids {
		s += fmt.Sprintf("%s=%s ", id, cents(b.accounts[id].balance))
	}
	return s
}
