"""Configs fail fast, before any work, with the offending key in the message."""

from __future__ import annotations

import pytest

from whosaid.config import apply_overrides, load_config
from whosaid.errors import ConfigError


def base() -> dict:
    return {"name": "t", "data": {"train": [{"path": "data/seed-gold.json"}]}}


def test_shipped_configs_are_valid(repo_root, monkeypatch):
    monkeypatch.chdir(repo_root)
    for name in ("seed", "smoke"):
        cfg = load_config(repo_root / "configs" / f"{name}.yaml")
        assert cfg.name == name
    cfg = load_config(repo_root / "configs" / "polnear.yaml", check_files=False)
    assert cfg.data.train[0].polnear == "train" and cfg.data.train[0].silver == ["figure", "stance"]


@pytest.mark.parametrize("raw, message", [
    ({**base(), "trainig": {}}, "unknown config key(s) trainig"),
    ({**base(), "training": {"epochs": "many"}}, "training.epochs: expected float"),
    ({**base(), "training": {"batch_size": 2.5}}, "training.batch_size: expected int"),
    ({**base(), "model": {"label_all_subtokens": "yes"}}, "model.label_all_subtokens: expected bool"),
    ({"data": {"train": [{"path": "nope.json"}]}}, "data.train.0.path: file not found"),
    ({"data": {"train": [{"path": "data/seed-gold.json", "polnear": "dev"}]}}, "exactly one of path or polnear"),
    ({"data": {"train": [{"path": "data/seed-gold.json", "silver": ["speaker"]}]}}, "unknown silver layer"),
    ({"data": {"train": []}}, "data.train lists no source"),
    ({**base(), "model": {"encoder": "no/such/dir"}}, "model.encoder: checkpoint directory not found"),
    ({**base(), "model": {"window_length": 16, "stride": 20}}, "stride"),
])
def test_bad_configs_fail_fast(raw, message, repo_root, monkeypatch):
    monkeypatch.chdir(repo_root)
    with pytest.raises(ConfigError) as err:
        load_config(raw=raw)
    assert message in str(err.value)


def test_polnear_split_missing(tmp_path, repo_root, monkeypatch):
    monkeypatch.chdir(repo_root)
    raw = {"data": {"polnear_root": str(tmp_path), "train": [{"polnear": "train"}]}}
    with pytest.raises(ConfigError, match="PolNeAR split not found"):
        load_config(raw=raw)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")


def test_overrides():
    raw = apply_overrides(base(), ["training.epochs=1", "data.train.0.weight=2.5", "model.encoder=x"])
    assert raw["training"]["epochs"] == 1 and raw["data"]["train"][0]["weight"] == 2.5
    assert raw["model"]["encoder"] == "x"
    with pytest.raises(ConfigError):
        apply_overrides(base(), ["data.train.3.weight=1"])
    with pytest.raises(ConfigError):
        apply_overrides(base(), ["novalue"])
