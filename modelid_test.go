package bedrockkit

import (
	"errors"
	"strings"
	"testing"
)

func TestParseModelID(t *testing.T) {
	tests := []struct {
		in   string
		want ModelID
	}{
		{"anthropic.claude-3-5-sonnet-20240620-v1:0", ModelID{Kind: KindFoundationModel, Provider: "anthropic", BaseModel: "anthropic.claude-3-5-sonnet-20240620-v1:0"}},
		{"meta.llama3-1-70b-instruct-v1:0", ModelID{Kind: KindFoundationModel, Provider: "meta", BaseModel: "meta.llama3-1-70b-instruct-v1:0"}},
		{"anthropic.claude-3-haiku-20240307-v1:0:200k", ModelID{Kind: KindFoundationModel, Provider: "anthropic", BaseModel: "anthropic.claude-3-haiku-20240307-v1:0:200k"}},
		{"us.anthropic.claude-3-7-sonnet-20250219-v1:0", ModelID{Kind: KindInferenceProfile, Provider: "anthropic", BaseModel: "anthropic.claude-3-7-sonnet-20250219-v1:0", Geo: "us"}},
		{"eu.amazon.nova-pro-v1:0", ModelID{Kind: KindInferenceProfile, Provider: "amazon", BaseModel: "amazon.nova-pro-v1:0", Geo: "eu"}},
		{"apac.anthropic.claude-sonnet-4-20250514-v1:0", ModelID{Kind: KindInferenceProfile, Provider: "anthropic", BaseModel: "anthropic.claude-sonnet-4-20250514-v1:0", Geo: "apac"}},
		{"global.anthropic.claude-sonnet-4-5-20250929-v1:0", ModelID{Kind: KindInferenceProfile, Provider: "anthropic", BaseModel: "anthropic.claude-sonnet-4-5-20250929-v1:0", Geo: "global"}},
		{"us-gov.anthropic.claude-3-5-sonnet-20240620-v1:0", ModelID{Kind: KindInferenceProfile, Provider: "anthropic", BaseModel: "anthropic.claude-3-5-sonnet-20240620-v1:0", Geo: "us-gov"}},
		{"jp.anthropic.claude-sonnet-4-5-20250929-v1:0", ModelID{Kind: KindInferenceProfile, Provider: "anthropic", BaseModel: "anthropic.claude-sonnet-4-5-20250929-v1:0", Geo: "jp"}},
		{"au.anthropic.claude-haiku-4-5-20251001-v1:0", ModelID{Kind: KindInferenceProfile, Provider: "anthropic", BaseModel: "anthropic.claude-haiku-4-5-20251001-v1:0", Geo: "au"}},
		{"ca.amazon.nova-lite-v1:0", ModelID{Kind: KindInferenceProfile, Provider: "amazon", BaseModel: "amazon.nova-lite-v1:0", Geo: "ca"}},
		// An unknown geography before a known provider is still a profile.
		{"sa.anthropic.claude-3-haiku-20240307-v1:0", ModelID{Kind: KindInferenceProfile, Provider: "anthropic", BaseModel: "anthropic.claude-3-haiku-20240307-v1:0", Geo: "sa"}},
		{"arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-v2", ModelID{Kind: KindFoundationModel, Provider: "anthropic", BaseModel: "anthropic.claude-v2", Partition: "aws", Region: "us-east-1", Resource: "anthropic.claude-v2"}},
		{"arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.meta.llama3-2-90b-instruct-v1:0", ModelID{Kind: KindInferenceProfile, Provider: "meta", BaseModel: "meta.llama3-2-90b-instruct-v1:0", Geo: "us", Partition: "aws", Region: "us-west-2", Account: "123456789012", Resource: "us.meta.llama3-2-90b-instruct-v1:0"}},
		{"arn:aws:bedrock:eu-central-1:123456789012:application-inference-profile/a1b2c3d4e5f6", ModelID{Kind: KindApplicationInferenceProfile, Partition: "aws", Region: "eu-central-1", Account: "123456789012", Resource: "a1b2c3d4e5f6"}},
		{"arn:aws-us-gov:bedrock:us-gov-west-1:123456789012:provisioned-model/abcdefgh1234", ModelID{Kind: KindProvisionedModel, Partition: "aws-us-gov", Region: "us-gov-west-1", Account: "123456789012", Resource: "abcdefgh1234"}},
		{"arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-micro-v1:0:128k/abc123", ModelID{Kind: KindCustomModel, Provider: "amazon", BaseModel: "amazon.nova-micro-v1:0:128k", Partition: "aws", Region: "us-east-1", Account: "123456789012", Resource: "amazon.nova-micro-v1:0:128k/abc123"}},
		{"arn:aws:bedrock:us-east-1:123456789012:imported-model/xyz", ModelID{Kind: KindImportedModel, Partition: "aws", Region: "us-east-1", Account: "123456789012", Resource: "xyz"}},
		{"arn:aws:bedrock:us-east-1:123456789012:prompt/PROMPT12345:1", ModelID{Kind: KindPrompt, Partition: "aws", Region: "us-east-1", Account: "123456789012", Resource: "PROMPT12345:1"}},
		{"arn:aws:sagemaker:us-east-1:123456789012:endpoint/my-endpoint", ModelID{Kind: KindMarketplaceEndpoint, Partition: "aws", Region: "us-east-1", Account: "123456789012", Resource: "my-endpoint"}},
	}
	for _, tt := range tests {
		got, err := ParseModelID(tt.in)
		if err != nil {
			t.Errorf("ParseModelID(%q): %v", tt.in, err)
			continue
		}
		tt.want.Raw = tt.in
		if got != tt.want {
			t.Errorf("ParseModelID(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
		}
		if got.String() != tt.in {
			t.Errorf("String() = %q", got.String())
		}
	}
}

func TestParseModelIDErrors(t *testing.T) {
	for _, in := range []string{
		"",
		"claude",
		"anthropic.",
		".claude",
		"Anthropic.claude-v2",
		"anthropic claude",
		"us.",
		"us.anthropic.",
		"anthropic.claude/v2",
		"arn:aws:bedrock:us-east-1",
		"arn:aws:s3:us-east-1:123456789012:bucket/x",
		"arn:aws:bedrock:us-east-1:123456789012:knowledge-base/KB123",
		"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/",
		"arn:aws:bedrock:us-east-1::application-inference-profile/abc",
		"arn:aws:bedrock:us-east-1::foundation-model/us.anthropic.claude-v2",
		"arn:aws:bedrock::123:provisioned-model/x",
		"anthropic.claude-v2\x00",
		"anthropic.clåude",
		strings.Repeat("a", 2049),
	} {
		_, err := ParseModelID(in)
		if !errors.Is(err, ErrInvalidInput) {
			t.Errorf("ParseModelID(%q) = %v, want an error wrapping ErrInvalidInput", in, err)
		}
	}
}

func TestCapabilitiesOf(t *testing.T) {
	tests := []struct {
		id              string
		family          string
		known, toolName bool
		images, docs    bool
		cacheMin        int
	}{
		{"anthropic.claude-3-haiku-20240307-v1:0", "claude-3-haiku", true, true, true, true, 0},
		{"anthropic.claude-3-5-sonnet-20240620-v1:0", "claude-3.5-sonnet", true, true, true, true, 0},
		{"us.anthropic.claude-3-5-sonnet-20241022-v2:0", "claude-3.5-sonnet-v2", true, true, true, true, 1024},
		{"anthropic.claude-3-5-haiku-20241022-v1:0", "claude-3.5-haiku", true, true, true, true, 2048},
		{"us.anthropic.claude-3-7-sonnet-20250219-v1:0", "claude-3.7-sonnet", true, true, true, true, 1024},
		{"global.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4.5", true, true, true, true, 1024},
		{"us.anthropic.claude-sonnet-4-20250514-v1:0", "claude-sonnet-4", true, true, true, true, 1024},
		{"us.anthropic.claude-opus-4-1-20250805-v1:0", "claude-opus-4.1", true, true, true, true, 1024},
		{"us.anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4.5", true, true, true, true, 4096},
		{"amazon.nova-micro-v1:0", "nova-micro", true, true, false, false, 1000},
		{"us.amazon.nova-pro-v1:0", "nova", true, true, true, true, 1000},
		{"meta.llama3-1-70b-instruct-v1:0", "llama-3.1", true, false, false, true, 0},
		{"us.meta.llama3-2-90b-instruct-v1:0", "llama-3.2-vision", true, false, true, true, 0},
		{"mistral.mistral-large-2407-v1:0", "mistral-large", true, false, false, true, 0},
		{"cohere.command-r-plus-v1:0", "command-r", true, false, false, true, 0},
		{"deepseek.r1-v1:0", "unknown", false, false, false, false, 0},
		{"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc", "unknown", false, false, false, false, 0},
	}
	for _, tt := range tests {
		id, err := ParseModelID(tt.id)
		if err != nil {
			t.Fatal(err)
		}
		c := CapabilitiesOf(id)
		if c.Family != tt.family || c.Known != tt.known || c.ToolChoiceTool != tt.toolName || c.Images != tt.images || c.Documents != tt.docs || c.PromptCacheMinTokens != tt.cacheMin {
			t.Errorf("CapabilitiesOf(%s) = %+v", tt.id, c)
		}
		if !c.Known && (c.ToolChoiceAny || c.PromptCacheMinTokens != 0 || !c.Tools) {
			t.Errorf("unknown model %s should get the conservative default, got %+v", tt.id, c)
		}
	}
	if c := CapabilitiesOfBase("not a model"); c.Known {
		t.Errorf("CapabilitiesOfBase(garbage) = %+v, want unknown", c)
	}
	if c := CapabilitiesOfBase("anthropic.claude-3-7-sonnet-20250219-v1:0"); !c.Reasoning {
		t.Errorf("Claude 3.7 Sonnet should support reasoning: %+v", c)
	}
}

func FuzzParseModelID(f *testing.F) {
	for _, s := range []string{
		"anthropic.claude-3-5-sonnet-20240620-v1:0",
		"us.anthropic.claude-3-7-sonnet-20250219-v1:0",
		"arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-v2",
		"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc",
		"arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-micro-v1:0/x",
		"arn:aws:sagemaker:us-east-1:1:endpoint/e",
		"us..x", "arn:::::/", ".", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseModelID(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("error %v does not wrap ErrInvalidInput", err)
			}
			return
		}
		if id.Raw != s {
			t.Fatalf("Raw %q != input %q", id.Raw, s)
		}
		if id.BaseModel != "" && !strings.HasPrefix(id.BaseModel, id.Provider+".") {
			t.Fatalf("BaseModel %q does not start with provider %q", id.BaseModel, id.Provider)
		}
		if id.Geo != "" && id.Kind != KindInferenceProfile {
			t.Fatalf("Geo %q on kind %s", id.Geo, id.Kind)
		}
		_ = CapabilitiesOf(id) // must not panic
	})
}

