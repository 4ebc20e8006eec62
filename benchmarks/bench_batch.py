#!/usr/bin/env python
"""Throughput of `whosaid batch` (Ray) against `whosaid predict`, on PolNeAR train+dev
texts (924 articles, ~690k words), in one run (not a test).

    python benchmarks/bench_batch.py --model runs/polnear/model [--polnear PATH]
        [--backend onnx-int8|onnx|torch] [--limit N] [--shard-size 25] [--output results.json]

Runs, one after the other, each a fresh command in its own process on the same
articles (a JSONL file written once from the .txt files):

  predict    `whosaid predict --threads 2` (one process, two threads);
  batch x1   `whosaid batch --workers 1 --threads 1` (Ray started by the command);
  batch x2   `whosaid batch --workers 2 --threads 1`.

Reported per run: wall time of the command; its start-up (predict: imports and
model load, i.e. the wall time less the compute; batch: Ray start-up and the
workers' model load, from the run's `_manifest.json`); words/s over the compute
part (predict: from the model loaded to the output written, timed inside the
command's process; batch: first shard handed out to last shard written) and end
to end; then the ratios the
issue asks for (2 workers / 1 worker, batch x2 / predict), the per-core
throughput (batch x2 words/s / 2) and the cores (and machines of `--node-cores`)
needed for 1 million articles in one hour, for 600-word articles and for the
mean length of these articles. Words are whitespace-separated words of the
article texts. The batch x2 records are also compared with predict's (byte-identical
lines, and the same spans and labels with the scores left out).

`--limit N` takes the first N articles by name (a quick check of the script, e.g.
`--limit 5` with a tiny model); the ONNX file is exported before any timing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BACKENDS = {"onnx-int8": ["--backend", "onnx", "--quantize"], "onnx": ["--backend", "onnx"],
            "torch": ["--backend", "torch"]}


def load_articles(polnear: Path, limit: int | None) -> list[dict]:
    """PolNeAR train+dev article texts, sorted by name, as JSONL records."""
    from whosaid.readers.seeds import read_seed

    files = sorted([*(polnear / "train" / "text").glob("*.txt"), *(polnear / "dev" / "text").glob("*.txt")],
                   key=lambda p: p.name)
    files = files[:limit] if limit else files
    return [{"id": p.stem, "text": read_seed(p).text} for p in files]


def words(records: list[dict]) -> int:
    return sum(len(r["text"].split()) for r in records)


def timed(cmd: list[str], log: Path) -> float:
    started = time.perf_counter()
    with open(log, "wb") as fh:
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        sys.stderr.write(log.read_text(errors="replace")[-4000:])
        raise SystemExit(f"error: {' '.join(cmd[:4])} ... exited {proc.returncode} (log: {log})")
    return wall


def predict_child(result: str, argv: list[str]) -> int:
    """`whosaid predict ARGV` in this process, timing its compute apart from its start-up:
    the clock starts when `Predictor.from_pretrained` returns (imports and model loaded)."""
    from whosaid.inference.predictor import Predictor

    original = Predictor.from_pretrained.__func__
    stamps = {}

    def timed_load(cls, *args, **kwargs):
        predictor = original(cls, *args, **kwargs)
        stamps["loaded"] = time.perf_counter()
        return predictor

    Predictor.from_pretrained = classmethod(timed_load)
    from whosaid.cli.predict import main as predict_main

    status = predict_main(argv)
    Path(result).write_text(json.dumps({"compute_s": time.perf_counter() - stamps["loaded"]}))
    return status


def without_scores(value):
    """A record with every confidence removed: what the spans and labels are."""
    if isinstance(value, dict):
        return {k: without_scores(v) for k, v in value.items() if k not in ("score", "stance_probability")}
    if isinstance(value, list):
        return [without_scores(v) for v in value]
    return value


def compare(predict_path: Path, batch_dir: Path) -> dict:
    predict = predict_path.read_text(encoding="utf-8").splitlines()
    batch = "".join(p.read_text(encoding="utf-8") for p in sorted(batch_dir.glob("part-*.jsonl"))).splitlines()
    same_spans = sum(without_scores(json.loads(a)) == without_scores(json.loads(b)) for a, b in zip(predict, batch))
    return {"articles": len(predict), "batch_articles": len(batch),
            "identical": sum(a == b for a, b in zip(predict, batch)) if len(predict) == len(batch) else 0,
            "same_spans": same_spans if len(predict) == len(batch) else 0}


def table(rows: list[dict]) -> str:
    out = ["| run | CPU cores | wall s | start-up s | compute s | words/s (compute) | words/s (end to end) |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        out.append(f"| {r['name']} | {r['cores']} | {r['wall_s']:.1f} | {r['startup']} | {r['compute_s']:.1f} | "
                   f"{r['words_per_s']:,.0f} | {r['words_per_s_e2e']:,.0f} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="saved model directory (e.g. runs/polnear/model)")
    p.add_argument("--polnear", help="PolNeAR root (default $WHOSAID_POLNEAR or ../shared/polnear)")
    p.add_argument("--backend", choices=list(BACKENDS), default="onnx-int8",
                   help="model backend of every run (default onnx-int8, the fastest on CPU)")
    p.add_argument("--limit", type=int, help="only the first N articles (by name)")
    p.add_argument("--shard-size", type=int, default=25,
                   help="articles per batch shard (default 25: ~37 shards, so 2 workers finish together)")
    p.add_argument("--article-words", type=int, default=600, help="article length of the cluster estimate")
    p.add_argument("--node-cores", type=int, default=16, help="cores per machine of the cluster estimate")
    p.add_argument("--workdir", help="keep inputs and outputs here (default: a temporary directory)")
    p.add_argument("--output", help="write the results as JSON here")
    p.add_argument("--predict-child", metavar="RESULT", help=argparse.SUPPRESS)
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--predict-child":
        return predict_child(argv[1], argv[3:])  # --predict-child RESULT -- PREDICT-ARGS
    args = p.parse_args(argv)

    from whosaid.files import resolve_polnear_root

    model = Path(args.model)
    if not (model / "config.json").is_file():
        print(f"error: {model} is not a model directory", file=sys.stderr)
        return 2
    records = load_articles(resolve_polnear_root(args.polnear), args.limit)
    if not records:
        print("error: no PolNeAR articles found", file=sys.stderr)
        return 2
    backend = BACKENDS[args.backend]
    if args.backend.startswith("onnx"):  # export now, outside every timing
        from whosaid.model.onnx import export_onnx, is_current, onnx_path

        quantize = args.backend == "onnx-int8"
        if not is_current(onnx_path(model, quantize), model):
            print("exporting the ONNX model ...", file=sys.stderr)
            export_onnx(model, quantize=quantize)

    tmp = tempfile.TemporaryDirectory(prefix="bench-batch-")
    work = Path(args.workdir or tmp.name)
    work.mkdir(parents=True, exist_ok=True)
    articles = work / "articles.jsonl"
    articles.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    n_words = words(records)
    whosaid = [sys.executable, "-m", "whosaid"]
    print(f"{len(records)} articles, {n_words:,} words; backend {args.backend}", file=sys.stderr)

    rows = []
    print("predict --threads 2 ...", file=sys.stderr)
    timing = work / "predict-timing.json"
    wall = timed([sys.executable, __file__, "--predict-child", str(timing), "--", "--model", str(model), *backend,
                  "--threads", "2", "--no-progress", "--output", str(work / "predict.jsonl"), str(articles)],
                 work / "predict.log")
    compute = max(json.loads(timing.read_text())["compute_s"], 1e-9)
    rows.append(dict(name="`whosaid predict --threads 2`", cores=2, wall_s=wall, startup=f"{wall - compute:.1f}",
                     startup_s=wall - compute, compute_s=compute, words_per_s=n_words / compute,
                     words_per_s_e2e=n_words / wall))

    for workers in (1, 2):
        print(f"batch --workers {workers} ...", file=sys.stderr)
        out = work / f"batch-{workers}"
        wall = timed([*whosaid, "batch", "--model", str(model), *backend, "--workers", str(workers),
                      "--threads", "1", "--shard-size", str(args.shard_size), "--no-progress",
                      "--output", str(out), str(articles)], work / f"batch-{workers}.log")
        run = json.loads((out / "_manifest.json").read_text(encoding="utf-8"))["runs"][-1]
        compute = max(run["compute_s"], 1e-9)
        rows.append(dict(name=f"`whosaid batch --workers {workers} --threads 1`", cores=workers, wall_s=wall,
                         startup=f"{run['ray_start_s']:.1f} Ray + {run['workers_ready_s']:.1f} workers",
                         ray_start_s=run["ray_start_s"], workers_ready_s=run["workers_ready_s"],
                         compute_s=compute, words_per_s=run["words"] / compute, words_per_s_e2e=run["words"] / wall))

    predict, one, two = rows
    scaling = two["words_per_s"] / one["words_per_s"]
    vs_predict = two["words_per_s"] / predict["words_per_s"]
    per_core = two["words_per_s"] / 2
    agreement = compare(work / "predict.jsonl", work / "batch-2")
    mean_words = n_words / len(records)
    estimates = []
    for length, label in ((args.article_words, f"{args.article_words}-word articles"),
                          (mean_words, f"articles of this corpus ({mean_words:,.0f} words on average)")):
        needed = 1_000_000 * length / 3600
        cores = math.ceil(needed / per_core)
        estimates.append(dict(article_words=length, words_per_s_needed=needed, cores=cores,
                              machines=math.ceil(cores / args.node_cores), label=label))

    lines = [f"{len(records)} PolNeAR train+dev articles, {n_words:,} words, backend {args.backend}, "
             f"batch shards of {args.shard_size} articles; {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} CPUs.", "", table(rows), "",
             f"- 2 workers / 1 worker: **{scaling:.2f}x** (goal >= 1.8x)",
             f"- batch with 2 workers / predict with 2 threads: **{vs_predict:.2f}x** (goal >= 1.0x)",
             f"- start-up, apart from the compute figures: predict {predict['startup_s']:.1f} s (imports + model); "
             f"batch x2 {two['ray_start_s']:.1f} s Ray + {two['workers_ready_s']:.1f} s workers ready (model load)",
             f"- batch x2 records against predict's: {agreement['identical']} of {agreement['articles']} lines "
             f"byte-identical, {agreement['same_spans']} with the same spans and labels (scores aside)"
             + ("; dynamic int8 quantizes activations per batch, so int8 scores depend on which windows share "
                "a batch" if args.backend == "onnx-int8" else ""),
             f"- per-core throughput (batch x2 / 2 cores): **{per_core:,.0f} words/s**"]
    for e in estimates:
        lines.append(f"- 1 million {e['label']} in one hour = {e['words_per_s_needed']:,.0f} words/s -> "
                     f"**{e['cores']} cores** ({e['machines']} machines of {args.node_cores} cores, "
                     f"start-up and stragglers not included)")
    print("\n".join(lines))
    if args.output:
        from whosaid.files import write_json_atomic

        write_json_atomic(args.output, {"articles": len(records), "words": n_words, "backend": args.backend,
                                        "shard_size": args.shard_size, "runs": rows, "scaling_2_over_1": scaling,
                                        "batch2_over_predict": vs_predict, "per_core_words_per_s": per_core,
                                        "agreement": agreement, "estimates": estimates})
    return 0


if __name__ == "__main__":
    sys.exit(main())
