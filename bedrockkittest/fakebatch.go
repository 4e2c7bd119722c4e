package bedrockkittest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BatchResponder answers one record of a fake batch job: the modelOutput
// (a Converse response body), or an error code and message.
type BatchResponder func(modelID, recordID string, modelInput json.RawMessage) (modelOutput json.RawMessage, errCode int, errMsg string)

// FakeBedrockBatch is an in-process Bedrock control plane for batch
// inference (CreateModelInvocationJob, GetModelInvocationJob; restJson1)
// together with the S3 it reads and writes (path-style PutObject and
// GetObject), for tests of code that runs batch jobs through the real
// aws-sdk-go-v2 bedrock and s3 clients: point both clients' BaseEndpoint at
// URL, and the S3 client's UsePathStyle to true.
//
// A job runs when it is created: every record of its input object goes
// through the responder, and the results are written, in reverse input
// order (Bedrock does not keep the order), to
// <output prefix>/<job ID>/<input file name>.out, with manifest.json.out
// beside it, as Bedrock does. GetModelInvocationJob reports InProgress for
// the first PollsBeforeDone calls and Completed after (or
// PartiallyCompleted when a record failed).
type FakeBedrockBatch struct {
	srv *httptest.Server

	mu       sync.Mutex
	respond  BatchResponder
	objects  map[string][]byte // "bucket/key"
	jobs     map[string]*fakeJob
	seq      int
	polls    int
	requests []string
}

type fakeJob struct {
	arn, name, model, role, in, out, status string
	polls                                   int
	total, ok, failed                       int
	submitted                               time.Time
}

// NewFakeBedrockBatch starts a FakeBedrockBatch whose jobs answer records
// with respond. It is closed when the test ends.
func NewFakeBedrockBatch(t testing.TB, respond BatchResponder) *FakeBedrockBatch {
	t.Helper()
	f := &FakeBedrockBatch{respond: respond, objects: map[string][]byte{}, jobs: map[string]*fakeJob{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// URL returns the server's base URL, for both clients' BaseEndpoint.
func (f *FakeBedrockBatch) URL() string { return f.srv.URL }

// SetPollsBeforeDone makes GetModelInvocationJob report InProgress n times
// before the job is done.
func (f *FakeBedrockBatch) SetPollsBeforeDone(n int) {
	f.mu.Lock()
	f.polls = n
	f.mu.Unlock()
}

// Object returns the stored object bucket/key.
func (f *FakeBedrockBatch) Object(bucket, key string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.objects[bucket+"/"+key]
	return bytes.Clone(b), ok
}

// PutObject stores an object, as if uploaded.
func (f *FakeBedrockBatch) PutObject(bucket, key string, body []byte) {
	f.mu.Lock()
	f.objects[bucket+"/"+key] = bytes.Clone(body)
	f.mu.Unlock()
}

// Requests returns "METHOD path" of every request received, in order.
func (f *FakeBedrockBatch) Requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

func (f *FakeBedrockBatch) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	f.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/model-invocation-job":
		f.createJob(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/model-invocation-job/"):
		f.getJob(w, r)
	case r.Method == http.MethodPut:
		f.putObject(w, r)
	case r.Method == http.MethodGet:
		f.getObject(w, r)
	default:
		batchFault(w, http.StatusBadRequest, "ValidationException", "fakebatch: unsupported operation "+r.Method+" "+r.URL.Path)
	}
}

func batchFault(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("X-Amzn-ErrorType", code)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"message": msg})
	_, _ = w.Write(b)
}

func s3Fault(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
}

// objectKey splits a path-style S3 path into bucket and key.
func objectKey(p string) (string, string, bool) {
	bucket, key, ok := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	return bucket, key, ok && bucket != "" && key != ""
}

