"""Seed articles (` date YYYY-MM-DD Headline` header) and the other text inputs."""

from __future__ import annotations

import json

import pytest

from whosaid.errors import AnnotationError
from whosaid.readers.seeds import read_seed, read_text_inputs


def test_the_project_seed_article(repo_root):
    path = repo_root / "seeds" / "000_6e1d9f0e23a31894.txt"
    raw = path.read_text(encoding="utf-8")
    doc = read_seed(path)
    assert doc.id == "000_6e1d9f0e23a31894"
    assert doc.metadata["date"] == "2021-12-02"
    assert doc.metadata["headline"].startswith("Blinken urges Russia")
    assert doc.text == raw[len(" date 2021-12-02 "):]
    assert doc.text.startswith(doc.metadata["headline"] + "\n")
    assert doc.layers == frozenset() and doc.spans == () and doc.attributions == ()


@pytest.mark.parametrize("header", [" date 2020-01-02 ", "date 2020-01-02 ", "\t  date  2020-01-02\t"])
def test_header_is_found_with_any_leading_whitespace(tmp_path, header):
    path = tmp_path / "s.txt"
    path.write_text(header + "Head line\n\nBody text.\n", encoding="utf-8")
    doc = read_seed(path)
    assert doc.text == "Head line\n\nBody text.\n"
    assert doc.metadata == {"source": str(path), "date": "2020-01-02", "headline": "Head line"}


def test_text_without_header_is_taken_whole(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text("Just an article that mentions a date 2020-01-02 later.\n", encoding="utf-8")
    doc = read_seed(path)
    assert doc.text == "Just an article that mentions a date 2020-01-02 later.\n"
    assert "date" not in doc.metadata and doc.id == "plain"


@pytest.mark.parametrize("content, message", [
    (b"", "empty"), (b"  \n\n", "empty"), (b"\xff\xfe bad", "UTF-8"),
    (b" date 2021-13-45 Headline\nbody", "invalid date"),
])
def test_bad_seed_files_name_the_file(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(AnnotationError, match=message) as err:
        read_seed(path)
    assert err.value.file == str(path)


def test_directory_of_txt_is_sorted_and_jsonl_read(tmp_path):
    d = tmp_path / "articles"
    d.mkdir()
    for name in ("b", "a", "c"):
        (d / f"{name}.txt").write_text(f" date 2020-01-0{ord(name) - 96} {name.upper()}\nx", encoding="utf-8")
    (d / "notes.md").write_text("ignored", encoding="utf-8")
    jl = tmp_path / "more.jsonl"
    jl.write_text(json.dumps({"id": 7, "text": "Seven.", "date": "2020-02-02"}) + "\n\n"
                  + json.dumps({"text": "No id."}) + "\n", encoding="utf-8")
    docs = read_text_inputs([d, jl])
    assert [x.id for x in docs] == ["a", "b", "c", "7", "more-3"]
    assert docs[0].metadata["date"] == "2020-01-01" and docs[0].text == "A\nx"
    assert docs[3].metadata["date"] == "2020-02-02" and docs[3].metadata["line"] == 1
    assert docs[4].text == "No id."


@pytest.mark.parametrize("lines, message", [
    ([{"id": "a", "text": "ok"}, "{not json"], "line 2: invalid JSON"),
    ([{"id": "a"}], "line 1: missing or empty 'text'"),
    ([["a", "b"]], "line 1: expected an object"),
    ([{"id": "a", "text": "x"}, {"id": "a", "text": "y"}], "line 2: duplicate id"),
])
def test_jsonl_errors_name_file_and_line(tmp_path, lines, message):
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(l if isinstance(l, str) else json.dumps(l) for l in lines) + "\n",
                    encoding="utf-8")
    with pytest.raises(AnnotationError, match=message) as err:
        read_text_inputs([path])
    assert str(path) in str(err.value)


def test_unsupported_missing_and_empty_inputs(tmp_path):
    (tmp_path / "x.csv").write_text("a,b", encoding="utf-8")
    (tmp_path / "empty").mkdir()
    for path, message in ((tmp_path / "x.csv", "unsupported"), (tmp_path / "nope.txt", "no such"),
                          (tmp_path / "empty", "no .txt")):
        with pytest.raises(AnnotationError, match=message):
            read_text_inputs([path])
