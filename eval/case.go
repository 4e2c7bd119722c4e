package eval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/bedrockkit/bedrockkit"
)

// Case is one item of an evaluation dataset: a question and what a good
// answer looks like. Every field but ID and Question is optional; the
// metrics a case gets are those its fields allow (see Run). As JSONL, one
// case per line:
//
//	{"id": "q1", "question": "Who wrote Dune?", "expected_answer": "Frank Herbert",
//	 "relevant_documents": ["s3://books/dune.md"],
//	 "expected_tool_calls": [{"name": "search_books", "arguments": {"author": "Frank Herbert"}}]}
type Case struct {
	// ID identifies the case in reports and in the progress file that lets
	// a run resume; it must be unique within a dataset.
	ID string `json:"id"`
	// Question is the input sent to the knowledge base, model or agent.
	Question string `json:"question"`
	// ExpectedAnswer is the reference answer, for exact and token-F1 match
	// and for judged correctness and completeness.
	ExpectedAnswer string `json:"expected_answer,omitempty"`
	// AcceptableAnswers are other answers that count as right for exact
	// and token-F1 match (the best match counts).
	AcceptableAnswers []string `json:"acceptable_answers,omitempty"`
	// RelevantDocuments lists the documents a retriever should find, with
	// graded relevance (higher is more relevant; 0 or less is not
	// relevant). In JSON it is either a list of document IDs (grade 1
	// each) or an object of document ID to grade.
	RelevantDocuments Relevance `json:"relevant_documents,omitempty"`
	// ExpectedToolCalls is the trajectory an agent should follow. Nil means
	// the case does not judge tool use; an empty list means the agent
	// should call no tool.
	ExpectedToolCalls []ExpectedCall `json:"expected_tool_calls,omitempty"`
	// ToolOrder says how the order of ExpectedToolCalls is judged; empty
	// means AnyOrder.
	ToolOrder ToolOrder `json:"tool_order,omitempty"`
	// Assertions are statements a good session satisfies (AgentCore's
	// GoalSuccessRate uses them).
	Assertions []string `json:"assertions,omitempty"`
	// Context is text given with the question to a model target, and the
	// context judged faithfulness is measured against when nothing was
	// retrieved.
	Context []string `json:"context,omitempty"`
	// Metadata is carried into the report unchanged.
	Metadata map[string]any `json:"metadata,omitempty"`
}

// Relevance maps document IDs to graded relevance.
type Relevance map[string]int

// UnmarshalJSON accepts a list of document IDs (grade 1 each) or an object
// of document ID to integer grade.
func (r *Relevance) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*r = nil
		return nil
	}
	if len(b) > 0 && b[0] == '[' {
		var ids []string
		if err := json.Unmarshal(b, &ids); err != nil {
			return fmt.Errorf("relevant_documents: a list must hold document IDs (strings): %w", err)
		}
		m := make(Relevance, len(ids))
		for _, id := range ids {
			m[id] = 1
		}
		*r = m
		return nil
	}
	var m map[string]int
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("relevant_documents: use a list of document IDs or an object of document ID to integer grade: %w", err)
	}
	*r = m
	return nil
}

// relevant reports how many documents have a positive grade.
func (r Relevance) relevant() int {
	n := 0
	for _, g := range r {
		if g > 0 {
			n++
		}
	}
	return n
}

// ToolOrder says how the order of a case's expected tool calls is judged,
// as AgentCore's trajectory evaluators do.
type ToolOrder string

// Tool orders.
const (
	// AnyOrder: every expected call is made, in any order, and other calls
	// are allowed (Builtin.TrajectoryAnyOrderMatch).
	AnyOrder ToolOrder = "any_order"
	// InOrder: the expected calls are made in their order, other calls
	// may come between them (Builtin.TrajectoryInOrderMatch).
	InOrder ToolOrder = "in_order"
	// ExactOrder: exactly the expected calls, in their order, and no
	// other (Builtin.TrajectoryExactOrderMatch).
	ExactOrder ToolOrder = "exact_order"
)

// ExpectedCall is a tool call a case expects. Only the arguments it names
// are compared; the call's arguments must also be valid under the tool's
// schema when the target knows the schema (agent targets do).
type ExpectedCall struct {
	// Name is the tool's name.
	Name string `json:"name"`
	// Arguments are argument values the call must have, compared as JSON
	// values (numbers by value, objects without regard to key order).
	Arguments map[string]json.RawMessage `json:"arguments,omitempty"`
	// Alternatives lists, per argument, the values any one of which is
	// right; a JSON null among them means the argument may be left out.
	// An argument in both Arguments and Alternatives must match one of
	// the union.
	Alternatives map[string][]json.RawMessage `json:"alternatives,omitempty"`
	// Strict refuses arguments other than those named in Arguments and
	// Alternatives.
	Strict bool `json:"strict,omitempty"`
}

// Limits on datasets, so a hostile file cannot exhaust memory.
const (
	// MaxCaseBytes is the largest JSONL line LoadCases reads.
	MaxCaseBytes = 16 << 20
	// MaxCases is the most cases one dataset may hold.
	MaxCases = 1_000_000
	// maxIDBytes bounds a case ID (it keys the progress file).
	maxIDBytes = 1024
)

