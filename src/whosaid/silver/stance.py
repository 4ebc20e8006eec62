"""Silver stance labeller: the stance of an attribution from its cue and content.

Stance — a cue lexicon (lemmas, `STANCE_LEXICON`) applied to lemma-ish forms of the
cue words, then context rules: phrases ("according to", "called for/on"), light
verbs whose object carries the stance ("expressed concern", "delivered the warning"),
negation ("did not support" -> OPPOSE, "did not deny" -> NEUTRAL) and, for neutral
cues only, cheap high-precision content patterns (conditional threats, a pronoun
subject followed by a stance word, "was ready for"). Fallbacks get lower confidence.

"""

from __future__ import annotations

import re

from whosaid.documents import Attribution

SUPPORT, OPPOSE, NEUTRAL = "SUPPORT", "OPPOSE", "NEUTRAL"

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
