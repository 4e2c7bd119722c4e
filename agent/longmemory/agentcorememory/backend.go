package agentcorememory

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	"github.com/aws/smithy-go"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent/longmemory"
)

// API is the part of *bedrockagentcore.Client the backend calls.
type API interface {
	CreateEvent(ctx context.Context, in *bedrockagentcore.CreateEventInput, optFns ...func(*bedrockagentcore.Options)) (*bedrockagentcore.CreateEventOutput, error)
	ListEvents(ctx context.Context, in *bedrockagentcore.ListEventsInput, optFns ...func(*bedrockagentcore.Options)) (*bedrockagentcore.ListEventsOutput, error)
	ListSessions(ctx context.Context, in *bedrockagentcore.ListSessionsInput, optFns ...func(*bedrockagentcore.Options)) (*bedrockagentcore.ListSessionsOutput, error)
	DeleteEvent(ctx context.Context, in *bedrockagentcore.DeleteEventInput, optFns ...func(*bedrockagentcore.Options)) (*bedrockagentcore.DeleteEventOutput, error)
	BatchCreateMemoryRecords(ctx context.Context, in *bedrockagentcore.BatchCreateMemoryRecordsInput, optFns ...func(*bedrockagentcore.Options)) (*bedrockagentcore.BatchCreateMemoryRecordsOutput, error)
	BatchUpdateMemoryRecords(ctx context.Context, in *bedrockagentcore.BatchUpdateMemoryRecordsInput, optFns ...func(*bedrockagentcore.Options)) (*bedrockagentcore.BatchUpdateMemoryRecordsOutput, error)
	BatchDeleteMemoryRecords(ctx context.Context, in *bedrockagentcore.BatchDeleteMemoryRecordsInput, optFns ...func(*bedrockagentcore.Options)) (*bedrockagentcore.BatchDeleteMemoryRecordsOutput, error)
	GetMemoryRecord(ctx context.Context, in *bedrockagentcore.GetMemoryRecordInput, optFns ...func(*bedrockagentcore.Options)) (*bedrockagentcore.GetMemoryRecordOutput, error)
	ListMemoryRecords(ctx context.Context, in *bedrockagentcore.ListMemoryRecordsInput, optFns ...func(*bedrockagentcore.Options)) (*bedrockagentcore.ListMemoryRecordsOutput, error)
	RetrieveMemoryRecords(ctx context.Context, in *bedrockagentcore.RetrieveMemoryRecordsInput, optFns ...func(*bedrockagentcore.Options)) (*bedrockagentcore.RetrieveMemoryRecordsOutput, error)
}

var _ API = (*bedrockagentcore.Client)(nil)

// Options configures a Backend. The zero value gives the defaults.
type Options struct {
	// ServiceExtraction lets the memory's own strategies extract from the
	// events the backend creates too. By default events are created with
	// extractionMode SKIP: the Keeper extracts itself (AgentCore's
	// self-managed mode) and the memory only stores.
	ServiceExtraction bool
	// ScanPaths are the namespace paths DeleteActor searches for the
	// actor's records; default "/" (the whole memory). Narrow them to the
	// prefixes your strategies use when the memory is large.
	ScanPaths []string
	// MaxRecords bounds how many records one listing reads; default
	// 10,000.
	MaxRecords int
}

// Backend is a longmemory.Backend over one Amazon Bedrock AgentCore
// Memory: events through CreateEvent/ListEvents, records through
// BatchCreate/Update/DeleteMemoryRecords, RetrieveMemoryRecords (the
// service's semantic search) and ListMemoryRecords.
//
// AgentCore records carry no actor, so each record this backend writes
// holds the actor in its metadata ("actorId") as well as in its namespace,
// and every read, update and delete checks it: a record of another actor is
// "not found", whatever ID is given. Records the service's own strategies
// made (no actorId metadata) belong to the actor named as a whole segment of
// their namespace.
//
// Record metadata holds the topic, the creation and change times, the
// newest 5 source events (AgentCore allows 5 values per list) and the
// latest change (action, and the previous text cut to 256 characters):
// a record read back has at most that one entry of History.
//
// It is safe for concurrent use.
type Backend struct {
	api      API
	memoryID string
	o        Options
}

