"""`whosaid batch` on a local Ray (2 CPUs, started by the tests) with a tiny random
model: output identical to `whosaid predict`; resume after the driver is killed
with SIGKILL; a worker process killed mid-run; failing records; Parquet in and out;
refusal of another model or input list. Plus the pure parts (inputs, shards)
without Ray.

One Ray session serves the in-process runs; the SIGKILL test runs the driver as a
subprocess that starts its own Ray (the embedded default), and resumes it with
`--address` pointing at the tests' session (joining a running cluster).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from tiny_models import build_tiny_model  # noqa: E402
from whosaid.batch.engine import iter_shards  # noqa: E402
from whosaid.batch.inputs import InputError, expand_inputs, fingerprint, iter_records  # noqa: E402
from whosaid.batch.output import read_parquet_records  # noqa: E402
from whosaid.cli.batch import main as batch_main  # noqa: E402
from whosaid.documents import Document  # noqa: E402
from whosaid.readers.articles import read_inputs, unique_ids  # noqa: E402

WORDS = ("the minister said that taxes would rise while critics argued growth slowed and voters "
         "told reporters they feared").split()


def _text(rnd, sentences: int) -> str:
    return " ".join(f'"{" ".join(rnd.choice(WORDS) for _ in range(12))}," {rnd.choice(["Smith", "Jones", "Lee"])} '
                    f'said.' for _ in range(sentences))


def make_articles(root: Path) -> list[str]:
    """10 articles: a directory of 3 .txt (one with a seed header) and a JSONL of 7,
    whose first id repeats a .txt name (so predict's `~2` suffix is exercised)."""
    import random

    rnd = random.Random(0)
    txt = root / "txt"
    txt.mkdir(parents=True)
    (txt / "a.txt").write_text(" date 2016-09-01 Headline here\n" + _text(rnd, 3), encoding="utf-8")
    for i in (1, 2):
        (txt / f"b{i}.txt").write_text(_text(rnd, 2 + i), encoding="utf-8")
    with open(root / "more.jsonl", "w", encoding="utf-8") as f:
        for i in range(7):
            f.write(json.dumps({"id": "a" if i == 0 else f"j{i}", "text": _text(rnd, 1 + i % 4), "outlet": "x"}) + "\n")
    return [str(root / "more.jsonl"), str(txt)]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("batch-tiny") / "model")


@pytest.fixture(scope="module")
def articles(tmp_path_factory) -> list[str]:
    return make_articles(tmp_path_factory.mktemp("batch-in"))


def predict_jsonl(model: Path, inputs: list[str], out: Path) -> str:
    from whosaid.cli.predict import main as predict_main

    assert predict_main(["--model", str(model), "--output", str(out), "--no-progress", *inputs]) == 0
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def reference(tiny_model, articles, tmp_path_factory) -> str:
    """What `whosaid predict --format jsonl` writes for the articles."""
    return predict_jsonl(tiny_model, articles, tmp_path_factory.mktemp("batch-ref") / "ref.jsonl")


@pytest.fixture(scope="module")
def ray_session():
    """A local Ray with 2 CPUs for the module; yields its address for other drivers."""
    for attempt in (1, 2):  # Ray gives up after 30 s when the machine is too busy to start it
        try:
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
            break
        except Exception:
            ray.shutdown()
            if attempt == 2:
                raise
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


def run_batch(model, out, inputs, *extra, capsys=None) -> tuple[int, str]:
    rc = batch_main(["--model", str(model), "--output", str(out), "--workers", "2", "--no-progress",
                     *map(str, extra), *map(str, inputs)])
    err = capsys.readouterr().err if capsys else ""
    return rc, err


def parts_text(out: Path) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted(out.glob("part-*.jsonl")))


