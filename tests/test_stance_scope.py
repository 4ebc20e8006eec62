"""Stance decided from the whole attribution: training labels spread over cue and
contents, per-attribution pooling of the stance probabilities, class-balanced weights,
and the evaluation's confusion matrix and stance on given (gold) attributions."""

from __future__ import annotations

import numpy as np
import pytest

from whosaid.documents import Attribution, Document, Span
from whosaid.errors import WhosaidError
from whosaid.schema import STANCE
from whosaid.windows.encoding import (EncodingSettings, attribution_stance_spans, encode_documents,
                                      tokenize_document)

TEXT = "Kiev says Russia has amassed troops. The Kremlin denies those claims."


def _doc() -> Document:
    sp1, cue1, c1 = Span("attribution", "SPEAKER", 0, 4), Span("attribution", "CUE", 5, 9), \
        Span("attribution", "CONTENT", 10, 35)
    sp2, cue2, c2 = Span("attribution", "SPEAKER", 37, 48), Span("attribution", "CUE", 49, 55), \
        Span("attribution", "CONTENT", 56, 68)
    st1, st2 = Span(STANCE, "NEUTRAL", 5, 9), Span(STANCE, "OPPOSE", 49, 55)
    return Document("d", TEXT, spans=(sp1, cue1, c1, sp2, cue2, c2, st1, st2),
                    attributions=(Attribution((cue1,), (sp1,), (c1,), "NEUTRAL"),
                                  Attribution((cue2,), (sp2,), (c2,), "OPPOSE")),
                    layers=frozenset({"attribution", STANCE}))


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from whosaid.model.modeling import default_encoder_path

    return AutoTokenizer.from_pretrained(default_encoder_path())


def test_scope_is_validated():
    with pytest.raises(WhosaidError, match="stance_scope"):
        EncodingSettings(64, 16, True, "sentence")


def test_attribution_stance_spans_cover_cue_and_contents():
    spans = attribution_stance_spans(_doc())
    assert [(s.label, TEXT[s.start:s.end]) for s in spans] == [
        ("NEUTRAL", "says"), ("NEUTRAL", "Russia has amassed troops"),
        ("OPPOSE", "denies"), ("OPPOSE", "those claims")]


def test_training_labels_spread_only_with_attribution_scope(schema, tokenizer):
    doc = _doc()
    l2i = schema.label2id(STANCE)
    row = schema.layer_names.index(STANCE)
    for scope, expected in (("cue", {"says", "denies"}),
                            ("attribution", {"says", "russia", "has", "amassed", "troops", "denies", "those",
                                             "claims"})):
        toks, windows = encode_documents([doc], schema, tokenizer, EncodingSettings(64, 16, True, scope))
        labels = windows[0].labels[row][1:-1]
        tagged = {TEXT[s:e].lower() for (s, e), y in zip(toks[0].offsets, labels) if y not in (-100, l2i["O"])}
        assert tagged == expected, scope


def _predictor(schema, scope):
    from whosaid.inference.predictor import Predictor

    return Predictor(None, None, schema, EncodingSettings(64, 16, True, scope))


def _probs(schema, tok, favour: dict[tuple[int, int], str]) -> np.ndarray:
    """Stance tag probabilities: O everywhere, except tokens inside the given character
    ranges, which lean to the given label."""
    bio = schema.bio_labels(STANCE)
    probs = np.full((len(tok.offsets), len(bio)), 0.01)
    probs[:, bio.index("O")] = 0.9
    for (lo, hi), label in favour.items():
        for i, (s, e) in enumerate(tok.offsets):
            if lo <= s and e <= hi:
                probs[i, bio.index("I-" + label)] = 0.8
    return probs / probs.sum(-1, keepdims=True)


def test_pooling_decides_from_the_contents_with_attribution_scope(schema, tokenizer):
    doc = _doc()
    tok = tokenize_document(doc, tokenizer)
    # the cue "says" leans NEUTRAL, its three content words lean OPPOSE
    probs = _probs(schema, tok, {(5, 9): "NEUTRAL", (10, 35): "OPPOSE", (49, 55): "OPPOSE"})
    by_cue = _predictor(schema, "cue").pool_stances(tok, probs, doc.attributions)
    by_all = _predictor(schema, "attribution").pool_stances(tok, probs, doc.attributions)
    assert [a.stance for a in by_cue] == ["NEUTRAL", "OPPOSE"]
    assert [a.stance for a in by_all] == ["OPPOSE", "OPPOSE"]
    assert all(0.33 < a.stance_score <= 1.0 for a in by_all)


