"""`whosaid batch --model DIR --output OUTDIR [--workers N] [--address ADDR] INPUT...`

Attribution records for a large collection, on Ray: on this machine (Ray starts
embedded, nothing else to install or run) or, with `--address`, on an existing
Ray cluster (`ray start --head` on one machine, `ray start --address HEAD:6379`
on the others; every machine needs whosaid and the model directory at the same
path). Each worker loads the model once and predicts shard after shard with one
CPU thread (`--threads`).

Inputs: .txt files, directories of .txt files, .jsonl files (`{"id": ..., "text":
...}` per line), Parquet files (a `text` column, optionally `id`), and globs
(quoted, e.g. 'archive/*.parquet'). They are sorted by path and cut into shards
of --shard-size articles.

Output in OUTDIR: `part-00000.jsonl` ... (each line exactly what `whosaid predict
--format jsonl` writes for the article, in input order) or `part-00000.parquet`
with --format parquet; `errors.jsonl` (id and reason of every record that failed:
unreadable, empty, longer than --max-chars, or failing in the model); and
`_manifest.json` (model, inputs, shards done, counts, errors, runs). Files are
written atomically, shard by shard.

Resume: run the same command again after an interruption: finished shards are
skipped, the output ends up as an uninterrupted run's. Another model or input
list in the same OUTDIR is refused. Exit status: 0 ok; 1 some records or shards
failed (the others are written); 2 usage or configuration error.
"""

from __future__ import annotations

import argparse

from whosaid.batch.engine import DEFAULT_MAX_CHARS, DEFAULT_SHARD_SIZE, BatchOptions, run_batch
from whosaid.batch.output import OUTPUT_FORMATS
from whosaid.cli.options import add_model_options, parse_model_args


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="whosaid batch", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_options(p)  # listed in their own group of the help
    p.set_defaults(threads=1)
    p._option_string_actions["--threads"].help = "CPU threads per worker (default 1)"
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help=".txt file, directory of .txt, .jsonl or .parquet file, or a glob")
    p.add_argument("--output", required=True, metavar="OUTDIR", help="output directory (created; reused to resume)")
    p.add_argument("--workers", type=int,
                   help="Ray workers, each with its own copy of the model (default: CPUs / --threads)")
    p.add_argument("--address", help="join this Ray cluster (e.g. HEAD:6379 or auto) instead of starting Ray here")
    p.add_argument("--format", choices=OUTPUT_FORMATS, default="jsonl", help="shard file format (default jsonl)")
    p.add_argument("--shard-size", type=int, default=DEFAULT_SHARD_SIZE,
                   help=f"articles per shard: the unit of output files, resumption and retries "
                        f"(default {DEFAULT_SHARD_SIZE})")
    p.add_argument("--max-chars", type=int, default=DEFAULT_MAX_CHARS,
                   help=f"longer articles go to errors.jsonl (default {DEFAULT_MAX_CHARS:,})")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parse_model_args(build_parser(), argv)
    return run_batch(BatchOptions(
        model=args.model, output=args.output, inputs=args.inputs, workers=args.workers, address=args.address,
        backend=args.backend, quantize=args.quantize, threads=args.threads, batch_size=args.batch_size,
        stride=args.stride, format=args.format, shard_size=args.shard_size, max_chars=args.max_chars,
        progress=not args.no_progress))
