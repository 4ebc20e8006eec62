"""The spaCy component and the transformers pipeline / auto classes, on the seed
article with a tiny random model: the same spans and records as the Predictor."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from whosaid.readers.seeds import read_seed

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "seeds" / "000_6e1d9f0e23a31894.txt"
LAYERS = ("attribution", "figure", "stance")


@pytest.fixture(scope="module")
def seed_text() -> str:
    return read_seed(SEED).text


@pytest.fixture(scope="module")
def texts(seed_text) -> list[str]:
    """The seed article, two of its paragraphs and a short text: windows of several lengths."""
    paragraphs = [p for p in seed_text.split("\n\n") if p.strip()]
    return [seed_text, paragraphs[1], "Kiev says Russia has amassed troops.", paragraphs[2]]


@pytest.fixture(scope="module")
def records(tiny_model, texts):
    from whosaid.inference.predictor import Predictor

    return Predictor.from_pretrained(tiny_model).predict(texts)


@pytest.fixture(scope="module")
def nlp(tiny_model):
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("whosaid", config={"model": str(tiny_model)})
    return nlp


def spacy_spans(doc, layer):
    scores = doc.spans[layer].attrs["scores"]
    return [(s.start_char, s.end_char, s.label_, score) for s, score in zip(doc.spans[layer], scores)]


def close(a, b, tol=2e-4) -> bool:
    """Records (or their parts) equal, floats within `tol` (scores are rounded to 4 digits)."""
    if dataclasses.is_dataclass(a):
        return type(a) is type(b) and close(dataclasses.asdict(a), dataclasses.asdict(b), tol)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(close(a[k], b[k], tol) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(close(x, y, tol) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= tol
    return a == b


# ------------------------------------------------------------------ spaCy


def test_spacy_factory_entry_point_resolves():
    import spacy
    from spacy.util import registry

    from whosaid.integrations.spacy_component import make_whosaid

    (ep,) = [ep for ep in entry_points(group="spacy_factories") if ep.name == "whosaid"]
    assert ep.value == "whosaid.integrations.spacy_component:make_whosaid"
    assert ep.load() is make_whosaid
    spacy.blank("en")  # loads every spacy_factories entry point
    assert registry._entry_point_factories.get("whosaid") is make_whosaid
    assert spacy.language.Language.has_factory("whosaid")


def test_spacy_component_without_model_takes_the_default_model(tiny_model, monkeypatch):
    import spacy

    import whosaid.files

    monkeypatch.setenv("WHOSAID_MODEL", str(tiny_model))
    nlp = spacy.blank("en")
    if not hasattr(whosaid.files, "default_model_dir"):  # a library without a default model
        with pytest.raises(ValueError, match="needs a model directory"):
            nlp.add_pipe("whosaid")
        return
    nlp.add_pipe("whosaid")
    assert nlp.get_pipe("whosaid").predictor.model_version.endswith("/model")
    assert set(LAYERS) <= set(nlp("Kiev says Russia has amassed troops.").spans)


def test_spacy_spans_match_predictor_records(nlp, seed_text, records):
    doc = nlp(seed_text)
    record = records[0]
    assert set(LAYERS) <= set(doc.spans)
    n_exact = 0
    for layer in LAYERS:
        expected = []
        for s in record.spans:
            if s["layer"] != layer:
                continue
            span = doc.char_span(s["start"], s["end"], alignment_mode="expand")
            expected.append((span.start_char, span.end_char, s["label"], s["score"]))
            if doc.char_span(s["start"], s["end"]) is not None:  # on token boundaries: exact
                assert (span.start_char, span.end_char) == (s["start"], s["end"])
                n_exact += 1
            else:  # expanded to whole tokens, never shrunk
                assert span.start_char <= s["start"] and s["end"] <= span.end_char
        got = spacy_spans(doc, layer)
        assert sorted(g[:3] for g in got) == sorted(e[:3] for e in expected)
        assert close(sorted(got), sorted(expected))
        assert {s.label_ for s in doc.spans[layer]} <= set(nlp.get_pipe("whosaid").predictor.schema.layers[layer])
    assert n_exact and sum(map(len, doc.spans.values())) == len(record.spans)
    assert doc._.attributions == record.attributions and record.attributions


def test_spacy_pipe_batches_equal_single_calls(nlp, texts, records):
    piped = list(nlp.pipe(texts, batch_size=3))
    single = [nlp(t) for t in texts]
    for a, b, rec in zip(piped, single, records):
        for layer in LAYERS:
            assert [x[:3] for x in spacy_spans(a, layer)] == [x[:3] for x in spacy_spans(b, layer)]
            assert close(spacy_spans(a, layer), spacy_spans(b, layer), 1e-4)
        assert close(a._.attributions, b._.attributions)
        assert close(a._.attributions, rec.attributions)


def test_spacy_doc_serialisation_keeps_spans_and_attributions(nlp, texts):
    from spacy.tokens import Doc, DocBin

    doc = nlp(texts[1])
    back = Doc(nlp.vocab).from_bytes(doc.to_bytes())
    assert back._.attributions == doc._.attributions
    for layer in LAYERS:
        assert spacy_spans(back, layer) == spacy_spans(doc, layer)
    (again,) = DocBin(docs=[doc], store_user_data=True).get_docs(nlp.vocab)
    assert again._.attributions == doc._.attributions
    assert nlp.make_doc("untouched")._.attributions is None


# ------------------------------------------------------------------ transformers


def test_pipeline_returns_predictor_records(tiny_model, texts, records):
    import whosaid  # noqa: F401  (registers the task)
    from transformers import pipeline

    extract = pipeline("attribution-extraction", model=str(tiny_model), device="cpu")
    assert extract(texts) == records
    one = extract(texts[2], batch_size=1)  # one text: one record, id "0"
    assert close(one, dataclasses.replace(records[2], id="0"))


def test_auto_classes_load_a_saved_model(tiny_model):
    import torch
    from transformers import AutoConfig, AutoModel

    from whosaid.model.modeling import WhosaidConfig, WhosaidModel, load_model

    config = AutoConfig.from_pretrained(tiny_model)
    assert isinstance(config, WhosaidConfig) and config.whosaid_schema.layer_names
    model = AutoModel.from_pretrained(tiny_model)
    assert isinstance(model, WhosaidModel)
    reference = load_model(tiny_model).state_dict()
    assert all(torch.equal(v, reference[k]) for k, v in model.state_dict().items())


def test_auto_classes_and_pipeline_after_import_whosaid_alone(tiny_model):
    """In a fresh interpreter: `import whosaid` imports neither transformers nor torch,
    and yet AutoConfig / AutoModel / the pipeline registry know whosaid models; the
    modeling module loads only when a whosaid config is used."""
    script = f"""
import sys
import whosaid
assert "transformers" not in sys.modules and "torch" not in sys.modules, "import whosaid is not cheap"
from transformers import AutoConfig, AutoModel
from transformers.pipelines import PIPELINE_REGISTRY
assert "attribution-extraction" in PIPELINE_REGISTRY.get_supported_tasks()
assert "whosaid.model.modeling" not in sys.modules
config = AutoConfig.from_pretrained({str(tiny_model)!r})
model = AutoModel.from_pretrained({str(tiny_model)!r})
print(type(config).__name__, type(model).__name__, config.whosaid_schema.layer_names)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[:2] == ["WhosaidConfig", "WhosaidModel"]
