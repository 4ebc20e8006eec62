#!/usr/bin/env python
"""Where the ONNX forward pass spends its time (not a test).

    python benchmarks/profile_onnx.py --model runs/polnear/model [--quantize] [--batch 4] [--length 256]

Runs the model directory's `model.onnx` (or `model.int8.onnx` with `--quantize`;
exported first when missing or stale) on fixed-shape batches of random token ids with
onnxruntime's profiler on, and prints sub-tokens/s and the share of kernel time per
operator type (MatMul, Attention, SkipLayerNormalization, ...). The fixed shape takes
window lengths, padding and decoding out of the picture: this is the graph's own speed
on this machine, to set against the fp32 ceiling in `bench_inference.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="saved model directory (e.g. runs/polnear/model)")
    p.add_argument("--quantize", action="store_true", help="profile the int8 model")
    p.add_argument("--batch", type=int, default=4, help="windows per forward pass (default 4)")
    p.add_argument("--length", type=int, default=256, help="sub-tokens per window (default 256)")
    p.add_argument("--runs", type=int, default=20, help="timed forward passes (default 20)")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)

    import numpy as np
    import onnxruntime as ort

    from whosaid.errors import WhosaidError
    from whosaid.model.onnx import OnnxBackend, export_onnx, is_current, onnx_path

    path = onnx_path(Path(args.model), args.quantize)
    try:
        if not is_current(path, Path(args.model)):
            print(f"exporting {path} ...", file=sys.stderr)
            export_onnx(args.model, quantize=args.quantize)
    except WhosaidError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    ids = np.random.default_rng(0).integers(1000, 20000, (args.batch, args.length), dtype=np.int64)
    mask = np.ones_like(ids)
    backend = OnnxBackend(path, threads=args.threads)  # the session predict.py uses
    for _ in range(3):
        backend(ids, mask)
    started = time.perf_counter()
    for _ in range(args.runs):
        backend(ids, mask)
    rate = args.batch * args.length * args.runs / (time.perf_counter() - started)

    with tempfile.TemporaryDirectory() as tmp:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = args.threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        opts.enable_profiling = True
        opts.profile_file_prefix = os.path.join(tmp, "profile")
        profiled = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        names = {i.name for i in profiled.get_inputs()}
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        feeds = {k: v for k, v in feeds.items() if k in names}
        for _ in range(3 + args.runs):
            profiled.run(None, feeds)
        events = json.loads(Path(profiled.end_profiling()).read_text())
    per_op: dict[str, float] = defaultdict(float)
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            per_op[e["args"]["op_name"]] += e["dur"]
    total = sum(per_op.values()) or 1.0
    print(f"{path.name}: batch {args.batch} x {args.length} sub-tokens, {args.threads} threads: "
          f"{rate:,.0f} sub-tokens/s (timed without the profiler)")
    print("| operator | share of kernel time |\n|---|---:|")
    for op, us in sorted(per_op.items(), key=lambda kv: -kv[1]):
        print(f"| {op} | {100 * us / total:.1f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
