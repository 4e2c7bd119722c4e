package guardrail

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/bedrockkit/bedrockkit"
)

// ApplyGuardrailAPI is the part of *bedrockruntime.Client that Remote uses.
type ApplyGuardrailAPI interface {
	ApplyGuardrail(ctx context.Context, in *bedrockruntime.ApplyGuardrailInput, optFns ...func(*bedrockruntime.Options)) (*bedrockruntime.ApplyGuardrailOutput, error)
}

// RemoteOptions configures a Remote guard. The zero value is valid.
type RemoteOptions struct {
	// Retry says how throttling, service-unavailable and internal errors are
	// retried; the zero value means 5 attempts with exponential backoff from
	// 200 ms, capped at 20 s, never waiting past the context's deadline. The
	// SDK's own retryer is turned off for the call so attempts do not multiply.
	Retry bedrockkit.RetryPolicy
	// FullOutput asks Bedrock for every assessment, also those that did not
	// intervene (outputScope FULL). By default Bedrock reports interventions only.
	FullOutput bool
}

// Remote assesses content with a guardrail created in Amazon Bedrock by
// calling the ApplyGuardrail API. It is safe for concurrent use.
//
// Findings carry no scores or reasons (Bedrock does not return them). The
// Span of an anonymized PII or regex finding is found by locating its Match
// in the guarded text, so that the streaming middleware can mask it; a
// finding whose text cannot be located has no Span.
type Remote struct {
	client  ApplyGuardrailAPI
	id      string
	version string
	opts    RemoteOptions
}

// NewRemote returns a guard that calls ApplyGuardrail with the guardrail's
// identifier (ID or ARN) and version ("DRAFT" or a number such as "1").
func NewRemote(client ApplyGuardrailAPI, guardrailID, version string, opts RemoteOptions) (*Remote, error) {
	if client == nil || isNilClient(client) {
		return nil, fmt.Errorf("guardrail: NewRemote needs a Bedrock runtime client (bedrockruntime.NewFromConfig): %w", bedrockkit.ErrInvalidInput)
	}
	if strings.TrimSpace(guardrailID) == "" {
		return nil, fmt.Errorf("guardrail: NewRemote needs the guardrail ID or ARN: %w", bedrockkit.ErrInvalidInput)
	}
	if strings.TrimSpace(version) == "" {
		return nil, fmt.Errorf("guardrail: NewRemote needs a guardrail version: \"DRAFT\" or a published version such as \"1\": %w", bedrockkit.ErrInvalidInput)
	}
	return &Remote{client: client, id: guardrailID, version: version, opts: opts}, nil
}

func isNilClient(c ApplyGuardrailAPI) bool {
	rc, ok := c.(*bedrockruntime.Client)
	return ok && rc == nil
}

// Assess calls ApplyGuardrail and maps its answer onto Result. Errors are
// *bedrockkit.APIError values wrapping the root sentinels (ErrThrottled,
// ErrValidation, ErrAccessDenied, ...); retryable ones are retried first.
func (r *Remote) Assess(ctx context.Context, source Source, content ...Content) (*Verdict, error) {
	if source != SourceInput && source != SourceOutput {
		return nil, fmt.Errorf("guardrail: source %q must be INPUT or OUTPUT: %w", source, bedrockkit.ErrInvalidInput)
	}
	if len(content) == 0 {
		return nil, fmt.Errorf("guardrail: nothing to assess; pass at least one Content: %w", bedrockkit.ErrInvalidInput)
	}
	in := &bedrockruntime.ApplyGuardrailInput{
		GuardrailIdentifier: aws.String(r.id),
		GuardrailVersion:    aws.String(r.version),
		Source:              types.GuardrailContentSource(source),
	}
	if r.opts.FullOutput {
		in.OutputScope = types.GuardrailOutputScopeFull
	}
	for _, c := range content {
		tb := types.GuardrailTextBlock{Text: aws.String(c.Text)}
		for _, q := range c.Qualifiers {
			tb.Qualifiers = append(tb.Qualifiers, types.GuardrailContentQualifier(q))
		}
		in.Content = append(in.Content, &types.GuardrailContentBlockMemberText{Value: tb})
	}
	out, err := r.call(ctx, in)
	if err != nil {
		return nil, err
	}
	return remoteResult(out, content), nil
}

// call runs ApplyGuardrail with retries.
func (r *Remote) call(ctx context.Context, in *bedrockruntime.ApplyGuardrailInput) (*bedrockruntime.ApplyGuardrailOutput, error) {
	p := r.opts.Retry
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 5
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 200 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 20 * time.Second
	}
	noSDKRetry := func(o *bedrockruntime.Options) { o.Retryer = aws.NopRetryer{} }
	delay := p.BaseDelay
	for attempt := 1; ; attempt++ {
		out, err := r.client.ApplyGuardrail(ctx, in, noSDKRetry)
		if err == nil {
			return out, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		apiErr := classifyRemote(err, attempt)
		if attempt >= p.MaxAttempts || !apiErr.Retryable() {
			return nil, apiErr
		}
		// Full jitter, at least a tenth of the step.
		wait := delay/10 + time.Duration(rand.Int64N(int64(delay-delay/10)+1))
		delay = min(2*delay, p.MaxDelay)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return nil, apiErr
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, apiErr
		case <-t.C:
		}
	}
}

