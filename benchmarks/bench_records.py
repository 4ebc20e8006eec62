#!/usr/bin/env python
"""Time of the steps after the model on a very long article (not a test).

    python benchmarks/bench_records.py [--polnear PATH] [--megabytes 2] [--output results.json]

One article of about `--megabytes` MB is made by joining the PolNeAR dev articles
(read from the corpus, repeated until long enough) with their gold attribution
spans and stance-free cues, as a model would predict them. Timed, each the median
of three runs, in CPU seconds of this process (other jobs on the machine do not
count) and wall seconds:

- `assemble_attributions`: predicted spans -> attributions (near-linear in the number of spans);
- `resolve_document_speakers`: every speaker resolved to the article's entities;
- `article_record`: the JSON record (with the speakers table).

Prints one markdown row per step.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import replace

from whosaid.documents import Document, Span
from whosaid.files import resolve_polnear_root
from whosaid.readers.polnear import read_polnear
from whosaid.records.records import article_record, assemble_attributions, resolve_document_speakers


def long_article(polnear: str | None, megabytes: float) -> tuple[str, list[Span]]:
    docs = read_polnear(resolve_polnear_root(polnear), "dev")
    parts, spans, size = [], [], 0
    while size < megabytes * 1_000_000:
        for d in docs:
            for s in d.spans:
                spans.append(Span(s.layer, s.label, s.start + size, s.end + size, score=0.9))
            parts.append(d.text + "\n\n")
            size += len(d.text) + 2
            if size >= megabytes * 1_000_000:
                break
    return "".join(parts), spans


def timed(fn, rounds: int = 3):
    cpu, wall, out = [], [], None
    for _ in range(rounds):
        c, w = time.process_time(), time.perf_counter()
        out = fn()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return out, statistics.median(cpu), statistics.median(wall)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--polnear", help="PolNeAR root (default $WHOSAID_POLNEAR or ../shared/polnear)")
    p.add_argument("--megabytes", type=float, default=2.0)
    p.add_argument("--output", help="write the timings as JSON")
    args = p.parse_args()
    text, spans = long_article(args.polnear, args.megabytes)
    attrs, a_cpu, a_wall = timed(lambda: assemble_attributions(text, spans))
    doc = Document("long", text, spans=tuple(spans), attributions=tuple(attrs),
                   layers=frozenset({"attribution"}))
    resolved, r_cpu, r_wall = timed(lambda: resolve_document_speakers(doc))
    record, w_cpu, w_wall = timed(lambda: article_record(replace(resolved)))
    result = {"characters": len(text), "spans": len(spans), "attributions": len(attrs),
              "speakers": len(resolved.speakers),
              "assemble": {"cpu_seconds": round(a_cpu, 3), "seconds": round(a_wall, 3)},
              "resolve_speakers": {"cpu_seconds": round(r_cpu, 3), "seconds": round(r_wall, 3)},
              "article_record": {"cpu_seconds": round(w_cpu, 3), "seconds": round(w_wall, 3)}}
    print(f"{len(text):,} characters, {len(spans):,} spans, {len(attrs):,} attributions, "
          f"{len(resolved.speakers):,} speaking entities")
    print("| step | CPU s | wall s |\n|---|---:|---:|")
    for step in ("assemble", "resolve_speakers", "article_record"):
        print(f"| {step} | {result[step]['cpu_seconds']:.2f} | {result[step]['seconds']:.2f} |")
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
