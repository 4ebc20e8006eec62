"""Any encoder: tiny random RoBERTa, DeBERTa-v2 and ELECTRA checkpoints (built in the
test, seconds) train a few steps, predict and export to ONNX; `model.encoder` takes a
checkpoint directory or a model-hub id, and an offline hub id fails in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from whosaid.errors import ConfigError

TEXT = ('"We will not raise taxes," the mayor said on Monday. Critics, including two council '
        'members, said the plan would cost 40 million dollars.')


@pytest.fixture(scope="module", params=["roberta", "deberta-v2", "electra"])
def trained(request, tiny_encoder, repo_root, tmp_path_factory):
    """(kind, run directory) of a 3-step smoke run on a tiny encoder of that family."""
    from whosaid.config import load_config
    from whosaid.training.train import train

    kind = request.param
    encoder = tiny_encoder(kind)
    out = tmp_path_factory.mktemp(f"run-{kind}") / "run"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(repo_root)
        cfg = load_config(repo_root / "configs" / "smoke.yaml",
                          [f"model.encoder={encoder}", "model.random_init=false", "model.encoder_overrides={}",
                           "training.max_steps=3", "training.eval_steps=3"])
        train(cfg, out)
    return kind, out


def test_windows_carry_the_tokenizers_special_tokens(trained):
    from transformers import AutoTokenizer

    from whosaid.documents import Document
    from whosaid.schema import Schema
    from whosaid.windows.encoding import EncodingSettings, encode_documents

    kind, run = trained
    tok = AutoTokenizer.from_pretrained(run / "model")
    first, last = {"roberta": ("<s>", "</s>"), "deberta-v2": ("[CLS]", "[SEP]"), "electra": ("[CLS]", "[SEP]")}[kind]
    _, windows = encode_documents([Document("d", TEXT * 4)], Schema.default(), tok, EncodingSettings(32, 8))
    assert len(windows) > 1
    for w in windows:
        assert tok.convert_ids_to_tokens(w.input_ids[0]) == first
        assert tok.convert_ids_to_tokens(w.input_ids[-1]) == last
        assert len(w.input_ids) <= 32 and w.content_start == 1


def test_trains_and_predicts(trained):
    from whosaid.documents import Document
    from whosaid.inference.predictor import Predictor

    kind, run = trained
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["layers"]["attribution"]["CUE"]["support"] == 28
    saved = json.loads((run / "model" / "config.json").read_text())
    assert saved["encoder_config"]["model_type"] == kind
    predictor = Predictor.from_pretrained(run / "model")
    assert predictor.backend.model.encoder.config.model_type == kind
    doc = predictor.predict_documents([Document("d", TEXT)])[0]
    for span in doc.spans:
        piece = TEXT[span.start:span.end]
        assert piece and piece == piece.strip(), (kind, span)   # no space taken from SentencePiece offsets
    records = predictor.predict([TEXT])
    assert len(records) == 1


def test_exports_to_onnx(trained, tmp_path):
    import onnxruntime as ort

    from whosaid.inference.predictor import Predictor, TorchBackend
    from whosaid.model.onnx import OnnxBackend, export_onnx

    kind, run = trained
    path = export_onnx(run / "model", tmp_path / "model.onnx")
    inputs = {i.name for i in ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).get_inputs()}
    assert inputs == ({"input_ids", "attention_mask"} if kind == "deberta-v2"
                      else {"input_ids", "attention_mask", "token_type_ids"})
    torch_predictor = Predictor.from_pretrained(run / "model")
    ids = np.array([[1] + [5, 6, 7, 8, 9] + [2], [1, 5, 6, 2, 0, 0, 0]], dtype=np.int64)
    mask = np.array([[1] * 7, [1, 1, 1, 1, 0, 0, 0]], dtype=np.int64)
    expected = TorchBackend(torch_predictor.backend.model)(ids, mask)
    got = OnnxBackend(path)(ids, mask)
    np.testing.assert_allclose(got[mask == 1], expected[mask == 1], atol=1e-4)


def test_encoder_setting_takes_a_directory_or_a_hub_id(smoke_config, tmp_path):
    assert smoke_config("model.encoder=roberta-base").model.encoder == "roberta-base"
    assert smoke_config("model.encoder=microsoft/deberta-v3-small").model.encoder == "microsoft/deberta-v3-small"
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="model.encoder: .* is a file"):
        smoke_config(f"model.encoder={tmp_path / 'file'}")
    with pytest.raises(ConfigError, match="model.encoder: checkpoint directory not found, and .* is not a model-hub id"):
        smoke_config("model.encoder=not a/valid id")


def test_offline_hub_id_fails_in_one_line(repo_root, tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "train.py", "--config", "configs/smoke.yaml", "--output-dir",
                          str(tmp_path / "run"),
                          "--set", "model.encoder=whosaid-tests/no-such-encoder", "--set", "model.random_init=false"],
                         cwd=repo_root, capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 2, out.stderr[-2000:]
    errors = [line for line in out.stderr.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and "Traceback" not in out.stderr
    assert "model.encoder" in errors[0] and "whosaid-tests/no-such-encoder" in errors[0]
    assert "offline" in errors[0]
    assert not (tmp_path / "run" / "model").exists()
