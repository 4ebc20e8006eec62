"""End to end on the smoke config (a tiny random encoder): train, evaluate, resume,
save/load, warm-up, what a run keeps on disk, the seed config's schedule, and two
processes training together under torchrun."""

from __future__ import annotations

import json
import math
import os
import stat
import subprocess
import sys

import pytest
import torch

from whosaid.errors import ModelLoadError
from whosaid.files import default_file_mode
from whosaid.model.modeling import load_model
from whosaid.windows.encoding import EncodingSettings


def log_entries(run):
    return [json.loads(line) for line in (run / "train.log").read_text().splitlines()]


def test_smoke_trains_and_evaluates(smoke_run, repo_root):
    for name in ("model/config.json", "model/model.safetensors", "model/tokenizer.json", "metrics.json",
                 "config.yaml", "model_card.md", "train.log"):
        assert (smoke_run / name).is_file(), name
    metrics = json.loads((smoke_run / "metrics.json").read_text())
    assert set(metrics) >= {"layers", "overlap", "attributions", "stance", "data", "model"}
    assert metrics["layers"]["attribution"]["CUE"]["support"] == 28
    card = (smoke_run / "model_card.md").read_text()
    assert "python train.py" in card and "SPEAKER" in card
    log = log_entries(smoke_run)
    assert any("loss" in e for e in log) and any("eval_micro_f1" in e for e in log)
    assert all(isinstance(v, (int, float)) for e in log for k, v in e.items() if k != "epoch")  # numbers
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


def test_smoke_model_learned_from_its_article(smoke_run, smoke_config):
    """The trained model fits its training article better than the same model untrained
    (mean loss over the article's windows, dropout off)."""
    from whosaid.training.collator import WindowCollator
    from whosaid.training.train import build_data, build_model

    cfg = smoke_config()
    torch.manual_seed(cfg.seed)
    data = build_data(cfg)
    untrained = build_model(cfg, data)
    trained = load_model(smoke_run / "model")
    batch = WindowCollator(data.tokenizer)(data.records)

    def loss(model):
        with torch.no_grad():
            return model.eval()(**batch).loss.item()

    assert loss(trained) < loss(untrained) - 0.1


def test_schema_and_settings_travel_with_the_model(smoke_run, schema):
    model = load_model(smoke_run / "model")
    assert model.config.whosaid_schema == schema
    assert model.config.encoding == EncodingSettings(64, 16, True)
    assert set(model.heads) == set(schema.layer_names)


def test_run_keeps_few_checkpoints_and_the_best_weights(smoke_run):
    """Resumable checkpoints only every `save_steps` (the newest `save_total_limit` kept);
    the best evaluated weights apart, without optimizer state; and the model is the best."""
    ckpts = smoke_run / "checkpoints"
    resumable = sorted(p.name for p in ckpts.glob("checkpoint-*"))
    assert resumable == ["checkpoint-4", "checkpoint-6"]  # every 2 steps (0.25 of 6), the newest 2
    best = ckpts / "best"
    assert (best / "model.safetensors").is_file() and not (best / "optimizer.pt").exists()
    info = json.loads((best / "whosaid_best.json").read_text())
    evals = [e for e in log_entries(smoke_run) if "eval_micro_f1" in e]
    top = max(e["eval_micro_f1"] for e in evals)
    assert info["metric"] == "micro_f1" and info["value"] == top
    assert info["step"] == next(e["step"] for e in evals if e["eval_micro_f1"] == top)
    final, kept = load_model(smoke_run / "model").state_dict(), load_model(best).state_dict()
    assert all(torch.equal(final[k], kept[k]) for k in final)


def test_one_checkpoint_kept_is_the_last(smoke_config, tmp_path):
    """save_total_limit 1 keeps the newest resumable checkpoint (the Trainer would keep
    only its "best" one if it tracked it), and best/ is written even when the best
    evaluation came after the last checkpoint."""
    from whosaid.training.train import train

    run = train(smoke_config("training.max_steps=4", "training.save_total_limit=1"), tmp_path / "run")
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["best", "checkpoint-4"]
    assert (run / "checkpoints" / "best" / "whosaid_best.json").is_file()


def test_model_files_are_readable_by_others(smoke_run):
    """safetensors writes 0600; the run's files get the usual 0666 less the umask."""
    for path in [*(smoke_run / "model").iterdir(), *(smoke_run / "checkpoints" / "best").iterdir()]:
        assert stat.S_IMODE(path.stat().st_mode) == default_file_mode(), path


