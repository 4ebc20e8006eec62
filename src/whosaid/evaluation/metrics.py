"""Evaluation metrics: strict and overlap span scores per layer and label,
attribution-level matching and stance accuracy.

Gold and predicted documents are paired by `Document.id`. Only the layers a gold
document annotates (`Document.layers`) are scored on it: a layer it does not
annotate is unknown, so predictions there are neither right nor wrong. A layer no
gold document annotates is left out of the result (not reported with support 0).

The result is an interface read by outside tools; its shape is fixed:

    {"layers":       {LAYER: {LABEL: PRFS, ..., "micro": PRFS, "macro": PRFS}},
     "overlap":      {same shape},
     "attributions": PRFS,
     "stance":       {"accuracy", "macro_f1", "support"}}

where PRFS = {"precision", "recall", "f1", "support"} (floats; support an int
count of gold items). Per-label entries exist for every label that occurs in the
gold or the predictions of the layer; "macro" is the mean over those labels.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Iterable, Sequence

from seqeval.metrics import classification_report
from seqeval.scheme import IOB2

from whosaid.documents import Attribution, Document, Span, stance_on, stance_spans
from whosaid.errors import AnnotationError
from whosaid.schema import ATTRIBUTION, STANCE, Schema

#: Word tokens used for strict scoring: a run of word characters or one symbol.
TOKEN_RE = re.compile(r"\w+|[^\w\s]")
#: Predicted stance label when no predicted stance span touches a gold cue.
NO_STANCE = "NONE"
MICRO, MACRO = "micro", "macro"


# --------------------------------------------------------------------- helpers

def _prfs(precision: float, recall: float, f1: float, support: int) -> dict:
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1),
            "support": int(support)}


def _prf_counts(tp: int, n_pred: int, n_gold: int) -> dict:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return _prfs(p, r, f, n_gold)


def _mean_prfs(rows: Sequence[dict]) -> dict:
    """Unweighted mean of per-label scores (macro average); support is summed."""
    if not rows:
        return _prfs(0.0, 0.0, 0.0, 0)
    n = len(rows)
    return _prfs(sum(r["precision"] for r in rows) / n, sum(r["recall"] for r in rows) / n,
                 sum(r["f1"] for r in rows) / n, sum(r["support"] for r in rows))


def _overlap(a: Span, b: Span) -> int:
    """Number of characters two spans share (0 if disjoint)."""
    return max(0, min(a.end, b.end) - max(a.start, b.start))


def _parts_overlap(a: Sequence[Span], b: Sequence[Span]) -> int:
    return sum(_overlap(x, y) for x in a for y in b)


def word_tokens(text: str) -> list[tuple[int, int]]:
    """Character offsets (start, end) of the word tokens strict scoring runs on."""
    return [m.span() for m in TOKEN_RE.finditer(text)]


def iob2_tags(tokens: Sequence[tuple[int, int]], spans: Iterable[Span]) -> list[str]:
    """IOB2 tags of `tokens` for the spans of one layer.

    A token takes a span's label if it overlaps the span; the first such token is
    B-, the rest I-. Spans are taken in offset order and a token already tagged
    keeps its first tag, so overlapping predictions cannot produce invalid IOB2.
    """
    tags = ["O"] * len(tokens)
    starts = [t[0] for t in tokens]
    ends = [t[1] for t in tokens]
    for span in sorted(spans, key=lambda s: (s.start, s.end, s.label)):
        first = True
        # tokens with end > span.start and start < span.end
        for i in range(bisect_right(ends, span.start), bisect_left(starts, span.end)):
            if tags[i] == "O":
                tags[i] = ("B-" if first else "I-") + span.label
                first = False
    return tags


def tagged_runs(gold: Sequence[str], pred: Sequence[str]) -> list[tuple[list[str], list[str]]]:
    """The maximal stretches where gold or pred tags a token, as separate sequences.

    Every entity starts with B- and none crosses a token that both sides tag O, so
    seqeval finds the same entities in the runs as in the whole document. Feeding it
    short runs matters: its strict mode is quadratic in the sequence length.
    """
    runs, start = [], None
    for i, (g, p) in enumerate(zip(gold, pred)):
        if g == "O" and p == "O":
            if start is not None:
                runs.append((list(gold[start:i]), list(pred[start:i])))
                start = None
        elif start is None:
            start = i
    if start is not None:
        runs.append((list(gold[start:]), list(pred[start:])))
    return runs


def overlapping_pairs(gold: Sequence[tuple[int, int]], pred: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Index pairs (g, p) of intervals (start, end) that overlap, without testing all pairs."""
    order = sorted(range(len(pred)), key=lambda j: pred[j][0])
    starts = [pred[j][0] for j in order]
    max_end, m = [], -1  # running max of ends in start order: stop scanning back below it
    for j in order:
        m = max(m, pred[j][1])
        max_end.append(m)
    out = []
    for g, (gs, ge) in enumerate(gold):
        k = bisect_left(starts, ge) - 1
        while k >= 0 and max_end[k] > gs:
            if pred[order[k]][1] > gs:
                out.append((g, order[k]))
            k -= 1
    return out


