"""The model shipped in models/whosaid-news: it predicts the seed article out of the box,
and the scores in its card are what evaluate.py measures on PolNeAR dev."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "models" / "whosaid-news"
SEED = REPO / "seeds" / "000_6e1d9f0e23a31894.txt"


@pytest.fixture(scope="module")
def predictor():
    from whosaid.inference.predictor import Predictor

    return Predictor.from_pretrained()  # no model given: the shipped one


def test_shipped_model_is_the_default_and_stored_in_float16():
    from safetensors import safe_open

    from whosaid.files import default_model_dir

    assert default_model_dir() == SHIPPED
    with safe_open(str(SHIPPED / "model.safetensors"), "pt") as f:
        assert {str(f.get_tensor(k).dtype) for k in f.keys()} == {"torch.float16"}
    card = (SHIPPED / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\n") and "pipeline_tag: token-classification" in card


def test_shipped_model_predicts_the_seed_article(predictor):
    from whosaid.readers.seeds import read_seed

    doc = read_seed(SEED)
    (record,) = predictor.predict([doc])
    assert len(record.attributions) >= 20
    for a in record.attributions:
        for part in [a.speaker, a.cue, *a.contents, *a.figures]:
            if part is not None:
                assert doc.text[part.start:part.end] == part.text


@pytest.mark.slow
def test_card_scores_match_evaluate_on_polnear_dev(polnear_dir):
    """The release check recorded per-layer strict F1 of the shipped float16 weights;
    evaluate.py on PolNeAR dev today gives the same within 0.001."""
    from whosaid.evaluation.evaluate import evaluate

    recorded = json.loads((SHIPPED / "release.json").read_text(encoding="utf-8"))["float16"]["layers"]
    metrics = evaluate(SHIPPED, str(polnear_dir) + ":dev", overlays=str(REPO / "data" / "polnear-gold"),
                       batch_size=16, progress=False)
    for layer, rows in recorded.items():
        assert abs(metrics["layers"][layer]["micro"]["f1"] - rows["micro"]["f1"]) <= 0.001, layer
