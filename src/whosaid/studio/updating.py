"""Retraining from new annotations in minutes: the update recipe (`configs/update.yaml`).

One update (`run_update`):

1. the annotated tasks of a Label Studio export (human annotations only: tasks with
   nothing but a prediction are not evidence) are split into a training part and a
   *held-out* part. Membership is a hash of the task's id, so a task keeps its side
   across updates and a held-out task is never trained on in a later round;
2. training continues from the served model (`model.init_from`) on the training part,
   weighted by `update.new_weight`, plus the recipe's `data.train` sources: a replay
   sample of the model's original training data (e.g. PolNeAR train with weight 0.05
   = a seeded 5% of its windows), so the model does not forget what it knew;
3. the served model and the candidate are evaluated on the held-out annotations and
   on the recipe's `data.dev` (the base dev data; the served model's dev metrics are
   cached per model and dev set);
4. the candidate is *accepted* only if it is not worse: `update.metric` on the
   held-out part at least the served model's minus `update.heldout_tolerance` (0),
   and on the base dev data at least the served model's minus `update.dev_tolerance`
   (0.01 = one F1 point). With neither set to evaluate on, it is rejected.

The run directory holds the split (`annotations-train.json`, `annotations-heldout.json`),
the model, `evaluation.json` (both models on both sets), `metrics.json` (the candidate on
dev, readable by `whosaid compare`), `decision.json` (accepted or not, why, timings);
every decision is also appended to `updates.jsonl` beside the run directory.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path


from whosaid.errors import ConfigError, WhosaidError

log = logging.getLogger("whosaid.studio.updating")

DEFAULT_RECIPE = Path("configs") / "update.yaml"
DECISION_FILE, EVALUATION_FILE, LOG_FILE = "decision.json", "evaluation.json", "updates.jsonl"
TRAIN_SPLIT, HELDOUT_SPLIT = "annotations-train.json", "annotations-heldout.json"


class UpdateError(WhosaidError):
    """An update that cannot run (no annotations, bad recipe, ...); the message says why."""


@dataclass
class UpdateSection:
    """The `update:` section of an update recipe (everything else is a training config)."""

    #: Sampling weight of the new annotations (the replay sources keep their own weights).
    new_weight: float = 3.0
    #: Share of the annotated tasks held out for evaluation (by a hash of the task id).
    holdout_fraction: float = 0.2
    #: Metric of `whosaid.training.train.flat_metrics` that decides (strict micro F1 over layers).
    metric: str = "micro_f1"
    #: The candidate may be this much below the served model on the base dev data.
    dev_tolerance: float = 0.01
    #: ... and this much below it on the held-out annotations.
    heldout_tolerance: float = 0.0
    #: Delete the Trainer's checkpoints (optimizer states) once the model is saved.
    keep_checkpoints: bool = False


# ------------------------------------------------------------------------ recipe


def load_recipe(path: str | Path, overrides: list[str] | None = None, *, init_from: str | Path | None = None,
                polnear: str | None = None, check_files: bool = True):
    """(training `Config`, `UpdateSection`) of an update recipe. `--set` overrides apply
    to both (`update.new_weight=2`, `training.epochs=1`); `init_from` replaces
    `model.init_from` (the served model) before the config is checked."""
    from whosaid.config import _build, apply_overrides, load_config, read_yaml

    path = Path(path)
    raw = read_yaml(path, "update recipe")
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top")
    apply_overrides(raw, overrides or [])
    update = _build(UpdateSection, raw.pop("update", None), "update")
    if init_from is not None:
        raw.setdefault("model", {})
        if not isinstance(raw["model"], dict):
            raise ConfigError("config key model: expected a mapping")
        raw["model"]["init_from"] = str(init_from)
    if not (raw.get("model") or {}).get("init_from"):
        raise ConfigError(f"{path}: model.init_from is not set: an update continues from a trained model "
                          "(pass --model)")
    cfg = load_config(raw=raw, check_files=check_files, polnear_override=polnear)
    if not 0 <= update.holdout_fraction < 1:
        raise ConfigError("update.holdout_fraction must be in [0, 1)")
    if update.new_weight <= 0:
        raise ConfigError("update.new_weight must be > 0")
    if update.dev_tolerance < 0 or update.heldout_tolerance < 0:
        raise ConfigError("update.dev_tolerance and update.heldout_tolerance must be >= 0")
    return cfg, update


# ------------------------------------------------------------------------ data


def holdout_key(doc_id: str) -> float:
    """A stable number in [0, 1) per task id: below the holdout fraction = held out."""
    digest = hashlib.sha256(f"whosaid-holdout:{doc_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def split_holdout(docs: list, fraction: float) -> tuple[list, list]:
    """(train, held-out). A document's side depends only on its id; when every document
    would be held out (a tiny project), all are trained on and none is held out."""
    heldout = [d for d in docs if holdout_key(d.id) < fraction]
    train = [d for d in docs if holdout_key(d.id) >= fraction]
    if not train:
        return list(docs), []
    return train, heldout


def annotated_documents(docs: list) -> list:
    """Documents whose layers come from a human annotation (not a prediction)."""
    return [d for d in docs if (d.metadata.get("annotation") or {}).get("kind") == "annotation" and d.layers]


# ------------------------------------------------------------------------ evaluation


def _model_fingerprint(model_dir: Path) -> str:
    h = hashlib.sha256(str(model_dir.resolve()).encode())
    for name in sorted(p.name for p in model_dir.iterdir() if p.suffix in (".safetensors", ".bin", ".json")):
        st = (model_dir / name).stat()
        h.update(f"{name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def evaluate_dir(model_dir: Path, sets: dict[str, list], batch_size: int = 32, constrained: bool = True) -> dict:
    """Metrics of a saved model on each named document set (empty sets are skipped)."""
    from transformers import AutoTokenizer

    from whosaid.model.modeling import load_model
    from whosaid.training.train import evaluate_model

    todo = {name: docs for name, docs in sets.items() if docs}
    if not todo:
        return {}
    model = load_model(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    return {name: evaluate_model(model, tokenizer, docs, constrained, batch_size) for name, docs in todo.items()}


def _score(metrics: dict | None, metric: str) -> float | None:
    from whosaid.training.dev_eval import flat_metrics

    if not metrics:
        return None
    flat = flat_metrics(metrics)
    if metric not in flat:
        raise UpdateError(f"update.metric {metric!r} is not among the metrics ({', '.join(sorted(flat))})")
    return float(flat[metric])


def decide(base: dict, candidate: dict, update: UpdateSection) -> tuple[bool, list[str], dict]:
    """Accept the candidate only if it is not worse on any evaluated set; (accepted, reasons, scores)."""
    scores: dict = {"metric": update.metric}
    reasons, accepted, evaluated = [], True, False
    for name, tolerance in (("heldout", update.heldout_tolerance), ("dev", update.dev_tolerance)):
        old, new = _score(base.get(name), update.metric), _score(candidate.get(name), update.metric)
        scores[name] = {"base": old, "candidate": new, "tolerance": tolerance}
        if old is None or new is None:
            continue
        evaluated = True
        what = "held-out annotations" if name == "heldout" else "base dev data"
        if new < old - tolerance - 1e-12:
            accepted = False
            reasons.append(f"worse on the {what}: {update.metric} {old:.4f} -> {new:.4f} "
                           f"(tolerance {tolerance:g})")
        else:
            reasons.append(f"not worse on the {what}: {update.metric} {old:.4f} -> {new:.4f} "
                           f"(tolerance {tolerance:g})")
    if not evaluated:
        accepted = False
        reasons.append("nothing to evaluate on (no held-out annotations and no dev data): not served")
    return accepted, reasons, scores


# ------------------------------------------------------------------------ the update


def new_run_name(now: datetime | None = None) -> str:
    """`update-<UTC time>`: also the model_version the served model gets."""
    now = now or datetime.now(timezone.utc)
    return "update-" + now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def append_log(path: Path, entry: dict) -> None:
    """One JSON line per decision; a single `write` of a short line is not interleaved."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry, ensure_ascii=False) + "\n")


