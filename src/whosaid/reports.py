"""Human-facing reports of runs: a side-by-side comparison (markdown table and bar
chart, `whosaid compare`) and the model card written next to a trained model.

Both read the metrics JSON of `whosaid.metrics` (plus the optional "data" and
"model" keys added by training and evaluation) and never modify a run directory.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path
from typing import Iterable, Sequence

import yaml

from whosaid.atomic import write_bytes_atomic, write_text_atomic
from whosaid.errors import WhosaidError

__all__ = ["compare_main", "compare_runs", "load_run", "metrics_markdown", "plot_comparison",
           "render_model_card", "write_text_atomic"]

AVERAGES = ("micro", "macro")


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


def _union(keys: Iterable[Iterable[str]]) -> list[str]:
    out: list[str] = []
    for ks in keys:
        for k in ks:
            if k not in out:
                out.append(k)
    return out


def _get(d: dict, *keys):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def _fmt(value) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "–"


def _cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def describe_data(data) -> str:
    """One line naming the evaluation data of a metrics["data"] entry."""
    if data is None:
        return "–"
    if isinstance(data, str):
        return data
    if isinstance(data, list):
        return ", ".join(describe_data(d) for d in data) or "–"
    if isinstance(data, dict):
        if "dev" in data and isinstance(data["dev"], list):  # written by training
            return describe_data(data["dev"])
        name = data.get("name") or data.get("source") or data.get("path")
        if name is not None:
            extra = [str(data["split"])] if data.get("split") else []
            if "documents" in data:
                extra.append(f"{data['documents']} docs")
            return f"{name} ({', '.join(extra)})" if extra else str(name)
    return json.dumps(data, sort_keys=True)


def _base_encoder(metrics: dict, config: dict) -> str:
    return str(_get(metrics, "model", "base_encoder") or _get(config, "model", "encoder")
               or _get(config, "base_encoder") or "–")


# --------------------------------------------------------------- comparison

def _comparison_rows(runs: list[tuple[dict, dict]]) -> list[tuple[str, list[str]]]:
    rows = [("base encoder", [_base_encoder(m, c) for m, c in runs])]
    if any("data" in m for m, _ in runs):
        rows.append(("evaluated on", [describe_data(m.get("data")) for m, _ in runs]))
    strict = [m.get("layers", {}) for m, _ in runs]
    overlap = [m.get("overlap", {}) for m, _ in runs]
    for layer in _union(list(s) + list(o) for s, o in zip(strict, overlap)):
        labels = _union([l for l in s.get(layer, {}) if l not in AVERAGES] for s in strict)
        for label in labels:
            rows.append((f"{layer} / {label} strict F1", [_fmt(_get(s, layer, label, "f1")) for s in strict]))
        rows.append((f"{layer} / micro strict F1", [_fmt(_get(s, layer, "micro", "f1")) for s in strict]))
        rows.append((f"{layer} / micro overlap F1", [_fmt(_get(o, layer, "micro", "f1")) for o in overlap]))
    rows.append(("attribution F1", [_fmt(_get(m, "attributions", "f1")) for m, _ in runs]))
    rows.append(("stance accuracy", [_fmt(_get(m, "stance", "accuracy")) for m, _ in runs]))
    rows.append(("stance macro-F1", [_fmt(_get(m, "stance", "macro_f1")) for m, _ in runs]))
    if any("stance_on_gold_cues" in m for m, _ in runs):
        rows.append(("stance accuracy at gold cues",
                     [_fmt(_get(m, "stance_on_gold_cues", "accuracy")) for m, _ in runs]))
        rows.append(("stance macro-F1 at gold cues",
                     [_fmt(_get(m, "stance_on_gold_cues", "macro_f1")) for m, _ in runs]))
    return rows


def compare_runs(run_dirs: Sequence[str | Path], metrics_name: str = "metrics.json") -> str:
    """A markdown table with one column per run (header = run directory name)."""
    run_dirs = [Path(r) for r in run_dirs]
    if not run_dirs:
        raise WhosaidError("no run directories to compare")
    runs = [load_run(r, metrics_name) for r in run_dirs]
    names = _column_names(run_dirs)
    lines = ["| metric | " + " | ".join(_cell(n) for n in names) + " |",
             "| --- | " + " | ".join("---:" for _ in names) + " |"]
    for title, values in _comparison_rows(runs):
        lines.append(f"| {_cell(title)} | " + " | ".join(_cell(v) for v in values) + " |")
    return "\n".join(lines) + "\n"


def plot_comparison(run_dirs: Sequence[str | Path], png_path: str | Path,
                    metrics_name: str = "metrics.json") -> Path:
    """Grouped bar chart of strict F1 per layer/label, one bar per run; written atomically."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    run_dirs = [Path(r) for r in run_dirs]
    if not run_dirs:
        raise WhosaidError("no run directories to compare")
    metrics = [load_run(r, metrics_name)[0].get("layers", {}) for r in run_dirs]
    groups = [(layer, label) for layer in _union(metrics)
              for label in _union([l for l in m.get(layer, {}) if l not in AVERAGES] for m in metrics)]
    names = _column_names(run_dirs)
    fig = Figure(figsize=(max(6.0, 0.9 * len(groups) * max(1, len(names)) ** 0.5 + 2), 4.5),
                 layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    width = 0.8 / len(names)
    for i, (name, m) in enumerate(zip(names, metrics)):
        xs = [g + (i - (len(names) - 1) / 2) * width for g in range(len(groups))]
        ys = [_get(m, layer, label, "f1") or 0.0 for layer, label in groups]
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


def compare_main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="whosaid compare", description="Side-by-side metrics of several runs.")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run directories holding metrics.json")
    p.add_argument("--output", help="also write the markdown table here (atomically)")
    p.add_argument("--chart", default="comparison.png", help="bar chart PNG (default: comparison.png)")
    p.add_argument("--metrics-name", default="metrics.json", help="metrics file name inside each run")
    args = p.parse_args(argv)
    try:
        table = compare_runs(args.runs, args.metrics_name)
        print(table, end="")
        if args.output:
            write_text_atomic(args.output, table)
            print(f"table written to {args.output}", file=sys.stderr)
        plot_comparison(args.runs, args.chart, args.metrics_name)
        print(f"chart written to {args.chart}", file=sys.stderr)
    except WhosaidError as exc:
        print(f"whosaid compare: error: {exc}", file=sys.stderr)
        return 2
    return 0


