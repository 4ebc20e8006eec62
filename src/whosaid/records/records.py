"""Predicted spans -> attributions -> structured records ("who said what, with
which stance, citing which figures").

Assembly rule (documented in the README): sentences are split on ., ! and ? (with
closing quotes) and on line breaks. Each CONTENT span goes to the nearest CUE (by
character distance) in its own sentence or an adjacent one; each CUE takes the
nearest SPEAKER of its own sentence (a speaker may serve several cues), else none.
The stance of an attribution is the stance-layer span overlapping its cue most
(`whosaid.documents.stance_on`).
Figures belong to an attribution when they lie inside one of its contents.
Assembly is near-linear: spans are looked up by bisection in start-sorted lists
(windows of sentences), not compared pairwise.

Speakers: `resolve_document_speakers` sets each attribution's `speaker_entity`
(the entity that speaks, by its canonical mention) and the article's `speakers`
table with the rule-based resolver of `whosaid.records.speakers`.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import asdict, dataclass, field, replace

from whosaid.documents import Attribution, Document, EntityMention, Span, SpeakerEntity, stance_on
from whosaid.schema import ATTRIBUTION, CONTENT, CUE, FIGURE, SPEAKER, STANCE

_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)\]]*\s+|\n+")


def sentence_starts(text: str) -> list[int]:
    starts = [0]
    for m in _SENTENCE_END.finditer(text):
        if m.end() < len(text):
            starts.append(m.end())
    return starts


def _gap(a: Span, b: Span) -> int:
    """Characters between two spans (0 when they touch or overlap)."""
    return max(0, max(a.start, b.start) - min(a.end, b.end))


class _BySentence:
    """Spans sorted by start (ties: original order), with the positions where each
    sentence's spans begin, for nearest-span queries within a window of sentences. When
    the spans do not overlap one another (predictions never do) only the neighbours of
    the query can be nearest; otherwise every span of the window is read."""

    def __init__(self, spans: list[Span], sents: list[int], n_sentences: int):
        self.order = sorted(range(len(spans)), key=lambda j: (spans[j].start, j))
        self.spans = [spans[j] for j in self.order]
        self.starts = [s.start for s in self.spans]
        self.ends = [s.end for s in self.spans]
        self.disjoint = all(s.start < s.end for s in self.spans) and \
            all(a.end <= b.start for a, b in zip(self.spans, self.spans[1:]))
        counts = [0] * (n_sentences + 1)
        for k in sents:
            counts[k] += 1
        self.first = [0] * (n_sentences + 2)     # first[k]: position of sentence k's first span
        for k in range(n_sentences + 1):
            self.first[k + 1] = self.first[k] + counts[k]

    def candidates(self, q: Span, first_sent: int, last_sent: int) -> range:
        """Positions of the spans of sentences first_sent..last_sent that can be nearest to q."""
        a, b = self.first[max(0, first_sent)], self.first[last_sent + 1]
        if not self.disjoint or b - a <= 2:
            return range(a, b)
        lo = bisect.bisect_right(self.ends, q.start, a, b)   # first ending after q.start
        hi = bisect.bisect_left(self.starts, q.end, a, b)    # first starting at/after q.end
        return range(max(a, lo - 1), min(b, hi + 1))


def assemble_attributions(text: str, spans: list[Span]) -> list[Attribution]:
    """Group attribution-layer spans into attributions around their cues (the rule in
    the module docstring; ties: the earlier cue, the earlier speaker, the first stance).
    Near-linear: a span is only compared with its neighbours in start order."""
    starts = sentence_starts(text)
    last = len(starts) - 1

    def sent(span: Span) -> int:
        # spans before the text (negative offsets) count as sentence 0
        return max(0, bisect.bisect_right(starts, span.start) - 1)

    cues = sorted((s for s in spans if s.layer == ATTRIBUTION and s.label == CUE), key=lambda s: s.start)
    speakers = [s for s in spans if s.layer == ATTRIBUTION and s.label == SPEAKER]
    contents = [s for s in spans if s.layer == ATTRIBUTION and s.label == CONTENT]
    stances = [s for s in spans if s.layer == STANCE]
    if not cues:
        return []
    cue_sent = [sent(q) for q in cues]
    cue_ix = _BySentence(cues, cue_sent, last)
    by_cue: list[list[Span]] = [[] for _ in cues]
    for c in contents:
        sc = sent(c)
        best = None
        for p in cue_ix.candidates(c, sc - 1, min(last, sc + 1)):
            i = cue_ix.order[p]
            q = cues[i]
            key = (max(0, max(q.start, c.start) - min(q.end, c.end)), abs(cue_sent[i] - sc), i)
            if best is None or key < best:
                best = key
        if best is not None:
            by_cue[best[2]].append(c)
    spk_sent = [sent(s) for s in speakers]
    spk_ix = _BySentence(speakers, sorted(spk_sent), last)
    stance_order = sorted(range(len(stances)), key=lambda j: stances[j].start)
    stance_starts = [stances[j].start for j in stance_order]
    longest = max((s.end - s.start for s in stances), default=0)
    out = []
    for i, cue in enumerate(cues):
        sc = cue_sent[i]
        speaker, best = None, None
        for p in spk_ix.candidates(cue, sc, sc):
            s = spk_ix.spans[p]
            key = (max(0, max(s.start, cue.start) - min(s.end, cue.end)), s.start, spk_ix.order[p])
            if best is None or key < best:
                best, speaker = key, s
        # only the stances that can overlap the cue, in their original order
        lo = bisect.bisect_right(stance_starts, cue.start - longest)
        hi = bisect.bisect_left(stance_starts, cue.end)
        if hi - lo == 1:
            st = stances[stance_order[lo]]
            stance = st if st.start < cue.end and cue.start < st.end else None
        else:
            stance = stance_on(cue, [stances[j] for j in sorted(stance_order[lo:hi])]) if hi > lo else None
        contents_i = by_cue[i]
        out.append(Attribution(cues=(cue,), speakers=(speaker,) if speaker else (),
                               contents=tuple(sorted(contents_i, key=lambda s: s.start)
                                              if len(contents_i) > 1 else contents_i),
                               stance=stance.label if stance else None,
                               stance_score=stance.score if stance else None))
    return out


# ---------------------------------------------------------------- speakers


def _mention(m) -> EntityMention:
    return EntityMention(m.text, m.start, m.end)


def resolve_document_speakers(doc: Document, options=None) -> Document:
    """`doc` with `speaker_entity` set on every attribution (None: no entity) and its
    `speakers` table (one row per entity that speaks), by the rule-based resolver."""
    from whosaid.records.speakers import resolve_speakers

    res = resolve_speakers(doc.text, [[(s.start, s.end) for s in a.speakers] for a in doc.attributions],
                           [[(s.start, s.end) for s in a.contents] for a in doc.attributions], options)
    attributions = tuple(replace(a, speaker_entity=None if m is None else _mention(m))
                         for a, m in zip(doc.attributions, (res.entity_of(i) for i in range(len(doc.attributions)))))
    speakers = tuple(SpeakerEntity(_mention(e.canonical), tuple(_mention(m) for m in e.mentions),
                                   tuple(e.attributions))
                     for e in sorted((e for e in res.entities if e.attributions), key=lambda e: e.attributions[0]))
    return replace(doc, attributions=attributions, speakers=speakers,
                   metadata={**doc.metadata, "speaker_entities": "predicted"})


# ---------------------------------------------------------------- records


@dataclass
class SpanRecord:
    text: str
    start: int
    end: int
    label: str
    score: float | None = None

    @classmethod
    def of(cls, span: Span, text: str) -> "SpanRecord":
        return cls(text[span.start:span.end], span.start, span.end, span.label,
                   None if span.score is None else round(float(span.score), 4))


@dataclass
class EntityRecord:
    """An entity by one mention: its text and character offsets into the article."""

    text: str
    start: int | None
    end: int | None

    @classmethod
    def of(cls, m: EntityMention) -> "EntityRecord":
        return cls(m.text, m.start, m.end)


@dataclass
class SpeakerRecord:
    """One row of "who said what": the entity (canonical mention), every mention found,
    and the indices of its attributions in `ArticleRecord.attributions`."""

    entity: EntityRecord
    mentions: list[EntityRecord]
    attributions: list[int]


@dataclass
class AttributionRecord:
    speaker: SpanRecord | None
    speaker_entity: EntityRecord | None
    cue: SpanRecord | None
    contents: list[SpanRecord]
    stance: str | None
    stance_probability: float | None
    figures: list[SpanRecord] = field(default_factory=list)


@dataclass
class ArticleRecord:
    """Everything predicted for one article. `text` is the article text every offset
    indexes (after a seed header or a byte-order mark); None when left out."""

    id: str
    attributions: list[AttributionRecord]
    speakers: list[SpeakerRecord]
    figures_outside: list[SpanRecord]
    spans: list[dict]  # every predicted span with its layer and confidence
    metadata: dict = field(default_factory=dict)
    text: str | None = None

    def to_dict(self, include_text: bool = True) -> dict:
        d = asdict(self)
        if not include_text or self.text is None:
            d.pop("text")
        return d


def article_record(doc: Document) -> ArticleRecord:
    text = doc.text
    figures = doc.spans_in(FIGURE)  # sorted by start: the figures inside a content are found by bisection
    figure_starts = [f.start for f in figures]
    inside: set[tuple[int, int]] = set()
    attrs = []
    for a in doc.attributions:
        found = {k for c in a.contents
                 for k in range(bisect.bisect_left(figure_starts, c.start), bisect.bisect_right(figure_starts, c.end))
                 if figures[k].end <= c.end}
        figs = [figures[k] for k in sorted(found)]
        inside.update((f.start, f.end) for f in figs)
        attrs.append(AttributionRecord(
            speaker=SpanRecord.of(a.speaker, text) if a.speaker else None,
            speaker_entity=EntityRecord.of(a.speaker_entity) if a.speaker_entity else None,
            cue=SpanRecord.of(a.cue, text) if a.cue else None,
            contents=[SpanRecord.of(c, text) for c in a.contents],
            stance=a.stance,
            stance_probability=None if a.stance_score is None else round(float(a.stance_score), 4),
            figures=[SpanRecord.of(f, text) for f in figs]))
    outside = [SpanRecord.of(f, text) for f in figures if (f.start, f.end) not in inside]
    spans = [dict(layer=s.layer, **asdict(SpanRecord.of(s, text))) for s in
             sorted(doc.spans, key=lambda s: (s.start, s.layer))]
    speakers = [SpeakerRecord(EntityRecord.of(s.entity), [EntityRecord.of(m) for m in s.mentions],
                              list(s.attributions)) for s in doc.speakers]
    return ArticleRecord(doc.id, attrs, speakers, outside, spans, dict(doc.metadata), text)
