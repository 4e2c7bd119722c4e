package guardrail

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/bedrockkit/bedrockkit"
)

// Both returns a guard that assesses content with a and b at once — for
// instance a Local guard for evasion-resistant PII masking and tool I/O next
// to a Remote one for Bedrock's managed classifiers — and merges their answers:
//
//   - If either fails, Assess fails (fail closed); the other call is cancelled.
//   - If either blocks, the result is blocked, with the blocked message of
//     the first that blocked (a before b).
//   - Otherwise, if either anonymized, Outputs hold the guarded texts with
//     the masks of both applied. Where one guard's findings cannot be placed
//     in the text (a Remote finding whose Match was not found), b is asked
//     again to assess a's masked output, so its masks still apply.
//   - Assessments hold a's assessments followed by b's; Usage is the sum.
func Both(a, b Guard) Guard { return both{a, b} }

type both struct{ a, b Guard }

func (g both) Assess(ctx context.Context, source Source, content ...Content) (*Verdict, error) {
	if g.a == nil || g.b == nil {
		return nil, fmt.Errorf("guardrail: Both needs two non-nil guards: %w", bedrockkit.ErrInvalidInput)
	}
	var ra, rb *Verdict
	eg, ectx := errgroup.WithContext(ctx)
	eg.Go(func() (err error) { ra, err = g.a.Assess(ectx, source, content...); return err })
	eg.Go(func() (err error) { rb, err = g.b.Assess(ectx, source, content...); return err })
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	res := &Verdict{Action: OutcomeNone, Outputs: []Output{},
		Assessments: append(append([]Assessment{}, ra.Assessments...), rb.Assessments...),
		Usage:       ra.Usage.add(rb.Usage)}
	for _, r := range []*Verdict{ra, rb} {
		if r.ActionReason != "" && res.ActionReason == "" {
			res.ActionReason = r.ActionReason
		}
	}
	switch {
	case ra.Blocked || rb.Blocked:
		first := ra
		if !ra.Blocked {
			first = rb
		}
		res.Action, res.Blocked = OutcomeIntervened, true
		res.Outputs = append(res.Outputs, first.Outputs...)
		return res, nil
	case ra.Action != OutcomeIntervened && rb.Action != OutcomeIntervened:
		return res, nil
	}
	res.Action = OutcomeIntervened
	guarded := guardedBlocks(content)
	sa, okA := anonymizedSpans(ra)
	sb, okB := anonymizedSpans(rb)
	switch {
	case okA && okB:
		spans := append(sa, sb...)
		for _, bi := range guarded {
			res.Outputs = append(res.Outputs, Output{Text: mask(content[bi].Text, bi, spans)})
		}
		return res, nil
	case rb.Action != OutcomeIntervened:
		res.Outputs = append(res.Outputs, ra.Outputs...)
		return res, nil
	case ra.Action != OutcomeIntervened:
		res.Outputs = append(res.Outputs, rb.Outputs...)
		return res, nil
	}
	// Both masked and some masks cannot be placed: let b mask a's output.
	if len(ra.Outputs) != len(guarded) {
		return nil, fmt.Errorf("guardrail: Both cannot combine the masks of its guards (%d outputs for %d guarded blocks); use one guard for anonymization: %w", len(ra.Outputs), len(guarded), bedrockkit.ErrUnsupported)
	}
	masked := append([]Content(nil), content...)
	for k, bi := range guarded {
		masked[bi].Text = ra.Outputs[k].Text
	}
	again, err := g.b.Assess(ctx, source, masked...)
	if err != nil {
		return nil, err
	}
	res.Usage = res.Usage.add(again.Usage)
	if again.Blocked {
		res.Blocked = true
		res.Outputs = append(res.Outputs, again.Outputs...)
		return res, nil
	}
	if again.Action == OutcomeIntervened {
		res.Outputs = append(res.Outputs, again.Outputs...)
	} else {
		res.Outputs = append(res.Outputs, ra.Outputs...)
	}
	return res, nil
}

// anonymizedSpans returns the anonymized findings of res with their spans,
// and whether every anonymized finding had one.
func anonymizedSpans(res *Verdict) ([]finding, bool) {
	var out []finding
	ok := true
	add := func(sp *Span, tag string) {
		if sp == nil {
			ok = false
			return
		}
		out = append(out, finding{sp.Content, sp.Start, sp.End, ActionAnonymize, tag})
	}
	for _, a := range res.Assessments {
		if sp := a.SensitiveInformationPolicy; sp != nil {
			for _, e := range sp.PiiEntities {
				if e.Action == actAnonymized {
					add(e.Span, e.Type.Tag())
				}
			}
			for _, r := range sp.Regexes {
				if r.Action == actAnonymized {
					add(r.Span, "{"+r.Name+"}")
				}
			}
		}
	}
	return out, ok
}
