"""`whosaid export-onnx --model DIR [--quantize] [--no-optimize]`: export a trained
model to ONNX for `--backend onnx` (optionally with dynamic int8 weights).

Without --output the file goes into the model directory (model.onnx or
model.int8.onnx), where `--backend onnx` looks for it.
"""

from __future__ import annotations

import argparse
import sys

from whosaid.errors import WhosaidError
from whosaid.model.onnx import DEFAULT_KEEP_FP32, INT8_NAME, ONNX_NAME


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="whosaid export-onnx", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="saved model directory (a run's model/)")
    p.add_argument("--output", help=f"ONNX file to write (default: DIR/{ONNX_NAME} or DIR/{INT8_NAME})")
    p.add_argument("--quantize", action="store_true", help="dynamic int8 quantization of the encoder weights")
    p.add_argument("--no-optimize", action="store_true", help="skip onnxruntime's BERT graph fusions")
    p.add_argument("--per-tensor", action="store_true",
                   help="with --quantize: one scale per weight matrix instead of one per output column")
    p.add_argument("--keep-fp32", action="append", default=None, metavar="SUBSTRING",
                   help="with --quantize: also keep nodes whose name contains SUBSTRING in fp32 "
                        "(e.g. layer.5/ or Attention_5); repeatable")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from whosaid.model.onnx import export_onnx

    try:
        path = export_onnx(args.model, args.output, quantize=args.quantize, optimize=not args.no_optimize,
                           keep_fp32=tuple(args.keep_fp32) if args.keep_fp32 is not None else DEFAULT_KEEP_FP32,
                           per_channel=not args.per_tensor)
    except WhosaidError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    size = path.stat().st_size / 2**20
    print(f"wrote {path} ({size:.1f} MiB)")
    return 0
