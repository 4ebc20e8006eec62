"""Predicted spans -> attributions -> structured records ("who said what, with
which stance, citing which figures").

Assembly rule (documented in the README): sentences are split on ., ! and ? (with
closing quotes) and on line breaks. Each CONTENT span goes to the nearest CUE (by
character distance) in its own sentence or an adjacent one; each CUE takes the
nearest SPEAKER of its own sentence (a speaker may serve several cues), else none.
The stance of an attribution is the stance-layer span overlapping its cue most
(`whosaid.documents.stance_on`).
Figures belong to an attribution when they lie inside one of its contents.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import asdict, dataclass, field

from whosaid.documents import Attribution, Document, Span, stance_on
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


def assemble_attributions(text: str, spans: list[Span]) -> list[Attribution]:
    """Group attribution-layer spans into attributions around their cues."""
    starts = sentence_starts(text)

    def sent(span: Span) -> int:
        return bisect.bisect_right(starts, span.start) - 1

    cues = sorted((s for s in spans if s.layer == ATTRIBUTION and s.label == CUE), key=lambda s: s.start)
    speakers = [s for s in spans if s.layer == ATTRIBUTION and s.label == SPEAKER]
    contents = [s for s in spans if s.layer == ATTRIBUTION and s.label == CONTENT]
    stances = [s for s in spans if s.layer == STANCE]
    if not cues:
        return []
    by_cue: dict[int, list[Span]] = {i: [] for i in range(len(cues))}
    for c in contents:
        near = [i for i, q in enumerate(cues) if abs(sent(q) - sent(c)) <= 1]
        if near:
            best = min(near, key=lambda i: (_gap(cues[i], c), abs(sent(cues[i]) - sent(c)), i))
            by_cue[best].append(c)
    out = []
    for i, cue in enumerate(cues):
        same = [s for s in speakers if sent(s) == sent(cue)]
        speaker = min(same, key=lambda s: (_gap(s, cue), s.start)) if same else None
        stance = stance_on(cue, stances)
        out.append(Attribution(cues=(cue,), speakers=(speaker,) if speaker else (),
                               contents=tuple(sorted(by_cue[i], key=lambda s: s.start)),
                               stance=stance.label if stance else None,
                               stance_score=stance.score if stance else None))
    return out


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
class AttributionRecord:
    speaker: SpanRecord | None
    cue: SpanRecord | None
    contents: list[SpanRecord]
    stance: str | None
    stance_probability: float | None
    figures: list[SpanRecord] = field(default_factory=list)


@dataclass
class ArticleRecord:
    """Everything predicted for one article."""

    id: str
    attributions: list[AttributionRecord]
    figures_outside: list[SpanRecord]
    spans: list[dict]  # every predicted span with its layer and confidence
    metadata: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def article_record(doc: Document) -> ArticleRecord:
    text = doc.text
    figures = doc.spans_in(FIGURE)
    inside: set[tuple[int, int]] = set()
    attrs = []
    for a in doc.attributions:
        figs = [f for f in figures if any(c.start <= f.start and f.end <= c.end for c in a.contents)]
        inside.update((f.start, f.end) for f in figs)
        attrs.append(AttributionRecord(
            speaker=SpanRecord.of(a.speaker, text) if a.speaker else None,
            cue=SpanRecord.of(a.cue, text) if a.cue else None,
            contents=[SpanRecord.of(c, text) for c in a.contents],
            stance=a.stance,
            stance_probability=None if a.stance_score is None else round(float(a.stance_score), 4),
            figures=[SpanRecord.of(f, text) for f in figs]))
    outside = [SpanRecord.of(f, text) for f in figures if (f.start, f.end) not in inside]
    spans = [dict(layer=s.layer, **asdict(SpanRecord.of(s, text))) for s in
             sorted(doc.spans, key=lambda s: (s.start, s.layer))]
    return ArticleRecord(doc.id, attrs, outside, spans, dict(doc.metadata))
