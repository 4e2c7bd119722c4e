package agentcore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/schemas"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	"github.com/aws/smithy-go/transport/http/protocol/restjson1"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent/codeinterp"
)

// SystemInterpreter is AWS's built-in code interpreter.
const SystemInterpreter = "aws.codeinterpreter.v1"

// Client is the part of *bedrockagentcore.Client the interpreter calls.
type Client interface {
	StartCodeInterpreterSession(ctx context.Context, in *bedrockagentcore.StartCodeInterpreterSessionInput, optFns ...func(*bedrockagentcore.Options)) (*bedrockagentcore.StartCodeInterpreterSessionOutput, error)
	InvokeCodeInterpreter(ctx context.Context, in *bedrockagentcore.InvokeCodeInterpreterInput, optFns ...func(*bedrockagentcore.Options)) (*bedrockagentcore.InvokeCodeInterpreterOutput, error)
	StopCodeInterpreterSession(ctx context.Context, in *bedrockagentcore.StopCodeInterpreterSessionInput, optFns ...func(*bedrockagentcore.Options)) (*bedrockagentcore.StopCodeInterpreterSessionOutput, error)
}

// Options configure an Interpreter. The zero value gives the defaults.
type Options struct {
	// Identifier is the code interpreter to use; "" means SystemInterpreter.
	Identifier string
	// Language is what Execute runs; "" means codeinterp.Python.
	Language codeinterp.Language
	// SessionTimeout ends a session that long after it started (1s to 8h);
	// 0 means the service's default, 15 minutes.
	SessionTimeout time.Duration
	// SessionName names the sessions (1 to 100 characters); "" leaves them
	// unnamed.
	SessionName string
	// MaxOutput is the most bytes of stdout and of stderr kept from one
	// execution; 0 means 64 KiB.
	MaxOutput int
}

// Interpreter runs code remotely in Amazon Bedrock AgentCore Code
// Interpreter sessions: a codeinterp.Interpreter whose sandboxes are
// AgentCore sessions (started with StartCodeInterpreterSession, used with
// InvokeCodeInterpreter's executeCode, writeFiles, readFiles and listFiles
// tools, ended with StopCodeInterpreterSession). The sandboxing, the
// limits and the available packages are the service's.
type Interpreter struct {
	client Client
	opts   Options
}

// New returns an interpreter calling AgentCore through client, usually a
// *bedrockagentcore.Client.
func New(client Client, opts Options) *Interpreter {
	if opts.Identifier == "" {
		opts.Identifier = SystemInterpreter
	}
	if opts.Language == "" {
		opts.Language = codeinterp.Python
	}
	if opts.MaxOutput <= 0 {
		opts.MaxOutput = 64 << 10
	}
	return &Interpreter{client: client, opts: opts}
}

// Language returns the language Execute runs.
func (i *Interpreter) Language() codeinterp.Language { return i.opts.Language }

// freshProtocol gives each event-stream call its own codec: the SDK shares
// one between the streams of a client, which races when several run at
// once (the same issue as aws/smithy-go#714 for bedrockruntime).
func freshProtocol(o *bedrockagentcore.Options) {
	o.Protocol = restjson1.New(schemas.AmazonBedrockAgentCore)
}

// Start opens an AgentCore session.
func (i *Interpreter) Start(ctx context.Context) (codeinterp.Sandbox, error) {
	in := &bedrockagentcore.StartCodeInterpreterSessionInput{CodeInterpreterIdentifier: aws.String(i.opts.Identifier)}
	if i.opts.SessionName != "" {
		in.Name = aws.String(i.opts.SessionName)
	}
	if i.opts.SessionTimeout > 0 {
		in.SessionTimeoutSeconds = aws.Int32(int32(min(i.opts.SessionTimeout/time.Second, 28800)))
	}
	out, err := i.client.StartCodeInterpreterSession(ctx, in)
	if err != nil {
		return nil, classify("start session", err)
	}
	if out.SessionId == nil || *out.SessionId == "" {
		return nil, fmt.Errorf("codeinterp/agentcore: StartCodeInterpreterSession returned no session ID: %w", bedrockkit.ErrInternal)
	}
	return &session{i: i, id: *out.SessionId, sem: make(chan struct{}, 1), done: make(chan struct{})}, nil
}

// session is one AgentCore Code Interpreter session.
type session struct {
	i    *Interpreter
	id   string
	sem  chan struct{} // held while a call runs
	done chan struct{} // closed by Close

	mu     sync.Mutex
	closed bool
}

func (s *session) ID() string { return s.id }

func (s *session) acquire(ctx context.Context) error {
	select {
	case <-s.done:
		return codeinterp.ErrClosed
	default:
	}
	select {
	case s.sem <- struct{}{}:
	case <-s.done:
		return codeinterp.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-s.done:
		<-s.sem
		return codeinterp.ErrClosed
	default:
	}
	return nil
}

