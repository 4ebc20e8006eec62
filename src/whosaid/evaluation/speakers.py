"""How often is the speaker entity right? (`whosaid speakers-eval`)

On documents with gold speaker-entity decisions (PolNeAR overlays with "entities",
Label Studio exports with the `entity` field), it reports the accuracy of
`speaker_entity` on the gold attributions that have a speaker, overall and by the
speaker's kind:

- name: the speaker span is (or has as its head) a name ("Sen. Ted Cruz", "Cruz");
- pronoun: "he", "she", "it", "they", "I", "who" ...;
- description: any other speaker with an entity ("the senator", "The alliance");
- none: the gold says the speaker has no entity (unnamed groups, documents, ...).

(a) `gold_spans`: the resolver run on the gold attributions (gold speaker spans);
(b) `end_to_end` (with a model): the model's attributions, each gold attribution
matched to the predicted one whose cue overlaps its cue most; accuracy on the
matched ones, and how many were matched.

A prediction is right when both say "no entity", or both name an entity and the
texts agree after normalisation (case, white space, apostrophes, a leading "the"
and a trailing possessive are ignored: "The Washington Post" = "Washington Post").
`components` (with `ablation`) is the gold-spans accuracy with each part of the
resolver switched off; `timing` the resolver's seconds on every document of the
source (gold attribution spans as input).
"""

from __future__ import annotations

import re
import time
from dataclasses import replace

from whosaid.documents import Document, EntityMention
from whosaid.errors import WhosaidError

KINDS = ("name", "pronoun", "description", "none")


def normalise(text: str) -> str:
    text = re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("’", "'")).strip()
    text = re.sub(r"^the\s+", "", text, flags=re.I)
    text = re.sub(r"(?:'s|')$", "", text)
    return text.strip(" .,;:").casefold()


def same_entity(predicted: EntityMention | None, gold: EntityMention | None) -> bool:
    if predicted is None or gold is None:
        return predicted is None and gold is None
    return normalise(predicted.text) == normalise(gold.text)


def decided(docs: list[Document]) -> list[Document]:
    """The documents whose speaker entities are decided by people."""
    return [d for d in docs if d.metadata.get("speaker_entities") == "gold"]


def _spans(doc: Document):
    return ([[(s.start, s.end) for s in a.speakers] for a in doc.attributions],
            [[(s.start, s.end) for s in a.contents] for a in doc.attributions])


def _tally(rows: list[tuple[str, bool]]) -> dict:
    def acc(items):
        n = len(items)
        ok = sum(1 for _, good in items if good)
        return {"n": n, "correct": ok, "accuracy": round(ok / n, 4) if n else None}

    return {**acc(rows), "by_kind": {k: acc([r for r in rows if r[0] == k]) for k in KINDS}}


def gold_spans(docs: list[Document], options=None, errors: int = 0) -> tuple[dict, dict]:
    """Accuracy with the gold attributions as input; and each gold attribution's kind
    by (document id, attribution index)."""
    from whosaid.records.speakers import resolve_speakers

    rows, kinds, mistakes = [], {}, []
    for doc in docs:
        speakers, contents = _spans(doc)
        res = resolve_speakers(doc.text, speakers, contents, options)
        for i, a in enumerate(doc.attributions):
            if not a.speakers:
                continue
            gold = a.speaker_entity
            kind = "none" if gold is None else res.speakers[i].kind
            kind = kind if kind in KINDS and (kind != "none" or gold is None) else "description"
            m = res.entity_of(i)
            predicted = None if m is None else EntityMention(m.text, m.start, m.end)
            good = same_entity(predicted, gold)
            rows.append((kind, good))
            kinds[(doc.id, i)] = kind
            if not good and len(mistakes) < errors:
                sp = a.speakers[0]
                mistakes.append({"document": doc.id, "speaker": doc.text[sp.start:sp.end], "at": sp.start,
                                 "kind": kind, "gold": None if gold is None else gold.text,
                                 "predicted": None if predicted is None else predicted.text,
                                 "rule": res.speakers[i].rule})
    out = _tally(rows)
    if errors:
        out["errors"] = mistakes
    return out, kinds


def _overlap(a, b) -> int:
    return sum(max(0, min(x.end, y.end) - max(x.start, y.start)) for x in a.cues for y in b.cues)


def end_to_end(gold_docs: list[Document], predicted_docs: list[Document], kinds: dict) -> dict:
    """Accuracy of the predicted attributions' speaker entities, each gold attribution
    (with a speaker) matched to the predicted attribution whose cue overlaps its cue most."""
    rows, gold_n = [], 0
    for gold, pred in zip(gold_docs, predicted_docs):
        for i, a in enumerate(gold.attributions):
            if not a.speakers:
                continue
            gold_n += 1
            best = max(pred.attributions, key=lambda p: _overlap(a, p), default=None)
            if best is None or _overlap(a, best) == 0:
                continue
            rows.append((kinds.get((gold.id, i), "description"), same_entity(best.speaker_entity, a.speaker_entity)))
    out = _tally(rows)
    out["gold"] = gold_n
    out["matched"] = len(rows)
    out["accuracy_of_gold"] = round(out["correct"] / gold_n, 4) if gold_n else None
    return out


def ablation(docs: list[Document]) -> dict:
    """Gold-spans accuracy (overall and on pronouns) with each component switched off."""
    from whosaid.records.speakers import COMPONENTS, ResolverOptions

    out = {}
    for component in ("all",) + COMPONENTS:
        options = ResolverOptions() if component == "all" else ResolverOptions().without(component)
        r, _ = gold_spans(docs, options)
        out[component if component == "all" else f"without {component}"] = {
            "accuracy": r["accuracy"], "pronoun": r["by_kind"]["pronoun"]["accuracy"],
            "description": r["by_kind"]["description"]["accuracy"], "name": r["by_kind"]["name"]["accuracy"],
            "none": r["by_kind"]["none"]["accuracy"]}
    return out


