package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"iter"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/longmemory"
	"github.com/bedrockkit/bedrockkit/agent/longmemory/agentcorememory"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

func init() { suites["memory"] = runMemory }

// runMemory evaluates long-term memory on a generated multi-session
// dataset (seeded): simulated customers tell an assistant facts and
// preferences over several sessions, repeating some, changing others (a
// move, a new job), amid small talk. Every turn goes through a Keeper
// (background extraction, consolidation); the extraction model is a
// deterministic simulation of an imperfect LLM that reads the real
// extraction prompt (conversation and stored records), links an update to
// the stored record most of the time but not always, and sometimes labels a
// topic with a synonym. After the last session each customer asks about
// every attribute, and the suite measures what Recall gives the agent:
// recall@k (the current value among the first k recollections), stale@k (an
// outdated value among them), records and duplicates per customer after
// consolidation, and, for comparison, the records an append-only memory
// would hold.
func runMemory(args []string) error {
	fs := flag.NewFlagSet("memory", flag.ContinueOnError)
	actors := fs.Int("actors", 40, "simulated customers")
	sessions := fs.Int("sessions", 8, "sessions per customer")
	seed := fs.Uint64("seed", 1, "generator seed")
	backendName := fs.String("backend", "local", "local (kb/localindex) or agentcore (bedrockkittest.FakeMemory through the real SDK client)")
	unlinked := fs.Float64("unlinked", 0.15, "share of updates the simulated extractor fails to link to the stored record")
	synonyms := fs.Float64("synonyms", 0.2, "share of topics the simulated extractor labels with a synonym")
	verbose := fs.Bool("v", false, "print every miss")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := memEvalConfig{actors: *actors, sessions: *sessions, seed: *seed, backend: *backendName, unlinked: *unlinked, synonyms: *synonyms, verbose: *verbose}
	res, err := evalMemory(context.Background(), cfg, func(s string) { fmt.Println(s) })
	if err != nil {
		return err
	}
	fmt.Println(res.line())
	return nil
}

type memEvalConfig struct {
	actors, sessions   int
	seed               uint64
	backend            string
	unlinked, synonyms float64
	verbose            bool
}

type memEvalResult struct {
	actors, sessions, turns, queries int
	hits                             [6]int // hits[k] for k = 1, 3, 5
	stale5                           int
	records, attrs, naive            int
	failed                           int
}

func (r memEvalResult) line() string {
	q := float64(max(r.queries, 1))
	a := float64(max(r.actors, 1))
	return fmt.Sprintf("actors=%d sessions=%d turns=%d queries=%d recall@1=%.3f recall@3=%.3f recall@5=%.3f stale@5=%.3f records_per_actor=%.2f attributes_per_actor=%.2f duplicates_per_actor=%.3f append_only_records_per_actor=%.2f failed_extractions=%d",
		r.actors, r.sessions, r.turns, r.queries, float64(r.hits[1])/q, float64(r.hits[3])/q, float64(r.hits[5])/q, float64(r.stale5)/q,
		float64(r.records)/a, float64(r.attrs)/a, float64(r.records-r.attrs)/a, float64(r.naive)/a, r.failed)
}

// memAttr is a customer attribute the generator talks about.
type memAttr struct {
	name     string
	strategy string   // facts or preferences
	topics   []string // canonical label first, then synonyms
	values   []string
	say      []string // first mention, %s = value
	change   []string // a change, %s = new value
	record   string   // the record text, %s = value
	question string
}