# --------------------------------------------------------------- model card

def metrics_markdown(metrics: dict, heading: str = "###") -> str:
    """Markdown tables of a metrics dict: per layer and label strict and overlap
    P/R/F1 with gold support, then attribution-level and stance scores."""
    out: list[str] = []
    strict_all, overlap_all = metrics.get("layers", {}), metrics.get("overlap", {})
    for layer in _union([strict_all, overlap_all]):
        strict, over = strict_all.get(layer, {}), overlap_all.get(layer, {})
        labels = _union([[l for l in strict if l not in AVERAGES], [l for l in over if l not in AVERAGES]])
        out += [f"{heading} Layer `{layer}`", "",
                "| label | strict P | strict R | strict F1 | overlap P | overlap R | overlap F1 | support |",
                "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for label in labels + list(AVERAGES):
            s, o = strict.get(label, {}), over.get(label, {})
            support = s.get("support", o.get("support", "–"))
            cells = [_fmt(s.get(k)) for k in ("precision", "recall", "f1")]
            cells += [_fmt(o.get(k)) for k in ("precision", "recall", "f1")]
            name = f"*{label}*" if label in AVERAGES else _cell(label)
            out.append(f"| {name} | " + " | ".join(cells) + f" | {support} |")
        out.append("")
    a = metrics.get("attributions")
    if a:
        out += [f"{heading} Attributions", "",
                "An attribution is found when its cue, speaker and some content overlap a gold "
                "attribution's (one-to-one matching).", "",
                "| precision | recall | F1 | gold attributions |", "| ---: | ---: | ---: | ---: |",
                f"| {_fmt(a.get('precision'))} | {_fmt(a.get('recall'))} | {_fmt(a.get('f1'))} "
                f"| {a.get('support', '–')} |", ""]
    stance_rows = [(title, metrics[key]) for key, title in
                   (("stance", "on matched attributions"), ("stance_on_gold_cues", "at gold cues"))
                   if metrics.get(key)]
    if stance_rows:
        out += [f"{heading} Stance", "", "| scored | accuracy | macro-F1 | pairs |",
                "| --- | ---: | ---: | ---: |"]
        out += [f"| {t} | {_fmt(s.get('accuracy'))} | {_fmt(s.get('macro_f1'))} | {s.get('support', '–')} |"
                for t, s in stance_rows]
        out.append("")
    return "\n".join(out)


def _duration(seconds) -> str:
    if not isinstance(seconds, (int, float)):
        return str(seconds)
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h} h {m:02d} min" if h else f"{m} min {s:02d} s" if m else f"{s} s"


