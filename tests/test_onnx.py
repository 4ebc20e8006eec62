"""ONNX export and backend on a tiny random model: fp32 agrees with torch, int8 runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from whosaid.cli.export_onnx import main
from whosaid.errors import ModelLoadError
from whosaid.model.onnx import (INT8_NAME, ONNX_NAME, OnnxBackend, export_onnx, head_nodes, is_current,
                                nodes_kept_fp32)
from whosaid.inference.predictor import Predictor, TorchBackend
from whosaid.readers.seeds import read_seed
from whosaid.schema import Schema
from tiny_models import build_tiny_model

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "seeds" / "000_6e1d9f0e23a31894.txt"


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    model_dir = build_tiny_model(tmp_path_factory.mktemp("onnx") / "model")
    assert export_onnx(model_dir, quantize=True) == model_dir / INT8_NAME
    return model_dir


def batch(rng, lengths: list[int]) -> tuple[np.ndarray, np.ndarray]:
    width = max(lengths)
    ids = np.zeros((len(lengths), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    for i, n in enumerate(lengths):
        ids[i, :n] = rng.integers(1000, 29000, n)
        ids[i, 0], ids[i, n - 1] = 101, 102
        mask[i, :n] = 1
    return ids, mask


def test_export_writes_both_files_tied_to_the_weights(exported):
    assert (exported / ONNX_NAME).is_file() and (exported / INT8_NAME).is_file()
    assert is_current(exported / ONNX_NAME, exported) and is_current(exported / INT8_NAME, exported)
    assert not list(exported.glob(".*tmp")) and not list(exported.glob(".onnx-export.*"))


def test_fp32_logits_match_torch(exported):
    from whosaid.model.modeling import load_model

    torch_backend = TorchBackend(load_model(exported))
    onnx_backend = OnnxBackend(exported / ONNX_NAME, threads=1)
    rng = np.random.default_rng(0)
    for lengths in ([5], [64, 17, 40], [9, 9]):  # batch and sequence axes are dynamic
        ids, mask = batch(rng, lengths)
        ref, got = torch_backend(ids, mask), onnx_backend(ids, mask)
        assert got.shape == ref.shape == ids.shape + (17,)
        valid = mask.astype(bool)
        assert np.abs(got - ref)[valid].max() < 1e-4


def test_fp32_decodes_identical_spans(exported):
    doc = read_seed(SEED)
    torch_doc = Predictor.from_pretrained(exported, batch_size=4).predict_documents([doc])[0]
    onnx_doc = Predictor.from_pretrained(exported, backend="onnx", batch_size=4).predict_documents([doc])[0]
    assert len(torch_doc.spans) > 20
    assert [s.key for s in onnx_doc.spans] == [s.key for s in torch_doc.spans]
    assert np.allclose([s.score for s in onnx_doc.spans], [s.score for s in torch_doc.spans], atol=1e-4)


def test_int8_runs_with_the_right_shapes_and_keeps_heads_fp32(exported):
    import onnx

    model = onnx.load(str(exported / INT8_NAME))
    ops = {n.op_type for n in model.graph.node}
    assert ops & {"DynamicQuantizeMatMul", "MatMulInteger", "QAttention"}, ops
    heads = head_nodes(model)
    assert len(heads) == len(Schema.default().layers)
    assert all(n.op_type == "MatMul" for n in model.graph.node if n.name in heads)
    backend = OnnxBackend(exported / INT8_NAME, threads=1)
    ids, mask = batch(np.random.default_rng(1), [30, 12])
    out = backend(ids, mask)
    assert out.shape == (2, 30, 17) and out.dtype == np.float32 and np.isfinite(out).all()
    assert nodes_kept_fp32(onnx.load(str(exported / ONNX_NAME))) == heads


def test_stale_onnx_file_is_re_exported(exported, tmp_path):
    model_dir = tmp_path / "model"
    shutil.copytree(exported, model_dir)
    assert is_current(model_dir / ONNX_NAME, model_dir)
    build_tiny_model(model_dir, seed=1)  # new weights in place
    assert not is_current(model_dir / ONNX_NAME, model_dir)
    backend = OnnxBackend.from_model_dir(model_dir, threads=1)
    assert is_current(model_dir / ONNX_NAME, model_dir) and backend.path == model_dir / ONNX_NAME


def test_export_command(exported, tmp_path, capsys):
    out = tmp_path / "plain.onnx"
    assert main(["--model", str(exported), "--no-optimize", "--output", str(out)]) == 0
    assert out.is_file() and "wrote" in capsys.readouterr().out
    ids, mask = batch(np.random.default_rng(2), [20])
    assert np.abs(OnnxBackend(out)(ids, mask) - OnnxBackend(exported / ONNX_NAME)(ids, mask)).max() < 1e-4
    assert main(["--model", str(tmp_path / "missing")]) == 2
    assert "not a model directory" in capsys.readouterr().err


def test_missing_model_dir_raises_model_load_error(tmp_path):
    with pytest.raises(ModelLoadError):
        OnnxBackend.from_model_dir(tmp_path / "missing")


def test_predict_cli_with_quantized_backend(exported, tmp_path, capsys):
    from whosaid.cli.predict import main as predict_main

    out = tmp_path / "pred.jsonl"
    assert predict_main(["--model", str(exported), "--backend", "onnx", "--quantize", "--threads", "1",
                         "--output", str(out), str(SEED)]) == 0
    assert out.read_text(encoding="utf-8").count("\n") == 1