var memAttrs = []memAttr{
	{"city", "facts", []string{"home city", "city of residence", "where they live"}, []string{"Lisbon", "Porto", "Madrid", "Berlin", "Dublin", "Oslo", "Vienna", "Prague"},
		[]string{"I live in %s.", "My home is in %s."}, []string{"I just moved to %s.", "We relocated to %s last month."}, "The user lives in %s.", "Which city do I live in?"},
	{"employer", "facts", []string{"employer", "workplace", "company they work for"}, []string{"Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries"},
		[]string{"I work at %s.", "I'm employed by %s."}, []string{"I started a new job at %s.", "I switched jobs, I'm at %s now."}, "The user works at %s.", "Where do I work?"},
	{"pet", "facts", []string{"pet", "animal at home", "their pet"}, []string{"a dog named Rex", "a cat named Tom", "a parrot named Kiwi", "a rabbit named Bun"},
		[]string{"I have %s.", "At home I have %s."}, []string{"We adopted %s.", "Now we have %s."}, "The user has %s.", "What pet do I have?"},
	{"car", "facts", []string{"car", "vehicle", "what they drive"}, []string{"Toyota Corolla", "Volvo XC40", "Tesla Model 3", "Renault Clio"},
		[]string{"I drive a %s.", "My car is a %s."}, []string{"I sold my car and bought a %s.", "I now drive a %s."}, "The user drives a %s.", "What car do I drive?"},
	{"language", "preferences", []string{"reply language", "preferred language", "language"}, []string{"French", "Spanish", "German", "Portuguese", "English"},
		[]string{"Please reply in %s from now on.", "I'd like answers in %s."}, []string{"Actually, switch to %s please.", "From now on answer in %s instead."}, "The user prefers replies in %s.", "Which language should you answer me in?"},
	{"channel", "preferences", []string{"contact channel", "preferred channel", "how to reach them"}, []string{"email", "phone", "SMS", "chat"},
		[]string{"Contact me by %s, please.", "The best way to reach me is %s."}, []string{"Please use %s to contact me from now on.", "I'd rather be contacted by %s now."}, "The user prefers to be contacted by %s.", "How should you contact me?"},
	{"cuisine", "preferences", []string{"favourite cuisine", "food preference", "cuisine"}, []string{"Thai", "Italian", "Japanese", "Mexican", "Indian"},
		[]string{"My favourite cuisine is %s.", "I love %s food."}, []string{"These days I prefer %s food.", "I've gone off that, now I love %s food."}, "The user's favourite cuisine is %s.", "What food do I like?"},
	{"meetings", "preferences", []string{"meeting time", "preferred meeting time", "when to meet"}, []string{"mornings", "afternoons", "evenings"},
		[]string{"I prefer meetings in the %s.", "Schedule my meetings in the %s."}, []string{"Move my meetings to the %s from now on.", "I now prefer meetings in the %s."}, "The user prefers meetings in the %s.", "When do I like to have meetings?"},
}

var memSmallTalk = []string{"What's the exchange rate for dollars today?", "Thanks, that's all.", "Can you check my balance?",
	"How do I order a new card?", "Is the branch open on Saturday?", "What are your fees for transfers abroad?"}

// memPatterns recognise the generator's sentences, for the simulated
// extractor: attribute index and value.
type memPattern struct {
	re   *regexp.Regexp
	attr int
}

var memPatterns = func() []memPattern {
	var out []memPattern
	for i, a := range memAttrs {
		for _, s := range append(append([]string{}, a.say...), a.change...) {
			q := regexp.QuoteMeta(s)
			q = strings.Replace(q, "%s", "(.+?)", 1)
			out = append(out, memPattern{regexp.MustCompile(`^` + q + `$`), i})
		}
	}
	return out
}()

// memRecordRes recognise record texts: attribute index and value.
var memRecordRes = func() []*regexp.Regexp {
	out := make([]*regexp.Regexp, len(memAttrs))
	for i, a := range memAttrs {
		out[i] = regexp.MustCompile(`^` + strings.Replace(regexp.QuoteMeta(a.record), "%s", "(.+?)", 1) + `$`)
	}
	return out
}()

// simExtractor is a bedrockkit.Model that answers the Keeper's extraction
// requests the way a decent but imperfect LLM would, deterministically
// (its choices are seeded by a hash of the request).
type simExtractor struct {
	unlinked, synonyms float64
}

func (m *simExtractor) SupportsOutput() bool { return true }

func (m *simExtractor) Stream(ctx context.Context, req *bedrockkit.Request) iter.Seq2[bedrockkit.StreamEvent, error] {
	return func(yield func(bedrockkit.StreamEvent, error) bool) { yield(nil, bedrockkit.ErrUnsupported) }
}

var (
	existingRe = regexp.MustCompile(`(?s)<existing_memories>\n(.*?)\n</existing_memories>`)
	userLineRe = regexp.MustCompile(`(?m)^\[USER\] (.*)$`)
	sentenceRe = regexp.MustCompile(`[^.?!]+[.?!]`)
)