func (s *session) release() { <-s.sem }

// invoke calls one tool and collects the result events of its stream.
func (s *session) invoke(ctx context.Context, tool types.ToolName, args *types.ToolArguments) (*types.CodeInterpreterResult, error) {
	out, err := s.i.client.InvokeCodeInterpreter(ctx, &bedrockagentcore.InvokeCodeInterpreterInput{
		CodeInterpreterIdentifier: aws.String(s.i.opts.Identifier),
		SessionId:                 aws.String(s.id),
		Name:                      tool,
		Arguments:                 args,
	}, freshProtocol)
	if err != nil {
		return nil, s.classify(string(tool), err)
	}
	stream := out.GetStream()
	defer stream.Close()
	merged := &types.CodeInterpreterResult{}
	got := false
	for ev := range stream.Events() {
		if r, ok := ev.(*types.CodeInterpreterStreamOutputMemberResult); ok {
			got = true
			merged.Content = append(merged.Content, r.Value.Content...)
			if r.Value.StructuredContent != nil {
				merged.StructuredContent = r.Value.StructuredContent
			}
			if aws.ToBool(r.Value.IsError) {
				merged.IsError = aws.Bool(true)
			}
		}
	}
	if err := stream.Err(); err != nil {
		return nil, s.classify(string(tool), err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !got {
		return nil, fmt.Errorf("codeinterp/agentcore: %s: the stream ended without a result: %w", tool, bedrockkit.ErrMalformedStream)
	}
	return merged, nil
}

// Execute runs code with the executeCode tool. The result's stdout and
// stderr come from its structured content (or its text blocks when it has
// none); a result marked as an error sets Execution.Error to the stderr, or
// the text, it carries.
func (s *session) Execute(ctx context.Context, code string) (*codeinterp.Execution, error) {
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	defer s.release()
	start := time.Now()
	res, err := s.invoke(ctx, types.ToolNameExecuteCode, &types.ToolArguments{
		Code:     aws.String(code),
		Language: types.ProgrammingLanguage(s.i.opts.Language),
	})
	if err != nil {
		return nil, err
	}
	ex := &codeinterp.Execution{Duration: time.Since(start)}
	var texts []string
	for _, c := range res.Content {
		if c.Type == types.ContentBlockTypeText && c.Text != nil {
			texts = append(texts, *c.Text)
		}
	}
	text := strings.Join(texts, "\n")
	if sc := res.StructuredContent; sc != nil {
		ex.Stdout, ex.Stderr = aws.ToString(sc.Stdout), aws.ToString(sc.Stderr)
		if sc.ExecutionTime != nil {
			ex.Duration = time.Duration(*sc.ExecutionTime * float64(time.Second))
		}
	} else {
		ex.Stdout = text
	}
	if aws.ToBool(res.IsError) {
		ex.Error = strings.TrimSpace(ex.Stderr)
		if ex.Error == "" {
			ex.Error = strings.TrimSpace(text)
		}
		if ex.Error == "" {
			ex.Error = "the program failed"
			if sc := res.StructuredContent; sc != nil && sc.ExitCode != nil {
				ex.Error = fmt.Sprintf("the program exited with code %d", *sc.ExitCode)
			}
		}
	}
	max := s.i.opts.MaxOutput
	ex.Stdout, ex.Truncated = cut(ex.Stdout, max, ex.Truncated)
	ex.Stderr, ex.Truncated = cut(ex.Stderr, max, ex.Truncated)
	return ex, nil
}

func cut(s string, max int, truncated bool) (string, bool) {
	if len(s) <= max {
		return s, truncated
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return s[:max], true
}

// WriteFiles writes files with the writeFiles tool: UTF-8 content as text,
// anything else as a blob.
func (s *session) WriteFiles(ctx context.Context, files ...codeinterp.File) error {
	if len(files) == 0 {
		return nil
	}
	if err := s.acquire(ctx); err != nil {
		return err
	}
	defer s.release()
	blocks := make([]types.InputContentBlock, 0, len(files))
	for _, f := range files {
		if f.Path == "" {
			return fmt.Errorf("codeinterp/agentcore: a file needs a path: %w", bedrockkit.ErrInvalidInput)
		}
		b := types.InputContentBlock{Path: aws.String(f.Path)}
		if utf8.Valid(f.Content) {
			b.Text = aws.String(string(f.Content))
		} else {
			b.Blob = f.Content
		}
		blocks = append(blocks, b)
	}
	res, err := s.invoke(ctx, types.ToolNameWriteFiles, &types.ToolArguments{Content: blocks})
	if err != nil {
		return err
	}
	if aws.ToBool(res.IsError) {
		return fmt.Errorf("codeinterp/agentcore: writeFiles failed: %s: %w", resultText(res), bedrockkit.ErrValidation)
	}
	return nil
}

// ReadFiles reads files with the readFiles tool. A file the service cannot
// read is an error wrapping bedrockkit.ErrNotFound.
func (s *session) ReadFiles(ctx context.Context, paths ...string) ([]codeinterp.File, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	defer s.release()
	res, err := s.invoke(ctx, types.ToolNameReadFiles, &types.ToolArguments{Paths: paths})
	if err != nil {
		return nil, err
	}
	if aws.ToBool(res.IsError) {
		return nil, fmt.Errorf("codeinterp/agentcore: readFiles %s: %s: %w", strings.Join(paths, ", "), resultText(res), bedrockkit.ErrNotFound)
	}
	var out []codeinterp.File
	for _, c := range res.Content {
		r := c.Resource
		if r == nil {
			continue
		}
		p := strings.TrimPrefix(strings.TrimPrefix(aws.ToString(r.Uri), "file://"), "/")
		data := r.Blob
		if r.Text != nil {
			data = []byte(*r.Text)
		}
		out = append(out, codeinterp.File{Path: p, Content: data})
	}
	if len(out) != len(paths) {
		return out, fmt.Errorf("codeinterp/agentcore: readFiles asked for %d files and got %d: %w", len(paths), len(out), bedrockkit.ErrNotFound)
	}
	return out, nil
}

// ListFiles lists the session's working directory with the listFiles tool.
func (s *session) ListFiles(ctx context.Context) ([]codeinterp.FileInfo, error) {
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	defer s.release()
	res, err := s.invoke(ctx, types.ToolNameListFiles, &types.ToolArguments{DirectoryPath: aws.String("")})
	if err != nil {
		return nil, err
	}
	if aws.ToBool(res.IsError) {
		return nil, fmt.Errorf("codeinterp/agentcore: listFiles failed: %s: %w", resultText(res), bedrockkit.ErrInternal)
	}
	out := []codeinterp.FileInfo{}
	for _, c := range res.Content {
		if c.Type != types.ContentBlockTypeResourceLink {
			continue
		}
		p := strings.TrimPrefix(strings.TrimPrefix(aws.ToString(c.Uri), "file://"), "/")
		if p == "" {
			p = aws.ToString(c.Name)
		}
		out = append(out, codeinterp.FileInfo{Path: p, Size: aws.ToInt64(c.Size)})
	}
	return out, nil
}

// Close stops the session. It waits for a running call to end first.
func (s *session) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	s.mu.Unlock()
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	_, err := s.i.client.StopCodeInterpreterSession(ctx, &bedrockagentcore.StopCodeInterpreterSessionInput{
		CodeInterpreterIdentifier: aws.String(s.i.opts.Identifier),
		SessionId:                 aws.String(s.id),
	})
	if err != nil {
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return nil // already ended (timed out)
		}
		return classify("stop session", err)
	}
	return nil
}

func resultText(res *types.CodeInterpreterResult) string {
	var parts []string
	for _, c := range res.Content {
		if c.Text != nil {
			parts = append(parts, *c.Text)
		}
	}
	if len(parts) == 0 {
		return "no message"
	}
	return strings.Join(parts, "; ")
}

// classify wraps err with the call's name and the root sentinel matching
// its AWS error; a session the service no longer knows also matches
// codeinterp.ErrClosed.
func (s *session) classify(what string, err error) error {
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return fmt.Errorf("codeinterp/agentcore: %s: session %s has ended (stopped or timed out): %w: %w", what, s.id, codeinterp.ErrClosed, err)
	}
	return classify(what, err)
}

func classify(what string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("codeinterp/agentcore: %s: %w", what, err)
	}
	var (
		throttled *types.ThrottlingException
		denied    *types.AccessDeniedException
		notFound  *types.ResourceNotFoundException
		quota     *types.ServiceQuotaExceededException
		invalid   *types.ValidationException
		internal  *types.InternalServerException
		conflict  *types.ConflictException
	)
	var sentinel error
	switch {
	case errors.As(err, &throttled):
		sentinel = bedrockkit.ErrThrottled
	case errors.As(err, &denied):
		sentinel = bedrockkit.ErrAccessDenied
	case errors.As(err, &notFound):
		sentinel = bedrockkit.ErrNotFound
	case errors.As(err, &quota):
		sentinel = bedrockkit.ErrQuotaExceeded
	case errors.As(err, &invalid), errors.As(err, &conflict):
		sentinel = bedrockkit.ErrValidation
	case errors.As(err, &internal):
		sentinel = bedrockkit.ErrInternal
	default:
		return fmt.Errorf("codeinterp/agentcore: %s: %w", what, err)
	}
	return fmt.Errorf("codeinterp/agentcore: %s: %w: %w", what, sentinel, err)
}
