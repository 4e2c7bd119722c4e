package batch

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrock"
	btypes "github.com/aws/aws-sdk-go-v2/service/bedrock/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/pricing"
)

// ControlAPI is the part of *bedrock.Client (the Bedrock control plane)
// that Jobs uses.
type ControlAPI interface {
	CreateModelInvocationJob(ctx context.Context, in *bedrock.CreateModelInvocationJobInput, optFns ...func(*bedrock.Options)) (*bedrock.CreateModelInvocationJobOutput, error)
	GetModelInvocationJob(ctx context.Context, in *bedrock.GetModelInvocationJobInput, optFns ...func(*bedrock.Options)) (*bedrock.GetModelInvocationJobOutput, error)
}

// S3API is the part of *s3.Client that Jobs uses.
type S3API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Jobs runs records as Bedrock batch inference jobs
// (CreateModelInvocationJob, Converse invocation type), with input and
// output in S3, in the same record format as Run: the same input file can
// be run locally or as a job, and both write the same results file.
type Jobs struct {
	control ControlAPI
	s3      S3API
}

// NewJobs returns Jobs over a Bedrock control-plane client and an S3
// client (bedrock.NewFromConfig, s3.NewFromConfig).
func NewJobs(control ControlAPI, s3 S3API) *Jobs { return &Jobs{control: control, s3: s3} }

// JobSpec describes a batch job.
type JobSpec struct {
	// Name is the job's name (1-63 letters, digits and hyphens).
	Name string
	// ModelID is the model or inference profile that runs the records.
	ModelID string
	// RoleARN is the service role Bedrock assumes to read InputURI and
	// write OutputURI.
	RoleARN string
	// InputURI is where the input file is uploaded: s3://bucket/key.jsonl.
	InputURI string
	// OutputURI is the prefix Bedrock writes results under: s3://bucket/prefix/.
	OutputURI string
	// TimeoutHours bounds the job (Bedrock's default when 0).
	TimeoutHours int32
	// MaxInputBytes bounds the input file; 0 means 1 GiB (Bedrock's limit
	// per input file).
	MaxInputBytes int64
}

// Job is a submitted batch job.
type Job struct {
	ARN  string
	Spec JobSpec
}

// ID returns the job's ID: the last part of its ARN, the folder Bedrock
// writes its results in.
func (j Job) ID() string { return path.Base(j.ARN) }

// JobStatus is a job's state.
type JobStatus struct {
	// Status is Bedrock's: Submitted, Validating, Scheduled, InProgress,
	// Completed, PartiallyCompleted, Failed, Stopping, Stopped, Expired.
	Status  string
	Message string
	// Done is true once the job will not change any more.
	Done                                bool
	Total, Processed, Succeeded, Failed int64
}

