"""ONNX export and the onnxruntime backend (`--backend onnx`, `--quantize`).

Export (`export_onnx`; on the command line `whosaid export-onnx`):

1. the saved `WhosaidModel` is loaded with eager attention (its traced graph is
   plain MatMul/Softmax, which onnxruntime ran faster than an SDPA export in the
   inference benchmarks and which its BERT optimizer recognises) and exported with the TorchScript exporter
   (opset 17; inputs `input_ids`, `attention_mask` and, for encoders that read
   token types, `token_type_ids`; output `logits`; batch and sequence axes dynamic);
2. onnxruntime's BERT graph optimizer fuses embeddings, attention, GELU and
   layer norms (`--no-optimize` keeps the raw graph);
3. with `--quantize`, dynamic int8 quantization (onnxruntime `quantize_dynamic`,
   QInt8 weights with one scale per output column, activations quantized per
   batch) of the encoder's MatMul and fused Attention nodes (`QUANTIZE_OP_TYPES`).
   The classifier heads (found structurally, `head_nodes`) and the embeddings stay
   fp32: they cost almost nothing and carry the decisions. `--keep-fp32 SUBSTRING`
   keeps more nodes fp32, `--per-tensor` uses one scale per matrix. Measured on
   PolNeAR dev with the reference model: per-column scales keep the attribution
   strict F1 (70.30 -> 70.30, 94% of spans identical to fp32) where per-tensor
   scales lose 0.5 point (69.81, 86% identical) for ~5% more speed.

Files go to a cache outside the model directory (`whosaid.files.cache_dir()`/onnx/
<hash of the weights>/model.onnx and model.int8.onnx), written atomically, so a shipped
or read-only model directory stays untouched. Each file records a fingerprint of the
weights it was exported from;
`OnnxBackend.from_model_dir` exports on first use and re-exports when the
weights changed, so a stale ONNX file is never used.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from whosaid.errors import ModelLoadError
from whosaid.files import cache_dir, check_model_dir, check_output_path, is_model_dir, write_atomic

ONNX_NAME = "model.onnx"
INT8_NAME = "model.int8.onnx"
OPSET = 17
#: Graph inputs; `token_type_ids` only for encoders that read token types (BERT-like).
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
#: Node types whose weights dynamic quantization turns into int8.
QUANTIZE_OP_TYPES = ("MatMul", "Attention")
#: Substrings of node names kept fp32 besides the classifier heads (empty: all
#: encoder MatMul/Attention nodes are quantized). See `nodes_kept_fp32`.
DEFAULT_KEEP_FP32: tuple[str, ...] = ()
#: One int8 scale per output column of each weight instead of one per matrix.
PER_CHANNEL = True
_META_SOURCE = "whosaid.source_fingerprint"
_META_VARIANT = "whosaid.variant"


def onnx_path(model_dir: str | Path, quantize: bool = False) -> Path:
    """Where `--backend onnx` keeps the export of `model_dir`: keyed by its weights' hash."""
    return cache_dir() / "onnx" / weights_fingerprint(model_dir)[:24] / (INT8_NAME if quantize else ONNX_NAME)