def greedy_match(n_gold: int, n_pred: int, score, candidates=None) -> list[tuple[int, int]]:
    """One-to-one matching: pairs with score > 0, largest score first, ties by
    (gold index, pred index) so the result is deterministic. `candidates` limits
    the (gold, pred) pairs scored (default: all)."""
    if candidates is None:
        candidates = ((g, p) for g in range(n_gold) for p in range(n_pred))
    pairs = [(score(g, p), g, p) for g, p in candidates]
    pairs = sorted((x for x in pairs if x[0] > 0), key=lambda x: (-x[0], x[1], x[2]))
    used_g, used_p, out = set(), set(), []
    for _, g, p in pairs:
        if g not in used_g and p not in used_p:
            used_g.add(g)
            used_p.add(p)
            out.append((g, p))
    return out


@dataclass(frozen=True)
class _Pair:
    gold: Document
    pred: Document


def _pair_documents(gold: Sequence[Document], pred: Sequence[Document]) -> list[_Pair]:
    """Pair documents by id. A gold document without a prediction is scored
    against an empty prediction; predictions without gold are ignored."""
    by_id: dict[str, Document] = {}
    for d in pred:
        if d.id in by_id:
            raise AnnotationError("duplicate document id in the predictions", task=d.id)
        by_id[d.id] = d
    seen, pairs = set(), []
    for g in gold:
        if g.id in seen:
            raise AnnotationError("duplicate document id in the gold data", task=g.id)
        seen.add(g.id)
        p = by_id.get(g.id)
        if p is None:
            p = Document(id=g.id, text=g.text)
        elif p.text != g.text:
            raise AnnotationError("predicted document text differs from the gold text",
                                  file=p.metadata.get("source"), task=g.id)
        pairs.append(_Pair(g, p))
    return pairs


def _check_labels(doc: Document, layer: str, spans: Iterable[Span], schema: Schema) -> list[Span]:
    spans = list(spans)
    for s in spans:
        schema.check(layer, s.label, file=doc.metadata.get("source"), task=doc.id, region=s.id)
    return spans


def _ordered_labels(schema: Schema, layer: str, present: Iterable[str]) -> list[str]:
    present = set(present)
    return [l for l in schema.layers[layer] if l in present]


# ------------------------------------------------------------------ span scores

def _strict_layer(pairs: list[_Pair], layer: str, schema: Schema) -> dict:
    y_true, y_pred = [], []
    for pair in pairs:
        tokens = word_tokens(pair.gold.text)
        gold = iob2_tags(tokens, _check_labels(pair.gold, layer, pair.gold.spans_in(layer), schema))
        pred = iob2_tags(tokens, _check_labels(pair.pred, layer, pair.pred.spans_in(layer), schema))
        for g, p in tagged_runs(gold, pred):
            y_true.append(g)
            y_pred.append(p)
    labels = {t[2:] for seq in y_true + y_pred for t in seq if t != "O"}
    out: dict = {}
    if not labels:  # seqeval's macro average is NaN without entities
        out[MICRO] = out[MACRO] = _prfs(0.0, 0.0, 0.0, 0)
        return out
    report = classification_report(y_true, y_pred, mode="strict", scheme=IOB2,
                                    output_dict=True, zero_division=0)
    for label in _ordered_labels(schema, layer, labels):
        r = report[label]
        out[label] = _prfs(r["precision"], r["recall"], r["f1-score"], r["support"])
    for key, name in ((MICRO, "micro avg"), (MACRO, "macro avg")):
        r = report[name]
        out[key] = _prfs(r["precision"], r["recall"], r["f1-score"], r["support"])
    return out


def _overlap_layer(pairs: list[_Pair], layer: str, schema: Schema) -> dict:
    counts: dict[str, list[int]] = {}  # label -> [tp, n_pred, n_gold]
    for pair in pairs:
        gold = _check_labels(pair.gold, layer, pair.gold.spans_in(layer), schema)
        pred = _check_labels(pair.pred, layer, pair.pred.spans_in(layer), schema)
        for label in {s.label for s in gold + pred}:
            g = [s for s in gold if s.label == label]
            p = [s for s in pred if s.label == label]
            candidates = overlapping_pairs([(s.start, s.end) for s in g], [(s.start, s.end) for s in p])
            tp = len(greedy_match(len(g), len(p), lambda i, j: _overlap(g[i], p[j]), candidates))
            c = counts.setdefault(label, [0, 0, 0])
            c[0] += tp
            c[1] += len(p)
            c[2] += len(g)
    out = {label: _prf_counts(*counts[label]) for label in _ordered_labels(schema, layer, counts)}
    rows = list(out.values())
    out[MICRO] = _prf_counts(*(sum(c[i] for c in counts.values()) for i in range(3)))
    out[MACRO] = _mean_prfs(rows)
    return out


