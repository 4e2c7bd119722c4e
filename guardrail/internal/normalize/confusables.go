package normalize

import (
	"sync"
	"unicode"
	"unicode/utf8"

	tr39 "github.com/mtibben/confusables"
)

// Look-alike letters are folded with the data of Unicode TR39
// (confusables.txt, through github.com/mtibben/confusables): a letter whose
// TR39 skeleton is one ASCII letter folds to that letter in lower case, so
// Cyrillic "а", Greek "ο", Armenian "օ" or Cherokee "Ꭺ" read as Latin "a",
// "o", "o", "a". Small capitals and stroked letters that TR39 does not list
// as confusables, but that evasions use as Latin letters, are added by
// extraConfusables.

// extraConfusables supplements TR39 (and overrides it where TR39 derives the
// mapping from the capital form, like Greek η, whose lower case reads as n).
// Keys are lower case. Targets that are digits (Cyrillic з, ч) are used by
// Full folding only, never in the Basic view the PII detectors read.
var extraConfusables = map[rune]rune{
	'ɴ': 'n', 'ŧ': 't', 'ᴍ': 'm', 'ʟ': 'l', 'ł': 'l', 'đ': 'd', 'ᴋ': 'k', 'ᴊ': 'j', 'ᴛ': 't', 'ᴀ': 'a',
	'ʙ': 'b', 'ᴅ': 'd', 'ᴘ': 'p', 'ʜ': 'h', 'ɢ': 'g', 'ᴇ': 'e', 'ʀ': 'r', 'ꜱ': 's', 'ᴜ': 'u', 'ᴠ': 'v',
	'ᴡ': 'w', 'ᴢ': 'z', 'ᴏ': 'o', 'ɪ': 'i', 'ʏ': 'y', 'ᴄ': 'c',
	'ø': 'o', 'ß': 's', 'ħ': 'h', 'ɔ': 'c', 'ɒ': 'a', 'ɛ': 'e', 'ȷ': 'j',
	'п': 'n', 'ω': 'w', 'δ': 'd', 'ς': 'c', 'η': 'n', 'μ': 'u', 'ӏ': 'l',
	'з': '3', 'ӡ': '3', 'ч': '4',
}

var (
	confOnce  sync.Once
	confTable map[rune]rune
)

// confusable returns the ASCII character the lower-case letter r folds to,
// or 0.
func confusable(r rune) rune {
	if r < utf8.RuneSelf {
		return 0
	}
	confOnce.Do(buildConfusables)
	return confTable[r]
}

// buildConfusables derives the lower-case look-alike table from TR39 once.
// Scripts with thousands of ideographs or syllables, none of which look like
// a Latin letter, are skipped to keep the one-time cost small.
func buildConfusables() {
	skip := []*unicode.RangeTable{unicode.Han, unicode.Hangul, unicode.Yi, unicode.Tangut, unicode.Hiragana,
		unicode.Katakana, unicode.Nushu, unicode.Khitan_Small_Script, unicode.Egyptian_Hieroglyphs, unicode.Cuneiform,
		unicode.Anatolian_Hieroglyphs, unicode.Bamum}
	t := map[rune]rune{}
	for _, rng := range unicode.Letter.R16 {
		for r := rune(rng.Lo); r <= rune(rng.Hi); r += rune(rng.Stride) {
			addConfusable(t, r, skip)
		}
	}
	for _, rng := range unicode.Letter.R32 {
		if rng.Lo > 0x1FFFF {
			break
		}
		for r := rune(rng.Lo); r <= rune(rng.Hi); r += rune(rng.Stride) {
			addConfusable(t, r, skip)
		}
	}
	for k, v := range extraConfusables {
		t[k] = v
	}
	confTable = t
}

func addConfusable(t map[rune]rune, r rune, skip []*unicode.RangeTable) {
	if r < utf8.RuneSelf || unicode.In(r, skip...) {
		return
	}
	lr := unicode.ToLower(r)
	if _, ok := t[lr]; ok {
		return
	}
	for _, x := range []rune{lr, r} {
		sk := tr39.Skeleton(string(x))
		if len(sk) == 1 && (sk[0] >= 'a' && sk[0] <= 'z' || sk[0] >= 'A' && sk[0] <= 'Z') {
			t[lr] = unicode.ToLower(rune(sk[0]))
			return
		}
	}
}
