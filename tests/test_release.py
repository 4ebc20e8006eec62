"""`whosaid release`: float16 weights that load as float32 and score as the float32 run,
a card with hub metadata, refusal without replacing anything when scores differ."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tiny_models import build_tiny_model

REPO = Path(__file__).resolve().parents[1]
SEED_GOLD = str(REPO / "data" / "seed-gold.json")


@pytest.fixture(scope="module")
def run_model(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("run") / "model")


def test_release_writes_float16_checked_model_and_card(run_model, tmp_path):
    import torch
    from safetensors import safe_open

    from whosaid.model.modeling import load_model
    from whosaid.model.release import release

    target = tmp_path / "models" / "whosaid-news"
    check = release(run_model, target, data=SEED_GOLD, card_copy=tmp_path / "model_card.md")
    with safe_open(str(target / "model.safetensors"), "pt") as f:
        assert {f.get_tensor(k).dtype for k in f.keys()} == {torch.float16}
    assert next(load_model(target).parameters()).dtype == torch.float32
    assert check["max_abs_difference"] <= 0.001
    card = (target / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\n") and "pipeline_tag: token-classification" in card
    assert "license: other" in card and "## Data and terms" in card and "PolNeAR" in card
    assert (tmp_path / "model_card.md").read_text(encoding="utf-8") == card
    assert json.loads((target / "release.json").read_text())["tolerance"] == 0.001
    assert not list(target.parent.glob(".whosaid-news.*"))  # no staging left behind


def test_release_refuses_and_keeps_the_old_model(run_model, tmp_path, monkeypatch):
    from whosaid.errors import WhosaidError
    from whosaid.model import release as rel

    target = tmp_path / "whosaid-news"
    rel.release(run_model, target, data=SEED_GOLD)
    before = (target / "model.safetensors").read_bytes()
    monkeypatch.setattr(rel, "compare_precisions", lambda a, b, t: ["attribution/CUE: 0.5 vs 0.4"])
    with pytest.raises(WhosaidError, match="nothing replaced"):
        rel.release(build_tiny_model(tmp_path / "other", seed=3), target, data=SEED_GOLD)
    assert (target / "model.safetensors").read_bytes() == before
    assert not list(tmp_path.glob(".whosaid-news.*"))


def test_release_command_usage_errors(tmp_path, capsys):
    from whosaid.cli.release import main

    assert main([str(tmp_path / "missing")]) == 2
    assert "model directory not found" in capsys.readouterr().err
