"""Error analysis of one span label (by default attribution CONTENT): which kind of
mistake a model makes on the gold spans, and where its wrong edges fall.

Spans are compared on the word tokens strict scoring runs on (`metrics.word_tokens`:
a run of word characters or one symbol), so "exact" here is exactly a strict-F1 hit.
Each gold span of the label is put in one class against the predicted spans of the
same label in the same document:

* **exact**     one predicted span overlaps it, over the same tokens;
* **boundary**  one predicted span overlaps it and that span overlaps no other gold
  span, but an edge differs. Sub-classes: `start_early` (the prediction starts before
  the gold span), `start_late`, `end_early` (it ends before the gold end), `end_late`,
  or `both` edges wrong (`both_combinations` says which way each);
* **split**     two or more predicted spans overlap it (one gold covered by pieces);
* **merged**    one predicted span overlaps it and that span overlaps other gold spans too;
* **missed**    no predicted span overlaps it.

A predicted span that overlaps no gold span is **spurious** (its share is of the
predictions). Class shares are of the gold spans.

Where the boundary errors happen: for every wrong edge of a boundary error, the
distance between the predicted and the gold edge (in tokens, and in words: tokens with
a word character, so 0 words means the edges differ by punctuation only, e.g. a
quotation mark or a comma), and what lies at the predicted and at the gold edge. An
edge's *zone* is the edge widened over the punctuation tokens that touch it; the edge is

* `sentence`  at a sentence boundary: a sentence starts at a position of the zone (after
  `.`, `!` or `?` and optional closing quotes or brackets, before a capital, a digit or
  an opening quote, not after a common abbreviation or an initial), or at a line break,
  or at the start or end of the text;
* `quote`     a quotation mark is in the zone;
* `seam`      a window edge of the model (`window_seams`: where one of the Predictor's
  overlapping windows starts or ends) falls in the zone or in the word on either side;
* `cue`       a cue span (gold or predicted, `cue_label`) touches or covers the zone;
* `none`      none of these.

An edge can be at several places at once, so those shares can add up to more than 1.
The same places are reported for the gaps of split spans (between consecutive
predicted pieces) and of merged spans (between the gold spans one prediction covers),
and, when window seams are given, the classes of the gold spans that cross a seam.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

from whosaid.documents import Document, Span
from whosaid.errors import AnnotationError
from whosaid.evaluation.metrics import word_tokens
from whosaid.schema import ATTRIBUTION, CONTENT, CUE

CLASSES = ("exact", "boundary", "split", "merged", "missed")
BOUNDARY_KINDS = ("start_early", "start_late", "end_early", "end_late", "both")
EDGE_KINDS = ("start_early", "start_late", "end_early", "end_late")
PLACES = ("sentence", "quote", "seam", "cue", "none")
DISTANCE_BINS = ("0", "1", "2", "3-5", "6-10", "11-20", ">20")

_WORD = re.compile(r"\w")
_QUOTES = set('"“”„«»‹›`') | set("'‘’‚")
_SENTENCE_END = set(".!?")
_CLOSERS = set('"”’\')]}»›')
_OPENERS = set('"“‘\'([{«‹')
_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "sen", "rep", "gov", "gen", "lt", "col", "sgt", "capt", "st",
                  "jr", "sr", "inc", "co", "corp", "ltd", "vs", "no", "prof", "rev", "jan", "feb", "aug",
                  "sept", "sep", "oct", "nov", "dec", "mt", "ft", "pres", "atty", "supt", "messrs"}


# ------------------------------------------------------------------ text context


@dataclass
class _Text:
    """Word tokens of one document and what each token boundary is next to."""

    text: str
    tokens: list[tuple[int, int]]
    starts: list[int] = field(init=False)
    ends: list[int] = field(init=False)
    is_word: list[bool] = field(init=False)
    sentence_starts: set[int] = field(init=False)

    def __post_init__(self):
        self.starts = [s for s, _ in self.tokens]
        self.ends = [e for _, e in self.tokens]
        self.is_word = [bool(_WORD.search(self.text[s:e])) for s, e in self.tokens]
        self.sentence_starts = _sentence_starts(self.text, self.tokens, self.is_word)

    def token_range(self, span: Span) -> tuple[int, int] | None:
        """[first, last + 1) of the tokens a span overlaps (as `metrics.iob2_tags` tags them)."""
        lo, hi = bisect_right(self.ends, span.start), bisect_left(self.starts, span.end)
        return (lo, hi) if lo < hi else None

    def tok(self, i: int) -> str:
        s, e = self.tokens[i]
        return self.text[s:e]

    def words_between(self, a: int, b: int) -> int:
        lo, hi = min(a, b), max(a, b)
        return sum(self.is_word[lo:hi])

    def zone(self, b: int) -> tuple[int, int]:
        """The boundary index b widened over the punctuation tokens that touch it: (L, R)
        with tokens [L, R) all punctuation and b in [L, R]."""
        lo, hi = b, b
        while lo > 0 and not self.is_word[lo - 1]:
            lo -= 1
        while hi < len(self.tokens) and not self.is_word[hi]:
            hi += 1
        return lo, hi


def _sentence_starts(text: str, tokens: list[tuple[int, int]], is_word: list[bool]) -> set[int]:
    """Token indices that start a sentence (a heuristic, see the module docstring)."""
    out = {0, len(tokens)}
    for i in range(1, len(tokens)):
        gap = text[tokens[i - 1][1]:tokens[i][0]]
        if "\n" in gap:
            out.add(i)
            continue
        first = text[tokens[i][0]]
        if not (first.isupper() or first.isdigit() or first in _OPENERS):
            continue
        j = i - 1
        # closing quotes or brackets glued to what precedes them ('win."', not '. "No')
        while j > 0 and not is_word[j] and text[tokens[j][0]] in _CLOSERS and tokens[j][0] == tokens[j - 1][1]:
            j -= 1
        if j < 0 or text[tokens[j][0]:tokens[j][1]] not in _SENTENCE_END:
            continue
        if not any(ch.isspace() for ch in text[tokens[j][1]:tokens[i][0]]):
            continue  # "3.5", "U.S." or a quote glued to the full stop
        if j > 0 and is_word[j - 1] and tokens[j - 1][1] == tokens[j][0]:
            before = text[tokens[j - 1][0]:tokens[j - 1][1]]
            if before.lower() in _ABBREVIATIONS or (len(before) == 1 and before.isalpha()):
                continue  # "Mr. Smith", "U.S. officials", "J. Smith"
        out.add(i)
    return out


def _is_quote(ctx: _Text, i: int) -> bool:
    t = ctx.tok(i)
    if t not in _QUOTES:
        return False
    if t in "'’":  # an apostrophe inside a word ("don't") is not a quotation mark
        s, e = ctx.tokens[i]
        left = s > 0 and ctx.text[s - 1].isalnum()
        right = e < len(ctx.text) and ctx.text[e].isalnum()
        return not (left and right)
    return True


def _places(ctx: _Text, b: int, seams: Sequence[int], cues: Sequence[tuple[int, int]]) -> list[str]:
    """Where the token boundary b lies (see PLACES)."""
    lo, hi = ctx.zone(b)
    out = []
    if any(s in ctx.sentence_starts for s in range(lo, hi + 1)):
        out.append("sentence")
    if any(_is_quote(ctx, i) for i in range(lo, hi)):
        out.append("quote")
    if seams:
        n = len(ctx.tokens)
        left = ctx.starts[lo - 1] if lo > 0 else 0
        right = ctx.ends[hi] if hi < n else len(ctx.text)
        k = bisect_right(seams, left)
        if k < len(seams) and seams[k] < right:
            out.append("seam")
    if any(cs <= hi and ce >= lo for cs, ce in cues):
        out.append("cue")
    return out or ["none"]


# ------------------------------------------------------------------ per-span cases


@dataclass
class Edge:
    """One wrong edge of a boundary error."""

    side: str          # "start" or "end"
    direction: str     # "early" or "late"
    tokens: int        # distance between the predicted and the gold edge, in tokens
    words: int         # ... in tokens with a word character
    predicted_at: list[str]
    gold_at: list[str]

    @property
    def kind(self) -> str:
        return f"{self.side}_{self.direction}"


@dataclass
class SpanCase:
    """The class of one gold span (or, for kind "spurious", of one predicted span)."""

    document: str
    kind: str                        # one of CLASSES, or "spurious"
    gold: Span | None
    predicted: list[Span]
    subkind: str | None = None       # boundary: one of BOUNDARY_KINDS
    edges: list[Edge] = field(default_factory=list)
    gaps_at: list[list[str]] = field(default_factory=list)  # split/merged: places of each gap
    crosses_seam: bool = False


def _gap_places(places, a: tuple[int, int], b: tuple[int, int]) -> list[str]:
    """Places of the gap between token ranges a and b (a before b): at a's end or b's start."""
    found = (set(places(a[1])) | set(places(b[0]))) - {"none"}
    return [p for p in PLACES if p in found] or ["none"]


def _token_spans(ctx: _Text, spans: Iterable[Span]) -> list[tuple[Span, tuple[int, int]]]:
    out = []
    for s in spans:
        r = ctx.token_range(s)
        if r is not None:
            out.append((s, r))
    return out


def span_cases(gold: Document, predicted: Document, *, layer: str = ATTRIBUTION, label: str = CONTENT,
               cue_label: str | None = CUE, seams: Sequence[int] = ()) -> list[SpanCase]:
    """One case per gold span of `label` (document order), then one per spurious prediction.
    `seams`: character offsets of the model's window edges in this document."""
    if predicted.text != gold.text:
        raise AnnotationError("predicted document text differs from the gold text", task=gold.id)
    ctx = _Text(gold.text, word_tokens(gold.text))
    seams = sorted(seams)
    g = _token_spans(ctx, (s for s in gold.spans_in(layer) if s.label == label))
    p = _token_spans(ctx, (s for s in predicted.spans_in(layer) if s.label == label))
    cues = []
    if cue_label:
        cues = [r for _, r in _token_spans(ctx, [s for s in gold.spans_in(layer) if s.label == cue_label]
                                           + [s for s in predicted.spans_in(layer) if s.label == cue_label])]

    def overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
        return a[0] < b[1] and b[0] < a[1]

    g_of_p = [[i for i, (_, gr) in enumerate(g) if overlap(gr, pr)] for _, pr in p]
    p_of_g = [[j for j, (_, pr) in enumerate(p) if overlap(gr, pr)] for _, gr in g]
    places = lambda b: _places(ctx, b, seams, cues)  # noqa: E731

    cases = []
    for i, (gs, (g0, g1)) in enumerate(g):
        preds = p_of_g[i]
        case = SpanCase(gold.id, "", gs, [p[j][0] for j in preds],
                        crosses_seam=any(gs.start < c < gs.end for c in seams))
        if not preds:
            case.kind = "missed"
        elif len(preds) >= 2:
            case.kind = "split"
            ranges = sorted(p[j][1] for j in preds)
            # the gap between consecutive pieces: the end edge of one, the start edge of the next
            case.gaps_at = [_gap_places(places, a, b) for a, b in zip(ranges, ranges[1:])]
        elif len(g_of_p[preds[0]]) >= 2:
            case.kind = "merged"
            others = sorted(g[k][1] for k in g_of_p[preds[0]])
            case.gaps_at = [_gap_places(places, a, b) for a, b in zip(others, others[1:])]
        else:
            p0, p1 = p[preds[0]][1]
            if (p0, p1) == (g0, g1):
                case.kind = "exact"
            else:
                case.kind = "boundary"
                if p0 != g0:
                    case.edges.append(Edge("start", "early" if p0 < g0 else "late", abs(p0 - g0),
                                           ctx.words_between(p0, g0), places(p0), places(g0)))
                if p1 != g1:
                    case.edges.append(Edge("end", "early" if p1 < g1 else "late", abs(p1 - g1),
                                           ctx.words_between(p1, g1), places(p1), places(g1)))
                case.subkind = "both" if len(case.edges) == 2 else case.edges[0].kind
        cases.append(case)
    for j, (ps, _) in enumerate(p):
        if not g_of_p[j]:
            cases.append(SpanCase(gold.id, "spurious", None, [ps],
                                  crosses_seam=any(ps.start < c < ps.end for c in seams)))
    return cases


