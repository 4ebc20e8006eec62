"""Metrics against small hand-made documents; every expected number is derived by
hand in the comments next to it."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from seqeval.metrics import classification_report
from seqeval.scheme import IOB2

from whosaid.documents import Attribution, Document, Span, stance_spans
from whosaid.errors import AnnotationError
from whosaid.evaluation.metrics import (
    compute_metrics,
    format_metrics,
    greedy_match,
    iob2_tags,
    overlapping_pairs,
    stance_on_gold_cues,
    tagged_runs,
    word_tokens,
)

ALL = frozenset({"attribution", "figure", "stance"})


def sp(text: str, layer: str, label: str, phrase: str, nth: int = 0) -> Span:
    """The span of the nth occurrence of `phrase` in `text`."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(phrase, start + 1)
    return Span(layer, label, start, start + len(phrase))


def doc(text, spans=(), attributions=(), layers=ALL, id="d1") -> Document:
    return Document(id=id, text=text, spans=tuple(spans), attributions=tuple(attributions),
                    layers=frozenset(layers))


def att(text, speaker=None, cue=None, contents=(), stance=None, nth=0) -> Attribution:
    return Attribution(
        speakers=(sp(text, "attribution", "SPEAKER", speaker, nth),) if speaker else (),
        cues=(sp(text, "attribution", "CUE", cue, nth),) if cue else (),
        contents=tuple(sp(text, "attribution", "CONTENT", c, nth) for c in contents),
        stance=stance)


def attribution_doc(text: str, atts: list[Attribution], figures=(), layers=ALL, id="d1") -> Document:
    spans = [p for a in atts for p in a.parts] + list(stance_spans(atts))
    spans += [sp(text, "figure", "FIGURE", f) for f in figures]
    return doc(text, spans, atts, layers, id)


def close(row: dict, p: float, r: float, f: float, support: int | None = None) -> None:
    assert math.isclose(row["precision"], p), row
    assert math.isclose(row["recall"], r), row
    assert math.isclose(row["f1"], f), row
    if support is not None:
        assert row["support"] == support


TEXT = "Alice said that taxes rose by 12 percent. Bob denied it."


def gold_doc() -> Document:
    a1 = att(TEXT, "Alice", "said", ["that taxes rose by 12 percent"], "NEUTRAL")
    a2 = att(TEXT, "Bob", "denied", ["it"], "OPPOSE")
    return attribution_doc(TEXT, [a1, a2], figures=["12 percent"])


# --------------------------------------------------------------- tokenisation

def test_word_tokens_and_iob2():
    text = "Some 90,000 troops."
    toks = word_tokens(text)
    assert [text[s:e] for s, e in toks] == ["Some", "90", ",", "000", "troops", "."]
    # span "90,000 troops" covers tokens 1..4; a span ending inside "Some" still tags it
    tags = iob2_tags(toks, [Span("figure", "FIGURE", 5, 18), Span("figure", "FIGURE", 0, 2)])
    assert tags == ["B-FIGURE", "B-FIGURE", "I-FIGURE", "I-FIGURE", "I-FIGURE", "O"]


def test_adjacent_spans_of_one_label_stay_separate():
    text = "a b c"
    tags = iob2_tags(word_tokens(text), [Span("x", "L", 0, 1), Span("x", "L", 2, 5)])
    assert tags == ["B-L", "B-L", "I-L"]


intervals = st.lists(st.tuples(st.integers(0, 30), st.integers(1, 8)).map(lambda t: (t[0], t[0] + t[1])),
                    max_size=8)


@settings(max_examples=60, deadline=None)
@given(intervals, intervals)
def test_overlapping_pairs_equals_brute_force(gold, pred):
    brute = {(g, p) for g, a in enumerate(gold) for p, b in enumerate(pred) if a[0] < b[1] and b[0] < a[1]}
    assert set(overlapping_pairs(gold, pred)) == brute


span_lists = st.lists(st.tuples(st.integers(0, 40), st.integers(1, 12), st.sampled_from("AB")), max_size=6)


