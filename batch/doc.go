// Package batch runs many model requests from a file: locally through any
// bedrockkit.Model with bounded concurrency (Run), or as Amazon Bedrock
// batch inference jobs with records in S3 (Jobs), in one record format so
// a team can move between the two.
//
// Input files are JSONL in Bedrock's batch format for Converse jobs, one
// Record per line: {"recordId": "CALL0000001", "modelInput": {Converse
// request body}}. Output files are JSONL of Result, one per record in
// input order: the record with its "modelOutput" (a Converse response
// body) or its "error" ({"errorCode": 429, "errorMessage": "..."}), as
// Bedrock writes them. NewRecord builds a record from a bedrockkit.Request;
// Result.Response decodes an answer.
//
// Run survives crashes: the output file is its progress. Run again with
// the same input and output after a crash, a kill or a cancellation and it
// checks the results already written against the input's record IDs, cuts
// off a half-written last line and runs only the rest, so no record is
// repeated or lost in the output. Each record's failure is its own error
// line; the run goes on.
//
// Costs: a Summary prices the usage on demand (what calls through an
// on-demand model cost) and at the model's batch rates (what a Bedrock
// batch job costs, about half for the models that have them), with
// pricing's catalog; prices the catalog does not have are reported
// unknown, never guessed.
//
// Bedrock's batch jobs run Converse records without tools or structured
// output (Bedrock refuses both in batch); Jobs.Submit checks every record
// before uploading, so a job is not billed only to fail. Jobs need an IAM
// service role Bedrock can assume to read the input and write the output,
// and Bedrock sets a minimum number of records per job (see the Bedrock
// quotas for your Region).
package batch
