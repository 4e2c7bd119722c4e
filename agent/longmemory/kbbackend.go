package longmemory

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// KBOptions configures a KBBackend. The zero value gives the defaults.
type KBOptions struct {
	// PartitionPrefix is put before the actor ID to name the actor's
	// kb partition (tenant); default "longmemory:". Each actor's records
	// and events live in their own partition, so with pgvector's
	// RowLevelSecurity the database itself keeps actors apart.
	PartitionPrefix string
	// MaxRecordsPerActor bounds how many records one actor may have;
	// default 10,000. CreateRecords beyond it fails with ErrActorFull.
	MaxRecordsPerActor int
}

// KBBackend is a Backend over any kbstore.Store: records are embedded and
// stored as chunks, events as vector-less chunks, all in the actor's own
// partition. Search fuses vector similarity with keyword relevance (the
// store's own full-text search when it is a kbstore.KeywordSearcher, else BM25
// over the namespace's records) by reciprocal rank.
//
// DeleteActor removes every document of the actor's partition and then
// checks that none is left. What remains on disk depends on the store: a
// store with a Compact() error method (kb/chromem) is compacted, so the
// removed data is gone from its files; kb/localindex keeps it in its log
// and the older of its two snapshots until two more snapshots have been
// written (it writes one when its log outgrows SnapshotBytes or half its
// newest snapshot, and on a Close after writes), and has no call to force
// that; PostgreSQL (kb/pgvector) keeps dead rows until VACUUM and in its
// WAL and backups. Erasure.Residue says so.
type KBBackend struct {
	store kbstore.Store
	emb   bedrockkit.Embedder
	o     KBOptions
	// create serialises record creation per actor, so the record limit holds.
	mu      sync.Mutex
	creates map[string]*sync.Mutex
}

var _ Backend = (*KBBackend)(nil)

// NewKBBackend returns a Backend that keeps memory in store, embedding
// record texts with emb (the store's dimensions must match).
func NewKBBackend(store kbstore.Store, emb bedrockkit.Embedder, opts KBOptions) *KBBackend {
	if opts.PartitionPrefix == "" {
		opts.PartitionPrefix = "longmemory:"
	}
	if opts.MaxRecordsPerActor <= 0 {
		opts.MaxRecordsPerActor = 10000
	}
	return &KBBackend{store: store, emb: emb, o: opts, creates: map[string]*sync.Mutex{}}
}

// Metadata keys of the chunks a KBBackend writes.
const (
	mdKind      = "lm_kind" // "record" or "event"
	mdNamespace = "lm_namespace"
	mdStrategy  = "lm_strategy"
	mdSession   = "lm_session"
	mdData      = "lm_data" // the JSON of the record or event
	kindRecord  = "record"
	kindEvent   = "event"
	eventDocPfx = "event:"
)

func (b *KBBackend) partition(actor string) string { return b.o.PartitionPrefix + actor }

func (b *KBBackend) embed(ctx context.Context, texts []string, p bedrockkit.Purpose) ([][]float32, error) {
	if b.emb == nil {
		return nil, fmt.Errorf("longmemory: KBBackend has no Embedder: %w", bedrockkit.ErrInvalidInput)
	}
	vecs, err := b.emb.Embed(ctx, texts, p)
	if err != nil {
		return nil, fmt.Errorf("longmemory: embed: %w", err)
	}
	if len(vecs) != len(texts) {
		return nil, fmt.Errorf("longmemory: the embedder returned %d vectors for %d texts: %w", len(vecs), len(texts), bedrockkit.ErrInternal)
	}
	return vecs, nil
}

func (b *KBBackend) chunk(r MemoryRecord, vec []float32) (kbstore.Record, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return kbstore.Record{}, err
	}
	return kbstore.Record{ID: r.ID, DocumentID: r.ID, Partition: b.partition(r.Actor), Text: r.Text, Vector: vec,
		Metadata: map[string]any{mdKind: kindRecord, mdNamespace: r.Namespace, mdStrategy: r.Strategy, mdData: string(data)}}, nil
}

// decode turns a stored chunk back into actor's record; chunks that are
// not actor's records are refused.
func decodeRecord(c kbstore.Record, actor string) (MemoryRecord, bool) {
	if c.Metadata[mdKind] != kindRecord {
		return MemoryRecord{}, false
	}
	data, _ := c.Metadata[mdData].(string)
	var r MemoryRecord
	if json.Unmarshal([]byte(data), &r) != nil || r.Actor != actor || r.ID != c.ID {
		return MemoryRecord{}, false
	}
	return r, true
}