// Submit uploads the records of input (JSONL, see Record) to
// spec.InputURI and creates the job. Records are checked first, so a job
// that Bedrock would run and bill only to fail is refused: a record that
// is not a Converse request, or that offers tools (batch jobs cannot call
// tools), is an error naming the record. Records without an ID get
// RecordIDFor their position, so results can be put back in input order.
func (j *Jobs) Submit(ctx context.Context, spec JobSpec, input io.Reader) (Job, error) {
	bucket, key, err := parseS3URI(spec.InputURI)
	if err != nil || key == "" || strings.HasSuffix(key, "/") {
		return Job{}, fmt.Errorf("batch: InputURI %q; want s3://bucket/key.jsonl: %w", spec.InputURI, bedrockkit.ErrInvalidInput)
	}
	if _, _, err := parseS3URI(spec.OutputURI); err != nil {
		return Job{}, fmt.Errorf("batch: OutputURI %q; want s3://bucket/prefix/: %w", spec.OutputURI, bedrockkit.ErrInvalidInput)
	}
	if spec.Name == "" || spec.ModelID == "" || spec.RoleARN == "" {
		return Job{}, fmt.Errorf("batch: a job needs Name, ModelID and RoleARN: %w", bedrockkit.ErrInvalidInput)
	}
	limit := spec.MaxInputBytes
	if limit <= 0 {
		limit = 1 << 30
	}
	tmp, err := os.CreateTemp("", "bedrockkit-batch-*.jsonl")
	if err != nil {
		return Job{}, fmt.Errorf("batch: stage input: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	rr := &recordReader{r: bufio.NewReaderSize(input, 64<<10), max: DefaultMaxRecordBytes}
	var size int64
	for {
		in, idx, ok, err := rr.next()
		if err != nil {
			return Job{}, err
		}
		if !ok {
			break
		}
		if in.fail != nil {
			return Job{}, fmt.Errorf("batch: record %d: %s: %w", idx+1, in.fail.ErrorMessage, bedrockkit.ErrInvalidInput)
		}
		req, err := in.rec.Request()
		if err != nil {
			return Job{}, fmt.Errorf("batch: record %d (%s): %w", idx+1, in.id, err)
		}
		if len(req.Tools) > 0 {
			return Job{}, fmt.Errorf("batch: record %d (%s) offers tools; Bedrock batch jobs cannot call tools (run it with Run instead): %w", idx+1, in.id, bedrockkit.ErrUnsupported)
		}
		line, err := json.Marshal(Record{RecordID: in.id, ModelInput: in.rec.ModelInput})
		if err != nil {
			return Job{}, fmt.Errorf("batch: record %d: %w", idx+1, err)
		}
		size += int64(len(line)) + 1
		if size > limit {
			return Job{}, fmt.Errorf("batch: the input passes %d bytes (JobSpec.MaxInputBytes); split it into several files: %w", limit, bedrockkit.ErrInvalidInput)
		}
		if _, err := tmp.Write(append(line, '\n')); err != nil {
			return Job{}, fmt.Errorf("batch: stage input: %w", err)
		}
	}
	if size == 0 {
		return Job{}, fmt.Errorf("batch: the input has no records: %w", bedrockkit.ErrInvalidInput)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return Job{}, fmt.Errorf("batch: stage input: %w", err)
	}
	if _, err := j.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: tmp,
		ContentLength: aws.Int64(size), ContentType: aws.String("application/jsonl")}); err != nil {
		return Job{}, fmt.Errorf("batch: upload input to %s: %w", spec.InputURI, err)
	}
	in := &bedrock.CreateModelInvocationJobInput{
		JobName: aws.String(spec.Name), ModelId: aws.String(spec.ModelID), RoleArn: aws.String(spec.RoleARN),
		ModelInvocationType: btypes.ModelInvocationTypeConverse,
		InputDataConfig: &btypes.ModelInvocationJobInputDataConfigMemberS3InputDataConfig{Value: btypes.ModelInvocationJobS3InputDataConfig{
			S3Uri: aws.String(spec.InputURI), S3InputFormat: btypes.S3InputFormatJsonl}},
		OutputDataConfig: &btypes.ModelInvocationJobOutputDataConfigMemberS3OutputDataConfig{Value: btypes.ModelInvocationJobS3OutputDataConfig{
			S3Uri: aws.String(spec.OutputURI)}},
	}
	if spec.TimeoutHours > 0 {
		in.TimeoutDurationInHours = aws.Int32(spec.TimeoutHours)
	}
	out, err := j.control.CreateModelInvocationJob(ctx, in)
	if err != nil {
		return Job{}, fmt.Errorf("batch: CreateModelInvocationJob: %w", err)
	}
	return Job{ARN: aws.ToString(out.JobArn), Spec: spec}, nil
}

// Status returns the job's state.
func (j *Jobs) Status(ctx context.Context, job Job) (JobStatus, error) {
	out, err := j.control.GetModelInvocationJob(ctx, &bedrock.GetModelInvocationJobInput{JobIdentifier: aws.String(job.ARN)})
	if err != nil {
		return JobStatus{}, fmt.Errorf("batch: GetModelInvocationJob %s: %w", job.ARN, err)
	}
	st := JobStatus{Status: string(out.Status), Message: aws.ToString(out.Message),
		Total: aws.ToInt64(out.TotalRecordCount), Processed: aws.ToInt64(out.ProcessedRecordCount),
		Succeeded: aws.ToInt64(out.SuccessRecordCount), Failed: aws.ToInt64(out.ErrorRecordCount)}
	switch out.Status {
	case btypes.ModelInvocationJobStatusCompleted, btypes.ModelInvocationJobStatusPartiallyCompleted, btypes.ModelInvocationJobStatusFailed,
		btypes.ModelInvocationJobStatusStopped, btypes.ModelInvocationJobStatusExpired:
		st.Done = true
	}
	return st, nil
}

// ErrJobFailed is wrapped by Wait's error for a job that ended Failed,
// Stopped or Expired.
var ErrJobFailed = errors.New("batch: the batch job did not complete")

// Wait polls the job every interval (0: one minute) until it is done or
// ctx ends. A job that ends Failed, Stopped or Expired is an error
// wrapping ErrJobFailed; PartiallyCompleted is not (its failed records
// are in the results).
func (j *Jobs) Wait(ctx context.Context, job Job, interval time.Duration) (JobStatus, error) {
	if interval <= 0 {
		interval = time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		st, err := j.Status(ctx, job)
		if err != nil {
			return st, err
		}
		if st.Done {
			switch st.Status {
			case string(btypes.ModelInvocationJobStatusCompleted), string(btypes.ModelInvocationJobStatusPartiallyCompleted):
				return st, nil
			}
			return st, fmt.Errorf("batch: %s: %s: %w", st.Status, st.Message, ErrJobFailed)
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-t.C:
		}
	}
}