func (f *FakeBedrockBatch) putObject(w http.ResponseWriter, r *http.Request) {
	bucket, key, ok := objectKey(r.URL.Path)
	if !ok {
		s3Fault(w, http.StatusBadRequest, "InvalidRequest", "fakebatch: PutObject needs a path-style /bucket/key")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<30))
	if err != nil {
		s3Fault(w, http.StatusBadRequest, "IncompleteBody", err.Error())
		return
	}
	if strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") {
		if body, err = decodeAWSChunked(body); err != nil {
			s3Fault(w, http.StatusBadRequest, "InvalidRequest", "fakebatch: "+err.Error())
			return
		}
	}
	f.PutObject(bucket, key, body)
	w.Header().Set("ETag", `"fake"`)
	w.WriteHeader(http.StatusOK)
}

// decodeAWSChunked removes the aws-chunked framing the SDK may use for
// uploads with trailing checksums.
func decodeAWSChunked(b []byte) ([]byte, error) {
	var out []byte
	br := bufio.NewReader(bytes.NewReader(b))
	for {
		head, err := br.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("aws-chunked body: %w", err)
		}
		sizeHex, _, _ := strings.Cut(strings.TrimSpace(head), ";")
		n, err := strconv.ParseInt(sizeHex, 16, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("aws-chunked chunk size %q", sizeHex)
		}
		if n == 0 {
			return out, nil
		}
		chunk := make([]byte, n)
		if _, err := io.ReadFull(br, chunk); err != nil {
			return nil, fmt.Errorf("aws-chunked body: %w", err)
		}
		out = append(out, chunk...)
		if _, err := br.ReadString('\n'); err != nil {
			return nil, fmt.Errorf("aws-chunked body: %w", err)
		}
	}
}