# ------------------------------------------------------------------ window seams


def window_seams(docs: Sequence[Document], tokenizer, settings, schema=None) -> dict[str, list[int]]:
    """Character offsets where a model window starts or ends inside each document, by
    document id: the windows the Predictor runs (`whosaid.windows.encoding.encode_documents`
    with the model's tokenizer and settings, cut by `window_bounds`)."""
    from whosaid.schema import Schema
    from whosaid.windows.encoding import encode_documents

    toks, windows = encode_documents(list(docs), schema or Schema.default(), tokenizer, settings,
                                     with_labels=False)
    edges: dict[int, set[int]] = {i: set() for i in range(len(toks))}
    for w in windows:
        offsets = toks[w.doc_index].offsets
        if w.start > 0:
            edges[w.doc_index].add(offsets[w.start][0])
        if w.end < len(offsets):
            edges[w.doc_index].add(offsets[w.end - 1][1])
    return {tok.doc.id: sorted(edges[i]) for i, tok in enumerate(toks)}


# ------------------------------------------------------------------ summary


def _share(n: int, total: int) -> dict:
    return {"count": n, "share": round(n / total, 4) if total else 0.0}


def _bin(words: int) -> str:
    if words <= 2:
        return str(words)
    for hi, name in ((5, "3-5"), (10, "6-10"), (20, "11-20")):
        if words <= hi:
            return name
    return ">20"


