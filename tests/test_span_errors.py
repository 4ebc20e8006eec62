"""Error analysis of CONTENT spans (whosaid.evaluation.errors) on hand-made documents,
one per class, and `whosaid span-errors` end to end on a tiny random model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from whosaid.documents import Document, Span
from whosaid.evaluation.errors import (BOUNDARY_KINDS, CLASSES, _Text, format_span_errors,
                                       span_cases, span_errors, window_seams)
from whosaid.evaluation.metrics import compute_metrics, word_tokens
from whosaid.schema import ATTRIBUTION

REPO = Path(__file__).resolve().parents[1]

TEXT = ('Trump said the economy is strong. "We will win," he told reporters. '
        'Clinton said that taxes would rise and that jobs would go.')


def span(text: str, part: str, label: str = "CONTENT", nth: int = 0, pad: tuple[int, int] = (0, 0)) -> Span:
    """The span of the nth occurrence of `part` in `text`, widened by `pad` characters."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(part, start + 1)
    return Span(ATTRIBUTION, label, start - pad[0], start + len(part) + pad[1])


def doc(spans, text: str = TEXT, id_: str = "d") -> Document:
    return Document(id=id_, text=text, spans=tuple(spans), layers=frozenset({ATTRIBUTION}))


def one(gold_parts, pred_parts, text: str = TEXT, cues=(), seams=()):
    """The cases of one document from substrings (label CONTENT unless a (part, label) pair)."""
    def spans(parts):
        return [span(text, p) if isinstance(p, str) else span(text, *p) for p in parts]

    cue_spans = [span(text, c, "CUE") for c in cues]
    return span_cases(doc(spans(gold_parts) + cue_spans, text), doc(spans(pred_parts), text), seams=seams)


# ------------------------------------------------------------------ the classes


def test_exact_is_a_strict_hit_on_word_tokens():
    # a leading space in the prediction covers no extra token: exact, as strict F1 counts it
    gold = doc([span(TEXT, "the economy is strong")])
    pred = doc([span(TEXT, "the economy is strong", pad=(1, 0))])
    (case,) = span_cases(gold, pred)
    assert case.kind == "exact" and not case.edges
    from whosaid.schema import Schema

    metrics = compute_metrics([gold], [pred], Schema.default())
    assert metrics["layers"][ATTRIBUTION]["CONTENT"]["f1"] == 1.0


@pytest.mark.parametrize("pred, subkind, words", [
    ("said the economy is strong", "start_early", 1),
    ("economy is strong", "start_late", 1),
    ("the economy is", "end_early", 1),
    ("the economy is strong.", "end_late", 0),  # the full stop only: 0 words, 1 token
])
def test_boundary_sub_classes(pred, subkind, words):
    (case,) = one(["the economy is strong"], [pred])
    assert case.kind == "boundary" and case.subkind == subkind
    (edge,) = case.edges
    assert edge.kind == subkind and edge.words == words and edge.tokens == 1


def test_boundary_both_edges():
    (case,) = one(["economy is"], ["the economy is strong"])
    assert case.kind == "boundary" and case.subkind == "both"
    assert [e.kind for e in case.edges] == ["start_early", "end_late"]
    result = span_errors([doc([span(TEXT, "economy is")])], [doc([span(TEXT, "the economy is strong")])])
    assert result["boundary"]["both_combinations"] == {"start_early+end_late": 1}
    assert result["boundary"]["edge_kinds"]["start_early"]["count"] == 1


def test_split():
    (case,) = one(["taxes would rise and that jobs would go"], ["taxes would rise", "jobs would go"])
    assert case.kind == "split" and len(case.predicted) == 2
    assert case.gaps_at == [["none"]]


def test_merged():
    cases = one(["taxes would rise", "jobs would go"], ["taxes would rise and that jobs would go"])
    assert [c.kind for c in cases] == ["merged", "merged"]
    result = span_errors([doc([span(TEXT, "taxes would rise"), span(TEXT, "jobs would go")])],
                         [doc([span(TEXT, "taxes would rise and that jobs would go")])])
    assert {k: result["merged"][k] for k in ("count", "predictions", "gaps")} == {"count": 2, "predictions": 1,
                                                                                "gaps": 1}
    assert result["classes"]["merged"]["share"] == 1.0


def test_missed_and_spurious():
    cases = one(["the economy is strong"], ["jobs would go"])
    assert [c.kind for c in cases] == ["missed", "spurious"]
    assert cases[1].gold is None and cases[1].predicted[0].text_in(TEXT) == "jobs would go"


def test_other_labels_do_not_count():
    # a predicted CUE over the gold content neither matches nor splits it
    cases = one(["the economy is strong"], [("the economy", "CUE")])
    assert [c.kind for c in cases] == ["missed"]


def test_split_beats_merged_when_a_piece_also_covers_another_gold():
    cases = one(["the economy is strong", "We will win"], ["the economy", "is strong. \"We will win"])
    assert [c.kind for c in cases] == ["split", "merged"]


# ------------------------------------------------------------------ where edges fall


def test_edge_at_a_quotation_mark_and_a_sentence_boundary():
    # gold without the quotes, prediction with them: punctuation-only errors on both edges
    (case,) = one(["We will win,"], ['"We will win,"'])
    start, end = case.edges
    assert (start.kind, start.words, start.tokens) == ("start_early", 0, 1)
    assert (end.kind, end.words, end.tokens) == ("end_late", 0, 1)
    assert "quote" in start.predicted_at and "sentence" in start.predicted_at
    assert "quote" in end.predicted_at and "sentence" not in end.predicted_at