// Results downloads the job's output and writes it to outPath in the
// input's order (Bedrock does not keep it), in the format Run writes; a
// record missing from the job's output gets an error line (code 500)
// rather than being left out. The Summary prices the usage at the model's
// batch rates (Summary.Batch: what the job is billed) and on-demand rates.
func (j *Jobs) Results(ctx context.Context, job Job, outPath string, c *pricing.Catalog) (Summary, error) {
	inBucket, inKey, err := parseS3URI(job.Spec.InputURI)
	if err != nil {
		return Summary{}, fmt.Errorf("batch: InputURI: %w", err)
	}
	outBucket, outPrefix, err := parseS3URI(job.Spec.OutputURI)
	if err != nil {
		return Summary{}, fmt.Errorf("batch: OutputURI: %w", err)
	}
	outKey := strings.TrimSuffix(outPrefix, "/")
	if outKey != "" {
		outKey += "/"
	}
	outKey += job.ID() + "/" + path.Base(inKey) + ".out"
	raw, err := j.download(ctx, outBucket, outKey)
	if err != nil {
		return Summary{}, err
	}
	defer os.Remove(raw.Name())
	defer raw.Close()
	index, err := indexJobOutput(raw)
	if err != nil {
		return Summary{}, err
	}
	input, err := j.download(ctx, inBucket, inKey)
	if err != nil {
		return Summary{}, err
	}
	defer os.Remove(input.Name())
	defer input.Close()
	out, err := os.Create(outPath)
	if err != nil {
		return Summary{}, fmt.Errorf("batch: create %s: %w", outPath, err)
	}
	defer out.Close()
	sum, err := writeInInputOrder(input, raw, index, out, outPath)
	if err != nil {
		return sum, err
	}
	if err := out.Sync(); err != nil {
		return sum, fmt.Errorf("batch: sync %s: %w", outPath, err)
	}
	sum.price(job.Spec.ModelID, c)
	return sum, nil
}

// outputSpan is where one result lies in the job's output file.
type outputSpan struct{ off, n int64 }

// indexJobOutput indexes the job's output by record ID (the first result
// of each); lines that are too long or not JSON are skipped.
func indexJobOutput(raw io.Reader) (map[string]outputSpan, error) {
	index := map[string]outputSpan{}
	br := bufio.NewReaderSize(raw, 64<<10)
	var off int64
	for {
		line, tooLong, n, err := readLineN(br, 2*DefaultMaxRecordBytes+1<<20)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("batch: read job output: %w", err)
		}
		if len(line) > 0 && !tooLong {
			var r struct {
				RecordID string `json:"recordId"`
			}
			if json.Unmarshal(line, &r) == nil && r.RecordID != "" {
				if _, dup := index[r.RecordID]; !dup {
					index[r.RecordID] = outputSpan{off, int64(len(line))}
				}
			}
		}
		off += int64(n)
		if err != nil {
			return index, nil
		}
	}
}

// writeInInputOrder writes to out, in the input's order, each record's
// result from raw, or an error line for a record raw has none for.
func writeInInputOrder(input io.Reader, raw io.ReaderAt, index map[string]outputSpan, out io.Writer, outPath string) (Summary, error) {
	bw := bufio.NewWriter(out)
	var sum Summary
	rr := &recordReader{r: bufio.NewReaderSize(input, 64<<10), max: DefaultMaxRecordBytes}
	for {
		in, _, ok, err := rr.next()
		if err != nil {
			return sum, err
		}
		if !ok {
			break
		}
		var res RecordResult
		if sp, found := index[in.id]; found {
			buf := make([]byte, sp.n)
			if _, err := raw.ReadAt(buf, sp.off); err != nil {
				return sum, fmt.Errorf("batch: read job output: %w", err)
			}
			if err := json.Unmarshal(buf, &res); err != nil {
				return sum, fmt.Errorf("batch: job output for %s: %w", in.id, err)
			}
		} else {
			res = RecordResult{RecordID: in.id, ModelInput: in.rec.ModelInput, Error: &RecordError{ErrorCode: 500, ErrorMessage: "batch: the job's output has no result for this record"}}
		}
		line, err := json.Marshal(res)
		if err != nil {
			return sum, err
		}
		if _, err := bw.Write(append(line, '\n')); err != nil {
			return sum, fmt.Errorf("batch: write %s: %w", outPath, err)
		}
		sum.add(res)
	}
	if err := bw.Flush(); err != nil {
		return sum, fmt.Errorf("batch: write %s: %w", outPath, err)
	}
	return sum, nil
}

// download copies an S3 object to a temporary file.
func (j *Jobs) download(ctx context.Context, bucket, key string) (*os.File, error) {
	obj, err := j.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("batch: get s3://%s/%s: %w", bucket, key, err)
	}
	defer obj.Body.Close()
	f, err := os.CreateTemp("", "bedrockkit-batch-*.jsonl")
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(f, obj.Body); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("batch: download s3://%s/%s: %w", bucket, key, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

// parseS3URI splits s3://bucket/key.
func parseS3URI(uri string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%q is not an s3:// URI: %w", uri, bedrockkit.ErrInvalidInput)
	}
	bucket, key, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%q has no bucket: %w", uri, bedrockkit.ErrInvalidInput)
	}
	return bucket, key, nil
}