func TestCapabilitiesStructuredOutputCitationsCountTokens(t *testing.T) {
	type want struct{ native, cite, count bool }
	for id, w := range map[string]want{
		"us.anthropic.claude-sonnet-4-5-20250929-v1:0":    {true, true, true},
		"global.anthropic.claude-haiku-4-5-20251001-v1:0": {true, true, true},
		"us.anthropic.claude-opus-4-1-20250805-v1:0":      {true, true, true},
		"us.anthropic.claude-opus-4-6-v1":                 {true, true, true},
		"us.anthropic.claude-opus-4-7":                    {false, true, true}, // refuses output_config.format
		"us.anthropic.claude-opus-4-20250514-v1:0":        {false, true, true},
		"us.anthropic.claude-3-7-sonnet-20250219-v1:0":    {false, true, true},
		"anthropic.claude-3-5-sonnet-20240620-v1:0":       {false, false, false},
		"anthropic.claude-3-haiku-20240307-v1:0":          {false, false, false},
		"us.amazon.nova-2-lite-v1:0":                      {true, false, false},
		"amazon.nova-lite-v1:0":                           {false, false, false},
		"us.meta.llama3-3-70b-instruct-v1:0":              {false, false, false},
		"example.unknown-v1:0":                            {false, false, false},
	} {
		c := CapabilitiesOfBase(id)
		if got := (want{c.StructuredOutput, c.Citations, c.CountTokens}); got != w {
			t.Errorf("%s (%s): structured/citations/count = %+v, want %+v", id, c.Family, got, w)
		}
	}
}