def test_warmup_warms_up(smoke_config, tmp_path):
    """warmup_ratio is a share of the optimizer steps on every transformers version: the
    logged learning rate rises over the first steps, and the Trainer got a whole number
    of warm-up steps."""
    from whosaid.training.train import train

    run = train(smoke_config("training.max_steps=4", "training.warmup_ratio=0.5", "training.logging_steps=1",
                             "training.learning_rate=0.01", "data.dev=[]"), tmp_path / "run")
    lrs = {e["step"]: e["learning_rate"] for e in log_entries(run) if "learning_rate" in e}
    assert lrs[1] < max(lrs.values()) == pytest.approx(0.01)
    args = torch.load(run / "checkpoints" / "checkpoint-4" / "training_args.bin", weights_only=False)
    assert args.warmup_steps == 2 and isinstance(args.warmup_steps, int)


def test_seed_config_makes_enough_updates(repo_root, monkeypatch):
    """Regression: `--set training.epochs=10` on the seed config ended at strict F1 0.000.
    A fresh MiniLM model predicts no span for about 20 optimizer steps (it learns the tag
    frequencies first); with batches of 4 the one-article seed data was 2 steps an epoch,
    so 10 epochs ended (learning rate decayed to 0) inside that plateau. One window a
    step makes 10 epochs 80 updates (`test_seed_ten_epochs_learns` trains it)."""
    from whosaid.config import load_config
    from whosaid.training.train import build_data

    monkeypatch.chdir(repo_root)
    cfg = load_config(repo_root / "configs" / "seed.yaml", ["training.epochs=10"])
    data = build_data(cfg)
    steps = math.ceil(len(data.records) / (cfg.training.batch_size * cfg.training.gradient_accumulation_steps))
    assert steps * cfg.training.epochs >= 60


@pytest.mark.slow
def test_seed_ten_epochs_learns(repo_root, tmp_path, monkeypatch):
    """The seed config with 10 epochs (MiniLM, a few minutes on 2 cores) fits its article."""
    from whosaid.config import load_config
    from whosaid.training.train import train

    monkeypatch.chdir(repo_root)
    run = train(load_config(repo_root / "configs" / "seed.yaml", ["training.epochs=10"]), tmp_path / "seed10")
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["layers"]["attribution"]["micro"]["f1"] > 0.5
    assert metrics["attributions"]["f1"] > 0.3
    evals = [e for e in log_entries(run) if "eval_micro_f1" in e]
    assert json.loads((run / "checkpoints" / "best" / "whosaid_best.json").read_text())["step"] > evals[0]["step"]


def test_interrupted_run_resumes(smoke_config, tmp_path):
    from whosaid.training.train import train

    out = tmp_path / "run"
    # "interrupted" after 2 steps: a checkpoint exists, then resume to step 4
    train(smoke_config("training.max_steps=2", "training.eval_steps=2"), out)
    assert (out / "checkpoints" / "checkpoint-2").is_dir()
    with pytest.raises(Exception, match="already holds a trained model"):
        train(smoke_config("training.max_steps=4", "training.eval_steps=2"), out)
    train(smoke_config("training.max_steps=4", "training.eval_steps=2"), out, resume=True)
    steps = [e["step"] for e in log_entries(out)]
    assert max(steps) == 4
    state = json.loads((out / "checkpoints" / "checkpoint-4" / "trainer_state.json").read_text())
    assert state["global_step"] == 4
    assert 1 not in steps[steps.index(2) + 1:]  # the resumed run did not start over


def test_training_is_seeded(smoke_config, tmp_path):
    from whosaid.training.train import train

    a = train(smoke_config("training.max_steps=2", "data.dev=[]"), tmp_path / "a")
    b = train(smoke_config("training.max_steps=2", "data.dev=[]"), tmp_path / "b")
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


@pytest.mark.slow
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


def test_init_from_continues_a_trained_model(smoke_run, smoke_config, tmp_path):
    """Retraining starts from a previous run's weights (the annotation loop's retrain)."""
    from whosaid.training.train import train

    out = train(smoke_config(f"model.init_from={smoke_run / 'model'}", "training.max_steps=1",
                             "training.learning_rate=1e-12", "data.dev=[]"), tmp_path / "cont")
    before, after = load_model(smoke_run / "model").state_dict(), load_model(out / "model").state_dict()
    assert all(torch.allclose(before[k], after[k], atol=1e-6) for k in before)
