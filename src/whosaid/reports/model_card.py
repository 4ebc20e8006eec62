"""The model card written next to a trained model (`model_card.md`, `model/README.md`)."""

from __future__ import annotations

import json

from whosaid.reports.markdown import AVERAGES, cell, describe_data, dig, fmt, union


def metrics_markdown(metrics: dict, heading: str = "###") -> str:
    """Markdown tables of a metrics dict: per layer and label strict and overlap
    P/R/F1 with gold support, then attribution-level and stance scores."""
    out: list[str] = []
    strict_all, overlap_all = metrics.get("layers", {}), metrics.get("overlap", {})
    for layer in union([strict_all, overlap_all]):
        strict, over = strict_all.get(layer, {}), overlap_all.get(layer, {})
        labels = union([[l for l in strict if l not in AVERAGES], [l for l in over if l not in AVERAGES]])
        out += [f"{heading} Layer `{layer}`", "",
                "| label | strict P | strict R | strict F1 | overlap P | overlap R | overlap F1 | support |",
                "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for label in labels + list(AVERAGES):
            s, o = strict.get(label, {}), over.get(label, {})
            support = s.get("support", o.get("support", "–"))
            cells = [fmt(s.get(k)) for k in ("precision", "recall", "f1")]
            cells += [fmt(o.get(k)) for k in ("precision", "recall", "f1")]
            name = f"*{label}*" if label in AVERAGES else cell(label)
            out.append(f"| {name} | " + " | ".join(cells) + f" | {support} |")
        out.append("")
    a = metrics.get("attributions")
    if a:
        out += [f"{heading} Attributions", "",
                "An attribution is found when its cue, speaker and some content overlap a gold "
                "attribution's (one-to-one matching).", "",
                "| precision | recall | F1 | gold attributions |", "| ---: | ---: | ---: | ---: |",
                f"| {fmt(a.get('precision'))} | {fmt(a.get('recall'))} | {fmt(a.get('f1'))} "
                f"| {a.get('support', '–')} |", ""]
    stance_rows = [(title, metrics[key]) for key, title in
                   (("stance", "on matched attributions"), ("stance_on_gold_cues", "at gold cues"))
                   if metrics.get(key)]
    if stance_rows:
        out += [f"{heading} Stance", "", "| scored | accuracy | macro-F1 | pairs |",
                "| --- | ---: | ---: | ---: |"]
        out += [f"| {t} | {fmt(s.get('accuracy'))} | {fmt(s.get('macro_f1'))} | {s.get('support', '–')} |"
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
    return union([out])


def _setting(value) -> str:
    if isinstance(value, (dict, list)):
        return f"`{json.dumps(value, sort_keys=True)}`"
    return cell(value)


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
        head = ", ".join(f"{layer} {fmt(dig(rows, 'micro', 'f1'))}" for layer, rows in metrics["layers"].items())
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
            lines.append("| " + " | ".join(cell(c) for c in cells) + " |")
        lines += ["", "*gold*: annotated by people following the annotation guidelines (PolNeAR for "
                  "attributions); *silver*: produced by the project's rule-based labellers.", ""]
    else:
        lines += ["Not recorded.", ""]

    lines += ["## Training settings", ""]
    training = info.get("training") or {}
    if training:
        lines += ["| setting | value |", "| --- | --- |"]
        lines += [f"| {cell(k)} | {_setting(v)} |" for k, v in training.items()]
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