var _ longmemory.Backend = (*Backend)(nil)

// New returns a Backend over the memory memoryID, called through api
// (a *bedrockagentcore.Client).
func New(api API, memoryID string, opts Options) *Backend {
	if len(opts.ScanPaths) == 0 {
		opts.ScanPaths = []string{"/"}
	}
	opts.ScanPaths = slices.Clone(opts.ScanPaths)
	if opts.MaxRecords <= 0 {
		opts.MaxRecords = 10000
	}
	return &Backend{api: api, memoryID: memoryID, o: opts}
}

// Metadata keys of the records this backend writes.
const (
	mdActor    = "actorId"
	mdTopic    = "topic"
	mdCreated  = "created"
	mdUpdated  = "updated"
	mdExpires  = "expires"
	mdSources  = "sources"
	mdChange   = "lastChange"
	mdChangeAt = "lastChangeAt"
	mdPrevious = "previousText"
	mdReason   = "changeReason"
)

// apiError maps an SDK error onto bedrockkit's sentinels.
func apiError(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("agentcorememory: %s: %w", op, err)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return &bedrockkit.APIError{Op: op, Err: err, Kind: bedrockkit.ErrServiceUnavailable}
	}
	var kind error
	switch ae.ErrorCode() {
	case "ThrottledException", "ThrottlingException":
		kind = bedrockkit.ErrThrottled
	case "ValidationException", "InvalidInputException":
		kind = bedrockkit.ErrValidation
	case "AccessDeniedException", "UnauthorizedException":
		kind = bedrockkit.ErrAccessDenied
	case "ResourceNotFoundException":
		kind = bedrockkit.ErrNotFound
	case "ServiceQuotaExceededException":
		kind = bedrockkit.ErrQuotaExceeded
	case "ServiceUnavailableException", "RetryableConflictException":
		kind = bedrockkit.ErrServiceUnavailable
	case "ServiceException", "InternalServerException":
		kind = bedrockkit.ErrInternal
	}
	return &bedrockkit.APIError{Op: op, Code: ae.ErrorCode(), Message: ae.ErrorMessage(), Kind: kind, Attempts: 1, Err: err}
}

func isNotFound(err error) bool {
	var nf *types.ResourceNotFoundException
	return errors.As(err, &nf)
}

// owned reports whether a record the service returned is actor's.
func owned(md map[string]types.MemoryRecordMetadataValue, namespaces []string, actor string) bool {
	if v, ok := md[mdActor]; ok {
		s, ok := v.(*types.MemoryRecordMetadataValueMemberStringValue)
		return ok && s.Value == actor
	}
	for _, ns := range namespaces {
		if longmemory.ValidateNamespace(ns, actor) == nil {
			return true
		}
	}
	return false
}

func str(md map[string]types.MemoryRecordMetadataValue, k string) string {
	if s, ok := md[k].(*types.MemoryRecordMetadataValueMemberStringValue); ok {
		return s.Value
	}
	return ""
}

func tm(md map[string]types.MemoryRecordMetadataValue, k string) time.Time {
	if d, ok := md[k].(*types.MemoryRecordMetadataValueMemberDateTimeValue); ok {
		return d.Value.UTC()
	}
	return time.Time{}
}

