"""`whosaid export-onnx --model DIR [--quantize] [--no-optimize]`: export a trained
model to ONNX for `--backend onnx` (optionally with dynamic int8 weights).

Without --output the file goes to the cache where `--backend onnx` looks for it
($WHOSAID_CACHE, else ~/.cache/whosaid, under onnx/<hash of the weights>/), never into
the model directory.
"""

from __future__ import annotations

import argparse
import sys

from whosaid.cli import add_overwrite_option
from whosaid.errors import WhosaidError
from whosaid.model.onnx import DEFAULT_KEEP_FP32


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="whosaid export-onnx", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="saved model directory (default: the shipped models/whosaid-news, "
                                    "or $WHOSAID_MODEL)")
    p.add_argument("--output", help="ONNX file to write (default: the cache that --backend onnx reads, "
                                    "$WHOSAID_CACHE or ~/.cache/whosaid/onnx/<weights hash>/)")
    add_overwrite_option(p)
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

    if args.model is None:
        from whosaid.files import default_model_dir

        try:
            args.model = str(default_model_dir())
        except WhosaidError as exc:
            print(f"whosaid export-onnx: error: {exc}", file=sys.stderr)
            return 2

    try:
        path = export_onnx(args.model, args.output, quantize=args.quantize, optimize=not args.no_optimize,
                           keep_fp32=tuple(args.keep_fp32) if args.keep_fp32 is not None else DEFAULT_KEEP_FP32,
                           per_channel=not args.per_tensor, overwrite=args.overwrite)
    except WhosaidError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    size = path.stat().st_size / 2**20
    print(f"wrote {path} ({size:.1f} MiB)")
    return 0