def weights_fingerprint(model_dir: str | Path) -> str:
    """sha256 of the saved weights and config: ties an ONNX file to what it was exported from."""
    model_dir = Path(model_dir).resolve()
    files = sorted(model_dir.glob("*.safetensors")) + sorted(model_dir.glob("*.bin")) + [model_dir / "config.json"]
    stamp = tuple((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files if f.is_file())
    return _fingerprint(str(model_dir), stamp)


@functools.lru_cache(maxsize=16)
def _fingerprint(model_dir: str, stamp: tuple) -> str:
    """The hash itself, once per directory state (`stamp`: names, sizes, mtimes)."""
    h = hashlib.sha256()
    for name, _, _ in stamp:
        h.update(name.encode())
        with open(Path(model_dir) / name, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def _variant(optimize: bool, quantize: bool, keep_fp32: Sequence[str] = (), per_channel: bool = False) -> str:
    q = f";per_channel={per_channel};keep_fp32={','.join(keep_fp32)}" if quantize else ""
    return f"opset={OPSET};optimize={optimize};quantize={quantize}{q}"


def _metadata(path: Path) -> dict[str, str]:
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:
        return {}
    return {p.key: p.value for p in model.metadata_props}


def _save_atomic(model, path: Path, meta: dict[str, str]) -> None:
    """Save an ONNX model with `meta` in its metadata, atomically."""
    import onnx

    for key, value in meta.items():
        entry = next((p for p in model.metadata_props if p.key == key), None) or model.metadata_props.add()
        entry.key, entry.value = key, value
    write_atomic(path, lambda tmp: onnx.save(model, tmp))


def _export_raw(model_dir: Path, out: Path) -> None:
    """TorchScript export of the eager-attention model to `out` (fp32, unoptimized)."""
    import torch

    from whosaid.model.modeling import load_model

    model = load_model(model_dir).eval()
    if hasattr(model, "set_attn_implementation"):
        model.set_attn_implementation("eager")
    else:  # older transformers: the attention class is chosen from the config at call time
        for cfg in (model.config, model.encoder.config):
            cfg._attn_implementation = "eager"
    ids = torch.full((2, 16), min(1000, model.encoder.config.vocab_size - 1), dtype=torch.long)
    # token types only for encoders that read them (all 0: a window is one segment)
    names = INPUT_NAMES if model.uses_token_type_ids else INPUT_NAMES[:2]
    args = (ids, torch.ones_like(ids), torch.zeros_like(ids))[:len(names)]
    axes = {name: {0: "batch", 1: "sequence"} for name in (*names, "logits")}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # tracer and deprecation chatter, not actionable here
        kwargs = dict(input_names=list(names), output_names=["logits"], dynamic_axes=axes,
                      opset_version=OPSET, do_constant_folding=True)
        try:
            torch.onnx.export(model, args, str(out), dynamo=False, **kwargs)
        except TypeError:  # a torch without the `dynamo` switch: the TorchScript exporter is the default
            torch.onnx.export(model, args, str(out), **kwargs)


def _optimize(raw: Path, model_dir: Path):
    """onnxruntime's BERT fusions (attention, embeddings, GELU, skip layer norm)."""
    from onnxruntime.transformers.optimizer import optimize_model

    from whosaid.model.modeling import WhosaidConfig

    enc = WhosaidConfig.from_pretrained(model_dir).build_encoder_config()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optimized = optimize_model(str(raw), model_type="bert", num_heads=enc.num_attention_heads,
                                   hidden_size=enc.hidden_size)
    return optimized.model


def head_nodes(model) -> list[str]:
    """The classifier heads: the MatMul nodes reached from the `logits` output
    through Concat/Add only (found structurally: exporters name them differently)."""
    producers = {out: node for node in model.graph.node for out in node.output}
    heads, seen, stack = [], set(), [o.name for o in model.graph.output]
    while stack:
        node = producers.get(stack.pop())
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if node.op_type in ("MatMul", "Gemm"):
            heads.append(node.name)
        elif node.op_type in ("Concat", "Add", "Identity", "Cast"):
            stack.extend(node.input)
    return sorted(heads)


def nodes_kept_fp32(model, keep_fp32: Sequence[str] = DEFAULT_KEEP_FP32) -> list[str]:
    """Names of quantizable nodes that stay fp32: the classifier heads and any
    node whose name contains one of `keep_fp32` (e.g. `layer.5/`, `Attention_0`)."""
    heads = head_nodes(model)
    extra = [n.name for n in model.graph.node if n.op_type in QUANTIZE_OP_TYPES and n.name not in heads
             and any(k in n.name for k in keep_fp32)]
    return heads + extra


def _quantize(fp32_model, out: Path, keep_fp32: Sequence[str], per_channel: bool):
    """The int8 model (weights int8, activations quantized on the fly per batch)."""
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    exclude = nodes_kept_fp32(fp32_model, keep_fp32)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantizer logs a pre-processing hint meant for static quantization
    try:
        quantize_dynamic(fp32_model, tmp, weight_type=QuantType.QInt8, per_channel=per_channel,
                         op_types_to_quantize=list(QUANTIZE_OP_TYPES), nodes_to_exclude=exclude,
                         # Needed for graphs fused by the optimizer (types of fused outputs are unknown).
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        q = onnx.load(tmp)
    finally:
        root.setLevel(level)
        if os.path.exists(tmp):
            os.unlink(tmp)
    return q


def export_onnx(model_dir: str | Path, out_path: str | Path | None = None, *, quantize: bool = False,
                optimize: bool = True, keep_fp32: Sequence[str] = DEFAULT_KEEP_FP32,
                per_channel: bool = PER_CHANNEL, overwrite: bool = False) -> Path:
    """Export a saved model directory to ONNX (int8 with `quantize`); return the file written.

    Defaults to `onnx_path` (the cache `--backend onnx` reads). The fp32 file is
    written there too when quantizing into the cache. An `out_path` inside the model
    directory, or an existing one without `overwrite`, is refused (`OutputError`)
    before any work.
    """
    import onnx

    model_dir = Path(model_dir)
    if not is_model_dir(model_dir):
        raise ModelLoadError(f"{model_dir} is not a model directory (no config.json)")
    if out_path is not None:
        check_output_path(out_path, read_dirs=[model_dir], overwrite=overwrite)
    out = Path(out_path) if out_path is not None else onnx_path(model_dir, quantize)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not os.access(out.parent, os.W_OK):
        raise ModelLoadError(f"cannot write the ONNX model into {out.parent} (read-only); set "
                             "$WHOSAID_CACHE to a writable directory or pass another output path")
    fingerprint = weights_fingerprint(model_dir)
    work = tempfile.mkdtemp(prefix=".onnx-export.", dir=out.parent)
    try:
        raw = Path(work) / "raw.onnx"
        _export_raw(model_dir, raw)
        fp32 = _optimize(raw, model_dir) if optimize else onnx.load(str(raw))
        meta = {_META_SOURCE: fingerprint}
        if not quantize:
            _save_atomic(fp32, out, {**meta, _META_VARIANT: _variant(optimize, False)})
            return out
        if out_path is None:  # keep the fp32 sibling in the cache up to date as well
            _save_atomic(fp32, onnx_path(model_dir), {**meta, _META_VARIANT: _variant(optimize, False)})
        q = _quantize(fp32, out, keep_fp32, per_channel)
        _save_atomic(q, out, {**meta, _META_VARIANT: _variant(optimize, True, keep_fp32, per_channel)})
        return out
    finally:
        for f in Path(work).iterdir():
            f.unlink()
        os.rmdir(work)


def recipe(path: str | Path) -> str | None:
    """How an ONNX file was made (opset, optimization, quantization settings)."""
    return _metadata(Path(path)).get(_META_VARIANT)


def default_recipe(quantize: bool) -> str:
    return _variant(True, quantize, DEFAULT_KEEP_FP32 if quantize else (), PER_CHANNEL if quantize else False)


def is_current(path: Path, model_dir: Path) -> bool:
    """An ONNX file exported from the weights now in `model_dir`."""
    return path.is_file() and _metadata(path).get(_META_SOURCE) == weights_fingerprint(model_dir)


class OnnxBackend:
    """onnxruntime session with the `TorchBackend` calling convention."""

    name = "onnx"

    def __init__(self, path: str | Path, threads: int | None = None):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ModelLoadError(f"cannot load ONNX model {path}: {exc}") from exc
        self.path = Path(path)
        self.inputs = {i.name for i in self.session.get_inputs()}

    @classmethod
    def from_model_dir(cls, model_dir: str | Path, quantize: bool = False, threads: int | None = None) -> "OnnxBackend":
        """Session on `model.onnx` / `model.int8.onnx`, exported first when missing or stale."""
        model_dir = check_model_dir(model_dir)
        path = onnx_path(model_dir, quantize)
        if not is_current(path, model_dir):
            print(f"exporting {path} (first use or weights changed) ...", file=sys.stderr)
            export_onnx(model_dir, quantize=quantize)
        return cls(path, threads=threads)

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        feeds = {"input_ids": input_ids.astype(np.int64, copy=False),
                 "attention_mask": attention_mask.astype(np.int64, copy=False),
                 "token_type_ids": np.zeros_like(input_ids, dtype=np.int64)}
        return self.session.run(["logits"], {k: v for k, v in feeds.items() if k in self.inputs})[0]
