package guardrail

// profanity is the managed PROFANITY word list: common English profanity and
// slurs, written for this project. Entries are matched after normalisation
// (case, leetspeak, look-alike letters, spacing), on word boundaries. Plural
// and -ing forms are listed where they are common.
var profanity = []string{
	"fuck", "fucks", "fucked", "fucker", "fuckers", "fucking", "fuckin", "motherfucker", "motherfuckers", "mf",
	"shit", "shits", "shitty", "bullshit", "horseshit", "shithead", "shitface",
	"ass", "asses", "asshole", "assholes", "arse", "arsehole", "jackass", "dumbass", "smartass",
	"bitch", "bitches", "bitching", "sonofabitch",
	"bastard", "bastards", "damn", "goddamn", "dammit", "crap",
	"dick", "dicks", "dickhead", "cock", "cocks", "cocksucker", "prick", "pricks",
	"cunt", "cunts", "twat", "twats", "pussy", "pussies", "wanker", "wankers", "tosser", "bollocks", "bugger",
	"slut", "sluts", "whore", "whores", "skank", "hoe", "hoes",
	"piss", "pissed", "pissing", "douche", "douchebag", "jerkoff", "wtf", "stfu", "bellend", "knobhead",
	"retard", "retards", "retarded", "spastic",
	"fag", "fags", "faggot", "faggots", "dyke", "dykes", "tranny", "trannies",
	"nigger", "niggers", "nigga", "niggas", "chink", "chinks", "spic", "spics", "kike", "kikes", "wetback",
	"gook", "gooks", "raghead", "towelhead", "paki", "pakis", "coon", "coons", "beaner", "beaners",
}