// remoteErrorKinds maps Bedrock error codes to the root sentinels, as the
// root adapters do.
var remoteErrorKinds = map[string]error{
	"ThrottlingException":           bedrockkit.ErrThrottled,
	"TooManyRequestsException":      bedrockkit.ErrThrottled,
	"ServiceUnavailableException":   bedrockkit.ErrServiceUnavailable,
	"InternalServerException":       bedrockkit.ErrInternal,
	"InternalFailure":               bedrockkit.ErrInternal,
	"ValidationException":           bedrockkit.ErrValidation,
	"AccessDeniedException":         bedrockkit.ErrAccessDenied,
	"UnrecognizedClientException":   bedrockkit.ErrAccessDenied,
	"ResourceNotFoundException":     bedrockkit.ErrNotFound,
	"ServiceQuotaExceededException": bedrockkit.ErrQuotaExceeded,
}

// classifyRemote wraps an SDK error in a *bedrockkit.APIError whose Kind is
// the matching sentinel.
func classifyRemote(err error, attempt int) *bedrockkit.APIError {
	var already *bedrockkit.APIError
	if errors.As(err, &already) {
		return already
	}
	out := &bedrockkit.APIError{Op: "ApplyGuardrail", Err: err, Attempts: attempt}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		out.Code, out.Message = ae.ErrorCode(), ae.ErrorMessage()
		out.Kind = remoteErrorKinds[out.Code]
	}
	if out.Kind == nil {
		var re *smithyhttp.ResponseError
		if errors.As(err, &re) {
			switch re.HTTPStatusCode() {
			case http.StatusTooManyRequests:
				out.Kind = bedrockkit.ErrThrottled
			case http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout:
				out.Kind = bedrockkit.ErrServiceUnavailable
			case http.StatusInternalServerError:
				out.Kind = bedrockkit.ErrInternal
			}
		}
	}
	if out.Kind == nil {
		var ne net.Error
		var oe *net.OpError
		if errors.As(err, &oe) || (errors.As(err, &ne) && ne.Timeout()) {
			out.Kind = bedrockkit.ErrServiceUnavailable
		}
	}
	return out
}

// remoteResult maps ApplyGuardrail's answer onto Result.
func remoteResult(out *bedrockruntime.ApplyGuardrailOutput, content []Content) *Verdict {
	res := &Verdict{Action: OutcomeNone, Outputs: []Output{}, Assessments: []Assessment{}}
	if out.Action == types.GuardrailActionGuardrailIntervened {
		res.Action = OutcomeIntervened
	}
	res.ActionReason = aws.ToString(out.ActionReason)
	for _, o := range out.Outputs {
		res.Outputs = append(res.Outputs, Output{Text: aws.ToString(o.Text)})
	}
	if u := out.Usage; u != nil {
		res.Usage = remoteUsage(u)
	}
	loc := newLocator(content)
	var acts remoteActions
	for _, ra := range out.Assessments {
		res.Assessments = append(res.Assessments, acts.assessment(ra, loc))
	}
	if len(res.Assessments) == 0 {
		res.Assessments = []Assessment{{}}
	}
	// An intervention that masked nothing replaced the content: treat it as
	// a block (this covers policies bedrockkit does not map, such as
	// automated reasoning).
	res.Blocked = res.Action == OutcomeIntervened && (acts.blocked || !acts.anonymized)
	return res
}

// remoteActions records which actions Bedrock's findings report.
type remoteActions struct {
	blocked, anonymized bool
}

func (s *remoteActions) seen(action string) {
	switch action {
	case actBlocked:
		s.blocked = true
	case actAnonymized:
		s.anonymized = true
	}
}

// assessment maps one of Bedrock's assessments, policy by policy.
func (s *remoteActions) assessment(ra types.GuardrailAssessment, loc *locator) Assessment {
	var a Assessment
	if tp := ra.TopicPolicy; tp != nil {
		a.TopicPolicy = s.topics(tp)
	}
	if cp := ra.ContentPolicy; cp != nil {
		a.ContentPolicy = s.content(cp)
	}
	if wp := ra.WordPolicy; wp != nil {
		a.WordPolicy = s.words(wp)
	}
	if sp := ra.SensitiveInformationPolicy; sp != nil {
		a.SensitiveInformationPolicy = s.sensitive(sp, loc)
	}
	if gp := ra.ContextualGroundingPolicy; gp != nil {
		a.ContextualGroundingPolicy = s.grounding(gp)
	}
	return a
}

func (s *remoteActions) topics(tp *types.GuardrailTopicPolicyAssessment) *TopicAssessment {
	out := &TopicAssessment{Topics: []TopicFinding{}}
	for _, t := range tp.Topics {
		out.Topics = append(out.Topics, TopicFinding{Name: aws.ToString(t.Name), Type: string(t.Type),
			Action: string(t.Action), Detected: detected(t.Detected)})
		s.seen(string(t.Action))
	}
	return out
}

