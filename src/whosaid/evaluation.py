"""`evaluate.py --model DIR --data SOURCE [--output metrics.json]`: span-level metrics
of any saved model on any annotated data, through the same `Predictor` that
predict.py uses."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from whosaid.atomic import write_json_atomic
from whosaid.corpus import describe
from whosaid.errors import WhosaidError


def load_gold(source: str, *, split: str | None = None, polnear: str | None = None,
              overlays: str | None = "data/polnear-gold"):
    """Gold documents of SOURCE; PolNeAR articles get their gold figure/stance overlays."""
    from whosaid.sources import load_source

    docs = load_source(source, split=split, polnear_root=polnear)
    splits = {d.metadata.get("split") for d in docs if d.metadata.get("source") == "polnear"}
    applied = 0
    if overlays and splits:
        from whosaid.overlays import apply_overlays

        for s in splits:
            directory = Path(overlays) / str(s)
            if directory.is_dir():
                before = [d.provenance.get("stance") for d in docs]
                docs = apply_overlays(docs, directory)
                applied += sum(1 for b, d in zip(before, docs) if d.provenance.get("stance") != b)
    return docs, applied


def evaluate(model_dir: str | Path, source: str, *, split: str | None = None, polnear: str | None = None,
             overlays: str | None = "data/polnear-gold", backend: str = "torch", quantize: bool = False,
             batch_size: int = 32, threads: int | None = None, constrained: bool = True,
             stride: int | None = None, progress: bool = True) -> dict:
    from whosaid.metrics import compute_metrics
    from whosaid.predictor import Predictor

    predictor = Predictor.from_pretrained(model_dir, backend=backend, quantize=quantize, threads=threads,
                                          batch_size=batch_size, constrained=constrained, stride=stride)
    gold, applied = load_gold(source, split=split, polnear=polnear, overlays=overlays)
    if not gold:
        raise WhosaidError(f"{source}: no documents to evaluate")
    started = time.time()
    predicted = predictor.predict_documents(gold, progress=progress)
    seconds = time.time() - started
    metrics = compute_metrics(gold, predicted, predictor.schema)
    words = sum(len(d.text.split()) for d in gold)
    metrics["data"] = {"source": str(source), "split": split, "gold_overlays": applied, **describe(gold)}
    metrics["model"] = {"path": str(model_dir), "backend": backend, "quantized": quantize,
                        "constrained_decoding": constrained, "window_length": predictor.settings.max_length,
                        "stride": predictor.settings.stride, "seconds": round(seconds, 2),
                        "words_per_second": round(words / seconds, 1) if seconds else None}
    return metrics


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="evaluate.py", description=__doc__)
    p.add_argument("--model", required=True, help="saved model directory (a run's model/)")
    p.add_argument("--data", required=True,
                   help="a Label Studio export (.json), a PolNeAR split dir, or ROOT:SPLIT")
    p.add_argument("--split", help="split when --data is a PolNeAR root")
    p.add_argument("--polnear", help="PolNeAR root for ROOT-less specs (default $WHOSAID_POLNEAR or ../shared/polnear)")
    p.add_argument("--overlays", default="data/polnear-gold",
                   help="gold figure/stance overlays for PolNeAR (dir with <split>/; '' to disable)")
    p.add_argument("--output", help="write the metrics JSON here (atomically)")
    p.add_argument("--backend", choices=["torch", "onnx"], default="torch")
    p.add_argument("--quantize", action="store_true", help="with --backend onnx: dynamic int8 model")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--threads", type=int)
    p.add_argument("--no-constrained", action="store_true", help="argmax decoding with BIO repair instead of Viterbi")
    p.add_argument("--stride", type=int, help="window overlap in sub-tokens (default: the model's training overlap)")
    args = p.parse_args(argv)
    try:
        metrics = evaluate(args.model, args.data, split=args.split, polnear=args.polnear,
                           overlays=args.overlays or None, backend=args.backend, quantize=args.quantize,
                           batch_size=args.batch_size, threads=args.threads,
                           constrained=not args.no_constrained, stride=args.stride)
    except WhosaidError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from whosaid.metrics import format_metrics

    print(format_metrics(metrics))
    if args.output:
        write_json_atomic(args.output, metrics)
        print(f"metrics written to {args.output}")
    return 0
