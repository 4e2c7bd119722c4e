package textindex

import (
	"fmt"
	"reflect"
	"testing"
)

func TestStemPorterVocabulary(t *testing.T) {
	// Pairs from Porter's paper and his published voc.txt/output.txt.
	cases := map[string]string{
		"caresses": "caress", "ponies": "poni", "ties": "ti", "caress": "caress", "cats": "cat",
		"feed": "feed", "agreed": "agre", "plastered": "plaster", "bled": "bled", "motoring": "motor",
		"sing": "sing", "conflated": "conflat", "troubled": "troubl", "sized": "size", "hopping": "hop",
		"tanned": "tan", "falling": "fall", "hissing": "hiss", "fizzed": "fizz", "failing": "fail",
		"filing": "file", "happy": "happi", "sky": "sky", "relational": "relat", "conditional": "condit",
		"rational": "ration", "valenci": "valenc", "hesitanci": "hesit", "digitizer": "digit",
		"conformabli": "conform", "radicalli": "radic", "differentli": "differ", "vileli": "vile",
		"analogousli": "analog", "vietnamization": "vietnam", "predication": "predic", "operator": "oper",
		"feudalism": "feudal", "decisiveness": "decis", "hopefulness": "hope", "callousness": "callous",
		"formaliti": "formal", "sensitiviti": "sensit", "sensibiliti": "sensibl", "triplicate": "triplic",
		"formative": "form", "formalize": "formal", "electriciti": "electr", "electrical": "electr",
		"hopeful": "hope", "goodness": "good", "revival": "reviv", "allowance": "allow", "inference": "infer",
		"airliner": "airlin", "gyroscopic": "gyroscop", "adjustable": "adjust", "defensible": "defens",
		"irritant": "irrit", "replacement": "replac", "adjustment": "adjust", "dependent": "depend",
		"adoption": "adopt", "homologou": "homolog", "communism": "commun", "activate": "activ",
		"angulariti": "angular", "homologous": "homolog", "effective": "effect", "bowdlerize": "bowdler",
		"probate": "probat", "rate": "rate", "cease": "ceas", "controll": "control", "roll": "roll",
		"generalizations": "gener", "oscillators": "oscil", "is": "is", "a": "a", "cells": "cell",
		"mutations": "mutat", "cancer": "cancer", "proteins": "protein",
	}
	for in, want := range cases {
		if got := Stem(in); got != want {
			t.Errorf("Stem(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAnalyze(t *testing.T) {
	got := Analyze("The patient's IL-6 levels rose 3.5-fold; they weren’t in the Cells.")
	want := []string{"patient", "il", "6", "level", "rose", "3.5", "fold", "werent", "cell"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Analyze = %q, want %q", got, want)
	}
	if Analyze("the and of") != nil {
		t.Fatal("stop words only should give no terms")
	}
}

func TestIndexBM25(t *testing.T) {
	ix := New(Params{})
	ix.Add("a#0", "a", "cats chase mice", map[string]any{"kind": "pets"})
	ix.Add("b#0", "b", "dogs chase cats and cats chase dogs", map[string]any{"kind": "pets"})
	ix.Add("c#0", "c", "stock markets fell", map[string]any{"kind": "news"})
	hits := ix.Search("cat", 10, nil)
	if len(hits) != 2 || hits[0].ID != "b#0" || hits[1].ID != "a#0" {
		t.Fatalf("hits = %+v", hits)
	}
	if h := ix.Search("markets", 10, func(m map[string]any) bool { return m["kind"] == "pets" }); len(h) != 0 {
		t.Fatalf("filter not applied: %+v", h)
	}
	ix.RemoveDocument("b")
	if hits := ix.Search("cats", 10, nil); len(hits) != 1 || hits[0].ID != "a#0" {
		t.Fatalf("after remove: %+v", hits)
	}
	ix.Add("a#0", "a", "stock", nil) // replace
	if ix.Len() != 2 {
		t.Fatalf("Len = %d", ix.Len())
	}
	if hits := ix.Search("cats", 10, nil); len(hits) != 0 {
		t.Fatalf("replaced record still found: %+v", hits)
	}
	// idf: the rarer term scores higher.
	ix2 := New(Params{})
	for i := range 10 {
		ix2.Add(fmt.Sprint(i), fmt.Sprint(i), "common words here", nil)
	}
	ix2.Add("r", "r", "common rare", nil)
	if h := ix2.Search("rare common", 1, nil); h[0].ID != "r" {
		t.Fatalf("rare term should win: %+v", h)
	}
}

func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{"", "The cat's 3.5 mg", "naïve café — über’s", "a.b,c'd", "\xff\xfe", "1,000,000 x'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, term := range Analyze(s) {
			if term == "" || IsStopWord(term) && len(term) > 3 {
				t.Fatalf("bad term %q from %q", term, s)
			}
		}
		ix := New(Params{})
		ix.Add("x", "d", s, nil)
		ix.Search(s, 3, nil)
		ix.RemoveDocument("d")
		if ix.Len() != 0 {
			t.Fatal("remove left records")
		}
	})
}

func TestAnalyzeQueryDropsQuestionWords(t *testing.T) {
	if got := AnalyzeQuery("How do I dispute my card payment?"); !reflect.DeepEqual(got, []string{"disput", "card", "payment"}) {
		t.Fatalf("AnalyzeQuery = %q", got)
	}
	// Only question words: keep them rather than search for nothing.
	if got := AnalyzeQuery("What do you have?"); !reflect.DeepEqual(got, []string{"what", "do", "you", "have"}) {
		t.Fatalf("fallback = %q", got)
	}
	ix := New(Params{})
	ix.Add("a", "a", "How we keep records", nil)
	ix.Add("b", "b", "Dispute a card payment", nil)
	if h := ix.Search("How do I dispute a payment?", 5, nil); len(h) != 1 || h[0].ID != "b" {
		t.Fatalf("question words should not match: %+v", h)
	}
}
