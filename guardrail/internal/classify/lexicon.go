package classify

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The evaluative lexicons give the hate model knowledge that no data set of
// templated cases can: which words praise, which demean, which threaten,
// which deny a group its worth when negated, which negate, which report
// what someone else said and which condemn it. Each becomes a shared
// feature (see hateScan), so a sentence frame the model never saw still
// scores by the kind of words it uses and how they combine. Written for this
// project from general English (not from any evaluation set); folded
// (lower-case) forms with common inflections.
var (
	// negativeWords demean: contempt, disgust, negative attributes,
	// dehumanising nouns.
	negativeWords = wordSet(`hate hates hated hating hatred despise despises despised despising loathe loathes
	loathed loathing detest detests detested disgust disgusts disgusted disgusting revolting revolt revolts
	repulsive repugnant repellent vile filthy dirty foul nasty gross sickening nauseating abhorrent abominable
	despicable contemptible contempt disdain scorn resent resents resented loathsome odious
	scum scumbag scumbags vermin parasite parasites parasitic leech leeches locust locusts rats rat rodents
	cockroaches cockroach roaches pests pest plague plagues disease diseases diseased cancer cancerous tumour tumor
	virus infestation infest infested infesting swarm swarms hordes horde filth garbage trash rubbish waste
	animals animal beasts beast savages savage barbaric barbarians barbarian primitive subhuman subhumans
	inhuman apes ape monkeys monkey pigs swine dogs mongrels mongrel
	inferior inferiority lesser worthless useless pathetic stupid stupidity dumb idiot idiots idiotic moronic
	moron morons brainless ignorant imbecile imbeciles retarded cretins cretin dimwits
	lazy dishonest liars liar lying cheats cheat thieves thief criminals criminal crooks thugs thug
	greedy sneaky untrustworthy treacherous deceitful devious cunning irrational hysterical hypocrites hypocrite
	violent dangerous evil wicked malicious ugly hideous grotesque smelly stinking stink stinks
	freaks freak abnormal unnatural perverted perverts pervert degenerate degenerates deviant deviants depraved
	twisted psychos psycho lunatics lunatic insane deranged paedophiles pedophiles predators predator rapists
	terrorists terrorist extremists fanatics invaders invasion freeloaders scroungers spongers burden burdens
	dregs scourge menace threat threats problem problems pollute polluting ruin ruining ruined ruins destroy
	destroying destroys shameful disgrace disgraceful embarrassment horrible horrendous terrible awful dreadful
	appalling monstrous monsters monster demons demon devils devil unwanted unwelcome undesirable
	sick sickens sickened rage anger angry furious uncivilised uncivilized backward inbred ungrateful entitled
	arrogant incompetent inept clueless hopeless unclean impure soulless heartless illiterate uneducated
	unintelligent ruthless corrupt incapable inhumane indecent
	mock mocked mocking ridicule ridiculed humiliate humiliated cruel cruelty bully bullied oppress oppressed
	abuse abused harass harassed insult insulted`)
	// threatWords are violence, expulsion and its means.
	threatWords = wordSet(`kill killed killing kills murder murdered murdering slaughter slaughtered slaughtering
	exterminate exterminated exterminating extermination eradicate eradicated eradication eliminate eliminated
	annihilate annihilated wipe wiped die dead death deaths dying hang hanged hanging lynch lynched lynching
	shoot shot shooting stab stabbed stabbing burn burned burnt burning gas gassed bomb bombed bombing beat
	beaten beating hurt hurting harm harmed rape raped raping torture tortured torturing execute executed
	execution executions behead beheaded strangle strangled drown drowned hunt hunted punch punched
	deport deported deporting deportation expel expelled banish banished punish punished suffer suffering
	disappear cleanse cleansing purge purged genocide massacre massacred butcher butchered cages caged
	sterilise sterilised sterilize sterilized throats bullet bullets rid attack attacks attacking attacked`)
	// positiveWords praise, welcome or show warmth. "like" is a verb only
	// after a subject or auxiliary (see likeVerb); "people" is no praise.
	positiveWords = wordSet(`love loves loved loving lovely adore adored adores admire admires admired admirable
	admiration respect respects respected respectful cherish cherished cherishes appreciate appreciated
	appreciates appreciation treasure treasured celebrate celebrated celebrating celebrates
	proud pride wonderful great good brilliant amazing awesome beautiful gorgeous stunning mercy
	smart clever intelligent wise talented gifted skilled honest kind kindest kinder kindness generous friendly
	warm caring compassionate compassion sympathy empathy brave courageous strong inspiring inspirational
	inspiration inspire inspired heroes hero fantastic excellent incredible remarkable outstanding delightful
	pleasant nice sweet happy glad joy joyful grateful thankful thanks thank hug hugs hugged embrace
	embraced smile smiles smiling laugh honour honoured honor honored protect protected protecting defend
	defended defending support supports supported supporting include included inclusion valuable enrich
	enriches enriched benefit benefits contribute contributes contributed contribution contributions care
	cares caring help helping helped fair peace peaceful hardworking hard-working capable competent rational
	reasonable trustworthy decent dignity backbone asset assets blessing`)
	// worthWords are neutral on their own but deny a group its worth,
	// rights or place when negated ("no right to", "not human", "have no
	// place", "can never be trusted", "do not matter").
	worthWords = wordSet(`human humans humanity worth worthy value valued right rights equal equals equality place
	deserve deserves deserved deserving
	belong belongs welcome welcomed matter matters exist existence alive trust trusted trusting accepted
	tolerated`)
	// verdictWords judge a statement or act as fine; negated ("never
	// acceptable", "not true", "not funny") they condemn it.
	verdictWords = wordSet(`acceptable okay ok true fine appropriate funny cool justified excusable`)
	// negators negate an evaluative word within the next few words of the
	// same clause.
	negators = wordSet(`not no never nobody none nothing neither nor don't doesn't didn't isn't aren't wasn't
	weren't won't wouldn't shouldn't can't cannot couldn't mustn't haven't hasn't hadn't ain't without zero
	lack lacks lacking less hardly barely nowhere stop stopped`)
	// reportWords introduce what someone else said or wrote: the frame of
	// counter speech ("saying that ...", "calling them ..."). Opinions of
	// the speaker (think, believe) are not among them.
	reportWords = wordSet(`say says saying said call calls calling called claim claims claiming claimed tweet
	tweets tweeted tweeting post posts posted posting wrote write writes writing written comment comments
	commented statement statements remark remarks words shout shouts shouted shouting tell tells telling told
	spread spreads spreading suggest suggests suggesting suggested repeat repeating chant chanting chanted
	slogan slogans label labelling labeling labelled labeled quote quoted quoting`)
	// condemnWords judge speech or behaviour as bigoted, false or harmful:
	// the verdict of counter speech.
	condemnWords = wordSet(`hateful bigot bigots bigoted bigotry racist racists racism sexist sexists sexism
	homophobic homophobe homophobes homophobia transphobic transphobe transphobes transphobia xenophobic
	xenophobe xenophobes xenophobia islamophobic islamophobia antisemitic antisemite antisemites antisemitism
	anti-semitic ableist ableism misogynist misogynists misogynistic misogyny prejudice prejudiced
	discrimination discriminatory discriminate discriminating offensive unacceptable misguided
	ashamed shame shameful outrageous outrage appalled banned ban bans report reported reporting flagged
	deleted consequences lies lie lied myth myths stereotype stereotypes stereotyping nonsense wrong harmful
	hurtful hurts upsetting dehumanising dehumanizing slur slurs abusive harassment toxic ignorance
	misinformation disinformation untrue false baseless bullshit`)
)

