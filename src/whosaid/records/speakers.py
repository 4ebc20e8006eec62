"""Speaker-entity resolution: which entity of the article speaks in each attribution.

For every attribution the *speaker entity* is the most complete proper-name mention of
the entity that speaks, anywhere in the article, without titles (codebook section
"speaker entity"): pronouns, descriptions and short names resolve to it; unnamed groups,
documents and descriptions with no name in the article have none.

Rule-based and pure Python (no model, no data files, nothing imported from the rest of
the package); linear in the article's length. The components (each can be switched off
with `ResolverOptions` for an ablation; docs/speakers.md has what each adds):

1. **Tokens and sentences**: a regular-expression tokenizer that keeps abbreviations
   ("Mr.", "Sen.", "U.S.") and possessives ("Trump's") in one token and splits "he's",
   "Sanders-endorsed"; sentences end at ., ! and ? before a capitalised word, and at
   line breaks. Quotations are the spans between quotation marks.
2. **Name mentions**: runs of capitalised tokens, joined inside institutions by "of",
   "for", "on", "to", "and" ("United Federation of Teachers", "Securities and Exchange
   Commission"). Not names: sentence-initial common words (unless also capitalised
   mid-sentence), words of a title-case headline not seen capitalised in the body,
   months and days, party and nationality adjectives ("Republican presidential
   nominee"), groups ("Republicans"), the title of a work in quotation marks.
3. **Titles** (`titles`): leading titles, roles and their modifiers are stripped
   ("Indiana Gov. Mike Pence" -> "Mike Pence", "Secretary of State John Kerry" -> "John
   Kerry", "Author Roger Stone" -> "Roger Stone"; "Pope Francis" keeps "Pope"). The title,
   the role words before a name ("Democratic presidential nominee"), an appositive's
   role words ("Keron Blair, executive director of AROS") and "(R-Texas)" are kept as
   the entity's *descriptors*.
4. **Aliases** (`aliases`): names of two words or more are entities ("Hillary Rodham
   Clinton" = "Hillary Clinton"; "Supreme Court" = "U.S. Supreme Court"); a short name
   joins the full name it ends ("Cruz") or starts ("Melanie"), "Mr."/"Mrs." choose by
   gender, an acronym joins the name it abbreviates ("AROS", "DOJ", "(AROS)" after a
   name). Between several bearers of a surname: the one the bare surname means in
   2015-16 US political news ("Clinton" -> Hillary Clinton), else the most mentioned,
   else the first in the body. The canonical mention is the most complete name (most
   words, initials aside), at its first occurrence in the article.
5. **Speaker span**: cut at commas, parentheses, dashes, "and", prepositions and
   relative pronouns outside names; a name at the end of the first chunk is the
   speaker ("longtime Democratic pollster Pat Caddell"); else a pronoun; else an
   appositive name (`appositives`: "Trump's running mate, Indiana Gov. Mike Pence,")
   or the first named of several joined by "and"; else a description. A possessive is
   the thing possessed ("Trump's campaign": none) unless the span is the possessor
   alone ("By Trump's own admission"). "said Hester" (a cue word as speaker): the name.
6. **Pronouns** (`pronouns`): every he/she/him/his/her of the text, in order, is
   resolved to the person entity scoring best: recency in sentences (last 6), subject
   of its sentence, the current speaker, frequency (`salience`; off: the most recent);
   names inside a quotation do not count for a pronoun outside it; gender must agree
   (`gender`: first-name lists, honorifics, gendered role words, and pronouns right
   after the only name of a sentence). "who", "which", "that" (`relatives`): the name
   right before, past appositives (", 59, of Ashton, Md.,"), the first of "X and Y",
   a definite description before it, or X in "X is a ... who". "it"/"they": an
   institution that is the subject of the sentence, named earlier in it, the current
   speaker, or the previous sentence's subject. "I", "we", "my" (`first_person`):
   inside a quotation its speaker; outside, a letter's signature line below, or an
   opinion piece's closing author line ("Rick Scott is the Republican governor of
   Florida."); else (the author, "you") none.
7. **Descriptions** (`descriptions`): indefinite, plural and possessed descriptions
   have none. A definite one ("the senator", "the Democratic nominee") takes the person
   whose descriptors share most words with it (then the most recent); "the alliance",
   "the fund" the institution with that word in its name (or its acronym's
   expansion); "the newspaper", "the company", "the group" the last institution of
   that kind in the last sentences (not "the Clinton campaign"); "the city of X" X; a
   headline's bare description ("Philippine lawmaker") the person the body introduces;
   a person role with no descriptor match the most salient person of fitting gender
   ("the woman"), except for generic roles ("the official", "the spokesman").

`resolve_speakers(text, speakers, contents)` returns the entities and one resolution
per attribution.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections import deque
from dataclasses import dataclass, field
from typing import Sequence

__all__ = ["Mention", "Entity", "SpeakerResolution", "ResolvedSpeakers", "ResolverOptions",
           "resolve_speakers", "speaker_kind", "COMPONENTS"]

Offsets = tuple[int, int]

# ------------------------------------------------------------------ word lists

_PRONOUNS_M = {"he", "him", "his", "himself"}
_PRONOUNS_F = {"she", "her", "hers", "herself"}
_PRONOUNS_IT = {"it", "its", "itself"}
_PRONOUNS_THEY = {"they", "them", "their", "theirs", "themselves"}
_PRONOUNS_FIRST = {"i", "me", "my", "mine", "myself", "we", "us", "our", "ours", "ourselves"}
_PRONOUNS_YOU = {"you", "your", "yours", "yourself", "yourselves"}
_RELATIVES = {"who", "whom", "whose", "which", "that"}
PRONOUNS = (_PRONOUNS_M | _PRONOUNS_F | _PRONOUNS_IT | _PRONOUNS_THEY | _PRONOUNS_FIRST
            | _PRONOUNS_YOU | _RELATIVES | {"one", "someone", "somebody", "anyone", "everyone",
                                           "nobody", "none", "this", "these", "those", "each"})

#: capitalised words that never start a name
_STOP_CAP = {
    "the", "a", "an", "and", "or", "but", "nor", "so", "yet", "for", "if", "when", "while", "after",
    "before", "as", "at", "by", "in", "on", "of", "to", "from", "with", "without", "into", "about",
    "this", "that", "these", "those", "there", "here", "then", "than", "now", "not", "no", "yes",
    "it", "its", "he", "she", "his", "her", "him", "they", "their", "them", "we", "our", "us", "i",
    "my", "me", "you", "your", "who", "whom", "whose", "what", "which", "where", "why", "how",
    "all", "any", "both", "each", "every", "few", "many", "more", "most", "much", "other", "some",
    "such", "only", "also", "even", "still", "just", "however", "meanwhile", "instead", "though",
    "although", "because", "since", "until", "unless", "once", "do", "does", "did", "is", "are",
    "was", "were", "be", "been", "has", "have", "had", "will", "would", "can", "could", "should",
    "may", "might", "must", "let", "according", "said", "says", "asked", "told", "today",
    "tonight", "yesterday", "tomorrow", "last", "next", "one", "two", "three", "first",
    "like", "despite", "during", "over", "under", "between", "among", "through", "against",
    "via", "per", "oh", "ah", "well", "ok", "okay", "please", "thank", "thanks", "dear",
    "everything", "nothing", "something", "anything", "everyone", "anyone", "someone",
    "nobody", "everybody", "somebody", "maybe", "perhaps", "following", "overall", "worse",
    "better", "throughout", "besides", "otherwise", "thus", "therefore", "hence", "again",
    "indeed", "later", "earlier", "already", "often", "sometimes", "never", "always",
    "almost", "nearly", "about", "around", "across", "along", "above", "below", "beyond",
    "toward", "towards", "upon", "within", "whether", "whatever", "whoever", "whenever",
    "wherever", "however", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty",
    "ninety", "hundred", "thousand", "million", "billion", "four", "five", "six", "seven",
    "eight", "nine", "ten", "eleven", "twelve", "second", "third", "finally", "first",
    "here's", "there's", "that's", "it's", "what's", "let's", "don't", "can't", "won't",
    "yes", "sure", "really", "clearly", "obviously", "certainly", "unfortunately",
    "fortunately", "interestingly", "notably", "importantly", "similarly", "likewise",
    "regardless", "nevertheless", "nonetheless", "accordingly", "consequently", "specifically",
    "currently", "recently", "previously", "ultimately", "additionally", "furthermore",
    "moreover", "meanwhile", "separately", "asked", "speaking", "writing", "according",
}
_MONTHS = {"january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
           "sep", "sept", "oct", "nov", "dec", "monday", "tuesday", "wednesday", "thursday",
           "friday", "saturday", "sunday", "christmas", "easter", "thanksgiving", "halloween"}
#: titles and roles stripped from names (lower case, without the period)
_TITLES = {
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "sir", "dame", "lord", "lady",
    "president", "vice", "sen", "senator", "rep", "representative", "congressman",
    "congresswoman", "gov", "governor", "lt", "secretary", "sec", "attorney", "general", "gen",
    "judge", "justice", "rev", "reverend", "pastor", "rabbi", "imam", "father", "bishop",
    "cardinal", "pope", "mayor", "chairman", "chairwoman", "chair", "minister", "prime",
    "premier", "chancellor", "speaker", "leader", "majority", "minority", "whip", "chief",
    "director", "ambassador", "col", "capt", "captain", "sgt", "sergeant", "adm", "admiral",
    "cmdr", "commander", "maj", "major", "cpl", "pvt", "officer", "detective", "sheriff",
    "deputy", "commissioner", "councilman", "councilwoman", "assemblyman", "assemblywoman",
    "king", "queen", "prince", "princess", "sheikh", "coach", "former", "acting", "ex",
    "candidate", "nominee", "president-elect", "sens", "reps", "gens", "supt", "superintendent",
    "treasurer", "comptroller", "auditor", "solicitor", "state's", "inspector", "surgeon",
    "first", "ceo", "cfo", "chmn", "dept", "del", "delegate", "trustee", "alderman", "ag",
    "author", "journalist", "host", "anchor", "columnist", "reporter", "commentator",
    "comedian", "actor", "actress", "singer", "rapper", "businessman", "businesswoman",
    "billionaire", "pollster", "strategist", "activist", "founder", "chairperson", "saint",
}
#: words that extend a title before it ("Executive Director", "Senior Adviser")
_TITLE_MODIFIERS = {"executive", "senior", "deputy", "vice", "assistant", "associate", "managing",
                    "general", "chief", "former", "acting", "interim", "national", "press",
                    "communications", "campaign", "policy", "political", "legislative",
                    "founding", "co", "principal", "special", "top", "lead", "regional", "state"}
#: titles kept with a lone first name ("Pope Francis", "Queen Elizabeth")
_REGNAL = {"pope", "king", "queen", "prince", "princess", "saint", "sheikh", "emperor"}
_HONORIFIC_GENDER = {"mr": "m", "mrs": "f", "ms": "f", "miss": "f", "sir": "m", "lord": "m",
                     "dame": "f", "lady": "f", "king": "m", "queen": "f", "prince": "m",
                     "princess": "f", "congressman": "m", "congresswoman": "f",
                     "councilman": "m", "councilwoman": "f", "assemblyman": "m",
                     "assemblywoman": "f", "chairman": "m", "chairwoman": "f", "father": "m",
                     "rabbi": "m", "pope": "m", "cardinal": "m", "bishop": "m", "sheikh": "m"}
_TITLE_WORDS = {"sen": "senator", "sens": "senator", "rep": "representative",
                "reps": "representative", "gov": "governor", "gen": "general",
                "lt": "lieutenant", "sec": "secretary", "rev": "reverend", "dr": "doctor",
                "prof": "professor", "capt": "captain", "col": "colonel", "sgt": "sergeant",
                "adm": "admiral", "supt": "superintendent", "atty": "attorney",
                "congressman": "representative", "congresswoman": "representative",
                "chairwoman": "chairman", "chair": "chairman", "lawmaker": "representative",
                "spokeswoman": "spokesman", "spokesperson": "spokesman"}
_ABBREV = {"mr", "mrs", "ms", "dr", "prof", "sen", "sens", "rep", "reps", "gov", "gen", "lt",
           "col", "capt", "sgt", "adm", "rev", "st", "jr", "sr", "inc", "corp", "co", "ltd",
           "no", "vs", "v", "u.s", "u.n", "u.k", "d.c", "e.u", "mt", "ft", "supt", "cmdr",
           "maj", "cpl", "pvt", "atty", "dept", "gens", "jan", "feb", "mar", "apr", "jun", "jul",
           "aug", "sep", "sept", "oct", "nov", "dec", "st", "ave", "blvd", "messrs", "mmes",
           "r", "d", "i", "calif", "fla", "tex", "ill", "mich", "mass", "penn", "ariz", "colo",
           "conn", "wis", "minn", "okla", "ore", "tenn", "va", "wash", "ky", "la", "md", "mo",
           "nev", "ga", "ala", "ark", "del", "kan", "neb", "miss", "ind", "n.y", "n.j", "n.c",
           "s.c", "n.h", "n.m", "n.d", "s.d", "w.va", "r.i"}
_STATE_ABBREV = {"calif", "fla", "tex", "ill", "mich", "mass", "penn", "pa", "ariz", "colo", "conn",
                 "wis", "minn", "okla", "ore", "tenn", "va", "wash", "ky", "la", "md", "mo", "nev",
                 "ga", "ala", "ark", "del", "kan", "neb", "miss", "ind", "n.y", "n.j", "n.c",
                 "s.c", "n.h", "n.m", "n.d", "s.d", "w.va", "r.i", "vt", "me", "mont", "wyo",
                 "ida", "iowa", "ohio", "utah", "d.c"}
_STATE_NAMES = {"ala": "alabama", "ariz": "arizona", "ark": "arkansas", "calif": "california",
                "colo": "colorado", "conn": "connecticut", "del": "delaware", "fla": "florida",
                "ga": "georgia", "ill": "illinois", "ind": "indiana", "kan": "kansas",
                "ky": "kentucky", "la": "louisiana", "md": "maryland", "mass": "massachusetts",
                "mich": "michigan", "minn": "minnesota", "miss": "mississippi", "mo": "missouri",
                "mont": "montana", "neb": "nebraska", "nev": "nevada", "n.h": "new hampshire",
                "n.j": "new jersey", "n.m": "new mexico", "n.y": "new york", "n.c": "north carolina",
                "n.d": "north dakota", "okla": "oklahoma", "ore": "oregon", "pa": "pennsylvania",
                "penn": "pennsylvania", "r.i": "rhode island", "s.c": "south carolina",
                "s.d": "south dakota", "tenn": "tennessee", "tex": "texas", "vt": "vermont",
                "va": "virginia", "wash": "washington", "w.va": "west virginia", "wis": "wisconsin",
                "wyo": "wyoming", "ny": "new york", "nj": "new jersey", "nc": "north carolina",
                "sc": "south carolina", "tx": "texas", "fl": "florida", "ca": "california",
                "oh": "ohio", "ut": "utah", "ia": "iowa"}
_PARTY = {"R": "republican", "D": "democrat", "I": "independent"}
_PARTY_STATE = re.compile(r",? \(?([RDI])[-–]([A-Z][A-Za-z.]+)\)?")
_NAME_SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"}
_CONNECTORS = {"of", "for", "on", "de", "la", "del", "della", "di", "du", "da", "dos", "van", "von",
               "der", "den", "al", "bin", "ibn", "y", "&", "le", "st."}
_ORG_HEADS = {"alliance", "coalition", "campaign", "committee", "society", "foundation", "fund",
              "council", "center", "centre", "association", "institute", "movement", "project",
              "league", "federation", "union", "friends", "citizens", "people", "americans",
              "network", "partnership", "organization", "organisation", "students", "mothers",
              "parents", "veterans", "women", "families"}
_ORG_WORDS = {
    "department", "dept", "party", "committee", "post", "times", "news", "journal", "institute",
    "university", "college", "association", "alliance", "council", "agency", "court", "bureau",
    "commission", "foundation", "center", "centre", "campaign", "administration", "house",
    "senate", "congress", "inc", "inc.", "corp", "corp.", "company", "co.", "group", "network",
    "union", "federation", "coalition", "society", "fund", "bank", "ministry", "office",
    "service", "services", "police", "army", "navy", "force", "corps", "project", "press",
    "magazine", "tribune", "herald", "gazette", "review", "channel", "school", "schools",
    "church", "board", "organization", "organisation", "league", "club", "conference",
    "caucus", "forum", "trust", "authority", "reserve", "cabinet", "parliament", "assembly",
    "legislature", "government", "tv", "radio", "media", "report", "monitor", "daily",
    "weekly", "observer", "examiner", "enquirer", "chronicle", "inquirer", "globe", "star",
    "sun", "guardian", "telegraph", "independent", "mirror", "express", "economist",
    "politico", "watch", "international", "foundation", "movement", "systems", "group",
    "airlines", "motors", "technologies", "partners", "holdings", "capital", "securities",
    "labs", "laboratory", "hospital", "clinic", "academy", "museum", "library", "commission",
    "show", "program", "programme", "hour", "podcast", "fund", "pac", "index", "plan", "act",
    "division", "unit", "branch", "directorate", "committees", "commissions", "institution",
    "initiative", "coalition", "consortium", "partnership", "lab", "studio", "studios",
    "pentagon", "kremlin", "nato", "un", "eu", "fbi", "cia", "nsa", "irs", "epa", "gop", "dnc",
    "rnc", "cnn", "msnbc", "nbc", "abc", "cbs", "fox", "bbc", "npr", "pbs", "afp", "reuters",
    "ap", "wikileaks", "politifact", "twitter", "facebook", "google", "apple", "microsoft",
    "amazon", "netflix", "isis", "isil", "taliban", "hamas", "hezbollah", "qaeda",
}
_PLACES = {
    "alabama", "alaska", "arizona", "arkansas", "california", "colorado", "connecticut",
    "delaware", "florida", "georgia", "hawaii", "idaho", "illinois", "indiana", "iowa", "kansas",
    "kentucky", "louisiana", "maine", "maryland", "massachusetts", "michigan", "minnesota",
    "mississippi", "missouri", "montana", "nebraska", "nevada", "new hampshire", "new jersey",
    "new mexico", "new york", "north carolina", "north dakota", "ohio", "oklahoma", "oregon",
    "pennsylvania", "rhode island", "south carolina", "south dakota", "tennessee", "texas",
    "utah", "vermont", "virginia", "washington", "west virginia", "wisconsin", "wyoming",
    "america", "united states", "u.s.", "us", "usa", "u.s", "china", "russia", "mexico",
    "canada", "britain", "great britain", "england", "france", "germany", "italy", "spain",
    "japan", "india", "iran", "iraq", "syria", "israel", "palestine", "gaza", "egypt", "libya",
    "turkey", "ukraine", "afghanistan", "pakistan", "north korea", "south korea", "korea",
    "cuba", "venezuela", "brazil", "saudi arabia", "yemen", "europe", "asia", "africa",
    "moscow", "kiev", "kyiv", "beijing", "london", "paris", "berlin", "tehran", "baghdad",
    "damascus", "jerusalem", "washington, d.c.", "d.c.", "chicago", "los angeles", "boston",
    "philadelphia", "detroit", "cleveland", "houston", "dallas", "miami", "atlanta", "denver",
    "phoenix", "seattle", "san francisco", "baltimore", "brooklyn", "manhattan", "queens",
    "bronx", "charlotte", "tulsa", "milwaukee", "new orleans", "las vegas", "orlando",
    "aleppo", "mosul", "raqqa", "crimea", "donetsk", "luhansk", "minsk", "brussels", "geneva",
    "vienna", "rome", "madrid", "tokyo", "seoul", "pyongyang", "havana", "caracas", "canada",
    "australia", "new zealand", "ireland", "scotland", "wales", "greece", "poland", "sweden",
    "norway", "denmark", "finland", "netherlands", "belgium", "switzerland", "austria",
    "hungary", "romania", "serbia", "belarus", "georgia", "armenia", "azerbaijan",
    "kazakhstan", "philippines", "vietnam", "thailand", "indonesia", "malaysia", "singapore",
    "taiwan", "hong kong", "nigeria", "kenya", "ethiopia", "somalia", "sudan", "south africa",
    "qatar", "jordan", "lebanon", "kuwait", "bahrain", "oman", "colombia", "peru", "chile",
    "argentina", "bolivia", "ecuador", "haiti", "honduras", "guatemala", "el salvador",
    "nicaragua", "puerto rico", "wall street", "silicon valley", "midwest", "west bank",
}
#: adjectives that are capitalised but name nobody when a lower-case word follows
_ADJECTIVES = {
    "republican", "democratic", "democrat", "conservative", "liberal", "progressive",
    "libertarian", "independent", "american", "african-american", "black", "white", "latino",
    "hispanic", "asian", "european", "british", "english", "french", "german", "russian",
    "chinese", "japanese", "korean", "mexican", "canadian", "iranian", "iraqi", "syrian",
    "israeli", "palestinian", "ukrainian", "arab", "muslim", "islamic", "christian", "jewish",
    "catholic", "evangelical", "protestant", "western", "eastern", "northern", "southern",
    "gop", "federal", "national", "presidential", "congressional", "senate", "house", "state",
    "cuban", "turkish", "saudi", "egyptian", "afghan", "pakistani", "indian", "italian",
    "spanish", "irish", "scottish", "australian", "brazilian", "venezuelan", "nigerian",
}
_POLITICAL = {"republican", "democratic", "democrat", "conservative", "liberal", "progressive",
              "libertarian", "gop", "federal", "national", "presidential", "congressional",
              "black", "white", "western", "eastern", "northern", "southern", "muslim",
              "christian", "jewish", "catholic", "evangelical", "islamic", "arab"}
_ADJ_NAMES_OK = {"house", "senate", "state", "independent", "gop"}  # names when nothing lower-case follows
_NAME_AS_ADJ_NOUNS = {"campaign", "administration", "camp", "team", "supporters", "voters",
                      "era", "presidency", "aides", "allies", "surrogates", "backers", "staff",
                      "staffers", "officials", "people", "policies", "policy", "plan", "voter",
                      "fans", "loyalists", "critics", "spokesman", "spokeswoman", "adviser",
                      "advisers", "officials", "family", "children", "ad", "ads", "speech"}
_GROUPS = {
    "republicans", "democrats", "americans", "conservatives", "liberals", "progressives",
    "libertarians", "independents", "muslims", "christians", "jews", "catholics",
    "evangelicals", "latinos", "hispanics", "europeans", "russians", "israelis",
    "palestinians", "mexicans", "canadians", "iranians", "iraqis", "syrians", "ukrainians",
    "arabs", "germans", "chinese", "british", "french", "japanese", "koreans", "cubans",
    "turks", "saudis", "afghans", "pakistanis", "indians", "italians", "africans", "asians",
    "blacks", "whites", "millennials", "baby boomers", "boomers", "democrats", "dems", "gop",
    "senators", "republican senators", "democratic senators", "trumpsters", "berniebros",
}
#: person role nouns: a definite description with one of these heads is a person
_PERSON_ROLES = {
    "senator", "nominee", "candidate", "president", "governor", "secretary", "mayor",
    "spokesman", "spokeswoman", "spokesperson", "official", "woman", "man", "director",
    "chairman", "chairwoman", "leader", "minister", "congressman", "congresswoman", "lawmaker",
    "representative", "judge", "justice", "lawyer", "attorney", "businessman", "businesswoman",
    "billionaire", "mogul", "author", "reporter", "host", "pollster", "founder", "ceo",
    "executive", "adviser", "advisor", "aide", "strategist", "analyst", "professor", "doctor",
    "mother", "father", "wife", "husband", "son", "daughter", "sister", "brother", "boy",
    "girl", "lady", "gentleman", "democrat", "republican", "challenger", "incumbent",
    "opponent", "rival", "veteran", "activist", "actor", "actress", "star", "singer",
    "rapper", "writer", "columnist", "commentator", "anchor", "economist", "scientist",
    "researcher", "expert", "chief", "commander", "general", "officer", "sheriff",
    "prosecutor", "detective", "ambassador", "envoy", "diplomat", "king", "queen", "prince",
    "pope", "speaker", "chancellor", "premier", "dictator", "tycoon", "magnate", "manager",
    "coach", "player", "organizer", "organiser", "head", "boss", "owner", "teacher",
    "student", "mom", "dad", "grandmother", "grandfather", "widow", "victim", "witness",
    "suspect", "defendant", "plaintiff", "governor-elect", "president-elect", "vice",
    "running", "mate", "frontrunner", "front-runner", "hopeful", "contender", "politician",
    "statesman", "legislator", "delegate", "councilman", "councilwoman", "superintendent",
    "commissioner", "treasurer", "counsel", "investigator", "filmmaker", "director",
    "producer", "comedian", "journalist", "editor", "publisher", "blogger", "pastor",
    "priest", "rabbi", "imam", "bishop", "cardinal", "nun", "physician", "surgeon", "nurse",
    "psychiatrist", "psychologist", "entrepreneur", "investor", "banker", "economist",
    "chairperson", "head", "protester", "protestor", "voter", "resident", "citizen",
}
_FEMALE_WORDS = {"woman", "spokeswoman", "congresswoman", "chairwoman", "businesswoman",
                 "mother", "wife", "daughter", "sister", "girl", "lady", "actress", "queen",
                 "princess", "grandmother", "widow", "mom", "councilwoman", "assemblywoman",
                 "nun", "girlfriend", "niece", "aunt", "granddaughter", "first lady"}
_MALE_WORDS = {"man", "spokesman", "congressman", "chairman", "businessman", "father",
               "husband", "son", "brother", "boy", "actor", "king", "prince", "grandfather",
               "dad", "councilman", "assemblyman", "gentleman", "boyfriend", "nephew", "uncle",
               "grandson", "priest"}
#: organisation nouns: a definite description with one of these heads is an institution
_ORG_ROLES = {
    "campaign", "company", "department", "agency", "ministry", "committee", "administration",
    "organization", "organisation", "group", "alliance", "newspaper", "network", "court",
    "paper", "party", "union", "government", "bureau", "firm", "university", "school",
    "city", "state", "country", "coalition", "association", "council", "commission",
    "foundation", "institute", "center", "board", "office", "service", "magazine", "station",
    "channel", "website", "site", "outlet", "publication", "corporation", "bank", "team",
    "league", "federation", "society", "fund", "nation", "kingdom", "republic", "regime",
    "army", "military", "police", "force", "church", "club", "caucus", "legislature",
    "parliament", "senate", "house", "congress", "cabinet", "embassy", "consulate",
    "county", "town", "village", "district", "province", "region",
}
_DESC_WORDS = (_PERSON_ROLES | _ORG_ROLES | _TITLES | set(_TITLE_WORDS.values()) | _ADJECTIVES
               | {"presidential", "former", "longtime", "top", "senior", "junior", "executive",
                  "national", "press", "white", "federal", "vice", "running", "mate", "current",
                  "outgoing", "incoming", "interim", "deputy", "assistant", "associate",
                  "campaign", "party", "gop", "tax", "foreign", "defense", "homeland", "health",
                  "education", "state", "district", "county", "city", "appeals", "supreme",
                  "circuit", "democratic", "republican", "news", "polling", "research",
                  "advocacy", "civil", "rights", "public", "policy", "political", "economic",
                  "legal", "media", "communications", "editorial", "managing", "general",
                  "three-judge", "real", "estate", "reality", "tv"})
#: person roles too generic to guess the person from salience alone
_GENERIC_ROLES = {"official", "spokesman", "spokeswoman", "spokesperson", "aide", "adviser",
                  "advisor", "expert", "analyst", "source", "officer", "lawyer", "attorney",
                  "doctor", "reporter", "researcher", "scientist", "economist", "director",
                  "chief", "head", "chairman", "chairwoman", "chair", "manager", "executive",
                  "victim", "witness", "suspect", "resident", "voter", "student", "teacher",
                  "protester", "activist", "judge", "user", "writer", "author", "editor"}
_PLACE_OF = {"city", "state", "town", "county", "country", "republic", "kingdom",
             "commonwealth", "province", "district", "village", "borough", "island"}
_INDEFINITE = {"a", "an", "one", "some", "several", "many", "few", "most", "more", "other",
               "others", "any", "no", "another", "various", "numerous", "two", "three", "four",
               "five", "six", "seven", "eight", "nine", "ten", "dozens", "hundreds", "thousands",
               "millions", "all", "both", "each", "every", "such", "certain", "fellow", "only",
               "nearly", "about", "almost", "half", "majority", "minority", "percent"}
_POSSESSIVE_DETS = {"his", "her", "its", "their", "our", "my", "your", "whose"}
_DETS = {"the", "a", "an", "this", "that", "these", "those"} | _POSSESSIVE_DETS
_PREPOSITIONS = {"of", "from", "in", "at", "for", "with", "on", "by", "to", "among",
                 "including", "like", "about", "against", "behind", "under", "over",
                 "inside", "outside", "within", "across", "near", "via", "per", "than"}
_SPLITTERS = {"and", "or", "&", "plus", "along", "as", "but", "nor", "both"}
_CUE_WORDS = {"said", "says", "say", "told", "tells", "asked", "asks", "added", "adds",
              "wrote", "writes", "noted", "notes", "explained", "explains", "argued",
              "argues", "stated", "states", "insisted", "insists", "continued", "continues",
              "according", "replied", "replies", "responded", "responds", "declared",
              "claimed", "claims", "warned", "warns", "tweeted", "tweets", "announced"}
_SUBJECT_SKIP = {"but", "and", "so", "yet", "however", "meanwhile", "still", "also", "then",
                 "now", "instead", "indeed", "moreover", "later", "earlier", "separately",
                 "today", "tonight", "yesterday", "in", "on", "at", "after", "before", "since",
                 "during", "when", "while", "as", "though", "although", "because", "if",
                 "for", "by", "from", "with", "without", "under", "over", "this", "last",
                 "next", "week", "month", "year", "morning", "afternoon", "evening", "night",
                 "day", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                 "sunday", "recently", "previously", "ultimately", "finally", "first",
                 "second", "third", "in addition", "additionally", "further", "furthermore"}

_FIRST_M = set("""
aaron abdul abe abraham adam adrian ahmed al alan albert alberto alec alex alexander alfred
ali allen alvin amir andre andrew andy angel angelo anthony antonio antonin arnold art arthur
ashton austin barack barney barry bart ben benjamin bernard bernie bill billy bob bobby brad
bradley brandon brendan brent brett brian bruce bryan buck bud burt byron cal calvin carl
carlos cecil cedric chad charles charlie chet chris christian christopher chuck clarence clark
claude clay clayton cliff clifford clint clinton cody colin cole conor corey cory craig curt
curtis dale dan daniel danny darrell darren dave david dean dennis derek devin dick dirk don
donald donnie doug douglas duncan dustin dwayne dwight earl ed eddie edgar edmund eduardo
edward edwin eli elijah elliot elliott emanuel emmanuel enrique eric erik ernest ernie ethan
eugene evan everett felix fernando floyd francis francisco frank franklin fred freddie
frederick gabriel gary gavin gene geoffrey george gerald gerard gilbert glen glenn gordon
graham grant greg gregory gus guy hal hank hans harold harry harvey hassan hector henry
herbert herman howard hugh hugo ian ike ira isaac ivan jack jackson jacob jake
james jared jason javier jay jeb jeff jefferson jeffrey jeremy jerome jerry jesse
jesus jim jimmy joe joel joey john johnny jon jonathan jorge jose joseph josh joshua juan
julian julio justin karl keith ken kenneth kent kevin kirk kurt kyle lamar lance larry
lawrence leo leon leonard leroy les lester lewis lincoln lloyd logan lou louis
lucas luis luke lyndon malcolm manuel marco marcus mario mark marshall martin marvin matt
matthew maurice max maxwell melvin michael micah miguel mike miles milton mitch mitchell mitt
mohamed mohammad mohammed muhammad murray nathan nathaniel neal neil nelson newt nicholas
nick nigel noah norm norman oliver omar orrin oscar otis owen pablo patrick paul pedro perry
pete peter phil philip phillip preet rafael ralph ramon rand randall randy ray raymond reed
reggie reginald reince rex ricardo richard rick ricky rob robert roberto rod rodney roger
roland roman ron ronald ronnie ross roy ruben rudy rudolph rush russ russell ryan salvador
sam samuel scott sean sergio seth shane shaun shawn sheldon sherrod sid silvio simon stan
stanley stephen steve steven stewart stuart sylvester ted teddy terrence terry theodore thom
thomas tim timothy toby todd tom tommy tony travis trent trey troy tucker ty tyler vernon
victor vince vincent vladimir wade wallace walt walter warren wayne wesley will william
willie wilson wolf xavier zach zachary reince newt mitch rudy corey jeh 
ash bashar benjamin bibi boris emmanuel francois fidel raul hosni hamid recep tayyip petro
viktor xi shinzo narendra nawaz justin enrique jacob kim moon rodrigo sergei dmitry vladimir
ashraf abdel abu mahmoud muammar saddam osama ayman yasser reuven ehud ariel shimon yitzhak
sergey alexei nikolai mikhail boris yuri igor andrei pavel oleg viktor arseniy volodymyr
""".split())
_FIRST_F = set("""
abby abigail ada adele adrienne agnes aileen alexandra alexis alice alicia alison allison
alma amanda amber amelia amelize amy ana andrea angela angelina angie anita ann anna anne
annette annie april arlene ashley audrey ava barbara beatrice becky belinda bernadette
beth bethany betsy betty beverly bianca bonnie brenda bridget britney brittany brooke
camille candace candice cara carla carly carmen carol caroline carolyn carrie cassandra
catherine cathy cecilia charlene charlotte chelsea cheryl chloe christie christina christine
cindy claire clara claudia colleen connie constance courtney cynthia daisy dana danielle
darlene dawn debbie deborah debra delores denise diana diane dianne dolores donna dora
doris dorothy edith eileen elaine eleanor elena elisabeth eliza elizabeth ella ellen elsa
emily emma erica erika erin esther ethel eva evelyn faith felicia florence frances gabrielle
gail gayle geraldine gina ginger gladys gloria grace gretchen gwen hailey hannah harriet
hayley hazel heather heidi helen helena hilary hillary holly hope huma ida ilhan irene iris
isabel isabella ivanka jackie jacqueline jade jan jane janet janice jasmine jean jeanette
jeanne jennifer jenny jessica jill jo joan joann joanna joanne jocelyn jodi joni josephine
joy joyce judith judy julia julie june kaitlyn kamala karen kari katherine kathleen kathryn
kathy katie katrina kay kayla kaylee kellyanne kendra kimberly kirsten
kristen kristin kristina kristy lana laura lauren laurie leah lila lillian lily
linda lindsay lisa liz lois loretta lori lorraine louise lucia lucy lydia lynn mabel madeleine
madison mae maggie mandy marcia margaret margarita maria marian marie marilyn marion marjorie
marlene martha mary maureen maxine megan meghan melania melanie melinda melissa meredith
michele michelle mildred mindy miranda miriam molly monica nancy naomi natalie natasha
nicole nikki nina nora norma olivia paige pamela patricia patsy patty paula pauline peggy
penny phyllis priscilla rachel rebecca regina renee rhonda rita roberta rosa rosalind
rose rosemary roxanne ruby ruth sabrina sally samantha sandra sara sarah savannah selena
serena shannon sharon sheila shelby shelley sherry shirley sierra sonia sophia stacy
stephanie sue susan susanna suzanne sylvia tabitha tamara tammy tanya tara teresa theresa
tiffany tina tracy trisha valerie vanessa vera veronica vicki victoria viola virginia vivian
wanda wendy whitney yolanda yvonne zoe angela theresa nicola marine hillary chelsea ivanka
tiffany melania huma donna debbie elizabeth nancy loretta susana nikki condoleezza madeleine
sarah kirsten tammy claire dianne barbara heidi jeanne maxine michele ileana ava oprah beyonce
alicia megyn katy rosie gwyneth meryl serena venus ruth sonia elena amy kellyanne omarosa
hope sheryl marissa janet kamala
""".split()) - {""}


def _clean_names(names: set[str]) -> set[str]:
    return {n.split("_")[0] for n in names}


FIRST_MALE = _clean_names({n for n in _FIRST_M if not n.endswith("_f")})
FIRST_FEMALE = _clean_names({n for n in _FIRST_F if not n.endswith("_m")})
_AMBIGUOUS_FIRST = {"pat", "chris", "jamie", "jordan", "taylor", "kelly", "kerry", "lee",
                    "leslie", "robin", "sam", "alex", "casey", "dana", "terry", "tracy", "kim",
                    "jan", "lindsey", "jean", "lynn", "marion", "drew", "shannon"}
FIRST_NAMES = FIRST_MALE | FIRST_FEMALE | _AMBIGUOUS_FIRST

#: what well-known acronyms stand for (their words count as words of the name)
_EXPANSIONS = {
    "fbi": "federal bureau of investigation", "cia": "central intelligence agency",
    "nsa": "national security agency", "epa": "environmental protection agency",
    "irs": "internal revenue service", "dnc": "democratic national committee",
    "rnc": "republican national committee", "gop": "republican party",
    "aclu": "american civil liberties union", "nra": "national rifle association",
    "imf": "international monetary fund", "un": "united nations", "u.n.": "united nations",
    "eu": "european union", "nato": "north atlantic treaty organization",
    "doj": "department of justice", "dhs": "department of homeland security",
    "fda": "food and drug administration", "sec": "securities and exchange commission",
    "fec": "federal election commission", "ap": "associated press", "afp": "agence france-presse",
    "bbc": "british broadcasting corporation", "cnn": "cable news network",
    "naacp": "national association for the advancement of colored people",
    "who": "world health organization", "cdc": "centers for disease control",
    "ice": "immigration and customs enforcement", "tsa": "transportation security administration",
    "blm": "black lives matter", "seiu": "service employees international union",
    "afl-cio": "american federation of labor congress of industrial organizations",
    "pac": "political action committee", "nbc": "national broadcasting company",
    "abc": "american broadcasting company", "cbs": "columbia broadcasting system",
    "npr": "national public radio", "pbs": "public broadcasting service",
    "wsj": "wall street journal", "nyt": "new york times", "gao": "government accountability office",
    "cbo": "congressional budget office", "osce": "organization for security and co-operation in europe",
}
#: description heads by kind of institution, and the words of names of that kind
_MEDIA_HEADS = {"newspaper", "paper", "outlet", "magazine", "publication", "network", "station",
                "channel", "website", "site", "broadcaster", "daily", "tabloid", "service",
                "show", "program", "newsletter", "blog"}
_MEDIA_WORDS = {"times", "post", "news", "journal", "magazine", "daily", "tribune", "herald",
                "gazette", "review", "chronicle", "inquirer", "enquirer", "examiner", "observer",
                "guardian", "telegraph", "advocate", "press", "cnn", "msnbc", "nbc", "abc", "cbs",
                "fox", "bbc", "npr", "pbs", "reuters", "politico", "politifact", "breitbart",
                "huffington", "vox", "axios", "time", "newsweek", "atlantic", "salon", "slate",
                "ap", "afp", "bloomberg", "radio", "tv", "register", "sun", "star", "globe",
                "today", "hill", "record", "report", "show", "circle", "weekly", "monthly",
                "network", "media", "blaze", "drudge", "hedge", "wire", "bulletin", "dispatch"}
_COMPANY_HEADS = {"company", "firm", "corporation", "retailer", "maker", "manufacturer",
                  "carrier", "airline", "giant", "conglomerate", "chain", "business", "brand",
                  "startup", "automaker", "bank", "lender", "insurer"}
_GROUP_HEADS = {"group", "organization", "organisation", "foundation", "association",
                "coalition", "alliance", "movement", "faction", "union", "federation",
                "institute", "center", "centre", "tank", "watchdog", "nonprofit", "non-profit",
                "charity", "pac", "society", "league", "caucus", "party", "council",
                "committee", "club", "network"}

_KIND_HEADS = _MEDIA_HEADS | _COMPANY_HEADS | {
    "group", "organization", "organisation", "foundation", "association", "coalition", "alliance",
    "federation", "union", "nonprofit", "non-profit", "charity", "pac", "institute", "tank",
    "watchdog", "agency", "bureau", "league", "society"}

#: institution words too generic to be an alias on their own ("the House" is not "the White House")
_GENERIC_ORG = {"house", "senate", "committee", "department", "agency", "court", "council",
                "commission", "board", "office", "party", "administration", "campaign", "bureau",
                "ministry", "service", "government", "university", "college", "school", "center",
                "institute", "foundation", "association", "union", "group", "fund", "church",
                "army", "police", "pac", "division", "network", "report", "project", "caucus"}

#: the bearer a bare surname usually means in 2015-16 US political news (a tie-breaker
#: between several bearers of the surname in one article)
_PROMINENT = {"trump": "donald", "clinton": "hillary", "obama": "barack", "sanders": "bernie",
              "cruz": "ted", "rubio": "marco", "kaine": "tim", "pence": "mike", "bush": "jeb",
              "biden": "joe", "kerry": "john", "romney": "mitt", "ryan": "paul", "putin": "vladimir",
              "carson": "ben", "christie": "chris", "kasich": "john", "paul": "rand",
              "mcconnell": "mitch", "pelosi": "nancy", "reid": "harry", "comey": "james"}

#: the components an ablation can switch off
COMPONENTS = ("titles", "aliases", "pronouns", "gender", "salience", "relatives", "first_person",
              "descriptions", "appositives")


@dataclass(frozen=True)
class ResolverOptions:
    titles: bool = True        # strip titles and roles from name mentions
    aliases: bool = True       # short names, honorifics and acronyms join full names
    pronouns: bool = True      # he/she/it/they resolution (else: no entity)
    gender: bool = True        # gender agreement for he/she
    salience: bool = True      # subject/speaker/frequency bonuses (else: recency only)
    relatives: bool = True     # who/which/that take the name before them
    first_person: bool = True  # I/we: the quotation's speaker, a letter's signature, the author bio
    descriptions: bool = True  # definite descriptions -> descriptor / institution / salient person
    appositives: bool = True   # "X's running mate, Gov. Mike Pence" -> the appositive name

    def without(self, component: str) -> "ResolverOptions":
        if component not in COMPONENTS:
            raise ValueError(f"unknown component {component!r}; one of {COMPONENTS}")
        return ResolverOptions(**{**self.__dict__, component: False})


# ------------------------------------------------------------------ data


@dataclass(frozen=True)
class Mention:
    """A stretch of the article text."""

    text: str
    start: int
    end: int

    def as_dict(self) -> dict:
        return {"text": self.text, "start": self.start, "end": self.end}


@dataclass
class Entity:
    """One entity of the article: its canonical mention (the longest name, titles
    stripped), every mention found (names, and the pronouns and descriptions resolved to
    it) and the indices of the attributions it speaks."""

    canonical: Mention
    mentions: list[Mention] = field(default_factory=list)
    attributions: list[int] = field(default_factory=list)
    type: str = "unknown"          # person / org / place / unknown
    gender: str | None = None      # "m" / "f" / None


@dataclass(frozen=True)
class SpeakerResolution:
    """The entity of one attribution's speaker: `entity` indexes `ResolvedSpeakers.entities`
    (None: no entity); `kind` is name / pronoun / description / none (no speaker);
    `rule` names the rule that decided."""

    entity: int | None
    kind: str
    rule: str


@dataclass
class ResolvedSpeakers:
    entities: list[Entity]
    speakers: list[SpeakerResolution]

    def entity_of(self, i: int) -> Mention | None:
        e = self.speakers[i].entity
        return None if e is None else self.entities[e].canonical


# ------------------------------------------------------------------ tokens

_TOKEN = re.compile(r"@\w+|[^\W_]+(?:[.'’&-][^\W_]+)*\.?|--|[“”\"(),;:—–]")
_HYPHEN_MODIFIER = re.compile(r"-(?=(?:based|led|backed|born|owned|funded|run|style|era|like|"
                              r"controlled|endorsed|friendly|leaning|aligned|[a-z]{3,}(?:ed|ing))\.?$)")
_POSSESSIVE = re.compile(r"(?:['’]s|s['’])$", re.I)
_OPEN_QUOTES = {"“": "”", "\"": "\""}


@dataclass
class _Tok:
    start: int
    end: int
    text: str
    low: str
    cap: bool
    word: bool
    base_end: int          # end without a possessive 's
    possessive: bool
    sent: int = 0
    line: int = 0


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    for m in _TOKEN.finditer(text):
        s, e, t = m.start(), m.end(), m.group(0)
        word = t[0].isalnum() or (t[0] == "@" and len(t) > 1)
        hy = _HYPHEN_MODIFIER.search(t) if word and t[0].isupper() else None
        if hy:   # "Sanders-endorsed", "Texas-based": the name, then the rest
            t2 = t[hy.end():]
            out.append(_Tok(s, s + hy.start(), t[:hy.start()], t[:hy.start()].lower(), True, True,
                            s + hy.start(), False))
            s, t = s + hy.end(), t2
        ap = re.match(r"([A-Za-z]+)['’](?:s|m|re|ve|ll|d)$", t) if word else None
        if ap and ap.group(1).lower() in PRONOUNS | {"let", "that", "there", "here", "what"}:
            t = ap.group(1)   # "he's", "I'm", "we're": the pronoun
            out.append(_Tok(s, s + len(t), t, t.lower(), t[0].isupper(), True, s + len(t), False))
            continue
        if word and t.endswith(".") and len(t) > 1:
            core = t[:-1].lower()
            if not (core in _ABBREV or len(core) == 1 or re.fullmatch(r"(?:\w\.)+\w", core)):
                e -= 1
                t = t[:-1]
        poss = bool(word and _POSSESSIVE.search(t) and len(t) > 2)
        if poss and re.search(r"s['’]$", t, re.I):
            poss = t[0].isupper()  # "Democrats'"; lowercase plurals are not names anyway
        base_end = e - (2 if t.lower().endswith(("'s", "’s")) else 1) if poss else e
        cap = word and (t[0].isupper() or t[0] == "@")
        out.append(_Tok(s, e, t, t.lower().replace("’", "'"), cap, word, base_end, poss))
    return out


def _sentences(text: str, toks: list[_Tok]) -> list[int]:
    """Assign sentence and line numbers to tokens; return each sentence's first token."""
    firsts = [0] if toks else []
    sent = 0
    line = 0
    prev = None
    for i, t in enumerate(toks):
        if prev is not None:
            gap = text[prev.end:t.start]
            nl = gap.count("\n")
            line += nl
            brk = bool(nl)
            if not brk and prev.word and re.search(r"[.!?]", gap) and re.search(r"[.!?][\"'”’)\]]*\s*$|[.!?][\"'”’)\]]*\s", gap):
                nxt_cap = t.cap or t.text[:1].isdigit() or t.text in ("“", "\"", "(")
                brk = nxt_cap
            if not brk and prev.text in ("”", "\"") and t.cap and re.search(r"[.!?]\s*$", text[max(0, prev.start - 2):prev.start]):
                brk = True
            if not brk and prev.word and prev.text.endswith(".") and prev.low[:-1] not in _ABBREV \
                    and len(prev.low) > 2 and (t.cap and t.low not in ("i",)) and gap.strip() == "" \
                    and prev.low[:-1] in {"u.s", "d.c", "u.n", "jr", "sr", "inc", "corp", "co", "ltd"}:
                brk = True
            if brk:
                sent += 1
                firsts.append(i)
        t.sent, t.line = sent, line
        prev = t
    return firsts


