"""Typed documents, spans and attributions: the one representation every reader
produces and every downstream step (encoding, metrics, predictions) consumes.

Offsets are character offsets into `Document.text`, end exclusive.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterable

from whosaid.errors import AnnotationError
from whosaid.schema import STANCE, Schema


@dataclass(frozen=True)
class Span:
    """One labelled region of one layer. `id` is the Label Studio region id when
    there is one; `score` is a model confidence (None for gold)."""

    layer: str
    label: str
    start: int
    end: int
    id: str | None = None
    score: float | None = None

    @property
    def key(self) -> tuple[str, str, int, int]:
        """Identity for comparisons: layer, label and offsets (not id or score)."""
        return (self.layer, self.label, self.start, self.end)

    def overlaps(self, other: "Span") -> bool:
        return self.start < other.end and other.start < self.end

    def text_in(self, text: str) -> str:
        return text[self.start:self.end]


@dataclass(frozen=True)
class EntityMention:
    """An entity of the article named by one of its mentions: `text`, and its offsets
    in `Document.text` (None when only the text is known, e.g. typed in Label Studio
    and not found in the article)."""

    text: str
    start: int | None = None
    end: int | None = None


@dataclass(frozen=True)
class SpeakerEntity:
    """One row of an article's "who said what" table: an entity by its canonical
    mention, every mention of it found in the article, and the indices (into
    `Document.attributions`) of the attributions it speaks."""

    entity: EntityMention
    mentions: tuple[EntityMention, ...] = ()
    attributions: tuple[int, ...] = ()


@dataclass(frozen=True)
class Attribution:
    """Speaker -> cue -> content(s). The cue is the hub; each part may have several
    regions (a content interrupted by its cue, a multi-fragment PolNeAR span).
    `stance` is the label of the stance-layer span on the cue (None if unknown).
    `speaker_entity` is the entity that speaks, as its canonical mention (codebook
    "speaker entity"); None: no entity (or, on a document whose metadata has no
    "speaker_entities", not decided)."""

    cues: tuple[Span, ...] = ()
    speakers: tuple[Span, ...] = ()
    contents: tuple[Span, ...] = ()
    stance: str | None = None
    stance_score: float | None = None
    speaker_entity: EntityMention | None = None

    @property
    def parts(self) -> tuple[Span, ...]:
        return self.speakers + self.cues + self.contents

    @property
    def cue(self) -> Span | None:
        return self.cues[0] if self.cues else None

    @property
    def speaker(self) -> Span | None:
        return self.speakers[0] if self.speakers else None


@dataclass(frozen=True)
class Document:
    """An article with its annotations.

    `layers` lists the annotated layers: a layer not listed is *unknown* (masked in
    training and evaluation), never "all O". `provenance` says per layer whether its
    annotations are "gold" (human) or "silver" (rule-based labellers).
    `speakers` is the "who said what" table of resolved speaker entities (set by
    prediction); `metadata["speaker_entities"]` says where the attributions'
    `speaker_entity` decisions come from ("gold" or "predicted") when they were made.
    """

    id: str
    text: str
    spans: tuple[Span, ...] = ()
    attributions: tuple[Attribution, ...] = ()
    layers: frozenset[str] = frozenset()
    metadata: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    speakers: tuple[SpeakerEntity, ...] = ()

    def spans_in(self, layer: str) -> list[Span]:
        """The spans of one layer, sorted by offset."""
        return sorted((s for s in self.spans if s.layer == layer), key=lambda s: (s.start, s.end))

    def with_layer(self, layer: str, spans: Iterable[Span], provenance: str,
                   attributions: tuple[Attribution, ...] | None = None) -> "Document":
        """A copy where `layer` is replaced by `spans` and marked annotated."""
        kept = tuple(s for s in self.spans if s.layer != layer) + tuple(spans)
        return replace(self, spans=kept, layers=self.layers | {layer},
                       provenance={**self.provenance, layer: provenance},
                       attributions=self.attributions if attributions is None else attributions)

    def validate(self, schema: Schema, *, file: str | None = None) -> "Document":
        """Check offsets, labels, annotated layers and in-layer overlaps; return self."""
        where = {"file": file if file is not None else self.metadata.get("source"), "task": self.id}
        if not self.text or not self.text.strip():
            raise AnnotationError("empty text", **where)
        for layer in self.layers:
            if layer not in schema.layers:
                raise AnnotationError(f"unknown layer {layer!r} in annotated layers", **where)
        n = len(self.text)
        for s in self.spans:
            schema.check(s.layer, s.label, region=s.id, **where)
            if s.layer not in self.layers:
                raise AnnotationError(f"span in layer {s.layer!r}, which the document does not annotate",
                                      region=s.id, **where)
            if not (0 <= s.start < s.end <= n):
                raise AnnotationError(f"offsets {s.start}-{s.end} outside the text (length {n})",
                                      region=s.id, **where)
        for layer in self.layers:
            spans = self.spans_in(layer)
            for a, b in zip(spans, spans[1:]):
                if b.start < a.end:
                    raise AnnotationError(
                        f"overlapping spans in layer {layer!r}: {a.label} {a.start}-{a.end} "
                        f"and {b.label} {b.start}-{b.end}", region=b.id or a.id, **where)
        return self


def stance_spans(attributions: Iterable[Attribution]) -> list[Span]:
    """Stance-layer spans implied by attributions: the stance label on each cue region."""
    out = []
    for a in attributions:
        if a.stance is None:
            continue
        for c in a.cues:
            out.append(Span(STANCE, a.stance, c.start, c.end, score=a.stance_score))
    return out



def stance_on(cues: Span | Iterable[Span], stances: Iterable[Span]) -> Span | None:
    """The stance span overlapping the cue (or the cues, summed) most: of equal
    overlaps the one on a cue's exact offsets, else the first; None when none overlaps.
    The one rule for an attribution's stance, in reading, assembling and scoring."""
    cues = (cues,) if isinstance(cues, Span) else tuple(cues)
    best, best_key = None, (0, False)
    for s in stances:
        overlap = sum(max(0, min(s.end, c.end) - max(s.start, c.start)) for c in cues)
        key = (overlap, any((s.start, s.end) == (c.start, c.end) for c in cues))
        if overlap > 0 and key > best_key:
            best, best_key = s, key
    return best
