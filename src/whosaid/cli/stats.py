"""`whosaid stats SOURCE [SOURCE ...]`: what a data source holds, before anything is trained on it.

Counts articles, words (whitespace-separated tokens), attributions, stances, spans
per layer and label, and which layers the articles annotate; for PolNeAR also what
overlap resolution and annotator choice did (see whosaid.readers.polnear).
"""

from __future__ import annotations

import argparse
import json
import sys

from whosaid.cli import EXIT_FAILED, EXIT_OK, fail
from whosaid.errors import WhosaidError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="whosaid stats", description=__doc__.split("\n")[0])
    parser.add_argument("sources", nargs="+", metavar="SOURCE",
                        help="Label Studio .json export, PolNeAR directory (or PATH:split, "
                             "or 'polnear:dev'), .txt, .jsonl or a directory of .txt")
    parser.add_argument("--split", help="PolNeAR split for a PolNeAR root directory")
    parser.add_argument("--polnear", metavar="PATH", help="PolNeAR root for the source 'polnear'")
    parser.add_argument("--overlays", metavar="DIR",
                        help="apply gold figure/stance overlays (e.g. data/polnear-gold)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from whosaid.evaluation.stats import print_stats, source_stats
    from whosaid.schema import Schema

    try:
        schema = Schema.default()
    except WhosaidError as exc:
        return fail(exc)
    results, failed = [], 0
    for spec in args.sources:  # a source that cannot be read is reported; the others still are
        try:
            results.append(source_stats(spec, schema, split=args.split, polnear_root=args.polnear,
                                        overlays=args.overlays))
        except WhosaidError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
    if args.json:
        print(json.dumps({"sources": results}, indent=2, ensure_ascii=False))
    else:
        for r in results:
            print_stats(r["source"], r, r["polnear"], sys.stdout)
    if failed:
        return fail(f"{failed} of {len(args.sources)} source(s) could not be read", EXIT_FAILED)
    return EXIT_OK