// fromService turns a service record (or summary) into actor's record.
func fromService(actor, id string, content types.MemoryContent, strategy *string, namespaces []string, created, ts, expires *time.Time, md map[string]types.MemoryRecordMetadataValue) longmemory.MemoryRecord {
	r := longmemory.MemoryRecord{ID: id, Actor: actor, Strategy: aws.ToString(strategy), Topic: str(md, mdTopic)}
	if t, ok := content.(*types.MemoryContentMemberText); ok {
		r.Text = t.Value
	}
	if len(namespaces) > 0 {
		r.Namespace = namespaces[0]
	}
	r.Created, r.Updated, r.Expires = tm(md, mdCreated), tm(md, mdUpdated), tm(md, mdExpires)
	if r.Created.IsZero() && created != nil {
		r.Created = created.UTC()
	}
	if r.Updated.IsZero() && ts != nil {
		r.Updated = ts.UTC()
	}
	if r.Expires.IsZero() && expires != nil {
		r.Expires = expires.UTC()
	}
	if l, ok := md[mdSources].(*types.MemoryRecordMetadataValueMemberStringListValue); ok {
		for _, s := range l.Value {
			if sess, ev, ok := strings.Cut(s, "/"); ok {
				r.Sources = append(r.Sources, longmemory.EventRef{SessionID: sess, EventID: ev})
			}
		}
	}
	if a := str(md, mdChange); a != "" {
		c := longmemory.Change{At: tm(md, mdChangeAt), Action: longmemory.ChangeAction(a), Previous: str(md, mdPrevious), Reason: str(md, mdReason)}
		if n := len(r.Sources); n > 0 {
			c.Events = []longmemory.EventRef{r.Sources[n-1]}
		}
		r.History = []longmemory.Change{c}
	}
	return r
}

