"""The config's `training:` block -> transformers `TrainingArguments`.

Three kinds of settings, each declared once here:

* `ARGUMENTS`: config keys passed to a `TrainingArguments` field unchanged (some under
  another name, e.g. `batch_size` -> `per_device_train_batch_size`);
* `OWN`: config keys whosaid applies itself (warm-up ratio, best-model metric, threads,
  evaluation interval);
* `training.arguments`: any other `TrainingArguments` field, passed as it is (for
  example `{max_grad_norm: 0.5, bf16: true, optim: adafactor}`), checked against the
  installed transformers' fields with the config. Fields whosaid derives from the run
  (`MANAGED`) or that have a config key of their own cannot be set there.

The machine is not forced: a GPU is used when there is one (the Trainer's default).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from whosaid.config import Config

#: training.<key> -> TrainingArguments.<field>, passed unchanged.
ARGUMENTS = {
    "epochs": "num_train_epochs",
    "max_steps": "max_steps",
    "learning_rate": "learning_rate",
    "batch_size": "per_device_train_batch_size",
    "gradient_accumulation_steps": "gradient_accumulation_steps",
    "weight_decay": "weight_decay",
    "lr_scheduler": "lr_scheduler_type",
    "logging_steps": "logging_steps",
    "save_steps": "save_steps",
    "save_total_limit": "save_total_limit",
    "report_to": "report_to",
}
#: training.<key> whosaid applies itself, and where.
OWN = {
    "warmup_ratio": "WhosaidTrainer.create_scheduler: ceil(ratio x optimizer steps) warm-up steps",
    "metric_for_best_model": "WhosaidTrainer: the dev metric that picks the weights kept",
    "threads": "torch.set_num_threads",
    "eval_steps": "eval_strategy steps (else one evaluation per epoch)",
    "arguments": "further TrainingArguments fields, passed as they are",
}
#: TrainingArguments fields set from the run itself (not settable in training.arguments).
MANAGED = frozenset({
    "output_dir", "eval_strategy", "evaluation_strategy", "eval_steps", "save_strategy",
    "load_best_model_at_end", "metric_for_best_model", "greater_is_better", "seed", "data_seed",
    "remove_unused_columns", "label_names", "warmup_steps", "warmup_ratio", "ddp_backend",
    "ddp_find_unused_parameters", "do_train", "do_eval",
})


def argument_fields() -> set[str]:
    """The fields of the installed transformers' `TrainingArguments`."""
    from transformers import TrainingArguments

    return {f.name for f in dataclasses.fields(TrainingArguments) if f.init}


def passthrough_problem(arguments: dict) -> str | None:
    """Why `training.arguments` cannot be passed on (None when it can)."""
    if not arguments:
        return None
    known = argument_fields()
    unknown = sorted(k for k in arguments if k not in known)
    if unknown:
        return f"not TrainingArguments fields of this transformers version: {', '.join(unknown)}"
    clash = sorted(k for k in arguments if k in MANAGED or k in ARGUMENTS.values())
    if clash:
        own = {v: k for k, v in ARGUMENTS.items()}
        hints = [f"{k} (use training.{own[k]})" if k in own else f"{k} (set by whosaid)" for k in clash]
        return f"cannot be set here: {', '.join(hints)}"
    return None


def report_to(value) -> list[str]:
    """training.report_to as the list TrainingArguments takes ([] or "none": no integration)."""
    items = [value] if isinstance(value, str) else list(value or [])
    return [] if items in ([], ["none"]) else [str(v) for v in items]


def training_arguments(cfg: "Config", checkpoints: str | Path, has_dev: bool):
    """`TrainingArguments` for a run whose resumable checkpoints go to `checkpoints`."""
    import torch
    from transformers import TrainingArguments

    t = cfg.training
    kwargs = {field: getattr(t, key) for key, field in ARGUMENTS.items()}
    kwargs["report_to"] = report_to(t.report_to)
    kwargs["dataloader_pin_memory"] = torch.cuda.is_available()  # pinning needs an accelerator
    kwargs.update(t.arguments)
    evaluate = ("steps" if t.eval_steps else "epoch") if has_dev else "no"
    kwargs.update(
        output_dir=str(checkpoints),
        eval_strategy=evaluate,
        save_strategy="steps",
        load_best_model_at_end=False,       # WhosaidTrainer keeps the best weights itself
        seed=cfg.seed,
        data_seed=cfg.seed,
        remove_unused_columns=False,
        label_names=["labels"],
    )
    if t.eval_steps:
        kwargs["eval_steps"] = t.eval_steps
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        kwargs["ddp_find_unused_parameters"] = False
        if not torch.cuda.is_available():
            kwargs["ddp_backend"] = "gloo"
    return TrainingArguments(**kwargs)
