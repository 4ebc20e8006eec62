"""Silver (rule-based) labellers for the figure and stance layers.

PolNeAR has attributions but no figures or stances; these labellers fill those
layers with provenance "silver" so the model can be trained on every layer, while
human ("gold") layers always win. The rules follow the codebook
(`annotation-guidelines.md`); every rule in `figures` and `stance` is covered by
tests/test_silver.py.

`figures` labels the figure layer, `stance` the stance of each attribution; this
module applies them to documents (`add_silver_layers`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from whosaid.documents import Attribution, Document, Span
from whosaid.errors import ConfigError
from whosaid.schema import ATTRIBUTION, FIGURE, STANCE
from whosaid.silver.figures import FIGURE_LABEL, label_figures
from whosaid.silver.stance import NEUTRAL, OPPOSE, STANCE_LEXICON, SUPPORT, label_stance

__all__ = ["FIGURE_LABEL", "NEUTRAL", "OPPOSE", "SILVER", "SILVER_LAYERS", "STANCE_LEXICON", "SUPPORT",
           "add_silver_layers", "label_figures", "label_stance"]

SILVER = "silver"
#: The layers a silver labeller can fill (the config's `silver:` lists name these).
SILVER_LAYERS = (FIGURE, STANCE)


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
