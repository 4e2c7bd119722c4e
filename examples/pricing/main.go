// Command pricing prices Amazon Bedrock usage with the dated catalog bundled in
// the pricing package, meters calls through a model per tenant, shows a
// budget refusing the call that could overspend, and compares a month of
// the bank assistant's measured usage on demand, as batch jobs and on
// Provisioned Throughput.
//
//	go run ./examples/pricing
//
// It runs offline. The metered model is a bedrockkittest.ScriptedModel that
// returns fixed replies with fixed token counts (stated in the output), so
// the costs printed are exact prices of those counts, not of a real
// conversation. Wrap any bedrockkit.Model, such as a Bedrock Converse model,
// the same way to meter real traffic.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/pricing"
)

func main() {
	if err := parseArgs(os.Args[1:], os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		os.Exit(2)
	}
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pricing:", err)
		os.Exit(1)
	}
}

// parseArgs accepts -h (usage on stderr, flag.ErrHelp) and no arguments.
func parseArgs(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("pricing", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./examples/pricing")
		fmt.Fprintln(stderr, "Prices usage with the bundled catalog, meters a scripted model per tenant, shows a budget")
		fmt.Fprintln(stderr, "refusing the call that could overspend, and plans a month of capacity. It runs offline.")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("unexpected argument %q", fs.Arg(0))
		fmt.Fprintln(stderr, "pricing:", err)
		fs.Usage()
		return err
	}
	return nil
}