def _quote_mask(text: str) -> list[tuple[int, int, bool]]:
    """Character ranges inside quotation marks (curly pairs, straight quotes by line),
    each with whether it is closed in its paragraph."""
    ranges = []
    for para_m in re.finditer(r"[^\n]+", text):
        para, off = para_m.group(0), para_m.start()
        depth_start = None
        for m in re.finditer(r"[“”\"]", para):
            ch = m.group(0)
            if ch == "“" or (ch == "\"" and depth_start is None):
                if depth_start is None:
                    depth_start = off + m.start()
            elif depth_start is not None:
                ranges.append((depth_start, off + m.end(), True))
                depth_start = None
        if depth_start is not None:  # a quotation running to the paragraph's end
            ranges.append((depth_start, off + len(para), False))
    return ranges


# ------------------------------------------------------------------ resolver


@dataclass
class _Name:
    """One name mention found in the text."""

    start: int
    end: int
    toks: tuple[str, ...]       # lower-case tokens of the name (titles stripped)
    first_tok: int              # token index of the name's first token
    last_tok: int
    titles: tuple[str, ...] = ()
    descriptors: tuple[str, ...] = ()
    possessive: bool = False
    group: bool = False
    entity: int | None = None
    acronym_for: int | None = None   # index of the _Name this "(ACRONYM)" follows