func (b *KBBackend) lockCreates(actor string) func() {
	b.mu.Lock()
	m := b.creates[actor]
	if m == nil {
		m = &sync.Mutex{}
		b.creates[actor] = m
	}
	b.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// CreateRecords implements RecordStore.
func (b *KBBackend) CreateRecords(ctx context.Context, actor string, records []MemoryRecord) ([]MemoryRecord, error) {
	if err := ValidateActor(actor); err != nil {
		return nil, err
	}
	if len(records) == 0 {
		return nil, nil
	}
	out := make([]MemoryRecord, len(records))
	texts := make([]string, len(records))
	for i, r := range records {
		r.ID = NewRecordID()
		if err := validateRecord(&r, actor); err != nil {
			return nil, err
		}
		out[i], texts[i] = r, r.Text
	}
	defer b.lockCreates(actor)()
	docs, err := b.store.Documents(ctx, b.partition(actor))
	if err != nil {
		return nil, fmt.Errorf("longmemory: count records: %w", err)
	}
	n := 0
	for _, d := range docs {
		if strings.HasPrefix(d.ID, "mem-") {
			n++
		}
	}
	if n+len(records) > b.o.MaxRecordsPerActor {
		return nil, fmt.Errorf("%w (%d of %d)", ErrActorFull, n, b.o.MaxRecordsPerActor)
	}
	vecs, err := b.embed(ctx, texts, bedrockkit.PurposeDocument)
	if err != nil {
		return nil, err
	}
	chunks := make([]kbstore.Record, len(out))
	for i, r := range out {
		if chunks[i], err = b.chunk(r, vecs[i]); err != nil {
			return nil, err
		}
	}
	if err := b.store.Upsert(ctx, chunks); err != nil {
		return nil, fmt.Errorf("longmemory: store records: %w", err)
	}
	return out, nil
}

// UpdateRecords implements RecordStore.
func (b *KBBackend) UpdateRecords(ctx context.Context, actor string, records []MemoryRecord) error {
	if err := ValidateActor(actor); err != nil {
		return err
	}
	if len(records) == 0 {
		return nil
	}
	ids := make([]string, len(records))
	texts := make([]string, len(records))
	for i := range records {
		if err := validateRecord(&records[i], actor); err != nil {
			return err
		}
		ids[i], texts[i] = records[i].ID, records[i].Text
	}
	// Only records actor already has may be replaced: an Upsert of an
	// unknown ID would create a record instead.
	have, err := b.store.Get(ctx, b.partition(actor), ids)
	if err != nil {
		return fmt.Errorf("longmemory: read records: %w", err)
	}
	found := map[string]bool{}
	for _, c := range have {
		if _, ok := decodeRecord(c, actor); ok {
			found[c.ID] = true
		}
	}
	for _, id := range ids {
		if !found[id] {
			return fmt.Errorf("longmemory: %q: %w", clip(id, 80), ErrRecordNotFound)
		}
	}
	vecs, err := b.embed(ctx, texts, bedrockkit.PurposeDocument)
	if err != nil {
		return err
	}
	chunks := make([]kbstore.Record, len(records))
	for i, r := range records {
		if chunks[i], err = b.chunk(r, vecs[i]); err != nil {
			return err
		}
	}
	if err := b.store.Upsert(ctx, chunks); err != nil {
		return fmt.Errorf("longmemory: store records: %w", err)
	}
	return nil
}

// GetRecord implements RecordStore.
func (b *KBBackend) GetRecord(ctx context.Context, actor, id string) (MemoryRecord, error) {
	if err := ValidateActor(actor); err != nil {
		return MemoryRecord{}, err
	}
	cs, err := b.store.Get(ctx, b.partition(actor), []string{id})
	if err != nil {
		return MemoryRecord{}, fmt.Errorf("longmemory: read record: %w", err)
	}
	for _, c := range cs {
		if r, ok := decodeRecord(c, actor); ok {
			return r, nil
		}
	}
	return MemoryRecord{}, fmt.Errorf("longmemory: %q: %w", clip(id, 80), ErrRecordNotFound)
}

// all returns every record of actor, oldest first.
func (b *KBBackend) all(ctx context.Context, actor string) ([]MemoryRecord, error) {
	p := b.partition(actor)
	docs, err := b.store.Documents(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("longmemory: list records: %w", err)
	}
	var ids []string
	for _, d := range docs {
		if strings.HasPrefix(d.ID, "mem-") {
			ids = append(ids, d.ID)
		}
	}
	var out []MemoryRecord
	for start := 0; start < len(ids); start += 256 {
		cs, err := b.store.Get(ctx, p, ids[start:min(start+256, len(ids))])
		if err != nil {
			return nil, fmt.Errorf("longmemory: read records: %w", err)
		}
		for _, c := range cs {
			if r, ok := decodeRecord(c, actor); ok {
				out = append(out, r)
			}
		}
	}
	slices.SortStableFunc(out, func(x, y MemoryRecord) int {
		if c := x.Created.Compare(y.Created); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	return out, nil
}

// ListRecords implements RecordStore.
func (b *KBBackend) ListRecords(ctx context.Context, actor string, f RecordFilter) ([]MemoryRecord, error) {
	if err := ValidateFilter(f, actor); err != nil {
		return nil, err
	}
	all, err := b.all(ctx, actor)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for i := range all {
		if f.Matches(&all[i]) {
			out = append(out, all[i])
		}
	}
	return out, nil
}

func (b *KBBackend) filter(f RecordFilter) kbstore.Filter {
	parts := []kbstore.Filter{kb.Equals(mdKind, kindRecord)}
	if f.Prefix {
		parts = append(parts, kb.StartsWith(mdNamespace, f.Namespace))
	} else {
		parts = append(parts, kb.Equals(mdNamespace, f.Namespace))
	}
	if f.Strategy != "" {
		parts = append(parts, kb.Equals(mdStrategy, f.Strategy))
	}
	return kb.AndAll(parts...)
}

// SearchRecords implements RecordStore: the vector and keyword rankings
// (each of up to 3K candidates) fused by reciprocal rank.
func (b *KBBackend) SearchRecords(ctx context.Context, actor string, q RecordQuery) ([]MemoryRecord, error) {
	if err := ValidateQuery(q, actor); err != nil {
		return nil, err
	}
	p := b.partition(actor)
	n := min(3*q.K, 100)
	vecs, err := b.embed(ctx, []string{q.Text}, bedrockkit.PurposeQuery)
	if err != nil {
		return nil, err
	}
	flt := b.filter(q.RecordFilter)
	hits, err := b.store.Search(ctx, kbstore.Query{Vector: vecs[0], K: n, Filter: flt, Partition: p})
	if err != nil {
		return nil, fmt.Errorf("longmemory: search records: %w", err)
	}
	var semantic, keyword []MemoryRecord
	for _, h := range hits {
		if r, ok := decodeRecord(h.Record, actor); ok && q.Matches(&r) {
			semantic = append(semantic, r)
		}
	}
	if ks, ok := b.store.(kbstore.KeywordSearcher); ok {
		khits, err := ks.SearchText(ctx, kbstore.TextQuery{Text: q.Text, K: n, Filter: flt, Partition: p})
		if err != nil {
			return nil, fmt.Errorf("longmemory: keyword search: %w", err)
		}
		for _, h := range khits {
			if r, ok := decodeRecord(h.Record, actor); ok && q.Matches(&r) {
				keyword = append(keyword, r)
			}
		}
	} else {
		all, err := b.ListRecords(ctx, actor, q.RecordFilter)
		if err != nil {
			return nil, err
		}
		keyword = rankBM25(q.Text, all, n)
	}
	return fuse(semantic, keyword, q.K), nil
}

// DeleteRecords implements RecordStore.
func (b *KBBackend) DeleteRecords(ctx context.Context, actor string, ids []string) (int, error) {
	if err := ValidateActor(actor); err != nil {
		return 0, err
	}
	var cand []string
	for _, id := range ids {
		if strings.HasPrefix(id, "mem-") {
			cand = append(cand, id)
		}
	}
	if len(cand) == 0 {
		return 0, nil
	}
	// Delete only what reads back as actor's record.
	have, err := b.store.Get(ctx, b.partition(actor), cand)
	if err != nil {
		return 0, fmt.Errorf("longmemory: read records: %w", err)
	}
	var docs []string
	for _, c := range have {
		if _, ok := decodeRecord(c, actor); ok {
			docs = append(docs, c.ID)
		}
	}
	if len(docs) == 0 {
		return 0, nil
	}
	n, err := b.store.DeleteDocuments(ctx, b.partition(actor), docs)
	if err != nil {
		return n, fmt.Errorf("longmemory: delete records: %w", err)
	}
	return n, nil
}

// AppendEvent implements EventLog. Each event is its own vector-less
// document ("event:<session>/<event ID>") in the actor's partition.
func (b *KBBackend) AppendEvent(ctx context.Context, actor string, ev ConversationEvent) (EventRef, error) {
	if err := validateEvent(actor, &ev); err != nil {
		return EventRef{}, err
	}
	ev.Ref = EventRef{SessionID: ev.SessionID, EventID: NewEventID(ev.At)}
	data, err := json.Marshal(ev)
	if err != nil {
		return EventRef{}, err
	}
	id := eventDocPfx + ev.Ref.String()
	c := kbstore.Record{ID: id, DocumentID: id, Partition: b.partition(actor),
		Text: string(data), Metadata: map[string]any{mdKind: kindEvent, mdSession: ev.SessionID}}
	if err := b.store.Upsert(ctx, []kbstore.Record{c}); err != nil {
		return EventRef{}, fmt.Errorf("longmemory: store event: %w", err)
	}
	return ev.Ref, nil
}

// ListEvents implements EventLog.
func (b *KBBackend) ListEvents(ctx context.Context, actor, sessionID string) ([]ConversationEvent, error) {
	if err := ValidateActor(actor); err != nil {
		return nil, err
	}
	if !validSession(sessionID) {
		return nil, fmt.Errorf("longmemory: session ID %q is not valid (1-100 letters, digits, '-', '_'): %w", clip(sessionID, 80), bedrockkit.ErrInvalidInput)
	}
	p := b.partition(actor)
	docs, err := b.store.Documents(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("longmemory: list events: %w", err)
	}
	pfx := eventDocPfx + sessionID + "/"
	var ids []string
	for _, d := range docs {
		if strings.HasPrefix(d.ID, pfx) {
			ids = append(ids, d.ID)
		}
	}
	var out []ConversationEvent
	for start := 0; start < len(ids); start += 256 {
		cs, err := b.store.Get(ctx, p, ids[start:min(start+256, len(ids))])
		if err != nil {
			return nil, fmt.Errorf("longmemory: read events: %w", err)
		}
		for _, c := range cs {
			var ev ConversationEvent
			if c.Metadata[mdKind] != kindEvent || json.Unmarshal([]byte(c.Text), &ev) != nil || ev.SessionID != sessionID {
				continue
			}
			out = append(out, ev)
		}
	}
	slices.SortStableFunc(out, func(x, y ConversationEvent) int {
		if c := x.At.Compare(y.At); c != 0 {
			return c
		}
		return strings.Compare(x.Ref.EventID, y.Ref.EventID)
	})
	return out, nil
}

// DeleteActor implements Backend: it removes every document of the
// actor's partition, checks that none is left, and compacts stores that
// can be compacted.
func (b *KBBackend) DeleteActor(ctx context.Context, actor string) (Erasure, error) {
	if err := ValidateActor(actor); err != nil {
		return Erasure{}, err
	}
	defer b.lockCreates(actor)()
	p := b.partition(actor)
	var e Erasure
	for round := 0; ; round++ {
		docs, err := b.store.Documents(ctx, p)
		if err != nil {
			return e, fmt.Errorf("longmemory: list the actor's documents: %w", err)
		}
		if len(docs) == 0 {
			break
		}
		if round == 3 {
			return e, fmt.Errorf("longmemory: %d documents of actor %q are still stored after deleting them; retry DeleteActor: %w", len(docs), actor, bedrockkit.ErrInternal)
		}
		ids := make([]string, len(docs))
		for i, d := range docs {
			ids[i] = d.ID
			switch {
			case strings.HasPrefix(d.ID, "mem-"):
				e.Records += d.Records
			case strings.HasPrefix(d.ID, eventDocPfx):
				e.Events += d.Records
			}
		}
		for start := 0; start < len(ids); start += 500 {
			if _, err := b.store.DeleteDocuments(ctx, p, ids[start:min(start+500, len(ids))]); err != nil {
				return e, fmt.Errorf("longmemory: delete the actor's documents: %w", err)
			}
		}
	}
	if c, ok := b.store.(interface{ Compact() error }); ok {
		if err := c.Compact(); err != nil {
			return e, fmt.Errorf("longmemory: compact the store after deleting actor %q: %w", actor, err)
		}
		e.Compacted = true
	} else {
		e.Residue = fmt.Sprintf("%T removed the records from every query but cannot be compacted on demand: if it keeps files, they may hold the removed bytes until it rewrites them (see NewKBBackend)", b.store)
	}
	return e, nil
}
