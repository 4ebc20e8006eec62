"""`train --resume` rules: only from a complete checkpoint, only with the same model and
data settings, a cut-short last checkpoint falls back to the one before, and a refusal
touches nothing."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path

import pytest

from whosaid.config import load_config
from whosaid.training.resume import ResumeError, checkpoint_problem, checkpoints, plan_start


def smoke(repo_root, *overrides):
    return load_config(repo_root / "configs" / "smoke.yaml", ["data.dev=[]", *overrides])


def tree(path: Path) -> dict:
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(path.rglob("*"))}


@pytest.fixture(scope="module")
def finished(repo_root, tmp_path_factory):
    """A finished smoke run with at least two checkpoints."""
    from whosaid.training.train import train

    out = tmp_path_factory.mktemp("resume") / "run"
    train(smoke(repo_root, "training.max_steps=4", "training.save_steps=2", "training.threads=1"), out)
    assert len(checkpoints(out)) >= 2 and (out / "model").is_dir()
    return out


@pytest.fixture
def run_copy(finished, tmp_path, repo_root, monkeypatch):
    monkeypatch.chdir(repo_root)
    copy = tmp_path / "run"
    shutil.copytree(finished, copy)
    return copy


def test_changed_settings_refused_more_steps_allowed(run_copy, repo_root):
    before = tree(run_copy)
    base = ["training.max_steps=4", "training.save_steps=2", "training.threads=1"]
    for change in ("model.window_length=32", "model.stride=8", "training.learning_rate=0.1", "seed=1",
                   "data.train.0.weight=2"):
        with pytest.raises(ResumeError, match="settings differ") as err:
            plan_start(smoke(repo_root, *base, change), run_copy, resume=True)
        assert change.split("=")[0] in str(err.value)
    start = plan_start(smoke(repo_root, *base[:-1], "training.max_steps=6", "training.threads=2"), run_copy,
                       resume=True)
    assert start.checkpoint == str(checkpoints(run_copy)[0])
    assert any("allowed" in n and "training.max_steps: 4 -> 6" in n for n in start.notes)
    assert tree(run_copy) == before


def test_finished_run_without_checkpoints_refused_nothing_touched(run_copy, repo_root, capsys):
    from whosaid.cli.train import main

    shutil.rmtree(run_copy / "checkpoints")
    before = tree(run_copy)
    rc = main(["--config", str(repo_root / "configs" / "smoke.yaml"), "--output-dir", str(run_copy), "--resume",
               "--set", "data.dev=[]", "--set", "training.max_steps=6"])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    assert "holds a finished model but no complete checkpoint" in err and "nothing was changed" in err
    assert tree(run_copy) == before


def test_fresh_start_over_an_interrupted_run_refused(run_copy, repo_root):
    shutil.rmtree(run_copy / "model")
    before = tree(run_copy)
    with pytest.raises(ResumeError, match="checkpoints of an interrupted run"):
        plan_start(smoke(repo_root), run_copy, resume=False)
    assert tree(run_copy) == before


def test_cut_short_last_checkpoint_falls_back_to_the_one_before(run_copy, repo_root, caplog):
    from whosaid.training.train import train

    newest, previous = checkpoints(run_copy)[:2]
    weights = newest / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])  # killed while writing
    (newest / "trainer_state.json").unlink()
    assert checkpoint_problem(newest) == "no trainer_state.json" and checkpoint_problem(previous) is None
    step = json.loads((previous / "trainer_state.json").read_text())["global_step"]
    with caplog.at_level(logging.INFO):
        train(smoke(repo_root, "training.max_steps=5", "training.save_steps=2", "training.threads=1"), run_copy,
              resume=True)
    text = caplog.text
    assert f"{newest.name} is incomplete" in text and f"resuming from {previous.name}" in text
    assert (run_copy / "checkpoints" / f"incomplete-{newest.name}").is_dir()  # set aside, not deleted
    assert json.loads((checkpoints(run_copy)[0] / "trainer_state.json").read_text())["global_step"] == 5
    assert step < 5
