"""Where a training run starts, decided before anything is loaded or written.

Rules (`plan_start`):

* Without `--resume`, a run directory that already holds a model, or checkpoints of an
  interrupted run, is refused: starting over would replace them.
* `--resume` continues from the newest *complete* checkpoint (`trainer_state.json`
  readable, the weights intact, optimizer/scheduler/RNG files not cut short). A newer
  checkpoint left unfinished by a kill is moved aside to `incomplete-checkpoint-N`
  (nothing is deleted) and the message says which checkpoint is used instead.
* `--resume` with no complete checkpoint is refused and nothing is touched: a finished
  run whose checkpoints are gone is not silently trained again from scratch.
* `--resume` only with the same model and data settings as the run's `config.yaml`
  (written when the run starts): the model, data, seed and optimisation settings must
  be equal. What cannot change the weights already trained may differ, and the message
  says so: more (or fewer) epochs or steps (the learning-rate schedule follows the new
  length), logging, checkpoint interval and count, threads, evaluation interval,
  decoding, report_to, the run name.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from whosaid.config import Config
from whosaid.errors import WhosaidError

log = logging.getLogger("whosaid.training.resume")

CONFIG_NAME = "config.yaml"
#: training.* keys that may change on --resume (they do not touch the weights trained so far).
RESUMABLE_TRAINING = frozenset({"epochs", "max_steps", "logging_steps", "save_steps", "save_total_limit",
                                "threads", "eval_steps", "report_to"})
#: Top-level sections and keys that may change on --resume.
RESUMABLE_TOP = frozenset({"name", "decoding"})
#: Files a Trainer checkpoint may hold that are zip archives (torch.save), checked for truncation.
TORCH_FILES = ("optimizer.pt", "scheduler.pt", "rng_state.pth", "training_args.bin", "pytorch_model.bin")


class ResumeError(WhosaidError):
    """--resume (or a fresh start) refused; nothing was written."""


@dataclass
class Start:
    checkpoint: str | None = None        # what the Trainer resumes from (None: from scratch)
    notes: list[str] = field(default_factory=list)  # what the user is told
    set_aside: list[Path] = field(default_factory=list)  # incomplete checkpoints to move aside


def checkpoints(run_dir: Path) -> list[Path]:
    """The run's Trainer checkpoints, newest first."""
    found = [p for p in (run_dir / "checkpoints").glob("checkpoint-*")
             if p.is_dir() and p.name.split("-")[-1].isdigit()]
    return sorted(found, key=lambda p: int(p.name.split("-")[-1]), reverse=True)


def _safetensors_problem(path: Path) -> str | None:
    size = path.stat().st_size
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                return f"{path.name} is cut short"
            (n,) = struct.unpack("<Q", head)
            if n > size - 8:
                return f"{path.name} is cut short"
            header = json.loads(f.read(n))
    except (OSError, ValueError):
        return f"{path.name} has no readable header"
    ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__" and isinstance(v, dict)]
    if 8 + n + max(ends, default=0) > size:
        return f"{path.name} is cut short ({size} of {8 + n + max(ends)} bytes)"
    return None


def checkpoint_problem(path: Path) -> str | None:
    """Why `path` cannot be resumed from (None when it is complete)."""
    state = path / "trainer_state.json"
    try:
        if not isinstance(json.loads(state.read_text(encoding="utf-8")).get("global_step"), int):
            return "trainer_state.json has no global_step"
    except FileNotFoundError:
        return "no trainer_state.json"
    except (OSError, ValueError):
        return "trainer_state.json is unreadable"
    weights = [path / n for n in ("model.safetensors", "pytorch_model.bin") if (path / n).is_file()]
    weights += sorted(path.glob("model-*-of-*.safetensors"))
    if not weights:
        return "no model weights"
    for w in weights:
        if w.suffix == ".safetensors":
            problem = _safetensors_problem(w)
            if problem:
                return problem
    for name in TORCH_FILES:
        f = path / name
        if f.is_file() and not zipfile.is_zipfile(f):
            return f"{name} is cut short"
    return None