func (f *FakeBedrockBatch) getObject(w http.ResponseWriter, r *http.Request) {
	bucket, key, ok := objectKey(r.URL.Path)
	if !ok {
		s3Fault(w, http.StatusBadRequest, "InvalidRequest", "fakebatch: GetObject needs a path-style /bucket/key")
		return
	}
	body, found := f.Object(bucket, key)
	if !found {
		s3Fault(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func splitS3(uri string) (string, string, bool) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	if !ok {
		return "", "", false
	}
	b, k, _ := strings.Cut(rest, "/")
	return b, k, b != ""
}

func (f *FakeBedrockBatch) createJob(w http.ResponseWriter, r *http.Request) {
	var in struct {
		JobName         string `json:"jobName"`
		ModelID         string `json:"modelId"`
		RoleArn         string `json:"roleArn"`
		InvocationType  string `json:"modelInvocationType"`
		InputDataConfig struct {
			S3 struct {
				URI string `json:"s3Uri"`
			} `json:"s3InputDataConfig"`
		} `json:"inputDataConfig"`
		OutputDataConfig struct {
			S3 struct {
				URI string `json:"s3Uri"`
			} `json:"s3OutputDataConfig"`
		} `json:"outputDataConfig"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil {
		batchFault(w, http.StatusBadRequest, "ValidationException", "fakebatch: request body: "+err.Error())
		return
	}
	if in.JobName == "" || in.ModelID == "" || in.RoleArn == "" || in.InputDataConfig.S3.URI == "" || in.OutputDataConfig.S3.URI == "" {
		batchFault(w, http.StatusBadRequest, "ValidationException", "fakebatch: jobName, modelId, roleArn, inputDataConfig and outputDataConfig are required")
		return
	}
	if in.InvocationType != "Converse" {
		batchFault(w, http.StatusBadRequest, "ValidationException", fmt.Sprintf("fakebatch: only the Converse invocation type is served, got %q", in.InvocationType))
		return
	}
	inBucket, inKey, ok1 := splitS3(in.InputDataConfig.S3.URI)
	outBucket, outPrefix, ok2 := splitS3(in.OutputDataConfig.S3.URI)
	if !ok1 || !ok2 {
		batchFault(w, http.StatusBadRequest, "ValidationException", "fakebatch: input and output must be s3:// URIs")
		return
	}
	input, found := f.Object(inBucket, inKey)
	if !found {
		batchFault(w, http.StatusBadRequest, "ValidationException", "fakebatch: no input object at "+in.InputDataConfig.S3.URI)
		return
	}
	f.mu.Lock()
	f.seq++
	id := fmt.Sprintf("fakejob%04d", f.seq)
	job := &fakeJob{arn: "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/" + id, name: in.JobName, model: in.ModelID,
		role: in.RoleArn, in: in.InputDataConfig.S3.URI, out: in.OutputDataConfig.S3.URI, status: "InProgress", polls: f.polls, submitted: time.Now().UTC()}
	f.jobs[id] = job
	respond := f.respond
	f.mu.Unlock()

	// Run the records.
	var lines [][]byte
	n := 0
	for _, raw := range bytes.Split(input, []byte("\n")) {
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		n++
		var rec struct {
			RecordID   string          `json:"recordId"`
			ModelInput json.RawMessage `json:"modelInput"`
		}
		res := map[string]any{}
		if err := json.Unmarshal(raw, &rec); err != nil || len(rec.ModelInput) == 0 {
			res["recordId"] = fmt.Sprintf("%011d", n)
			res["modelInput"] = nil
			res["error"] = map[string]any{"errorCode": 400, "errorMessage": "malformed record"}
		} else {
			if rec.RecordID == "" {
				rec.RecordID = fmt.Sprintf("%011d", n)
			}
			res["recordId"], res["modelInput"] = rec.RecordID, rec.ModelInput
			out, code, msg := respond(in.ModelID, rec.RecordID, rec.ModelInput)
			if code != 0 {
				res["error"] = map[string]any{"errorCode": code, "errorMessage": msg}
			} else {
				res["modelOutput"] = out
			}
		}
		if _, bad := res["error"]; bad {
			job.failed++
		} else {
			job.ok++
		}
		b, _ := json.Marshal(res)
		lines = append(lines, b)
	}
	job.total = n
	var out bytes.Buffer
	for i := len(lines) - 1; i >= 0; i-- { // reversed: Bedrock does not keep the order
		out.Write(lines[i])
		out.WriteByte('\n')
	}
	prefix := strings.TrimSuffix(outPrefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	f.PutObject(outBucket, prefix+id+"/"+path.Base(inKey)+".out", out.Bytes())
	manifest, _ := json.Marshal(map[string]int{"totalRecordCount": n, "processedRecordCount": n, "successRecordCount": job.ok, "errorRecordCount": job.failed})
	f.PutObject(outBucket, prefix+id+"/manifest.json.out", manifest)

	w.Header().Set("Content-Type", "application/json")
	b, _ := json.Marshal(map[string]string{"jobArn": job.arn})
	_, _ = w.Write(b)
}

func (f *FakeBedrockBatch) getJob(w http.ResponseWriter, r *http.Request) {
	ident, err := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), "/model-invocation-job/"))
	if err != nil {
		batchFault(w, http.StatusBadRequest, "ValidationException", "fakebatch: job identifier: "+err.Error())
		return
	}
	f.mu.Lock()
	job, ok := f.jobs[path.Base(ident)]
	if ok {
		if job.polls > 0 {
			job.polls--
		} else if job.failed > 0 {
			job.status = "PartiallyCompleted"
		} else {
			job.status = "Completed"
		}
	}
	var out map[string]any
	if ok {
		out = map[string]any{"jobArn": job.arn, "jobName": job.name, "modelId": job.model, "roleArn": job.role, "status": job.status,
			"submitTime": job.submitted.Format(time.RFC3339), "modelInvocationType": "Converse",
			"inputDataConfig":  map[string]any{"s3InputDataConfig": map[string]any{"s3Uri": job.in, "s3InputFormat": "JSONL"}},
			"outputDataConfig": map[string]any{"s3OutputDataConfig": map[string]any{"s3Uri": job.out}}}
		if job.status != "InProgress" {
			out["totalRecordCount"], out["processedRecordCount"] = job.total, job.total
			out["successRecordCount"], out["errorRecordCount"] = job.ok, job.failed
		}
	}
	f.mu.Unlock()
	if !ok {
		batchFault(w, http.StatusNotFound, "ResourceNotFoundException", "fakebatch: no job "+ident)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	b, _ := json.Marshal(out)
	_, _ = w.Write(b)
}
