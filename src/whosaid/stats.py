"""`whosaid stats SOURCE [SOURCE ...]`: what a data source holds, before anything is trained on it.

Counts articles, words (whitespace-separated tokens), attributions, stances, spans
per layer and label, and which layers the articles annotate; for PolNeAR also what
overlap resolution and annotator choice did (see whosaid.polnear).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter

from whosaid.documents import Document
from whosaid.errors import WhosaidError


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


def _print_text(name: str, stats: dict, report: dict | None, out) -> None:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="whosaid stats", description=__doc__.split("\n")[0])
    parser.add_argument("sources", nargs="+", metavar="SOURCE",
                        help="Label Studio .json export, PolNeAR directory (or PATH:split, "
                             "or 'polnear:dev'), .txt, .jsonl or a directory of .txt")
    parser.add_argument("--split", help="PolNeAR split for a PolNeAR root directory")
    parser.add_argument("--polnear", metavar="PATH", help="PolNeAR root for the source 'polnear'")
    parser.add_argument("--overlays", metavar="DIR",
                        help="apply gold figure/stance overlays (e.g. data/polnear-gold)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args(argv)

    from whosaid.schema import Schema
    from whosaid.sources import load_source_with_report

    results = []
    try:
        schema = Schema.default()
        for spec in args.sources:
            docs, report = load_source_with_report(spec, schema, split=args.split,
                                                   polnear_root=args.polnear)
            if args.overlays:
                from whosaid.overlays import apply_overlays

                docs = apply_overlays(docs, args.overlays, schema)
            results.append({"source": spec, **compute_stats(docs),
                            "polnear": report.as_dict() if report is not None else None})
    except WhosaidError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"sources": results}, indent=2, ensure_ascii=False))
    else:
        for r in results:
            _print_text(r["source"], r, r["polnear"], sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
