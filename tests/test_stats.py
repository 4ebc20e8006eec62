"""`whosaid stats`: counts checked against an independent count of the brat files."""

from __future__ import annotations

import json
import os
import re

import pytest

from whosaid.cli.stats import main
from whosaid.documents import Attribution, Document, Span
from whosaid.evaluation.stats import compute_stats
from whosaid.readers.sources import load_source_with_report


def direct_count(split_dir) -> dict:
    """Articles, ann files, E lines of the chosen (smallest-name) file per article, words."""
    texts = sorted(os.listdir(split_dir / "text"))
    by_article: dict[str, list[str]] = {}
    for name in os.listdir(split_dir / "attributions"):
        by_article.setdefault(name[:name.rindex("_")], []).append(name)
    e_lines = 0
    for name in by_article.values():
        with open(split_dir / "attributions" / min(name), encoding="utf-8") as fh:
            e_lines += sum(1 for line in fh if re.match(r"E\d+\t", line))
    words = 0
    for name in texts:
        with open(split_dir / "text" / name, encoding="utf-8") as fh:
            words += len(fh.read().split())
    return {"articles": len(texts), "ann_files": sum(map(len, by_article.values())),
            "attributions": e_lines, "words": words}


@pytest.mark.parametrize("split", ["dev", "train"])
def test_counts_equal_a_direct_count_of_the_ann_files(polnear_dir, schema, split):
    expected = direct_count(polnear_dir / split)
    docs, report = load_source_with_report(f"{polnear_dir}:{split}", schema)
    stats = compute_stats(docs)
    assert stats["articles"] == report.articles == expected["articles"]
    assert stats["attributions"] == report.attributions == expected["attributions"]
    assert stats["words"] == expected["words"]
    assert report.ann_files_ignored == expected["ann_files"] - expected["articles"]
    assert stats["annotated_layers"] == {"attribution": expected["articles"]}
    assert sum(stats["spans"]["attribution"].values()) == sum(len(d.spans) for d in docs)


def test_compute_stats_by_hand():
    a = Span("attribution", "CUE", 0, 4)
    docs = [
        Document(id="1", text="said it two  times", spans=(a, Span("attribution", "SPEAKER", 5, 7),
                                                            Span("figure", "FIGURE", 8, 11)),
                 attributions=(Attribution(cues=(a,), stance="OPPOSE"),),
                 layers=frozenset({"attribution", "figure"})),
        Document(id="2", text="plain\ntext"),
    ]
    assert compute_stats(docs) == {
        "articles": 2, "words": 6, "attributions": 1, "attributions_without_speaker": 1,
        "stances": {"OPPOSE": 1},
        "spans": {"attribution": {"CUE": 1, "SPEAKER": 1}, "figure": {"FIGURE": 1}},
        "annotated_layers": {"attribution": 1, "figure": 1},
    }


def test_main_json_and_text(tmp_path, capsys):
    (tmp_path / "a.txt").write_text(" date 2020-01-01 Head\nOne two three.", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text('{"id": "j", "text": "Hi there."}\n', encoding="utf-8")
    assert main([str(tmp_path / "a.txt"), str(tmp_path / "b.jsonl"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(s["source"], s["articles"], s["words"]) for s in out["sources"]] == \
        [(str(tmp_path / "a.txt"), 1, 4), (str(tmp_path / "b.jsonl"), 1, 2)]
    assert out["sources"][0]["polnear"] is None
    assert main([str(tmp_path / "a.txt")]) == 0
    text = capsys.readouterr().out
    assert "articles" in text and re.search(r"words\s+4", text)
    assert main([str(tmp_path / "missing.txt")]) == 1
    assert "no such file" in capsys.readouterr().err


def test_main_reports_polnear_resolution(polnear_dir, capsys):
    assert main([str(polnear_dir / "dev"), "--json"]) == 0
    [source] = json.loads(capsys.readouterr().out)["sources"]
    assert source["polnear"]["attributions"] == source["attributions"]
    assert {"overlap_chars", "spans_trimmed", "ann_files_ignored"} <= set(source["polnear"])