def _place_counts(lists: Sequence[Sequence[str]]) -> dict:
    total = len(lists)
    return {p: _share(sum(p in l for l in lists), total) for p in PLACES}


def _edge_summary(edges: Sequence[Edge]) -> dict:
    return {"count": len(edges),
            "distance_words": {b: sum(_bin(e.words) == b for e in edges) for b in DISTANCE_BINS},
            "mean_words": round(sum(e.words for e in edges) / len(edges), 2) if edges else 0.0,
            "predicted_edge_at": _place_counts([e.predicted_at for e in edges]),
            "gold_edge_at": _place_counts([e.gold_at for e in edges])}


def _snippet(text: str, span: Span, width: int = 160) -> str:
    s = span.text_in(text)
    if len(s) <= width:
        return s
    half = width // 2 - 2
    return s[:half] + " … " + s[-half:]


def _example(case: SpanCase, texts: Mapping[str, str]) -> dict:
    text = texts[case.document]
    out: dict = {"document": case.document}
    if case.gold is not None:
        out["gold"] = [case.gold.start, case.gold.end]
        out["gold_text"] = _snippet(text, case.gold)
    out["predicted"] = [[s.start, s.end] for s in case.predicted]
    out["predicted_text"] = [_snippet(text, s) for s in case.predicted]
    if case.edges:
        out["edges"] = [{"kind": e.kind, "words": e.words, "tokens": e.tokens,
                         "predicted_at": e.predicted_at, "gold_at": e.gold_at} for e in case.edges]
    if case.gaps_at:
        out["gaps_at"] = case.gaps_at
    return out


