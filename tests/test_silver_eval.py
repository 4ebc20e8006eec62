"""The figure/stance quality command scores the labellers and a model against gold."""

from __future__ import annotations

from whosaid.evaluation.silver_eval import format_quality, quality, silver_predictions
from whosaid.readers.labelstudio_json import read_export
from whosaid.schema import Schema


def test_gold_against_itself_is_perfect_and_silver_is_measured(repo_root):
    gold = read_export(repo_root / "data" / "seed-gold.json")
    schema = Schema.default()
    perfect = quality(gold, gold, schema)
    assert perfect["figure"]["strict"]["f1"] == 1.0
    assert perfect["stance_on_gold_cues"]["accuracy"] == 1.0
    assert perfect["stance_on_gold_cues"]["support"] == 28
    silver = silver_predictions(gold)
    assert all(d.provenance["figure"] == "silver" and d.provenance["stance"] == "silver" for d in silver)
    measured = quality(gold, silver, schema)
    assert 0.0 < measured["figure"]["strict"]["f1"] <= 1.0
    assert measured["stance_on_gold_cues"]["support"] == 28
    table = format_quality({"systems": {"silver": measured},
                            "data": {"sources": ["seed"], "documents": 1, "figures": 9, "attributions": 28}})
    assert "| silver |" in table