def test_balanced_weights_favour_rare_tags(schema):
    from whosaid.training.train import balanced_class_weights

    row = schema.layer_names.index(STANCE)
    n_tags = len(schema.bio_labels(STANCE))
    labels = [[-100] * 10 for _ in schema.layer_names]
    labels[row] = [0] * 8 + [1, 2]  # O dominates
    weights = balanced_class_weights([{"labels": labels}], schema, [STANCE])[STANCE]
    assert len(weights) == n_tags
    assert weights[1] > weights[0] and weights[2] > weights[0]
    with pytest.raises(WhosaidError, match="balance_layers"):
        balanced_class_weights([{"labels": labels}], schema, ["nope"])


def test_confusion_and_stance_on_given_attributions():
    from dataclasses import replace

    from whosaid.evaluation.metrics import stance_of_given_attributions

    gold = _doc()
    judged = replace(gold, attributions=(replace(gold.attributions[0], stance="OPPOSE"),
                                         replace(gold.attributions[1], stance=None)))
    m = stance_of_given_attributions([gold], [judged])
    assert m["support"] == 2 and m["accuracy"] == 0.0
    assert m["confusion"] == {"NEUTRAL": {"OPPOSE": 1}, "OPPOSE": {"NONE": 1}}


def test_tiny_model_with_attribution_scope_gives_every_attribution_one_stance(tmp_path, schema):
    """End to end through the Predictor: a model saved with `stance_scope: attribution`
    writes exactly one stance span per predicted cue, equal to its attribution's stance."""
    from tiny_models import build_tiny_model

    from whosaid.inference.predictor import Predictor

    model_dir = build_tiny_model(tmp_path / "m", EncodingSettings(64, 16, True, "attribution"))
    predictor = Predictor.from_pretrained(model_dir)
    assert predictor.settings.stance_scope == "attribution"
    text = (TEXT + " ") * 6
    (doc,) = predictor.predict_documents([Document("x", text)])
    stance_spans = {(s.start, s.end): s.label for s in doc.spans_in(STANCE)}
    for a in doc.attributions:
        if a.cues:
            assert a.stance is not None
            assert stance_spans[(a.cues[0].start, a.cues[0].end)] == a.stance or len(
                [b for b in doc.attributions if b.cues and b.cues[0] == a.cues[0]]) > 1
    judged = predictor.predict_stances([_doc()])
    assert all(a.stance in ("SUPPORT", "OPPOSE", "NEUTRAL") for a in judged[0].attributions)


def test_comparison_shows_stance_on_gold_attributions(tmp_path):
    import json

    from whosaid.reports.comparison import compare_runs

    for name, macro in (("a", 0.3), ("b", 0.6)):
        (tmp_path / name).mkdir()
        stance = {"accuracy": 0.5, "macro_f1": 0.4, "support": 3, "confusion": {},
                  "on_gold_cues": {"accuracy": 0.7, "macro_f1": macro, "support": 5, "confusion": {}}}
        (tmp_path / name / "metrics.json").write_text(json.dumps({"layers": {}, "stance": stance}))
    table = compare_runs([tmp_path / "a", tmp_path / "b"])
    row = next(line for line in table.splitlines() if line.startswith("| stance macro-F1 on gold attributions"))
    assert "0.300" in row and "0.600" in row


def test_continued_training_keeps_the_models_stance_scope(tmp_path, repo_root):
    """A config that does not set model.stance_scope continues an init_from model with
    that model's scope (an update of the shipped model must not turn it back to "cue")."""
    from tiny_models import build_tiny_model

    from whosaid.config import load_config
    from whosaid.training.train import build_data

    model_dir = build_tiny_model(tmp_path / "m", EncodingSettings(64, 16, True, "attribution"))
    seed = str(repo_root / "data" / "seed-gold.json")
    raw = {"name": "t", "model": {"init_from": str(model_dir), "window_length": 64, "stride": 16},
           "data": {"train": [{"path": seed}]}, "training": {"epochs": 1}}
    assert build_data(load_config(raw=raw)).settings.stance_scope == "attribution"
    raw["model"]["stance_scope"] = "cue"
    assert build_data(load_config(raw=raw)).settings.stance_scope == "cue"
    del raw["model"]["init_from"], raw["model"]["stance_scope"]
    assert build_data(load_config(raw=raw)).settings.stance_scope == "cue"