def _provenance(item: dict) -> str:
    """Per layer "gold"/"silver": from `provenance` ({layer: kind}) or from the
    document counts in `layers` ({layer: {kind: n}}) that corpus.describe writes."""
    prov = item.get("provenance")
    if isinstance(prov, dict) and prov:
        return "; ".join(f"{layer}: {kind}" for layer, kind in prov.items())
    layers = item.get("layers")
    if isinstance(layers, dict) and layers:
        parts = []
        for layer, kinds in layers.items():
            if isinstance(kinds, dict):
                parts.append(f"{layer}: " + ", ".join(f"{k} ({n} docs)" for k, n in kinds.items()))
            else:
                parts.append(f"{layer}: {kinds}")
        return "; ".join(parts)
    return "–"


def _silver_layers(data: list[dict]) -> list[str]:
    out = []
    for item in data:
        prov = item.get("provenance") if isinstance(item.get("provenance"), dict) else {}
        out += [l for l, k in prov.items() if k == "silver"]
        layers = item.get("layers") if isinstance(item.get("layers"), dict) else {}
        out += [l for l, k in layers.items() if isinstance(k, dict) and k.get("silver")]
    return _union([out])


def _setting(value) -> str:
    if isinstance(value, (dict, list)):
        return f"`{json.dumps(value, sort_keys=True)}`"
    return _cell(value)


