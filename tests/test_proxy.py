"""The proxy configuration (configs/proxy.yaml): configs/polnear.yaml on a fixed,
publisher-balanced quarter of PolNeAR train (`sample: 0.25`)."""

from __future__ import annotations

import hashlib
import random
from collections import Counter

import pytest

from whosaid.config import load_config
from whosaid.documents import Document
from whosaid.errors import ConfigError
from whosaid.training.data import sample_documents

#: SHA-256 of the proxy's 210 article names, one a line in name order: the quarter is fixed.
PROXY_SELECTION = "932462fb2d7384fe67d4f9b51844ad79dcbef23f39752ac5fce2a11e37f150f8"


def test_proxy_is_the_reference_config_on_a_quarter(repo_root, monkeypatch):
    monkeypatch.chdir(repo_root)
    proxy = load_config(repo_root / "configs" / "proxy.yaml", check_files=False).to_dict()
    full = load_config(repo_root / "configs" / "polnear.yaml", check_files=False).to_dict()
    assert proxy["data"]["train"][0]["sample"] == 0.25 and proxy["data"]["train"][0]["limit"] is None
    proxy["data"]["train"][0]["sample"] = None
    proxy["name"] = full["name"]
    assert proxy == full  # nothing else differs: same model, training, decoding and dev


def _docs(names, publisher=None):
    return [Document(id=n, text="x", metadata={"publisher": publisher(n)} if publisher else {}) for n in names]


def test_sample_is_deterministic_balanced_and_in_input_order():
    names = [f"{p}_{i:03d}" for p in ("a", "b", "c") for i in range(40)] + ["d_000"]
    docs = _docs(names)
    kept = sample_documents(docs, 0.25)
    assert Counter(d.id.split("_")[0] for d in kept) == {"a": 10, "b": 10, "c": 10, "d": 1}  # at least one
    assert [d.id for d in kept] == sorted(d.id for d in kept)  # the input's order
    shuffled = docs[:]
    random.Random(0).shuffle(shuffled)
    assert {d.id for d in sample_documents(shuffled, 0.25)} == {d.id for d in kept}  # not the file order
    expected_a = sorted((n for n in names if n.startswith("a_")), key=lambda n: hashlib.sha256(n.encode()).hexdigest())
    assert {d.id for d in kept if d.id.startswith("a_")} == set(expected_a[:10])
    # the publisher comes from the metadata when there is one
    by_meta = sample_documents(_docs(names, publisher=lambda n: "one"), 0.25)
    assert len(by_meta) == round(0.25 * len(names))
    assert sample_documents(docs, 1.0) == docs


@pytest.mark.parametrize("value", [0, -0.5, 1.5])
def test_sample_out_of_range_fails_fast(value, repo_root, monkeypatch):
    monkeypatch.chdir(repo_root)
    raw = {"data": {"train": [{"path": "data/seed-gold.json", "sample": value}]}}
    with pytest.raises(ConfigError, match=r"data.train.0.sample must be in \(0, 1\]"):
        load_config(raw=raw)


def test_proxy_quarter_of_polnear_train(polnear_dir):
    """The names and publishers as the PolNeAR reader gives them (text files, metadata.tsv),
    without parsing the annotations."""
    from whosaid.readers.polnear import _metadata_index

    meta = _metadata_index(polnear_dir)
    names = sorted(p.stem for p in (polnear_dir / "train" / "text").glob("*.txt"))
    assert len(names) == 840
    kept = [d.id for d in sample_documents(_docs(names, lambda n: meta.get(n, {}).get("publisher")), 0.25)]
    assert len(kept) == 210
    assert set(Counter(n.split("_")[0] for n in kept).values()) == {30}  # 30 from each of 7 publishers
    assert hashlib.sha256("\n".join(kept).encode()).hexdigest() == PROXY_SELECTION
    # what `limit: 210` would have read instead: two publishers
    assert len({n.split("_")[0] for n in names[:210]}) == 2


def test_configured_source_applies_the_sample(repo_root, monkeypatch):
    from whosaid.schema import Schema
    from whosaid.training.data import load_configured_source

    monkeypatch.chdir(repo_root)
    cfg = load_config(raw={"data": {"train": [{"path": "data/seed-gold.json", "sample": 0.1}]}})
    loaded = load_configured_source(cfg.data.train[0], cfg, Schema.default())
    assert loaded.info["documents"] == 1  # one article: at least one is kept
