package batch

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/bedrockkit/bedrockkit"
)

// Record is one line of a batch input file, in Bedrock's batch inference
// format for Converse jobs: {"recordId": "...", "modelInput": {Converse
// request body}}.
type Record struct {
	// RecordID identifies the record in the results. Bedrock wants up to
	// 11 alphanumeric characters; empty means one is assigned from the
	// line number (RecordIDFor).
	RecordID string `json:"recordId,omitempty"`
	// ModelInput is the Converse request body (messages, system,
	// inferenceConfig, toolConfig, additionalModelRequestFields).
	ModelInput json.RawMessage `json:"modelInput"`
}

// RecordResult is one line of a batch output file, in Bedrock's format: the
// record, and its modelOutput (a Converse response body) or its error.
type RecordResult struct {
	RecordID    string          `json:"recordId"`
	ModelInput  json.RawMessage `json:"modelInput"`
	ModelOutput json.RawMessage `json:"modelOutput,omitempty"`
	Error       *RecordError    `json:"error,omitempty"`
}

// RecordError is the error of one record, as Bedrock writes it in place of
// modelOutput.
type RecordError struct {
	ErrorCode    int    `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
}

// Error returns the message with its code.
func (e *RecordError) Error() string {
	return fmt.Sprintf("batch: record failed (%d): %s", e.ErrorCode, e.ErrorMessage)
}

var recordIDRE = regexp.MustCompile(`^[A-Za-z0-9]{1,11}$`)

// RecordIDFor returns the record ID the runner gives the record on line
// (counted from 1) when it has none: the line number in 11 digits.
func RecordIDFor(line int) string { return fmt.Sprintf("%011d", line) }

// NewRecord returns the record asking req, with the ID id (empty: assigned
// from the line). Requests Bedrock's batch jobs cannot run are refused: a
// structured-output schema (Request.Output) is an error wrapping
// bedrockkit.ErrUnsupported, an ID Bedrock would refuse an error wrapping
// bedrockkit.ErrInvalidInput.
func NewRecord(id string, req *bedrockkit.Request) (Record, error) {
	if id != "" && !recordIDRE.MatchString(id) {
		return Record{}, fmt.Errorf("batch: record ID %q; Bedrock takes 1 to 11 letters and digits: %w", id, bedrockkit.ErrInvalidInput)
	}
	body, err := encodeRequest(req)
	if err != nil {
		return Record{}, err
	}
	return Record{RecordID: id, ModelInput: body}, nil
}

// Request decodes the record's modelInput. A body with fields this package
// does not carry is an error wrapping bedrockkit.ErrInvalidInput.
func (r Record) Request() (*bedrockkit.Request, error) { return decodeRequest(r.ModelInput) }

// Response decodes the result's modelOutput, or returns its error.
func (r RecordResult) Response() (*bedrockkit.Response, error) {
	if r.Error != nil {
		return nil, r.Error
	}
	if len(r.ModelOutput) == 0 {
		return nil, fmt.Errorf("batch: result %s has neither modelOutput nor error: %w", r.RecordID, bedrockkit.ErrInvalidInput)
	}
	return decodeResponse(r.ModelOutput)
}

// errorCode maps an error onto the HTTP-style code Bedrock's batch output
// uses for a failed record.
func errorCode(err error) int {
	switch {
	case errors.Is(err, bedrockkit.ErrThrottled), errors.Is(err, bedrockkit.ErrQuotaExceeded):
		return 429
	case errors.Is(err, bedrockkit.ErrAccessDenied):
		return 403
	case errors.Is(err, bedrockkit.ErrNotFound):
		return 404
	case errors.Is(err, bedrockkit.ErrModelTimeout):
		return 408
	case errors.Is(err, bedrockkit.ErrValidation), errors.Is(err, bedrockkit.ErrInvalidInput), errors.Is(err, bedrockkit.ErrUnsupported),
		errors.Is(err, bedrockkit.ErrContextWindow), errors.Is(err, bedrockkit.ErrGuardrailBlocked):
		return 400
	case errors.Is(err, bedrockkit.ErrBudgetExceeded):
		return 402
	case errors.Is(err, bedrockkit.ErrServiceUnavailable):
		return 503
	}
	return 500
}
