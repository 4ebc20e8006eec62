"""Property: whatever bytes, JSON Lines and paths predict.py is given (existing files,
directories, the input itself as output, stdin), it ends in success or in one line per
problem, never a traceback, and no input file changes (checked by hash).

The model is a cheap deterministic backend on the default tokenizer (no forward pass):
what is tested is the input and output handling around it."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import uuid
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from whosaid.cli.predict import main
from whosaid.inference.predictor import Predictor
from whosaid.schema import Schema
from whosaid.windows.encoding import EncodingSettings
from tiny_models import HashBackend




@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A directory for the examples, a model directory that only looks like one, and
    `Predictor.from_pretrained` answering with the cheap predictor."""
    from transformers import AutoTokenizer

    from whosaid.model.modeling import resolve_encoder

    root = tmp_path_factory.mktemp("property")
    model = root / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    (model / "vocab.txt").write_text("[PAD]\n")
    schema = Schema.default()
    width = sum(len(schema.bio_labels(l)) for l in schema.layer_names)
    predictor = Predictor(HashBackend(width), AutoTokenizer.from_pretrained(resolve_encoder("default")), schema,
                          EncodingSettings(32, 8), batch_size=8, model_version="model/fake")
    with mock.patch.object(Predictor, "from_pretrained", classmethod(lambda cls, *a, **k: predictor)):
        yield root, model


class Stdin(io.TextIOWrapper):
    def isatty(self):
        return False


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                        max_size=3),
                           max_leaves=8)
texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=120) | st.sampled_from(
    ["The minister said taxes rose by 3 percent.", " date 2020-01-02 Headline\nHe said so.", "   ", "\ufeffBOM said."])
records = st.fixed_dictionaries({}, optional={"id": st.text(max_size=4) | st.integers() | json_values,
                                              "text": texts | json_values, "source": st.text(max_size=5),
                                              "extra": json_values})
jsonl_lines = st.one_of(records.map(lambda r: json.dumps(r, ensure_ascii=False)), st.text(max_size=40),
                        st.just("[" * 3000 + "]" * 3000), st.just('{"text": "x", "n": ' + "9" * 5000 + "}"))
jsonl_bytes = st.lists(jsonl_lines, max_size=6).map(lambda ls: "\n".join(ls).encode("utf-8", "surrogatepass"))
content = st.one_of(st.binary(max_size=200), jsonl_bytes, texts.map(lambda t: t.encode("utf-8", "surrogatepass")))

input_kinds = st.sampled_from(["txt", "jsonl", "dir", "missing", "stdin", "other"])
output_kinds = st.sampled_from(["stdout", "new", "existing", "directory", "input", "symlink-to-input",
                                "under-missing", "proc", "under-file", "model-dir"])
flag_sets = st.lists(st.sampled_from([["--overwrite"], ["--force"], ["--no-text"], ["--format", "html"],
                                      ["--format", "labelstudio"], ["--chunk-size", "1"], ["--resume"],
                                      ["--stdin-format", "text"], ["--stdin-format", "jsonl"],
                                      ["--text-field", "source"]]), max_size=3)


def digests(paths) -> dict:
    out = {}
    for p in paths:
        for f in ([p] if p.is_file() else sorted(p.rglob("*")) if p.is_dir() else []):
            if f.is_file() and not f.is_symlink():
                out[str(f)] = hashlib.sha256(f.read_bytes()).hexdigest()
    return out


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(inputs=st.lists(st.tuples(input_kinds, content), min_size=1, max_size=3), output=output_kinds,
       flags=flag_sets, stdin=content)
def test_any_input_and_output_ends_cleanly_and_inputs_never_change(world, inputs, output, flags, stdin):
    root, model = world
    case = root / uuid.uuid4().hex
    case.mkdir()
    specs, files = [], []
    for i, (kind, data) in enumerate(inputs):
        if kind == "stdin":
            specs.append("-")
            continue
        path = case / f"in{i}.{ {'dir': 'd', 'other': 'md'}.get(kind, kind) }"
        if kind == "dir":
            path.mkdir()
            (path / "a.txt").write_bytes(data)
        elif kind != "missing":
            path.write_bytes(data)
        specs.append(str(path))
        files.append(path)
    existing_inputs = [p for p in files if p.exists()]
    first = existing_inputs[0] if existing_inputs else case / "nothing"
    target = {"stdout": None, "new": case / "out" / "pred.jsonl", "existing": case / "old.jsonl",
              "directory": case, "input": first, "symlink-to-input": case / "link.jsonl",
              "under-missing": case / "x" / "y" / "z.jsonl", "proc": Path("/proc/whosaid-prop.jsonl"),
              "under-file": first / "out.jsonl", "model-dir": model / "out.jsonl"}[output]
    if output == "existing":
        target.write_text("mine\n")
    if output == "symlink-to-input":
        target.symlink_to(first)
    argv = ["--model", str(model), "--no-progress", *[a for f in flags for a in f],
            *(["--output", str(target)] if target is not None else []), *specs]
    replace = {"--overwrite", "--force"} & set(argv)
    protected = existing_inputs + [model] + ([target] if output == "existing" and not replace else [])
    before = digests(protected)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            mock.patch("sys.stdin", Stdin(io.BytesIO(stdin))):
        try:
            rc = main(argv)
        except SystemExit as exc:  # argparse: a usage error
            rc = exc.code
    text = err.getvalue()
    assert "Traceback" not in text, text
    assert rc in (0, 1, 2), (rc, text)
    errors = [l for l in text.splitlines() if l.startswith("error:") or ": error:" in l]
    if rc == 2:
        assert len(errors) == 1, text
    for line in text.splitlines():
        assert line.startswith(("skipped ", "error: ", "usage: ", "whosaid predict: error:", " ")) or \
            "input(s) failed" in line or "article(s)" in line, line
    after = digests(protected)
    assert {k: after.get(k) for k in before} == before  # nothing the user wrote was changed or removed
    if output == "existing" and not replace:
        assert target.read_text() == "mine\n"
    if rc == 0 and "--format" not in argv:
        produced = out.getvalue() if target is None else target.read_text(encoding="utf-8")
        for line in produced.splitlines():
            assert isinstance(json.loads(line)["id"], str)