@settings(max_examples=60, deadline=None)
@given(span_lists, span_lists)
def test_tagged_runs_keep_seqeval_numbers(gold, pred):
    text = " ".join(f"w{i}" for i in range(20))  # 20 tokens of 2-3 chars
    toks = word_tokens(text)
    g = iob2_tags(toks, [Span("x", l, s, min(s + n, len(text))) for s, n, l in gold])
    p = iob2_tags(toks, [Span("x", l, s, min(s + n, len(text))) for s, n, l in pred])
    runs = tagged_runs(g, p)
    if not runs:
        assert set(g) == set(p) == {"O"}
        return
    kw = dict(mode="strict", scheme=IOB2, output_dict=True, zero_division=0)
    whole = classification_report([g], [p], **kw)
    split = classification_report([r[0] for r in runs], [r[1] for r in runs], **kw)
    assert whole == split


# ------------------------------------------------------------- gold vs gold

def test_gold_against_itself_is_perfect(schema):
    g = gold_doc().validate(schema)
    m = compute_metrics([g], [g], schema)
    assert set(m) == {"layers", "overlap", "attributions", "stance"}
    assert set(m["layers"]) == set(m["overlap"]) == {"attribution", "figure", "stance"}
    for kind in ("layers", "overlap"):
        for layer, rows in m[kind].items():
            assert "micro" in rows and "macro" in rows
            for row in rows.values():
                close(row, 1.0, 1.0, 1.0)
    # attribution layer: 2 speakers, 2 cues, 2 contents
    assert m["layers"]["attribution"]["micro"]["support"] == 6
    assert m["layers"]["attribution"]["SPEAKER"]["support"] == 2
    close(m["attributions"], 1.0, 1.0, 1.0, 2)
    assert m["stance"] == {"accuracy": 1.0, "macro_f1": 1.0, "support": 2,
                           "confusion": {"NEUTRAL": {"NEUTRAL": 1}, "OPPOSE": {"OPPOSE": 1}}}
    assert stance_on_gold_cues([g], [g]) == {"accuracy": 1.0, "macro_f1": 1.0, "support": 2,
                                             "confusion": {"NEUTRAL": {"NEUTRAL": 1}, "OPPOSE": {"OPPOSE": 1}}}


def test_output_is_plain_json_types(schema):
    g = gold_doc()
    m = compute_metrics([g], [doc(TEXT, layers=())], schema)
    assert json.loads(json.dumps(m)) == m

    def walk(x):
        if isinstance(x, dict):
            for k, v in x.items():
                if k == "support":
                    assert type(v) is int
                elif not isinstance(v, dict):
                    assert type(v) is float, (k, v)
                walk(v)

    walk(m)


# ------------------------------------------------------------- strict vs overlap

def test_missed_spurious_and_shifted_spans(schema):
    text = "Alice said that taxes rose. Bob left."
    gold = doc(text, [sp(text, "attribution", "SPEAKER", "Alice"),        # A
                      sp(text, "attribution", "CUE", "said"),             # B (missed)
                      sp(text, "attribution", "CONTENT", "taxes rose")],  # C
               layers={"attribution"})
    pred = doc(text, [sp(text, "attribution", "SPEAKER", "Alice"),             # A exact
                      sp(text, "attribution", "CONTENT", "that taxes rose"),   # C shifted one word left
                      sp(text, "attribution", "SPEAKER", "Bob")],              # D spurious
               layers={"attribution"})
    m = compute_metrics([gold], [pred], schema)
    strict, over = m["layers"]["attribution"], m["overlap"]["attribution"]
    # strict: only A matches. micro TP=1, #pred=3, #gold=3 -> P=R=F1=1/3
    close(strict["micro"], 1 / 3, 1 / 3, 1 / 3, 3)
    # SPEAKER: TP=1, pred 2 (A, D), gold 1 -> P=1/2, R=1, F1=2/3
    close(strict["SPEAKER"], 1 / 2, 1, 2 / 3, 1)
    # CUE: nothing predicted, 1 gold -> 0; CONTENT: wrong boundary -> 0
    close(strict["CUE"], 0, 0, 0, 1)
    close(strict["CONTENT"], 0, 0, 0, 1)
    # macro over the 3 labels: P=(1/2+0+0)/3=1/6, R=(1+0+0)/3=1/3, F1=(2/3)/3=2/9
    close(strict["macro"], 1 / 6, 1 / 3, 2 / 9, 3)
    # overlap: A and C count. micro TP=2 of 3 pred and 3 gold -> 2/3 each
    close(over["micro"], 2 / 3, 2 / 3, 2 / 3, 3)
    close(over["SPEAKER"], 1 / 2, 1, 2 / 3, 1)
    close(over["CUE"], 0, 0, 0, 1)
    close(over["CONTENT"], 1, 1, 1, 1)
    # macro: P=(1/2+0+1)/3=1/2, R=(1+0+1)/3=2/3, F1=(2/3+0+1)/3=5/9
    close(over["macro"], 1 / 2, 2 / 3, 5 / 9, 3)
    assert list(strict) == ["SPEAKER", "CUE", "CONTENT", "micro", "macro"]