def run_update(base_model: str | Path, annotations: str | Path, run_dir: str | Path, *,
               recipe: str | Path = DEFAULT_RECIPE, overrides: list[str] | None = None,
               polnear: str | None = None, cache_dir: str | Path | None = None,
               source: dict | None = None) -> dict:
    """Continue training `base_model` on the annotations of a Label Studio export plus
    the recipe's replay data; evaluate; decide. Returns the decision (also in
    `run_dir/decision.json`). `source` describes where the annotations came from."""
    from whosaid.config import SourceSection
    from whosaid.readers.labelstudio_json import read_export, write_export
    from whosaid.schema import Schema
    from whosaid.training.data import load_configured_source
    from whosaid.training.train import train

    started = time.monotonic()
    timings: dict[str, float] = {}
    base_model, run_dir = Path(base_model), Path(run_dir)
    cfg, update = load_recipe(recipe, overrides, init_from=base_model, polnear=polnear)
    if run_dir.exists() and any(run_dir.iterdir()):
        raise UpdateError(f"run directory {run_dir} exists and is not empty; updates never overwrite a run")
    schema = Schema.from_label_config(cfg.data.label_config)
    docs = read_export(annotations, schema)
    annotated = annotated_documents(docs)
    if not annotated:
        raise UpdateError(f"{annotations}: no task has a (non-skipped) annotation; annotate some tasks first")
    train_docs, heldout = split_holdout(annotated, update.holdout_fraction)
    run_dir.mkdir(parents=True, exist_ok=True)
    train_file = write_export(train_docs, run_dir / TRAIN_SPLIT, schema=schema)
    if heldout:
        write_export(heldout, run_dir / HELDOUT_SPLIT, schema=schema)
    log.info("%d annotated tasks: %d to train on, %d held out", len(annotated), len(train_docs), len(heldout))

    dev_sources = list(cfg.data.dev)
    cfg = copy.deepcopy(cfg)
    cfg.name = run_dir.name
    cfg.data.train = [SourceSection(path=str(train_file), weight=update.new_weight)] + cfg.data.train
    cfg.data.dev = []  # no evaluation during training: the decision below evaluates once
    timings["prepare_s"] = time.monotonic() - started

    t = time.monotonic()
    with contextlib.redirect_stdout(sys.stderr):  # the Trainer's log lines; stdout stays the caller's
        train(cfg, run_dir, polnear=polnear,
              command=f"whosaid studio train --model {base_model} (recipe {recipe}, run {run_dir.name})")
    timings["train_s"] = time.monotonic() - t
    if not update.keep_checkpoints:
        shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)

    t = time.monotonic()
    dev_docs = [d for s in dev_sources for d in load_configured_source(s, cfg, schema, polnear).documents]
    batch, constrained = cfg.decoding.batch_size, cfg.decoding.constrained
    base = evaluate_dir(base_model, {"heldout": heldout}, batch, constrained)
    base_dev = None
    cache = None
    if dev_docs and cache_dir is not None:
        key = hashlib.sha256(json.dumps([_model_fingerprint(base_model), [asdict(s) for s in dev_sources],
                                         str(cfg.polnear_root(polnear)), constrained]).encode()).hexdigest()[:20]
        cache = Path(cache_dir) / f"dev-metrics-{key}.json"
        if cache.is_file():
            base_dev = json.loads(cache.read_text(encoding="utf-8"))
    if base_dev is None and dev_docs:
        base_dev = evaluate_dir(base_model, {"dev": dev_docs}, batch, constrained)["dev"]
        if cache is not None:
            from whosaid.files import write_json_atomic

            write_json_atomic(cache, base_dev)
    if base_dev is not None:
        base["dev"] = base_dev
    candidate = evaluate_dir(run_dir / "model", {"heldout": heldout, "dev": dev_docs}, batch, constrained)
    timings["evaluate_s"] = time.monotonic() - t

    accepted, reasons, scores = decide(base, candidate, update)
    timings["total_s"] = time.monotonic() - started
    timings = {k: round(v, 1) for k, v in timings.items()}
    decision = {
        "version": run_dir.name,
        "accepted": accepted,
        "reasons": reasons,
        "scores": scores,
        "base_model": str(base_model),
        "model": str(run_dir / "model"),
        "annotations": str(annotations),
        "source": source or {},
        "annotated_tasks": len(annotated),
        "train_tasks": len(train_docs),
        "heldout_tasks": [d.id for d in heldout],
        "dev_documents": len(dev_docs),
        "recipe": str(recipe),
        "overrides": list(overrides or []),
        "timings_s": timings,
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    _write_results(run_dir, base, candidate, decision)
    log.info("%s %s: %s", run_dir.name, "accepted" if accepted else "rejected", "; ".join(reasons))
    return decision


def _write_results(run_dir: Path, base: dict, candidate: dict, decision: dict) -> None:
    from whosaid.files import write_json_atomic

    write_json_atomic(run_dir / EVALUATION_FILE, {"base": base, "candidate": candidate})
    metrics_path = run_dir / "metrics.json"
    if candidate.get("dev") and metrics_path.is_file():  # the candidate on dev, for `whosaid compare`
        old = json.loads(metrics_path.read_text(encoding="utf-8"))
        write_json_atomic(metrics_path, {**candidate["dev"], **{k: old[k] for k in ("data", "model") if k in old},
                                         "update": {k: decision[k] for k in ("version", "accepted", "scores")}})
    write_json_atomic(run_dir / DECISION_FILE, decision)
    append_log(run_dir.parent / LOG_FILE, decision)


def read_decision(run_dir: str | Path) -> dict | None:
    path = Path(run_dir) / DECISION_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def summary(decision: dict) -> str:
    """One line for people: accepted or not and the scores it was decided on."""
    s = decision.get("scores", {})
    parts = []
    for name, label in (("heldout", "held-out"), ("dev", "dev")):
        v = s.get(name) or {}
        if v.get("base") is not None and v.get("candidate") is not None:
            parts.append(f"{label} {s.get('metric')} {v['base']:.4f} -> {v['candidate']:.4f}")
    verdict = "accepted" if decision.get("accepted") else "rejected"
    took = decision.get("timings_s", {}).get("total_s")
    return (f"{decision.get('version')}: {verdict} ({'; '.join(parts) or 'not evaluated'})"
            + (f" in {took:.0f} s" if took is not None else ""))



# ------------------------------------------------------------------------ from a project


def workdir_paths(workdir: str | Path) -> dict[str, Path]:
    """Where an update workdir keeps exports, runs and caches."""
    workdir = Path(workdir)
    return {"exports": workdir / "exports", "updates": workdir / "updates", "cache": workdir / "cache"}


def update_from_project(client, project_id: int, base_model: str | Path, workdir: str | Path, *,
                        run_dir: str | Path | None = None, recipe: str | Path = DEFAULT_RECIPE,
                        overrides: list[str] | None = None, polnear: str | None = None,
                        timeout: float = 30.0) -> dict:
    """Export the project's annotations atomically into `workdir/exports/` (as
    `whosaid studio export` does; an identical earlier export is reused), then
    `run_update` into `run_dir` (default `workdir/updates/update-<time>`)."""
    from whosaid.studio.client import export_project

    paths = workdir_paths(workdir)
    for p in paths.values():
        p.mkdir(parents=True, exist_ok=True)
    export, _ = export_project(client, project_id, paths["exports"], timeout=timeout)
    run_dir = Path(run_dir) if run_dir is not None else paths["updates"] / new_run_name()
    return run_update(base_model, export, run_dir, recipe=recipe, overrides=overrides, polnear=polnear,
                      cache_dir=paths["cache"], source={"project": project_id, "export": export.name})
