package longmemory

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// StrategyReport says what one strategy changed for one turn.
type StrategyReport struct {
	Strategy  string
	Namespace string
	// Created, Confirmed, Updated and Deleted list the IDs of the records
	// each kind of change touched.
	Created, Confirmed, Updated, Deleted []string
	// Ignored counts candidates that were dropped: empty text, or an
	// update or delete of a record the namespace does not hold.
	Ignored int
}

// normText is the form records are compared in: lower case, letters and
// digits, single spaces.
func normText(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		} else {
			space = true
		}
	}
	return b.String()
}

// consolidate applies a strategy's candidates to the namespace's records
// (all of them, oldest first): a candidate that repeats a stored record
// (same normalised text) confirms it, one that names a stored record by ID
// or shares its topic updates it, a delete removes it, and only the rest
// are created. Every change records the turn's events.
func consolidate(ctx context.Context, b Backend, actor string, spec StrategySpec, ns string, all []MemoryRecord, cands []Candidate, events []EventRef, now time.Time) (StrategyReport, error) {
	m := &consolidation{rep: StrategyReport{Strategy: spec.Name, Namespace: ns}, actor: actor, spec: spec, ns: ns,
		events: events, now: now, byID: map[string]*MemoryRecord{}, byText: map[string]*MemoryRecord{},
		byTopic: map[string]*MemoryRecord{}, changed: map[string]ChangeAction{}, deleted: map[string]bool{}}
	for i := range all {
		m.index(&all[i])
	}
	for _, c := range cands {
		m.apply(c)
	}
	return m.store(ctx, b, all)
}

// consolidation is one strategy's turn of consolidate: the records by ID,
// text and topic, and what the candidates changed so far.
type consolidation struct {
	rep    StrategyReport
	actor  string
	spec   StrategySpec
	ns     string
	events []EventRef
	now    time.Time

	byID, byText, byTopic map[string]*MemoryRecord
	changed               map[string]ChangeAction // stored record ID -> strongest change
	deleted               map[string]bool
	created               []*MemoryRecord
}

// index makes r findable by ID, text and topic.
func (m *consolidation) index(r *MemoryRecord) {
	m.byID[r.ID] = r
	m.byText[normText(r.Text)] = r
	if t := normText(r.Topic); t != "" {
		m.byTopic[t] = r
	}
}

// expires is when a record touched now expires, or zero.
func (m *consolidation) expires() time.Time {
	if m.spec.TTL > 0 {
		return m.now.Add(m.spec.TTL)
	}
	return time.Time{}
}

// apply applies one candidate: a delete, or a confirmation, update or
// creation of the record it matches.
func (m *consolidation) apply(c Candidate) {
	text, topic := strings.TrimSpace(c.Text), strings.TrimSpace(c.Topic)
	if len(text) > MaxTextBytes {
		text = clip(text, MaxTextBytes-3)
	}
	if len(topic) > MaxTopicBytes {
		topic = clip(topic, MaxTopicBytes-3)
	}
	if c.Action == ActionDelete {
		r := m.byID[c.RecordID]
		if r == nil || m.deleted[r.ID] || isNew(r, m.created) {
			m.rep.Ignored++
			return
		}
		m.deleted[r.ID] = true
		delete(m.changed, r.ID)
		return
	}
	if normText(text) == "" {
		m.rep.Ignored++
		return
	}
	target := m.target(c, text, topic)
	if target == nil {
		r := &MemoryRecord{Actor: m.actor, Namespace: m.ns, Strategy: m.spec.Name, Topic: topic, Text: text,
			Sources: addSources(nil, m.events...), Created: m.now, Updated: m.now, Expires: m.expires(),
			History: []Change{{At: m.now, Action: Created, Reason: c.Reason, Events: m.events}}}
		r.ID = fmt.Sprintf("new-%d", len(m.created))
		m.created = append(m.created, r)
		m.index(r)
		return
	}
	m.revise(target, c.Reason, text, topic)
}

// target is the record a candidate confirms or updates: the one it names
// (for an update), else the one with its text, else the one with its
// topic; nil if none, or if that record was deleted in this turn.
func (m *consolidation) target(c Candidate, text, topic string) *MemoryRecord {
	var target *MemoryRecord
	if c.Action == ActionUpdate {
		target = m.byID[c.RecordID]
	}
	if target == nil {
		target = m.byText[normText(text)]
	}
	if target == nil && normText(topic) != "" {
		target = m.byTopic[normText(topic)]
	}
	if target != nil && m.deleted[target.ID] {
		target = nil // deleted in this turn: a new record replaces it
	}
	return target
}

// revise confirms target when text repeats it, and otherwise updates it
// to text (and topic, if given).
func (m *consolidation) revise(target *MemoryRecord, reason, text, topic string) {
	now := m.now
	target.Sources = addSources(target.Sources, m.events...)
	target.Updated, target.Expires = now, m.expires()
	if normText(target.Text) == normText(text) {
		target.History = addChange(target.History, Change{At: now, Action: Confirmed, Reason: reason, Events: m.events})
		if !isNew(target, m.created) && m.changed[target.ID] == "" {
			m.changed[target.ID] = Confirmed
		}
		return
	}
	target.History = addChange(target.History, Change{At: now, Action: Updated, Previous: target.Text, Reason: reason, Events: m.events})
	delete(m.byText, normText(target.Text))
	target.Text = text
	if topic != "" {
		target.Topic = topic
	}
	m.index(target)
	if !isNew(target, m.created) {
		m.changed[target.ID] = Updated
	}
}

// store writes the turn's changes to b: the created records, the confirmed
// and updated ones among all, and the deletions; and reports them.
func (m *consolidation) store(ctx context.Context, b Backend, all []MemoryRecord) (StrategyReport, error) {
	rep := m.rep
	if len(m.created) > 0 {
		recs := make([]MemoryRecord, len(m.created))
		for i, r := range m.created {
			recs[i] = *r
			recs[i].ID = ""
		}
		stored, err := b.CreateRecords(ctx, m.actor, recs)
		if err != nil {
			return rep, err
		}
		for _, r := range stored {
			rep.Created = append(rep.Created, r.ID)
		}
	}
	var upd []MemoryRecord
	for i := range all {
		if a := m.changed[all[i].ID]; a != "" {
			upd = append(upd, all[i])
			if a == Updated {
				rep.Updated = append(rep.Updated, all[i].ID)
			} else {
				rep.Confirmed = append(rep.Confirmed, all[i].ID)
			}
		}
	}
	if err := b.UpdateRecords(ctx, m.actor, upd); err != nil {
		return rep, err
	}
	var del []string
	for i := range all {
		if m.deleted[all[i].ID] {
			del = append(del, all[i].ID)
		}
	}
	if len(del) > 0 {
		if _, err := b.DeleteRecords(ctx, m.actor, del); err != nil {
			return rep, err
		}
		rep.Deleted = del
	}
	return rep, nil
}

func isNew(r *MemoryRecord, created []*MemoryRecord) bool {
	for _, c := range created {
		if c == r {
			return true
		}
	}
	return false
}