func run(ctx context.Context, out io.Writer) error {
	catalog := pricing.Default()

	// 1. What one usage costs on a few models.
	usage := bedrockkit.Usage{InputTokens: 120_000, OutputTokens: 8_000, CacheReadTokens: 40_000}
	fmt.Fprintf(out, "Cost of %d input, %d output and %d cache-read tokens (catalog as of %s):\n\n",
		usage.InputTokens, usage.OutputTokens, usage.CacheReadTokens, catalog.AsOf())
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "model\tinput\toutput\tcache read\ttotal\t")
	for _, id := range []string{
		"us.anthropic.claude-3-7-sonnet-20250219-v1:0",
		"us.anthropic.claude-3-5-haiku-20241022-v1:0",
		"us.amazon.nova-lite-v1:0",
		"us.meta.llama3-1-70b-instruct-v1:0",
	} {
		bill, err := catalog.Cost(id, usage)
		if errors.Is(err, pricing.ErrNoPromptCaching) {
			// Bedrock has no prompt caching for this model, so the same
			// conversation would send those tokens as ordinary input.
			u := usage
			u.InputTokens += u.CacheReadTokens
			u.CacheReadTokens = 0
			bill, err = catalog.Cost(id, u)
			id += " *"
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", id, bill.Input, bill.Output, bill.CacheRead, bill.Total)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out, "* no prompt caching on Bedrock for this model, so the cached tokens are priced as input tokens.")
	fmt.Fprintln(out, "\nThe bundled prices come from dated public sources (see Catalog.Notes); verify the ones")
	fmt.Fprintln(out, "that matter to you and replace rows with Catalog.Override.")

	// An unknown model is an error, never a free call.
	_, err := catalog.Cost("example.unknown-model-v1:0", usage)
	fmt.Fprintf(out, "\nAn unknown model: %v (errors.Is ErrUnknownModel: %v)\n", err, errors.Is(err, pricing.ErrUnknownModel))

	// 2. A meter around a model attributes each call to the tenant on the
	// context.
	meter := pricing.NewMeter(pricing.MeterOptions{Catalog: catalog})
	const modelID = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
	// A prompt of about 2,000 tokens; the scripted model reports exactly the
	// meter's own estimate of it as input, and 500 output tokens.
	req := &bedrockkit.Request{
		Messages:  []bedrockkit.Message{bedrockkit.UserText("Summarise my week: " + strings.Repeat("Met the team, reviewed the budget, shipped a fix. ", 160))},
		MaxTokens: 500,
	}
	inputTokens := pricing.EstimateRequest(req, nil)
	reply := func() bedrockkittest.Step {
		return bedrockkittest.Step{Response: &bedrockkit.Response{
			Message: bedrockkit.AssistantText("Here is a summary."),
			Usage:   bedrockkit.Usage{InputTokens: inputTokens, OutputTokens: 500},
		}}
	}
	scripted := bedrockkittest.NewScriptedModel(reply(), reply(), reply(), reply(), reply(), reply())
	// A ConverseModel reports its ID (bedrockkit.Chain(converse,
	// meter.Middleware())); the scripted stand-in does not, so it is given.
	model := meter.Middleware()(bedrockkit.WithModelID(scripted, modelID))
	fmt.Fprintf(out, "\nMetering %s (a ScriptedModel with fixed replies reporting %d input and 500 output tokens per call):\n", modelID, inputTokens)

	for _, tenant := range []string{"acme", "acme", "globex"} {
		if _, err := model.Generate(pricing.WithTenant(ctx, tenant), req); err != nil {
			return err
		}
	}
	for _, e := range meter.Snapshot().Entries {
		fmt.Fprintf(out, "  tenant %-7s %d calls, %d in / %d out tokens, cost %s\n", e.Tenant, e.Calls, e.InputTokens, e.OutputTokens, e.Cost.Total)
	}

	// 3. A tenant budget: each call reserves its worst case (estimated input
	// plus MaxTokens at the highest rate) before it reaches the model, so the
	// call that could overspend is refused up front.
	limit := pricing.MustMoney("0.02")
	budget := meter.SetTenantBudget("initech", limit)
	fmt.Fprintf(out, "\nTenant initech has a budget of %s:\n", limit)
	tctx := pricing.WithTenant(ctx, "initech")
	for i := 1; i <= 5; i++ {
		_, err := model.Generate(tctx, req)
		var be *pricing.BudgetError
		if errors.As(err, &be) {
			fmt.Fprintf(out, "  call %d refused before reaching the model: needs up to %s, %s of %s spent (errors.Is ErrBudgetExceeded: %v)\n",
				i, be.Needed, be.Spent, be.Limit, errors.Is(err, bedrockkit.ErrBudgetExceeded))
			break
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "  call %d done, spent %s\n", i, budget.State().Spent)
	}
	fmt.Fprintf(out, "\nThe model was called %d times in total; the meter's grand total is %s.\n",
		len(scripted.Requests()), meter.Snapshot().Total().Cost.Total)

	return capacity(ctx, out, catalog)
}

// The bank assistant's conversation, as measured: a lookup-tool turn and an
// answer turn (token counts fixed by the scripted model, stated below).
var bankTurns = []bedrockkit.Usage{
	{InputTokens: 2_400, OutputTokens: 60},  // the model asks for account_lookup
	{InputTokens: 2_900, OutputTokens: 180}, // the model answers with the balance
}

// conversationsPerMonth is the assumed volume the measurement is scaled to.
const conversationsPerMonth = 300_000

// capacity meters one bank-assistant conversation per model and compares
// a month of them on demand, as batch jobs and on Provisioned Throughput.
func capacity(ctx context.Context, out io.Writer, catalog *pricing.Catalog) error {
	meter := pricing.NewMeter(pricing.MeterOptions{Catalog: catalog})
	models := []string{
		"us.amazon.nova-lite-v1:0", // the bank assistant's default model (examples/quickstart)
		"us.amazon.nova-pro-v1:0",
		"us.anthropic.claude-3-5-haiku-20241022-v1:0",
		"anthropic.claude-instant-v1", // legacy: the catalog has its published provisioned prices
	}
	req := &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("What is my checking balance?")}, MaxTokens: 400}
	for _, id := range models {
		var steps []bedrockkittest.Step
		for _, u := range bankTurns {
			steps = append(steps, bedrockkittest.Step{Response: &bedrockkit.Response{Message: bedrockkit.AssistantText("..."), Usage: u}})
		}
		m := meter.Middleware()(bedrockkit.WithModelID(bedrockkittest.NewScriptedModel(steps...), id))
		for range bankTurns {
			if _, err := m.Generate(pricing.WithSession(ctx, "conversation"), req); err != nil {
				return err
			}
		}
	}
	// One conversation is 1/conversationsPerMonth of a month.
	period := time.Duration(pricing.HoursPerMonth) * time.Hour / conversationsPerMonth
	fmt.Fprintf(out, "\nA month of the bank assistant (catalog as of %s): one measured conversation (%d model calls, %d input and %d output tokens)\nscaled to %d conversations, on one model unit of Provisioned Throughput:\n\n",
		catalog.AsOf(), len(bankTurns), bankTurns[0].InputTokens+bankTurns[1].InputTokens, bankTurns[0].OutputTokens+bankTurns[1].OutputTokens, conversationsPerMonth)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "model\ton-demand\tbatch\tprovisioned 1 month\tprovisioned 6 months\tcheapest\t")
	show := func(q pricing.Quote) string {
		if !q.Known {
			return "unknown"
		}
		return q.Cost.String()
	}
	var notes []string
	for _, id := range models {
		plan, err := catalog.PlanCapacity(meter.Snapshot().Workload(id, period), pricing.CapacityOptions{})
		if err != nil {
			return err
		}
		best, _, _ := plan.Best()
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", id, show(plan.OnDemand), show(plan.Batch),
			show(plan.Provisioned[1].Quote), show(plan.Provisioned[2].Quote), best)
		for _, pq := range plan.Provisioned[1:] {
			if pq.Known && plan.OnDemand.Known && pq.Savings < 0 {
				notes = append(notes, fmt.Sprintf("%s: %s-commitment capacity costs %s more than on demand; it pays off above %s of on-demand spend a month (published $%s per unit-hour, %s)",
					id, pq.Commitment, -pq.Savings, pq.BreakEven, strings.TrimPrefix(pq.HourlyPerUnit.String(), "$"), strings.SplitN(pq.Source, ";", 2)[0]))
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nunknown: no published price in the catalog (provisioned prices for current models come from your AWS account team;")
	fmt.Fprintln(out, "add your quote with Catalog.WithProvisionedModel). Batch suits only work that can wait up to a day.")
	for _, n := range notes {
		fmt.Fprintln(out, "  "+n)
	}

	// The same flex-tier request, priced by the tier that served it.
	u := bedrockkit.Usage{InputTokens: 1_000_000, OutputTokens: 100_000}
	std, err := catalog.CostWith("us.amazon.nova-pro-v1:0", u, pricing.Terms{})
	if err != nil {
		return err
	}
	flex, err := catalog.CostWith("us.amazon.nova-pro-v1:0", u, pricing.Terms{ServiceTier: bedrockkit.ServiceTierFlex})
	if err != nil {
		return err
	}
	_, perr := catalog.CostWith("us.amazon.nova-pro-v1:0", u, pricing.Terms{ServiceTier: bedrockkit.ServiceTierPriority})
	fmt.Fprintf(out, "\nService tiers, Nova Pro, 1M input + 100k output tokens: standard %s, flex %s, priority: %v (errors.Is ErrUnpriced: %v)\n",
		std.Total, flex.Total, perr != nil, errors.Is(perr, pricing.ErrUnpriced))
	return nil
}