# ----------------------------------------------------------- attribution level

def _same_part(gold: Sequence[Span], pred: Sequence[Span]) -> int:
    """Overlap in characters of two parts, 1 when both are absent, 0 on a miss."""
    if not gold and not pred:
        return 1
    return _parts_overlap(gold, pred)


def attribution_score(gold: Attribution, pred: Attribution) -> int:
    """> 0 when `pred` matches `gold`: cues overlap, speakers overlap (or both have
    none) and some content overlaps (or both have none). The value, the total
    overlap in characters, orders the greedy one-to-one matching."""
    total = 0
    for g, p in ((gold.cues, pred.cues), (gold.speakers, pred.speakers), (gold.contents, pred.contents)):
        part = _same_part(g, p)
        if not part:
            return 0
        total += part
    return total


def _cue_envelope(a: Attribution) -> tuple[int, int]:
    """Interval covering the cue regions; (-1, -1) for none (never overlaps a cue)."""
    return (min(c.start for c in a.cues), max(c.end for c in a.cues)) if a.cues else (-1, -1)


def match_attributions(gold: Sequence[Attribution], pred: Sequence[Attribution]) -> list[tuple[int, int]]:
    """Greedy one-to-one matching of predicted to gold attributions (index pairs)."""
    candidates = overlapping_pairs([_cue_envelope(a) for a in gold], [_cue_envelope(a) for a in pred])
    candidates += [(g, p) for g, a in enumerate(gold) if not a.cues
                   for p, b in enumerate(pred) if not b.cues]
    return greedy_match(len(gold), len(pred), lambda i, j: attribution_score(gold[i], pred[j]), candidates)


def _stance_scores(y_true: list[str], y_pred: list[str]) -> dict:
    """Accuracy and macro-F1 over the stance labels seen in gold or predictions;
    NO_STANCE only ever counts as a wrong prediction, never as a class."""
    if not y_true:
        return {"accuracy": 0.0, "macro_f1": 0.0, "support": 0, "confusion": {}}
    from sklearn.metrics import f1_score

    labels = sorted((set(y_true) | set(y_pred)) - {NO_STANCE})
    accuracy = sum(t == p for t, p in zip(y_true, y_pred)) / len(y_true)
    macro = f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)
    confusion: dict[str, dict[str, int]] = {}
    for t, p in zip(y_true, y_pred):
        row = confusion.setdefault(t, {})
        row[p] = row.get(p, 0) + 1
    return {"accuracy": float(accuracy), "macro_f1": float(macro), "support": len(y_true),
            "confusion": {t: dict(sorted(r.items())) for t, r in sorted(confusion.items())}}


def stance_of_given_attributions(gold: Sequence[Document], judged: Sequence[Document]) -> dict:
    """Stance scored on the gold attributions themselves: `judged` holds the same documents
    and attributions (in the same order) with the stance a model gave each of them
    (`Predictor.predict_stances`); an attribution it left without stance counts as wrong."""
    y_true: list[str] = []
    y_pred: list[str] = []
    for g, j in zip(gold, judged):
        if STANCE not in g.layers:
            continue
        for a, b in zip(g.attributions, j.attributions):
            if a.stance is not None:
                y_true.append(a.stance)
                y_pred.append(b.stance if b.stance is not None else NO_STANCE)
    return _stance_scores(y_true, y_pred)


def _attribution_metrics(pairs: list[_Pair]) -> tuple[dict, dict]:
    tp = n_pred = n_gold = 0
    y_true: list[str] = []
    y_pred: list[str] = []
    for pair in pairs:
        if ATTRIBUTION not in pair.gold.layers:
            continue
        gold, pred = pair.gold.attributions, pair.pred.attributions
        matches = match_attributions(gold, pred)
        tp += len(matches)
        n_pred += len(pred)
        n_gold += len(gold)
        if STANCE in pair.gold.layers:
            for g, p in matches:
                if gold[g].stance is not None and pred[p].stance is not None:
                    y_true.append(gold[g].stance)
                    y_pred.append(pred[p].stance)
    return _prf_counts(tp, n_pred, n_gold), _stance_scores(y_true, y_pred)


