package bedrockkittest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
)

// invokeCI calls one tool through the real SDK client and collects the
// result events of the stream.
func invokeCI(t *testing.T, c *bedrockagentcore.Client, sid string, name types.ToolName, args *types.ToolArguments) (*types.CodeInterpreterResult, error) {
	t.Helper()
	out, err := c.InvokeCodeInterpreter(context.Background(), &bedrockagentcore.InvokeCodeInterpreterInput{
		CodeInterpreterIdentifier: aws.String(SystemCodeInterpreter), SessionId: aws.String(sid), Name: name, Arguments: args})
	if err != nil {
		return nil, err
	}
	if got := aws.ToString(out.SessionId); got != sid {
		t.Errorf("response session header %q, want %q", got, sid)
	}
	stream := out.GetStream()
	defer stream.Close()
	var res *types.CodeInterpreterResult
	for ev := range stream.Events() {
		r, ok := ev.(*types.CodeInterpreterStreamOutputMemberResult)
		if !ok {
			t.Fatalf("unexpected event %T", ev)
		}
		res = &r.Value
	}
	return res, stream.Err()
}

func TestFakeCodeInterpSessionLifecycle(t *testing.T) {
	f := NewFakeCodeInterpreter(t)
	c := f.Client()
	ctx := context.Background()
	f.SetExecutor(func(call CodeCall) CodeReply {
		if call.Language != "python" || !strings.Contains(call.Code, "print") {
			return CodeReply{Stderr: "unexpected call " + call.Language, ExitCode: 2}
		}
		call.Files["out.txt"] = []byte("written by the program")
		return CodeReply{Stdout: "42\n"}
	})
	start, err := c.StartCodeInterpreterSession(ctx, &bedrockagentcore.StartCodeInterpreterSessionInput{
		CodeInterpreterIdentifier: aws.String(SystemCodeInterpreter), Name: aws.String("s1"), SessionTimeoutSeconds: aws.Int32(60)})
	if err != nil {
		t.Fatal(err)
	}
	sid := aws.ToString(start.SessionId)
	if sid == "" || start.CreatedAt == nil || time.Since(*start.CreatedAt) > time.Minute {
		t.Fatalf("start output: %+v", start)
	}
	res, err := invokeCI(t, c, sid, types.ToolNameWriteFiles, &types.ToolArguments{Content: []types.InputContentBlock{
		{Path: aws.String("data/tx.csv"), Text: aws.String("a,b\n1,2\n")}, {Path: aws.String("/bin.dat"), Blob: []byte{0, 0xff}}}})
	if err != nil || aws.ToBool(res.IsError) {
		t.Fatalf("writeFiles: %v %+v", err, res)
	}
	res, err = invokeCI(t, c, sid, types.ToolNameExecuteCode, &types.ToolArguments{Code: aws.String("print(6*7)"), Language: types.ProgrammingLanguagePython})
	if err != nil || aws.ToBool(res.IsError) || aws.ToString(res.StructuredContent.Stdout) != "42\n" || aws.ToInt32(res.StructuredContent.ExitCode) != 0 {
		t.Fatalf("executeCode: %v %+v", err, res)
	}
	res, err = invokeCI(t, c, sid, types.ToolNameReadFiles, &types.ToolArguments{Paths: []string{"data/tx.csv", "bin.dat", "out.txt"}})
	if err != nil || len(res.Content) != 3 {
		t.Fatalf("readFiles: %v %+v", err, res)
	}
	if r := res.Content[0].Resource; r == nil || aws.ToString(r.Uri) != "file:///data/tx.csv" || aws.ToString(r.Text) != "a,b\n1,2\n" {
		t.Fatalf("text resource: %+v", res.Content[0])
	}
	if r := res.Content[1].Resource; r == nil || string(r.Blob) != "\x00\xff" || r.Type != types.ResourceContentTypeBlob {
		t.Fatalf("blob resource: %+v", res.Content[1].Resource)
	}
	if aws.ToString(res.Content[2].Resource.Text) != "written by the program" {
		t.Fatalf("file written by the executor: %+v", res.Content[2].Resource)
	}
	res, err = invokeCI(t, c, sid, types.ToolNameListFiles, &types.ToolArguments{DirectoryPath: aws.String("data")})
	if err != nil || len(res.Content) != 1 || res.Content[0].Type != types.ContentBlockTypeResourceLink || aws.ToInt64(res.Content[0].Size) != 8 {
		t.Fatalf("listFiles: %v %+v", err, res)
	}
	res, err = invokeCI(t, c, sid, types.ToolNameReadFiles, &types.ToolArguments{Paths: []string{"missing"}})
	if err != nil || !aws.ToBool(res.IsError) {
		t.Fatalf("reading a missing file is an error result: %v %+v", err, res)
	}
	get, err := c.GetCodeInterpreterSession(ctx, &bedrockagentcore.GetCodeInterpreterSessionInput{CodeInterpreterIdentifier: aws.String(SystemCodeInterpreter), SessionId: aws.String(sid)})
	if err != nil || get.Status != types.CodeInterpreterSessionStatusReady {
		t.Fatalf("get: %v %+v", err, get)
	}
	stop, err := c.StopCodeInterpreterSession(ctx, &bedrockagentcore.StopCodeInterpreterSessionInput{CodeInterpreterIdentifier: aws.String(SystemCodeInterpreter), SessionId: aws.String(sid)})
	if err != nil || stop.LastUpdatedAt == nil {
		t.Fatalf("stop: %v %+v", err, stop)
	}
	_, err = invokeCI(t, c, sid, types.ToolNameExecuteCode, &types.ToolArguments{Code: aws.String("print(1)")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("invoke after stop: want ResourceNotFoundException, got %v", err)
	}
	if f.Calls("executeCode") != 2 || f.Calls("StopCodeInterpreterSession") != 1 {
		t.Fatalf("calls: execute %d stop %d", f.Calls("executeCode"), f.Calls("StopCodeInterpreterSession"))
	}
}

func TestFakeCodeInterpValidation(t *testing.T) {
	f := NewFakeCodeInterpreter(t)
	c := f.Client()
	ctx := context.Background()
	var ve *types.ValidationException
	_, err := c.StartCodeInterpreterSession(ctx, &bedrockagentcore.StartCodeInterpreterSessionInput{
		CodeInterpreterIdentifier: aws.String(SystemCodeInterpreter), SessionTimeoutSeconds: aws.Int32(28801)})
	if !errors.As(err, &ve) {
		t.Fatalf("timeout over 8h: %v", err)
	}
	var nf *types.ResourceNotFoundException
	if _, err := c.StartCodeInterpreterSession(ctx, &bedrockagentcore.StartCodeInterpreterSessionInput{CodeInterpreterIdentifier: aws.String("custom-1")}); !errors.As(err, &nf) {
		t.Fatalf("unknown interpreter: %v", err)
	}
	f.AddInterpreter("custom-1")
	start, err := c.StartCodeInterpreterSession(ctx, &bedrockagentcore.StartCodeInterpreterSessionInput{CodeInterpreterIdentifier: aws.String("custom-1")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.InvokeCodeInterpreter(ctx, &bedrockagentcore.InvokeCodeInterpreterInput{CodeInterpreterIdentifier: aws.String("custom-1"),
		SessionId: start.SessionId, Name: types.ToolNameExecuteCode, Arguments: &types.ToolArguments{Code: aws.String("x"), Language: "cobol"}})
	if !errors.As(err, &ve) {
		t.Fatalf("bad language: %v", err)
	}
	_, err = c.InvokeCodeInterpreter(ctx, &bedrockagentcore.InvokeCodeInterpreterInput{CodeInterpreterIdentifier: aws.String("custom-1"),
		SessionId: start.SessionId, Name: types.ToolNameExecuteCode, Arguments: &types.ToolArguments{}})
	if !errors.As(err, &ve) {
		t.Fatalf("missing code: %v", err)
	}
	res, err := invokeCIOn(c, "custom-1", aws.ToString(start.SessionId), &types.ToolArguments{Code: aws.String("print(1)")})
	if err != nil || !aws.ToBool(res.IsError) || !strings.Contains(aws.ToString(res.StructuredContent.Stderr), "SetExecutor") {
		t.Fatalf("no executor: %v %+v", err, res)
	}
}

func invokeCIOn(c *bedrockagentcore.Client, id, sid string, args *types.ToolArguments) (*types.CodeInterpreterResult, error) {
	out, err := c.InvokeCodeInterpreter(context.Background(), &bedrockagentcore.InvokeCodeInterpreterInput{
		CodeInterpreterIdentifier: aws.String(id), SessionId: aws.String(sid), Name: types.ToolNameExecuteCode, Arguments: args})
	if err != nil {
		return nil, err
	}
	stream := out.GetStream()
	defer stream.Close()
	var res *types.CodeInterpreterResult
	for ev := range stream.Events() {
		if r, ok := ev.(*types.CodeInterpreterStreamOutputMemberResult); ok {
			res = &r.Value
		}
	}
	return res, stream.Err()
}

func TestFakeCodeInterpFaultsAndTimeout(t *testing.T) {
	f := NewFakeCodeInterpreter(t)
	c := f.Client()
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.SetNow(func() time.Time { return now })
	start, err := c.StartCodeInterpreterSession(ctx, &bedrockagentcore.StartCodeInterpreterSessionInput{CodeInterpreterIdentifier: aws.String(SystemCodeInterpreter)})
	if err != nil {
		t.Fatal(err)
	}
	sid := aws.ToString(start.SessionId)
	f.FailNext(CodeInterpreterFault{Fault: Fault{Code: "ThrottlingException", Message: "slow down"}},
		CodeInterpreterFault{Fault: Fault{Code: "ServiceQuotaExceededException"}, InStream: true})
	var th *types.ThrottlingException
	if _, err := invokeCIOn(c, SystemCodeInterpreter, sid, &types.ToolArguments{Code: aws.String("1")}); !errors.As(err, &th) || !strings.Contains(err.Error(), "slow down") {
		t.Fatalf("HTTP fault: %v", err)
	}
	var q *types.ServiceQuotaExceededException
	if _, err := invokeCIOn(c, SystemCodeInterpreter, sid, &types.ToolArguments{Code: aws.String("1")}); !errors.As(err, &q) {
		t.Fatalf("in-stream fault: %v", err)
	}
	now = now.Add(901 * time.Second) // past the default 900 s timeout
	var nf *types.ResourceNotFoundException
	if _, err := invokeCIOn(c, SystemCodeInterpreter, sid, &types.ToolArguments{Code: aws.String("1")}); !errors.As(err, &nf) {
		t.Fatalf("expired session: %v", err)
	}
	if s := f.Sessions(); len(s) != 1 || s[0].Status != "TERMINATED" {
		t.Fatalf("sessions: %+v", s)
	}
}
