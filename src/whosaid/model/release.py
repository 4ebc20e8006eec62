"""Replace the shipped model (`models/whosaid-news`) from a finished run.

A release is the run's model with float16 weights (half the size in the repository;
loaded as float32 for CPU inference), its tokenizer and config, and a model card with
hub metadata. Before anything is replaced, both the run's float32 model and the float16
copy are evaluated on PolNeAR dev through the same `Predictor` users get; the release is
refused when any layer's strict F1 differs by more than `tolerance`. The new directory
is built beside the target and swapped in by renames, so the shipped model is always
either the old or the complete new one.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import time
from pathlib import Path

from whosaid.errors import WhosaidError
from whosaid.files import check_model_dir, write_json_atomic, write_text_atomic

#: What PolNeAR's terms mean for a model trained on it (stated in every released card).
DATA_TERMS = (
    "The attribution layer is learnt from PolNeAR (Newell, Margolin and Ruths, LREC 2018): "
    "news articles of seven US publishers about the 2016 election, annotated for research. "
    "The PolNeAR repository states no licence of its own and the article texts remain the "
    "publishers' copyright, so this model is released for research and newsroom evaluation; "
    "check the publishers' and the corpus authors' terms before commercial use, and cite the "
    "PolNeAR paper. The figure, stance and speaker-entity gold made in this project stores no "
    "corpus text (offsets and a hash of each article only).")


def strict_f1_by_label(metrics: dict) -> dict[str, float]:
    """{"layer/label": strict F1} over every layer and label of an evaluation."""
    return {f"{layer}/{label}": row["f1"] for layer, rows in metrics.get("layers", {}).items()
            for label, row in rows.items() if isinstance(row, dict) and "f1" in row}


def compare_precisions(fp32: dict, fp16: dict, tolerance: float) -> list[str]:
    """The labels whose strict F1 moved by more than `tolerance` (empty: the copy is faithful)."""
    a, b = strict_f1_by_label(fp32), strict_f1_by_label(fp16)
    return [f"{k}: float32 {a.get(k)} vs float16 {b.get(k)}" for k in sorted(set(a) | set(b))
            if k not in a or k not in b or abs(a[k] - b[k]) > tolerance]


def _released_body(body: str, name: str, metrics: dict) -> str:
    """The run's card under the released name: the title and the run's own name replaced,
    no machine paths, and the dev scores of the released weights instead of the run's
    in-training evaluation."""
    from whosaid.reports.model_card import metrics_markdown

    title = re.search(r"^# Model card: (.+)$", body, flags=re.M)
    if title:
        body = body.replace(f"`{title.group(1)}`", f"`{name}`")
    body = re.sub(r"^# .*$", f"# Model card: {name}", body, count=1, flags=re.M)
    body = re.sub(r"(?<![\w.])/\S*/(runs/)", r"\1", body)  # machine paths of the run -> runs/...
    body = re.sub(r" --polnear /\S+", "", body)
    body = re.sub(r"`continued from the whosaid model [^`]*`",
                  "a first-stage whosaid model (see Training recipe)", body)
    scores = ", ".join(f"{layer} {rows['micro']['f1']:.3f}" for layer, rows in metrics.get("layers", {}).items()
                       if "micro" in rows)
    data = metrics.get("data", {})
    body = re.sub(r"^Strict micro F1 on the dev data:.*$",
                  f"Strict micro F1 of the released weights on {data.get('source', 'dev')} "
                  f"({data.get('documents', '?')} articles): {scores}.", body, flags=re.M)
    evaluation = re.search(r"^## Evaluation\n.*?(?=^## )", body, flags=re.M | re.S)
    if evaluation:
        body = body.replace(evaluation.group(0), "## Evaluation\n\nThe released (float16) weights on "
                            f"{data.get('source', 'dev')}, decoded with the same code path as predictions:\n\n"
                            + metrics_markdown(metrics) + "\n")
    return body


def _card(run_model: Path, metrics: dict, check: dict, note: str | None = None, name: str = "whosaid-news") -> str:
    from huggingface_hub import ModelCard

    source = run_model / "README.md"
    body = source.read_text(encoding="utf-8") if source.is_file() else f"# {name}\n"
    card = ModelCard(_released_body(body, name, metrics))
    data = card.data
    data.library_name = data.library_name or "whosaid"
    data.pipeline_tag = "token-classification"
    data.language = data.language or ["en"]
    data.license = "other"
    data.datasets = data.datasets or ["PolNeAR"]
    data.base_model = "sentence-transformers/all-MiniLM-L6-v2"
    layers = {f"{layer}_micro_f1": round(rows["micro"]["f1"], 4)
              for layer, rows in metrics.get("layers", {}).items() if "micro" in rows}
    data.metrics = sorted(set((data.metrics or []) + ["f1"]))
    data.model_index = None
    data.whosaid_dev_scores = layers
    model = metrics.get("model", {})
    lines = ["", "## Release", "",
             f"Shipped as `models/whosaid-news` on {time.strftime('%Y-%m-%d')}: weights stored in float16 "
             "and loaded as float32 for CPU inference. Both precisions were evaluated on PolNeAR dev "
             f"before release; the largest difference in strict F1 over all layers and labels was "
             f"{check['max_abs_difference']:.4f} (allowed: {check['tolerance']}).", "",
             "| layer | strict micro F1 (float16, shipped) | strict micro F1 (float32 run) |",
             "| --- | ---: | ---: |"]
    for layer, rows in metrics.get("layers", {}).items():
        if "micro" in rows:
            lines.append(f"| {layer} | {rows['micro']['f1']:.4f} | "
                         f"{check['float32']['layers'][layer]['micro']['f1']:.4f} |")
    if model.get("words_per_second"):
        lines += ["", f"Speed: {model['words_per_second']:,.0f} words/s end to end over PolNeAR dev with the "
                  f"torch backend ({model.get('seconds')} s; batch size {check.get('batch_size')}) on "
                  f"{os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}); "
                  "`benchmarks/bench_inference.py` compares backends."]
    if note:
        lines += ["", "## Training recipe", "", note]
    lines += ["", "## Data and terms", "", DATA_TERMS, "",
              "## Known limits", "",
              "- Stance is the weakest layer: check every SUPPORT/OPPOSE label against the text.",
              "- Speaker entities are resolved by rules (no coreference model): pronouns far from the "
              "name, and descriptions that fit several people, can resolve to the wrong entity.",
              "- Trained on US political news of 2016; other domains and languages are worse.", "",
              "Replace it with `whosaid release RUN/model models/whosaid-news` (see the README)."]
    return str(card).rstrip("\n") + "\n" + "\n".join(lines) + "\n"


def release(run_model: str | Path, target: str | Path, *, data: str = "polnear:dev",
            polnear: str | None = None, overlays: str | None = "data/polnear-gold",
            tolerance: float = 0.001, batch_size: int = 16, card_copy: str | Path | None = None,
            note: str | None = None) -> dict:
    """Convert `run_model` to float16 into `target` after checking dev scores; return the check."""
    from transformers import AutoTokenizer

    from whosaid.evaluation.evaluate import evaluate
    from whosaid.model.modeling import load_model

    run_model, target = check_model_dir(run_model).resolve(), Path(target).resolve()
    if run_model == target:
        raise WhosaidError("the run's model and the release target are the same directory")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.staging-{os.getpid()}")
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        model = load_model(run_model)
        model.half().save_pretrained(staging, safe_serialization=True)
        AutoTokenizer.from_pretrained(run_model).save_pretrained(staging)
        kwargs = dict(polnear=polnear, overlays=overlays, batch_size=batch_size, progress=False)
        fp32 = evaluate(run_model, data, **kwargs)
        fp16 = evaluate(staging, data, **kwargs)
        a, b = strict_f1_by_label(fp32), strict_f1_by_label(fp16)
        check = {"source": f"{run_model.parent.name}/{run_model.name}",  # no machine path in the repository
                 "data": data, "tolerance": tolerance, "batch_size": batch_size,
                 "max_abs_difference": max((abs(a[k] - b.get(k, 0.0)) for k in a), default=0.0),
                 "float32": {k: fp32[k] for k in ("layers", "attributions", "stance") if k in fp32},
                 "float16": {k: fp16[k] for k in ("layers", "attributions", "stance") if k in fp16}}
        problems = compare_precisions(fp32, fp16, tolerance)
        if problems:
            raise WhosaidError("float16 copy does not match the float32 run on " + data + "; nothing "
                               "replaced: " + "; ".join(problems[:3]))
        card = _card(run_model, fp16, check, note, name=target.name)
        write_text_atomic(staging / "README.md", card)
        write_json_atomic(staging / "release.json", check)
        if target.exists():
            target.rename(old)
        staging.rename(target)
        shutil.rmtree(old, ignore_errors=True)
        if card_copy is not None:
            write_text_atomic(card_copy, card)
        return check
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if old.exists() and not target.exists():
            old.rename(target)  # a failed swap puts the previous release back


def release_summary(check: dict) -> str:
    return json.dumps({k: check[k] for k in ("source", "data", "tolerance", "max_abs_difference")})