def stance_on_gold_cues(gold: Sequence[Document], pred: Sequence[Document]) -> dict:
    """Stance scored at every gold cue, independently of attribution finding.

    For each gold attribution with a stance (documents annotating stance), the
    predicted stance is the label of the predicted stance-layer span overlapping
    its cue regions most (ties: the earliest span); no such span counts as wrong.
    Predictions without stance-layer spans fall back to their attributions' stances.
    """
    y_true: list[str] = []
    y_pred: list[str] = []
    for pair in _pair_documents(gold, pred):
        if STANCE not in pair.gold.layers:
            continue
        candidates = pair.pred.spans_in(STANCE) or sorted(
            stance_spans(pair.pred.attributions), key=lambda s: (s.start, s.end))
        for a in pair.gold.attributions:
            if a.stance is None:
                continue
            best = stance_on(a.cues, candidates)
            y_true.append(a.stance)
            y_pred.append(best.label if best is not None else NO_STANCE)
    return _stance_scores(y_true, y_pred)


# ------------------------------------------------------------------------ API

def compute_metrics(gold: list[Document], pred: list[Document], schema: Schema) -> dict:
    """All metrics of `pred` against `gold` (see the module docstring for the shape)."""
    pairs = _pair_documents(gold, pred)
    layers: dict = {}
    overlap: dict = {}
    for layer in schema.layers:
        scored = [p for p in pairs if layer in p.gold.layers]
        if not scored:
            continue
        layers[layer] = _strict_layer(scored, layer, schema)
        overlap[layer] = _overlap_layer(scored, layer, schema)
    attributions, stance = _attribution_metrics(pairs)
    return {"layers": layers, "overlap": overlap, "attributions": attributions, "stance": stance}


def _num(row: dict | None, key: str) -> str:
    return f"{row[key]:.3f}" if row and key in row else "    -"


def format_metrics(metrics: dict) -> str:
    """A plain-text table: per layer and label strict and overlap P/R/F1 side by
    side with the gold support, then attributions and stance."""
    lines: list[str] = []
    for key in ("model", "data"):
        if metrics.get(key) is not None:
            value = metrics[key]
            value = value if isinstance(value, str) else json.dumps(value, default=str)
            lines.append(f"{key + ':':6s} {value}")
    strict_all, overlap_all = metrics.get("layers", {}), metrics.get("overlap", {})
    head = f"{'':12s} {'strict':^20s}   {'overlap':^20s}"
    cols = f"{'label':12s} {'P':>6s} {'R':>6s} {'F1':>6s}   {'P':>6s} {'R':>6s} {'F1':>6s}  {'support':>7s}"
    for layer in list(strict_all) + [l for l in overlap_all if l not in strict_all]:
        strict, over = strict_all.get(layer, {}), overlap_all.get(layer, {})
        labels = [l for l in strict if l not in (MICRO, MACRO)]
        labels += [l for l in over if l not in labels and l not in (MICRO, MACRO)]
        lines += ["", f"layer {layer}", head, cols, "-" * len(cols)]
        for label in labels + [MICRO, MACRO]:
            s, o = strict.get(label), over.get(label)
            support = (s or o or {}).get("support")
            lines.append(f"{label:12s} {_num(s, 'precision'):>6s} {_num(s, 'recall'):>6s} {_num(s, 'f1'):>6s}"
                         f"   {_num(o, 'precision'):>6s} {_num(o, 'recall'):>6s} {_num(o, 'f1'):>6s}"
                         f"  {'-' if support is None else support:>7}")
    a = metrics.get("attributions")
    if a:
        lines += ["", f"attributions  P {a['precision']:.3f}  R {a['recall']:.3f}  F1 {a['f1']:.3f}"
                      f"  support {a['support']}"]
    stance = metrics.get("stance") or {}
    for title, st in (("stance (matched attributions)", stance),
                      ("stance (on gold attributions)", stance.get("on_gold_cues")),
                      ("stance (at gold cues)", metrics.get("stance_on_gold_cues"))):
        if st:
            lines.append(f"{title}  accuracy {st['accuracy']:.3f}  macro-F1 {st['macro_f1']:.3f}"
                         f"  support {st['support']}")
    if stance.get("confusion"):
        lines += ["", "stance confusion (rows gold, columns predicted; matched attributions)"]
        labels = sorted(set(stance["confusion"]) | {p for r in stance["confusion"].values() for p in r})
        lines.append(f"{'':10s}" + "".join(f"{l:>10s}" for l in labels))
        for g, row in stance["confusion"].items():
            lines.append(f"{g:10s}" + "".join(f"{row.get(l, 0):>10d}" for l in labels))
    return "\n".join(lines).lstrip("\n") + "\n"