def render_model_card(info: dict, metrics: dict | None) -> str:
    """The model card (markdown) of a trained run: what the model is for, what it
    was trained on, how well it does, where it fails and how to rebuild it."""
    name = info["name"]
    encoder = info.get("base_encoder") or "–"
    schema = info.get("schema") or {}
    data = [d for d in info.get("data") or [] if isinstance(d, dict)]
    dev = [d for d in data if d.get("role") == "dev"]
    lines = [f"# Model card: {name}", ""]

    # summary
    layer_list = "; ".join(f"`{layer}` ({', '.join(labels)})" for layer, labels in schema.items())
    summary = (f"`{name}` is a token-classification model for English news articles that marks who said "
               f"what (speaker, cue, content), which numeric figures are stated and which stance each "
               f"speaker takes. It fine-tunes `{encoder}` with one classification head per annotation layer")
    summary += f": {layer_list}." if layer_list else "."
    facts = [f"trained on {info['date']}" if info.get("date") else "",
             f"in {_duration(info['duration_s'])}" if info.get("duration_s") is not None else "",
             f"on {info['machine']}" if info.get("machine") else ""]
    facts = " ".join(f for f in facts if f)
    lines += ["## Summary", "", summary + (f" It was {facts}." if facts else ""), ""]
    if metrics and metrics.get("layers"):
        head = ", ".join(f"{layer} {_fmt(_get(rows, 'micro', 'f1'))}" for layer, rows in metrics["layers"].items())
        lines += [f"Strict micro F1 on the dev data: {head}.", ""]

    lines += ["## Intended use", "",
              "Finding who said what, with which stance, citing which figures, in English news text. "
              "It is meant as a tool for newsrooms, fact-checkers and researchers: it pre-annotates "
              "articles (for example as Label Studio predictions) and lists attribution records so that "
              "people find quotes, claims and numbers faster.", "",
              "Predictions are aids for human review, not verdicts: check every attribution, figure and "
              "stance against the article before relying on it. Do not use it to attribute statements "
              "to people automatically or to judge speakers without that review.", ""]

    lines += ["## Base encoder", "", f"`{encoder}`, fine-tuned end to end with a token-classification head "
              "per layer (IOB2 tags; a layer a document does not annotate is masked, not treated as empty).",
              ""]

    lines += ["## Training data", ""]
    if data:
        lines += ["| data | role | split | documents | words | attributions | provenance per layer |",
                  "| --- | --- | --- | ---: | ---: | ---: | --- |"]
        for d in data:
            cells = [d.get("name", d.get("path", "–")), d.get("role", "–"), d.get("split") or "–",
                     d.get("documents", "–"), d.get("words", "–"), d.get("attributions", "–"), _provenance(d)]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        lines += ["", "*gold*: annotated by people following the annotation guidelines (PolNeAR for "
                  "attributions); *silver*: produced by the project's rule-based labellers.", ""]
    else:
        lines += ["Not recorded.", ""]

    lines += ["## Training settings", ""]
    training = info.get("training") or {}
    if training:
        lines += ["| setting | value |", "| --- | --- |"]
        lines += [f"| {_cell(k)} | {_setting(v)} |" for k, v in training.items()]
        lines.append("")
    else:
        lines += ["Not recorded.", ""]

    lines += ["## Evaluation", ""]
    if metrics and (metrics.get("layers") or metrics.get("attributions")):
        on = describe_data(metrics["data"]) if metrics.get("data") else \
            (", ".join(describe_data(d) for d in dev) if dev else "the dev data")
        lines += [f"Evaluated on {on}, decoded with the same code path as predictions. *Strict*: a span "
                  "counts only with the exact label and the same word-token boundaries (seqeval, IOB2); "
                  "*overlap*: a predicted span counts when it overlaps an unmatched gold span of the same "
                  "label. Only layers a gold document annotates are scored on it.", ""]
        lines += [metrics_markdown(metrics)]
    else:
        lines += ["No evaluation was run (no dev data).", ""]

    silver = _silver_layers(data)
    lines += ["## Limitations", "",
              "- Trained and evaluated on English political and general news; other languages, genres "
              "(social media, transcripts, fiction) and domains will be worse.",
              "- The attribution layer comes mostly from PolNeAR: US national news about the 2016 "
              "election. Speakers, cues and topics outside that domain are less well covered.",
              "- Gold data for figures and stances is small, so their scores have wide uncertainty; "
              "rare labels may be missed entirely.",
              "- Nested attributions (a quote inside a quote) are not modelled; only the outer one is kept.",
              "- Stance is a judgement about the speaker in context; the model sees a limited window of "
              "text and can confuse reporting with taking a side."]
    if silver:
        lines.append(f"- Silver labels for {', '.join(silver)} come from rule-based labellers: the model "
                     "learns their systematic errors, and scores on silver data overstate quality.")
    else:
        lines.append("- Where silver (rule-based) labels are used for training, the model learns their "
                     "systematic errors.")
    lines.append("")

    lines += ["## How to reproduce", ""]
    if info.get("command"):
        lines += ["```bash", str(info["command"]), "```"]
        if info.get("machine"):
            lines += ["", f"Original machine: {info['machine']}."]
    else:
        lines += ["The command was not recorded."]
    return "\n".join(lines).rstrip("\n") + "\n"