// profaneWords are swearing: not hate alone, but contempt when aimed at a
// group.
var profaneWords = wordSet(`fuck fucks fucking fucked fucker fuckers motherfucker motherfuckers shit shits shitty
	shithead shitheads crap crappy damn damned bloody arse ass asshole assholes arsehole arseholes bastard bastards
	piss pissed dick dicks dickhead dickheads prick pricks wanker wankers twat twats bollocks`)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// Word kinds, as bits of wordKinds.
const (
	kindIdentity = 1 << iota
	kindSlur
	kindNegative
	kindThreat
	kindPositive
	kindNegator
	kindWorth
	kindReport
	kindCondemn
	kindVerdict
	kindProfane
	// Grammar the hate scan reads (see hate.go).
	kindContrast
	kindClause
	kindThem
	kindSelf
	kindPostNeg
	kindWeak
	kindLikeSubject
	kindNegatedVerb
	kindInvertingAux
	kindSubject
)

// wordKinds holds every word of the identity, slur and evaluative lists
// with its kinds, so that a text is scanned with one lookup per word.
var wordKinds = func() map[string]uint32 {
	m := map[string]uint32{}
	for _, l := range []struct {
		set  map[string]bool
		kind uint32
	}{{identityWords, kindIdentity}, {identityVariants, kindIdentity}, {slurs, kindSlur}, {negativeWords, kindNegative},
		{threatWords, kindThreat}, {positiveWords, kindPositive}, {negators, kindNegator}, {worthWords, kindWorth},
		{reportWords, kindReport}, {condemnWords, kindCondemn}, {verdictWords, kindVerdict}, {profaneWords, kindProfane},
		{contrastWords, kindContrast}, {clauseWords, kindClause}, {themWords, kindThem}, {selfWords, kindSelf},
		{postNegators, kindPostNeg}, {weakWords, kindWeak}, {likeSubjects, kindLikeSubject},
		{negatedVerbs, kindNegatedVerb}, {invertingAux, kindInvertingAux}, {subjects, kindSubject}} {
		for w := range l.set {
			m[w] |= l.kind
		}
	}
	return m
}()

