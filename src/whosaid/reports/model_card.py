"""The model card written next to a trained model (`model_card.md`, `model/README.md`).

Built on `huggingface_hub.ModelCard` from the template `templates/model_card.md`, so
the card carries the YAML metadata a model hub reads (`base_model`, `library_name`,
`pipeline_tag: token-classification`, `language`, `license`, `datasets`, `metrics`
and a `model-index` with the dev scores) above the markdown a person reads. The card
describes the data actually used: where the attribution layer comes from, and when
the dev data is (partly) the training data, so the scores measure fit, not
generalisation.
"""

from __future__ import annotations

import json
from pathlib import Path

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


TEMPLATE = Path(__file__).with_name("templates") / "model_card.md"
LIBRARY = "whosaid"
PIPELINE_TAG = "token-classification"


def _is_polnear(item: dict) -> bool:
    return "polnear" in str(item.get("name", "")).lower()


def _dataset_names(data: list[dict]) -> list[str]:
    """`datasets` metadata: PolNeAR by its name, other sources by file name."""
    out = []
    for d in data:
        name = "PolNeAR" if _is_polnear(d) else Path(str(d.get("name") or d.get("path") or "")).name
        if name and name not in out:
            out.append(name)
    return out


def _overlap_note(info: dict, dev: list[dict], train: list[dict]) -> str | None:
    """A sentence when dev and train share documents (None when they do not, or when unknown)."""
    overlap = info.get("dev_in_train")
    if isinstance(overlap, dict) and overlap.get("dev_documents"):
        n, total = overlap.get("documents", 0), overlap["dev_documents"]
    else:  # older info: compare the sources' names
        names = {d.get("name") for d in train}
        shared = [d for d in dev if d.get("name") in names]
        if not shared:
            return None
        n, total = sum(d.get("documents", 0) or 0 for d in shared), sum(d.get("documents", 0) or 0 for d in dev)
    if not n:
        return None
    if n == total:
        return (f"**The dev data is the training data** ({'all ' if total > 1 else ''}{total} "
                f"document{'s' if total != 1 else ''}): these scores measure how well the model fits what "
                "it was trained on, not how well it does on new articles.")
    return (f"**{n} of the {total} dev documents are also training documents**: these scores overstate "
            "how well the model does on new articles.")


def _eval_results(name: str, metrics: dict | None, dev: list[dict], overlap: str | None) -> list:
    """model-index entries: strict micro F1 per layer, attribution F1, stance macro-F1."""
    from huggingface_hub import EvalResult

    if not metrics or not metrics.get("layers"):
        return []
    dataset = ", ".join(_dataset_names(dev)) or "dev"
    suffix = " (dev = training data)" if overlap else ""
    rows = [(f"{layer} strict micro F1{suffix}", dig(v, "micro", "f1")) for layer, v in metrics["layers"].items()]
    rows.append((f"attribution F1{suffix}", dig(metrics, "attributions", "f1")))
    rows.append((f"stance macro-F1 on matched attributions{suffix}", dig(metrics, "stance", "macro_f1")))
    return [EvalResult(task_type=PIPELINE_TAG, task_name="attribution, figure and stance tagging",
                       dataset_type=dataset, dataset_name=dataset, dataset_split="dev",
                       metric_type="f1", metric_name=title, metric_value=round(float(value), 4))
            for title, value in rows if isinstance(value, (int, float))]


def card_metadata(info: dict, metrics: dict | None, overlap: str | None = None):
    """The card's YAML metadata (`huggingface_hub.ModelCardData`)."""
    from huggingface_hub import ModelCardData

    data = [d for d in info.get("data") or [] if isinstance(d, dict)]
    dev = [d for d in data if d.get("role") == "dev"]
    results = _eval_results(info["name"], metrics, dev, overlap)
    return ModelCardData(
        base_model=info.get("base_model") or None,
        library_name=LIBRARY,
        pipeline_tag=PIPELINE_TAG,
        language=info.get("language") or ["en"],
        license=info.get("license") or "other",
        datasets=_dataset_names(data) or None,
        metrics=["f1", "precision", "recall"] if results else None,
        tags=["attribution", "quotes", "stance", "news"],
        model_name=info["name"] if results else None,
        eval_results=results or None,
    )


