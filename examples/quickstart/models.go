package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/openai"

	"github.com/bedrockkit/bedrockkit"
	lc "github.com/bedrockkit/bedrockkit/interop/langchaingo"
	"github.com/bedrockkit/bedrockkit/kb"
)

const (
	defaultBedrockModel = "us.amazon.nova-lite-v1:0"
	defaultOpenAIModel  = "llama3.1"
	ollamaBaseURL       = "http://localhost:11434/v1"
	// localAPIKey is sent when OPENAI_API_KEY is unset and the server is on
	// this machine or network: Ollama, vLLM and LM Studio ignore the key, but
	// langchaingo's OpenAI client refuses to start without one.
	localAPIKey = "ollama"
)

// options are the command-line settings.
type options struct {
	bedrock                     bool
	modelID, question, endpoint string // modelID and endpoint are for Bedrock

	// openaiBaseURL selects a chat model behind an OpenAI-compatible API
	// (Ollama, vLLM, LM Studio, OpenAI), called through langchaingo.
	openaiBaseURL, openaiModel string

	// dir is where the knowledge base's index is kept between runs (one
	// folder per embedder under it); "" keeps it in memory.
	dir string
}

// defaultIndexDir is where the quickstart keeps its index unless -dir says
// otherwise: the user's cache folder.
func defaultIndexDir() string {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "bedrockkit", "quickstart")
}

// flagError is an error the flag package has already printed with the usage.
type flagError struct{ error }

// Unwrap returns the flag package's error, such as flag.ErrHelp.
func (e flagError) Unwrap() error { return e.error }

// parseOptions reads the command line. Besides the flag package's own
// checks it refuses combinations that choose two models or mix one
// provider's flags with the other's.
func parseOptions(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.BoolVar(&o.bedrock, "bedrock", false, "use Amazon Bedrock (AWS credentials and region from the environment)")
	fs.StringVar(&o.modelID, "model", defaultBedrockModel, "Bedrock Converse model or inference profile for answers (with -bedrock)")
	fs.StringVar(&o.endpoint, "endpoint", "", "Bedrock runtime endpoint override, such as a VPC endpoint (with -bedrock)")
	fs.StringVar(&o.openaiBaseURL, "openai-base-url", "", "use the OpenAI-compatible chat API at this URL, through langchaingo\n(Ollama: "+ollamaBaseURL+"; OpenAI: https://api.openai.com/v1 with OPENAI_API_KEY)")
	fs.StringVar(&o.openaiModel, "openai-model", defaultOpenAIModel, "model name for -openai-base-url; it must support tool calling")
	fs.StringVar(&o.question, "q", "", "ask this question instead of the built-in ones")
	fs.StringVar(&o.dir, "dir", defaultIndexDir(), "keep the knowledge base's index in this folder between runs (\"\" keeps it in memory)")
	if err := fs.Parse(args); err != nil {
		return options{}, flagError{err}
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected argument %q; to ask your own question use -q %q", fs.Arg(0), fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case o.bedrock && o.openaiBaseURL != "":
		return options{}, errors.New("-bedrock and -openai-base-url each choose the model; use one of them, not both")
	case o.openaiBaseURL == "" && set["openai-model"]:
		return options{}, fmt.Errorf("-openai-model needs -openai-base-url (for a local Ollama: -openai-base-url %s)", ollamaBaseURL)
	case o.openaiBaseURL != "" && (set["model"] || set["endpoint"]):
		return options{}, errors.New("-model and -endpoint are for -bedrock; with -openai-base-url, name the model with -openai-model")
	}
	if o.openaiBaseURL != "" {
		u, err := url.Parse(o.openaiBaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return options{}, fmt.Errorf("-openai-base-url %q: want an http:// or https:// URL, such as %s for Ollama", o.openaiBaseURL, ollamaBaseURL)
		}
		if strings.TrimSpace(o.openaiModel) == "" {
			return options{}, errors.New("-openai-model is empty; name a model the server serves, such as " + defaultOpenAIModel)
		}
	}
	return o, nil
}

