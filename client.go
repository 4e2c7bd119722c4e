package bedrockkit

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/smithy-go/auth/bearer"
)

// BearerTokenEnv is the environment variable holding a Bedrock API key. The
// SDK reads it whenever a bedrockruntime client is created.
const BearerTokenEnv = "AWS_BEARER_TOKEN_BEDROCK"

// RuntimeClientOptions configures NewRuntimeClient. The zero value loads
// everything from the environment.
type RuntimeClientOptions struct {
	// Region overrides the Region from the environment (AWS_REGION, the
	// shared config file).
	Region string
	// Profile selects a shared config profile instead of AWS_PROFILE.
	Profile string
	// Endpoint overrides the service endpoint, such as a VPC endpoint or a
	// test server (https://...).
	Endpoint string
	// APIKey is a Bedrock API key, sent as "Authorization: Bearer <key>"
	// instead of a SigV4 signature. When empty, the AWS_BEARER_TOKEN_BEDROCK
	// environment variable is used if set; otherwise the default AWS
	// credential chain signs requests. Bearer tokens are sent over HTTPS only.
	APIKey string
	// HTTPClient replaces the HTTP client of the Bedrock calls (for test
	// servers or custom transports). Credential providers keep the SDK's
	// default client, which honours AWS_CA_BUNDLE and proxy settings.
	HTTPClient bedrockruntime.HTTPClient
	// ConfigOptions are extra options for config.LoadDefaultConfig.
	ConfigOptions []func(*config.LoadOptions) error
	// ClientOptions are applied to the client last and may change anything.
	ClientOptions []func(*bedrockruntime.Options)
}

// NewRuntimeClient returns a Bedrock runtime client configured from the
// default AWS chain (environment, shared config and credentials files, SSO,
// web identity, container and instance roles) with the given overrides.
//
// With a Bedrock API key (opts.APIKey, or the AWS_BEARER_TOKEN_BEDROCK
// environment variable) the client authenticates with a bearer token, and no
// AWS credentials are needed. The SDK's own retryer stays in place for
// callers that use the client directly; ConverseModel and the embedders
// disable it per call and retry themselves. The error wraps ErrInvalidInput
// when no Region can be found.
func NewRuntimeClient(ctx context.Context, opts RuntimeClientOptions) (*bedrockruntime.Client, error) {
	var lo []func(*config.LoadOptions) error
	if opts.Region != "" {
		lo = append(lo, config.WithRegion(opts.Region))
	}
	if opts.Profile != "" {
		lo = append(lo, config.WithSharedConfigProfile(opts.Profile))
	}
	lo = append(lo, opts.ConfigOptions...)
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return nil, fmt.Errorf("bedrockkit: loading AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("bedrockkit: no AWS Region configured; set RuntimeClientOptions.Region or AWS_REGION: %w", ErrInvalidInput)
	}
	var fns []func(*bedrockruntime.Options)
	if opts.Endpoint != "" {
		ep := opts.Endpoint
		fns = append(fns, func(o *bedrockruntime.Options) { o.BaseEndpoint = &ep })
	}
	if opts.HTTPClient != nil {
		hc := opts.HTTPClient
		fns = append(fns, func(o *bedrockruntime.Options) { o.HTTPClient = hc })
	}
	if opts.APIKey != "" {
		key := opts.APIKey
		fns = append(fns, func(o *bedrockruntime.Options) {
			o.BearerAuthTokenProvider = bearer.StaticTokenProvider{Token: bearer.Token{Value: key}}
			o.AuthSchemePreference = []string{"httpBearerAuth"}
		})
	}
	// bedrockruntime.New itself honours AWS_BEARER_TOKEN_BEDROCK
	// (resolveEnvBearerToken), before these options run.
	fns = append(fns, opts.ClientOptions...)
	return bedrockruntime.NewFromConfig(cfg, fns...), nil
}

// defaultRuntimeClient is the client of an adapter constructed with a nil
// client: NewRuntimeClient with zero options, that is the default AWS
// configuration (AWS_REGION or the shared config file for the Region; the
// standard credential chain, or a Bedrock API key from
// AWS_BEARER_TOKEN_BEDROCK). Loading it reads the environment and files
// only; credentials are resolved at the first call.
func defaultRuntimeClient(ctor string) (*bedrockruntime.Client, error) {
	c, err := NewRuntimeClient(context.Background(), RuntimeClientOptions{})
	if err != nil {
		return nil, fmt.Errorf("bedrockkit: %s with a nil client uses the default AWS configuration (set AWS_REGION, or pass a client from NewRuntimeClient): %w", ctor, err)
	}
	return c, nil
}
