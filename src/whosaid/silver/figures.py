"""Silver FIGURE labeller: numbers with what they count, found by rule.

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
"""

from __future__ import annotations

import re
from functools import lru_cache

from whosaid.documents import Span
from whosaid.schema import FIGURE

FIGURE_LABEL = "FIGURE"

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
