"""Comparison table/chart and model card from hand-made metrics."""

from __future__ import annotations

import json

import pytest
import yaml

from whosaid.cli.compare import main as compare_main
from whosaid.errors import WhosaidError
from whosaid.reports.comparison import compare_runs, plot_comparison
from whosaid.reports.model_card import render_model_card


def prfs(p, r, f, n):
    return {"precision": p, "recall": r, "f1": f, "support": n}


def fake_metrics(speaker_f1: float, figure_f1: float, attr_f1: float, stance_acc: float) -> dict:
    return {
        "layers": {
            "attribution": {"SPEAKER": prfs(0.5, 0.5, speaker_f1, 10), "CUE": prfs(0.9, 0.9, 0.9, 10),
                            "micro": prfs(0.7, 0.7, 0.7, 20), "macro": prfs(0.7, 0.7, 0.7, 20)},
            "figure": {"FIGURE": prfs(0.4, 0.4, figure_f1, 5), "micro": prfs(0.4, 0.4, figure_f1, 5),
                       "macro": prfs(0.4, 0.4, figure_f1, 5)},
        },
        "overlap": {
            "attribution": {"SPEAKER": prfs(0.8, 0.8, 0.8, 10), "CUE": prfs(0.95, 0.95, 0.95, 10),
                            "micro": prfs(0.875, 0.875, 0.875, 20), "macro": prfs(0.875, 0.875, 0.875, 20)},
            "figure": {"FIGURE": prfs(0.6, 0.6, 0.6, 5), "micro": prfs(0.6, 0.6, 0.6, 5),
                       "macro": prfs(0.6, 0.6, 0.6, 5)},
        },
        "attributions": prfs(0.5, 0.5, attr_f1, 8),
        "stance": {"accuracy": stance_acc, "macro_f1": 0.25, "support": 4},
    }


@pytest.fixture
def runs(tmp_path):
    a, b = tmp_path / "run_small", tmp_path / "run_big"
    a.mkdir()
    b.mkdir()
    (a / "metrics.json").write_text(json.dumps(fake_metrics(0.125, 0.375, 0.3125, 0.5)))
    mb = fake_metrics(0.625, 0.875, 0.6875, 0.75)
    mb["data"] = {"source": "data/dev.json", "split": None, "documents": 7}
    mb["model"] = {"path": "x", "base_encoder": "enc-from-metrics"}
    (b / "metrics.json").write_text(json.dumps(mb))
    (a / "config.yaml").write_text(yaml.safe_dump({"model": {"encoder": "enc-from-config"}}))
    return a, b


def row(table: str, title: str) -> list[str]:
    line = next(l for l in table.splitlines() if l.startswith(f"| {title} |"))
    return [c.strip() for c in line.strip("|").split("|")][1:]


def test_compare_table(runs):
    table = compare_runs(list(runs))
    header = [c.strip() for c in table.splitlines()[0].strip("|").split("|")]
    assert header == ["metric", "run_small", "run_big"]
    titles = [l.split("|")[1].strip() for l in table.splitlines()[2:]]
    assert len(titles) == len(set(titles))
    assert row(table, "attribution / SPEAKER strict F1") == ["0.125", "0.625"]
    assert row(table, "attribution / CUE strict F1") == ["0.900", "0.900"]
    assert row(table, "attribution / micro strict F1") == ["0.700", "0.700"]
    assert row(table, "attribution / micro overlap F1") == ["0.875", "0.875"]
    assert row(table, "figure / FIGURE strict F1") == ["0.375", "0.875"]
    assert row(table, "attribution F1") == ["0.312", "0.688"]  # 0.3125 / 0.6875 rounded half-even
    assert row(table, "stance accuracy") == ["0.500", "0.750"]
    assert row(table, "stance macro-F1") == ["0.250", "0.250"]
    assert row(table, "base encoder") == ["enc-from-config", "enc-from-metrics"]
    assert row(table, "evaluated on") == ["–", "data/dev.json (7 docs)"]


def test_compare_missing_metrics_names_the_run(tmp_path, runs):
    empty = tmp_path / "run_empty"
    empty.mkdir()
    with pytest.raises(WhosaidError, match="run_empty.*metrics.json"):
        compare_runs([runs[0], empty])


def test_plot_and_cli(tmp_path, runs, monkeypatch, capsys):
    png = plot_comparison(list(runs), tmp_path / "out" / "chart.png")
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 1000
    assert [p.name for p in png.parent.iterdir()] == ["chart.png"]  # no temp file left behind

    monkeypatch.chdir(tmp_path)
    assert compare_main([str(r) for r in runs] + ["--output", "table.md"]) == 0
    out = capsys.readouterr().out
    assert "run_small" in out and "0.688" in out
    assert (tmp_path / "table.md").read_text() == out
    assert not list(tmp_path.glob("*.png"))  # no chart unless --chart names one
    assert compare_main([str(r) for r in runs] + ["--chart", "c.png"]) == 0
    assert (tmp_path / "c.png").stat().st_size > 1000
    (tmp_path / "c.png").unlink()

    assert compare_main([str(runs[0]), str(tmp_path / "nope"), "--chart", "c.png"]) == 2
    assert "nope" in capsys.readouterr().err
    assert not (tmp_path / "c.png").exists()


def test_model_card():
    metrics = fake_metrics(0.125, 0.375, 0.3125, 0.5)
    info = {
        "name": "polnear-minilm",
        "base_encoder": "sentence-transformers/all-MiniLM-L6-v2",
        "schema": {"attribution": ["SPEAKER", "CUE", "CONTENT"], "figure": ["FIGURE"]},
        "data": [
            {"name": "polnear:train", "role": "train", "documents": 700, "words": 500000,
             "attributions": 9000, "provenance": {"attribution": "gold", "figure": "silver"}},
            {"name": "polnear:dev", "role": "dev", "documents": 90, "words": 60000, "attributions": 1100,
             "layers": {"attribution": {"gold": 90}, "figure": {"gold": 10, "silver": 80}}},
        ],
        "training": {"epochs": 3, "learning_rate": 0.0001, "encoder_overrides": {}},
        "command": "python train.py --config configs/polnear.yaml --output-dir runs/polnear",
        "machine": "2 CPU cores",
        "duration_s": 3725,
        "date": "2024-05-01",
    }
    card = render_model_card(info, metrics)
    for section in ("## Summary", "## Intended use", "## Base encoder", "## Training data",
                    "## Training settings", "## Evaluation", "## Limitations", "## How to reproduce"):
        assert section in card
    assert "python train.py --config configs/polnear.yaml --output-dir runs/polnear" in card
    assert "sentence-transformers/all-MiniLM-L6-v2" in card
    assert "1 h 02 min" in card
    # metrics rows: SPEAKER strict 0.500/0.500/0.125, overlap 0.800 x3, support 10
    assert "| SPEAKER | 0.500 | 0.500 | 0.125 | 0.800 | 0.800 | 0.800 | 10 |" in card
    assert "| 0.500 | 0.500 | 0.312 | 8 |" in card  # attributions
    assert "| on matched attributions | 0.500 | 0.250 | 4 |" in card
    assert "Evaluated on polnear:dev" in card
    assert "attribution: gold; figure: silver" in card
    assert "figure: gold (10 docs), silver (80 docs)" in card
    assert "Silver labels for figure" in card
    assert "| learning_rate | 0.0001 |" in card

    bare = render_model_card({"name": "x"}, None)
    assert bare.startswith("# Model card: x") and "No evaluation" in bare
