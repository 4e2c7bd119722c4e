package pii

import "strings"

// The gazetteers below are written for this package (no external lists).
// They are deliberately small and generic: they decide whether a capitalised
// word sequence is a person or a place, and which capitalised words are
// ordinary English that must not be taken for names.

func set(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[strings.ToLower(strings.ReplaceAll(w, "_", " "))] = true
	}
	return m
}

// firstNames: common given names across the locales of typical synthetic and
// real text (English, Romance, Germanic, Nordic, Slavic, Hungarian, Japanese,
// Chinese, Arabic, Indian).
var firstNames = set(`
james john robert michael william david richard joseph thomas charles christopher daniel matthew anthony mark
donald steven paul andrew joshua kenneth kevin brian george timothy ronald edward jason jeffrey ryan jacob gary
nicholas eric jonathan stephen larry justin scott brandon benjamin samuel gregory alexander frank patrick raymond
jack dennis jerry tyler aaron jose adam nathan henry douglas zachary peter kyle ethan walter noah jeremy christian
keith roger terry gerald harold sean austin carl arthur lawrence dylan jesse jordan bryan billy joe bruce gabriel
logan albert willie alan juan wayne elijah randy roy vincent ralph eugene russell bobby mason philip louis tom
mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy betty margaret sandra ashley
kimberly emily donna michelle carol amanda dorothy melissa deborah stephanie rebecca sharon laura cynthia kathleen
amy angela shirley anna brenda pamela emma nicole helen samantha katherine christine debra rachel carolyn janet
catherine maria heather diane ruth julie olivia joyce virginia victoria kelly lauren christina joan evelyn judith
megan andrea cheryl hannah jacqueline martha gloria teresa ann sara madison frances kathryn janice jean abigail
alice judy sophia grace denise amber doris marilyn danielle beverly isabella theresa diana natalie brittany
charlotte marie kayla alexis lori sue erik emil
jan jana petr pavel tomas lukas jakub martin ondrej katerina tereza lucie eva hana zuzana
piotr krzysztof andrzej marek maciej tomasz pawel michal anna agnieszka malgorzata katarzyna joanna magdalena
ivan sergei sergey dmitri dmitry alexei andrei vladimir nikolai mikhail olga tatiana natalia irina svetlana
yelena elena ekaterina anastasia yuri boris igor oleg
laszlo istvan janos zoltan gabor zsofia eszter katalin erzsebet ilona judit reka
matti mikko juha jukka timo pekka antti jari kari johanna aino liisa tuula sari anu
lars anders johan per nils erik karl sven magnus mats henrik mette kirsten ingrid astrid sigrid karin birgitta
anneli freja ida maja lena leif bjorn hans jens soren niels rasmus frederik mads
jean pierre jacques philippe francois michel alain nicolas laurent claude sophie camille chloe manon
giuseppe giovanni antonio mario luigi francesco marco alessandro andrea luca paolo giulia francesca chiara
jose juan carlos luis miguel javier francisco manuel pedro alejandro carmen lucia isabel pilar rosa marta
joao paulo ana beatriz mariana
hans klaus jurgen wolfgang stefan uwe dieter gunter helmut ursula monika sabine petra heike claudia
hiroshi takashi kenji yuki akira haruto yuto sota yumiko keiko sakura hana aiko naoko
wei li ming jing lei yan hui xin min jun fang
mohammed muhammad ahmed ali omar hassan hussein fatima aisha mariam layla yusuf ibrahim khalid
raj rahul amit vikram sanjay priya anjali deepa sunita ravi arjun
johannes jonas lucas felix maximilian paul leon finn noah elias emilia mia lea lina
`)

// countries and other places that are almost always locations.
var places = set(`
afghanistan albania algeria andorra angola argentina armenia australia austria azerbaijan bahamas bahrain
bangladesh barbados belarus belgium belize benin bhutan bolivia bosnia botswana brazil brunei bulgaria burundi
cambodia cameroon canada chad chile china colombia comoros congo croatia cuba cyprus czechia czech_republic denmark
djibouti dominica ecuador egypt eritrea estonia eswatini ethiopia fiji finland france gabon gambia georgia germany
ghana greece greenland grenada guatemala guinea guyana haiti honduras hungary iceland india indonesia iran iraq
ireland israel italy jamaica japan jordan kazakhstan kenya kiribati korea kosovo kuwait kyrgyzstan laos latvia
lebanon lesotho liberia libya liechtenstein lithuania luxembourg madagascar malawi malaysia maldives mali malta
mauritania mauritius mexico micronesia moldova monaco mongolia montenegro morocco mozambique myanmar namibia nauru
nepal netherlands holland nicaragua niger nigeria norway oman pakistan palau panama paraguay peru philippines poland
portugal qatar romania russia rwanda samoa senegal serbia seychelles singapore slovakia slovenia somalia spain
sudan suriname sweden switzerland syria taiwan tajikistan tanzania thailand togo tonga tunisia turkey turkmenistan
tuvalu uganda ukraine uruguay uzbekistan vanuatu venezuela vietnam yemen zambia zimbabwe usa uk england scotland
wales america europe asia africa
alabama alaska arizona arkansas california colorado connecticut delaware florida hawaii idaho illinois indiana
iowa kansas kentucky louisiana maine maryland massachusetts michigan minnesota mississippi missouri montana
nebraska nevada ohio oklahoma oregon pennsylvania tennessee texas utah vermont virginia washington wisconsin wyoming
london paris berlin madrid rome vienna prague budapest warsaw moscow stockholm oslo copenhagen helsinki amsterdam
brussels lisbon dublin athens zurich geneva munich hamburg frankfurt milan barcelona toronto vancouver montreal
sydney melbourne tokyo osaka beijing shanghai seoul delhi mumbai dubai cairo istanbul chicago boston seattle
denver dallas houston austin miami atlanta phoenix detroit philadelphia brooklyn manhattan jerusalem bangkok
`)