def summarize(cases: Sequence[SpanCase], *, texts: Mapping[str, str] | None = None, examples: int = 3,
              with_seams: bool = False) -> dict:
    """Counts and shares of the classes, boundary sub-classes and edge places of `cases`;
    with `texts` (document id -> text), up to `examples` examples per class."""
    gold_cases = [c for c in cases if c.kind != "spurious"]
    spurious = [c for c in cases if c.kind == "spurious"]
    n_gold = len(gold_cases)
    n_pred = len({(c.document, s.start, s.end) for c in cases for s in c.predicted})
    by_kind = {k: [c for c in gold_cases if c.kind == k] for k in CLASSES}
    boundary = by_kind["boundary"]
    edges = [e for c in boundary for e in c.edges]
    combos: dict[str, int] = {}
    for c in boundary:
        if c.subkind == "both":
            key = "+".join(e.kind for e in c.edges)
            combos[key] = combos.get(key, 0) + 1
    merging: dict[tuple, list[list[str]]] = {}  # each merging prediction's gaps, once
    for c in by_kind["merged"]:
        merging.setdefault((c.document, c.predicted[0].start, c.predicted[0].end), c.gaps_at)
    split_gaps = [g for c in by_kind["split"] for g in c.gaps_at]
    merged_gaps = [g for gaps in merging.values() for g in gaps]
    result: dict = {
        "gold": n_gold,
        "predicted": n_pred,
        "classes": {k: _share(len(v), n_gold) for k, v in by_kind.items()},
        "spurious": _share(len(spurious), n_pred),
        "boundary": {
            "kinds": {k: _share(sum(c.subkind == k for c in boundary), len(boundary)) for k in BOUNDARY_KINDS},
            "both_combinations": dict(sorted(combos.items())),
            "wrong_edges": {"all": _edge_summary(edges),
                            **{k: _edge_summary([e for e in edges if e.kind == k]) for k in EDGE_KINDS}},
            # every boundary error with each wrong edge counted: start early is the share of
            # boundary errors whose start is early, alone or with a wrong end
            "edge_kinds": {k: _share(sum(any(e.kind == k for e in c.edges) for c in boundary), len(boundary))
                           for k in EDGE_KINDS},
        },
        "split": {"count": len(by_kind["split"]),
                  "pieces": round(sum(len(c.predicted) for c in by_kind["split"]) / len(by_kind["split"]), 2)
                  if by_kind["split"] else 0.0,
                  "gaps": len(split_gaps), "gaps_at": _place_counts(split_gaps)},
        "merged": {"count": len(by_kind["merged"]), "predictions": len(merging),
                   "gaps": len(merged_gaps), "gaps_at": _place_counts(merged_gaps)},
    }
    if with_seams:
        crossing = [c for c in gold_cases if c.crosses_seam]
        result["seams"] = {
            "gold_crossing": _share(len(crossing), n_gold),
            "classes_crossing": {k: _share(sum(c.kind == k for c in crossing), len(crossing)) for k in CLASSES},
            "classes_not_crossing": {k: _share(sum(c.kind == k for c in gold_cases if not c.crosses_seam),
                                               n_gold - len(crossing)) for k in CLASSES},
        }
    if texts is not None and examples > 0:
        ex: dict = {}
        for k in CLASSES:
            if k in ("exact", "boundary"):
                continue
            ex[k] = [_example(c, texts) for c in by_kind[k][:examples]]
        for k in BOUNDARY_KINDS:
            ex[f"boundary.{k}"] = [_example(c, texts) for c in boundary if c.subkind == k][:examples]
        ex["spurious"] = [_example(c, texts) for c in spurious[:examples]]
        result["examples"] = ex
    return result


