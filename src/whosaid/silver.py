"""Silver (rule-based) labellers for the figure and stance layers.

PolNeAR has attributions but no figures or stances; these labellers fill those
layers with provenance "silver" so the model can be trained on every layer, while
human ("gold") layers always win. The rules follow the codebook
(`annotation-guidelines.md`); every rule below is covered by tests/test_silver.py.

Figures — library choice. spaCy's blank English tokenizer (`spacy.blank("en")`, no
model download) does the hard, well-kept part: character offsets, currency and
percent splitting ("$5", "5%"), units glued to digits ("3.5km"), abbreviations that
contain periods ("a.m.", "Sept.", "U.S.", "No.") and identifiers kept whole
("COVID-19", "F-16", "G7", "MH17"), so those never look like numbers. A small scanner
over the tokens then applies the codebook. quantulum3 was evaluated and rejected: it
returns only the bare number for counts ("90,000", not "more than 90,000 troops"),
cuts money wrongly ("a $5 billi"), marks years such as "2020", and crashes while
unpickling its unit classifier with current scikit-learn. spaCy's `Matcher` was
tried too, but the number grammar (digits with scale words, hyphenated number words,
ranges) and the exclusions depend on neighbouring tokens, so a plain scan is shorter.

Without a POS tagger, "the counted noun" is approximated: after the number, take up
to three following words that are alphabetic (hyphenated compounds count as one
word) and not in a stop list (prepositions, determiners, auxiliaries, conjunctions,
pronouns, reporting verbs); capitalised words ("Russian") may only be modifiers, and
trailing words that look like verbs or adverbs (-ed, -ing, -ly) are dropped. Money
and percentages end at their unit.

Stance — a cue lexicon (lemmas, `STANCE_LEXICON`) applied to lemma-ish forms of the
cue words, then context rules: phrases ("according to", "called for/on"), light
verbs whose object carries the stance ("expressed concern", "delivered the warning"),
negation ("did not support" -> OPPOSE, "did not deny" -> NEUTRAL) and, for neutral
cues only, cheap high-precision content patterns (conditional threats, a pronoun
subject followed by a stance word, "was ready for"). Fallbacks get lower confidence.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from typing import Iterable

from whosaid.documents import Attribution, Document, Span
from whosaid.errors import ConfigError
from whosaid.schema import ATTRIBUTION, FIGURE, STANCE

FIGURE_LABEL = "FIGURE"
SUPPORT, OPPOSE, NEUTRAL = "SUPPORT", "OPPOSE", "NEUTRAL"
SILVER = "silver"
SILVER_LAYERS = (FIGURE, STANCE)

# --------------------------------------------------------------------------- figures

_DIGITS = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
_DIGITS_SCALED = re.compile(r"^\d+(?:\.\d+)?(?:bn|mn|tn|k)$", re.I)  # "5bn", "3.5bn"
_YEAR = re.compile(r"^(?:18|19|20)\d\d$")
_UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
          "fourteen fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = frozenset("hundred thousand million billion trillion dozen".split())
_NUMBER_WORDS = frozenset(_UNITS + _TENS)

#: Approximators included in a figure span ("more than 90,000 troops").
APPROXIMATORS = tuple(tuple(p.split()) for p in (
    "more than", "less than", "fewer than", "at least", "at most", "up to", "some", "about",
    "around", "roughly", "nearly", "almost", "approximately", "over", "under", "close to",
    "as many as", "as few as", "as much as", "upwards of", "in excess of", "an estimated",
    "no more than", "no fewer than", "no less than", "just over", "just under", "well over",
    "between"))
_APPROXIMATOR_WORDS = frozenset(w for p in APPROXIMATORS for w in p)
_CURRENCIES = frozenset({"$", "US$", "C$", "A$", "HK$", "€", "£", "¥", "₹", "₽"})
_CURRENCY_CODES = frozenset({"USD", "EUR", "GBP", "JPY", "CNY", "RUB", "UAH", "CHF"})  # "USD 5 million"
_PERCENT = frozenset({"%", "percent", "pct"})
_MONTHS = frozenset(
    "January February March April May June July August September October November December "
    "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec".split())
_TIME_AFTER = frozenset({"a.m.", "p.m.", "am", "pm", "a.m", "p.m", "gmt", "utc", "o'clock", "hrs"})
_IDENT_PREFIX = frozenset({"No.", "Nos.", "no.", "#"})
_ONE_DETERMINERS = frozenset({"the", "no", "this", "that", "any", "every", "each", "which"})
_RANGE_WORDS = frozenset({"to", "-", "–", "—", "or"})

#: Words that end the counted noun (and may not be taken for a name before a number).
STOP_WORDS = frozenset("""
    of in on at to from by with for since into onto near across over under after before
    during against toward towards about among between through without within amid amidst
    along around than per via upon beyond behind inside outside throughout until till
    the a an this that these those its their his her our my your all each every some any no
    another such what which who whom whose where when while if as and or but nor so yet
    is are was were be been being have has had do does did will would can could may might
    must shall should it they he she we you i them him us me there here then now ago later
    earlier more less too also not only just still already apiece respectively
    away apart ahead back because although though whether unless how why
    say says said tell tells told according reported killed died left lost
