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

    assert "comes mostly from PolNeAR" in card
    assert "is the training data" not in card and "also training documents" not in card

    bare = render_model_card({"name": "x"}, None)
    assert bare.startswith("---\n") and "\n# Model card: x\n" in bare and "No evaluation" in bare


def test_model_card_metadata_reads_on_a_model_hub():
    from huggingface_hub import ModelCard

    metrics = fake_metrics(0.125, 0.375, 0.3125, 0.5)
    info = {"name": "polnear-minilm", "base_model": "sentence-transformers/all-MiniLM-L6-v2",
            "schema": {"attribution": ["SPEAKER", "CUE", "CONTENT"]},
            "data": [{"name": "polnear:train", "role": "train", "documents": 700},
                     {"name": "polnear:dev", "role": "dev", "documents": 90}]}
    card = ModelCard(render_model_card(info, metrics))
    data = card.data.to_dict()
    assert data["base_model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert data["library_name"] == "whosaid" and data["pipeline_tag"] == "token-classification"
    assert data["language"] == ["en"] and data["license"] and data["datasets"] == ["PolNeAR"]
    assert "f1" in data["metrics"]
    results = {r.metric_name: r.metric_value for r in card.data.eval_results}
    micro = metrics["layers"]["attribution"]["micro"]["f1"]
    assert results["attribution strict micro F1"] == round(micro, 4)
    assert results["attribution F1"] == round(metrics["attributions"]["f1"], 4)
    assert all(r.dataset_split == "dev" and r.task_type == "token-classification" for r in card.data.eval_results)


def test_model_card_of_the_seed_run_says_dev_is_train():
    """One article as train and dev: the card names that data, not PolNeAR, and says the
    dev scores are measured on the training data."""
    from huggingface_hub import ModelCard

    seed = {"name": "data/seed-gold.json", "documents": 1, "words": 593, "attributions": 28,
            "layers": {"attribution": {"gold": 1}}}
    info = {"name": "seed", "base_encoder": "all-MiniLM-L6-v2", "schema": {"attribution": ["SPEAKER"]},
            "data": [{**seed, "role": "train"}, {**seed, "role": "dev"}],
            "dev_in_train": {"documents": 1, "dev_documents": 1}}
    card = render_model_card(info, fake_metrics(0.5, 0.5, 0.5, 0.5))
    assert "PolNeAR" not in card.split("## Limitations")[1]
    assert "learnt from 1 document (data/seed-gold.json)" in card
    assert "**The dev data is the training data**" in card.split("## Evaluation")[1]
    names = [r.metric_name for r in ModelCard(card).data.eval_results]
    assert names and all(n.endswith("(dev = training data)") for n in names)
    partly = render_model_card({**info, "dev_in_train": {"documents": 1, "dev_documents": 4}}, None)
    assert "1 of the 4 dev documents are also training documents" in partly