def span_errors(gold: Sequence[Document], predicted: Sequence[Document], *, layer: str = ATTRIBUTION,
                label: str = CONTENT, cue_label: str | None = CUE,
                seams: Mapping[str, Sequence[int]] | None = None, examples: int = 3) -> dict:
    """The error analysis of `label` spans over documents paired by id (the gold documents
    that annotate `layer`; a gold document without a prediction counts as predicting nothing).
    `seams`: window edges per document id (`window_seams`), or None to leave seams out."""
    by_id: dict[str, Document] = {}
    for d in predicted:
        if d.id in by_id:
            raise AnnotationError("duplicate document id in the predictions", task=d.id)
        by_id[d.id] = d
    cases: list[SpanCase] = []
    used = [d for d in gold if layer in d.layers]
    for g in used:
        p = by_id.get(g.id) or Document(id=g.id, text=g.text)
        cases += span_cases(g, p, layer=layer, label=label, cue_label=cue_label,
                            seams=(seams or {}).get(g.id, ()))
    result = {"layer": layer, "label": label, "documents": len(used)}
    result.update(summarize(cases, texts={d.id: d.text for d in used}, examples=examples,
                            with_seams=seams is not None))
    return result


# ------------------------------------------------------------------ markdown


def _pct(row: dict) -> str:
    return f"{100 * row['share']:.1f}%"


