"""Side-by-side comparison of runs (`whosaid compare`): a markdown table and a bar chart.

It reads the metrics JSON of `whosaid.evaluation.metrics` (plus the optional "data"
and "model" keys added by training and evaluation) and never modifies a run directory.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Sequence

import yaml

from whosaid.errors import WhosaidError
from whosaid.files import check_output_path, write_bytes_atomic
from whosaid.reports.markdown import AVERAGES, cell, describe_data, dig, fmt, union


# ------------------------------------------------------------------ loading

def load_run(run_dir: str | Path, metrics_name: str = "metrics.json") -> tuple[dict, dict]:
    """(metrics, config) of a run directory; config is {} when config.yaml is absent."""
    run_dir = Path(run_dir)
    path = run_dir / metrics_name
    if not run_dir.is_dir():
        raise WhosaidError(f"run {run_dir.name!r}: directory {run_dir} does not exist")
    if not path.is_file():
        raise WhosaidError(f"run {run_dir.name!r}: no {metrics_name} in {run_dir} "
                           f"(evaluate the run first: whosaid evaluate ... --output {path})")
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WhosaidError(f"run {run_dir.name!r}: cannot read {path}: {exc}") from exc
    if not isinstance(metrics, dict):
        raise WhosaidError(f"run {run_dir.name!r}: {path} is not a metrics object")
    config: dict = {}
    cfg_path = run_dir / "config.yaml"
    if cfg_path.is_file():
        try:
            config = yaml.safe_load(cfg_path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise WhosaidError(f"run {run_dir.name!r}: cannot read {cfg_path}: {exc}") from exc
        config = config if isinstance(config, dict) else {}
    return metrics, config


def _column_names(run_dirs: Sequence[Path]) -> list[str]:
    """Run directory names; the full path where two runs share a name."""
    names = [Path(r).name or str(r) for r in run_dirs]
    return [str(r) if names.count(n) > 1 else n for n, r in zip(names, run_dirs)]


def _base_encoder(metrics: dict, config: dict) -> str:
    return str(dig(metrics, "model", "base_encoder") or dig(config, "model", "encoder")
               or dig(config, "base_encoder") or "–")


# --------------------------------------------------------------- comparison

def _comparison_rows(runs: list[tuple[dict, dict]]) -> list[tuple[str, list[str]]]:
    rows = [("base encoder", [_base_encoder(m, c) for m, c in runs])]
    if any("data" in m for m, _ in runs):
        rows.append(("evaluated on", [describe_data(m.get("data")) for m, _ in runs]))
    strict = [m.get("layers", {}) for m, _ in runs]
    overlap = [m.get("overlap", {}) for m, _ in runs]
    for layer in union(list(s) + list(o) for s, o in zip(strict, overlap)):
        labels = union([l for l in s.get(layer, {}) if l not in AVERAGES] for s in strict)
        for label in labels:
            rows.append((f"{layer} / {label} strict F1", [fmt(dig(s, layer, label, "f1")) for s in strict]))
        rows.append((f"{layer} / micro strict F1", [fmt(dig(s, layer, "micro", "f1")) for s in strict]))
        rows.append((f"{layer} / micro overlap F1", [fmt(dig(o, layer, "micro", "f1")) for o in overlap]))
    rows.append(("attribution F1", [fmt(dig(m, "attributions", "f1")) for m, _ in runs]))
    rows.append(("stance accuracy", [fmt(dig(m, "stance", "accuracy")) for m, _ in runs]))
    rows.append(("stance macro-F1", [fmt(dig(m, "stance", "macro_f1")) for m, _ in runs]))
    if any(dig(m, "stance", "on_gold_cues") for m, _ in runs):
        rows.append(("stance accuracy on gold attributions",
                     [fmt(dig(m, "stance", "on_gold_cues", "accuracy")) for m, _ in runs]))
        rows.append(("stance macro-F1 on gold attributions",
                     [fmt(dig(m, "stance", "on_gold_cues", "macro_f1")) for m, _ in runs]))
    if any("stance_on_gold_cues" in m for m, _ in runs):
        rows.append(("stance accuracy at gold cues",
                     [fmt(dig(m, "stance_on_gold_cues", "accuracy")) for m, _ in runs]))
        rows.append(("stance macro-F1 at gold cues",
                     [fmt(dig(m, "stance_on_gold_cues", "macro_f1")) for m, _ in runs]))
    return rows


def compare_runs(run_dirs: Sequence[str | Path], metrics_name: str = "metrics.json") -> str:
    """A markdown table with one column per run (header = run directory name)."""
    run_dirs = [Path(r) for r in run_dirs]
    if not run_dirs:
        raise WhosaidError("no run directories to compare")
    runs = [load_run(r, metrics_name) for r in run_dirs]
    names = _column_names(run_dirs)
    lines = ["| metric | " + " | ".join(cell(n) for n in names) + " |",
             "| --- | " + " | ".join("---:" for _ in names) + " |"]
    for title, values in _comparison_rows(runs):
        lines.append(f"| {cell(title)} | " + " | ".join(cell(v) for v in values) + " |")
    return "\n".join(lines) + "\n"


def plot_comparison(run_dirs: Sequence[str | Path], png_path: str | Path,
                    metrics_name: str = "metrics.json", *, overwrite: bool = False) -> Path:
    """Grouped bar chart of strict F1 per layer/label, one bar per run; written atomically.
    Refused (`OutputError`, before any work) inside a run directory, or over an existing
    file unless `overwrite`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    run_dirs = [Path(r) for r in run_dirs]
    if not run_dirs:
        raise WhosaidError("no run directories to compare")
    check_output_path(png_path, read_dirs=run_dirs, overwrite=overwrite, flag="chart")
    metrics = [load_run(r, metrics_name)[0].get("layers", {}) for r in run_dirs]
    groups = [(layer, label) for layer in union(metrics)
              for label in union([l for l in m.get(layer, {}) if l not in AVERAGES] for m in metrics)]
    names = _column_names(run_dirs)
    fig = Figure(figsize=(max(6.0, 0.9 * len(groups) * max(1, len(names)) ** 0.5 + 2), 4.5),
                 layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    width = 0.8 / len(names)
    for i, (name, m) in enumerate(zip(names, metrics)):
        xs = [g + (i - (len(names) - 1) / 2) * width for g in range(len(groups))]
        ys = [dig(m, layer, label, "f1") or 0.0 for layer, label in groups]
        ax.bar(xs, ys, width, label=name)
    ax.set_xticks(range(len(groups)), [f"{layer}\n{label}" for layer, label in groups], fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("strict F1")
    ax.set_title("Strict F1 per label")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    return write_bytes_atomic(png_path, buf.getvalue())