def test_edge_at_a_cue():
    (case,) = one(["the economy is strong"], ["said the economy is strong"], cues=["said"])
    (edge,) = case.edges
    assert "cue" in edge.predicted_at and "cue" in edge.gold_at


def test_edge_past_a_sentence_end():
    (case,) = one(["the economy is strong"], ['the economy is strong. "We will'])
    (edge,) = case.edges
    assert edge.kind == "end_late" and edge.words == 2 and edge.tokens == 4
    assert "sentence" in edge.gold_at and "quote" in edge.gold_at
    assert edge.predicted_at == ["none"]


def test_edge_at_a_window_seam():
    seam = TEXT.index("economy") + 3  # a window edge inside "economy" (a sub-token cut)
    (case,) = one(["the economy is strong"], ["economy is strong"], seams=[seam])
    assert "seam" in case.edges[0].predicted_at
    (far,) = one(["the economy is strong"], ["economy is strong"], seams=[TEXT.index("jobs")])
    assert "seam" not in far.edges[0].predicted_at
    assert case.crosses_seam and not far.crosses_seam


def test_sentence_heuristic():
    text = 'Mr. Smith met U.S. officials at 3.5 p.m. on Monday. "No," he said.\nThen he left. it ended'
    ctx = _Text(text, word_tokens(text))
    starts = {ctx.tok(i) for i in ctx.sentence_starts if i < len(ctx.tokens)}
    assert starts == {"Mr", '"', "Then"}  # not after "Mr." or "U.S.", inside "3.5" or before lowercase


def test_apostrophe_is_not_a_quote():
    text = "He said it don't matter"
    (case,) = one(["it don't matter"], ["t matter"], text=text)
    assert "quote" not in case.edges[0].predicted_at


# ------------------------------------------------------------------ summary and table


def test_summary_counts_and_shares():
    gold = [doc([span(TEXT, "the economy is strong"), span(TEXT, "We will win"),
                 span(TEXT, "taxes would rise and that jobs would go")], id_="a"),
            doc([span(TEXT, "the economy is strong")], id_="b"),
            Document(id="c", text=TEXT)]  # does not annotate the layer: left out
    pred = [doc([span(TEXT, "the economy is strong"), span(TEXT, "We will win,"),
                 span(TEXT, "taxes would rise"), span(TEXT, "jobs would go")], id_="a"),
            doc([span(TEXT, "Clinton said")], id_="b")]
    result = span_errors(gold, pred, seams={"a": [], "b": []}, examples=1)
    assert result["documents"] == 2 and result["gold"] == 4 and result["predicted"] == 5
    counts = {k: v["count"] for k, v in result["classes"].items()}
    assert counts == {"exact": 1, "boundary": 1, "split": 1, "merged": 0, "missed": 1}
    assert sum(counts.values()) == result["gold"]
    assert result["classes"]["exact"]["share"] == 0.25
    assert result["spurious"] == {"count": 1, "share": 0.2}
    assert result["boundary"]["kinds"]["end_late"]["count"] == 1
    assert set(result["boundary"]["kinds"]) == set(BOUNDARY_KINDS)
    assert result["boundary"]["wrong_edges"]["all"]["distance_words"]["0"] == 1
    assert result["seams"]["gold_crossing"]["count"] == 0
    assert result["examples"]["split"][0]["predicted_text"] == ["taxes would rise", "jobs would go"]
    assert result["examples"]["spurious"][0]["document"] == "b"
    json.dumps(result)
    table = format_span_errors(result)
    for k in CLASSES + ("spurious", "end late", "split", "merged", "crossing a seam"):
        assert k in table


def test_no_prediction_counts_as_missed():
    result = span_errors([doc([span(TEXT, "the economy is strong")])], [])
    assert result["classes"]["missed"]["count"] == 1 and "seams" not in result


# ------------------------------------------------------------------ command line


def test_window_seams_follow_the_predictor_windows(tiny_model):
    from whosaid.inference.predictor import Predictor
    from whosaid.readers.sources import load_source
    from whosaid.windows.encoding import tokenize_document, window_bounds

    predictor = Predictor.from_pretrained(tiny_model)
    (gold,) = load_source(REPO / "data" / "seed-gold.json")
    seams = window_seams([gold], predictor.tokenizer, predictor.settings)[gold.id]
    tok = tokenize_document(gold, predictor.tokenizer)
    bounds = window_bounds(len(tok.input_ids), predictor.settings)
    assert len(bounds) > 2  # 64-token windows on a 3,700-character article
    assert {tok.offsets[s][0] for s, _ in bounds[1:]} <= set(seams)
    assert {tok.offsets[e - 1][1] for _, e in bounds[:-1]} <= set(seams)


def test_cli_span_errors(tiny_model, tmp_path, capsys, monkeypatch):
    from whosaid.cli import main

    monkeypatch.chdir(REPO)
    out = tmp_path / "errors.json"
    argv = ["span-errors", "--model", str(tiny_model), "--data", "data/seed-gold.json", "--output", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "| class | count | share of gold |" in printed and "crossing a seam" in printed
    result = json.loads(out.read_text())
    assert (result["layer"], result["label"], result["documents"], result["gold"]) == ("attribution", "CONTENT", 1, 30)
    assert sum(v["count"] for v in result["classes"].values()) == 30
    assert result["model"]["window_length"] == 64 and "seams" in result
    assert main(argv) == 2  # exists: refused without --overwrite
    assert "exists" in capsys.readouterr().err
    assert main(argv + ["--overwrite", "--label", "CUE", "--cue-label", ""]) == 0
    assert json.loads(out.read_text())["label"] == "CUE"
    assert main(argv[:-2] + ["--label", "NOPE"]) == 2
