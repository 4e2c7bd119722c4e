package bedrockkittest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"

	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

func conversational(role types.Role, text string) types.PayloadType {
	return &types.PayloadTypeMemberConversational{Value: types.Conversational{Content: &types.ContentMemberText{Value: text}, Role: role}}
}

func TestFakeMemoryEventsThroughTheSDK(t *testing.T) {
	f := bedrockkittest.NewFakeMemory(t)
	mem := f.AddMemory("support")
	c := f.Client()
	ctx := context.Background()
	at := time.Date(2026, 5, 1, 10, 0, 0, 123e6, time.UTC)
	var ids []string
	for i := range 3 {
		out, err := c.CreateEvent(ctx, &bedrockagentcore.CreateEventInput{MemoryId: aws.String(mem), ActorId: aws.String("customer-1"),
			SessionId: aws.String("s1"), EventTimestamp: aws.Time(at.Add(time.Duration(i) * time.Minute)),
			Payload:  []types.PayloadType{conversational(types.RoleUser, fmt.Sprint("hello ", i)), conversational(types.RoleAssistant, "hi")},
			Metadata: map[string]types.MetadataValue{"channel": &types.MetadataValueMemberStringValue{Value: "web"}}})
		if err != nil {
			t.Fatal(err)
		}
		ev := out.Event
		if aws.ToString(ev.ActorId) != "customer-1" || aws.ToString(ev.SessionId) != "s1" || !ev.EventTimestamp.Equal(at.Add(time.Duration(i)*time.Minute)) || len(ev.Payload) != 2 {
			t.Fatalf("event %+v", ev)
		}
		ids = append(ids, aws.ToString(ev.EventId))
	}
	if _, err := c.CreateEvent(ctx, &bedrockagentcore.CreateEventInput{MemoryId: aws.String(mem), ActorId: aws.String("customer-2"),
		SessionId: aws.String("s9"), EventTimestamp: aws.Time(at), Payload: []types.PayloadType{conversational(types.RoleUser, "other")}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetEvent(ctx, &bedrockagentcore.GetEventInput{MemoryId: aws.String(mem), ActorId: aws.String("customer-1"), SessionId: aws.String("s1"), EventId: aws.String(ids[1])})
	if err != nil {
		t.Fatal(err)
	}
	conv := got.Event.Payload[0].(*types.PayloadTypeMemberConversational).Value
	if conv.Content.(*types.ContentMemberText).Value != "hello 1" || conv.Role != types.RoleUser {
		t.Fatalf("payload %+v", conv)
	}
	if v := got.Event.Metadata["channel"].(*types.MetadataValueMemberStringValue).Value; v != "web" {
		t.Fatalf("metadata %q", v)
	}
	// Another actor cannot read the event by its ID.
	_, err = c.GetEvent(ctx, &bedrockagentcore.GetEventInput{MemoryId: aws.String(mem), ActorId: aws.String("customer-2"), SessionId: aws.String("s1"), EventId: aws.String(ids[1])})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("cross-actor GetEvent: %v", err)
	}
	// Paging.
	var listed []string
	var token *string
	for {
		out, err := c.ListEvents(ctx, &bedrockagentcore.ListEventsInput{MemoryId: aws.String(mem), ActorId: aws.String("customer-1"), SessionId: aws.String("s1"),
			IncludePayloads: aws.Bool(true), MaxResults: aws.Int32(2), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range out.Events {
			listed = append(listed, aws.ToString(e.EventId))
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	if strings.Join(listed, ",") != strings.Join(ids, ",") {
		t.Fatalf("listed %v want %v", listed, ids)
	}
	sessions, err := c.ListSessions(ctx, &bedrockagentcore.ListSessionsInput{MemoryId: aws.String(mem), ActorId: aws.String("customer-1")})
	if err != nil || len(sessions.SessionSummaries) != 1 || aws.ToString(sessions.SessionSummaries[0].SessionId) != "s1" {
		t.Fatalf("sessions %+v %v", sessions, err)
	}
	actors, err := c.ListActors(ctx, &bedrockagentcore.ListActorsInput{MemoryId: aws.String(mem)})
	if err != nil || len(actors.ActorSummaries) != 2 {
		t.Fatalf("actors %+v %v", actors, err)
	}
	if _, err := c.DeleteEvent(ctx, &bedrockagentcore.DeleteEventInput{MemoryId: aws.String(mem), ActorId: aws.String("customer-1"), SessionId: aws.String("s1"), EventId: aws.String(ids[0])}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.Events(mem)); n != 3 {
		t.Fatalf("%d events after delete", n)
	}
}

func TestFakeMemoryRecordsThroughTheSDK(t *testing.T) {
	f := bedrockkittest.NewFakeMemory(t)
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	f.SetNow(func() time.Time { return now })
	mem := f.AddMemory("support")
	c := f.Client()
	ctx := context.Background()
	texts := []string{"The user lives in Porto.", "The user prefers replies in French.", "The user has a dog named Rex."}
	var recs []types.MemoryRecordCreateInput
	for i, tx := range texts {
		recs = append(recs, types.MemoryRecordCreateInput{RequestIdentifier: aws.String(fmt.Sprint("r", i)), Namespaces: []string{"/facts/customer-1"},
			Content: &types.MemoryContentMemberText{Value: tx}, Timestamp: aws.Time(now), MemoryStrategyId: aws.String("facts"),
			Metadata: map[string]types.MemoryRecordMetadataValue{"actorId": &types.MemoryRecordMetadataValueMemberStringValue{Value: "customer-1"},
				"sources": &types.MemoryRecordMetadataValueMemberStringListValue{Value: []string{"s1/1#ab"}}}})
	}
	out, err := c.BatchCreateMemoryRecords(ctx, &bedrockagentcore.BatchCreateMemoryRecordsInput{MemoryId: aws.String(mem), Records: recs,
		RecordExpirySpecification: &types.RecordExpirySpecificationMemberRecordExpiryDurationDays{Value: 30}})
	if err != nil || len(out.SuccessfulRecords) != 3 || len(out.FailedRecords) != 0 {
		t.Fatalf("batch create %+v %v", out, err)
	}
	porto := aws.ToString(out.SuccessfulRecords[0].MemoryRecordId)
	if !strings.HasPrefix(porto, "mem-") || aws.ToString(out.SuccessfulRecords[0].RequestIdentifier) != "r0" {
		t.Fatalf("record output %+v", out.SuccessfulRecords[0])
	}
	// Retrieval ranks by relevance.
	ret, err := c.RetrieveMemoryRecords(ctx, &bedrockagentcore.RetrieveMemoryRecordsInput{MemoryId: aws.String(mem), Namespace: aws.String("/facts/customer-1"),
		SearchCriteria: &types.SearchCriteria{SearchQuery: aws.String("which city the user lives in"), TopK: aws.Int32(2)}})
	if err != nil || len(ret.MemoryRecordSummaries) != 2 || aws.ToString(ret.MemoryRecordSummaries[0].MemoryRecordId) != porto ||
		aws.ToFloat64(ret.MemoryRecordSummaries[0].Score) < aws.ToFloat64(ret.MemoryRecordSummaries[1].Score) {
		t.Fatalf("retrieve %+v %v", ret, err)
	}
	// Another namespace sees nothing; a path prefix sees all.
	ret, err = c.RetrieveMemoryRecords(ctx, &bedrockagentcore.RetrieveMemoryRecordsInput{MemoryId: aws.String(mem), Namespace: aws.String("/facts/customer-2"),
		SearchCriteria: &types.SearchCriteria{SearchQuery: aws.String("live")}})
	if err != nil || len(ret.MemoryRecordSummaries) != 0 {
		t.Fatalf("other namespace %+v %v", ret, err)
	}
	list, err := c.ListMemoryRecords(ctx, &bedrockagentcore.ListMemoryRecordsInput{MemoryId: aws.String(mem), NamespacePath: aws.String("/facts/"),
		MetadataFilters: []types.MemoryMetadataFilterExpression{{Left: &types.MemoryRecordLeftExpressionMemberMetadataKey{Value: "actorId"},
			Operator: types.MemoryRecordOperatorTypeEqualsTo, Right: &types.MemoryRecordRightExpressionMemberMetadataValue{Value: &types.MemoryRecordMetadataValueMemberStringValue{Value: "customer-1"}}}}})
	if err != nil || len(list.MemoryRecordSummaries) != 3 {
		t.Fatalf("list %+v %v", list, err)
	}
	// Update, get, expiry.
	if _, err := c.BatchUpdateMemoryRecords(ctx, &bedrockagentcore.BatchUpdateMemoryRecordsInput{MemoryId: aws.String(mem),
		Records: []types.MemoryRecordUpdateInput{{MemoryRecordId: aws.String(porto), Timestamp: aws.Time(now), Content: &types.MemoryContentMemberText{Value: "The user lives in Braga."}}}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetMemoryRecord(ctx, &bedrockagentcore.GetMemoryRecordInput{MemoryId: aws.String(mem), MemoryRecordId: aws.String(porto)})
	if err != nil {
		t.Fatal(err)
	}
	r := got.MemoryRecord
	if r.Content.(*types.MemoryContentMemberText).Value != "The user lives in Braga." || !r.ExpiresAt.Equal(now.Add(30*24*time.Hour)) ||
		r.Metadata["sources"].(*types.MemoryRecordMetadataValueMemberStringListValue).Value[0] != "s1/1#ab" {
		t.Fatalf("record %+v", r)
	}
	now = now.Add(31 * 24 * time.Hour)
	_, err = c.GetMemoryRecord(ctx, &bedrockagentcore.GetMemoryRecordInput{MemoryId: aws.String(mem), MemoryRecordId: aws.String(porto)})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("expired record: %v", err)
	}
	// Delete.
	del, err := c.BatchDeleteMemoryRecords(ctx, &bedrockagentcore.BatchDeleteMemoryRecordsInput{MemoryId: aws.String(mem),
		Records: []types.MemoryRecordDeleteInput{{MemoryRecordId: aws.String(porto)}, {MemoryRecordId: aws.String("mem-000000000000000000000000000000000000")}}})
	if err != nil || len(del.SuccessfulRecords) != 1 || len(del.FailedRecords) != 1 {
		t.Fatalf("batch delete %+v %v", del, err)
	}
	if n := len(f.Records(mem)); n != 2 {
		t.Fatalf("%d records left", n)
	}
}

func TestFakeMemoryRefusesWhatTheServiceRefuses(t *testing.T) {
	f := bedrockkittest.NewFakeMemory(t)
	mem := f.AddMemory("m")
	c := f.Client()
	ctx := context.Background()
	now := aws.Time(time.Now())
	long := strings.Repeat("x", 16001)
	cases := map[string]func() error{
		"bad actor": func() error {
			_, err := c.CreateEvent(ctx, &bedrockagentcore.CreateEventInput{MemoryId: aws.String(mem), ActorId: aws.String("-bad"), EventTimestamp: now,
				Payload: []types.PayloadType{conversational(types.RoleUser, "x")}})
			return err
		},
		"empty text": func() error {
			_, err := c.CreateEvent(ctx, &bedrockagentcore.CreateEventInput{MemoryId: aws.String(mem), ActorId: aws.String("a"), EventTimestamp: now,
				Payload: []types.PayloadType{conversational(types.RoleUser, "")}})
			return err
		},
		"record too long": func() error {
			_, err := c.BatchCreateMemoryRecords(ctx, &bedrockagentcore.BatchCreateMemoryRecordsInput{MemoryId: aws.String(mem), Records: []types.MemoryRecordCreateInput{{
				RequestIdentifier: aws.String("r"), Namespaces: []string{"/x"}, Content: &types.MemoryContentMemberText{Value: long}, Timestamp: now}}})
			return err
		},
		"two namespaces": func() error {
			_, err := c.BatchCreateMemoryRecords(ctx, &bedrockagentcore.BatchCreateMemoryRecordsInput{MemoryId: aws.String(mem), Records: []types.MemoryRecordCreateInput{{
				RequestIdentifier: aws.String("r"), Namespaces: []string{"/x", "/y"}, Content: &types.MemoryContentMemberText{Value: "t"}, Timestamp: now}}})
			return err
		},
		"topK": func() error {
			_, err := c.RetrieveMemoryRecords(ctx, &bedrockagentcore.RetrieveMemoryRecordsInput{MemoryId: aws.String(mem), Namespace: aws.String("/x"),
				SearchCriteria: &types.SearchCriteria{SearchQuery: aws.String("q"), TopK: aws.Int32(101)}})
			return err
		},
		"stringList of 6": func() error {
			_, err := c.BatchCreateMemoryRecords(ctx, &bedrockagentcore.BatchCreateMemoryRecordsInput{MemoryId: aws.String(mem), Records: []types.MemoryRecordCreateInput{{
				RequestIdentifier: aws.String("r"), Namespaces: []string{"/x"}, Content: &types.MemoryContentMemberText{Value: "t"}, Timestamp: now,
				Metadata: map[string]types.MemoryRecordMetadataValue{"k": &types.MemoryRecordMetadataValueMemberStringListValue{Value: []string{"1", "2", "3", "4", "5", "6"}}}}}})
			return err
		},
	}
	for name, call := range cases {
		var ve *types.ValidationException
		if err := call(); !errors.As(err, &ve) {
			t.Errorf("%s: %v; want a ValidationException", name, err)
		}
	}
	_, err := c.ListActors(ctx, &bedrockagentcore.ListActorsInput{MemoryId: aws.String("nope-0000000000")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("unknown memory: %v", err)
	}
	f.FailNext("RetrieveMemoryRecords", bedrockkittest.Fault{Code: "ThrottledException"})
	_, err = c.RetrieveMemoryRecords(ctx, &bedrockagentcore.RetrieveMemoryRecordsInput{MemoryId: aws.String(mem), Namespace: aws.String("/x"),
		SearchCriteria: &types.SearchCriteria{SearchQuery: aws.String("q")}})
	var th *types.ThrottledException
	if !errors.As(err, &th) {
		t.Errorf("scripted throttle: %v", err)
	}
	if n := f.Calls("RetrieveMemoryRecords"); n != 2 {
		t.Errorf("calls = %d", n)
	}
}

func TestFakeMemoryExtractor(t *testing.T) {
	f := bedrockkittest.NewFakeMemory(t)
	mem := f.AddMemory("m")
	f.SetExtractor(func(ev bedrockkittest.MemoryEvent) []bedrockkittest.MemoryRecordData {
		return []bedrockkittest.MemoryRecordData{{Text: "extracted from " + ev.EventID, StrategyID: "semantic", Namespaces: []string{"/facts/" + ev.ActorID}}}
	})
	c := f.Client()
	ctx := context.Background()
	for _, mode := range []types.ExtractionMode{"", types.ExtractionModeSkip} {
		if _, err := c.CreateEvent(ctx, &bedrockagentcore.CreateEventInput{MemoryId: aws.String(mem), ActorId: aws.String("a"), SessionId: aws.String("s"),
			EventTimestamp: aws.Time(time.Now()), Payload: []types.PayloadType{conversational(types.RoleUser, "hi")}, ExtractionMode: mode}); err != nil {
			t.Fatal(err)
		}
	}
	recs := f.Records(mem)
	if len(recs) != 1 || recs[0].Namespaces[0] != "/facts/a" || !strings.HasPrefix(recs[0].ID, "mem-") {
		t.Fatalf("records %+v; want one, from the event not marked SKIP", recs)
	}
}

// FuzzFakeMemoryRequest sends arbitrary bodies to every operation: the fake
// answers each with a success or a 4xx error, never a crash or a 5xx.
func FuzzFakeMemoryRequest(f *testing.F) {
	srv := bedrockkittest.StartFakeMemory()
	defer srv.Close()
	mem := srv.AddMemory("fz")
	for _, s := range []string{`{}`, `{"actorId":"a","eventTimestamp":1,"payload":[{"conversational":{"content":{"text":"x"},"role":"USER"}}]}`,
		`{"records":[{"requestIdentifier":"r","namespaces":["/x"],"content":{"text":"t"},"timestamp":1.5,"metadata":{"k":{"stringValue":"v"}}}]}`,
		`{"namespace":"/x","searchCriteria":{"searchQuery":"q","metadataFilters":[{"left":{"metadataKey":"k"},"operator":"EQUALS_TO","right":{"metadataValue":{"numberValue":1}}}]}}`,
		`{"records":[{"memoryRecordId":"mem-0123456789ab","timestamp":"2026-01-01T00:00:00Z"}],"recordExpirySpecification":{"action":"REMOVE"}}`,
		`{"nextToken":"-1"}`, `[]`, `{"records":null}`, "\x00"} {
		for op := range 6 {
			f.Add(uint8(op), []byte(s))
		}
	}
	paths := []string{"/events", "/retrieve", "/memoryRecords", "/memoryRecords/batchCreate", "/memoryRecords/batchUpdate", "/memoryRecords/batchDelete",
		"/actor/a/sessions", "/actor/a/sessions/s", "/actors"}
	client := &http.Client{Timeout: 10 * time.Second}
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		url := srv.URL() + "/memories/" + mem + paths[int(op)%len(paths)]
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode >= 500 {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("%s answered %d: %s", url, resp.StatusCode, b)
		}
	})
}