def render_model_card(info: dict, metrics: dict | None) -> str:
    """The model card (YAML metadata + markdown) of a trained run: what the model is for,
    what it was trained on, how well it does, where it fails and how to rebuild it."""
    from huggingface_hub import ModelCard

    name = info["name"]
    encoder = info.get("base_encoder") or "–"
    schema = info.get("schema") or {}
    data = [d for d in info.get("data") or [] if isinstance(d, dict)]
    dev = [d for d in data if d.get("role") == "dev"]
    train = [d for d in data if d.get("role") == "train"]
    overlap = _overlap_note(info, dev, train)

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
    summary += f" It was {facts}." if facts else ""
    if train:
        docs = sum(d.get("documents", 0) or 0 for d in train)
        summary += (f" Training data: {', '.join(str(d.get('name', '–')) for d in train)} "
                    f"({docs} document{'s' if docs != 1 else ''}).")
    if metrics and metrics.get("layers"):
        head = ", ".join(f"{layer} {fmt(dig(rows, 'micro', 'f1'))}" for layer, rows in metrics["layers"].items())
        summary += f"\n\nStrict micro F1 on the dev data: {head}."
        if overlap:
            summary += " " + overlap

    base = (f"`{encoder}`, fine-tuned end to end with a token-classification head per layer (IOB2 tags; "
            "a layer a document does not annotate is masked, not treated as empty).")

    if data:
        rows = ["| data | role | split | documents | words | attributions | provenance per layer |",
                "| --- | --- | --- | ---: | ---: | ---: | --- |"]
        for d in data:
            cells = [d.get("name", d.get("path", "–")), d.get("role", "–"), d.get("split") or "–",
                     d.get("documents", "–"), d.get("words", "–"), d.get("attributions", "–"), _provenance(d)]
            rows.append("| " + " | ".join(cell(c) for c in cells) + " |")
        guidelines = " (PolNeAR's for attributions)" if any(_is_polnear(d) for d in data) else ""
        rows += ["", f"*gold*: annotated by people following the annotation guidelines{guidelines}; "
                 "*silver*: produced by the project's rule-based labellers."]
        if overlap:
            rows += ["", overlap]
        training_data = "\n".join(rows)
    else:
        training_data = "Not recorded."

    training = info.get("training") or {}
    if training:
        training_settings = "\n".join(["| setting | value |", "| --- | --- |"] +
                                      [f"| {cell(k)} | {_setting(v)} |" for k, v in training.items()])
    else:
        training_settings = "Not recorded."

    if metrics and (metrics.get("layers") or metrics.get("attributions")):
        on = describe_data(metrics["data"]) if metrics.get("data") else \
            (", ".join(describe_data(d) for d in dev) if dev else "the dev data")
        evaluation = (f"Evaluated on {on}, decoded with the same code path as predictions. "
                      + (overlap + " " if overlap else "") +
                      "*Strict*: a span counts only with the exact label and the same word-token boundaries "
                      "(seqeval, IOB2); *overlap*: a predicted span counts when it overlaps an unmatched gold "
                      "span of the same label. Only layers a gold document annotates are scored on it.\n\n"
                      + metrics_markdown(metrics).rstrip("\n"))
    else:
        evaluation = "No evaluation was run (no dev data)."

    silver = _silver_layers(data)
    limits = ["- Trained and evaluated on English news; other languages, genres (social media, "
              "transcripts, fiction) and domains will be worse."]
    if any(_is_polnear(d) for d in train):
        limits.append("- The attribution layer comes mostly from PolNeAR: US national news about the 2016 "
                      "election. Speakers, cues and topics outside that domain are less well covered.")
    elif train:
        docs = sum(d.get("documents", 0) or 0 for d in train)
        limits.append(f"- All layers are learnt from {docs} document{'s' if docs != 1 else ''} "
                      f"({', '.join(str(d.get('name', '–')) for d in train)}): far too little to generalise; "
                      "expect it to miss speakers, cues and topics that data does not show.")
    limits += ["- Gold data for figures and stances is small, so their scores have wide uncertainty; "
               "rare labels may be missed entirely.",
               "- Nested attributions (a quote inside a quote) are not modelled; only the outer one is kept.",
               "- Stance is a judgement about the speaker in context; the model sees a limited window of "
               "text and can confuse reporting with taking a side."]
    if silver:
        limits.append(f"- Silver labels for {', '.join(silver)} come from rule-based labellers: the model "
                      "learns their systematic errors, and scores on silver data overstate quality.")
    else:
        limits.append("- Where silver (rule-based) labels are used for training, the model learns their "
                      "systematic errors.")
    if overlap:
        limits.append("- The dev scores above are measured on training data and say little about new articles.")

    if info.get("command"):
        reproduce = "```bash\n" + str(info["command"]) + "\n```"
        if info.get("machine"):
            reproduce += f"\n\nOriginal machine: {info['machine']}."
    else:
        reproduce = "The command was not recorded."

    card = ModelCard.from_template(
        card_metadata(info, metrics, overlap), template_path=str(TEMPLATE),
        name=name, summary=summary, base_encoder=base, training_data=training_data,
        training_settings=training_settings, evaluation=evaluation, limitations="\n".join(limits),
        reproduce=reproduce)
    return str(card).rstrip("\n") + "\n"