func (m *simExtractor) Generate(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	system := (bedrockkit.Message{Parts: req.System}).Text()
	input := req.Messages[len(req.Messages)-1].Text()
	// Choices are seeded by the conversation, not by the stored records'
	// (random) IDs, so a run is reproducible.
	h := fnv.New64a()
	h.Write([]byte(system))
	for _, l := range userLineRe.FindAllString(input, -1) {
		h.Write([]byte(l))
	}
	r := rand.New(rand.NewPCG(h.Sum64(), 7))
	var existing []struct{ ID, Topic, Text string }
	if mm := existingRe.FindStringSubmatch(input); mm != nil {
		raw := strings.NewReplacer("&lt;", "<", "&gt;", ">").Replace(mm[1])
		if err := json.Unmarshal([]byte(raw), &existing); err != nil {
			return nil, fmt.Errorf("simulated extractor: existing memories are not JSON: %v", err)
		}
	}
	var out longmemory.Extraction
	out.Memories = []longmemory.ExtractedMemory{}
	switch {
	case strings.Contains(system, "running summary"):
		var said []string
		for _, l := range userLineRe.FindAllStringSubmatch(input, -1) {
			said = append(said, l[1])
		}
		text := "The user said: " + strings.Join(said, " ")
		if len(existing) > 0 {
			out.Memories = append(out.Memories, longmemory.ExtractedMemory{Action: "update", ID: existing[0].ID, Topic: "session summary", Text: existing[0].Text + " " + strings.Join(said, " ")})
		} else {
			out.Memories = append(out.Memories, longmemory.ExtractedMemory{Action: "add", Topic: "session summary", Text: text})
		}
	default:
		strategy := "facts"
		if strings.Contains(system, "preferences") {
			strategy = "preferences"
		}
		for _, l := range userLineRe.FindAllStringSubmatch(input, -1) {
			for _, s := range sentenceRe.FindAllString(l[1], -1) {
				s = strings.TrimSpace(s)
				for _, p := range memPatterns {
					mm := p.re.FindStringSubmatch(s)
					a := memAttrs[p.attr]
					if mm == nil || a.strategy != strategy {
						continue
					}
					topic := a.topics[0]
					if r.Float64() < m.synonyms {
						topic = a.topics[1+r.IntN(len(a.topics)-1)]
					}
					mem := longmemory.ExtractedMemory{Action: "add", Topic: topic, Text: fmt.Sprintf(a.record, mm[1])}
					for _, e := range existing {
						if memRecordRes[p.attr].MatchString(e.Text) && r.Float64() >= m.unlinked {
							mem.Action, mem.ID, mem.Topic = "update", e.ID, e.Topic
							break
						}
					}
					out.Memories = append(out.Memories, mem)
				}
			}
		}
	}
	b, _ := json.Marshal(out)
	return &bedrockkit.Response{Message: bedrockkit.AssistantText(string(b)), StopReason: bedrockkit.StopEndTurn,
		Usage: bedrockkit.Usage{InputTokens: len(system+input) / 4, OutputTokens: len(b) / 4, Estimated: true}}, nil
}

// memActor is one simulated customer.
type memActor struct {
	id    string
	value map[int]string // attribute -> current value
	old   map[int][]string
	said  int // attribute mentions (what an append-only memory stores)
}