""".split())
_VERB_LIKE = re.compile(r"\w(?:ed|ing|ly)$")  # trailing "killed", "reportedly"
_NOUNS_LIKE_VERBS = frozenset({"family", "ally", "supply", "rally", "assembly", "anomaly"})


@lru_cache(maxsize=1)
def _tokenizer():
    import spacy  # deferred: only the silver labellers need it

    return spacy.blank("en").tokenizer


def _attached(a, b) -> bool:
    """True when token b follows token a with no whitespace between them."""
    return b.i == a.i + 1 and not a.whitespace_


def _is_digit_number(tok) -> bool:
    return bool(_DIGITS.match(tok.text) or _DIGITS_SCALED.match(tok.text))


def _number_end(toks, i: int) -> int:
    """End (exclusive) of the number starting at token i: "1.2 million", "twenty-five",
    "two hundred thousand", "a dozen"."""
    n = len(toks)
    j = i + 1
    words_ok = not _is_digit_number(toks[i])
    while j < n:
        low = toks[j].lower_
        if low in _SCALES or (words_ok and low in _NUMBER_WORDS):
            j += 1
        elif (words_ok and low == "-" and j + 1 < n and _attached(toks[j - 1], toks[j])
              and _attached(toks[j], toks[j + 1]) and toks[j + 1].lower_ in _NUMBER_WORDS):
            j += 2
        else:
            break
    return j


def _starts_number(toks, i: int) -> bool:
    tok = toks[i]
    if _is_digit_number(tok) or tok.lower_ in _NUMBER_WORDS:
        return True
    # "a dozen", "a million": the scale word starts a number only after a/an.
    return tok.lower_ in _SCALES and i > 0 and toks[i - 1].lower_ in ("a", "an")


def _approximator_start(toks, i: int, floor: int) -> tuple[int, tuple[str, ...] | None]:
    """Token index where an approximator ending just before token i starts."""
    best = (i, None)
    for phrase in APPROXIMATORS:
        s = i - len(phrase)
        if s >= floor and tuple(t.lower_ for t in toks[s:i]) == phrase and s < best[0]:
            best = (s, phrase)
    return best


def _noun_end(toks, j: int) -> int:
    """End (exclusive) of the counted noun after a number ending at token j."""
    n = len(toks)
    units: list[tuple[int, int, bool]] = []  # (start, end, attached-to-number)
    k = j
    while k < n and len(units) < 3:
        s = k
        glued = k == j and toks[k].text == "-" and _attached(toks[k - 1], toks[k])
        if glued:  # "2,500-strong", "20-year-old"
            k += 1
        if k >= n or not toks[k].is_alpha or (glued and not _attached(toks[k - 1], toks[k])):
            break
        if not glued and toks[k].lower_ in STOP_WORDS:
            break
        k += 1
        while (k + 1 < n and toks[k].text == "-" and _attached(toks[k - 1], toks[k])
               and _attached(toks[k], toks[k + 1]) and toks[k + 1].is_alpha):
            k += 2  # hyphenated compound: "long-range", "year-old"
        units.append((s, k, glued))
    while units:  # the head noun is lowercase and does not look like a verb or adverb
        s, e, glued = units[-1]
        last = toks[e - 1]
        if glued or (last.is_lower and (last.lower_ in _NOUNS_LIKE_VERBS
                                        or not _VERB_LIKE.search(last.lower_))):
            break
        units.pop()
    return units[-1][1] if units else j


def _excluded(toks, num_start: int, num_end: int, span_start: int) -> bool:
    """Dates, years, times and numbers inside names or identifiers."""
    first, last = toks[num_start], toks[num_end - 1]
    prev = toks[num_start - 1] if num_start > 0 else None
    nxt = toks[num_end] if num_end < len(toks) else None
    if _YEAR.match(first.text) and num_end == num_start + 1:
        return True
    if prev is not None and prev.text.rstrip(".") in _MONTHS and prev.text[:1].isupper():
        return True  # "Sept. 11", "March 3"
    if nxt is not None and (nxt.text in _MONTHS or nxt.lower_ in _TIME_AFTER):
        return True  # "11 September", "11 a.m."
    if prev is not None and _attached(prev, first) and prev.text not in _CURRENCIES \
            and (prev.is_alpha or prev.is_digit or prev.text in {"+", "/", "#"}):
        return True  # glued to a name: "P5+1"
    if prev is not None and prev.text == "-" and num_start > 1 and _attached(prev, first) \
            and _attached(toks[num_start - 2], prev) and (toks[num_start - 2].is_alpha or first.is_title):
        return True  # "Minsk-2", "7-Eleven"; a range "40-50" has a number before the hyphen
    if nxt is not None and _attached(last, nxt) and (nxt.is_digit or (nxt.is_alpha and not nxt.is_lower)):
        return True  # "5G"; a lowercase unit stays: "3.5km"
    after = toks[num_end + 1] if num_end + 1 < len(toks) else None
    if nxt is not None and nxt.text == "-" and after is not None and _attached(last, nxt) \
            and _attached(nxt, after) and after.is_alpha and not after.is_lower:
        return True  # "7-Eleven"
    if prev is not None and (prev.text in _IDENT_PREFIX or (
            prev.text == "." and num_start > 1 and toks[num_start - 2].text in {"No", "Nos"})):
        return True  # "No. 10"
    if span_start == num_start and prev is not None and prev.is_alpha and (prev.is_title or prev.is_upper) \
            and prev.lower_ not in STOP_WORDS and prev.lower_ not in _APPROXIMATOR_WORDS:
        return True  # "Article 5", "Route 66", "Level 3"
    return False


def label_figures(text: str) -> list[Span]:
    """FIGURE spans of `text`: sorted, non-overlapping, character offsets."""
    toks = _tokenizer()(text)
    n = len(toks)
    spans: list[Span] = []
    i = floor = 0
    while i < n:
        if not _starts_number(toks, i):
            i += 1
            continue
        num_start = i - 1 if toks[i].lower_ in _SCALES else i  # include "a" of "a dozen"
        num_end = _number_end(toks, i)
        start = num_start
        money = start > floor and (toks[start - 1].text in _CURRENCY_CODES or (
            toks[start - 1].text in _CURRENCIES and _attached(toks[start - 1], toks[start])))
        if money:
            start -= 1
        start, approx = _approximator_start(toks, start, floor)
        end = num_end
        # A range is one figure: "40 to 50", "40-50", "two or three", "between 40 and 50".
        joiners = {"and"} if approx == ("between",) else _RANGE_WORDS
        preceded_by_from = num_start > 0 and toks[num_start - 1].lower_ == "from"
        if end + 1 < n and toks[end].lower_ in joiners and not preceded_by_from:
            k = end + 1
            if toks[k].text in _CURRENCIES and k + 1 < n:
                k += 1
            if _starts_number(toks, k) and not _excluded(toks, k, _number_end(toks, k), k - 1):
                end = _number_end(toks, k)
        if approx == ("between",) and end == num_end:
            start += 1  # "between" only belongs to a figure as part of a range
        if _excluded(toks, num_start, num_end, start):
            i = num_end
            continue
        if end < n and toks[end].lower_ in _PERCENT:
            end += 1
        elif end + 1 < n and toks[end].lower_ == "per" and toks[end + 1].lower_ == "cent":
            end += 2
        elif not money:
            end = _noun_end(toks, end)
        if toks[num_start].lower_ == "one" and num_end == num_start + 1 and end == num_end \
                and start == num_start:
            i = num_end  # "one of them", "no one", "the one": a pronoun
            continue
        if toks[num_start].lower_ == "one" and num_start > 0 and start == num_start \
                and toks[num_start - 1].lower_ in _ONE_DETERMINERS:
            i = num_end
            continue
        spans.append(Span(FIGURE, FIGURE_LABEL, toks[start].idx,
                          toks[end - 1].idx + len(toks[end - 1].text)))
        i = floor = end
    return spans


# --------------------------------------------------------------------------- stance

#: Cue lexicon: lemma -> stance. Nouns of speech or thought are listed as their own
#: lemmas ("threat", "concern"); inflections are handled by `_lemma`.
STANCE_LEXICON: dict[str, str] = {
    **dict.fromkeys("""
        deny denial reject rejection accuse accusation criticise criticize criticism
        condemn condemnation warn threaten threat attack blame dismiss slam oppose
        opposition fear concern question doubt denounce decry protest refuse refute
        dispute complain complaint object objection lambast lambaste blast rebuke
        worry caution charge deplore lament scold chide mock ridicule alarm outrage
        reservation skeptical sceptical""".split(), OPPOSE),
    **dict.fromkeys("""
        praise welcome support urge back backing endorse endorsement promise defend
        agree agreement applaud hail vow want hope ready willing pledge commit approve
        approval favour favor advocate recommend encourage appeal demand commend
        congratulate thank celebrate embrace champion propose offer seek wish plead
        implore request eager keen optimistic""".split(), SUPPORT),
    **dict.fromkeys("""
        say tell report add note explain state statement announce announcement show
        write according indicate confirm reveal describe estimate observe comment
        remark reply respond answer ask declare mention suggest claim insist argue
        think believe tally count know learn find predict expect recall quote cite
        acknowledge admit inform brief testify assert maintain stress emphasise
        emphasize point tweet post publish release reiterate repeat express voice call
        raise share deliver issue convey register air renew lodge make have""".split(),
        NEUTRAL),
}
#: Verbs whose object noun carries the stance ("expressed concern", "delivered the warning").
LIGHT_VERBS = frozenset("express voice raise share deliver issue convey register air renew "
                        "lodge make have reiterate repeat".split())
_IRREGULAR = {"said": "say", "told": "tell", "wrote": "write", "written": "write",
              "shown": "show", "thought": "think", "knew": "know", "known": "know",
              "found": "find", "made": "make", "had": "have", "has": "have",
              "felt": "feel", "sought": "seek"}
_NEGATORS = frozenset({"not", "never", "no", "nor", "neither"})
#: "refused to endorse": these verbs negate the cue word after "to".
_NEGATING_VERBS = frozenset(f"{v}{e}" for v in ("refus", "declin") for e in ("e", "es", "ed", "ing")) \
    | frozenset({"fail", "fails", "failed", "failing"})
_CALL_SUPPORT_PARTICLES = frozenset({"for", "on", "upon"})
_NEGATIVE_WORDS = frozenset("""aggression threat threats attack attacks war wars sanctions
    sanction consequences incendiary force forced conflict confrontation escalation
    invasion invade strike missiles provocation provocations lie lies propaganda
    retaliation adventure""".split())
_POSITIVE_WORDS = frozenset("""success breakthrough progress positive constructive
    important peace dialogue agreement good""".split())
_CONDITION = re.compile(r"\b(?:if|unless|in the event of|in response to|or else)\b", re.I)
_CONSEQUENCE = re.compile(
    r"\b(?:forced to|consequences|retaliat\w*|respon(?:d|se)\w*|punish\w*|pay a\b)", re.I)
_READY = re.compile(r"\b(?:is|was|are|were|be|been|remains?|remained)\s+"
                    r"(?:ready|willing|prepared|open)\s+(?:for|to)\b", re.I)
_SUBJECT_PRONOUNS = frozenset({"i", "we", "he", "she", "they", "it"})
#: Lexicon words too ambiguous to read as the speaker's stance inside a content
#: ("they have several questions", "I just want to know").
_CONTENT_AMBIGUOUS = frozenset({"question", "charge", "object", "call", "offer", "back", "attack"})
_WANT_TO_KNOW = frozenset({"know", "see", "ask", "say", "hear", "understand"})
_WORD = re.compile(r"[a-z]+")

CONF_PHRASE = 0.9        # "according to", "called for", a polar cue word
CONF_LIGHT_VERB = 0.85   # polar object of a light verb
CONF_NEGATED = 0.75      # negated SUPPORT -> OPPOSE
CONF_NEGATED_WEAK = 0.6  # negated OPPOSE -> NEUTRAL
CONF_NEUTRAL = 0.7       # a neutral cue, no content rule fired
CONF_CONTENT = 0.6       # stance taken from the content of a neutral cue
CONF_UNKNOWN = 0.4       # cue not in the lexicon: NEUTRAL fallback


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'").replace("n't", " not"))


def _lemma(word: str) -> str:
    """Lemma-ish form, enough to find lexicon entries: denies/denied -> deny,
    accused -> accuse, slammed -> slam, saying -> say, concerns -> concern."""
    w = word.lower()
    if w in _IRREGULAR:
        return _IRREGULAR[w]
    if w in STANCE_LEXICON:
        return w
    for suffix, repl in (("ies", "y"), ("ied", "y"), ("es", ""), ("s", ""), ("ed", ""),
                         ("ed", "e"), ("d", ""), ("ing", ""), ("ing", "e")):
        if w.endswith(suffix) and len(w) > len(suffix) + 1:
            cand = w[: -len(suffix)] + repl
            if cand in STANCE_LEXICON:
                return cand
            if len(cand) > 2 and cand[-1] == cand[-2] and cand[:-1] in STANCE_LEXICON:
                return cand[:-1]  # slammed -> slamm -> slam
    return w


def _negate(label: str) -> tuple[str, float]:
    if label == SUPPORT:
        return OPPOSE, CONF_NEGATED
    return NEUTRAL, CONF_NEGATED_WEAK


def _content_stance(content: str) -> str | None:
    """Stance carried by the content of a neutral cue; None when no rule fires."""
    words = _words(content)
    wordset = set(words)
    if _CONDITION.search(content) and _CONSEQUENCE.search(content) and wordset & _NEGATIVE_WORDS:
        return OPPOSE  # "would be forced to act if ...", "if ..., serious consequences"
    # A pronoun subject then (up to two words) a stance word: "We have deep concerns",
    # "he wanted ...". Only at the start of the content (after "that").
    k = 1 if words[:1] == ["that"] else 0
    if k < len(words) and words[k] in _SUBJECT_PRONOUNS:
        negated = False
        for idx in range(k + 1, min(k + 4, len(words))):
            w = words[idx]
            if w in _NEGATORS:
                negated = True
                continue
            lemma = _lemma(w)
            label = STANCE_LEXICON.get(lemma)
            if label in (SUPPORT, OPPOSE) and lemma not in _CONTENT_AMBIGUOUS:
                if lemma == "want" and set(words[idx + 1:idx + 3]) & _WANT_TO_KNOW:
                    break
                return _negate(label)[0] if negated else label
    if _READY.search(content) and not wordset & _NEGATIVE_WORDS:
        return SUPPORT  # "Moscow was ready for a dialogue"
    return None


def _before_words(doc_text: str, start: int, limit: int = 3) -> list[str]:
    """The last words before `start` in the same clause (for negation)."""
    window = doc_text[max(0, start - 60):start]
    window = re.split(r"[.,;:!?\"“”\n]", window)[-1]
    return _words(window)[-limit:]


def label_stance(doc_text: str, attribution: Attribution) -> tuple[str, float]:
    """(label, confidence) of the stance the speaker takes in `attribution`."""
    cues = sorted(attribution.cues, key=lambda s: s.start)
    content = " ".join(c.text_in(doc_text) for c in sorted(attribution.contents, key=lambda s: s.start))
    if not cues:
        found = _content_stance(content) if content else None
        return (found, CONF_CONTENT) if found else (NEUTRAL, CONF_UNKNOWN)
    cue_words = _words(" ".join(c.text_in(doc_text) for c in cues))
    after = _words(doc_text[cues[-1].end:cues[-1].end + 80])[:6]
    before = _before_words(doc_text, cues[0].start)

    if "according" in cue_words:
        return NEUTRAL, CONF_PHRASE
    # Key word: the last polar lexicon word of the cue, else the last neutral one;
    # "refuse/decline/fail to X" negates X instead of being the key itself.
    negated = any(w in _NEGATORS for w in before) or (
        before[-1:] == ["to"] and len(before) >= 2 and before[-2] in _NEGATING_VERBS)
    key, key_at = None, -1
    for idx, w in enumerate(cue_words):
        lemma = _lemma(w)
        if w in _NEGATORS:
            negated = True
            continue
        if w in _NEGATING_VERBS and cue_words[idx + 1:idx + 2] == ["to"]:
            negated = True
            continue
        label = STANCE_LEXICON.get(lemma)
        if label is None:
            continue
        if key is None or label != NEUTRAL or STANCE_LEXICON[key] == NEUTRAL:
            key, key_at = lemma, idx
    if key is None:
        found = _content_stance(content) if content else None
        return (found, CONF_CONTENT * 0.8) if found else (NEUTRAL, CONF_UNKNOWN)

    if key == "call":
        following = cue_words[key_at + 1:] + after
        if following[:1] and following[0] in _CALL_SUPPORT_PARTICLES:
            return _negate(SUPPORT) if negated else (SUPPORT, CONF_PHRASE)
        context = set(following) | set(_words(content))
        if context & _NEGATIVE_WORDS:  # "what he called a growing threat"
            return OPPOSE, CONF_CONTENT
        if context & _POSITIVE_WORDS:
            return SUPPORT, CONF_CONTENT
        return NEUTRAL, CONF_UNKNOWN
    label = STANCE_LEXICON[key]
    if key in LIGHT_VERBS:  # the object carries the stance: "expressed deep concern"
        for w in (cue_words[key_at + 1:] + after)[:4]:
            obj = STANCE_LEXICON.get(_lemma(w))
            if obj in (SUPPORT, OPPOSE) and _lemma(w) not in LIGHT_VERBS:
                return _negate(obj) if negated else (obj, CONF_LIGHT_VERB)
    if label != NEUTRAL:
        return _negate(label) if negated else (label, CONF_PHRASE)
    if negated:
        return NEUTRAL, CONF_NEGATED_WEAK
    found = _content_stance(content) if content else None
    return (found, CONF_CONTENT) if found else (NEUTRAL, CONF_NEUTRAL)


# --------------------------------------------------------------------------- documents

def _is_gold(doc: Document, layer: str) -> bool:
    return layer in doc.layers and doc.provenance.get(layer) == "gold"


def _stance_layer(doc: Document) -> tuple[list[Span], tuple[Attribution, ...]]:
    spans: list[Span] = []
    attributions = []
    for a in doc.attributions:
        label, score = label_stance(doc.text, a)
        attributions.append(replace(a, stance=label, stance_score=score))
        for cue in a.cues:
            span = Span(STANCE, label, cue.start, cue.end, score=score)
            if not any(span.overlaps(s) for s in spans):  # overlapping cues: the first wins
                spans.append(span)
    return sorted(spans, key=lambda s: (s.start, s.end)), tuple(attributions)


def add_silver_layers(doc: Document, layers: Iterable[str]) -> Document:
    """`doc` with silver figure and/or stance layers; a gold layer is never replaced.

    Stance lives on cues, so it is only labelled where the attribution layer is known:
    on a document without it the stance layer stays unknown rather than "no stance"."""
    layers = {layers} if isinstance(layers, str) else set(layers)
    unknown = layers - set(SILVER_LAYERS)
    if unknown:
        raise ConfigError(f"no silver labeller for layer(s) {', '.join(sorted(unknown))} "
                          f"(available: {', '.join(SILVER_LAYERS)})")
    if FIGURE in layers and not _is_gold(doc, FIGURE):
        doc = doc.with_layer(FIGURE, label_figures(doc.text), SILVER)
    if STANCE in layers and not _is_gold(doc, STANCE) and ATTRIBUTION in doc.layers:
        spans, attributions = _stance_layer(doc)
        doc = doc.with_layer(STANCE, spans, SILVER, attributions=attributions)
    return doc
