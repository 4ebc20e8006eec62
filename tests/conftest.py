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
