package bedrockkit

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
)

// TokenCounter counts the input tokens a request would consume, exactly as
// the model will bill them, without running the model. Budgets use it to
// reserve the real input size before a call.
type TokenCounter interface {
	CountTokens(ctx context.Context, req *Request) (int, error)
}

// CountTokensAPI is the part of *bedrockruntime.Client that
// ConverseModel.CountTokens uses. A ConverseAPI that does not implement it
// cannot count.
type CountTokensAPI interface {
	CountTokens(ctx context.Context, in *bedrockruntime.CountTokensInput, optFns ...func(*bedrockruntime.Options)) (*bedrockruntime.CountTokensOutput, error)
}

// CountTokens calls Bedrock's CountTokens operation with the request as it
// would be sent to Converse (messages, system prompt, tools and additional
// model fields; a forced answer tool included when Output goes that way)
// and returns the input tokens. The count does not include the tokens of a
// natively sent output schema, which CountTokens cannot express. The real
// call reports cached input apart: compare the count with InputTokens +
// CacheReadTokens + CacheWriteTokens of its Usage.
//
// Bedrock counts only some models, by their base model ID (Claude models;
// not Nova, and not through cross-Region inference-profile IDs), so the
// base model — ConverseOptions.BaseModel, or the model ID without its
// geography prefix — is sent. The error wraps ErrUnsupported when the
// capability table says the model cannot be counted (unless
// NoCapabilityCheck is set), when the client cannot count, or when Bedrock
// answers that the model does not support counting; otherwise it is an
// *APIError as for Generate.
func (m *ConverseModel) CountTokens(ctx context.Context, req *Request) (int, error) {
	counter, ok := m.client.(CountTokensAPI)
	if !ok {
		return 0, fmt.Errorf("bedrockkit: the client given to NewConverseModel (%T) has no CountTokens method; pass a *bedrockruntime.Client: %w", m.client, ErrUnsupported)
	}
	if m.checked && m.caps.Known && !m.caps.CountTokens {
		return 0, fmt.Errorf("bedrockkit: Bedrock's CountTokens does not count model family %s; estimate with a tokenizer instead (or set ConverseOptions.NoCapabilityCheck to ask Bedrock anyway): %w", m.caps.Family, ErrUnsupported)
	}
	plan, err := m.plan(req)
	if err != nil {
		return 0, err
	}
	c, err := m.call(plan)
	if err != nil {
		return 0, err
	}
	in := &bedrockruntime.CountTokensInput{
		ModelId: aws.String(m.countModelID()),
		Input: &types.CountTokensInputMemberConverse{Value: types.ConverseTokensRequest{
			Messages:                     c.messages,
			System:                       c.system,
			ToolConfig:                   c.toolConfig,
			AdditionalModelRequestFields: c.extra,
		}},
	}
	var out *bedrockruntime.CountTokensOutput
	err = m.opts.Retry.do(ctx, "CountTokens", func(ctx context.Context) error {
		var err error
		out, err = counter.CountTokens(ctx, in, disableSDKRetry, safeRequestBody)
		return err
	})
	if err != nil {
		if strings.Contains(strings.ToLower(err.Error()), "support counting tokens") {
			return 0, fmt.Errorf("bedrockkit: %w: %w", err, ErrUnsupported)
		}
		return 0, err
	}
	if out.InputTokens == nil || *out.InputTokens < 0 {
		return 0, fmt.Errorf("bedrockkit: CountTokens returned no inputTokens: %w", ErrMalformedStream)
	}
	return int(*out.InputTokens), nil
}

// countModelID is the model ID CountTokens is called with: the base
// foundation model when it is known.
func (m *ConverseModel) countModelID() string {
	if m.opts.BaseModel != "" {
		if base, err := ParseModelID(m.opts.BaseModel); err == nil && base.BaseModel != "" {
			return base.BaseModel
		}
	}
	if m.id.BaseModel != "" {
		return m.id.BaseModel
	}
	return m.id.Raw
}
