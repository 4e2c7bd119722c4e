package batch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrock"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

func fakeJobs(t *testing.T, respond bedrockkittest.BatchResponder) (*Jobs, *bedrockkittest.FakeBedrockBatch) {
	fake := bedrockkittest.NewFakeBedrockBatch(t, respond)
	creds := credentials.NewStaticCredentialsProvider("AKIDFAKE", "fake-secret", "")
	ctl := bedrock.New(bedrock.Options{Region: "us-east-1", Credentials: creds, BaseEndpoint: aws.String(fake.URL()), Retryer: aws.NopRetryer{}})
	s3c := s3.New(s3.Options{Region: "us-east-1", Credentials: creds, BaseEndpoint: aws.String(fake.URL()), UsePathStyle: true, Retryer: aws.NopRetryer{}})
	return NewJobs(ctl, s3c), fake
}

// echoResponder answers records as echoModel does, through the same codec.
func echoResponder(t *testing.T) bedrockkittest.BatchResponder {
	return func(modelID, recordID string, in json.RawMessage) (json.RawMessage, int, string) {
		req, err := Record{ModelInput: in}.Request()
		if err != nil {
			return nil, 400, err.Error()
		}
		resp, err := (&echoModel{}).Generate(context.Background(), req)
		if err != nil {
			return nil, errorCode(err), err.Error()
		}
		out, err := encodeResponse(resp)
		if err != nil {
			t.Error(err)
		}
		return out, 0, ""
	}
}

// TestBedrockJobMatchesTheLocalRunner runs the same input file locally and
// as a Bedrock batch job (through the real SDK clients against the fake
// control plane and S3): the results files are identical, and the job is
// priced at batch rates.
func TestBedrockJobMatchesTheLocalRunner(t *testing.T) {
	dir := t.TempDir()
	in := writeInput(t, dir, 25)
	local := filepath.Join(dir, "local.jsonl")
	localSum, err := runFile(t, &echoModel{}, in, local, Options{ModelID: "us.amazon.nova-lite-v1:0"})
	if err != nil {
		t.Fatal(err)
	}

	jobs, fake := fakeJobs(t, echoResponder(t))
	fake.SetPollsBeforeDone(2)
	spec := JobSpec{Name: "bank-faq", ModelID: "us.amazon.nova-lite-v1:0", RoleARN: "arn:aws:iam::123456789012:role/batch",
		InputURI: "s3://bank-batch/in/questions.jsonl", OutputURI: "s3://bank-batch/out/"}
	f, _ := os.Open(in)
	job, err := jobs.Submit(context.Background(), spec, f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if job.ID() != "fakejob0001" {
		t.Errorf("job %s", job.ARN)
	}
	st, err := jobs.Wait(context.Background(), job, time.Millisecond)
	if err != nil || st.Status != "Completed" || st.Total != 25 || st.Succeeded != 25 {
		t.Fatalf("wait: %+v %v", st, err)
	}
	// Bedrock's output is not in input order; Results puts it back.
	raw, _ := fake.Object("bank-batch", "out/fakejob0001/questions.jsonl.out")
	first, _, _ := bytes.Cut(raw, []byte("\n"))
	if !bytes.Contains(first, []byte(`"recordId":"Q0000000025"`)) {
		t.Fatalf("the fake's output should start with the last record: %.120s", first)
	}
	remote := filepath.Join(dir, "remote.jsonl")
	sum, err := jobs.Results(context.Background(), job, remote, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(local)
	b, _ := os.ReadFile(remote)
	if !bytes.Equal(a, b) {
		t.Fatalf("local and job results differ:\n%s\n---\n%s", firstLines(a), firstLines(b))
	}
	if sum.Records != 25 || sum.Usage != localSum.Usage || !sum.Batch.Known || sum.Batch.Cost*2 != sum.OnDemand.Cost || sum.Batch.Cost != localSum.Batch.Cost {
		t.Errorf("job summary %+v, local %+v", sum, localSum)
	}
}

func firstLines(b []byte) string {
	lines := strings.SplitN(string(b), "\n", 3)
	return strings.Join(lines[:min(2, len(lines))], "\n")
}

func TestBedrockJobFailuresAndRefusals(t *testing.T) {
	dir := t.TempDir()
	// One record fails in the job, one is missing from its output.
	jobs, fake := fakeJobs(t, func(modelID, recordID string, in json.RawMessage) (json.RawMessage, int, string) {
		if recordID == "Q0000000002" {
			return nil, 400, "Malformed input request"
		}
		return echoResponder(t)(modelID, recordID, in)
	})
	in := writeInput(t, dir, 3)
	spec := JobSpec{Name: "j", ModelID: "us.amazon.nova-lite-v1:0", RoleARN: "arn:aws:iam::1:role/r", InputURI: "s3://b/in.jsonl", OutputURI: "s3://b/out"}
	f, _ := os.Open(in)
	job, err := jobs.Submit(context.Background(), spec, f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	st, err := jobs.Wait(context.Background(), job, time.Millisecond)
	if err != nil || st.Status != "PartiallyCompleted" || st.Failed != 1 {
		t.Fatalf("wait: %+v %v", st, err)
	}
	// Drop record 3 from the job's output: Results reports it, never drops it.
	raw, _ := fake.Object("b", "out/"+job.ID()+"/in.jsonl.out")
	var kept [][]byte
	for _, l := range bytes.Split(raw, []byte("\n")) {
		if len(l) > 0 && !bytes.Contains(l, []byte("Q0000000003")) {
			kept = append(kept, l)
		}
	}
	fake.PutObject("b", "out/"+job.ID()+"/in.jsonl.out", append(bytes.Join(kept, []byte("\n")), '\n'))
	sum, err := jobs.Results(context.Background(), job, filepath.Join(dir, "r.jsonl"), nil)
	if err != nil {
		t.Fatal(err)
	}
	res := readResults(t, filepath.Join(dir, "r.jsonl"))
	if len(res) != 3 || res[0].Error != nil || res[1].Error == nil || res[1].Error.ErrorCode != 400 || res[2].Error == nil || res[2].Error.ErrorCode != 500 {
		t.Errorf("results %+v", res)
	}
	if sum.Succeeded != 1 || sum.Failed != 2 {
		t.Errorf("summary %+v", sum)
	}

	// Records a batch job cannot run are refused before anything is uploaded.
	before := len(fake.Requests())
	withTools, _ := NewRecord("T1", &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("x")},
		Tools: []bedrockkit.ToolSpec{{Name: "t", InputSchema: json.RawMessage(`{"type":"object"}`)}}, MaxTokens: 5})
	_, err = jobs.Submit(context.Background(), spec, strings.NewReader(mustJSON(withTools)+"\n"))
	if !errors.Is(err, bedrockkit.ErrUnsupported) {
		t.Errorf("tools: %v", err)
	}
	_, err = jobs.Submit(context.Background(), spec, strings.NewReader("{nope\n"))
	if !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("malformed: %v", err)
	}
	_, err = jobs.Submit(context.Background(), spec, strings.NewReader(""))
	if !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("empty: %v", err)
	}
	bad := spec
	bad.InputURI = "https://example.com/x.jsonl"
	if _, err := jobs.Submit(context.Background(), bad, strings.NewReader(mustJSON(withTools))); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("bad URI: %v", err)
	}
	if n := len(fake.Requests()); n != before {
		t.Errorf("refused submissions sent %d requests", n-before)
	}
}