func (s *remoteActions) content(cp *types.GuardrailContentPolicyAssessment) *ContentAssessment {
	out := &ContentAssessment{Filters: []ContentFinding{}}
	for _, f := range cp.Filters {
		out.Filters = append(out.Filters, ContentFinding{Type: ContentFilterType(f.Type),
			Confidence: Strength(f.Confidence), FilterStrength: Strength(f.FilterStrength), Action: string(f.Action),
			Detected: detected(f.Detected)})
		s.seen(string(f.Action))
	}
	return out
}

func (s *remoteActions) words(wp *types.GuardrailWordPolicyAssessment) *WordAssessment {
	out := &WordAssessment{}
	for _, w := range wp.CustomWords {
		out.CustomWords = append(out.CustomWords, WordFinding{Match: aws.ToString(w.Match),
			Action: string(w.Action), Detected: detected(w.Detected)})
		s.seen(string(w.Action))
	}
	for _, w := range wp.ManagedWordLists {
		out.ManagedWordLists = append(out.ManagedWordLists, WordFinding{Match: aws.ToString(w.Match),
			Type: string(w.Type), Action: string(w.Action), Detected: detected(w.Detected)})
		s.seen(string(w.Action))
	}
	return out
}

func (s *remoteActions) sensitive(sp *types.GuardrailSensitiveInformationPolicyAssessment, loc *locator) *SensitiveAssessment {
	out := &SensitiveAssessment{}
	for _, e := range sp.PiiEntities {
		m := aws.ToString(e.Match)
		out.PiiEntities = append(out.PiiEntities, PIIFinding{
			Type: PIIType(e.Type), Match: m, Action: string(e.Action), Detected: detected(e.Detected), Span: loc.find(m)})
		s.seen(string(e.Action))
	}
	for _, e := range sp.Regexes {
		m := aws.ToString(e.Match)
		out.Regexes = append(out.Regexes, RegexFinding{
			Name: aws.ToString(e.Name), Regex: aws.ToString(e.Regex), Match: m, Action: string(e.Action),
			Detected: detected(e.Detected), Span: loc.find(m)})
		s.seen(string(e.Action))
	}
	return out
}

func (s *remoteActions) grounding(gp *types.GuardrailContextualGroundingPolicyAssessment) *GroundingAssessment {
	out := &GroundingAssessment{Filters: []GroundingFinding{}}
	for _, f := range gp.Filters {
		out.Filters = append(out.Filters, GroundingFinding{
			Type: GroundingFilterType(f.Type), Threshold: aws.ToFloat64(f.Threshold), Score: aws.ToFloat64(f.Score),
			Action: string(f.Action), Detected: detected(f.Detected)})
		s.seen(string(f.Action))
	}
	return out
}

// detected reads Bedrock's optional detected flag; older responses leave it
// out and list only what was detected.
func detected(p *bool) bool { return p == nil || *p }

func remoteUsage(u *types.GuardrailUsage) *GuardrailUsage {
	i := func(p *int32) int { return int(aws.ToInt32(p)) }
	return &GuardrailUsage{
		TopicPolicyUnits:                    i(u.TopicPolicyUnits),
		ContentPolicyUnits:                  i(u.ContentPolicyUnits),
		WordPolicyUnits:                     i(u.WordPolicyUnits),
		SensitiveInformationPolicyUnits:     i(u.SensitiveInformationPolicyUnits),
		SensitiveInformationPolicyFreeUnits: i(u.SensitiveInformationPolicyFreeUnits),
		ContextualGroundingPolicyUnits:      i(u.ContextualGroundingPolicyUnits),
		ContentPolicyImageUnits:             i(u.ContentPolicyImageUnits),
		AutomatedReasoningPolicyUnits:       i(u.AutomatedReasoningPolicyUnits),
		AutomatedReasoningPolicies:          i(u.AutomatedReasoningPolicies),
	}
}

// locator finds successive occurrences of matched text in the guarded blocks,
// so that repeated matches get successive spans.
type locator struct {
	content []Content
	blocks  []int
	next    map[string][2]int // match -> (index into blocks, byte offset) to search from
}

func newLocator(content []Content) *locator {
	return &locator{content: content, blocks: guardedBlocks(content), next: map[string][2]int{}}
}

func (l *locator) find(m string) *Span {
	if m == "" {
		return nil
	}
	pos := l.next[m]
	for k := pos[0]; k < len(l.blocks); k++ {
		bi := l.blocks[k]
		from := 0
		if k == pos[0] {
			from = pos[1]
		}
		text := l.content[bi].Text
		if i := strings.Index(text[from:], m); i >= 0 {
			s := from + i
			l.next[m] = [2]int{k, s + len(m)}
			return &Span{Content: bi, Start: s, End: s + len(m)}
		}
	}
	// Past the last occurrence (Bedrock reported the same text again): reuse
	// the first one so the finding is still masked where it is.
	for _, bi := range l.blocks {
		if i := strings.Index(l.content[bi].Text, m); i >= 0 {
			return &Span{Content: bi, Start: i, End: i + len(m)}
		}
	}
	return nil
}