class _Resolver:
    def __init__(self, text: str, options: ResolverOptions):
        self.text = text
        self.o = options
        self.toks = _tokens(text)
        self.sent_first = _sentences(text, self.toks)
        self.tok_starts = [t.start for t in self.toks]
        self.quotes = _quote_mask(text)
        self.quote_starts = [q[0] for q in self.quotes]
        self._scan_vocabulary()
        self.names: list[_Name] = []
        self.tok_name: dict[int, int] = {}     # token index -> name index
        self.tok_in_run: set[int] = set()      # tokens inside a capitalised run (titles too)
        self.entities: list[Entity] = []
        self.ent_keys: list[set[tuple[str, ...]]] = []
        self.ent_desc: list[dict[str, int]] = []     # descriptor -> last char offset seen
        self.ent_votes: list[dict[str, int]] = []
        # salience, per entity, updated in text order: last mention (pos, sentence,
        # subject?), last one outside quotations, sentence of the last subject mention,
        # number of mentions; and the mentions of the last sentences (a window)
        self.last: list[tuple[int, int, bool] | None] = []
        self.last_unquoted: list[tuple[int, int, bool] | None] = []
        self.subject_sent: list[int] = []
        self.subject_sent_unquoted: list[int] = []
        self.n_mentions: list[int] = []
        self.n_unquoted: list[int] = []
        self.recent: deque[tuple[int, int]] = deque()      # (sentence, entity)
        self.top_person: dict[str, tuple[int, int]] = {}   # gender -> (mentions, entity)
        self.trace: list | None = None
        self._subjects: dict[int, int | None] = {}
        self._lines: dict[int, list[int]] | None = None
        self._line_word_cache: dict[int, list[int]] = {}  # _line_words per line, computed once

    # ---------------------------------------------------------- vocabulary

    def _scan_vocabulary(self) -> None:
        toks = self.toks
        lines: dict[int, list[_Tok]] = {}
        for t in toks:
            lines.setdefault(t.line, []).append(t)
        self.headline_lines = set()
        for ln, ts in lines.items():
            words = [t for t in ts if t.word and len(t.text) >= 4 and t.low not in _STOP_CAP]
            # a title-case line: one short sentence whose longer words are capitalised
            caps = sum(t.cap for t in words)
            if len(words) >= 3 and len(ts) < 30 and ts[0].sent == ts[-1].sent and \
                    (caps == len(words) or (ln == 0 and caps >= 0.85 * len(words))) and len(lines) > 1:
                self.headline_lines.add(ln)
        self.sentence_initial = set()
        for i in self.sent_first:
            j = i
            while j < len(toks) and not toks[j].word:
                j += 1
            if j < len(toks):
                self.sentence_initial.add(j)
        self.cap_mid: set[str] = set()
        self.lower_words: set[str] = set()
        for i, t in enumerate(toks):
            if not t.word:
                continue
            base = self.base(t)
            if t.cap:
                if i not in self.sentence_initial and t.line not in self.headline_lines:
                    prev = toks[i - 1] if i else None
                    if not (prev is not None and prev.text in ("“", "\"", ":") ):
                        self.cap_mid.add(base)
            else:
                self.lower_words.add(base.lower())

    def in_quote(self, pos: int, closed: bool = False) -> bool:
        """Inside a quotation (`closed`: one closed in its paragraph, not a block quote)."""
        i = bisect_right(self.quote_starts, pos) - 1
        return i >= 0 and self.quotes[i][0] <= pos < self.quotes[i][1] and (self.quotes[i][2] or not closed)

    def base(self, t: _Tok) -> str:
        return self.text[t.start:t.base_end].replace("’", "'")

    def _candidate(self, i: int) -> bool:
        """Can token i be part of a name?"""
        t = self.toks[i]
        if not t.cap or not t.word:
            return False
        b = self.base(t)
        if b.startswith("@"):
            return True
        low = b.lower().rstrip(".")
        mid_name = low in FIRST_NAMES and i not in self.sentence_initial and t.line not in self.headline_lines \
            and not (i and self.toks[i - 1].text in ("“", "\""))
        if (low in _STOP_CAP and not (b.isupper() and len(b) >= 2) and not mid_name) and low not in _TITLES \
                or low in _MONTHS or b.isdigit():
            return False
        if "'" in low and low.split("'")[0] in _STOP_CAP | PRONOUNS:
            return False   # I'm, We're
        if low in _TITLES:
            return True
        if t.line in self.headline_lines:
            return b in self.cap_mid or low in FIRST_NAMES
        if i in self.sentence_initial or (i and self.toks[i - 1].text in ("“", "\"")):
            if b in self.cap_mid or low in FIRST_NAMES or low in _PLACES or low in _ORG_WORDS:
                return True
            if b.isupper() and len(b) >= 2:
                return True
            # a common word starting a sentence, unless a name continues it ("New York")
            nxt = self.toks[i + 1] if i + 1 < len(self.toks) else None
            return bool(nxt is not None and nxt.cap and nxt.word and self.text[t.end:nxt.start] == " "
                        and self.base(nxt) in self.cap_mid and nxt.low not in _STOP_CAP
                        and (low not in self.lower_words or self.base(nxt).lower() in _ORG_WORDS
                             or low == "new"))
        return True

    # ---------------------------------------------------------- names

    def find_names(self) -> None:
        toks, text = self.toks, self.text
        i, n = 0, len(toks)
        while i < n:
            if not self._candidate(i):
                i += 1
                continue
            run = [i]
            j = i
            while not toks[j].possessive and j + 1 < n:
                gap = text[toks[j].end:toks[j + 1].start]
                if gap not in (" ", "\u00a0"):
                    break
                if (self._candidate(j + 1) or self._mid_ok(j + 1, run)) and toks[j + 1].sent == toks[i].sent:
                    run.append(j + 1)
                    j += 1
                    continue
                conn = toks[j + 1].low
                if conn == "and" and self.o.titles is not None:
                    k = self._and_org(run, j + 2)
                    if k is not None:
                        run.extend(range(j + 1, k + 1))
                        j = k
                        continue
                head_org = self.base(toks[i]).lower() in _ORG_HEADS or \
                    any(self.base(toks[k]).lower() in _ORG_WORDS for k in run) or \
                    self.base(toks[j]).lower().rstrip(".") in _TITLES
                # "of", "for", "to" join institutions ("Institute for School Reform") and
                # titles ("Secretary of State"), not people ("Rangel of New York")
                if (conn in _CONNECTORS and (conn not in ("of", "for", "on") or head_org)
                        or (conn == "to" and head_org)) and j + 2 < n:
                    k = j + 2
                    if toks[k].low == "the" and k + 1 < n and text[toks[k].end:toks[k + 1].start] == " ":
                        k += 1
                    if self._candidate(k) and text[toks[j + 1].end:toks[j + 2].start] == " " \
                            and toks[k].sent == toks[i].sent and self.base(toks[k]).lower() not in _TITLES:
                        run.extend(range(j + 1, k + 1))
                        j = k
                        continue
                break
            self._add_run(run)
            i = run[-1] + 1

    def _modifier(self, k: int, rest: list[int]) -> bool:
        """Is token k a modifier of the name `rest` rather than part of it?"""
        w = self.base(self.toks[k]).lower().rstrip(".")
        rest_low = [self.base(self.toks[r]).lower().rstrip(".") for r in rest]
        if any(r in _ORG_WORDS for r in rest_low) or " ".join(rest_low) in _PLACES:
            return False
        person_next = rest_low[0] in FIRST_NAMES or rest_low[0] in _TITLES
        if w in _ADJECTIVES or w in _GROUPS:
            return person_next or len(rest) == 1
        if w in _PERSON_ROLES or w in _TITLES:
            return True
        if k in self.sentence_initial and (w in self.lower_words or (
                person_next and w not in FIRST_NAMES and len(rest) >= 2)):
            return True     # "Continued Stone", "Hold Melania Trump"
        if w in _PLACES and len(rest) == 1 and not rest_low[0] in _PLACES:
            return True     # "Wisconsin Trump" (but not "New York")
        return False

    def _mid_ok(self, k: int, run: list[int]) -> bool:
        """A word inside a name that is not a name candidate on its own: "Theresa May",
        "Alliance to Reclaim Our Schools", "Department of Veterans Affairs"."""
        t = self.toks[k]
        if not t.word or not t.cap:
            return False
        prev = self.base(self.toks[run[-1]]).lower()
        if t.low in _MONTHS and prev in FIRST_NAMES:
            return True
        if t.low in ("our", "new", "my", "your", "first", "one", "all", "no", "united") and k + 1 < len(self.toks):
            nxt = self.toks[k + 1]
            return self.text[t.end:nxt.start] == " " and self._candidate(k + 1)
        return False

    def _and_org(self, run: list[int], k: int) -> int | None:
        """"Securities and Exchange Commission": extend over "and" when the capitalised
        words after it end in an institution word and those before have none."""
        toks = self.toks
        if any(self.base(toks[r]).lower() in _ORG_WORDS for r in run):
            return None
        last = None
        while k < len(toks) and self._candidate(k) and self.text[toks[k - 1].end:toks[k].start] == " ":
            last = k
            if toks[k].possessive:
                break
            k += 1
        if last is not None and self.base(toks[last]).lower() in _ORG_WORDS:
            return last
        return None

    def _add_run(self, run: list[int]) -> None:
        for k in run[1:]:
            self.tok_in_run.add(k)   # not the start of a chunk-splitting phrase
        toks, text = self.toks, self.text
        low = [self.base(toks[k]).lower().rstrip(".") for k in run]
        titles: list[str] = []
        start = 0
        if self.o.titles:
            # the name follows the last title word of the run
            last_title = -1
            for k, w in enumerate(low):
                if w in _TITLES and k < len(low) - 1 or (w in _TITLES and len(low) == 1):
                    last_title = k
            if last_title >= 0:
                # what precedes the titles: a separate name ("Indiana" Gov. ...) if any
                first_title = next(k for k, w in enumerate(low) if w in _TITLES)
                while first_title > 0 and low[first_title - 1] in _TITLE_MODIFIERS:
                    first_title -= 1     # "PolitiFact Executive Director", "Interim DNC Chair"
                if first_title > 0:
                    self._add_run(run[:first_title])
                # "Indiana Gov.", "French President", "Senate Majority Leader": descriptors
                titles = low[:first_title] + [w for w in low[first_title:last_title + 1] if w in _TITLES]
                start = last_title + 1
                if start < len(low) and low[start] in ("of", "for"):
                    # "Secretary of State John Kerry": the name starts at a first name,
                    # else it is the last two words
                    rest = list(range(start + 1, len(low)))
                    firsts = [k for k in rest if low[k] in FIRST_NAMES]
                    if firsts:
                        start = firsts[0]
                    elif len(rest) >= 3:
                        start = len(low) - 2
                    else:
                        start = len(low)
                        titles += low[last_title + 1:]
        if titles and titles[-1] in _REGNAL and start == len(low) - 1 and start >= 1:
            start -= 1     # "Pope Francis"
            titles = titles[:-1]
        name_toks = run[start:]
        # "Republican Donald Trump", "Author Roger Stone", "Wisconsin Trump": party,
        # nationality, role, place and sentence-initial common words before a person's
        # name are modifiers
        while len(name_toks) >= 2 and self._modifier(name_toks[0], name_toks[1:]):
            titles.append(self.base(toks[name_toks[0]]).lower())
            name_toks = name_toks[1:]
        if not name_toks:
            # titles only ("Senator from Texas"): a descriptor, not a name
            return
        # drop a sentence-initial "The"/lower connector left at the start
        while name_toks and not toks[name_toks[0]].cap or \
                name_toks and toks[name_toks[0]].low in ("the", "to", "of", "for", "and"):
            name_toks = name_toks[1:]
        if not name_toks:
            return
        words = tuple(self.base(toks[k]).lower() for k in name_toks)
        first, last = toks[name_toks[0]], toks[name_toks[-1]]
        nxt = toks[name_toks[-1] + 1] if name_toks[-1] + 1 < len(toks) else None
        followed_by_lower = (nxt is not None and nxt.word and not nxt.cap and not last.possessive
                             and text[last.end:nxt.start] in (" ", "\u00a0") and nxt.low not in _STOP_CAP
                             and nxt.low not in _CUE_WORDS and nxt.low not in PRONOUNS)
        if len(words) == 1 and words[0] in _ADJECTIVES and not titles:
            if words[0] not in _ADJ_NAMES_OK and (followed_by_lower or words[0] in _POLITICAL):
                return
            if words[0] in _ADJ_NAMES_OK and followed_by_lower:
                return
        if all(w in _ADJECTIVES and w not in _ADJ_NAMES_OK for w in words) and followed_by_lower and not titles:
            return
        # a title of a work or event filling a whole quotation ("Barack Obama Election Day")
        before = toks[name_toks[0] - 1] if name_toks[0] else None
        if len(words) >= 3 and before is not None and before.text in ("“", "\"") and nxt is not None \
                and (nxt.text in ("”", "\"") or nxt.text == "," and name_toks[-1] + 2 < len(toks)
                     and toks[name_toks[-1] + 2].text in ("”", "\"")):
            if words[0] in FIRST_NAMES and words[1] not in _ORG_WORDS:
                self._add_run(name_toks[:2])     # a person it is named after
            return
        group = " ".join(words) in _GROUPS or words[-1] in _GROUPS or (
            words[-1].endswith("s") and words[-1][:-1] in _ADJECTIVES)
        name = _Name(first.start, last.base_end, words, name_toks[0], name_toks[-1],
                     titles=tuple(titles), possessive=last.possessive, group=group)
        name.descriptors = self._descriptors(run[0], name_toks[-1], titles)
        idx = len(self.names)
        # "(AROS)" right after a name defines an acronym
        if len(words) == 1 and first.text.isupper() and len(first.text) >= 2 and name_toks[0] >= 1 \
                and toks[name_toks[0] - 1].text == "(" and self.names:
            prev = self.names[-1]
            if prev.last_tok == name_toks[0] - 2:
                name.acronym_for = len(self.names) - 1
        self.names.append(name)
        for k in name_toks:
            self.tok_name[k] = idx

    def _descriptors(self, run_first: int, name_last: int, titles: list[str]) -> tuple[str, ...]:
        """Titles, role words just before the name ("Democratic presidential nominee"), and
        the role words of an appositive after it (", executive director of AROS,")."""
        toks, text = self.toks, self.text
        out = [_TITLE_WORDS.get(t, t) for t in titles]
        k = run_first - 1
        n = 0
        while k >= 0 and n < 5 and text[toks[k].end:toks[k + 1].start] in (" ", "\u00a0"):
            w = toks[k].low.rstrip(".")
            if not toks[k].word or w not in _DESC_WORDS or toks[k].possessive:
                break
            out.append(_TITLE_WORDS.get(w, w))
            k -= 1
            n += 1
        k = name_last + 1
        m = _PARTY_STATE.match(text, toks[name_last].end)
        if m:
            st = m.group(2).lower().rstrip(".")
            out += [_PARTY.get(m.group(1).upper(), ""), _STATE_NAMES.get(st, st)]
        if k < len(toks) and toks[k].text == "," and not toks[name_last].possessive:
            k += 1
            if k < len(toks) and toks[k].low in ("a", "an", "the", "now", "then", "also"):
                k += 1
            n = 0
            while k < len(toks) and n < 6 and toks[k].word and toks[k].low.rstrip(".") in _DESC_WORDS:
                w = toks[k].low.rstrip(".")
                out.append(_TITLE_WORDS.get(w, w))
                k += 1
                n += 1
        return tuple(out)

    # ---------------------------------------------------------- entities

    def _type_of(self, nm: _Name) -> str:
        words = nm.toks
        joined = " ".join(words)
        if joined in _PLACES or (len(words) == 1 and words[0].rstrip(".") in _STATE_ABBREV
                                 and words[0].endswith(".")):
            return "place"
        if any(w in _ORG_WORDS for w in words) or (len(words) == 1 and self._is_acronym(nm)):
            return "org"
        if words[0] in _PLACES and len(words) >= 2 and any(w in _ORG_WORDS for w in words):
            return "org"
        if any(t in _HONORIFIC_GENDER or t in _TITLES for t in nm.titles):
            return "person"
        if words[0] in FIRST_NAMES and (len(words) >= 2 or words[0] not in _PLACES):
            return "person"
        if any(d in _PERSON_ROLES for d in nm.descriptors):
            return "person"
        return "unknown"

    def _person_context(self, nm: _Name) -> bool:
        """A multi-word name followed by ", who", by a speech verb or by ", 43,": a person."""
        if len(nm.toks) < 2 or nm.possessive:
            return False
        toks = self.toks
        k = nm.last_tok + 1
        if k < len(toks) and toks[k].text == "," and k + 1 < len(toks):
            nxt = toks[k + 1]
            return nxt.low == "who" or nxt.text.isdigit()
        if k < len(toks) and toks[k].low in _CUE_WORDS:
            return True
        p = nm.first_tok - 1
        return p >= 0 and toks[p].low in _CUE_WORDS and toks[p].low != "according"

    def _is_acronym(self, nm: _Name) -> bool:
        t = self.text[nm.start:nm.end]
        return t.isupper() and len(t) >= 2 and t.replace(".", "").isalpha()

    def _gender_of(self, nm: _Name, surname: bool = False) -> str | None:
        for t in nm.titles:
            if t in _HONORIFIC_GENDER:
                return _HONORIFIC_GENDER[t]
        for d in nm.descriptors:
            if d in _FEMALE_WORDS:
                return "f"
            if d in _MALE_WORDS:
                return "m"
        f = nm.toks[0]
        if not surname:
            if f in FIRST_FEMALE and f not in FIRST_MALE and f not in _AMBIGUOUS_FIRST:
                return "f"
            if f in FIRST_MALE and f not in FIRST_FEMALE and f not in _AMBIGUOUS_FIRST:
                return "m"
        return None

    def _new_entity(self, nm: _Name) -> int:
        self.entities.append(Entity(Mention(self.text[nm.start:nm.end], nm.start, nm.end),
                                    type=self._type_of(nm)))
        keys = {nm.toks}
        if len(nm.toks) == 1 and nm.toks[0].lower() in _EXPANSIONS:
            keys.add(tuple(_EXPANSIONS[nm.toks[0].lower()].split()))
        self.ent_keys.append(keys)
        self.ent_desc.append({})
        self.ent_votes.append({})
        self.last.append(None)
        self.last_unquoted.append(None)
        self.subject_sent.append(-1)
        self.subject_sent_unquoted.append(-1)
        self.n_mentions.append(0)
        self.n_unquoted.append(0)
        return len(self.entities) - 1

    @staticmethod
    def _org_suffix(short: tuple[str, ...], long_: tuple[str, ...]) -> bool:
        if len(short) >= len(long_) or long_[-len(short):] != short:
            return False
        if not any(w in _ORG_WORDS for w in short):
            return False
        prefix = long_[:-len(short)]
        return " ".join(prefix) in _PLACES or all(w in _PLACES or w in _ADJECTIVES or w == "the" for w in prefix)

    @staticmethod
    def _same_full(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
        """"Hillary Rodham Clinton" ~ "Hillary Clinton"; "Donald J. Trump" ~ "Donald Trump"."""
        if a == b:
            return True
        if len(a) < 2 or len(b) < 2 or a[0] != b[0] or a[-1] != b[-1]:
            return False
        if a[-1] in _NAME_SUFFIXES or b[-1] in _NAME_SUFFIXES:
            return False
        short, long_ = (a, b) if len(a) <= len(b) else (b, a)
        it = iter(long_)
        return all(w in it for w in short)

    def build_entities(self) -> None:
        names = self.names
        # pass 1: full names (two words or more) are entities of their own; an
        # institution's name without its leading place ("Supreme Court" in "U.S.
        # Supreme Court") is the same institution
        exact: dict[tuple[str, ...], int] = {}
        by_ends: dict[tuple[str, str], list[int]] = {}       # (first, last) word -> entities
        by_suffix: dict[tuple[str, ...], list[int]] = {}     # proper suffixes of institutions' names
        for nm in sorted((nm for nm in names if not nm.group and len(nm.toks) >= 2),
                         key=lambda nm: (-len(nm.toks), nm.start)):
            key = nm.toks
            e = exact.get(key)
            if e is None:
                for c in sorted(set(by_ends.get((key[0], key[-1]), ())) | set(by_suffix.get(key, ()))):
                    if any(self._same_full(key, k) or self._org_suffix(key, k) for k in self.ent_keys[c] if len(k) >= 2):
                        e = c
                        break
            if e is None:
                e = self._new_entity(nm)
            nm.entity = e
            if key not in self.ent_keys[e] or key not in exact:
                self.ent_keys[e].add(key)
                exact.setdefault(key, e)
                by_ends.setdefault((key[0], key[-1]), []).append(e)
                for n in range(2, len(key)):
                    by_suffix.setdefault(key[-n:], []).append(e)
        # pass 2: short names: surname / first name / honorific / acronym aliases
        self._index_full_names()
        by_key: dict[tuple[str, ...], list[int]] = {}
        for e, keys in enumerate(self.ent_keys):
            for k in keys:
                by_key.setdefault(k, []).append(e)
        for ni, nm in enumerate(names):
            if nm.group or nm.entity is not None:
                continue
            e = self._alias(ni, nm) if self.o.aliases else None
            if e is None:
                honor = next((_HONORIFIC_GENDER[t] for t in nm.titles if t in _HONORIFIC_GENDER), None)
                for k in by_key.get(nm.toks, ()):
                    if not (honor and self.o.gender and self._entity_gender_guess(k) not in (honor, None)):
                        e = k
                        break
            if e is None:
                e = self._new_entity(nm)
                self._first_start.append(nm.start)
                self._count.append(0)
                self._genders.append([])
            else:
                self.ent_keys[e].add(nm.toks)
            by_key.setdefault(nm.toks, []).append(e)
            nm.entity = e
            self._count[e] += 1
            g = self._gender_of(nm, len(nm.toks) == 1)
            if g:
                self._genders[e].append(g)
        # types, genders, canonical mentions
        by_entity: list[list[_Name]] = [[] for _ in self.entities]
        for nm in names:
            if nm.entity is not None:
                by_entity[nm.entity].append(nm)
        for e, ent in enumerate(self.entities):
            mine = by_entity[e]
            types = [self._type_of(nm) for nm in mine]
            for t in ("org", "place", "person"):
                if t in types:
                    ent.type = t
                    break
            if ent.type == "unknown" and any(nm.titles for nm in mine):
                ent.type = "person"
            if ent.type == "unknown" and any(self._person_context(nm) for nm in mine):
                ent.type = "person"
            fulls = [k for k in self.ent_keys[e] if len(k) >= 2]
            genders = [g for g in (self._gender_of(nm, bool(fulls) and not any(
                k[0] == nm.toks[0] for k in fulls)) for nm in mine) if g]
            if genders:
                ent.gender = max(set(genders), key=genders.count)
            counts: dict[tuple[str, ...], int] = {}
            for nm in mine:
                counts[nm.toks] = counts.get(nm.toks, 0) + 1
            def complete(nm: _Name) -> tuple:
                full = [w for w in nm.toks if len(w.rstrip(".")) > 1]
                return (not self._is_acronym(nm), len(full), sum(map(len, full)),
                        counts[nm.toks], len(nm.toks), -nm.start)
            best = max(mine, key=complete)
            name = self.text[best.start:best.end]
            first = self.text.find(name)   # offsets: the name's first occurrence in the article
            ent.canonical = Mention(name, first, first + len(name))
            for nm in mine:
                ent.mentions.append(Mention(self.text[nm.start:nm.end], nm.start, nm.end))
                for d in nm.descriptors:
                    self.ent_desc[e][d] = nm.start
        self._pronoun_gender_votes()

    def _index_full_names(self) -> None:
        """Indices of the full names (fixed after pass 1) for alias look-ups."""
        self._by_last: dict[str, set[int]] = {}
        self._by_first: dict[str, set[int]] = {}
        self._by_acronym: dict[str, set[int]] = {}
        self._by_suffix: dict[tuple[str, ...], set[int]] = {}
        self._org_entities: set[int] = set()
        self._first_start: list[int] = []
        self._count: list[int] = []
        self._genders: list[list[str]] = []
        for e, keys in enumerate(self.ent_keys):
            for k in keys:
                if len(k) < 2:
                    continue
                self._by_last.setdefault(k[-1], set()).add(e)
                if len(k) >= 3 and k[-1] in _NAME_SUFFIXES:
                    self._by_last.setdefault(k[-2], set()).add(e)
                self._by_first.setdefault(k[0], set()).add(e)
                for n in range(2, len(k)):
                    self._by_suffix.setdefault(k[-n:], set()).add(e)
                for skip_places in (False, True):
                    ws = list(k)
                    while skip_places and ws and (ws[0] in _PLACES or ws[0] in _ADJECTIVES):
                        ws = ws[1:]
                    if not ws:
                        continue
                    for acr in ("".join(w[0] for w in ws if w not in _CONNECTORS and w not in ("the", "to", "and")),
                                "".join(w[0] for w in ws if w not in ("the",))):
                        if len(acr) >= 2:
                            self._by_acronym.setdefault(acr, set()).add(e)
        by_entity: list[list[_Name]] = [[] for _ in self.entities]
        for nm in self.names:
            if nm.entity is not None:
                by_entity[nm.entity].append(nm)
        for e in range(len(self.entities)):
            mine = by_entity[e]
            body = [nm.start for nm in mine if self.toks[nm.first_tok].line != 0]
            self._first_start.append(min(body) if body else min(nm.start for nm in mine))
            self._count.append(len(mine))
            self._genders.append([g for g in (self._gender_of(nm) for nm in mine) if g])
            if any(self._type_of(nm) == "org" for nm in mine):
                self._org_entities.add(e)

    def _alias(self, ni: int, nm: _Name) -> int | None:
        word = nm.toks[-1]
        if nm.acronym_for is not None and self.names[nm.acronym_for].entity is not None:
            return self.names[nm.acronym_for].entity
        honor = next((_HONORIFIC_GENDER[t] for t in nm.titles if t in _HONORIFIC_GENDER), None)
        cands = []
        single = len(nm.toks) == 1
        generic = single and word in _GENERIC_ORG
        if not generic:
            for e in self._by_last.get(word, ()):
                if single or nm.toks in self._by_suffix or e in self._by_suffix.get(nm.toks, ()):
                    cands.append((e, 2))
        if single and not cands:
            for e in self._by_first.get(word, ()):
                if e not in self._org_entities or (word not in _PLACES and word not in FIRST_NAMES
                                                   and word not in _GENERIC_ORG):
                    cands.append((e, 1))
        if single and not cands and self._is_acronym(nm):
            for e in self._by_acronym.get(word.replace(".", ""), ()):
                cands.append((e, 2))
        if not single and not cands:
            for e in self._by_suffix.get(nm.toks, ()):
                cands.append((e, 2))
        if honor and self.o.gender:   # "Mr. Obama" is not Michelle Obama
            cands = [(e, l) for e, l in cands if self._entity_gender_guess(e) in (honor, None)]
        if not cands:
            return None
        best_level = max(l for _, l in cands)
        cands = [e for e, l in cands if l == best_level]
        if len(cands) == 1:
            return cands[0]

        # several bearers of the surname: the one a bare surname means in political news
        # ("Clinton" is Hillary Clinton unless told otherwise), then the most mentioned,
        # then the one the body introduces first
        def key(e: int):
            firsts = {k[0] for k in self.ent_keys[e] if len(k) >= 2}
            return (_PROMINENT.get(word) in firsts, self._count[e], -self._first_start[e])
        return max(cands, key=key)

    def _entity_gender_guess(self, e: int) -> str | None:
        gs = self._genders[e]
        return max(set(gs), key=gs.count) if gs else None

    def _pronoun_gender_votes(self) -> None:
        """A he/she in a sentence whose only person name precedes it votes for that name's
        gender (for names the lists do not know)."""
        by_sent: dict[int, list[_Name]] = {}
        for nm in self.names:
            if nm.entity is not None and self.entities[nm.entity].type in ("person", "unknown"):
                by_sent.setdefault(self.toks[nm.first_tok].sent, []).append(nm)
        subjects = {}
        for sent, nms in by_sent.items():
            if self._is_subject_pos(nms[0].first_tok):
                subjects[sent] = nms
        for t in self.toks:
            g = "m" if t.low in _PRONOUNS_M else "f" if t.low in _PRONOUNS_F else None
            if g is None:
                continue
            before = [nm for nm in subjects.get(t.sent, []) if nm.end <= t.start]
            ents = {nm.entity for nm in before}
            if len(ents) == 1:
                e = ents.pop()
                self.ent_votes[e][g] = self.ent_votes[e].get(g, 0) + 1
        for e, ent in enumerate(self.entities):
            v = self.ent_votes[e]
            if ent.gender is None and v:
                m, f = v.get("m", 0), v.get("f", 0)
                if m != f:
                    ent.gender = "m" if m > f else "f"
                    if ent.type == "unknown":
                        ent.type = "person"

    # ---------------------------------------------------------- salience

    def tok_at(self, pos: int) -> int:
        return max(0, bisect_right(self.tok_starts, pos) - 1)

    def subject_tok(self, sent: int) -> int | None:
        """The first word of a sentence after leading adverbials and quotations."""
        i = self.sent_first[sent] if sent < len(self.sent_first) else None
        if i is None:
            return None
        n = len(self.toks)
        end = self.sent_first[sent + 1] if sent + 1 < len(self.sent_first) else n
        k = i
        while k < end:
            t = self.toks[k]
            if not t.word or self.in_quote(t.start):
                k += 1
                continue
            if t.low in _SUBJECT_SKIP:
                # skip a leading clause up to its comma
                j = k
                while j < end and self.toks[j].text != "," and j - k < 12:
                    j += 1
                if j < end and self.toks[j].text == "," and t.low not in ("but", "and", "so", "yet", "also", "still", "then", "now"):
                    k = j + 1
                else:
                    k += 1
                continue
            return k
        return None

    def _record(self, e: int, pos: int, sent: int, subject: bool) -> None:
        """A mention of entity e (a name, or a pronoun or description resolved to it)."""
        quoted = self.in_quote(pos, closed=True)
        self.last[e] = (pos, sent, subject)
        if subject:
            self.subject_sent[e] = sent
        if not quoted:
            self.last_unquoted[e] = (pos, sent, subject)
            if subject:
                self.subject_sent_unquoted[e] = sent
            self.n_unquoted[e] += 1
        self.n_mentions[e] += 1
        self.recent.append((sent, e))
        ent = self.entities[e]
        if ent.type == "person":
            for g in ("m", "f"):
                if ent.gender in (g, None) and self.n_mentions[e] > self.top_person.get(g, (0, -1))[0]:
                    self.top_person[g] = (self.n_mentions[e], e)

    def _alone_on_line(self, nm: _Name) -> bool:
        """A name that is a whole line: a signature ("Ernie Helton."), not an antecedent."""
        toks = self.toks
        line = toks[nm.first_tok].line
        k0, k1 = nm.first_tok - 1, nm.last_tok + 1
        return (k0 < 0 or toks[k0].line != line) and (k1 >= len(toks) or toks[k1].line != line) \
            and nm.first_tok > 0

    def subject_of(self, sent: int) -> int | None:
        """The token where the sentence's subject starts: a name (past modifiers such as
        "Trump campaign spokesman" or "NBC's"), a pronoun or a description."""
        if sent in self._subjects:
            return self._subjects[sent]
        k = self.subject_tok(sent)
        end = self.sent_first[sent + 1] if sent + 1 < len(self.sent_first) else len(self.toks)
        out = None
        while k is not None and k < end:
            t = self.toks[k]
            if k in self.tok_name:
                nm = self.names[self.tok_name[k]]
                after = nm.last_tok + 1
                if nm.possessive or (after < end and self.toks[after].word and not self.toks[after].cap
                                     and self.toks[after].low.rstrip(".") in _DESC_WORDS):
                    k = after
                    continue
                out = nm.first_tok
                break
            if not t.word or t.low in _DETS or t.low.rstrip(".") in _TITLES or t.low in _ADJECTIVES \
                    or (not t.cap and t.low.rstrip(".") in _DESC_WORDS):
                k += 1
                continue
            out = k
            break
        self._subjects[sent] = out
        return out

    def _is_subject_pos(self, tok: int) -> bool:
        return self.subject_of(self.toks[tok].sent) == tok

    # ---------------------------------------------------------- speakers

    def analyse_span(self, frags: Sequence[Offsets]) -> tuple[str, object]:
        """Classify a speaker span: ("name", name index) / ("pronoun", token index) /
        ("description", (head word, determiner, first token, last token, of_name)) /
        ("none", reason)."""
        frags = sorted(frags)
        toks_in: list[int] = []
        for s, e in frags:
            i = bisect_right(self.tok_starts, s - 1)
            while i < len(self.toks) and self.toks[i].start < e:
                if self.toks[i].end > s:
                    toks_in.append(i)
                i += 1
        words = [k for k in toks_in if self.toks[k].word]
        if not words:
            return "none", "empty"
        # "said Hester": a cue word as speaker with a name right after it
        if len(words) == 1 and self.toks[words[0]].low in _CUE_WORDS:
            k = words[0] + 1
            if k in self.tok_name:
                return "name", self.tok_name[k]
            return "none", "cue-word"
        parts = self._chunks(toks_in)
        head = parts[0][1] if parts else []
        # the head chunk's own modifiers ("of ...", "who ...") do not count as more chunks
        res = self._name_headed(head, whole=all(sep in ("prep", "rel") for sep, _ in parts[1:]))
        if res is not None:
            return "name", res
        hw = [k for k in head if self.toks[k].word]
        if len(hw) == 1 and self.toks[hw[0]].low in PRONOUNS:
            return "pronoun", hw[0]
        if len(hw) == 2 and self.toks[hw[0]].low in ("and", "but", "so") and self.toks[hw[1]].low in PRONOUNS:
            return "pronoun", hw[1]
        if self.o.appositives:
            # an appositive name: "Trump's running mate, Indiana Gov. Mike Pence,"
            for sep, ch in parts[1:3]:
                cw = [k for k in ch if self.toks[k].word]
                if sep not in ("comma", "paren", "dash") or not cw or self.toks[cw[0]].low in _CUE_WORDS:
                    break
                res = self._name_headed(ch, whole=False)
                if res is not None and not self._is_place(res):
                    return "name", res
            # several speakers joined by "and": the first that has a name ("networks and
            # the Associated Press"); not an "and" inside a modifier ("a study by X and Y")
            for sep, ch in parts[1:]:
                if sep in ("prep", "rel", "paren", "dash"):
                    break
                if sep != "and":
                    continue
                res = self._name_headed(ch, whole=False)
                if res is not None and not self._is_place(res):
                    return "name", res
        return "description", self._description(head, toks_in)

    def _is_place(self, ni: int) -> bool:
        e = self.names[ni].entity
        return e is not None and self.entities[e].type == "place"

    def _chunks(self, toks_in: list[int]) -> list[tuple[str, list[int]]]:
        """The span cut at commas, parentheses, dashes, "and"/"or", prepositions and relative
        pronouns (not inside names): (separator kind, tokens) with separator kinds start,
        comma, paren, dash, and, prep (the preposition stays in the chunk), rel."""
        parts: list[tuple[str, list[int]]] = [("start", [])]
        started = False
        for k in toks_in:
            t = self.toks[k]
            in_name = k in self.tok_in_run
            sep = None
            if t.text in (",", ";", ":"):
                sep = "comma"
            elif t.text in ("(", ")"):
                sep = "paren"
            elif t.text in ("—", "–", "--"):
                sep = "dash"
            elif started and not in_name:
                if t.low in _SPLITTERS:
                    sep = "and"
                elif t.low in _PREPOSITIONS:
                    sep = "prep"
                elif t.low in _RELATIVES and t.low != "that":
                    sep = "rel"
            if sep is not None:
                if parts[-1][1] or sep != parts[-1][0]:
                    parts.append((sep, []))
                if sep == "prep":
                    parts[-1][1].append(k)
                continue
            parts[-1][1].append(k)
            started = started or t.word
        return [(sep, ch) for sep, ch in parts if any(self.toks[k].word for k in ch)]

    def _name_headed(self, chunk: list[int], whole: bool) -> int | None:
        """The name that ends the chunk (its head), if any."""
        ws = [k for k in chunk if self.toks[k].word]
        while ws and self.toks[ws[-1]].low in _NAME_SUFFIXES and ws[-1] not in self.tok_name:
            ws.pop()
        if not ws:
            return None
        last = ws[-1]
        if last not in self.tok_name:
            return None
        nm = self.names[self.tok_name[last]]
        if nm.last_tok != last:
            return None
        if nm.group:
            return None
        if nm.possessive and not whole:
            return None
        if nm.possessive and len([k for k in ws if k not in range(nm.first_tok, nm.last_tok + 1)]) > 0:
            # "the group's Bill"? rare; the possessor with more words before it
            pass
        return self.tok_name[last]

    def _description(self, head: list[int], toks_in: list[int]) -> tuple:
        ws = [k for k in head if self.toks[k].word]
        det = self.toks[ws[0]].low if ws else ""
        possessor = any(self.toks[k].possessive for k in ws[:-1]) or det in _POSSESSIVE_DETS
        words = [self.toks[k].low.rstrip(".") for k in ws]
        head_word = words[-1] if words else ""
        if head_word.endswith("'s"):
            head_word = head_word[:-2]
        # "the city of Phoenix"
        of_name = None
        if head_word in _PLACE_OF and ws:
            k = ws[-1] + 1
            if k < len(self.toks) and self.toks[k].low == "of" and k + 1 in self.tok_name:
                of_name = self.tok_name[k + 1]
        all_words = [self.toks[k].low.rstrip(".") for k in toks_in if self.toks[k].word]
        named_modifier = any(k in self.tok_name and self.names[self.tok_name[k]].entity is not None
                             and self.entities[self.names[self.tok_name[k]].entity].type != "place"
                             for k in ws)
        return (head_word, det, possessor, words, of_name, all_words, named_modifier)

    # ---------------------------------------------------------- resolution

    def resolve(self, speakers: Sequence[Sequence[Offsets]], contents: Sequence[Sequence[Offsets]] | None
                ) -> list[SpeakerResolution]:
        self.find_names()
        self.build_entities()
        analyses = [self.analyse_span(frags) if frags else ("none", "no-speaker") for frags in speakers]
        # a name that speaks and is no institution or place is a person
        for kind, val in analyses:
            if kind == "name":
                e = self.names[val].entity
                if e is not None and self.entities[e].type == "unknown" and not self._is_acronym(self.names[val]):
                    self.entities[e].type = "person"
        # events in text order: names, every he/she pronoun, and the speakers to decide
        events: list[tuple[int, int, str, int]] = []   # (pos, order, kind, index)
        for ni, nm in enumerate(self.names):
            if nm.entity is not None:
                events.append((nm.start, 0, "name", ni))
        spk_tok = {}
        for ai, (kind, val) in enumerate(analyses):
            if kind in ("pronoun", "description"):
                pos = speakers[ai][0][0] if speakers[ai] else 0
                if kind == "pronoun":
                    pos = self.toks[val].start
                    spk_tok[val] = ai
                events.append((pos, 1, "speaker", ai))
        if self.o.pronouns:
            for k, t in enumerate(self.toks):
                if (t.low in _PRONOUNS_M or t.low in _PRONOUNS_F) and k not in spk_tok:
                    events.append((t.start, 2, "pronoun", k))
        events.sort()
        out: list[SpeakerResolution | None] = [None] * len(speakers)
        self.last_speaker: int | None = None
        speaker_pos = sorted(((speakers[ai][0][0], ai) for ai in range(len(speakers)) if speakers[ai]))
        sp_i = 0
        for pos, _, kind, idx in events:
            # the current speaker: the latest attribution whose speaker precedes `pos`
            while sp_i < len(speaker_pos) and speaker_pos[sp_i][0] < pos:
                ai = speaker_pos[sp_i][1]
                if out[ai] is None and analyses[ai][0] == "name":
                    out[ai] = self._decide_name(analyses[ai][1])
                if out[ai] is not None and out[ai].entity is not None:
                    self.last_speaker = out[ai].entity
                sp_i += 1
            if kind == "name":
                nm = self.names[idx]
                if not self._alone_on_line(nm):
                    self._record(nm.entity, nm.start, self.toks[nm.first_tok].sent,
                                 self._is_subject_pos(nm.first_tok))
            elif kind == "pronoun":
                e = self._personal(idx)
                if e is not None:
                    t = self.toks[idx]
                    self._record(e, t.start, t.sent, self._is_subject_pos(idx) and t.low in ("he", "she"))
            else:
                ai = idx
                kind_a, val = analyses[ai]
                if kind_a == "pronoun":
                    res = self._pronoun(val, ai, contents, out, speakers)
                else:
                    res = self._describe(val, speakers[ai][0][0])
                out[ai] = res
                if res.entity is not None:
                    s = speakers[ai][0][0]
                    tk = self.tok_at(s)
                    self._record(res.entity, s, self.toks[tk].sent, True)
                    self.last_speaker = res.entity
        for ai, (kind, val) in enumerate(analyses):
            if out[ai] is None:
                if kind == "name":
                    out[ai] = self._decide_name(val)
                elif kind == "none":
                    out[ai] = SpeakerResolution(None, "none" if val == "no-speaker" else "description", str(val))
        # first-person pronouns inside quotations: the quotation's speaker (second pass)
        for ai, (kind, val) in enumerate(analyses):
            if kind == "pronoun" and out[ai] is not None and out[ai].rule == "first-person-deferred":
                out[ai] = self._first_person(val, ai, contents, out, speakers)
        return [r if r is not None else SpeakerResolution(None, "none", "none") for r in out]

    def _decide_name(self, ni: int) -> SpeakerResolution:
        nm = self.names[ni]
        if nm.entity is None:
            return SpeakerResolution(None, "name", "group")
        return SpeakerResolution(nm.entity, "name", "name")

    # ---- pronouns

    def _candidates(self, pos: int, sent: int, types: tuple[str, ...], gender: str | None,
                    window: int = 6) -> list[tuple[float, int]]:
        """Entities mentioned in the last `window` sentences, scored: recency in
        sentences, subject of its sentence, the current speaker, frequency."""
        scored = []
        quoted = self.in_quote(pos, closed=True)
        while self.recent and self.recent[0][0] < sent - window:
            self.recent.popleft()
        for e in dict.fromkeys(e for _, e in self.recent):
            ent = self.entities[e]
            if ent.type not in types:
                continue
            if gender and self.o.gender and ent.gender not in (gender, None):
                continue
            last = self.last[e] if quoted else self.last_unquoted[e]
            if last is None or last[0] > pos:   # (a mention at pos: the same speaker resolved before)
                continue
            lp, ls, subj = last
            d = sent - ls
            if d > window:
                continue
            score = -float(d)
            if self.o.salience:
                if (self.subject_sent if quoted else self.subject_sent_unquoted)[e] == ls:
                    score += 0.75
                if e == self.last_speaker:
                    score += 0.6
                score += 0.15 * math.log1p((self.n_mentions if quoted else self.n_unquoted)[e])
                if gender and self.o.gender and ent.gender is None:
                    score -= 0.3
                if ent.type == "unknown" and "person" in types:
                    score -= 0.2
            else:
                score += lp / 1e7   # most recent mention first
            scored.append((score, e))
        scored.sort(reverse=True)
        return scored

    def _personal(self, tok: int) -> int | None:
        t = self.toks[tok]
        gender = "m" if t.low in _PRONOUNS_M else "f"
        cands = self._candidates(t.start, t.sent, ("person",), gender)
        if self.trace is not None:
            self.trace.append((t.start, t.text, [(round(sc, 2), self.entities[e].canonical.text) for sc, e in cands[:4]]))
        if not cands:
            if not self.o.salience:
                return None
            # fall back to the most frequent fitting person mentioned so far
            best = self.top_person.get(gender)
            return best[1] if best else None
        return cands[0][1]

    def _pronoun(self, tok: int, ai: int, contents, out, speakers) -> SpeakerResolution:
        t = self.toks[tok]
        low = t.low
        if not self.o.pronouns:
            return SpeakerResolution(None, "pronoun", "pronouns-off")
        if low in _PRONOUNS_M or low in _PRONOUNS_F:
            e = self._personal(tok)
            return SpeakerResolution(e, "pronoun", "personal")
        if low in _RELATIVES:
            if not self.o.relatives:
                return SpeakerResolution(None, "pronoun", "relatives-off")
            return SpeakerResolution(self._relative(tok), "pronoun", "relative")
        if low in _PRONOUNS_IT or low in _PRONOUNS_THEY:
            return SpeakerResolution(self._institutional(tok), "pronoun", "it/they")
        if low in _PRONOUNS_FIRST:
            return SpeakerResolution(None, "pronoun", "first-person-deferred")
        return SpeakerResolution(None, "pronoun", "other-pronoun")

    def _coordinated_first(self, nm: _Name) -> _Name:
        """"Tyresha McClenney and Bryan Anderson": the first name of a coordination."""
        k = nm.first_tok - 1
        while k >= 1 and self.toks[k].low in ("and", ",") and k - 1 in self.tok_name:
            prev = self.names[self.tok_name[k - 1]]
            if prev.last_tok != k - 1 or prev.possessive or prev.entity is None:
                break
            nm = prev
            k = nm.first_tok - 1
        return nm

    def _relative(self, tok: int) -> int | None:
        """who/which/that: the name right before it (the first of a coordination), past
        appositives (", 59, of Ashton, Md.,", ", a super PAC"); else a definite description
        right before it; else the subject of "X is a ... who"."""
        t = self.toks[tok]
        want_person = t.low in ("who", "whom", "whose")

        def ok(nm: _Name) -> bool:
            if nm.entity is None or nm.possessive:
                return False
            typ = self.entities[nm.entity].type
            return typ in ("person", "unknown") if want_person else True

        k = tok - 1
        while k >= 0 and self.toks[k].text in ("”", "\"", ")"):
            k -= 1
        if k >= 0 and k in self.tok_name and self.names[self.tok_name[k]].last_tok == k:
            nm = self._coordinated_first(self.names[self.tok_name[k]])
            if ok(nm):
                return nm.entity
        # walk back over appositive segments
        end = k
        for _ in range(4):
            if end < 0 or self.toks[end].text != ",":
                break
            j = end - 1
            while j >= 0 and self.toks[j].text != "," and end - j < 14 and self.toks[j].sent == t.sent:
                j -= 1
            seg = [x for x in range(j + 1, end) if self.toks[x].word]
            if not seg:
                break
            first = self.toks[seg[0]]
            if first.low in ("of", "from", "in", "at") or first.text.isdigit():
                end = j            # ", 59," / ", of Ashton,": skip
                continue
            last = seg[-1]
            if last in self.tok_name and self.names[self.tok_name[last]].last_tok == last:
                nm = self.names[self.tok_name[last]]
                is_place = nm.entity is not None and self.entities[nm.entity].type == "place"
                if not is_place:
                    nm = self._coordinated_first(nm)
                    if ok(nm):
                        return nm.entity
                    break
                end = j            # ", Md.,": skip
                continue
            skippable = first.low in ("a", "an", "the", "now", "then") or not first.cap
            if not skippable:
                break
            end = j
        if not self.o.descriptions:
            return None
        # "the Republican nominee for president, who"
        k2 = k - 1 if k >= 0 and self.toks[k].text == "," else k
        j = k2
        while j >= 0 and k2 - j < 8 and self.toks[j].word and self.toks[j].low not in ("the",) \
                and self.toks[j].sent == t.sent:
            j -= 1
        if j >= 0 and self.toks[j].low == "the" and j < k2:
            kind, val = self.analyse_span([(self.toks[j].start, self.toks[k2].end)])
            if kind == "name":
                nm = self.names[val]
                if ok(nm):
                    return nm.entity
            elif kind == "description":
                res = self._describe(val, self.toks[j].start)
                if res.entity is not None and (not want_person or self.entities[res.entity].type == "person"):
                    return res.entity
        # "Kaine is a former civil rights lawyer who"
        j = k
        while j >= 0 and k - j < 8 and self.toks[j].word and self.toks[j].low not in ("a", "an") \
                and self.toks[j].sent == t.sent:
            j -= 1
        if j >= 2 and self.toks[j].low in ("a", "an") and self.toks[j - 1].low in ("is", "was") \
                and j - 2 in self.tok_name:
            nm = self.names[self.tok_name[j - 2]]
            if nm.last_tok == j - 2 and ok(nm):
                return nm.entity
        return None

    def _institutional(self, tok: int) -> int | None:
        """it/they: an institution (or, for "it", a place): the subject of this sentence,
        else the nearest one earlier in this sentence, else the current speaker, else the
        subject of the previous sentence; a description as subject blocks (no entity)."""
        t = self.toks[tok]
        types = ("org",) if t.low in _PRONOUNS_THEY else ("org", "place")

        def fits(nm: _Name) -> bool:
            return nm.entity is not None and not nm.possessive and not nm.group \
                and self.entities[nm.entity].type in types

        subj = self.subject_of(t.sent)
        if subj is not None and subj < tok and subj in self.tok_name:
            nm = self.names[self.tok_name[subj]]
            if fits(nm):
                return nm.entity
        for k in range(tok - 1, self.sent_first[t.sent] - 1, -1):
            if k in self.tok_name and not self.in_quote(self.toks[k].start):
                nm = self.names[self.tok_name[k]]
                if nm.last_tok == k and fits(nm):
                    return nm.entity
        if self.last_speaker is not None and self.entities[self.last_speaker].type in types:
            last = self.last[self.last_speaker]
            if last is not None and last[0] < t.start and t.sent - last[1] <= 2:
                return self.last_speaker
        if t.sent >= 1:
            subj = self.subject_of(t.sent - 1)
            if subj is not None and subj in self.tok_name:
                nm = self.names[self.tok_name[subj]]
                if fits(nm):
                    return nm.entity
        return None

    def _signature(self, tok: int) -> int | None:
        """A letter or post signed on a line of its own after the text ("Michael
        Pravica.", "@mdeluzgon."), before the next section header ("FACEBOOK.")."""
        if self._lines is None:
            self._lines = {}
            for k, t in enumerate(self.toks):
                self._lines.setdefault(t.line, []).append(k)
        line = self.toks[tok].line
        last = max(self._lines) if self._lines else line
        for ln in range(line + 1, min(last, line + 40) + 1):
            ks = [k for k in self._lines.get(ln, []) if self.toks[k].word]
            if not ks:
                continue
            if self._is_header(ks):
                return None   # a section header: the text was not signed
            if len(ks) <= 5 and ks[0] in self.tok_name:
                nm = self.names[self.tok_name[ks[0]]]
                if nm.last_tok == ks[-1] and nm.entity is not None and \
                        self.entities[nm.entity].type in ("person", "unknown", "org"):
                    return nm.entity
        return None

    def _line_words(self, ln: int) -> list[int]:
        """The word tokens of line `ln` (cached: a one-line article is asked about often)."""
        if ln in self._line_word_cache:
            return self._line_word_cache[ln]
        if self._lines is None:
            self._lines = {}
            for k, t in enumerate(self.toks):
                self._lines.setdefault(t.line, []).append(k)
        words = self._line_word_cache[ln] = [k for k in self._lines.get(ln, []) if self.toks[k].word]
        return words

    def _is_header(self, ks: list[int]) -> bool:
        return bool(ks) and len(ks) <= 4 and all(self.toks[k].text.isupper() for k in ks)

    def _after_header(self, tok: int) -> bool:
        """Is the pronoun in the first paragraph after a section header ("TWITTER.")?"""
        ln = self.toks[tok].line - 1
        while ln >= 0 and not self._line_words(ln):
            ln -= 1
        return ln >= 0 and self._is_header(self._line_words(ln))

    def _author_bio(self) -> int | None:
        """An opinion piece's last paragraph: "Rick Scott is the Republican governor of
        Florida." / "Rep. Raul Grijalva, D-Ariz., was an early backer of ..." """
        if not self.toks:
            return None
        ks = self._line_words(self.toks[-1].line)
        k = 0
        while k < len(ks) and self.toks[ks[k]].low.rstrip(".") in _TITLES:
            k += 1
        if k >= len(ks) or ks[k] not in self.tok_name:
            return None
        nm = self.names[self.tok_name[ks[k]]]
        after = nm.last_tok + 1
        if nm.entity is None or nm.first_tok != ks[k] or after >= len(self.toks):
            return None
        if self.toks[after].low in ("is", "was", ",") and self.entities[nm.entity].type in ("person", "unknown"):
            return nm.entity
        return None

    def _first_person(self, tok: int, ai: int, contents, out, speakers) -> SpeakerResolution:
        t = self.toks[tok]
        if not self.o.first_person:
            return SpeakerResolution(None, "pronoun", "first-person")
        if not self.in_quote(t.start):
            if t.low in ("we", "us", "our", "ours", "ourselves") and self._after_header(tok):
                return SpeakerResolution(None, "pronoun", "first-person")   # the editors' "We asked"
            e = self._signature(tok)
            if e is not None:
                return SpeakerResolution(e, "pronoun", "signature")
            e = self._author_bio()
            return SpeakerResolution(e, "pronoun", "author" if e is not None else "first-person")
        if contents is None:
            return SpeakerResolution(None, "pronoun", "first-person")
        plural = t.low in ("we", "us", "our", "ours", "ourselves")
        for aj, frags in enumerate(contents):
            if aj == ai or not frags:
                continue
            if any(s <= t.start < e for s, e in frags) and out[aj] is not None and out[aj].entity is not None:
                e = out[aj].entity
                if plural and self.entities[e].type == "person":
                    return SpeakerResolution(None, "pronoun", "we-person")
                return SpeakerResolution(e, "pronoun", "first-person-quote")
        return SpeakerResolution(None, "pronoun", "first-person")

    # ---- descriptions

    def _institution_kind(self, e: int) -> str:
        words = {w for k in self.ent_keys[e] for w in k}
        if words & _MEDIA_WORDS:
            return "media"
        if words & {"inc", "inc.", "corp", "corp.", "co", "co.", "company", "llc", "ltd"}:
            return "company"
        return "org"

    def _latest_institution(self, head: str, pos: int, wanted: set[str], words: list[str],
                            named_modifier: bool, window: int = 8) -> int | None:
        """The institution of the head's kind mentioned last before `pos`, within a few
        sentences ("the newspaper" -> a name with Times/Post/News..., "the group"); not for
        descriptions with a name or a party in them ("the Clinton campaign")."""
        if named_modifier or head not in _KIND_HEADS or any(
                w in _ADJECTIVES or w in _ADJ_NAMES_OK or w[:1].isupper() for w in words[1:-1]):
            return None
        kind = "media" if head in _MEDIA_HEADS else "company" if head in _COMPANY_HEADS else "org"
        sent = self.toks[self.tok_at(pos)].sent
        best = None
        for e, ent in enumerate(self.entities):
            if ent.type not in ("org", "unknown") or self._is_acronym_entity(e) and kind == "company":
                continue
            k = self._institution_kind(e)
            if kind == "media" and k != "media" or kind != "media" and k == "media":
                continue
            if ent.type == "unknown" and kind != "company":
                continue
            last = self.last[e]
            if last is None or last[0] >= pos or sent - last[1] > window:
                continue
            sc = (len(wanted & {w for kk in self.ent_keys[e] for w in kk}), last[0])
            if best is None or sc > best[0]:
                best = (sc, e)
        return None if best is None else best[1]

    def _headline_referent(self, head: str, words: list[str], wanted_words: set[str]) -> int | None:
        """A headline's description ("Philippine lawmaker", "Newspaper", "Woman") names
        who the article introduces: the person (or institution) with that descriptor,
        else the first person of fitting gender in the body."""
        norm = _TITLE_WORDS.get(head, head)
        if head in _PERSON_ROLES or head in _TITLES:
            best = None
            for e, ent in enumerate(self.entities):
                if ent.type in ("person", "unknown") and norm in self.ent_desc[e]:
                    sc = len({_TITLE_WORDS.get(w, w) for w in wanted_words} & set(self.ent_desc[e]))
                    if best is None or sc > best[0]:
                        best = (sc, e)
            if best is not None:
                return best[1]
            gender = "f" if head in _FEMALE_WORDS else "m" if head in _MALE_WORDS else None
            first = None
            for nm in self.names:
                if nm.entity is None or self.toks[nm.first_tok].line == 0:
                    continue
                ent = self.entities[nm.entity]
                if ent.type == "person" and (gender is None or ent.gender in (gender, None)):
                    first = nm.entity
                    break
            return first
        if head in _MEDIA_HEADS | _COMPANY_HEADS | _GROUP_HEADS:
            kind = "media" if head in _MEDIA_HEADS else "company" if head in _COMPANY_HEADS else "org"
            for nm in self.names:
                if nm.entity is None or self.toks[nm.first_tok].line == 0:
                    continue
                if self.entities[nm.entity].type == "org" and \
                        (self._institution_kind(nm.entity) == "media") == (kind == "media"):
                    return nm.entity
        return None

    def _is_acronym_entity(self, e: int) -> bool:
        t = self.entities[e].canonical.text
        return t.isupper() and len(t) <= 6

    def _describe(self, desc: tuple, pos: int) -> SpeakerResolution:
        head, det, possessor, words, of_name, all_words, named_modifier = desc
        if not self.o.descriptions:
            return SpeakerResolution(None, "description", "descriptions-off")
        if of_name is not None and self.names[of_name].entity is not None:
            return SpeakerResolution(self.names[of_name].entity, "description", "city-of")
        if self.toks and self.toks[self.tok_at(pos)].line == 0 and words and not possessor \
                and det not in _INDEFINITE and len(self._line_words(0)) < len(self.toks):
            e = self._headline_referent(head, words, wanted_words=set(words))
            if e is not None:
                return SpeakerResolution(e, "description", "headline")
        if not words or possessor or det in _INDEFINITE or any(w in _INDEFINITE for w in words[:2]):
            return SpeakerResolution(None, "description", "indefinite/possessed")
        if det not in ("the", "this", "that") and not (words[0] in _TITLES and head in _TITLES | _PERSON_ROLES):
            return SpeakerResolution(None, "description", "bare")
        if head in ("men", "women", "people") or (head.endswith("s") and not head.endswith("ss")
                                                   and head[:-1] in _PERSON_ROLES | _ORG_ROLES):
            return SpeakerResolution(None, "description", "plural")
        norm = _TITLE_WORDS.get(head, head)
        wanted = {_TITLE_WORDS.get(w, w) for w in all_words} - {"the", "this", "that"}

        def recency(e: int) -> tuple:
            last = self.last[e]
            if last is not None and last[0] < pos:
                return (1, last[0])
            return (0, -min(m.start for m in self.entities[e].mentions))

        if head in _ORG_ROLES:
            # an institution whose name contains the head word ("the alliance", "the fund")
            best = None
            for e, ent in enumerate(self.entities):
                if ent.type in ("org", "unknown") and any(head in k for k in self.ent_keys[e]):
                    sc = recency(e)
                    if best is None or sc > best[0]:
                        best = (sc, e)
            if best is None:
                for e, ent in enumerate(self.entities):
                    if ent.type == "org" and norm in self.ent_desc[e]:
                        sc = (len(wanted & set(self.ent_desc[e])),) + recency(e)
                        if best is None or sc > best[0]:
                            best = (sc, e)
            if best is not None:
                return SpeakerResolution(best[1], "description", "institution")
            # "the newspaper", "the company", "the group": the latest institution of that kind
            e = self._latest_institution(head, pos, wanted, words, named_modifier)
            if e is not None:
                return SpeakerResolution(e, "description", "institution-kind")
            return SpeakerResolution(None, "description", "unnamed")
        if head in _MEDIA_HEADS | _COMPANY_HEADS | _GROUP_HEADS:
            e = self._latest_institution(head, pos, wanted, words, named_modifier)
            if e is not None:
                return SpeakerResolution(e, "description", "institution-kind")
            return SpeakerResolution(None, "description", "unnamed")
        if head not in _PERSON_ROLES and head not in _TITLES:
            return SpeakerResolution(None, "description", "unnamed")
        # a person role: the entity with that descriptor, most words in common, most recent
        best = None
        for e, ent in enumerate(self.entities):
            if ent.type not in ("person", "unknown") or norm not in self.ent_desc[e]:
                continue
            sc = (len(wanted & set(self.ent_desc[e])),) + recency(e)
            if best is None or sc > best[0]:
                best = (sc, e)
        if best is not None:
            return SpeakerResolution(best[1], "description", "descriptor")
        if named_modifier or head in _GENERIC_ROLES:
            return SpeakerResolution(None, "description", "unnamed")
        # no descriptor: the most salient person of fitting gender
        gender = "f" if head in _FEMALE_WORDS else "m" if head in _MALE_WORDS else None
        best = None
        for e, ent in enumerate(self.entities):
            if ent.type != "person" or (gender and ent.gender not in (gender, None)):
                continue
            last = self.last[e]
            seen = last is not None and last[0] < pos
            sc = (len(ent.mentions) + 2 * (self.n_mentions[e] if seen else 0), last[0] if seen else -1)
            if best is None or sc > best[0]:
                best = (sc, e)
        if best is not None:
            return SpeakerResolution(best[1], "description", "salient-person")
        return SpeakerResolution(None, "description", "unnamed")


def resolve_speakers(text: str, speakers: Sequence[Sequence[Offsets]],
                     contents: Sequence[Sequence[Offsets]] | None = None,
                     options: ResolverOptions | None = None) -> ResolvedSpeakers:
    """Resolve each attribution's speaker to an entity of the article.

    `speakers[i]` are the speaker fragments `(start, end)` of attribution i (empty: no
    speaker); `contents[i]` its content fragments (used for "I"/"we" inside quotations).
    Returns every entity found and one `SpeakerResolution` per attribution; each entity
    lists the attributions it speaks and the mentions found (names, and the speaker
    pronouns and descriptions resolved to it)."""
    r = _Resolver(text, options or ResolverOptions())
    res = r.resolve([tuple(map(tuple, f)) for f in speakers],
                    None if contents is None else [tuple(map(tuple, f)) for f in contents])
    for ai, sr in enumerate(res):
        if sr.entity is not None:
            ent = r.entities[sr.entity]
            ent.attributions.append(ai)
            s, e = min(speakers[ai])[0], max(speakers[ai])[1]
            m = Mention(text[s:e], s, e)
            if sr.kind != "name" and m not in ent.mentions:
                ent.mentions.append(m)
    for ent in r.entities:
        ent.mentions.sort(key=lambda m: (m.start, m.end))
    return ResolvedSpeakers(r.entities, res)


def speaker_kind(text: str, fragments: Sequence[Offsets]) -> str:
    """name / pronoun / description of one speaker span (none without one): how the
    speaker is written, independent of what it resolves to."""
    if not fragments:
        return "none"
    r = _Resolver(text, ResolverOptions())
    r.find_names()
    kind, _ = r.analyse_span([tuple(f) for f in fragments])
    return "description" if kind == "none" else kind