def format_span_errors(result: dict) -> str:
    """Markdown tables of a `span_errors` result."""
    lines = [f"## {result['layer']} {result['label']}: {result['gold']} gold spans, "
             f"{result['predicted']} predicted, {result['documents']} documents", "",
             "| class | count | share of gold |", "|---|---:|---:|"]
    for k in CLASSES:
        row = result["classes"][k]
        lines.append(f"| {k} | {row['count']} | {_pct(row)} |")
    sp = result["spurious"]
    lines += [f"| spurious (share of predicted) | {sp['count']} | {_pct(sp)} |", ""]
    b = result["boundary"]
    n_gold = result["gold"]
    lines += ["| boundary error | count | share of boundary | share of gold |", "|---|---:|---:|---:|"]
    for k in BOUNDARY_KINDS:
        row = b["kinds"][k]
        lines.append(f"| {k.replace('_', ' ')} | {row['count']} | {_pct(row)} | {_pct(_share(row['count'], n_gold))} |")
    for combo, n in b["both_combinations"].items():
        lines.append(f"| &nbsp;&nbsp;both: {combo.replace('_', ' ').replace('+', ' + ')} | {n} | | |")
    we = b["wrong_edges"]
    kinds = ("all",) + EDGE_KINDS
    lines += ["", "Distance between the predicted and the gold edge, in words (0: punctuation only):", "",
              "| wrong edge | count | mean words | " + " | ".join(DISTANCE_BINS) + " |",
              "|---|---:|---:|" + "---:|" * len(DISTANCE_BINS)]
    for k in kinds:
        row = we[k]
        lines.append(f"| {k.replace('_', ' ')} | {row['count']} | {row['mean_words']} | "
                     + " | ".join(str(row["distance_words"][d]) for d in DISTANCE_BINS) + " |")
    lines += ["", "What is at the wrong edge, predicted edge / gold edge (an edge can be at several):", "",
              "| wrong edge | " + " | ".join(PLACES) + " |", "|---|" + "---:|" * len(PLACES)]
    for k in kinds:
        row = we[k]
        lines.append(f"| {k.replace('_', ' ')} | " + " | ".join(
            f"{_pct(row['predicted_edge_at'][p])} / {_pct(row['gold_edge_at'][p])}" for p in PLACES) + " |")
    lines += ["", "Where split contents are cut (between predicted pieces) and merged contents joined "
                  "(between gold spans), share of the gaps:", "",
              "| gaps of | gold spans | gaps | " + " | ".join(PLACES) + " |", "|---|---:|---:|" + "---:|" * len(PLACES)]
    for k in ("split", "merged"):
        gaps = result[k]["gaps_at"]
        lines.append(f"| {k} | {result[k]['count']} | {result[k]['gaps']} | "
                     + " | ".join(_pct(gaps[p]) for p in PLACES) + " |")
    if "seams" in result:
        s = result["seams"]
        lines += ["", f"Gold spans crossing a window seam: {s['gold_crossing']['count']} "
                      f"({_pct(s['gold_crossing'])})", "",
                  "| class | crossing a seam | not crossing |", "|---|---:|---:|"]
        for k in CLASSES:
            lines.append(f"| {k} | {_pct(s['classes_crossing'][k])} | {_pct(s['classes_not_crossing'][k])} |")
    return "\n".join(lines)