// ErrInvalidCase is wrapped by errors about a dataset: a line that is not
// a case, a missing or duplicate ID, a missing question, an unknown tool
// order.
var ErrInvalidCase = fmt.Errorf("eval: invalid case: %w", bedrockkit.ErrInvalidInput)

// LoadCases reads a JSONL dataset: one Case per line, blank lines and
// lines starting with '#' skipped. It checks every case (see Validate) and
// fails on the first bad line, naming it.
func LoadCases(r io.Reader) ([]Case, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var out []Case
	seen := map[string]int{}
	for line := 1; ; line++ {
		raw, err := readLine(br, MaxCaseBytes)
		if errors.Is(err, errLineTooLong) {
			return nil, fmt.Errorf("eval: line %d is longer than %d bytes: %w", line, MaxCaseBytes, ErrInvalidCase)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("eval: reading cases: %w", err)
		}
		if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] != '#' {
			if len(out) >= MaxCases {
				return nil, fmt.Errorf("eval: more than %d cases; split the dataset: %w", MaxCases, ErrInvalidCase)
			}
			var c Case
			dec := json.NewDecoder(bytes.NewReader(t))
			dec.DisallowUnknownFields()
			if derr := dec.Decode(&c); derr != nil {
				return nil, fmt.Errorf("eval: line %d: %v: %w", line, derr, ErrInvalidCase)
			}
			if dec.More() {
				return nil, fmt.Errorf("eval: line %d holds more than one JSON value; put one case per line: %w", line, ErrInvalidCase)
			}
			if verr := c.Validate(); verr != nil {
				return nil, fmt.Errorf("line %d: %w", line, verr)
			}
			if prev, dup := seen[c.ID]; dup {
				return nil, fmt.Errorf("eval: line %d repeats the id %q of line %d; IDs key the progress file and must be unique: %w", line, c.ID, prev, ErrInvalidCase)
			}
			seen[c.ID] = line
			out = append(out, c)
		}
		if errors.Is(err, io.EOF) {
			return out, nil
		}
	}
}

// LoadCasesFile reads a JSONL dataset from a file (see LoadCases).
func LoadCasesFile(path string) ([]Case, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	defer f.Close()
	cs, err := LoadCases(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cs, nil
}

var errLineTooLong = errors.New("line too long")

// readLine reads one line (without its newline) of at most max bytes; a
// longer line is consumed and errLineTooLong returned.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var out []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(out)+len(chunk) > max+1 {
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			return nil, errLineTooLong
		}
		out = append(out, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			return out, err
		}
		return bytes.TrimSuffix(out, []byte("\n")), nil
	}
}

// Validate checks a case: an ID (at most 1,024 bytes of UTF-8, no line
// breaks) and a question, a known tool order, expected calls with names,
// and arguments and alternatives that are JSON values.
func (c *Case) Validate() error {
	switch {
	case c.ID == "":
		return fmt.Errorf("eval: a case needs an \"id\": %w", ErrInvalidCase)
	case len(c.ID) > maxIDBytes || !utf8.ValidString(c.ID) || strings.ContainsAny(c.ID, "\r\n"):
		return fmt.Errorf("eval: id %.40q is over %d bytes, not UTF-8, or holds a line break: %w", c.ID, maxIDBytes, ErrInvalidCase)
	case strings.TrimSpace(c.Question) == "":
		return fmt.Errorf("eval: case %q has no \"question\": %w", c.ID, ErrInvalidCase)
	}
	switch c.ToolOrder {
	case "", AnyOrder, InOrder, ExactOrder:
	default:
		return fmt.Errorf("eval: case %q: tool_order %q is unknown; use %q, %q or %q: %w", c.ID, c.ToolOrder, AnyOrder, InOrder, ExactOrder, ErrInvalidCase)
	}
	for i, e := range c.ExpectedToolCalls {
		if e.Name == "" {
			return fmt.Errorf("eval: case %q: expected_tool_calls[%d] has no name: %w", c.ID, i, ErrInvalidCase)
		}
		for _, k := range sortedKeys(e.Arguments) {
			if !json.Valid(e.Arguments[k]) {
				return fmt.Errorf("eval: case %q: expected_tool_calls[%d] argument %q is not a JSON value: %w", c.ID, i, k, ErrInvalidCase)
			}
		}
		for _, k := range sortedKeys(e.Alternatives) {
			if len(e.Alternatives[k]) == 0 {
				return fmt.Errorf("eval: case %q: expected_tool_calls[%d] lists no alternative for %q: %w", c.ID, i, k, ErrInvalidCase)
			}
			for _, v := range e.Alternatives[k] {
				if !json.Valid(v) {
					return fmt.Errorf("eval: case %q: expected_tool_calls[%d] alternative of %q is not a JSON value: %w", c.ID, i, k, ErrInvalidCase)
				}
			}
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// order returns the case's tool order with its default.
func (c *Case) order() ToolOrder {
	if c.ToolOrder == "" {
		return AnyOrder
	}
	return c.ToolOrder
}
