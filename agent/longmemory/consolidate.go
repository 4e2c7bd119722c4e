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
	rep := StrategyReport{Strategy: spec.Name, Namespace: ns}
	byID := map[string]*MemoryRecord{}
	byText := map[string]*MemoryRecord{}
	byTopic := map[string]*MemoryRecord{}
	index := func(r *MemoryRecord) {
		byID[r.ID] = r
		byText[normText(r.Text)] = r
		if t := normText(r.Topic); t != "" {
			byTopic[t] = r
		}
	}
	for i := range all {
		index(&all[i])
	}
	changed := map[string]ChangeAction{} // stored record ID -> strongest change
	deleted := map[string]bool{}
	var created []*MemoryRecord
	expires := func() time.Time {
		if spec.TTL > 0 {
			return now.Add(spec.TTL)
		}
		return time.Time{}
	}
	for _, c := range cands {
		text, topic := strings.TrimSpace(c.Text), strings.TrimSpace(c.Topic)
		if len(text) > MaxTextBytes {
			text = clip(text, MaxTextBytes-3)
		}
		if len(topic) > MaxTopicBytes {
			topic = clip(topic, MaxTopicBytes-3)
		}
		if c.Action == ActionDelete {
			r := byID[c.RecordID]
			if r == nil || deleted[r.ID] || isNew(r, created) {
				rep.Ignored++
				continue
			}
			deleted[r.ID] = true
			delete(changed, r.ID)
			continue
		}
		if normText(text) == "" {
			rep.Ignored++
			continue
		}
		var target *MemoryRecord
		if c.Action == ActionUpdate {
			target = byID[c.RecordID]
		}
		if target == nil {
			target = byText[normText(text)]
		}
		if target == nil && normText(topic) != "" {
			target = byTopic[normText(topic)]
		}
		if target != nil && deleted[target.ID] {
			target = nil // deleted in this turn: a new record replaces it
		}
		if target == nil {
			r := &MemoryRecord{Actor: actor, Namespace: ns, Strategy: spec.Name, Topic: topic, Text: text,
				Sources: addSources(nil, events...), Created: now, Updated: now, Expires: expires(),
				History: []Change{{At: now, Action: Created, Reason: c.Reason, Events: events}}}
			r.ID = fmt.Sprintf("new-%d", len(created))
			created = append(created, r)
			index(r)
			continue
		}
		target.Sources = addSources(target.Sources, events...)
		target.Updated, target.Expires = now, expires()
		if normText(target.Text) == normText(text) {
			target.History = addChange(target.History, Change{At: now, Action: Confirmed, Reason: c.Reason, Events: events})
			if !isNew(target, created) && changed[target.ID] == "" {
				changed[target.ID] = Confirmed
			}
			continue
		}
		target.History = addChange(target.History, Change{At: now, Action: Updated, Previous: target.Text, Reason: c.Reason, Events: events})
		delete(byText, normText(target.Text))
		target.Text = text
		if topic != "" {
			target.Topic = topic
		}
		index(target)
		if !isNew(target, created) {
			changed[target.ID] = Updated
		}
	}
	if len(created) > 0 {
		recs := make([]MemoryRecord, len(created))
		for i, r := range created {
			recs[i] = *r
			recs[i].ID = ""
		}
		stored, err := b.CreateRecords(ctx, actor, recs)
		if err != nil {
			return rep, err
		}
		for _, r := range stored {
			rep.Created = append(rep.Created, r.ID)
		}
	}
	var upd []MemoryRecord
	for i := range all {
		if a := changed[all[i].ID]; a != "" {
			upd = append(upd, all[i])
			if a == Updated {
				rep.Updated = append(rep.Updated, all[i].ID)
			} else {
				rep.Confirmed = append(rep.Confirmed, all[i].ID)
			}
		}
	}
	if err := b.UpdateRecords(ctx, actor, upd); err != nil {
		return rep, err
	}
	var del []string
	for i := range all {
		if deleted[all[i].ID] {
			del = append(del, all[i].ID)
		}
	}
	if len(del) > 0 {
		if _, err := b.DeleteRecords(ctx, actor, del); err != nil {
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
