"""predict's input and output handling under bad inputs and faults: nothing a user
wrote is lost, bad input is one line naming the file and line, checks come before the
model loads, records carry their text, the output streams and resumes.

Most tests run the command in-process with a `Predictor` on a cheap deterministic
backend (the real tokenizer, decoding and records; no torch forward pass)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from whosaid.cli.predict import main
from whosaid.inference.predictor import Predictor
from whosaid.readers.articles import read_inputs
from whosaid.schema import Schema
from whosaid.windows.encoding import EncodingSettings
from tiny_models import HashBackend, build_tiny_model

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "seeds" / "000_6e1d9f0e23a31894.txt"




@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="module")
def fast_predictor(tiny_model):
    from transformers import AutoTokenizer

    schema = Schema.default()
    width = sum(len(schema.bio_labels(l)) for l in schema.layer_names)
    return Predictor(HashBackend(width), AutoTokenizer.from_pretrained(tiny_model), schema,
                     EncodingSettings(64, 16), batch_size=8,
                     model_version=tiny_model.resolve().parent.name + "/" + tiny_model.name)  # as the real one


@pytest.fixture
def fast(monkeypatch, fast_predictor):
    """`Predictor.from_pretrained` returns the cheap predictor; counts the loads."""
    loads = []

    def load(cls, *a, **k):
        loads.append(a)
        return fast_predictor

    monkeypatch.setattr(Predictor, "from_pretrained", classmethod(load))
    return loads


@pytest.fixture
def no_model(monkeypatch):
    """Fail the test if the model is loaded."""

    def load(cls, *a, **k):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(Predictor, "from_pretrained", classmethod(load))


def run(argv, capsys, stdin=None, monkeypatch=None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", stdin)
    rc = main([str(a) for a in argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def jsonl(path: Path, *records) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


def one_error_line(err: str) -> None:
    assert "Traceback" not in err
    assert len([l for l in err.splitlines() if l.startswith("error:")]) == 1, err


# ------------------------------------------------------------------ data loss


def test_output_that_is_an_input_is_refused_before_the_model_loads(tiny_model, tmp_path, capsys, no_model,
                                                                   monkeypatch):
    src = jsonl(tmp_path / "a.jsonl", {"id": "a", "text": "The minister said taxes rose."})
    before = digest(src)
    link = tmp_path / "link.jsonl"
    link.symlink_to(src)
    os.link(src, tmp_path / "hard.jsonl")
    monkeypatch.chdir(tmp_path)
    for output in (src, "a.jsonl", link, tmp_path / "hard.jsonl", tmp_path / "x" / ".." / "a.jsonl"):
        for extra in ([], ["--overwrite"]):
            rc, out, err = run(["--model", tiny_model, "--output", output, *extra, src], capsys)
            assert rc == 2 and out == "", err
            assert "is also an input" in err
            one_error_line(err)
    assert digest(src) == before


def test_output_inside_the_model_directory_is_refused(tiny_model, tmp_path, capsys, no_model):
    before = {p.name: digest(p) for p in tiny_model.iterdir()}
    rc, _, err = run(["--model", tiny_model, "--output", tiny_model / "config.json", "--force", SEED], capsys)
    assert rc == 2 and "which this command reads" in err
    assert {p.name: digest(p) for p in tiny_model.iterdir()} == before


def test_existing_output_needs_overwrite(tiny_model, tmp_path, capsys, fast):
    out = tmp_path / "pred.jsonl"
    out.write_text("my notes\n", encoding="utf-8")
    rc, _, err = run(["--model", tiny_model, "--output", out, SEED], capsys)
    assert rc == 2 and "exists; pass --overwrite (or --force)" in err and not fast
    assert out.read_text(encoding="utf-8") == "my notes\n"
    for flag in ("--overwrite", "--force"):
        rc, _, err = run(["--model", tiny_model, "--output", out, flag, SEED], capsys)
        assert rc == 0, err
        assert json.loads(out.read_text(encoding="utf-8"))["id"] == SEED.stem


@pytest.mark.parametrize("where", ["directory", "proc", "under a file"])
def test_unwritable_output_is_refused_before_the_work(tiny_model, tmp_path, capsys, no_model, where):
    output = {"directory": tmp_path, "proc": Path("/proc/whosaid-out.jsonl"),
              "under a file": Path(SEED) / "out.jsonl"}[where]
    rc, out, err = run(["--model", tiny_model, "--output", output, SEED], capsys)
    assert rc == 2 and out == ""
    one_error_line(err)
    assert str(output) in err


def test_python_api_refuses_the_same_outputs(tiny_model, tmp_path, fast_predictor):
    from whosaid.errors import OutputError
    from whosaid.inference.streaming import predict_files

    src = jsonl(tmp_path / "a.jsonl", {"id": "a", "text": "The minister said taxes rose."})
    before = digest(src)
    with pytest.raises(OutputError, match="is also an input"):
        predict_files(fast_predictor, [str(src)], src, overwrite=True)
    with pytest.raises(OutputError, match="is also an input"):
        predict_files(tiny_model, [str(src)], src)  # before the model loads
    out = tmp_path / "out.jsonl"
    out.write_text("keep\n")
    with pytest.raises(OutputError, match="exists"):
        predict_files(fast_predictor, [str(src)], out)
    assert digest(src) == before and out.read_text() == "keep\n"
    report = predict_files(fast_predictor, [str(src)], out, overwrite=True)
    assert report.written == 1 and json.loads(out.read_text())["id"] == "a"


# ------------------------------------------------------------------ bad inputs


def test_fifo_input_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "in.jsonl"
    os.mkfifo(fifo)
    good = jsonl(tmp_path / "good.jsonl", {"id": "g", "text": "Fine."})
    started = time.monotonic()
    inputs = read_inputs([str(fifo), str(good)])
    assert time.monotonic() - started < 10
    assert [d.id for d in inputs.documents] == ["g"]
    assert inputs.failures == [(str(fifo), "not a regular file (a FIFO); save the data to a file first")]


def test_bad_jsonl_lines_are_reported_and_the_others_predicted(tiny_model, tmp_path, capsys, fast):
    deep = '{"id": "deep", "text": "x", "more": ' + "[" * 100_000 + "]" * 100_000 + "}"
    src = jsonl(tmp_path / "mixed.jsonl",
                {"id": "ok1", "text": "The minister said taxes rose."},
                "{not json",
                {"id": "num", "text": 42},
                {"id": "none"},
                deep,
                '{"id": "big", "text": "x", "n": ' + "9" * 5000 + "}",
                {"id": "ok1", "text": "A repeated id."},
                {"id": "ok2", "text": "Critics said growth slowed."})
    before = digest(src)
    out = tmp_path / "out.jsonl"
    rc, _, err = run(["--model", tiny_model, "--output", out, src], capsys)
    assert rc == 1
    assert "Traceback" not in err
    assert [json.loads(l)["id"] for l in out.read_text(encoding="utf-8").splitlines()] == ["ok1", "ok2"]
    for lineno, reason in ((2, "invalid JSON"), (3, "missing or empty 'text'"), (4, "missing or empty 'text'"),
                           (5, "nested too deeply"), (6, "Exceeds the limit"), (7, "repeats an earlier line")):
        assert any(l.startswith(f"skipped {src}: line {lineno}: ") and reason in l for l in err.splitlines()), \
            (lineno, err)
    assert "6 input(s) failed" in err
    assert digest(src) == before


def test_ids_unique_within_a_file_suffixed_across_inputs(tmp_path):
    a = jsonl(tmp_path / "a.jsonl", {"id": "x", "text": "One."}, {"id": "y", "text": "Two."})
    b = jsonl(tmp_path / "b.jsonl", {"id": "x", "text": "Three."}, {"id": "x", "text": "Four."})
    inputs = read_inputs([str(a), str(b), str(a)])
    assert [d.id for d in inputs.documents] == ["x", "y", "x~2", "x~3", "y~2"]
    assert inputs.documents[2].metadata["original_id"] == "x"
    assert inputs.failures == [(str(b), "line 2: id 'x' repeats an earlier line of this file")]


def test_stdin_format_is_explicit(tiny_model, capsys, monkeypatch, fast):
    lines = json.dumps({"id": "a", "text": "One said two."}) + "\n{broken\n"
    rc, out, err = run(["--model", tiny_model], capsys, io.StringIO(lines), monkeypatch)
    assert rc == 1 and [json.loads(l)["id"] for l in out.splitlines()] == ["a"]
    assert "skipped <stdin>: line 2: invalid JSON" in err
    rc, out, err = run(["--model", tiny_model, "--stdin-format", "text"], capsys, io.StringIO(lines), monkeypatch)
    assert rc == 0 and [(r["id"], r["text"]) for r in map(json.loads, out.splitlines())] == [("stdin", lines)]
    rc, out, err = run(["--model", tiny_model, "--stdin-format", "jsonl", "-"], capsys,
                       io.StringIO("plain text\n"), monkeypatch)
    assert rc == 1 and out == "" and "line 1: invalid JSON" in err


def test_stdin_bytes_not_utf8_and_bom(tiny_model, capsys, monkeypatch, fast, tmp_path):
    class Stdin(io.TextIOWrapper):
        def isatty(self):
            return False

    rc, out, err = run(["--model", tiny_model], capsys, Stdin(io.BytesIO("Caf\u00e9 said so.".encode("latin-1"))),
                       monkeypatch)
    assert rc == 1 and out == "" and "<stdin>: not UTF-8 text" in err
    one_error_line(err)
    text = "The minister said taxes rose."
    rc, out, err = run(["--model", tiny_model], capsys, Stdin(io.BytesIO(b"\xef\xbb\xbf" + text.encode())),
                       monkeypatch)
    rec = json.loads(out)
    assert rc == 0 and rec["text"] == text  # the mark is dropped: offsets count after it
    assert all(text[s["start"]:s["end"]] == s["text"] for s in rec["spans"])
    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode())
    rc, out_file, _ = run(["--model", tiny_model, bom], capsys)
    assert json.loads(out_file)["text"] == text and json.loads(out_file)["spans"] == rec["spans"]


def test_model_without_tokenizer_files_one_line_nothing_written(tiny_model, tmp_path, capsys):
    import shutil

    broken = tmp_path / "model"
    broken.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(tiny_model / name, broken / name)
    cache = Path(os.environ.get("WHOSAID_CACHE") or tmp_path / "no-cache")
    cached = set(cache.rglob("*")) if cache.exists() else set()
    for backend in ("torch", "onnx"):
        rc, out, err = run(["--model", broken, "--backend", backend, SEED], capsys)
        assert rc == 2 and out == ""
        one_error_line(err)
        assert "no tokenizer files" in err
    assert sorted(p.name for p in broken.iterdir()) == ["config.json", "model.safetensors"]
    assert (set(cache.rglob("*")) if cache.exists() else set()) == cached


def test_bad_inputs_are_reported_before_the_model_loads(tiny_model, tmp_path, capsys, no_model):
    bad = jsonl(tmp_path / "bad.jsonl", "{oops")
    rc, out, err = run(["--model", tiny_model, bad, tmp_path / "missing.txt"], capsys)
    assert rc == 1 and out == ""
    assert f"skipped {bad}: line 1: invalid JSON" in err and "missing.txt: no such file or directory" in err
    assert "no articles to predict" in err
    rc, _, err = run(["--model", tmp_path / "nope", SEED], capsys)
    assert rc == 2 and "model directory not found" in err


# ------------------------------------------------------------------ records map back


def test_records_carry_their_text_header_alike_from_file_and_stdin(tiny_model, tmp_path, capsys, monkeypatch,
                                                                     fast):
    raw = SEED.read_text(encoding="utf-8")
    rc, from_file, err = run(["--model", tiny_model, SEED], capsys)
    assert rc == 0, err
    rc, from_stdin, err = run(["--model", tiny_model, "-"], capsys, io.StringIO(raw), monkeypatch)
    assert rc == 0, err
    a, b = json.loads(from_file), json.loads(from_stdin)
    assert a["text"] == b["text"] and not a["text"].startswith(" date") and a["metadata"]["date"]
    assert a["spans"] == b["spans"] and a["attributions"] == b["attributions"]
    assert a["spans"] and all(a["text"][s["start"]:s["end"]] == s["text"] for s in a["spans"])
    rc, out, _ = run(["--model", tiny_model, "--no-text", SEED], capsys)
    assert rc == 0 and "text" not in json.loads(out) and json.loads(out)["spans"] == a["spans"]


def test_user_fields_kept_and_text_field(tiny_model, tmp_path, capsys, fast):
    src = jsonl(tmp_path / "mine.jsonl", {"id": "m1", "body": "The minister said taxes rose.",
                                          "source": "Reuters", "line": "L7", "tags": ["a"]})
    rc, out, err = run(["--model", tiny_model, "--text-field", "body", src], capsys)
    assert rc == 0, err
    rec = json.loads(out)
    assert rec["text"] == "The minister said taxes rose."
    assert {k: rec["metadata"][k] for k in ("source", "line", "tags")} == {"source": "Reuters", "line": "L7",
                                                                           "tags": ["a"]}
    assert "body" not in rec["metadata"]
    rc, _, err = run(["--model", tiny_model, src], capsys)
    assert rc == 1 and "line 1: missing or empty 'text'" in err


# ------------------------------------------------------------------ streaming and resuming


def articles(path: Path, n: int, sentences: int = 4, seed: int = 0) -> Path:
    import random

    rnd = random.Random(seed)
    words = "the minister said that taxes would rise while critics argued growth slowed by 3 percent".split()
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            text = " ".join(f'"{" ".join(rnd.choice(words) for _ in range(12))}," {rnd.choice(["Smith", "Lee"])} '
                            "said." for _ in range(sentences))
            f.write(json.dumps({"id": f"a{i:03d}", "text": text}) + "\n")
    return path


def test_resume_after_a_torn_line_continues(tiny_model, tmp_path, capsys, fast):
    src = articles(tmp_path / "in.jsonl", 12)
    full = tmp_path / "full.jsonl"
    rc, _, err = run(["--model", tiny_model, "--output", full, "--chunk-size", "5", src], capsys)
    assert rc == 0, err
    lines = full.read_text(encoding="utf-8").splitlines(keepends=True)
    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    partial.write_text("".join(lines[:4]) + lines[4][:30], encoding="utf-8")  # killed mid-write
    rc, _, err = run(["--model", tiny_model, "--output", out, src], capsys)
    assert rc == 2 and "--resume" in err and not out.exists()
    rc, _, err = run(["--model", tiny_model, "--output", out, "--skip-done", "--chunk-size", "5", src], capsys)
    assert rc == 0, err
    assert "8 article(s) (and 4 kept from the earlier run)" in err
    got = out.read_text(encoding="utf-8").splitlines(keepends=True)
    assert [json.loads(l)["id"] for l in got] == [json.loads(l)["id"] for l in lines]
    assert got[:4] == lines[:4] and not partial.exists()
    # resuming a finished output: nothing to do, nothing lost
    rc, _, err = run(["--model", tiny_model, "--output", out, "--resume", src], capsys)
    assert rc == 0 and out.read_text(encoding="utf-8").splitlines(keepends=True) == got
    # a file that is not this command's output is never appended to
    notes = tmp_path / "notes.jsonl"
    notes.write_text("my notes\nmore\n")
    rc, _, err = run(["--model", tiny_model, "--output", notes, "--resume", src], capsys)
    assert rc == 2 and "not a whosaid record" in err and notes.read_text() == "my notes\nmore\n"


STREAM_SCRIPT = textwrap.dedent("""
    import json, resource, sys, time, tracemalloc
    from whosaid.inference.predictor import Predictor
    from whosaid.inference.streaming import prepare, run

    from transformers.utils import logging as hf_logging
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()  # as the command does
    model, mode, *inputs = sys.argv[1:]
    predictor = Predictor.from_pretrained(model, threads=1)
    if mode == "memory":
        peaks = []
        for src, out in zip(inputs[::2], inputs[1::2]):
            job = prepare([src], out, chunk_size=10)
            tracemalloc.start()
            run(job, predictor)
            peaks.append((tracemalloc.get_traced_memory()[1], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
            tracemalloc.stop()
            job.close()
        print(json.dumps(peaks))
    else:
        slow = predictor.predict_documents
        def predict_documents(docs, progress=False):
            time.sleep(0.3)
            return slow(docs)
        predictor.predict_documents = predict_documents
        Predictor.from_pretrained = classmethod(lambda cls, *a, **k: predictor)
        from whosaid.cli.predict import main
        sys.exit(main(["--model", model, "--chunk-size", "2", "--no-progress", *inputs]))
""")


def test_memory_is_flat_in_the_number_of_articles(tiny_model, tmp_path):
    """150 articles need no more memory than 10 (chunks of 10): the peak of Python and
    numpy allocations during prediction (tracemalloc) and the process's peak RSS."""
    args = [articles(tmp_path / "a10.jsonl", 10, sentences=3), tmp_path / "o10.jsonl",
            articles(tmp_path / "a150.jsonl", 150, sentences=3, seed=1), tmp_path / "o150.jsonl"]
    proc = subprocess.run([sys.executable, "-c", STREAM_SCRIPT, str(tiny_model), "memory", *map(str, args)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (traced10, rss10), (traced150, rss150) = json.loads(proc.stdout.splitlines()[-1])
    assert len((tmp_path / "o150.jsonl").read_text().splitlines()) == 150
    assert traced150 <= 1.1 * traced10, (traced10, traced150)
    assert rss150 <= 1.1 * rss10, (rss10, rss150)


def test_ctrl_c_leaves_complete_records_and_resume_finishes(tiny_model, tmp_path, capsys, fast):
    src = articles(tmp_path / "in.jsonl", 40)
    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    proc = subprocess.Popen([sys.executable, "-c", STREAM_SCRIPT, str(tiny_model), "sigint", "--output", str(out),
                             str(src)], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        if partial.exists() and partial.read_bytes().count(b"\n") >= 2:
            break
        time.sleep(0.1)
    assert proc.poll() is None, proc.stderr.read()[-3000:]
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err[-3000:]
    assert "Traceback" not in err
    [line] = [l for l in err.splitlines() if l.strip()]
    assert line.startswith("interrupted: ") and "--resume" in line
    assert not out.exists()
    data = partial.read_text(encoding="utf-8")
    assert data.endswith("\n")
    done = [json.loads(l)["id"] for l in data.splitlines()]  # every line a complete record
    assert 2 <= len(done) < 40
    rc, _, err = run(["--model", tiny_model, "--output", out, "--resume", src], capsys)
    assert rc == 0, err
    ids = [json.loads(l)["id"] for l in out.read_text(encoding="utf-8").splitlines()]
    assert ids == [f"a{i:03d}" for i in range(40)]


def test_each_record_is_one_line_for_every_line_splitter(tiny_model, tmp_path, capsys, fast):
    text = "The minister said\u2028taxes\x85rose\u2029today."
    src = jsonl(tmp_path / "in.jsonl", {"id": "a", "text": text})
    rc, out, _ = run(["--model", tiny_model, src], capsys)
    assert rc == 0 and len(out.splitlines()) == 1 and json.loads(out)["text"] == text


@pytest.mark.slow
def test_a_2mb_article_predicts_end_to_end_in_under_3_minutes(tiny_model, tmp_path, capsys):
    """The tiny model's real forward pass, decoding, attribution assembly and speaker
    resolution on one 2 MB article."""
    import random

    rnd = random.Random(2)
    words = "the minister said that taxes would rise while critics argued growth slowed by 3 percent".split()
    parts, size = [], 0
    while size < 2_000_000:
        s = f'"{" ".join(rnd.choice(words) for _ in range(15))}," {rnd.choice(["Smith", "Lee", "she"])} said. '
        parts.append(s)
        size += len(s)
    src = jsonl(tmp_path / "big.jsonl", {"id": "big", "text": "".join(parts)})
    out = tmp_path / "big-pred.jsonl"
    started = time.monotonic()
    rc, _, err = run(["--model", tiny_model, "--threads", "1", "--no-progress", "--output", out, src], capsys)
    seconds = time.monotonic() - started
    assert rc == 0, err
    rec = json.loads(out.read_text(encoding="utf-8"))
    assert len(rec["text"]) >= 2_000_000 and rec["spans"]
    assert all(rec["text"][s["start"]:s["end"]] == s["text"] for s in rec["spans"][:1000])
    assert seconds < 180, seconds


def test_progress_bar_counts_articles_and_words_per_second(tiny_model, tmp_path, capsys, fast):
    src = articles(tmp_path / "in.jsonl", 25, sentences=1)
    rc, out, err = run(["--model", tiny_model, "--chunk-size", "10", src], capsys)
    assert rc == 0 and len(out.splitlines()) == 25
    assert "25/25" in err and "article" in err and "words/s" in err
    rc, _, err = run(["--model", tiny_model, "--no-progress", src], capsys)
    assert rc == 0 and "words/s" not in err
