package normalize

// confusables maps lower-case Cyrillic, Greek and a few other letters that
// look like Latin letters to those Latin letters (after diacritics are
// stripped and the text is lower-cased). It follows the spirit of Unicode
// TR39's confusables for the scripts that matter in practice for evasion.
var confusables = map[rune]rune{
	// Cyrillic
	'а': 'a', 'в': 'b', 'с': 'c', 'ԁ': 'd', 'е': 'e', 'ё': 'e', 'һ': 'h', 'і': 'i', 'ї': 'i',
	'ј': 'j', 'к': 'k', 'ӏ': 'l', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'ԛ': 'q', 'ѕ': 's',
	'т': 't', 'у': 'y', 'ү': 'y', 'х': 'x', 'ԝ': 'w', 'ь': 'b', 'ɡ': 'g', 'ᴄ': 'c', 'ѵ': 'v',
	'з': '3', 'ч': '4', 'ԍ': 'g', 'ӡ': '3', 'п': 'n', 'г': 'r', 'ѡ': 'w', 'ꙇ': 'i',
	// Greek
	'α': 'a', 'β': 'b', 'γ': 'y', 'δ': 'd', 'ε': 'e', 'η': 'n', 'ι': 'i', 'κ': 'k',
	'ν': 'v', 'ο': 'o', 'ρ': 'p', 'σ': 'o', 'ς': 'c', 'τ': 't', 'υ': 'u', 'χ': 'x',
	'ω': 'w', 'ϲ': 'c', 'ϳ': 'j', 'μ': 'u', 'ϝ': 'f',
	// Latin extensions and symbols used as letters
	'ı': 'i', 'ɩ': 'i', 'ȷ': 'j', 'ł': 'l', 'ø': 'o', 'đ': 'd', 'ħ': 'h', 'ŧ': 't',
	'ƅ': 'b', 'ɑ': 'a', 'ɒ': 'a', 'ɛ': 'e', 'ɔ': 'c', 'ʋ': 'u', 'ʏ': 'y', 'ᴀ': 'a',
	'ʙ': 'b', 'ᴅ': 'd', 'ᴇ': 'e', 'ɢ': 'g', 'ʜ': 'h', 'ɪ': 'i', 'ᴊ': 'j', 'ᴋ': 'k',
	'ʟ': 'l', 'ᴍ': 'm', 'ɴ': 'n', 'ᴏ': 'o', 'ᴘ': 'p', 'ʀ': 'r', 'ꜱ': 's', 'ᴛ': 't',
	'ᴜ': 'u', 'ᴠ': 'v', 'ᴡ': 'w', 'ᴢ': 'z', 'ß': 's',
}
