"""Span-level metrics of any saved model on any annotated data, through the same
`Predictor` that `whosaid predict` uses (on the command line: `whosaid evaluate`)."""

from __future__ import annotations

import time
from pathlib import Path

from whosaid.errors import WhosaidError
from whosaid.schema import STANCE
from whosaid.inference import DEFAULT_BATCH_SIZE
from whosaid.training.data import describe


def load_gold(source: str, *, split: str | None = None, polnear: str | None = None,
              overlays: str | None = "data/polnear-gold"):
    """Gold documents of SOURCE; PolNeAR articles get their gold figure/stance overlays."""
    from whosaid.readers.sources import load_source

    docs = load_source(source, split=split, polnear_root=polnear)
    splits = {d.metadata.get("split") for d in docs if d.metadata.get("source") == "polnear"}
    applied = 0
    if overlays and splits:
        from whosaid.readers.overlays import apply_overlays_counted

        for s in splits:
            directory = Path(overlays) / str(s)
            if directory.is_dir():
                docs, count = apply_overlays_counted(docs, directory)
                applied += count
    return docs, applied


def require_gold(docs, source) -> None:
    """Refuse data that holds nothing to score against: no documents, or no document
    with a human-annotated ("gold") layer (plain articles, predictions only)."""
    if not docs:
        raise WhosaidError(f"{source}: no documents to evaluate")
    if not any(p == "gold" for d in docs for p in d.provenance.values()):
        silver = any(d.provenance for d in docs)
        raise WhosaidError(f"{source}: no gold annotations to evaluate against ({len(docs)} document(s), "
                           + ("predictions only" if silver else "none with an annotated layer")
                           + "); evaluate needs annotated data: a Label Studio export with annotations, "
                             "or PolNeAR")


def evaluate(model_dir: str | Path, source: str, *, split: str | None = None, polnear: str | None = None,
             overlays: str | None = "data/polnear-gold", backend: str = "torch", quantize: bool = False,
             batch_size: int = DEFAULT_BATCH_SIZE, threads: int | None = None, constrained: bool = True,
             stride: int | None = None, progress: bool = True) -> dict:
    from whosaid.evaluation.metrics import compute_metrics, stance_of_given_attributions
    from whosaid.inference.predictor import Predictor

    gold, applied = load_gold(source, split=split, polnear=polnear, overlays=overlays)
    require_gold(gold, source)  # bad data is reported before the model loads
    predictor = Predictor.from_pretrained(model_dir, backend=backend, quantize=quantize, threads=threads,
                                          batch_size=batch_size, constrained=constrained, stride=stride)
    started = time.time()
    predicted = predictor.predict_documents(gold, progress=progress)
    seconds = time.time() - started
    metrics = compute_metrics(gold, predicted, predictor.schema)
    if STANCE in predictor.schema.layers and "stance" in metrics:
        with_stance = [d for d in gold if STANCE in d.layers and any(a.stance for a in d.attributions)]
        if with_stance:
            metrics["stance"]["on_gold_cues"] = stance_of_given_attributions(
                with_stance, predictor.predict_stances(with_stance))
    words = sum(len(d.text.split()) for d in gold)
    metrics["data"] = {"source": str(source), "split": split, "gold_overlays": applied, **describe(gold)}
    metrics["model"] = {"path": str(model_dir), "backend": backend, "quantized": quantize,
                        "constrained_decoding": constrained, "window_length": predictor.settings.max_length,
                        "stride": predictor.settings.stride, "seconds": round(seconds, 2),
                        "words_per_second": round(words / seconds, 1) if seconds else None}
    return metrics
