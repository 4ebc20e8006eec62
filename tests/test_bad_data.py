"""Bad configs and bad data files end in one line naming the setting, file, task or
line (exit 2 before any work), never a traceback; the other inputs still run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from whosaid.config import load_config
from whosaid.errors import ConfigError

HUGE = "9" * 5000


def deep_export(path: Path) -> Path:
    path.write_text('[{"id": 1, "data": {"text": "abc"}, "x": ' + "[" * 50_000 + "]" * 50_000 + "}]")
    return path


def huge_export(path: Path) -> Path:
    path.write_text('[{"id": 1, "data": {"text": "abc"}, "annotations": [{"id": ' + HUGE + ', "result": []}]}]')
    return path


def one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = [l for l in err.splitlines() if l.startswith("error:")]
    assert len(lines) == 1, err
    return lines[0]


def test_set_into_a_value_is_a_config_error(repo_root):
    with pytest.raises(ConfigError, match=r"--set training.epochs.x: training.epochs is a value \(2\)"):
        load_config(repo_root / "configs" / "smoke.yaml", ["training.epochs.x=1"])
    with pytest.raises(ConfigError, match="empty key part"):
        load_config(repo_root / "configs" / "smoke.yaml", ["training..epochs=1"])


def test_window_longer_than_the_encoder_positions_refused_before_any_work(repo_root, tmp_path, capsys,
                                                                           monkeypatch):
    from whosaid.cli.train import main

    monkeypatch.chdir(repo_root)
    out = tmp_path / "run"
    rc = main(["--config", "configs/smoke.yaml", "--output-dir", str(out), "--set", "model.window_length=1024"])
    line = one_line(capsys.readouterr().err)
    assert rc == 2 and "model.window_length 1024 exceeds the 512 positions" in line
    assert not out.exists()
    rc = main(["--config", "configs/smoke.yaml", "--output-dir", str(out), "--set", "training.epochs.x=1"])
    assert rc == 2 and "training.epochs is a value" in one_line(capsys.readouterr().err)


def test_export_with_a_huge_integer_or_deep_nesting_in_stats_others_still_counted(tmp_path, capsys):
    from whosaid.cli.stats import main

    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"id": "a", "text": "One two three."}) + "\n")
    rc = main([str(huge_export(tmp_path / "huge.json")), str(deep_export(tmp_path / "deep.json")), str(good),
               "--json"])
    captured = capsys.readouterr()
    assert rc == 1 and "Traceback" not in captured.err
    assert [s["source"] for s in json.loads(captured.out)["sources"]] == [str(good)]
    assert f"{tmp_path / 'huge.json'}: invalid JSON: Exceeds the limit (4300 digits)" in captured.err
    assert f"{tmp_path / 'deep.json'}: invalid JSON: nested too deeply" in captured.err
    assert len(captured.err.splitlines()) == 3


def test_fifo_export_does_not_block(tmp_path, capsys):
    import os

    from whosaid.cli.stats import main

    fifo = tmp_path / "export.json"
    os.mkfifo(fifo)
    rc = main([str(fifo)])
    assert rc == 1 and "not a regular file (a FIFO)" in capsys.readouterr().err


def test_train_on_an_export_with_a_huge_integer_one_line(repo_root, tmp_path, capsys, monkeypatch):
    from whosaid.cli.train import main

    monkeypatch.chdir(repo_root)
    bad = huge_export(tmp_path / "bad.json")
    rc = main(["--config", "configs/smoke.yaml", "--output-dir", str(tmp_path / "run"),
               "--set", f"data.train.0.path={bad}", "--set", "data.dev=[]"])
    line = one_line(capsys.readouterr().err)
    assert rc == 2 and f"{bad}: invalid JSON: Exceeds the limit" in line
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_evaluate_on_an_export_with_a_huge_integer_one_line(tmp_path, capsys):
    from whosaid.cli.evaluate import main

    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    (model / "vocab.txt").write_text("[PAD]\n")
    bad = huge_export(tmp_path / "bad.json")
    rc = main(["--model", str(model), "--data", str(bad)])
    line = one_line(capsys.readouterr().err)
    assert rc == 2 and f"{bad}: invalid JSON: Exceeds the limit" in line
