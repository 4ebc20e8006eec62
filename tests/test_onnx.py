"""ONNX export and backend on a tiny random model: fp32 agrees with torch, int8 runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from whosaid.cli.export_onnx import main
from whosaid.errors import ModelLoadError
from whosaid.model.onnx import (OnnxBackend, export_onnx, head_nodes, is_current, nodes_kept_fp32,
                                onnx_path)
from whosaid.inference.predictor import Predictor, TorchBackend
from whosaid.readers.seeds import read_seed
from whosaid.schema import Schema
from tiny_models import build_tiny_model

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "seeds" / "000_6e1d9f0e23a31894.txt"


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    model_dir = build_tiny_model(tmp_path_factory.mktemp("onnx") / "model")
    assert export_onnx(model_dir, quantize=True) == onnx_path(model_dir, quantize=True)
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


def test_export_writes_both_files_tied_to_the_weights_into_the_cache(exported):
    fp32, int8 = onnx_path(exported), onnx_path(exported, quantize=True)
    assert fp32.is_file() and int8.is_file()
    assert is_current(fp32, exported) and is_current(int8, exported)
    assert not list(fp32.parent.glob(".*tmp")) and not list(fp32.parent.glob(".onnx-export.*"))
    # the model directory itself is never written to
    assert not list(exported.glob("*.onnx")) and not list(exported.glob(".*"))


def test_fp32_logits_match_torch(exported):
    from whosaid.model.modeling import load_model

    torch_backend = TorchBackend(load_model(exported))
    onnx_backend = OnnxBackend(onnx_path(exported), threads=1)
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

    model = onnx.load(str(onnx_path(exported, quantize=True)))
    ops = {n.op_type for n in model.graph.node}
    assert ops & {"DynamicQuantizeMatMul", "MatMulInteger", "QAttention"}, ops
    heads = head_nodes(model)
    assert len(heads) == len(Schema.default().layers)
    assert all(n.op_type == "MatMul" for n in model.graph.node if n.name in heads)
    backend = OnnxBackend(onnx_path(exported, quantize=True), threads=1)
    ids, mask = batch(np.random.default_rng(1), [30, 12])
    out = backend(ids, mask)
    assert out.shape == (2, 30, 17) and out.dtype == np.float32 and np.isfinite(out).all()
    assert nodes_kept_fp32(onnx.load(str(onnx_path(exported)))) == heads


def test_stale_onnx_file_is_re_exported(exported, tmp_path):
    model_dir = tmp_path / "model"
    shutil.copytree(exported, model_dir)
    old = onnx_path(model_dir)
    assert is_current(old, model_dir)
    build_tiny_model(model_dir, seed=1)  # new weights in place
    assert not is_current(old, model_dir) and onnx_path(model_dir) != old
    backend = OnnxBackend.from_model_dir(model_dir, threads=1)
    assert is_current(onnx_path(model_dir), model_dir) and backend.path == onnx_path(model_dir)


def test_export_command(exported, tmp_path, capsys):
    out = tmp_path / "plain.onnx"
    assert main(["--model", str(exported), "--no-optimize", "--output", str(out)]) == 0
    assert out.is_file() and "wrote" in capsys.readouterr().out
    ids, mask = batch(np.random.default_rng(2), [20])
    assert np.abs(OnnxBackend(out)(ids, mask) - OnnxBackend(onnx_path(exported))(ids, mask)).max() < 1e-4
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
