"""`WhosaidTrainer`: the transformers `Trainer` with whosaid's evaluation, warm-up and
best-model keeping; and the callbacks a run uses.

What differs from the stock Trainer:

* **Evaluation** decodes the dev documents with the same `Predictor` path users get
  and reports span-level metrics (`flat_metrics`), not token accuracy.
* **Warm-up** is a ratio of the run's optimizer steps (`warmup_ratio`), turned into a
  whole number of steps when the scheduler is built, so it means the same on every
  transformers version (older ones read a float `warmup_steps` as a step count).
* **The best model** is kept by the trainer itself: at each evaluation that improves
  `metric_for_best_model`, a copy of the weights is kept in memory; it is written to
  `<checkpoints>/best/` (weights and tokenizer, no optimizer state) only when a
  resumable checkpoint is saved, and loaded at the end of training. Checkpoints with
  optimizer state are written every `save_steps` (and at the end), not at every
  evaluation, so a run writes a few of them instead of one per epoch.

Everything else (optimizer, schedule, seeding, gradient accumulation, DDP, `--resume`,
`report_to` integrations) is the stock Trainer.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import torch
from transformers import PrinterCallback, ProgressCallback, Trainer, TrainerCallback

from whosaid.errors import WhosaidError
from whosaid.files import default_file_mode
from whosaid.training.dev_eval import evaluate_model, flat_metrics

BEST_DIR = "best"
BEST_INFO = "whosaid_best.json"
#: The metrics printed on the console at each evaluation (all of them go to train.log).
CONSOLE_METRICS = ("micro_f1", "attribution_f1", "attribution_micro_f1", "figure_micro_f1",
                   "stance_micro_f1", "stance_macro_f1")


def normalize_file_modes(directory: str | Path) -> None:
    """Give the files under `directory` the usual mode (0666 less the umask): safetensors
    writes its files 0600, which other users of a shared model directory cannot read."""
    mode = default_file_mode()
    for path in Path(directory).rglob("*"):
        if path.is_file() and not path.is_symlink():
            os.chmod(path, mode)


class WhosaidTrainer(Trainer):
    """Trainer whose evaluation decodes whole dev documents into spans (see the module)."""

    def __init__(self, *args, dev_documents=(), decoding=None, warmup_ratio: float = 0.0,
                 metric_for_best_model: str = "micro_f1", **kwargs):
        super().__init__(*args, **kwargs)
        self.dev_documents = list(dev_documents)
        self.decoding = decoding
        self.warmup_ratio = warmup_ratio
        self.metric_for_best_model = metric_for_best_model
        self.last_dev_metrics: dict | None = None
        self._best_state: dict | None = None   # weights of the best evaluation not yet on disk
        self.best_step: int | None = None       # the optimizer step of the best evaluation
        self.add_callback(_KeepBestOnSave(self))
        self.remove_callback(ProgressCallback)
        self.remove_callback(PrinterCallback)
        self.add_callback(NumbersPrinter() if self.args.disable_tqdm else NumbersProgress())

    # ------------------------------------------------------------ schedule

    def create_scheduler(self, num_training_steps: int, optimizer=None):
        if self.lr_scheduler is None:
            # A whole number of steps: read the same way by every transformers version.
            self.args.warmup_steps = math.ceil(num_training_steps * self.warmup_ratio)
        return super().create_scheduler(num_training_steps, optimizer)

    # ------------------------------------------------------------ evaluation

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval"):
        decoding = self.decoding
        model = self.model
        was_training = model.training
        metrics = evaluate_model(model, self.processing_class, self.dev_documents,
                                 decoding.constrained if decoding else True, decoding.batch_size if decoding else 32)
        model.train(was_training)
        self.last_dev_metrics = metrics
        flat = {f"{metric_key_prefix}_{k}": v for k, v in flat_metrics(metrics).items()}
        self._track_best(flat.get(f"{metric_key_prefix}_{self.metric_for_best_model}"), flat)
        self.log(flat)
        self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, flat)
        return flat

    # ------------------------------------------------------------ the best model

    @property
    def best_dir(self) -> Path:
        return Path(self.args.output_dir) / BEST_DIR

    def best_on_disk(self) -> dict | None:
        """{"metric", "value", "step"} of the weights in `best_dir`, None when there are none."""
        try:
            info = json.loads((self.best_dir / BEST_INFO).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return info if isinstance(info, dict) and info.get("metric") == self.metric_for_best_model else None

    def _track_best(self, value, flat: dict) -> None:
        if value is None:
            known = ", ".join(k.split("_", 1)[1] for k in flat)
            raise WhosaidError(f"training.metric_for_best_model: no metric {self.metric_for_best_model!r}; "
                               f"known: {known}")
        best = self.state.best_metric
        on_disk = self.best_on_disk() if self._best_state is None else None
        if on_disk is not None and (best is None or on_disk["value"] > best):
            best = on_disk["value"]  # a resumed run: the kept weights are the reference
        if best is not None and not value > best:
            return
        # Only best_metric goes into the Trainer's state: its best_model_checkpoint and
        # best_global_step name a checkpoint-N the Trainer then keeps from rotation (or, with
        # save_total_limit 1, keeps alone at the end), which is what best/ replaces.
        self.state.best_metric = value
        self.best_step = self.state.global_step
        self._best_state = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}

    def write_best(self) -> None:
        """Write the best weights kept in memory to `best_dir` (renamed into place; main process)."""
        if self._best_state is None:
            return
        if self.args.should_save:
            from whosaid.model.encoders import quiet_transformers

            tmp = self.best_dir.with_name(f".{BEST_DIR}.tmp-{os.getpid()}")
            shutil.rmtree(tmp, ignore_errors=True)
            with quiet_transformers():
                self.model.save_pretrained(tmp, state_dict=self._best_state, safe_serialization=True)
                if self.processing_class is not None:
                    self.processing_class.save_pretrained(tmp)
            (tmp / BEST_INFO).write_text(json.dumps({"metric": self.metric_for_best_model,
                                                     "value": self.state.best_metric,
                                                     "step": self.best_step}) + "\n", encoding="utf-8")
            normalize_file_modes(tmp)
            old = self.best_dir.with_name(f".{BEST_DIR}.old-{os.getpid()}")
            if self.best_dir.exists():
                os.replace(self.best_dir, old)
            os.replace(tmp, self.best_dir)
            shutil.rmtree(old, ignore_errors=True)
            self._best_state = None  # other processes keep theirs in memory: they never read best/

    def load_best(self) -> bool:
        """Put the best evaluated weights into the model (from memory or `best_dir`); False
        when there was no evaluation."""
        if self._best_state is not None:
            self.model.load_state_dict(self._best_state)
            return True
        on_disk = self.best_on_disk()
        if on_disk is None:
            return False
        self.best_step = on_disk.get("step")
        best = type(self.model).from_pretrained(self.best_dir)
        self.model.load_state_dict(best.state_dict())
        return True

    def forget_best(self) -> None:
        """A fresh run: no best model of an earlier attempt counts."""
        shutil.rmtree(self.best_dir, ignore_errors=True)


class _KeepBestOnSave(TrainerCallback):
    """Writes the best weights beside each resumable checkpoint, and fixes file modes."""

    def __init__(self, trainer: WhosaidTrainer):
        self.trainer = trainer

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= state.max_steps and args.save_strategy != "no":
            control.should_save = True  # a checkpoint at the end, on every transformers version
        return control

    def on_save(self, args, state, control, **kwargs):
        self.trainer.write_best()
        if state.is_world_process_zero:
            last = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if last.is_dir():
                normalize_file_modes(last)
        return control


def _numbers(logs: dict) -> dict:
    """Console form of a log entry: numbers stay numbers (4 significant digits), and of
    an evaluation only the headline metrics (`CONSOLE_METRICS`); train.log has them all."""
    out = {}
    for key, value in logs.items():
        if key == "total_flos":
            continue
        if key.startswith("eval_") and key[5:] not in CONSOLE_METRICS and not key.endswith(("runtime", "per_second")):
            continue
        if isinstance(value, float):
            value = float(f"{value:.4g}")
        elif isinstance(value, torch.Tensor) and value.numel() == 1:
            value = float(f"{value.item():.4g}")
        out[key] = value
    return out


class NumbersProgress(ProgressCallback):
    """The stock progress bar, with log lines that keep numbers numbers."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero and self.training_bar is not None and logs:
            self.training_bar.write(json.dumps({"step": state.global_step, **_numbers(logs)}))


class NumbersPrinter(TrainerCallback):
    """Without progress bars (`disable_tqdm`): the same log lines, printed."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero and logs:
            print(json.dumps({"step": state.global_step, **_numbers(logs)}), flush=True)


class JsonLog(TrainerCallback):
    """Appends every Trainer log entry to the run's train.log (JSON lines, all metrics)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero and logs:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps({"step": state.global_step, "epoch": state.epoch, **logs}) + "\n")