def manifest(out: Path) -> dict:
    return json.loads((out / "_manifest.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------ without Ray


def test_inputs_sorted_deduplicated_and_ids_as_predict(articles, tmp_path):
    root = Path(articles[0]).parent
    specs = [str(root / "txt"), str(root / "*.jsonl"), str(root / "txt" / "a.txt")]
    files = expand_inputs(specs)
    assert [f.path.name for f in files] == ["more.jsonl", "a.txt", "b1.txt", "b2.txt"]
    assert fingerprint(files) == fingerprint(expand_inputs(list(reversed(specs))))
    docs = [d for d in iter_records(files) if isinstance(d, Document)]
    expected = read_inputs(articles).documents
    assert [(d.id, d.text, d.metadata) for d in docs] == [(d.id, d.text, d.metadata) for d in expected]
    assert "a~2" in [d.id for d in docs]
    dupes = [Document(id=i, text="x") for i in ["x", "x", "y", "x", "y"]]
    assert [d.id for d in unique_ids(dupes)] == ["x", "x~2", "y", "x~3", "y~2"]


def test_shards_are_consecutive_and_carry_errors():
    items = [Document(id=str(i), text="w " * i) for i in range(1, 6)]
    items.insert(2, InputError("bad", "reason", "src"))
    shards = list(iter_shards(iter(items), shard_size=2, max_chars=8))
    assert [[d.id for d in s.docs] for s in shards] == [["1", "2"], ["3", "4"], []]
    assert [[e.id for e in s.errors] for s in shards] == [[], ["bad"], ["5"]]  # with the shard being filled
    assert shards[2].errors[0].reason.startswith("too long")  # "4" has 8 characters, "5" has 10
    assert [s.index for s in shards] == [0, 1, 2]


def test_refuses_stdin_bad_model_and_bad_output(tiny_model, tmp_path, capsys):
    rc, err = run_batch(tiny_model, tmp_path / "o", ["-"], capsys=capsys)
    assert rc == 2 and "stdin" in err
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text("{}")
    rc, err = run_batch(bad, tmp_path / "o", [tmp_path], capsys=capsys)
    assert rc == 2 and "cannot use model" in err and len(err.strip().splitlines()) == 1
    rc, err = run_batch(tiny_model, tiny_model / "out", [tmp_path], capsys=capsys)
    assert rc == 2 and "inside the model directory" in err
    (tmp_path / "x.txt").write_text("Some text, he said.")
    rc, err = run_batch(tiny_model, tmp_path, [tmp_path / "x.txt"], capsys=capsys)
    assert rc == 2 and "holds an input" in err


# ------------------------------------------------------------------ on Ray


def test_output_equals_predict_resume_skips_and_refusals(ray_session, tiny_model, articles, reference, tmp_path,
                                                        capsys):
    out = tmp_path / "out"
    rc, err = run_batch(tiny_model, out, articles, "--shard-size", 3, capsys=capsys)
    assert rc == 0, err
    assert sorted(p.name for p in out.glob("part-*")) == [f"part-0000{i}.jsonl" for i in range(4)]
    assert parts_text(out) == reference
    m = manifest(out)
    assert m["complete"] and m["shard_count"] == 4 and not m["in_progress"]
    assert m["totals"] == {"shards": 4, "articles": 10, "errors": 0, "words": m["totals"]["words"]}
    assert m["model"]["sha256"] and m["inputs"]["fingerprint"] and m["runs"][-1]["workers"] == 2
    assert not (out / "errors.jsonl").exists()

    mtimes = {p.name: p.stat().st_mtime_ns for p in out.glob("part-*")}
    rc, err = run_batch(tiny_model, out, list(reversed(articles)), "--shard-size", 3, capsys=capsys)
    assert rc == 0 and "nothing to do" in err
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("part-*")} == mtimes

    other = tmp_path / "other-model"
    shutil.copytree(tiny_model, other)
    (other / "config.json").write_text((other / "config.json").read_text() + "\n")
    rc, err = run_batch(other, out, articles, "--shard-size", 3, capsys=capsys)
    assert rc == 2 and "another model" in err and len(err.strip().splitlines()) == 1
    rc, err = run_batch(tiny_model, out, articles[:1], "--shard-size", 3, capsys=capsys)
    assert rc == 2 and "different input list" in err and len(err.strip().splitlines()) == 1
    rc, err = run_batch(tiny_model, out, articles, "--shard-size", 4, capsys=capsys)
    assert rc == 2 and "--shard-size 3" in err


def test_failing_records_go_to_errors_jsonl(ray_session, tiny_model, tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    lines = [json.dumps({"id": "ok1", "text": "The minister said taxes would rise."}),
             json.dumps({"id": "surrogate", "text": "Bad \ud800 text, said Al."}),  # fails in the model
             "{not json",
             json.dumps({"id": "empty", "text": "  "}),
             json.dumps({"id": "long", "text": "word " * 100}),
             json.dumps({"id": "ok2", "text": "Critics argued growth slowed, Smith said."})]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    rc, err = run_batch(tiny_model, out, [src], "--shard-size", 2, "--max-chars", 300, capsys=capsys)
    assert rc == 1 and "4 record(s) failed" in err
    errors = [json.loads(l) for l in (out / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(e["id"], e["reason"].split(":")[0]) for e in errors] == [
        ("surrogate", "bad text"), ("in-3", "line 3"), ("empty", "line 4"), ("long", "too long")]
    assert [json.loads(l)["id"] for l in parts_text(out).splitlines()] == ["ok1", "ok2"]
    m = manifest(out)
    assert m["complete"] and m["totals"]["articles"] == 2 and m["totals"]["errors"] == 4
    # the good article of the shard that held the failing one is still predicted alone, as predict would
    ok1 = predict_jsonl(tiny_model, [str(_jsonl(tmp_path / "ok1.jsonl", lines[:1]))], tmp_path / "ok1.out")
    assert parts_text(out).splitlines()[0] == ok1.replace(str(tmp_path / "ok1.jsonl"), str(src)).strip()


def _jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_parquet_in_and_out(ray_session, tiny_model, articles, tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    jsonl = Path(articles[0])
    records = [json.loads(l) for l in jsonl.read_text(encoding="utf-8").splitlines()]
    pq.write_table(pa.Table.from_pylist(records), tmp_path / "more.parquet")
    expected = [json.loads(l) for l in predict_jsonl(tiny_model, [str(jsonl)], tmp_path / "ref.jsonl").splitlines()]
    for rec in expected:  # the same articles, read from the Parquet rows instead of the JSONL lines
        meta = rec["metadata"]
        meta["source"], meta["row"] = str(tmp_path / "more.parquet"), meta.pop("line")
    out = tmp_path / "out"
    rc, err = run_batch(tiny_model, out, [tmp_path / "*.parquet"], "--shard-size", 3, "--format", "parquet",
                        capsys=capsys)
    assert rc == 0, err
    parts = sorted(out.glob("part-*"))
    assert [p.name for p in parts] == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    got = [r for p in parts for r in read_parquet_records(p)]
    assert got == expected


def test_worker_killed_mid_run_loses_nothing(ray_session, tiny_model, articles, reference, tmp_path, capsys,
                                             monkeypatch):
    marker = tmp_path / "crashed"
    monkeypatch.setenv("WHOSAID_BATCH_CRASH_ONCE", str(marker))
    out = tmp_path / "out"
    rc, err = run_batch(tiny_model, out, articles, "--shard-size", 2, capsys=capsys)
    assert rc == 0, err
    assert marker.exists(), "a worker process exited mid-shard"
    assert parts_text(out) == reference
    run = manifest(out)["runs"][-1]
    assert run["worker_restarts"] >= 1 and not run["shard_failures"]


def _shards_done(out: Path) -> int:
    try:
        return len(manifest(out)["shards"])
    except (OSError, ValueError):
        return 0


@pytest.mark.slow
def test_resume_after_driver_sigkill(ray_session, tiny_model, articles, reference, tmp_path):
    """Kill the driver (its own local Ray) once the first shard is written; rerun:
    complete output, done shards untouched, at most one shard per worker recomputed."""
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "whosaid", "batch", "--model", str(tiny_model), "--output", str(out),
           "--workers", "2", "--shard-size", "1", "--no-progress", *articles]
    env = {**os.environ, "WHOSAID_BATCH_DELAY": "1.0"}
    with open(tmp_path / "first.log", "wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 600
        while not _shards_done(out) and proc.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, (tmp_path / "first.log").read_text()
    before = manifest(out)
    assert not before["complete"], "the job finished before it could be killed"
    done = {p.name: p.stat().st_mtime_ns for p in out.glob("part-*.jsonl")
            if str(int(p.name[5:10])) in before["shards"]}
    assert done

    rerun = subprocess.run([*cmd, "--address", ray_session], capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert parts_text(out) == reference
    after = manifest(out)
    assert after["complete"] and after["totals"]["articles"] == 10
    assert len(after["runs"]) == 2
    recomputed = after["runs"][-1]["recomputed"]
    assert len(recomputed) <= 2, recomputed  # at most one shard per worker
    assert set(recomputed) == set(before["in_progress"]) - {int(k) for k in before["shards"]}
    assert {name: (out / name).stat().st_mtime_ns for name in done} == done  # finished shards not redone