// provider is the language model the example runs on, when one is
// configured.
type provider struct {
	model bedrockkit.Model
	id    string // model ID, for the meter and the output
	// priced is true when the pricing catalog's prices apply to the model:
	// they are Amazon Bedrock's, so only for Bedrock.
	priced bool
	hint   string // what to check when a call fails
}

// wrap adds the provider's hint to an error from a model call.
func (p *provider) wrap(err error) error {
	return fmt.Errorf("%w\n(%s)", err, p.hint)
}

// bedrockProvider sets up Bedrock: Titan embeddings for the knowledge base
// and a Converse model.
func bedrockProvider(ctx context.Context, out io.Writer, o options, cfg *kb.Options) (*provider, error) {
	client, err := bedrockkit.NewRuntimeClient(ctx, bedrockkit.RuntimeClientOptions{Endpoint: o.endpoint})
	if err != nil {
		return nil, err
	}
	emb, err := bedrockkit.NewTitanEmbedder(client, bedrockkit.TitanOptions{Dimensions: 512})
	if err != nil {
		return nil, err
	}
	converse, err := bedrockkit.NewConverseModel(client, o.modelID, bedrockkit.ConverseOptions{})
	if err != nil {
		return nil, err
	}
	cfg.Embedder, cfg.EmbedderID = emb, emb.ModelID()
	cfg.RequestsPerMinute = 600
	fmt.Fprintf(out, "Using Amazon Bedrock: %s for answers, %s for embeddings.\n\n", o.modelID, emb.ModelID())
	return &provider{model: converse, id: o.modelID, priced: true,
		hint: fmt.Sprintf("check AWS credentials or AWS_BEARER_TOKEN_BEDROCK, AWS_REGION and access to %s", o.modelID)}, nil
}

// openAIProvider sets up a chat model behind an OpenAI-compatible API with
// langchaingo's OpenAI client, made a bedrockkit.Model by
// interop/langchaingo.FromLLM. (langchaingo's own Ollama client has no tool
// calling, which the agent needs; Ollama's OpenAI-compatible endpoint has.)
// The API key comes from OPENAI_API_KEY; a server on this machine or network
// gets a placeholder when it is unset.
func openAIProvider(out io.Writer, o options) (*provider, error) {
	u, err := url.Parse(o.openaiBaseURL)
	if err != nil {
		return nil, err
	}
	local := isLocal(u.Hostname())
	key := os.Getenv("OPENAI_API_KEY")
	if key == "" {
		if !local {
			return nil, fmt.Errorf("OPENAI_API_KEY is not set and %s is not on this machine or network; export OPENAI_API_KEY=... (any non-empty value if the server needs no key)", o.openaiBaseURL)
		}
		key = localAPIKey
	}
	llm, err := openai.New(openai.WithBaseURL(strings.TrimSuffix(o.openaiBaseURL, "/")), openai.WithModel(o.openaiModel), openai.WithToken(key))
	if err != nil {
		return nil, err
	}
	var callOpts []llms.CallOption
	if local {
		// Ollama and LM Studio read the output limit from max_tokens only,
		// not from OpenAI's newer max_completion_tokens.
		callOpts = append(callOpts, openai.WithLegacyMaxTokensField())
	}
	hint := fmt.Sprintf("check that %s is reachable, accepts OPENAI_API_KEY and serves %s", o.openaiBaseURL, o.openaiModel)
	if local {
		hint = fmt.Sprintf("is the server at %s running and does it serve %s? With Ollama: ollama serve, then ollama pull %s; the model must support tool calling",
			o.openaiBaseURL, o.openaiModel, o.openaiModel)
	}
	fmt.Fprintf(out, "Using %s at %s (OpenAI-compatible API, through langchaingo) for answers and the agent;\n", o.openaiModel, o.openaiBaseURL)
	fmt.Fprintln(out, "the knowledge base stays keyword-only (BM25, no embedder).")
	fmt.Fprintln(out)
	return &provider{model: lc.FromLLM(llm, lc.Options{CallOptions: callOpts}), id: o.openaiModel, hint: hint}, nil
}

// isLocal reports whether host is this machine or a private network address,
// where model servers usually need no API key.
func isLocal(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast())
}
