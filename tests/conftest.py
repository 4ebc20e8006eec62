"""Shared fixtures. PolNeAR is read from WHOSAID_POLNEAR or ../shared/polnear (beside the checkout)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def polnear_dir() -> Path:
    path = Path(os.environ.get("WHOSAID_POLNEAR", REPO.parent / "shared" / "polnear"))
    if not (path / "dev").is_dir():
        pytest.skip(f"PolNeAR not found at {path}")
    return path


@pytest.fixture(scope="session")
def schema():
    from whosaid.schema import Schema

    return Schema.from_label_config(REPO / "data" / "label-config.xml")


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    """Exports of tests go to a throw-away cache, never the user's ~/.cache/whosaid."""
    old = os.environ.get("WHOSAID_CACHE")
    os.environ["WHOSAID_CACHE"] = str(tmp_path_factory.mktemp("whosaid-cache"))
    yield
    if old is None:
        os.environ.pop("WHOSAID_CACHE", None)
    else:
        os.environ["WHOSAID_CACHE"] = old


# ------------------------------------------------------------------ tiny models and smoke runs
# (builders in tests/tiny_models.py; fixtures here so every test module shares them)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A saved random 2-layer whosaid model with the default tokenizer (inference tests;
    read it, do not change it: the session shares it)."""
    from tiny_models import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model") / "model")


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory):
    """`tiny_encoder(kind)`: the directory of a random 2-layer encoder checkpoint of that
    family ("roberta", "deberta-v2", "electra"), built once per session."""
    from tiny_models import build_tiny_encoder

    built: dict[str, Path] = {}

    def make(kind: str) -> Path:
        if kind not in built:
            built[kind] = build_tiny_encoder(kind, tmp_path_factory.mktemp(f"encoder-{kind}"))
        return built[kind]

    return make


@pytest.fixture
def smoke_config(repo_root, monkeypatch):
    """`smoke_config("training.max_steps=2", ...)`: configs/smoke.yaml with overrides, the
    working directory set to the checkout (the config's data paths are relative)."""
    from whosaid.config import load_config

    monkeypatch.chdir(repo_root)
    return lambda *overrides: load_config(repo_root / "configs" / "smoke.yaml", list(overrides))


@pytest.fixture(scope="session")
def smoke_run(repo_root, tmp_path_factory) -> Path:
    """A finished smoke run (6 steps, evaluated every 3) shared by the training tests."""
    from whosaid.config import load_config
    from whosaid.training.train import train

    out = tmp_path_factory.mktemp("smoke") / "run"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(repo_root)
        train(load_config(repo_root / "configs" / "smoke.yaml", ["training.max_steps=6", "training.eval_steps=3"]),
              out, command="python train.py --config configs/smoke.yaml")
    return out
