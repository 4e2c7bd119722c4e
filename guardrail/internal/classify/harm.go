package classify

// harmTopics name what harmful requests ask for: weapons, drugs, intrusion,
// theft and fraud, violence, abuse, extremism and deception. Written for
// this project from general English. A request that names one of them and
// ends in token soup is an optimised jailbreak (see guardrail's use of
// package perplexity); the words alone are not an attack.
var harmTopics = wordSet(`bomb bombs explosive explosives detonate detonator grenade grenades weapon weapons
	gun guns firearm firearms rifle rifles silencer ammunition poison poisons poisoning toxin toxins ricin anthrax
	sarin nerve bioweapon bioweapons meth methamphetamine cocaine heroin fentanyl opioids narcotics drugs
	hack hacking hacker hackers malware ransomware virus viruses trojan keylogger exploit exploits phishing ddos
	botnet steal stealing stolen theft rob robbery burglary burglarize shoplift shoplifting fraud scam scams
	launder laundering counterfeit counterfeiting forge forgery smuggle smuggling trafficking kill killing murder
	assassinate assassination suicide self-harm torture kidnap kidnapping abduct stalk stalking harass harassment
	blackmail extort extortion terrorist terrorism terror massacre genocide racist propaganda misinformation
	disinformation defamatory defame libel untraceable undetectable illegally lethal overdose incite
	radicalize radicalise extremist manipulate evade evading bypass harm harmful harming dangerous violence
	violent fake racism hatred hateful assault abuse illegal cheat cheating incite incites inciting harasses
	harassing burgle burglar spy spying arson vandalize vandalise dox doxx swatting cyberbully cyberbullying
	anorexia bulimia lockpicking napalm incendiary toxic launders smugglers steals stole forged
	crack thermite poisonous fatal saboteurs sabotage derail robber robbers heist inferior`)

// HarmfulRequest reports whether words (Words of folded text) name a
// harmful topic.
func HarmfulRequest(words []string) bool {
	for _, w := range words {
		if harmTopics[w] {
			return true
		}
	}
	return false
}

// HarmTopic reports whether folded word w names a harmful topic.
func HarmTopic(w string) bool { return harmTopics[w] }
