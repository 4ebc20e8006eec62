"""What a data source holds, before anything is trained on it (`whosaid stats`).

Counts articles, words (whitespace-separated tokens), attributions, stances, spans
per layer and label, and which layers the articles annotate; for PolNeAR also what
overlap resolution and annotator choice did (see whosaid.readers.polnear).
"""

from __future__ import annotations

from collections import Counter

from whosaid.documents import Document
from whosaid.schema import Schema


def compute_stats(docs: list[Document]) -> dict:
    """Plain counts over documents; every key is present even when zero."""
    spans: dict[str, Counter] = {}
    layers: Counter = Counter()
    stances: Counter = Counter()
    for doc in docs:
        layers.update(doc.layers)
        for s in doc.spans:
            spans.setdefault(s.layer, Counter())[s.label] += 1
        stances.update(a.stance for a in doc.attributions if a.stance is not None)
    return {
        "articles": len(docs),
        "words": sum(len(d.text.split()) for d in docs),
        "attributions": sum(len(d.attributions) for d in docs),
        "attributions_without_speaker": sum(1 for d in docs for a in d.attributions if not a.speakers),
        "stances": dict(sorted(stances.items())),
        "spans": {layer: dict(sorted(c.items())) for layer, c in sorted(spans.items())},
        "annotated_layers": dict(sorted(layers.items())),
    }


def print_stats(name: str, stats: dict, report: dict | None, out) -> None:
    """The statistics of one source as text."""
    print(f"== {name}", file=out)
    for key in ("articles", "words", "attributions", "attributions_without_speaker"):
        print(f"  {key:30s} {stats[key]}", file=out)
    if stats["stances"]:
        print("  stances                        " +
              ", ".join(f"{k} {v}" for k, v in stats["stances"].items()), file=out)
    layers = stats["annotated_layers"]
    print("  annotated layers (articles)    " +
          (", ".join(f"{k} {v}" for k, v in layers.items()) or "none"), file=out)
    for layer, labels in stats["spans"].items():
        print(f"  spans {layer:24s} " + ", ".join(f"{k} {v}" for k, v in labels.items()), file=out)
    if report is not None:
        print("  PolNeAR reading:", file=out)
        for key, value in report.items():
            if key == "articles_with_overlaps":
                value = len(value)
            print(f"    {key:28s} {value}", file=out)


def source_stats(spec, schema: Schema | None = None, *, split: str | None = None, polnear_root=None,
                 overlays=None) -> dict:
    """`compute_stats` of one data source (see `whosaid.readers.sources`), with gold
    overlays applied when `overlays` names their directory, and the PolNeAR report."""
    from whosaid.readers.sources import load_source_with_report

    schema = schema or Schema.default()
    docs, report = load_source_with_report(spec, schema, split=split, polnear_root=polnear_root)
    if overlays:
        from whosaid.readers.overlays import apply_overlays

        docs = apply_overlays(docs, overlays, schema)
    return {"source": spec, **compute_stats(docs), "polnear": report.as_dict() if report is not None else None}
