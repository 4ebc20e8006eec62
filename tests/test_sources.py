"""`load_source` dispatch on what a path is, and where PolNeAR is found."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from whosaid.documents import Document
from whosaid.errors import AnnotationError
from whosaid.files import resolve_polnear_root
from whosaid.readers.sources import load_source, load_source_with_report

TEXT = "Officials said it."
ANN = "T1\tCue 10 14\tsaid\nT2\tAttribution 10 14\tsaid\nE1\tAttribution:T2 Cue:T1\n"


def make_polnear(root: Path) -> Path:
    for split, names in (("train", ["t1", "t2"]), ("dev", ["d1"])):
        (root / split / "text").mkdir(parents=True)
        (root / split / "attributions").mkdir()
        for name in names:
            (root / split / "text" / f"{name}.txt").write_text(TEXT, encoding="utf-8")
            (root / split / "attributions" / f"{name}_abcd.ann").write_text(ANN, encoding="utf-8")
    return root


def ids(docs) -> list[str]:
    return [d.id for d in docs]


def test_polnear_forms(tmp_path, schema):
    root = make_polnear(tmp_path / "pn")
    assert ids(load_source(root / "dev", schema)) == ["d1"]
    assert ids(load_source(root, schema, split="train")) == ["t1", "t2"]
    assert ids(load_source(f"{root}:train", schema)) == ["t1", "t2"]
    assert ids(load_source("polnear:dev", schema, polnear_root=root)) == ["d1"]
    docs, report = load_source_with_report(f"{root}:train", schema)
    assert report.articles == 2 and report.attributions == 2
    with pytest.raises(AnnotationError, match="needs a split"):
        load_source(root, schema)
    with pytest.raises(AnnotationError, match="split given twice"):
        load_source(f"{root}:dev", schema, split="train")
    with pytest.raises(AnnotationError, match="split 'train' given"):
        load_source(root / "dev", schema, split="train")
    with pytest.raises(AnnotationError, match="not a PolNeAR split"):
        load_source(f"{root}:test", schema)


def test_text_inputs(tmp_path, schema):
    (tmp_path / "a.txt").write_text(" date 2020-01-01 Head\nBody", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text('{"id": "j", "text": "Hi."}\n', encoding="utf-8")
    assert load_source(tmp_path / "a.txt")[0].metadata["date"] == "2020-01-01"
    assert ids(load_source(str(tmp_path / "b.jsonl"))) == ["j"]
    assert ids(load_source(tmp_path)) == ["a"]
    assert load_source_with_report(tmp_path / "a.txt")[1] is None
    with pytest.raises(AnnotationError, match="PolNeAR only"):
        load_source(f"{tmp_path / 'a.txt'}:dev")


def test_json_goes_to_label_studio_reader(tmp_path, schema, monkeypatch):
    calls = []
    fake = types.ModuleType("whosaid.readers.labelstudio_json")

    def read_export(path, schema_):
        calls.append((Path(path), schema_))
        return [Document(id="ls", text="x")]

    fake.read_export = read_export
    monkeypatch.setitem(sys.modules, "whosaid.readers.labelstudio_json", fake)
    export = tmp_path / "export.json"
    export.write_text("[]", encoding="utf-8")
    assert ids(load_source(export, schema)) == ["ls"]
    assert calls == [(export, schema)]


def test_unknown_and_missing(tmp_path):
    (tmp_path / "x.csv").write_text("a", encoding="utf-8")
    with pytest.raises(AnnotationError, match="unknown data source"):
        load_source(tmp_path / "x.csv")
    with pytest.raises(AnnotationError, match="no such file"):
        load_source(tmp_path / "missing.json")


def test_resolve_polnear_root(tmp_path, monkeypatch):
    flag, env, default = tmp_path / "flag", tmp_path / "env", tmp_path / "shared" / "polnear"
    for d in (flag, env, default):
        d.mkdir(parents=True)
    work = tmp_path / "main"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("WHOSAID_POLNEAR", str(env))
    assert resolve_polnear_root(flag) == flag
    assert resolve_polnear_root() == env
    monkeypatch.delenv("WHOSAID_POLNEAR")
    assert resolve_polnear_root().resolve() == default.resolve()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AnnotationError, match="WHOSAID_POLNEAR") as err:
        resolve_polnear_root()
    assert "--polnear" in str(err.value)
    with pytest.raises(AnnotationError, match="not found"):
        resolve_polnear_root(tmp_path / "nowhere")