func evalMemory(ctx context.Context, cfg memEvalConfig, logf func(string)) (memEvalResult, error) {
	res := memEvalResult{actors: cfg.actors, sessions: cfg.sessions}
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	var backend longmemory.Backend
	switch cfg.backend {
	case "local":
		idx, err := localindex.Open(localindex.Options{Dimensions: 256})
		if err != nil {
			return res, err
		}
		defer idx.Close()
		backend = longmemory.NewKBBackend(idx, bedrockkittest.NewHashEmbedder(256), longmemory.KBOptions{})
	case "agentcore":
		fake := bedrockkittest.StartFakeMemory()
		defer fake.Close()
		fake.SetNow(clock)
		backend = agentcorememory.New(fake.Client(), fake.AddMemory("eval"), agentcorememory.Options{})
	default:
		return res, fmt.Errorf("unknown -backend %q; use local or agentcore", cfg.backend)
	}
	keeper := longmemory.New(backend, longmemory.Options{Model: &simExtractor{unlinked: cfg.unlinked, synonyms: cfg.synonyms},
		Now: clock, Workers: 4, RetryDelay: time.Millisecond, RecallPerStrategy: 5, RecallTokens: 2000,
		OnExtracted: func(r longmemory.ExtractionReport) {
			if r.Err != nil {
				logf("extraction failed: " + r.Err.Error())
			}
		}})
	defer keeper.Close()

	r := rand.New(rand.NewPCG(cfg.seed, 19))
	people := make([]*memActor, cfg.actors)
	for i := range people {
		people[i] = &memActor{id: fmt.Sprintf("customer-%04d", i), value: map[int]string{}, old: map[int][]string{}}
	}
	for s := range cfg.sessions {
		for _, p := range people {
			session := fmt.Sprintf("s%02d", s)
			turns := 1 + r.IntN(3)
			for t := range turns {
				var parts []string
				for range 1 + r.IntN(2) {
					ai := r.IntN(len(memAttrs))
					a := memAttrs[ai]
					cur, known := p.value[ai]
					switch {
					case !known:
						v := a.values[r.IntN(len(a.values))]
						parts = append(parts, fmt.Sprintf(a.say[r.IntN(len(a.say))], v))
						p.value[ai] = v
					case r.Float64() < 0.5: // a repeat
						parts = append(parts, fmt.Sprintf(a.say[r.IntN(len(a.say))], cur))
					default: // a change
						v := cur
						for v == cur {
							v = a.values[r.IntN(len(a.values))]
						}
						parts = append(parts, fmt.Sprintf(a.change[r.IntN(len(a.change))], v))
						p.old[ai] = append(p.old[ai], cur)
						p.value[ai] = v
					}
					p.said++
				}
				if r.Float64() < 0.5 { // small talk somewhere; statements keep their order
					parts = slices.Insert(parts, r.IntN(len(parts)+1), memSmallTalk[r.IntN(len(memSmallTalk))])
				}
				ft := agent.FinishedTurn{SessionID: session, Turn: t + 1, At: now,
					Messages: []bedrockkit.Message{bedrockkit.UserText(strings.Join(parts, " ")), bedrockkit.AssistantText("Noted.")}}
				if err := keeper.Remember(longmemory.WithActor(ctx, p.id), ft); err != nil {
					return res, err
				}
				res.turns++
			}
		}
		if err := keeper.Flush(ctx); err != nil {
			return res, err
		}
		now = now.Add(time.Duration(1+r.IntN(6)) * 24 * time.Hour)
	}
	st := keeper.Stats()
	res.failed = st.Failed + st.Refused + st.Dropped

	for _, p := range people {
		actx := longmemory.WithActor(ctx, p.id)
		for ai, v := range p.value {
			a := memAttrs[ai]
			recs, err := keeper.Recall(actx, agent.RecallQuery{SessionID: "q", Input: a.question})
			if err != nil {
				return res, err
			}
			res.queries++
			want := fmt.Sprintf(a.record, v)
			found := -1
			for i, rc := range recs {
				if rc.Text == want {
					found = i
					break
				}
			}
			for _, k := range []int{1, 3, 5} {
				if found >= 0 && found < k {
					res.hits[k]++
				}
			}
			for i, rc := range recs {
				if i >= 5 {
					break
				}
				stale := false
				for _, o := range p.old[ai] {
					if o != v && rc.Text == fmt.Sprintf(a.record, o) {
						stale = true
					}
				}
				if stale {
					res.stale5++
					break
				}
			}
			if cfg.verbose && (found < 0 || found >= 3) {
				var got []string
				for _, rc := range recs {
					got = append(got, rc.Text)
				}
				logf(fmt.Sprintf("miss %s %q: want %q at rank %d, got %q", p.id, a.question, want, found+1, got))
			}
		}
		n := 0
		for _, ns := range []string{"/facts/" + p.id, "/preferences/" + p.id} {
			recs, err := backend.ListRecords(actx, p.id, longmemory.RecordFilter{Namespace: ns})
			if err != nil {
				return res, err
			}
			n += len(recs)
		}
		res.records += n
		res.attrs += len(p.value)
		res.naive += p.said
	}
	if res.queries == 0 {
		return res, errors.New("memory: the generator produced no attribute to ask about")
	}
	logf(fmt.Sprintf("backend=%s seed=%d unlinked=%.2f synonyms=%.2f extracted=%d failed=%d", cfg.backend, cfg.seed, cfg.unlinked, cfg.synonyms, st.Extracted, res.failed))
	return res, nil
}
