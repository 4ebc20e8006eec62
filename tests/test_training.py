"""End to end on the smoke config (a tiny random encoder): train, evaluate, resume,
save/load, and two processes training together under torchrun."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from whosaid.config import load_config
from whosaid.errors import ModelLoadError
from whosaid.model.modeling import WhosaidModel, load_model
from whosaid.windows.encoding import EncodingSettings


def smoke(repo_root, *overrides):
    return load_config(repo_root / "configs" / "smoke.yaml", list(overrides))


@pytest.fixture(scope="module")
def smoke_run(repo_root, tmp_path_factory):
    from whosaid.training.train import train

    os.chdir(repo_root)
    out = tmp_path_factory.mktemp("smoke") / "run"
    train(smoke(repo_root, "training.max_steps=6", "training.eval_steps=3"), out)
    return out


def test_smoke_trains_and_evaluates(smoke_run, repo_root):
    for name in ("model/config.json", "model/model.safetensors", "model/tokenizer.json", "metrics.json",
                 "config.yaml", "model_card.md", "train.log"):
        assert (smoke_run / name).is_file(), name
    metrics = json.loads((smoke_run / "metrics.json").read_text())
    assert set(metrics) >= {"layers", "overlap", "attributions", "stance", "data", "model"}
    assert metrics["layers"]["attribution"]["CUE"]["support"] == 28
    card = (smoke_run / "model_card.md").read_text()
    assert "python train.py" in card and "SPEAKER" in card
    log = [json.loads(l) for l in (smoke_run / "train.log").read_text().splitlines()]
    assert any("loss" in e for e in log) and any("eval_micro_f1" in e for e in log)
    out = subprocess.run([sys.executable, "evaluate.py", "--model", str(smoke_run / "model"),
                          "--data", "data/seed-gold.json", "--output", str(smoke_run / "eval.json")],
                         cwd=repo_root, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "SPEAKER" in out.stdout
    evaluated = json.loads((smoke_run / "eval.json").read_text())
    assert evaluated["layers"]["attribution"]["CUE"]["support"] == 28
    assert evaluated["model"]["backend"] == "torch"
    assert evaluated["model"]["stride"] == 16                 # the model's own window overlap
    from whosaid.evaluation.evaluate import evaluate

    assert evaluate(smoke_run / "model", str(repo_root / "data/seed-gold.json"), stride=4,
                    progress=False)["model"]["stride"] == 4


def test_schema_and_settings_travel_with_the_model(smoke_run, schema):
    model = load_model(smoke_run / "model")
    assert model.config.whosaid_schema == schema
    assert model.config.encoding == EncodingSettings(64, 16, True)
    assert set(model.heads) == set(schema.layer_names)


def test_interrupted_run_resumes(repo_root, tmp_path):
    from whosaid.training.train import train

    os.chdir(repo_root)
    out = tmp_path / "run"
    # "interrupted" after 2 steps: a checkpoint exists, then resume to step 4
    train(smoke(repo_root, "training.max_steps=2", "training.eval_steps=2"), out)
    assert (out / "checkpoints" / "checkpoint-2").is_dir()
    with pytest.raises(Exception, match="already holds a trained model"):
        train(smoke(repo_root, "training.max_steps=4", "training.eval_steps=2"), out)
    train(smoke(repo_root, "training.max_steps=4", "training.eval_steps=2"), out, resume=True)
    steps = [json.loads(l)["step"] for l in (out / "train.log").read_text().splitlines()]
    assert max(steps) == 4
    state = json.loads((out / "checkpoints" / "checkpoint-4" / "trainer_state.json").read_text())
    assert state["global_step"] == 4
    assert 1 not in steps[steps.index(2) + 1:]  # the resumed run did not start over


def test_training_is_seeded(repo_root, tmp_path):
    from whosaid.training.train import train

    os.chdir(repo_root)
    a = train(smoke(repo_root, "training.max_steps=2", "data.dev=[]"), tmp_path / "a")
    b = train(smoke(repo_root, "training.max_steps=2", "data.dev=[]"), tmp_path / "b")
    wa, wb = load_model(a / "model").state_dict(), load_model(b / "model").state_dict()
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_bad_config_fails_fast(repo_root, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntraining: {epocs: 3}\ndata: {train: [{path: data/seed-gold.json}]}\n")
    out = subprocess.run([sys.executable, "train.py", "--config", str(bad)], cwd=repo_root,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert "unknown config key(s) training.epocs" in out.stderr
    assert "Traceback" not in out.stderr


def test_model_load_errors(tmp_path):
    with pytest.raises(ModelLoadError, match="not found"):
        load_model(tmp_path / "missing")
    (tmp_path / "m").mkdir()
    with pytest.raises(ModelLoadError, match="no config.json"):
        load_model(tmp_path / "m")
    (tmp_path / "m" / "config.json").write_text("{not json")
    with pytest.raises(ModelLoadError):
        load_model(tmp_path / "m")


def test_two_processes_train_together(repo_root, tmp_path):
    """DDP with the gloo backend on CPU under torchrun."""
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "train.py", "--config", "configs/smoke.yaml", "--output-dir", str(out),
           "--set", "training.max_steps=3", "--set", "training.threads=1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    res = subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True, timeout=600, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    text = res.stdout + res.stderr
    assert "process 0 of 2" in text and "process 1 of 2" in text
    assert (out / "model" / "model.safetensors").is_file()


def test_init_from_continues_a_trained_model(smoke_run, repo_root, tmp_path):
    """Retraining starts from a previous run's weights (the annotation loop's retrain)."""
    from whosaid.training.train import train

    os.chdir(repo_root)
    out = train(smoke(repo_root, f"model.init_from={smoke_run / 'model'}", "training.max_steps=1",
                      "training.learning_rate=1e-12", "data.dev=[]"), tmp_path / "cont")
    before, after = load_model(smoke_run / "model").state_dict(), load_model(out / "model").state_dict()
    assert all(torch.allclose(before[k], after[k], atol=1e-6) for k in before)