def test_overlap_matching_is_one_to_one(schema):
    text = "taxes rose sharply today"
    gold = doc(text, [sp(text, "figure", "FIGURE", "taxes rose sharply")], layers={"figure"})
    pred = doc(text, [sp(text, "figure", "FIGURE", "taxes"), sp(text, "figure", "FIGURE", "rose sharply")],
               layers={"figure"})
    over = compute_metrics([gold], [pred], schema)["overlap"]["figure"]
    # two predictions overlap the one gold span, only one may match: TP=1, P=1/2, R=1, F1=2/3
    close(over["FIGURE"], 1 / 2, 1, 2 / 3, 1)


def test_greedy_match_takes_largest_overlap_first():
    # gold G0=[0,10) G1=[10,30); pred P0=[5,25) overlaps G0 by 5 and G1 by 15, P1=[0,4) overlaps G0 by 4.
    # largest first: (G1,P0)=15, then (G0,P0) is blocked, then (G0,P1)=4 -> two matches.
    # (matching in gold order would give (G0,P0) and leave G1 and P1 unmatched.)
    g = [(0, 10), (10, 30)]
    p = [(5, 25), (0, 4)]

    def score(i, j):
        return max(0, min(g[i][1], p[j][1]) - max(g[i][0], p[j][0]))

    assert sorted(greedy_match(2, 2, score)) == [(0, 1), (1, 0)]


# ------------------------------------------------------------------- masking