// lexicalKinds are the kinds of the lexicons proper (not grammar).
const lexicalKinds = kindContrast - 1

// kindFirst marks the bytes that start a word of wordKinds, and
// kindMaxLen is the longest such word: words that cannot be in the map are
// skipped without hashing them.
var kindFirst, kindMaxLen = func() (t [256]bool, n int) {
	for w := range wordKinds {
		t[w[0]] = true
		n = max(n, len(w))
	}
	return t, n
}()

// kindOf returns the kinds of folded word w.
func kindOf(w string) (uint32, bool) {
	if len(w) == 0 || len(w) > kindMaxLen || !kindFirst[w[0]] {
		return 0, false
	}
	k, ok := wordKinds[w]
	return k, ok
}

// lookupKind returns the kinds of a word of Words and the length of the
// part of it they belong to: the word without trailing apostrophes or, when
// that is not listed, its part before the first apostrophe ("women's"; a
// negator is not looked for there).
func lookupKind(w string) (kind uint32, n int) {
	w = strings.TrimRight(w, "'")
	if k, ok := kindOf(w); ok {
		return k, len(w)
	}
	if i := strings.IndexByte(w, '\''); i > 0 {
		if k, ok := kindOf(w[:i]); ok {
			return k & lexicalKinds &^ kindNegator, i
		}
	}
	return 0, 0
}

// Words splits folded text into words: runs of letters, digits and '.
func Words(folded string) []string {
	n := 0 // count first, so the slice is allocated once
	for i := 0; i < len(folded); i++ {
		if folded[i] == ' ' {
			n++
		}
	}
	out := make([]string, 0, n+1)
	start := -1
	for i := 0; i < len(folded); {
		c := folded[i]
		in, sz := false, 1
		if c < utf8.RuneSelf {
			in = wordBytes[c]
		} else {
			var r rune
			r, sz = utf8.DecodeRuneInString(folded[i:])
			in = unicode.IsLetter(r) || unicode.IsDigit(r)
		}
		if in && start < 0 {
			start = i
		} else if !in && start >= 0 {
			out = append(out, folded[start:i])
			start = -1
		}
		i += sz
	}
	if start >= 0 {
		out = append(out, folded[start:])
	}
	return out
}

var wordBytes = func() (t [256]bool) {
	for c := 0; c < utf8.RuneSelf; c++ {
		t[c] = unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c)) || c == '\''
	}
	return t
}()
