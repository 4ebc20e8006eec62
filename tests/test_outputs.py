"""Every command that writes a file the user names (and its Python API) refuses, before
any work, an output that is one of its inputs or lies inside a run or model directory
it reads, and an existing file unless --overwrite (--force): nothing a user wrote is
lost. One line on stderr, exit status 2."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from whosaid.errors import OutputError
from whosaid.inference.predictor import Predictor

REPO = Path(__file__).resolve().parents[1]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def fake_model(tmp_path) -> Path:
    """Looks like a model directory; never loaded (the checks come first)."""
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    (model / "vocab.txt").write_text("[PAD]\n")
    return model


@pytest.fixture(autouse=True)
def no_model(monkeypatch):
    def load(cls, *a, **k):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(Predictor, "from_pretrained", classmethod(load))


@pytest.fixture
def gold(tmp_path) -> Path:
    path = tmp_path / "gold.json"
    path.write_bytes((REPO / "data" / "seed-gold.json").read_bytes())
    return path


def refused(rc: int, capsys, *phrases) -> None:
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for phrase in phrases:
        assert phrase in err, err


def test_evaluate_never_writes_over_its_data_or_model(fake_model, gold, tmp_path, capsys, monkeypatch):
    from whosaid.cli.evaluate import main

    before, model_before = digest(gold), digest(fake_model / "config.json")
    monkeypatch.chdir(tmp_path)
    for output in (gold, "gold.json", "./sub/../gold.json"):
        refused(main(["--model", str(fake_model), "--data", str(gold), "--output", str(output), "--force"]), capsys,
                "is also an input")
    refused(main(["--model", str(fake_model), "--data", str(gold), "--output", str(fake_model / "config.json"),
                  "--overwrite"]), capsys, "which this command reads")
    existing = tmp_path / "metrics.json"
    existing.write_text("{}")
    refused(main(["--model", str(fake_model), "--data", str(gold), "--output", str(existing)]), capsys,
            "exists; pass --overwrite")
    assert digest(gold) == before and digest(fake_model / "config.json") == model_before
    assert existing.read_text() == "{}"


def test_evaluate_refuses_data_without_gold_before_the_model_loads(fake_model, tmp_path, capsys):
    from whosaid.cli.evaluate import main
    from whosaid.errors import WhosaidError
    from whosaid.evaluation.evaluate import evaluate

    plain = tmp_path / "articles.jsonl"
    plain.write_text(json.dumps({"id": "a", "text": "The minister said taxes rose."}) + "\n")
    refused(main(["--model", str(fake_model), "--data", str(plain)]), capsys,
            "no gold annotations to evaluate against", "none with an annotated layer")
    with pytest.raises(WhosaidError, match="no gold annotations"):
        evaluate(fake_model, str(plain))


def test_compare_never_writes_into_a_run(tmp_path, capsys, monkeypatch):
    from whosaid.cli.compare import main
    from whosaid.reports.comparison import plot_comparison

    runs = []
    for name in ("runA", "runB"):
        run = tmp_path / name
        run.mkdir()
        (run / "metrics.json").write_text(json.dumps({"layers": {}}))
        runs.append(run)
    before = digest(runs[1] / "metrics.json")
    refused(main([str(runs[0]), str(runs[1]), "--output", str(runs[1] / "metrics.json"), "--force"]), capsys,
            "which this command reads")
    refused(main([str(runs[0]), str(runs[1]), "--chart", str(runs[0] / "chart.png")]), capsys,
            "--chart", "which this command reads")
    table = tmp_path / "table.md"
    table.write_text("mine")
    refused(main([str(runs[0]), str(runs[1]), "--output", str(table)]), capsys, "exists; pass --overwrite")
    assert table.read_text() == "mine" and digest(runs[1] / "metrics.json") == before
    assert main([str(runs[0]), str(runs[1]), "--output", str(table), "--overwrite"]) == 0
    assert table.read_text().startswith("| metric |")
    with pytest.raises(OutputError, match="which this command reads"):
        plot_comparison(runs, runs[0] / "metrics.json", overwrite=True)
    with pytest.raises(OutputError, match="exists"):
        plot_comparison(runs, table)
    assert digest(runs[0] / "metrics.json") and table.read_text().startswith("| metric |")


@pytest.mark.parametrize("command", ["silver_eval", "speakers_eval"])
def test_scoring_commands_never_write_over_their_data(command, fake_model, gold, tmp_path, capsys):
    import importlib

    main = importlib.import_module(f"whosaid.cli.{command}").main
    before = digest(gold)
    refused(main(["--data", str(gold), "--output", str(gold), "--force"]), capsys, "is also an input")
    refused(main(["--data", str(gold), "--model", str(fake_model), "--output", str(fake_model / "x.json")]),
            capsys, "which this command reads")
    existing = tmp_path / "out.json"
    existing.write_text("mine")
    refused(main(["--data", str(gold), "--output", str(existing)]), capsys, "exists; pass --overwrite")
    assert digest(gold) == before and existing.read_text() == "mine"


def test_export_onnx_output_checks(fake_model, tmp_path, capsys):
    from whosaid.cli.export_onnx import main
    from whosaid.model.onnx import export_onnx

    refused(main(["--model", str(fake_model), "--output", str(fake_model / "model.onnx")]), capsys,
            "which this command reads")
    existing = tmp_path / "model.onnx"
    existing.write_text("mine")
    refused(main(["--model", str(fake_model), "--output", str(existing)]), capsys, "exists; pass --overwrite")
    with pytest.raises(OutputError, match="exists"):
        export_onnx(fake_model, existing)
    with pytest.raises(OutputError, match="which this command reads"):
        export_onnx(fake_model, fake_model / "config.json", overwrite=True)
    assert existing.read_text() == "mine" and json.loads((fake_model / "config.json").read_text()) == {}
