"""The gold standoff files: the validator passes on the project's gold and names what
is wrong in a broken copy."""

from __future__ import annotations

import json

from whosaid.cli.check_gold import main
from whosaid.readers.gold_check import check_gold_dir


def test_project_gold_is_valid(repo_root, polnear_dir, capsys):
    n, problems = check_gold_dir(repo_root / "data" / "polnear-gold", polnear_dir)
    assert n >= 295 and problems == []
    second, problems = check_gold_dir(repo_root / "data" / "gold-agreement" / "second-annotations", polnear_dir)
    assert second >= 50 and problems == []
    assert main([str(repo_root / "data" / "polnear-gold"), "--polnear", str(polnear_dir)]) == 0


def _broken_copy(src, directory, change) -> None:
    overlay = json.loads(src.read_text(encoding="utf-8"))
    change(overlay)
    (directory / "dev").mkdir(parents=True)
    (directory / "dev" / src.name).write_text(json.dumps(overlay), encoding="utf-8")


def test_broken_gold_is_reported(repo_root, polnear_dir, tmp_path, capsys):
    src = sorted((repo_root / "data" / "polnear-gold" / "dev").glob("*.json"))[0]

    def drop_a_stance(o):
        o["spans"].remove(next(s for s in o["spans"] if s["layer"] == "stance"))

    def overlapping_figures(o):
        o["spans"] += [{"layer": "figure", "label": "FIGURE", "start": 0, "end": 5},
                       {"layer": "figure", "label": "FIGURE", "start": 3, "end": 8}]

    def wrong_hash(o):
        o["sha256"] = "0" * 64

    expected = {"a": (drop_a_stance, "without a stance"), "b": (overlapping_figures, "overlapping spans"),
                "c": (wrong_hash, "sha256 mismatch")}
    for key, (change, message) in expected.items():
        _broken_copy(src, tmp_path / key, change)
        n, problems = check_gold_dir(tmp_path / key, polnear_dir)
        assert n == 1 and len(problems) == 1 and message in str(problems[0]), (key, problems)
    dirs = [str(tmp_path / k) for k in expected]
    assert main(dirs + ["--polnear", str(polnear_dir)]) == 1
    out = capsys.readouterr().out
    assert out.count("\n") == 3 and "Traceback" not in out