func clip(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// metadata encodes a record's provenance for the service.
func metadata(r longmemory.MemoryRecord) map[string]types.MemoryRecordMetadataValue {
	md := map[string]types.MemoryRecordMetadataValue{
		mdActor:   &types.MemoryRecordMetadataValueMemberStringValue{Value: r.Actor},
		mdCreated: &types.MemoryRecordMetadataValueMemberDateTimeValue{Value: r.Created},
		mdUpdated: &types.MemoryRecordMetadataValueMemberDateTimeValue{Value: r.Updated},
	}
	if r.Topic != "" {
		md[mdTopic] = &types.MemoryRecordMetadataValueMemberStringValue{Value: clip(r.Topic, 256)}
	}
	if !r.Expires.IsZero() {
		md[mdExpires] = &types.MemoryRecordMetadataValueMemberDateTimeValue{Value: r.Expires}
	}
	if len(r.Sources) > 0 {
		var l []string
		for _, s := range r.Sources[max(0, len(r.Sources)-5):] {
			l = append(l, clip(s.String(), 256))
		}
		md[mdSources] = &types.MemoryRecordMetadataValueMemberStringListValue{Value: l}
	}
	if n := len(r.History); n > 0 {
		c := r.History[n-1]
		md[mdChange] = &types.MemoryRecordMetadataValueMemberStringValue{Value: string(c.Action)}
		md[mdChangeAt] = &types.MemoryRecordMetadataValueMemberDateTimeValue{Value: c.At}
		if c.Previous != "" {
			md[mdPrevious] = &types.MemoryRecordMetadataValueMemberStringValue{Value: clip(c.Previous, 256)}
		}
		if c.Reason != "" {
			md[mdReason] = &types.MemoryRecordMetadataValueMemberStringValue{Value: clip(c.Reason, 256)}
		}
	}
	return md
}

// expiryDays is the service's whole-day expiry for a record (0 for none).
func expiryDays(r longmemory.MemoryRecord) int32 {
	if r.Expires.IsZero() {
		return 0
	}
	base := r.Updated
	if base.IsZero() {
		base = time.Now()
	}
	return int32(max(1, math.Ceil(r.Expires.Sub(base).Hours()/24)))
}

// check validates records for actor as the kb backend does, through a
// search-free path: the records must name actor and hold it in their
// namespace.
func check(actor string, recs []longmemory.MemoryRecord) error {
	if err := longmemory.ValidateActor(actor); err != nil {
		return err
	}
	for _, r := range recs {
		if r.Actor != actor {
			return fmt.Errorf("agentcorememory: record %q belongs to actor %q, not %q: %w", r.ID, r.Actor, actor, bedrockkit.ErrInvalidInput)
		}
		if err := longmemory.ValidateFilter(longmemory.RecordFilter{Namespace: r.Namespace}, actor); err != nil {
			return err
		}
		if strings.TrimSpace(r.Text) == "" || len([]rune(r.Text)) > 16000 {
			return fmt.Errorf("agentcorememory: record %q: text must be 1 to 16,000 characters: %w", r.ID, bedrockkit.ErrInvalidInput)
		}
		if r.Strategy == "" {
			return fmt.Errorf("agentcorememory: record %q has no strategy: %w", r.ID, bedrockkit.ErrInvalidInput)
		}
	}
	return nil
}

// CreateRecords implements longmemory.RecordStore with
// BatchCreateMemoryRecords (records grouped by expiry, 100 per call).
func (b *Backend) CreateRecords(ctx context.Context, actor string, records []longmemory.MemoryRecord) ([]longmemory.MemoryRecord, error) {
	if err := check(actor, records); err != nil {
		return nil, err
	}
	out := slices.Clone(records)
	groups := map[int32][]int{}
	var days []int32
	for i, r := range records {
		d := expiryDays(r)
		if _, ok := groups[d]; !ok {
			days = append(days, d)
		}
		groups[d] = append(groups[d], i)
	}
	for _, d := range days {
		idx := groups[d]
		for start := 0; start < len(idx); start += 100 {
			batch := idx[start:min(start+100, len(idx))]
			in := &bedrockagentcore.BatchCreateMemoryRecordsInput{MemoryId: aws.String(b.memoryID)}
			if d > 0 {
				in.RecordExpirySpecification = &types.RecordExpirySpecificationMemberRecordExpiryDurationDays{Value: d}
			}
			for _, i := range batch {
				r := records[i]
				ts := r.Updated
				if ts.IsZero() {
					ts = time.Now()
				}
				in.Records = append(in.Records, types.MemoryRecordCreateInput{RequestIdentifier: aws.String(fmt.Sprint("r", i)),
					Namespaces: []string{r.Namespace}, Content: &types.MemoryContentMemberText{Value: r.Text}, Timestamp: aws.Time(ts),
					MemoryStrategyId: aws.String(r.Strategy), Metadata: metadata(r)})
			}
			res, err := b.api.BatchCreateMemoryRecords(ctx, in)
			if err != nil {
				return nil, apiError("BatchCreateMemoryRecords", err)
			}
			byReq := map[string]string{}
			for _, s := range res.SuccessfulRecords {
				byReq[aws.ToString(s.RequestIdentifier)] = aws.ToString(s.MemoryRecordId)
			}
			for _, i := range batch {
				id := byReq[fmt.Sprint("r", i)]
				if id == "" {
					msg := "no result"
					for _, f := range res.FailedRecords {
						if aws.ToString(f.RequestIdentifier) == fmt.Sprint("r", i) {
							msg = aws.ToString(f.ErrorMessage)
						}
					}
					return nil, fmt.Errorf("agentcorememory: BatchCreateMemoryRecords did not create record %d: %s: %w", i, msg, bedrockkit.ErrInternal)
				}
				out[i].ID = id
			}
		}
	}
	return out, nil
}

// get reads one record and checks it is actor's.
func (b *Backend) get(ctx context.Context, actor, id string) (longmemory.MemoryRecord, error) {
	if id == "" || len(id) > 50 {
		return longmemory.MemoryRecord{}, fmt.Errorf("agentcorememory: %q: %w", clip(id, 60), longmemory.ErrRecordNotFound)
	}
	res, err := b.api.GetMemoryRecord(ctx, &bedrockagentcore.GetMemoryRecordInput{MemoryId: aws.String(b.memoryID), MemoryRecordId: aws.String(id)})
	if isNotFound(err) || err == nil && (res.MemoryRecord == nil || !owned(res.MemoryRecord.Metadata, res.MemoryRecord.Namespaces, actor)) {
		return longmemory.MemoryRecord{}, fmt.Errorf("agentcorememory: %q: %w", clip(id, 60), longmemory.ErrRecordNotFound)
	}
	var ve *types.ValidationException
	if errors.As(err, &ve) { // a malformed ID names no record
		return longmemory.MemoryRecord{}, fmt.Errorf("agentcorememory: %q: %w", clip(id, 60), longmemory.ErrRecordNotFound)
	}
	if err != nil {
		return longmemory.MemoryRecord{}, apiError("GetMemoryRecord", err)
	}
	m := res.MemoryRecord
	return fromService(actor, aws.ToString(m.MemoryRecordId), m.Content, m.MemoryStrategyId, m.Namespaces, m.CreatedAt, m.Timestamp, m.ExpiresAt, m.Metadata), nil
}

// GetRecord implements longmemory.RecordStore.
func (b *Backend) GetRecord(ctx context.Context, actor, id string) (longmemory.MemoryRecord, error) {
	if err := longmemory.ValidateActor(actor); err != nil {
		return longmemory.MemoryRecord{}, err
	}
	return b.get(ctx, actor, id)
}

// UpdateRecords implements longmemory.RecordStore: every record is first
// read back and must be actor's; then BatchUpdateMemoryRecords.
func (b *Backend) UpdateRecords(ctx context.Context, actor string, records []longmemory.MemoryRecord) error {
	if err := check(actor, records); err != nil {
		return err
	}
	for _, r := range records {
		if _, err := b.get(ctx, actor, r.ID); err != nil {
			return err
		}
	}
	groups := map[int32][]longmemory.MemoryRecord{}
	var days []int32
	for _, r := range records {
		d := expiryDays(r)
		if _, ok := groups[d]; !ok {
			days = append(days, d)
		}
		groups[d] = append(groups[d], r)
	}
	for _, d := range days {
		rs := groups[d]
		for start := 0; start < len(rs); start += 100 {
			in := &bedrockagentcore.BatchUpdateMemoryRecordsInput{MemoryId: aws.String(b.memoryID)}
			if d > 0 {
				in.RecordExpirySpecification = &types.RecordExpirySpecificationMemberRecordExpiryDurationDays{Value: d}
			} else {
				in.RecordExpirySpecification = &types.RecordExpirySpecificationMemberAction{Value: types.RecordExpiryActionRemove}
			}
			for _, r := range rs[start:min(start+100, len(rs))] {
				ts := r.Updated
				if ts.IsZero() {
					ts = time.Now()
				}
				in.Records = append(in.Records, types.MemoryRecordUpdateInput{MemoryRecordId: aws.String(r.ID), Timestamp: aws.Time(ts),
					Content: &types.MemoryContentMemberText{Value: r.Text}, Namespaces: []string{r.Namespace},
					MemoryStrategyId: aws.String(r.Strategy), Metadata: metadata(r)})
			}
			res, err := b.api.BatchUpdateMemoryRecords(ctx, in)
			if err != nil {
				return apiError("BatchUpdateMemoryRecords", err)
			}
			if len(res.FailedRecords) > 0 {
				f := res.FailedRecords[0]
				if aws.ToInt32(f.ErrorCode) == 404 {
					return fmt.Errorf("agentcorememory: %q: %w", aws.ToString(f.MemoryRecordId), longmemory.ErrRecordNotFound)
				}
				return fmt.Errorf("agentcorememory: BatchUpdateMemoryRecords failed for %q: %s: %w", aws.ToString(f.MemoryRecordId), aws.ToString(f.ErrorMessage), bedrockkit.ErrInternal)
			}
		}
	}
	return nil
}

// list reads every record of a namespace (or path) through
// ListMemoryRecords, keeping actor's, up to MaxRecords.
func (b *Backend) list(ctx context.Context, actor string, ns *string, path *string, strategy string) ([]longmemory.MemoryRecord, error) {
	in := &bedrockagentcore.ListMemoryRecordsInput{MemoryId: aws.String(b.memoryID), Namespace: ns, NamespacePath: path, MaxResults: aws.Int32(100)}
	if strategy != "" {
		in.MemoryStrategyId = aws.String(strategy)
	}
	var out []longmemory.MemoryRecord
	for read := 0; ; {
		res, err := b.api.ListMemoryRecords(ctx, in)
		if err != nil {
			return nil, apiError("ListMemoryRecords", err)
		}
		for _, s := range res.MemoryRecordSummaries {
			read++
			if owned(s.Metadata, s.Namespaces, actor) {
				out = append(out, fromService(actor, aws.ToString(s.MemoryRecordId), s.Content, s.MemoryStrategyId, s.Namespaces, s.CreatedAt, s.Timestamp, nil, s.Metadata))
			}
		}
		if res.NextToken == nil || len(res.MemoryRecordSummaries) == 0 {
			break
		}
		if read >= b.o.MaxRecords {
			return nil, fmt.Errorf("agentcorememory: more than %d records to list; raise Options.MaxRecords: %w", b.o.MaxRecords, bedrockkit.ErrQuotaExceeded)
		}
		in.NextToken = res.NextToken
	}
	return out, nil
}

// ListRecords implements longmemory.RecordStore, oldest first.
func (b *Backend) ListRecords(ctx context.Context, actor string, f longmemory.RecordFilter) ([]longmemory.MemoryRecord, error) {
	if err := longmemory.ValidateFilter(f, actor); err != nil {
		return nil, err
	}
	var ns, path *string
	if f.Prefix {
		path = aws.String(f.Namespace)
	} else {
		ns = aws.String(f.Namespace)
	}
	recs, err := b.list(ctx, actor, ns, path, f.Strategy)
	if err != nil {
		return nil, err
	}
	out := recs[:0]
	for i := range recs {
		if f.Matches(&recs[i]) {
			out = append(out, recs[i])
		}
	}
	slices.SortStableFunc(out, func(x, y longmemory.MemoryRecord) int {
		if c := x.Created.Compare(y.Created); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	return out, nil
}

// SearchRecords implements longmemory.RecordStore with
// RetrieveMemoryRecords (the service's relevance ranking and score).
func (b *Backend) SearchRecords(ctx context.Context, actor string, q longmemory.RecordQuery) ([]longmemory.MemoryRecord, error) {
	if err := longmemory.ValidateQuery(q, actor); err != nil {
		return nil, err
	}
	in := &bedrockagentcore.RetrieveMemoryRecordsInput{MemoryId: aws.String(b.memoryID), MaxResults: aws.Int32(int32(q.K)),
		SearchCriteria: &types.SearchCriteria{SearchQuery: aws.String(q.Text), TopK: aws.Int32(int32(q.K))}}
	if q.Prefix {
		in.NamespacePath = aws.String(q.Namespace)
	} else {
		in.Namespace = aws.String(q.Namespace)
	}
	if q.Strategy != "" {
		in.SearchCriteria.MemoryStrategyId = aws.String(q.Strategy)
	}
	res, err := b.api.RetrieveMemoryRecords(ctx, in)
	if err != nil {
		return nil, apiError("RetrieveMemoryRecords", err)
	}
	var out []longmemory.MemoryRecord
	for _, s := range res.MemoryRecordSummaries {
		if !owned(s.Metadata, s.Namespaces, actor) {
			continue
		}
		r := fromService(actor, aws.ToString(s.MemoryRecordId), s.Content, s.MemoryStrategyId, s.Namespaces, s.CreatedAt, s.Timestamp, nil, s.Metadata)
		if !q.Matches(&r) {
			continue
		}
		r.Score = aws.ToFloat64(s.Score)
		out = append(out, r)
		if len(out) == q.K {
			break
		}
	}
	return out, nil
}

// DeleteRecords implements longmemory.RecordStore: IDs that are not
// actor's records are skipped.
func (b *Backend) DeleteRecords(ctx context.Context, actor string, ids []string) (int, error) {
	if err := longmemory.ValidateActor(actor); err != nil {
		return 0, err
	}
	var mine []string
	for _, id := range ids {
		if _, err := b.get(ctx, actor, id); err == nil {
			mine = append(mine, id)
		} else if !errors.Is(err, longmemory.ErrRecordNotFound) {
			return 0, err
		}
	}
	return b.deleteIDs(ctx, mine)
}

func (b *Backend) deleteIDs(ctx context.Context, ids []string) (int, error) {
	n := 0
	for start := 0; start < len(ids); start += 100 {
		in := &bedrockagentcore.BatchDeleteMemoryRecordsInput{MemoryId: aws.String(b.memoryID)}
		for _, id := range ids[start:min(start+100, len(ids))] {
			in.Records = append(in.Records, types.MemoryRecordDeleteInput{MemoryRecordId: aws.String(id)})
		}
		res, err := b.api.BatchDeleteMemoryRecords(ctx, in)
		if err != nil {
			return n, apiError("BatchDeleteMemoryRecords", err)
		}
		n += len(res.SuccessfulRecords)
		for _, f := range res.FailedRecords {
			if aws.ToInt32(f.ErrorCode) != 404 {
				return n, fmt.Errorf("agentcorememory: BatchDeleteMemoryRecords failed for %q: %s: %w", aws.ToString(f.MemoryRecordId), aws.ToString(f.ErrorMessage), bedrockkit.ErrInternal)
			}
		}
	}
	return n, nil
}

// sessionRe is AgentCore Memory's sessionId pattern.
var sessionRe = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]{0,99}$`)

var roles = map[string]types.Role{longmemory.RoleUser: types.RoleUser, longmemory.RoleAssistant: types.RoleAssistant,
	longmemory.RoleTool: types.RoleTool, longmemory.RoleOther: types.RoleOther}

// AppendEvent implements longmemory.EventLog with CreateEvent.
func (b *Backend) AppendEvent(ctx context.Context, actor string, ev longmemory.ConversationEvent) (longmemory.EventRef, error) {
	if err := longmemory.ValidateActor(actor); err != nil {
		return longmemory.EventRef{}, err
	}
	in := &bedrockagentcore.CreateEventInput{MemoryId: aws.String(b.memoryID), ActorId: aws.String(actor), SessionId: aws.String(ev.SessionID),
		EventTimestamp: aws.Time(ev.At)}
	if !b.o.ServiceExtraction {
		in.ExtractionMode = types.ExtractionModeSkip
	}
	if ev.SessionID == "" || ev.At.IsZero() || len(ev.Messages) == 0 || len(ev.Messages) > 100 {
		return longmemory.EventRef{}, fmt.Errorf("agentcorememory: an event needs a session, a time and 1 to 100 messages: %w", bedrockkit.ErrInvalidInput)
	}
	for i, m := range ev.Messages {
		role, ok := roles[m.Role]
		if !ok || m.Text == "" {
			return longmemory.EventRef{}, fmt.Errorf("agentcorememory: event message %d has role %q or no text; use USER, ASSISTANT, TOOL or OTHER: %w", i, m.Role, bedrockkit.ErrInvalidInput)
		}
		in.Payload = append(in.Payload, &types.PayloadTypeMemberConversational{Value: types.Conversational{Content: &types.ContentMemberText{Value: m.Text}, Role: role}})
	}
	if !sessionRe.MatchString(ev.SessionID) {
		return longmemory.EventRef{}, fmt.Errorf("agentcorememory: session ID %q is not valid (1-100 letters, digits, '-', '_'): %w", clip(ev.SessionID, 100), bedrockkit.ErrInvalidInput)
	}
	res, err := b.api.CreateEvent(ctx, in)
	if err != nil {
		return longmemory.EventRef{}, apiError("CreateEvent", err)
	}
	if res.Event == nil || aws.ToString(res.Event.EventId) == "" {
		return longmemory.EventRef{}, fmt.Errorf("agentcorememory: CreateEvent returned no event ID: %w", bedrockkit.ErrInternal)
	}
	return longmemory.EventRef{SessionID: ev.SessionID, EventID: aws.ToString(res.Event.EventId)}, nil
}

// ListEvents implements longmemory.EventLog with ListEvents.
func (b *Backend) ListEvents(ctx context.Context, actor, sessionID string) ([]longmemory.ConversationEvent, error) {
	if err := longmemory.ValidateActor(actor); err != nil {
		return nil, err
	}
	evs, err := b.events(ctx, actor, sessionID, true)
	if err != nil {
		return nil, err
	}
	out := make([]longmemory.ConversationEvent, 0, len(evs))
	for _, e := range evs {
		ce := longmemory.ConversationEvent{Ref: longmemory.EventRef{SessionID: sessionID, EventID: aws.ToString(e.EventId)}, SessionID: sessionID, At: aws.ToTime(e.EventTimestamp).UTC()}
		for _, p := range e.Payload {
			if c, ok := p.(*types.PayloadTypeMemberConversational); ok {
				if t, ok := c.Value.Content.(*types.ContentMemberText); ok {
					ce.Messages = append(ce.Messages, longmemory.EventMessage{Role: string(c.Value.Role), Text: t.Value})
				}
			}
		}
		out = append(out, ce)
	}
	slices.SortStableFunc(out, func(x, y longmemory.ConversationEvent) int { return x.At.Compare(y.At) })
	return out, nil
}

func (b *Backend) events(ctx context.Context, actor, sessionID string, payloads bool) ([]types.Event, error) {
	if !sessionRe.MatchString(sessionID) {
		return nil, fmt.Errorf("agentcorememory: session ID %q is not valid (1-100 letters, digits, '-', '_'): %w", clip(sessionID, 100), bedrockkit.ErrInvalidInput)
	}
	in := &bedrockagentcore.ListEventsInput{MemoryId: aws.String(b.memoryID), ActorId: aws.String(actor), SessionId: aws.String(sessionID),
		IncludePayloads: aws.Bool(payloads), MaxResults: aws.Int32(100)}
	var out []types.Event
	for {
		res, err := b.api.ListEvents(ctx, in)
		if isNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, apiError("ListEvents", err)
		}
		for _, e := range res.Events {
			if aws.ToString(e.ActorId) == actor || e.ActorId == nil {
				out = append(out, e)
			}
		}
		if res.NextToken == nil || len(res.Events) == 0 {
			return out, nil
		}
		in.NextToken = res.NextToken
	}
}

// DeleteActor implements longmemory.Backend: every event of every session
// of actor (ListSessions, ListEvents, DeleteEvent) and every record of
// actor under Options.ScanPaths (ListMemoryRecords, BatchDeleteMemoryRecords),
// then a second pass that must find nothing.
func (b *Backend) DeleteActor(ctx context.Context, actor string) (longmemory.Erasure, error) {
	if err := longmemory.ValidateActor(actor); err != nil {
		return longmemory.Erasure{}, err
	}
	var e longmemory.Erasure
	for pass := 0; pass < 2; pass++ {
		events, records := 0, 0
		sessions, err := b.sessions(ctx, actor)
		if err != nil {
			return e, err
		}
		for _, s := range sessions {
			evs, err := b.events(ctx, actor, s, false)
			if err != nil {
				return e, err
			}
			for _, ev := range evs {
				_, err := b.api.DeleteEvent(ctx, &bedrockagentcore.DeleteEventInput{MemoryId: aws.String(b.memoryID), ActorId: aws.String(actor),
					SessionId: aws.String(s), EventId: ev.EventId})
				if err != nil && !isNotFound(err) {
					return e, apiError("DeleteEvent", err)
				}
				events++
			}
		}
		seen := map[string]bool{}
		var ids []string
		for _, p := range b.o.ScanPaths {
			recs, err := b.list(ctx, actor, nil, aws.String(p), "")
			if err != nil {
				return e, err
			}
			for _, r := range recs {
				if !seen[r.ID] {
					seen[r.ID] = true
					ids = append(ids, r.ID)
				}
			}
		}
		n, err := b.deleteIDs(ctx, ids)
		if err != nil {
			return e, err
		}
		records = n
		if pass == 0 {
			e.Events, e.Records = events, records
		} else if events > 0 || records > 0 {
			return e, fmt.Errorf("agentcorememory: %d events and %d records of actor %q were still there after deleting them; retry DeleteActor: %w", events, records, actor, bedrockkit.ErrInternal)
		}
	}
	e.Residue = "AgentCore Memory: deleted events and records are gone from every API; how long the service keeps copies (backups, logs) is not documented"
	return e, nil
}

func (b *Backend) sessions(ctx context.Context, actor string) ([]string, error) {
	in := &bedrockagentcore.ListSessionsInput{MemoryId: aws.String(b.memoryID), ActorId: aws.String(actor), MaxResults: aws.Int32(100)}
	var out []string
	for {
		res, err := b.api.ListSessions(ctx, in)
		if isNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, apiError("ListSessions", err)
		}
		for _, s := range res.SessionSummaries {
			out = append(out, aws.ToString(s.SessionId))
		}
		if res.NextToken == nil || len(res.SessionSummaries) == 0 {
			return out, nil
		}
		in.NextToken = res.NextToken
	}
}