def test_unannotated_layers_are_ignored(schema):
    text = "Alice said 12 people came."
    fig = sp(text, "figure", "FIGURE", "12 people")
    g1 = doc(text, [sp(text, "attribution", "CUE", "said")], layers={"attribution"}, id="a")
    g2 = doc(text, [], layers={"attribution", "figure"}, id="b")  # figure annotated, none present
    p1 = doc(text, [sp(text, "attribution", "CUE", "said"), fig], id="a")
    p2 = doc(text, [fig], id="b")
    m = compute_metrics([g1], [p1], schema)
    # no gold document annotates figure or stance: those layers are absent
    assert set(m["layers"]) == set(m["overlap"]) == {"attribution"}
    close(m["layers"]["attribution"]["micro"], 1, 1, 1, 1)
    m = compute_metrics([g1, g2], [p1, p2], schema)
    # figure scored on doc b only: 1 spurious prediction (doc a's is ignored), 0 gold
    assert m["layers"]["figure"]["FIGURE"]["support"] == 0
    close(m["layers"]["figure"]["micro"], 0, 0, 0, 0)
    # overlap counts the predictions: only 1 (from doc b) -> precision 0/1
    close(m["overlap"]["figure"]["FIGURE"], 0, 0, 0, 0)
    # attributions are not scored where gold does not annotate the attribution layer
    g3 = doc(text, [fig], layers={"figure"}, id="c")
    p3 = attribution_doc(text, [att(text, "Alice", "said", ["12 people came"])], id="c")
    m = compute_metrics([g3], [p3], schema)
    assert m["attributions"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert set(m["layers"]) == {"figure"}


def test_empty_predictions_give_zero(schema):
    g = gold_doc()
    for pred in ([], [doc(TEXT, layers=())]):
        m = compute_metrics([g], pred, schema)
        for kind in ("layers", "overlap"):
            for rows in m[kind].values():
                for row in rows.values():
                    close(row, 0, 0, 0)
        close(m["attributions"], 0, 0, 0, 2)
        assert m["stance"] == {"accuracy": 0.0, "macro_f1": 0.0, "support": 0, "confusion": {}}
        assert stance_on_gold_cues([g], pred) == {"accuracy": 0.0, "macro_f1": 0.0, "support": 2,
                                                  "confusion": {"NEUTRAL": {"NONE": 1}, "OPPOSE": {"NONE": 1}}}
    assert "attribution" in format_metrics(m)


def test_text_mismatch_is_an_error(schema):
    g = gold_doc()
    with pytest.raises(AnnotationError, match="task d1"):
        compute_metrics([g], [doc(TEXT + " More.", layers=())], schema)


# -------------------------------------------------------------- attributions

def test_attribution_matching(schema):
    text = "Alice said that taxes rose. Bob said that prices fell."
    gold = attribution_doc(text, [att(text, "Alice", "said", ["that taxes rose"])], layers={"attribution"})

    def score(*pred_atts):
        pred = attribution_doc(text, list(pred_atts), layers={"attribution"})
        return compute_metrics([gold], [pred], schema)["attributions"]

    # partial overlap of every part is enough
    close(score(att(text, "Ali", "sai", ["taxes"])), 1, 1, 1, 1)
    # speaker missing on one side only: no match -> P=0/1, R=0/1
    close(score(att(text, None, "said", ["that taxes rose"])), 0, 0, 0, 1)
    # wrong speaker (Bob), right cue and content: no match
    wrong = Attribution(speakers=(sp(text, "attribution", "SPEAKER", "Bob"),),
                        cues=(sp(text, "attribution", "CUE", "said"),),
                        contents=(sp(text, "attribution", "CONTENT", "that taxes rose"),))
    close(score(wrong), 0, 0, 0, 1)
    # two predictions for the one gold attribution: one-to-one -> TP=1, P=1/2, R=1, F1=2/3
    close(score(att(text, "Alice", "said", ["that taxes rose"]), att(text, "Alice", "said", ["taxes"])),
          1 / 2, 1, 2 / 3, 1)
    # no speaker on both sides matches
    g2 = attribution_doc(text, [att(text, None, "said", ["that taxes rose"])], layers={"attribution"})
    p2 = attribution_doc(text, [att(text, None, "said", ["taxes rose"])], layers={"attribution"})
    close(compute_metrics([g2], [p2], schema)["attributions"], 1, 1, 1, 1)


# -------------------------------------------------------------------- stance

STANCE_TEXT = "Ann said A. Ben said B. Cal said C. Dan said D."


def stance_docs(gold_stances, pred_stances):
    def fix(stances):
        out = []
        for i, (name, letter, s) in enumerate(zip(["Ann", "Ben", "Cal", "Dan"], "ABCD", stances)):
            out.append(Attribution(speakers=(sp(STANCE_TEXT, "attribution", "SPEAKER", name),),
                                   cues=(sp(STANCE_TEXT, "attribution", "CUE", "said", i),),
                                   contents=(sp(STANCE_TEXT, "attribution", "CONTENT", f"{letter}."),),
                                   stance=s))
        return out

    return attribution_doc(STANCE_TEXT, fix(gold_stances)), attribution_doc(STANCE_TEXT, fix(pred_stances))


def test_stance_on_matched_attributions(schema):
    gold, pred = stance_docs(["SUPPORT", "OPPOSE", "NEUTRAL", "NEUTRAL"],
                             ["SUPPORT", "NEUTRAL", "NEUTRAL", "NEUTRAL"])
    st = compute_metrics([gold], [pred], schema)["stance"]
    # 3 of 4 right -> accuracy 3/4.
    # F1 per class: SUPPORT tp1 pred1 gold1 -> 1; OPPOSE tp0 pred0 gold1 -> 0;
    # NEUTRAL tp2 pred3 gold2 -> P=2/3 R=1 F1=0.8.  macro = (1+0+0.8)/3 = 0.6
    assert st["support"] == 4
    assert math.isclose(st["accuracy"], 0.75)
    assert math.isclose(st["macro_f1"], 0.6)
    # a predicted stance of None is not scored
    gold, pred = stance_docs(["SUPPORT", "OPPOSE", "NEUTRAL", "NEUTRAL"],
                             ["SUPPORT", None, "OPPOSE", "NEUTRAL"])
    st = compute_metrics([gold], [pred], schema)["stance"]
    # pairs: S/S, N/O, N/N -> accuracy 2/3. SUPPORT 1; OPPOSE tp0 pred1 gold0 -> 0;
    # NEUTRAL tp1 pred1 gold2 -> P=1 R=1/2 F1=2/3. macro = (1+0+2/3)/3 = 5/9
    assert st["support"] == 3
    assert math.isclose(st["accuracy"], 2 / 3)
    assert math.isclose(st["macro_f1"], 5 / 9)
    # stance not annotated in the gold document -> not scored
    gold_ns = Document(id=gold.id, text=gold.text, spans=tuple(s for s in gold.spans if s.layer != "stance"),
                       attributions=gold.attributions, layers=frozenset({"attribution"}))
    assert compute_metrics([gold_ns], [pred], schema)["stance"]["support"] == 0


def test_stance_on_gold_cues():
    gold, _ = stance_docs(["SUPPORT", "OPPOSE", "NEUTRAL", "NEUTRAL"], [None] * 4)
    cues = [a.cue for a in gold.attributions]
    c3 = cues[2]
    pred = doc(STANCE_TEXT, [
        Span("stance", "SUPPORT", cues[0].start, cues[0].end),      # right
        # nothing on cue 2 -> NONE, wrong
        Span("stance", "NEUTRAL", c3.start, c3.start + 1),           # 1 char of cue 3
        Span("stance", "OPPOSE", c3.start + 1, c3.end + 2),          # 3 chars of cue 3 -> chosen, wrong
        Span("stance", "NEUTRAL", cues[3].start, cues[3].end),       # right
    ])
    st = stance_on_gold_cues([gold], [pred])
    # gold S,O,N,N vs pred S,NONE,O,N: accuracy 2/4.
    # classes (NONE is not a class): SUPPORT 1; OPPOSE tp0 pred1 gold1 -> 0;
    # NEUTRAL tp1 pred1 gold2 -> P=1 R=1/2 F1=2/3. macro = (1+0+2/3)/3 = 5/9
    assert st["support"] == 4
    assert math.isclose(st["accuracy"], 0.5)
    assert math.isclose(st["macro_f1"], 5 / 9)
    # a gold document that does not annotate stance is not scored
    unannotated = Document(id=gold.id, text=gold.text, attributions=gold.attributions,
                           layers=frozenset({"attribution"}))
    assert stance_on_gold_cues([unannotated], [pred])["support"] == 0


# -------------------------------------------------------------------- format

def test_format_metrics_lists_layers_labels_and_numbers(schema):
    text = "Alice said that taxes rose. Bob left."
    gold = doc(text, [sp(text, "attribution", "SPEAKER", "Alice"), sp(text, "attribution", "CUE", "said"),
                      sp(text, "attribution", "CONTENT", "taxes rose")], layers={"attribution"})
    pred = doc(text, [sp(text, "attribution", "SPEAKER", "Alice"),
                      sp(text, "attribution", "CONTENT", "that taxes rose"),
                      sp(text, "attribution", "SPEAKER", "Bob")], layers={"attribution"})
    m = compute_metrics([gold], [pred], schema)
    m["data"] = "dev.json"
    out = format_metrics(m)
    assert "layer attribution" in out and "data:  dev.json" in out
    micro = next(l for l in out.splitlines() if l.startswith("micro"))
    # strict micro 1/3, overlap micro 2/3, support 3
    assert micro.split() == ["micro", "0.333", "0.333", "0.333", "0.667", "0.667", "0.667", "3"]
    cue = next(l for l in out.splitlines() if l.startswith("CUE"))
    assert cue.split()[1:] == ["0.000"] * 6 + ["1"]
    assert "attributions" in out and "stance" in out