def resolver_seconds(docs: list[Document]) -> dict:
    """Seconds the resolver takes on every document (its attribution spans as input)."""
    from whosaid.records.speakers import resolve_speakers

    inputs = [(d.text, *_spans(d)) for d in docs]
    started = time.perf_counter()
    cpu = time.process_time()
    for text, speakers, contents in inputs:
        resolve_speakers(text, speakers, contents)
    return {"documents": len(docs), "characters": sum(len(d.text) for d in docs),
            "attributions": sum(len(d.attributions) for d in docs),
            "seconds": round(time.perf_counter() - started, 3), "cpu_seconds": round(time.process_time() - cpu, 3)}


def speakers_eval(source: str, *, split: str | None = None, polnear: str | None = None,
                  overlays: str | None = "data/polnear-gold", predictor=None, model_name: str | None = None,
                  with_ablation: bool = False, errors: int = 0) -> dict:
    """Speaker-entity accuracy on the documents of `source` that have gold entities
    (see the module docstring); with a `Predictor`, also end to end and timed."""
    from whosaid.evaluation.evaluate import load_gold
    from whosaid.records.records import resolve_document_speakers

    docs, _ = load_gold(source, split=split, polnear=polnear, overlays=overlays)
    gold = decided(docs)
    if not gold:
        raise WhosaidError(f"{source}: no document with gold speaker entities (PolNeAR overlays with "
                           "'entities' or a Label Studio export with the 'entity' field)")
    result: dict = {"data": {"source": str(source), "split": split, "documents": len(gold),
                             "attributions_with_speaker": sum(1 for d in gold for a in d.attributions if a.speakers)}}
    result["gold_spans"], kinds = gold_spans(gold, errors=errors)
    if with_ablation:
        result["components"] = ablation(gold)
    result["timing"] = resolver_seconds(docs)
    if predictor is not None:
        was = getattr(predictor, "resolve_speakers", True)
        predictor.resolve_speakers = False   # time the model and the resolver apart
        try:
            started, cpu = time.perf_counter(), time.process_time()
            predicted = predictor.predict_documents([replace(d, speakers=()) for d in gold], progress=False)
            model_seconds, model_cpu = time.perf_counter() - started, time.process_time() - cpu
        finally:
            predictor.resolve_speakers = was
        started, cpu = time.perf_counter(), time.process_time()
        predicted = [resolve_document_speakers(d) for d in predicted]
        resolve_seconds, resolve_cpu = time.perf_counter() - started, time.process_time() - cpu
        result["end_to_end"] = end_to_end(gold, predicted, kinds)
        result["end_to_end"]["model"] = model_name
        result["end_to_end"]["timing"] = {
            "predict_seconds": round(model_seconds, 3), "resolve_seconds": round(resolve_seconds, 3),
            "predict_cpu_seconds": round(model_cpu, 3), "resolve_cpu_seconds": round(resolve_cpu, 3),
            "resolve_share_of_predict": round(resolve_seconds / model_seconds, 4) if model_seconds else None}
    return result


def format_speakers(result: dict) -> str:
    def row(name: str, r: dict) -> str:
        cells = [f"{r['accuracy']:.3f} ({r['correct']}/{r['n']})" if r["n"] else "–"]
        for k in KINDS:
            b = r["by_kind"][k]
            cells.append(f"{b['accuracy']:.3f} ({b['correct']}/{b['n']})" if b["n"] else "–")
        return f"| {name} | " + " | ".join(cells) + " |"

    lines = ["| input | all | name | pronoun | description | none |", "|---|---|---|---|---|---|",
             row("gold attribution spans", result["gold_spans"])]
    if "end_to_end" in result:
        e = result["end_to_end"]
        lines.append(row(f"end to end (matched {e['matched']}/{e['gold']})", e))
    d = result["data"]
    lines.append(f"\n{d['documents']} documents with gold speaker entities ({d['source']}), "
                 f"{d['attributions_with_speaker']} attributions with a speaker.")
    t = result["timing"]
    lines.append(f"Resolver alone: {t['seconds']:.2f} s ({t['cpu_seconds']:.2f} s CPU) on all {t['documents']} "
                 f"documents of the source ({t['characters']:,} characters, {t['attributions']} attributions).")
    if "end_to_end" in result:
        tt = result["end_to_end"]["timing"]
        share = tt["resolve_share_of_predict"]
        lines.append(f"Prediction: model {tt['predict_seconds']:.2f} s, speaker resolution "
                     f"{tt['resolve_seconds']:.2f} s (+{100 * share:.1f}%)." if share is not None else "")
    if "components" in result:
        lines += ["", "| resolver | all | name | pronoun | description | none |", "|---|---|---|---|---|---|"]
        for name, r in result["components"].items():
            lines.append(f"| {name} | " + " | ".join(
                "–" if r[k] is None else f"{r[k]:.3f}" for k in ("accuracy", "name", "pronoun", "description", "none"))
                + " |")
    for m in result["gold_spans"].get("errors", []):
        lines.append(f"  {m['document']} @{m['at']} {m['speaker']!r} ({m['kind']}, {m['rule']}): "
                     f"gold {m['gold']!r}, predicted {m['predicted']!r}")
    return "\n".join(lines)
