"""predict.py end to end on a tiny random model, and the windowing path with a
planted-logits backend (deterministic: decoding must reproduce the planted spans)."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from whosaid.cli.predict import main
from whosaid.inference.predictor import Predictor
from whosaid.readers.articles import read_inputs
from whosaid.readers.labelstudio_json import read_export
from whosaid.readers.seeds import read_seed
from whosaid.schema import ATTRIBUTION, FIGURE, STANCE, Schema
from whosaid.windows.encoding import EncodingSettings, tokenize_document, window_bounds

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "seeds" / "000_6e1d9f0e23a31894.txt"


def run(argv: list, capsys) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


# ------------------------------------------------------------------ formats


def test_jsonl_on_seed_article(tiny_model, tmp_path, capsys):
    out = tmp_path / "pred.jsonl"
    rc, _, err = run(["--model", tiny_model, "--output", out, SEED], capsys)
    assert rc == 0, err
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    rec = json.loads(lines[0])
    doc = read_seed(SEED)
    assert rec["id"] == doc.id == SEED.stem
    assert rec["spans"], "the tiny model predicts spans"

    def check(part):
        assert doc.text[part["start"]:part["end"]] == part["text"]
        assert 0.0 <= part["score"] <= 1.0

    for s in rec["spans"]:
        check(s)
        assert s["layer"] in ("attribution", "figure", "stance")
    for a in rec["attributions"]:
        check(a["cue"])
        if a["speaker"]:
            check(a["speaker"])
        for c in a["contents"]:
            check(c)
        for f in a["figures"]:
            check(f)
            assert any(c["start"] <= f["start"] and f["end"] <= c["end"] for c in a["contents"])
        assert (a["stance"] is None) == (a["stance_probability"] is None)
    inside = {(f["start"], f["end"]) for a in rec["attributions"] for f in a["figures"]}
    figures = {(s["start"], s["end"]) for s in rec["spans"] if s["layer"] == "figure"}
    assert {(f["start"], f["end"]) for f in rec["figures_outside"]} == figures - inside


def test_labelstudio_output_reads_back_with_identical_spans(tiny_model, tmp_path, capsys):
    out = tmp_path / "tasks.json"
    rc, _, err = run(["--model", tiny_model, "--format", "labelstudio", "--output", out, SEED], capsys)
    assert rc == 0, err
    tasks = json.loads(out.read_text(encoding="utf-8"))
    assert len(tasks) == 1 and "annotations" not in tasks[0]
    pred = tasks[0]["predictions"][0]
    assert pred["model_version"] and isinstance(pred["score"], float)
    schema = Schema.default()  # the project's data/label-config.xml
    names = {r["from_name"] for r in pred["result"] if r["type"] == "labels"}
    assert names <= set(schema.layers) and {r["to_name"] for r in pred["result"] if "to_name" in r} == {schema.to_name}

    expected = Predictor.from_pretrained(tiny_model).predict_documents([read_seed(SEED)])[0]
    back = read_export(out, schema)[0]
    assert back.id == SEED.stem
    assert sorted(s.key for s in back.spans) == sorted(s.key for s in expected.spans)
    assert len(back.attributions) == len(expected.attributions)


def test_html_output(tiny_model, tmp_path, capsys):
    out = tmp_path / "page.html"
    rc, _, err = run(["--model", tiny_model, "--format", "html", "--output", out, SEED], capsys)
    assert rc == 0, err
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "Blinken" in page and "<table>" in page


def test_stdin_plain_text_and_jsonl(tiny_model, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("The minister said unemployment fell.\n"))
    rc, out, err = run(["--model", tiny_model], capsys)
    assert rc == 0, err
    assert [json.loads(l)["id"] for l in out.splitlines()] == ["stdin"]

    lines = [json.dumps({"id": "a", "text": "One said two."}), json.dumps({"id": "b", "text": "Three."})]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    rc, out, err = run(["--model", tiny_model, "-"], capsys)
    assert rc == 0, err
    assert [json.loads(l)["id"] for l in out.splitlines()] == ["a", "b"]


# ---------------------------------------------------------- long articles


class PlantedBackend:
    """Logits that pick one tag per layer for given token ids (else O), whatever the
    window: the decoded spans depend only on window merging and decoding."""

    def __init__(self, schema: Schema, marks: dict[int, dict[str, str]], strength: float = 8.0):
        self.schema, self.marks, self.strength = schema, marks, strength
        sizes = [len(schema.bio_labels(l)) for l in schema.layer_names]
        self.offsets = dict(zip(schema.layer_names, np.cumsum([0] + sizes)[:-1]))
        self.width = sum(sizes)
        self.calls = 0

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        self.calls += 1
        out = np.zeros(input_ids.shape + (self.width,), dtype=np.float32)
        for layer, off in self.offsets.items():
            out[..., off] = self.strength  # O
        for token, tags in self.marks.items():
            rows, cols = np.nonzero(input_ids == token)
            for layer, tag in tags.items():
                off = self.offsets[layer]
                out[rows, cols, off] = 0.0
                out[rows, cols, off + self.schema.label2id(layer)[tag]] = self.strength
        return out


FILLER = "the cat sat on the mat . "


@pytest.fixture(scope="module")
def planted(tiny_model):
    from transformers import AutoTokenizer

    schema = Schema.default()
    tok = AutoTokenizer.from_pretrained(tiny_model)
    ids = {w: tok(w, add_special_tokens=False)["input_ids"] for w in ("minister", "said", "seven", "zebra")}
    assert all(len(v) == 1 for v in ids.values()), ids
    marks = {ids["minister"][0]: {ATTRIBUTION: "B-SPEAKER"},
             ids["said"][0]: {ATTRIBUTION: "B-CUE", STANCE: "B-SUPPORT"},
             ids["seven"][0]: {ATTRIBUTION: "B-CONTENT", FIGURE: "B-FIGURE"},
             ids["zebra"][0]: {ATTRIBUTION: "I-CONTENT"}}
    content = "seven " + " ".join(["zebra"] * 70)
    text = FILLER * 8 + "the minister said " + content + " . " + FILLER * 30
    settings = EncodingSettings(64, 16)
    backend = PlantedBackend(schema, marks)
    predictor = Predictor(backend, tok, schema, settings, batch_size=4, model_version="planted")
    return predictor, text, content


def test_planted_span_across_window_seams_is_decoded_exactly(planted):
    from whosaid.documents import Document

    predictor, text, content = planted
    doc = Document(id="long", text=text)
    tok = tokenize_document(doc, predictor.tokenizer)
    bounds = window_bounds(len(tok.input_ids), predictor.settings)
    assert len(bounds) > 5
    c_start = text.index(content)
    c_end = c_start + len(content)
    first = next(i for i, (s, e) in enumerate(tok.offsets) if s >= c_start)
    last = max(i for i, (s, e) in enumerate(tok.offsets) if e <= c_end)
    seams = [s for s, _ in bounds[1:]] + [e for _, e in bounds[:-1]]
    assert sum(first < b <= last for b in seams) >= 3, "the content crosses several window edges"

    [pred] = predictor.predict_documents([doc])
    said = text.index(" said ") + 1
    minister = text.index("minister")
    expected = {(ATTRIBUTION, "SPEAKER", minister, minister + 8), (ATTRIBUTION, "CUE", said, said + 4),
                (ATTRIBUTION, "CONTENT", c_start, c_end), (FIGURE, "FIGURE", c_start, c_start + 5),
                (STANCE, "SUPPORT", said, said + 4)}
    assert {s.key for s in pred.spans} == expected
    [a] = pred.attributions
    assert (a.speaker.key, a.cue.key, [c.key for c in a.contents], a.stance) == (
        (ATTRIBUTION, "SPEAKER", minister, minister + 8), (ATTRIBUTION, "CUE", said, said + 4),
        [(ATTRIBUTION, "CONTENT", c_start, c_end)], "SUPPORT")
    # Probability of the planted tag: softmax of one logit 8 against the layer's other tags at 0.
    n_stance_tags = len(predictor.schema.bio_labels(STANCE))
    assert a.stance_score == pytest.approx(np.exp(8) / (np.exp(8) + n_stance_tags - 1), abs=1e-4)


@pytest.mark.parametrize("stride", [0, 4, 40])
def test_planted_spans_survive_any_inference_overlap(planted, stride):
    """Less (or no) window overlap at inference still decodes the planted spans exactly."""
    from whosaid.documents import Document

    predictor, text, content = planted
    other = Predictor(predictor.backend, predictor.tokenizer, predictor.schema,
                      EncodingSettings(predictor.settings.max_length, stride), batch_size=3)
    [pred] = other.predict_documents([Document(id="long", text=text)])
    [reference] = predictor.predict_documents([Document(id="long", text=text)])
    assert {s.key for s in pred.spans} == {s.key for s in reference.spans}
    assert len(pred.spans) == 5


def test_stride_option(tiny_model, capsys):
    from whosaid.errors import ModelLoadError

    assert Predictor.from_pretrained(tiny_model).settings.stride == 16          # the model's own
    assert Predictor.from_pretrained(tiny_model, stride=8).settings == EncodingSettings(64, 8)
    with pytest.raises(ModelLoadError, match="stride 70 does not fit"):
        Predictor.from_pretrained(tiny_model, stride=70)
    rc, out, err = run(["--model", tiny_model, "--stride", "70", SEED], capsys)
    assert rc == 2 and out == "" and "stride 70" in err
    rc, out, err = run(["--model", tiny_model, "--stride", "4", SEED], capsys)
    assert rc == 0 and json.loads(out)["id"]


def test_cli_long_article_with_planted_backend(planted, tiny_model, tmp_path, capsys, monkeypatch):
    predictor, text, content = planted
    monkeypatch.setattr(Predictor, "from_pretrained", classmethod(lambda cls, *a, **k: predictor))
    src = tmp_path / "long.jsonl"
    src.write_text(json.dumps({"id": "long", "text": text}) + "\n", encoding="utf-8")
    rc, out, err = run(["--model", tiny_model, src], capsys)
    assert rc == 0, err
    rec = json.loads(out)
    [a] = rec["attributions"]
    assert [c["text"] for c in a["contents"]] == [content]
    assert (a["speaker"]["text"], a["cue"]["text"], a["stance"]) == ("minister", "said", "SUPPORT")
    assert [f["text"] for f in a["figures"]] == ["seven"] and rec["figures_outside"] == []


# ---------------------------------------------------------------- bad inputs


def test_missing_model_dir(tmp_path, capsys):
    rc, out, err = run(["--model", tmp_path / "nope", SEED], capsys)
    assert rc == 2 and out == ""
    assert "model directory not found" in err


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_corrupt_config(tiny_model, tmp_path, capsys, backend):
    broken = tmp_path / "model"
    shutil.copytree(tiny_model, broken)
    (broken / "config.json").write_text("{not json", encoding="utf-8")
    rc, out, err = run(["--model", broken, "--backend", backend, SEED], capsys)
    assert rc == 2 and out == ""
    assert "error: cannot use model" in err and "config.json" in err


def test_incompatible_model_dir(tiny_model, tmp_path, capsys):
    other = tmp_path / "bert"
    shutil.copytree(tiny_model, other)
    (other / "config.json").write_text(json.dumps({"model_type": "bert", "hidden_size": 32}), encoding="utf-8")
    rc, _, err = run(["--model", other, SEED], capsys)
    assert rc == 2 and "error: cannot use model" in err


def test_unreadable_inputs_are_listed_and_others_processed(tiny_model, tmp_path, capsys):
    good = tmp_path / "good.txt"
    good.write_text("The minister said unemployment fell.", encoding="utf-8")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.txt").write_text("Officials said prices rose.", encoding="utf-8")
    (folder / "b.txt").write_bytes(b"\xff\xfe not utf-8 \xff")
    out = tmp_path / "out.jsonl"
    rc, _, err = run(["--model", tiny_model, "--output", out, good, tmp_path / "missing.txt", folder], capsys)
    assert rc == 1
    ids = [json.loads(l)["id"] for l in out.read_text(encoding="utf-8").splitlines()]
    assert ids == ["good", "a"]
    assert "2 input(s) failed" in err
    assert "missing.txt: no such file or directory" in err
    assert "b.txt: not UTF-8" in err


def test_repeated_ids_get_a_suffix(tmp_path):
    for sub in ("x", "y"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "same.txt").write_text(f"Text {sub}.", encoding="utf-8")
    inputs = read_inputs([str(tmp_path / "x"), str(tmp_path / "y")])
    assert [d.id for d in inputs.documents] == ["same", "same~2"]
    assert inputs.documents[1].metadata["original_id"] == "same" and not inputs.failures