// commonCaps: capitalised words that are ordinary English (sentence starters,
// days, months, titles, nationalities, common nouns in headings).
var commonCaps = set(`
the a an and or but if then so as at by for from in into of on to with without about after before during under
over this that these those there here it its i i'm i've i'll i'd me my mine we our you your he his she her they
their them what which who whom whose when where why how is are was were be been being do does did have has had
can could will would shall should may might must not no yes please thanks thank hello hi hey dear sir madam
mr mrs ms miss dr prof st mt jr sr phd md
monday tuesday wednesday thursday friday saturday sunday january february march april may june july august
september october november december today tomorrow yesterday
name address phone email date mobile desk fax tel patient male female bot user customer agent card number
street road avenue lane drive apt suite unit box po p.o
american english british french german spanish italian russian polish dutch swedish danish norwegian finnish
czech hungarian greek turkish chinese japanese korean indian arabic jewish muslim christian catholic
protestant hindu buddhist african european asian latin mexican canadian australian irish scottish welsh
government president minister king queen prince princess royal court police army navy church university
school college hospital bank company inc ltd llc corp group news weekly daily times post
action adventure animation comedy kids family mystery suspense drama horror romance thriller documentary
directed written produced starring music song album book novel film movie show series season episode chapter
article treaty union european united states kingdom republic federal national international
god lord jesus christ bible internet web google facebook twitter youtube amazon microsoft apple
north south east west northern southern eastern western new old great big little good best first last
mission statement note notes summary subject re fw fwd regards best sincerely cheers
is are can could would should will what why how when where who which do does did have has
also just very really well now then still even only never always sometimes often
i'm it's that's there's what's let's don't can't won't isn't
ok okay sure sorry great nice wow oh
`)

// streetSuffixes are words (or word endings) that end a street name.
var streetSuffixes = set(`
street st st. road rd rd. avenue ave ave. lane ln ln. drive dr dr. boulevard blvd blvd. court ct ct. way place pl
pl. square sq terrace parkway pkwy circle cir highway hwy trail alley crescent close row union plaza ridge route
mall pass path park point port ports shore shores spring springs station summit track turnpike vista walk wall
well wells fork forks fort freeway gardens gateway glen green grove harbor haven heights hill hills hollow island
junction key knoll lake lakes landing light lights loaf lock locks manor meadow meadows mill mills mission motorway
mount mountain neck orchard oval overpass pike pine pines plain plains radial ramp ranch rapid rapids rest river
run shoal skyway stravenue stream trace trafficway tunnel underpass valley viaduct view village ville bypass camp
canyon cape causeway center centre cliff club common corner course cove creek crest crossing crossroad curve dale dam
divide estate estates expressway extension falls ferry field fields flat flats ford forest garden gateway
u. utca ulica ul. gata gate gatan vej vägen vagen väg straße strasse weg gasse laan straat veien tie katu
`)

// streetPrefixes start a street name in Romance and other languages.
var streetPrefixes = set(`
rue calle via avenida av. rua paseo plaza carrer viale piazza strada avinguda travessera camino carretera
boulevard chemin allee allée place quai impasse rambla praça largo
`)

// streetEndings are suffixes glued to the street word (Laukaantie, Koskikatu, Storgatan).
var streetEndings = []string{"tie", "katu", "gatan", "vägen", "vagen", "vej", "straße", "strasse", "weg", "gasse",
	"laan", "straat", "veien", "gate", "utca", "ulica", "street", "road", "stræde", "vegen", "polku", "kuja"}

// addrUnits introduce a unit inside an address.
var addrUnits = set(`apt apt. apartment suite ste ste. unit flat room floor fl. bldg building no. nr. box psc cmr apo fpo dpo`)

// shipPrefixes start the name of a ship in a military (FPO) address.
var shipPrefixes = set(`usns usnv uss uscgc`)

var usStates = set(`AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC
ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR`)

// orgWords mark a run of capitalised words as the name of an organisation,
// a law or a body ("Allstate Insurance Group", "Civil Rights Act",
// "American Border Force"), not of a person or a place.
var orgWords = set(`inc inc. corp corp. corporation company co co. llc ltd ltd. limited gmbh ag sa plc nv bv group holdings
partners associates bank insurance investments investment capital resources solutions systems technologies
technology agency foundation institute university college school hospital clinic association society council
committee department ministry services consulting industries enterprises media labs laboratories studios
airlines airways motors pharmaceuticals pharma energy records publishing network fund trust club union act
force commission authority bureau board museum library journal magazine`)