def _flat(d, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and k not in ("encoder_overrides", "arguments"):
            out.update(_flat(v, key + "."))
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):  # data sources
            out.update(_flat({str(i): x for i, x in enumerate(v)}, key + "."))
            out[f"{key}.count"] = len(v)
        else:
            out[key] = v
    return out


def _resumable(key: str) -> bool:
    top, _, rest = key.partition(".")
    return top in RESUMABLE_TOP or (top == "training" and rest.split(".")[0] in RESUMABLE_TRAINING)


def settings_changes(saved: dict, cfg: Config) -> tuple[list[str], list[str]]:
    """(changes --resume refuses, changes it allows), as `key: old -> new`."""
    old, new = _flat(saved), _flat(cfg.to_dict())
    refused, allowed = [], []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, "<unset>"), new.get(key, "<unset>")
        if a != b and not (isinstance(a, (int, float)) and isinstance(b, (int, float)) and float(a) == float(b)):
            (allowed if _resumable(key) else refused).append(f"{key}: {a!r} -> {b!r}")
    return refused, allowed


def plan_start(cfg: Config, run_dir: str | Path, resume: bool) -> Start:
    """Where training starts in `run_dir` (module docstring); raises `ResumeError` before
    anything is written. `begin` then records the decision."""
    run_dir = Path(run_dir)
    found = checkpoints(run_dir) if run_dir.is_dir() else []
    if not resume:
        if (run_dir / "model").exists():
            raise ResumeError(f"{run_dir} already holds a trained model; choose another --output-dir "
                              "or pass --resume")
        if found:
            raise ResumeError(f"{run_dir} holds checkpoints of an interrupted run ({found[0].name}); pass --resume "
                              "to continue it, or choose another --output-dir")
        return Start()
    start = Start()
    for ckpt in found:
        problem = checkpoint_problem(ckpt)
        if problem is None:
            start.checkpoint = str(ckpt)
            break
        start.set_aside.append(ckpt)
        start.notes.append(f"{ckpt.name} is incomplete ({problem})")
    if start.checkpoint is None:
        what = "a finished model but" if (run_dir / "model").exists() else "no model and"
        broken = f" ({'; '.join(start.notes)})" if start.notes else ""
        raise ResumeError(f"--resume: {run_dir} holds {what} no complete checkpoint to resume from{broken}; "
                          "nothing was changed. Train into another --output-dir to start over")
    saved_path = run_dir / CONFIG_NAME
    if saved_path.is_file():
        try:
            saved = yaml.safe_load(saved_path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ResumeError(f"--resume: cannot read {saved_path} to compare the settings: {exc}") from None
        refused, allowed = settings_changes(saved, cfg)
        if refused:
            raise ResumeError(f"--resume: the settings differ from the run's ({saved_path}): {'; '.join(refused)}. "
                              "Resuming needs the same model and data settings; nothing was changed. "
                              "Train into another --output-dir instead")
        start.notes += [f"changed on resume (allowed: it does not alter the weights trained so far): {c}"
                        for c in allowed]
    else:
        start.notes.append(f"{saved_path} is missing: the settings of the run cannot be compared")
    if start.set_aside:
        start.notes.append(f"resuming from {Path(start.checkpoint).name}, the newest complete checkpoint")
    return start


def begin(cfg: Config, run_dir: str | Path, start: Start) -> None:
    """Record the decision once the run directory exists (the main process only): move
    incomplete checkpoints aside, write the settings the run trains with, tell the user."""
    run_dir = Path(run_dir)
    if int(os.environ.get("RANK", "0")) == 0:
        for ckpt in start.set_aside:
            target = ckpt.with_name(f"incomplete-{ckpt.name}")
            n = 2
            while target.exists():
                target, n = ckpt.with_name(f"incomplete-{ckpt.name}-{n}"), n + 1
            os.replace(ckpt, target)
        from whosaid.files import write_text_atomic

        write_text_atomic(run_dir / CONFIG_NAME, yaml.safe_dump(cfg.to_dict(), sort_keys=False))
    for note in start.notes:
        log.warning("%s", note)
    if start.checkpoint:
        log.info("resuming from %s", start.checkpoint)
