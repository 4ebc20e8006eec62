#!/usr/bin/env python
"""Inference speed, memory and accuracy of the backends on PolNeAR dev (not a test).

    python benchmarks/bench_inference.py --model runs/polnear/model [--threads 2] [--limit N]
        [--polnear PATH] [--output results.json]

Variants, each run alone in its own subprocess (so peak memory is its own and no
two variants compete for the cores):

  (a) pipeline   Hugging Face `pipeline("token-classification")` on a plain
                 `AutoModelForTokenClassification` with the same encoder, weights
                 and window (the model's encoder plus its three heads concatenated
                 into one classifier; tokenizer max length = the model's window,
                 `stride` = its overlap or `--stride`, `aggregation_strategy="simple"`, default
                 batch size): what a user would otherwise write;
  (b) torch      our `Predictor` with the torch backend (length-sorted windows, batched);
  (c) onnx       our `Predictor` with the ONNX fp32 backend;
  (d) onnx-int8  our `Predictor` with the ONNX dynamic int8 backend.

Each worker imports its libraries and reads the articles, then records
`ru_maxrss`, loads the model, warms up on the shortest article, and times one pass
over all articles (tokenization, windows, forward passes, decoding; for (b)-(d)
also attribution assembly); (b)-(d) use `--batch-size` windows per forward pass
(default 4, predict.py's default). Reported: words/s end to end (whitespace words of the
article texts); for (b)-(d) model sub-tokens/s (window tokens, specials and
overlaps included, over the time spent in forward passes only); peak RSS of the
worker and its growth after the imports and data (model + inference); load time;
ratios to (a); strict micro F1 of (b)-(d) against PolNeAR dev gold (per layer and
pooled over layers; figure/stance gold exist only on the dev articles with gold
overlays); and the agreement of (c)/(d) with (b): the F1 of the variant's
predicted spans against torch's (100% = identical spans).

ONNX files: the model directory's `model.onnx` / `model.int8.onnx` when they are
current and made with the default recipe (else exported first, outside timing;
`--int8-keep-fp32` / `--int8-per-tensor` try another int8 recipe in a temporary
directory without touching the model's files).

`--rounds N` runs the variants N times, interleaved (a b c d a b c d ...), and
reports for each the round with the median words/s (the spread in brackets), its
forward rate as the median over rounds, and the ratio to (a) as the median of the
ratios within each round: this host's speed drifts by 10-20% over minutes (CPU steal),
and interleaving keeps a slow patch from landing on one variant only.

The fp32 compute ceiling: `--peak-gflops` (135 GFLOP/s, the matmul peak of this
machine's 2 cores) / 23 MFLOP per sub-token (MiniLM-L6, 256-token windows) =
5,800 sub-tokens/s. (c) is compared with it twice: forward passes only (window
sub-tokens/s: compute efficiency) and end to end (article sub-tokens/s: useful
throughput, which also pays for tokenization, decoding and window overlap). Each
round also measures what the cores deliver right now to this model's encoder GEMM
shapes, in onnxruntime (MLAS) and torch (MKL), and (c)'s forward rate is set
against that measured GEMM rate as well.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VARIANTS = ("pipeline", "torch", "onnx", "onnx-int8")
LABELS = {"pipeline": "(a) HF pipeline", "torch": "(b) torch backend", "onnx": "(c) ONNX fp32",
          "onnx-int8": "(d) ONNX int8"}
ISSUE_MFLOP_PER_SUBTOKEN = 23.0


def prepare_onnx(args) -> dict:
    """ONNX files for (c) and (d): the model directory's own when they are current
    and made with the requested recipe, else a fresh export into --onnx-dir (the
    user's files are never replaced by a differently made one)."""
    from whosaid.model.onnx import default_recipe, export_onnx, is_current, onnx_path, recipe

    model_dir = Path(args.model)
    keep = tuple(args.int8_keep_fp32 or ())
    custom = bool(keep) or args.int8_per_tensor
    paths, seconds = {}, {}
    for quantize in (False, True):
        path = onnx_path(model_dir, quantize)
        wanted_default = not (quantize and custom)
        if wanted_default and is_current(path, model_dir) and recipe(path) == default_recipe(quantize):
            paths[quantize] = str(path)
            continue
        if wanted_default and os.access(model_dir, os.W_OK) and (not path.exists() or recipe(path) == default_recipe(quantize)):
            target = None  # the model directory's default file
        else:
            target = Path(args.onnx_dir) / path.name
        started = time.perf_counter()
        kw = {"keep_fp32": keep, "per_channel": not args.int8_per_tensor} if quantize else {}
        paths[quantize] = str(export_onnx(model_dir, target, quantize=quantize, overwrite=True, **kw))
        seconds[Path(paths[quantize]).name] = round(time.perf_counter() - started, 1)
    return {"onnx": paths[False], "onnx-int8": paths[True], "exported_seconds": seconds,
            "int8_recipe": recipe(paths[True])}


def gemm_probe(args) -> dict:
    """GFLOP/s of this model's encoder GEMMs (one layer's M x h x 3h, M x h x h, M x h x i,
    M x i x h; M = batch x window tokens) in onnxruntime (MLAS) and torch (MKL), measured
    now: what the cores deliver to this model's matrix shapes during this run."""
    import numpy as np
    import onnxruntime as ort
    import torch
    from onnx import TensorProto, helper, numpy_helper

    from whosaid.model.modeling import WhosaidConfig

    torch.set_num_threads(args.threads)
    cfg = WhosaidConfig.from_pretrained(args.model)
    enc = cfg.build_encoder_config()
    h, i, m = enc.hidden_size, enc.intermediate_size, args.batch_size * cfg.encoding.max_length
    shapes = [(m, h, 3 * h), (m, h, h), (m, h, i), (m, i, h)]
    rng = np.random.default_rng(0)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = args.threads
    opts.log_severity_level = 3
    xs = {k: rng.standard_normal((m, k), dtype=np.float32) for k in (h, i)}
    ws = [rng.standard_normal((k, n), dtype=np.float32) for _, k, n in shapes]
    # onnxruntime: one graph holding the four products (one session, one thread pool).
    graph = helper.make_graph(
        [helper.make_node("MatMul", [f"X{k}", f"W{j}"], [f"Y{j}"]) for j, (_, k, _) in enumerate(shapes)], "gemm",
        [helper.make_tensor_value_info(f"X{k}", TensorProto.FLOAT, [m, k]) for k in (h, i)],
        [helper.make_tensor_value_info(f"Y{j}", TensorProto.FLOAT, [m, n]) for j, (_, _, n) in enumerate(shapes)],
        [numpy_helper.from_array(w, f"W{j}") for j, w in enumerate(ws)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    feeds = {f"X{k}": x for k, x in xs.items()}
    txs = {k: torch.from_numpy(x) for k, x in xs.items()}
    tws = [torch.from_numpy(w) for w in ws]
    runs = {"onnxruntime": lambda: sess.run(None, feeds),
            "torch": lambda: [torch.mm(txs[k], w) for (_, k, _), w in zip(shapes, tws)]}
    flop = sum(2 * a * b * c for a, b, c in shapes)
    samples: dict[str, list[float]] = {lib: [] for lib in runs}
    with torch.inference_mode():
        for call in runs.values():
            call()
        for _ in range(5):  # alternate the two libraries; ~0.3 s each time
            for lib, call in runs.items():
                started, reps = time.perf_counter(), 0
                while time.perf_counter() - started < 0.3:
                    call()
                    reps += 1
                samples[lib].append(reps * flop / (time.perf_counter() - started) / 1e9)
    rates = {lib: statistics.median(v) for lib, v in samples.items()}
    return {"shapes": shapes, "gflops": rates}


def rss_mib() -> float:
    """High-water mark of this process's resident memory (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


# ---------------------------------------------------------------- worker side


def load_articles(polnear: Path, limit: int | None):
    """PolNeAR dev gold (with the repository's gold figure/stance overlays)."""
    from whosaid.evaluation.evaluate import load_gold

    overlays = REPO / "data" / "polnear-gold"
    docs, _ = load_gold(str(polnear / "dev"), overlays=str(overlays) if overlays.is_dir() else None)
    docs = sorted(docs, key=lambda d: d.id)
    return docs[:limit] if limit else docs


def pipeline_model(model_dir: Path):
    """A plain AutoModelForTokenClassification holding the saved model's weights."""
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForTokenClassification

    from whosaid.model.modeling import WhosaidConfig

    cfg = WhosaidConfig.from_pretrained(model_dir)
    schema = cfg.whosaid_schema
    tags = [f"{t[:2]}{layer}.{t[2:]}" if t != "O" else f"O.{layer}" for layer in schema.layer_names
            for t in schema.bio_labels(layer)]
    enc_cfg = cfg.build_encoder_config()
    enc_cfg.num_labels = len(tags)
    enc_cfg.id2label = dict(enumerate(tags))
    enc_cfg.label2id = {t: i for i, t in enumerate(tags)}
    model = AutoModelForTokenClassification.from_config(enc_cfg)
    weights = load_file(str(model_dir / "model.safetensors"))
    prefix = model.base_model_prefix
    state = {f"{prefix}.{k[len('encoder.'):]}": v for k, v in weights.items() if k.startswith("encoder.")}
    state["classifier.weight"] = torch.cat([weights[f"heads.{l}.weight"] for l in schema.layer_names])
    state["classifier.bias"] = torch.cat([weights[f"heads.{l}.bias"] for l in schema.layer_names])
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if "position_ids" not in k]
    if missing or unexpected:
        raise SystemExit(f"pipeline model: weights do not fit (missing {missing}, unexpected {unexpected})")
    return model.eval(), cfg


def encoding_settings(model_dir: Path, stride: int | None):
    """The model's window settings, with the benchmark's `--stride` (window overlap) if given."""
    from dataclasses import replace

    from whosaid.model.modeling import WhosaidConfig

    settings = WhosaidConfig.from_pretrained(model_dir).encoding
    return settings if stride is None else replace(settings, stride=stride)


def window_subtokens(docs, model_dir: Path, stride: int | None) -> tuple[int, int, int]:
    """(sub-tokens the model computes, windows, sub-tokens of the articles) under our windowing."""
    from transformers import AutoTokenizer

    from whosaid.model.modeling import WhosaidConfig
    from whosaid.windows.encoding import encode_documents

    cfg = WhosaidConfig.from_pretrained(model_dir)
    tok = AutoTokenizer.from_pretrained(model_dir)
    toks, windows = encode_documents(list(docs), cfg.whosaid_schema, tok, encoding_settings(model_dir, stride),
                                     with_labels=False)
    return sum(len(w.input_ids) for w in windows), len(windows), sum(len(t.input_ids) for t in toks)


def worker(variant: str, args) -> dict:
    import torch

    torch.set_num_threads(args.threads)
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    if variant == "pipeline":
        from transformers import AutoTokenizer, pipeline
    else:
        from whosaid.evaluation.metrics import compute_metrics
        from whosaid.inference.predictor import Predictor
        if variant.startswith("onnx"):
            import onnxruntime  # noqa: F401  (imported before the memory baseline)
    docs = load_articles(Path(args.polnear), args.limit)
    texts = [d.text for d in docs]
    words = sum(len(t.split()) for t in texts)
    subtokens, n_windows, article_subtokens = window_subtokens(docs, Path(args.model), args.stride)
    # Warm-up (untimed, the same for every variant): the shortest and the longest article,
    # so both short and full-width window shapes have been seen once.
    warm = [min(docs, key=lambda d: len(d.text)), max(docs, key=lambda d: len(d.text))]
    rss_before = rss_mib()

    started = time.perf_counter()
    if variant == "pipeline":
        model, cfg = pipeline_model(Path(args.model))
        tok = AutoTokenizer.from_pretrained(args.model)
        tok.model_max_length = cfg.window_length
        pipe = pipeline("token-classification", model=model, tokenizer=tok, aggregation_strategy="simple",
                        stride=encoding_settings(Path(args.model), args.stride).stride, device=-1)
    elif variant == "torch":
        predictor = Predictor.from_pretrained(args.model, threads=args.threads, batch_size=args.batch_size,
                                              stride=args.stride)
    else:  # the exact file prepared for this run
        from transformers import AutoTokenizer

        from whosaid.model.modeling import WhosaidConfig
        from whosaid.model.onnx import OnnxBackend

        cfg = WhosaidConfig.from_pretrained(args.model)
        predictor = Predictor(OnnxBackend(args.onnx_file, threads=args.threads),
                              AutoTokenizer.from_pretrained(args.model), cfg.whosaid_schema,
                              encoding_settings(Path(args.model), args.stride),
                              batch_size=args.batch_size)
    load_s = time.perf_counter() - started

    result: dict = {"variant": variant, "articles": len(docs), "words": words, "window_subtokens": subtokens,
                    "windows": n_windows, "article_subtokens": article_subtokens, "load_seconds": round(load_s, 2)}
    if variant == "pipeline":
        pipe([d.text for d in warm])
        started = time.perf_counter()
        out = pipe(texts)
        seconds = time.perf_counter() - started
        result["entities"] = sum(len(o) for o in out)
    else:
        predictor.predict_documents(warm)
        backend, forward = predictor.backend, [0.0]

        def timed_backend(ids, mask):  # time spent in the model itself
            t = time.perf_counter()
            out = backend(ids, mask)
            forward[0] += time.perf_counter() - t
            return out

        predictor.backend = timed_backend
        started = time.perf_counter()
        pred = predictor.predict_documents(docs)
        seconds = time.perf_counter() - started
        result["forward_seconds"] = round(forward[0], 3)
        result["forward_subtokens_per_second"] = subtokens / forward[0]
        metrics = compute_metrics(docs, pred, predictor.schema)
        result["strict"] = {layer: v["micro"] for layer, v in metrics["layers"].items()}
        result["attributions_f1"] = metrics["attributions"]["f1"]
        result["spans"] = {d.id: sorted(list(s.key) for s in d.spans) for d in pred}
        result["predicted_per_layer"] = {
            layer: sum(1 for d, g in zip(pred, docs) if layer in g.layers for s in d.spans if s.layer == layer)
            for layer in metrics["layers"]}
    peak = rss_mib()
    result.update(seconds=round(seconds, 3), words_per_second=words / seconds,
                  subtokens_per_second=subtokens / seconds, peak_rss_mib=round(peak, 1),
                  rss_growth_mib=round(peak - rss_before, 1))
    return result


# ---------------------------------------------------------------- parent side


def pooled_f1(result: dict) -> float | None:
    """Strict micro F1 pooled over layers, from each layer's P/R/support (counts recovered)."""
    tp = n_pred = n_gold = 0.0
    for layer, m in result.get("strict", {}).items():
        t = m["recall"] * m["support"]
        tp += t
        n_gold += m["support"]
        n_pred += t / m["precision"] if m["precision"] else result["predicted_per_layer"].get(layer, 0)
    return 2 * tp / (n_pred + n_gold) if n_pred + n_gold else None


def span_agreement(ref: dict, other: dict) -> float | None:
    """F1 of `other`'s predicted spans against `ref`'s (1.0 = identical spans)."""
    same = n_ref = n_other = 0
    for doc_id, spans in ref["spans"].items():
        a = {tuple(s) for s in spans}
        b = {tuple(s) for s in other["spans"].get(doc_id, [])}
        same += len(a & b)
        n_ref += len(a)
        n_other += len(b)
    return 2 * same / (n_ref + n_other) if n_ref + n_other else None


def flops_per_subtoken(model_dir: Path, mean_window: float) -> float:
    """Forward FLOPs per sub-token: 2 x (linear weights) + attention scores and mixing."""
    from whosaid.model.modeling import WhosaidConfig

    cfg = WhosaidConfig.from_pretrained(model_dir)
    enc = cfg.build_encoder_config()
    h, i, n = enc.hidden_size, enc.intermediate_size, enc.num_hidden_layers
    tags = sum(len(cfg.whosaid_schema.bio_labels(l)) for l in cfg.whosaid_schema.layer_names)
    linear = n * (4 * h * h + 2 * h * i) + h * tags
    attention = n * 2 * mean_window * h
    return 2 * linear + 2 * attention


def median_round(results: list[dict]) -> dict:
    """The round with the median words/s (for an even count, the lower middle one)."""
    ranked = sorted(results, key=lambda r: r["words_per_second"])
    return dict(ranked[(len(ranked) - 1) // 2])


def run_child(argv: list[str], threads: int) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
               TOKENIZERS_PARALLELISM="false", PYTHONPATH=str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        proc = subprocess.run([sys.executable, __file__, *argv, "--result", str(out)], env=env)
        if proc.returncode != 0 or not out.is_file():
            raise SystemExit(f"benchmark step {argv[:2]} failed (exit {proc.returncode})")
        return json.loads(out.read_text())


def table(results: dict, ceiling: dict) -> str:
    rows = ["| variant | words/s | x (a) | model sub-tokens/s | peak RSS MiB | RSS growth MiB | load s "
            "| strict F1 pooled | attribution | figure | stance | spans = torch |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for v in VARIANTS:
        r = results.get(v)
        if not r:
            continue
        ratio = f"{r['ratio_to_pipeline']:.2f}" if "ratio_to_pipeline" in r else ("1.00" if v == "pipeline" else "-")
        spread = r.get("rounds_words_per_second", [])
        words = f"{r['words_per_second']:,.0f}" + (f" ({min(spread):,.0f}–{max(spread):,.0f})" if len(spread) > 1 else "")
        strict = r.get("strict", {})

        def f1(layer):
            return f"{100 * strict[layer]['f1']:.1f}" if layer in strict else "-"

        pooled = pooled_f1(r)
        agree = r.get("agreement")
        subtokens = "-" if v == "pipeline" else f"{r['forward_subtokens_per_second']:,.0f}"
        rows.append(f"| {LABELS[v]} | {words} | {ratio} | {subtokens} "
                    f"| {r['peak_rss_mib']:,.0f} | {r['rss_growth_mib']:,.0f} | {r['load_seconds']:.1f} "
                    f"| {'-' if pooled is None else f'{100 * pooled:.1f}'} | {f1('attribution')} | {f1('figure')} "
                    f"| {f1('stance')} | {'-' if agree is None else f'{100 * agree:.2f}%'} |")
    text = "\n".join(rows)
    if ceiling:
        c = ceiling
        text += (f"\n\nfp32 compute ceiling: {c['peak_gflops']:.0f} GFLOP/s / {ISSUE_MFLOP_PER_SUBTOKEN:.0f} MFLOP per "
                 f"sub-token = {c['ceiling_subtokens_per_second']:,.0f} sub-tokens/s (this model's config: "
                 f"{c['model_mflop_per_subtoken']:.1f} MFLOP -> {c['model_ceiling_subtokens_per_second']:,.0f}).\n"
                 f"(c) ONNX fp32, forward passes only: {c['forward_subtokens_per_second']:,.0f} window sub-tokens/s = "
                 f"{100 * c['forward_fraction']:.0f}% of the ceiling.\n"
                 f"(c) ONNX fp32, end to end: {c['end_to_end_article_subtokens_per_second']:,.0f} article sub-tokens/s = "
                 f"{100 * c['end_to_end_fraction']:.0f}% of the ceiling ({100 * c['overlap_share']:.0f}% of the computed "
                 f"window tokens are window overlap and special tokens).")
        g = c.get("measured_gemm_gflops")
        if g:
            text += (f"\nMeasured in this run, this model's encoder GEMMs run at {g['onnxruntime']:.0f} GFLOP/s in "
                     f"onnxruntime and {g['torch']:.0f} GFLOP/s in torch; (c)'s forward passes deliver "
                     f"{c['forward_gflops']:.0f} GFLOP/s = {100 * c['forward_gflops'] / g['onnxruntime']:.0f}% of "
                     f"onnxruntime's GEMM rate.")
    return text


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="saved model directory (e.g. runs/polnear/model)")
    p.add_argument("--polnear", help="PolNeAR root (default $WHOSAID_POLNEAR or ../shared/polnear)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=4,
                   help="windows per batch for (b)-(d) (default 4, as predict.py; see the README)")
    p.add_argument("--stride", type=int,
                   help="window overlap in sub-tokens for every variant, (a) included (default: the model's)")
    p.add_argument("--limit", type=int, help="only the first N dev articles (by id)")
    p.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated subset of {','.join(VARIANTS)}")
    p.add_argument("--rounds", type=int, default=1,
                   help="run the variants N times, interleaved (a b c d a b c d ...), and report the median "
                        "round of each (this host's speed drifts; ratios are taken within each round)")
    p.add_argument("--peak-gflops", type=float, default=135.0, help="fp32 matmul peak of the machine")
    p.add_argument("--output", help="write all results as JSON here (atomically)")
    p.add_argument("--int8-keep-fp32", action="append", metavar="SUBSTRING",
                   help="(d) with these nodes kept fp32 as well (see `whosaid export-onnx --keep-fp32`); repeatable")
    p.add_argument("--int8-per-tensor", action="store_true", help="(d) with one scale per weight matrix")
    p.add_argument("--worker", choices=VARIANTS + ("prepare", "gemm"), help=argparse.SUPPRESS)
    p.add_argument("--onnx-dir", help=argparse.SUPPRESS)
    p.add_argument("--onnx-file", help=argparse.SUPPRESS)
    p.add_argument("--result", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:
        if args.worker == "prepare":
            result = prepare_onnx(args)
        elif args.worker == "gemm":
            result = gemm_probe(args)
        else:
            result = worker(args.worker, args)
        Path(args.result).write_text(json.dumps(result))
        return 0

    from whosaid.files import resolve_polnear_root

    args.polnear = str(resolve_polnear_root(args.polnear).resolve())
    model = Path(args.model)
    if not (model / "config.json").is_file():
        print(f"error: {model} is not a model directory", file=sys.stderr)
        return 2
    if args.rounds < 1:
        print("error: --rounds must be at least 1", file=sys.stderr)
        return 2
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        print(f"error: unknown variants {sorted(unknown)}", file=sys.stderr)
        return 2
    common = ["--model", str(model), "--polnear", args.polnear, "--threads", str(args.threads),
              "--batch-size", str(args.batch_size)]
    common += (["--limit", str(args.limit)] if args.limit else []) \
        + (["--stride", str(args.stride)] if args.stride is not None else [])
    started = time.time()
    prepared = {}
    onnx_dir = tempfile.TemporaryDirectory(prefix="bench-onnx-")
    if any(v.startswith("onnx") for v in variants):
        print("preparing ONNX files ...", file=sys.stderr)
        extra = [x for k in args.int8_keep_fp32 or () for x in ("--int8-keep-fp32", k)]
        extra += ["--int8-per-tensor"] if args.int8_per_tensor else []
        prepared = run_child(["--worker", "prepare", *common, "--onnx-dir", onnx_dir.name, *extra], args.threads)
    rounds: dict[str, list[dict]] = {v: [] for v in variants}
    gemm: list[dict] = []
    for n in range(args.rounds):
        tag = f" (round {n + 1}/{args.rounds})" if args.rounds > 1 else ""
        if "onnx" in variants:
            gemm.append(run_child(["--worker", "gemm", *common], args.threads))
        for v in variants:
            print(f"running {LABELS[v]}{tag} ...", file=sys.stderr, flush=True)
            onnx_file = ["--onnx-file", prepared[v]] if v in prepared else []
            r = run_child(["--worker", v, *common, *onnx_file], args.threads)
            rounds[v].append(r)
            print(f"  {r['words_per_second']:,.0f} words/s, peak RSS {r['peak_rss_mib']:,.0f} MiB", file=sys.stderr)
    results = {v: median_round(rs) for v, rs in rounds.items()}
    for v, r in results.items():
        r["rounds_words_per_second"] = [x["words_per_second"] for x in rounds[v]]
        if "pipeline" in rounds and v != "pipeline":  # ratio within each round, then the median
            r["ratio_to_pipeline"] = statistics.median(
                [x["words_per_second"] / b["words_per_second"] for x, b in zip(rounds[v], rounds["pipeline"])])
        if "forward_subtokens_per_second" in r:
            r["rounds_forward_subtokens_per_second"] = [x["forward_subtokens_per_second"] for x in rounds[v]]
            r["forward_subtokens_per_second"] = statistics.median(r["rounds_forward_subtokens_per_second"])
    for v in ("onnx", "onnx-int8"):
        if v in results and "torch" in results:
            results[v]["agreement"] = span_agreement(results["torch"], results[v])

    ceiling = {}
    if "onnx" in results:
        r = results["onnx"]
        mflop = flops_per_subtoken(model, mean_window=r["window_subtokens"] / r["windows"]) / 1e6
        issue_ceiling = args.peak_gflops * 1e3 / ISSUE_MFLOP_PER_SUBTOKEN
        measured = {lib: statistics.median([g["gflops"][lib] for g in gemm]) for lib in gemm[0]["gflops"]}
        ceiling = {"peak_gflops": args.peak_gflops, "ceiling_subtokens_per_second": issue_ceiling,
                   "model_mflop_per_subtoken": mflop,
                   "model_ceiling_subtokens_per_second": args.peak_gflops * 1e3 / mflop,
                   "forward_subtokens_per_second": r["forward_subtokens_per_second"],
                   "forward_fraction": r["forward_subtokens_per_second"] / issue_ceiling,
                   "end_to_end_article_subtokens_per_second": r["article_subtokens"] / r["seconds"],
                   "end_to_end_fraction": r["article_subtokens"] / r["seconds"] / issue_ceiling,
                   "overlap_share": 1 - r["article_subtokens"] / r["window_subtokens"],
                   "measured_gemm_gflops": measured, "gemm_rounds": [g["gflops"] for g in gemm],
                   "forward_gflops": r["forward_subtokens_per_second"] * mflop / 1e3}

    first = next(iter(results.values()))
    limited = f", limited to the first {args.limit} articles" if args.limit else ""
    print(f"\nPolNeAR dev: {first['articles']} articles, {first['words']:,} words, "
          f"{first['window_subtokens']:,} window sub-tokens (window overlap "
          f"{args.stride if args.stride is not None else 'as trained'}){limited}; {args.threads} threads; "
          f"{platform.processor() or platform.machine()}, python {platform.python_version()}; "
          f"total {time.time() - started:.0f} s\n")
    if prepared:
        print(f"ONNX files: {prepared['onnx']}, {prepared['onnx-int8']} (int8 recipe: {prepared['int8_recipe']})\n")
    print(table(results, ceiling))
    onnx_dir.cleanup()
    if args.output:
        from whosaid.files import write_json_atomic

        slim = {v: {k: x for k, x in r.items() if k != "spans"} for v, r in results.items()}
        write_json_atomic(args.output, {"settings": {k: getattr(args, k) for k in
                                                     ("model", "threads", "batch_size", "stride", "limit",
                                                      "rounds", "peak_gflops")},
                                        "onnx": prepared,
                                        "variants": slim, "ceiling": ceiling,
                                        "pooled_strict_f1": {v: pooled_f1(r) for v, r in results.items()}})
        print(f"\nresults written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
