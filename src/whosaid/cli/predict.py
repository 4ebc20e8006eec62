"""`whosaid predict --model DIR [--format jsonl|labelstudio|html] [--output PATH] INPUT...`

Attribution records ("who said what, with which stance, citing which figures") for
raw articles, through the same `Predictor` that `whosaid evaluate` uses.

Inputs: .txt files (a seed header line ` date YYYY-MM-DD Headline` is understood:
the text starts after it), directories of .txt files, JSON Lines files (one
`{"id": ..., "text": ...}` object per line; --text-field names another text key),
or `-` / nothing for stdin (--stdin-format: `text` one article, read like a .txt
file; `jsonl`; `auto`, the default: JSON Lines when it starts with `{`). Text is
UTF-8; a byte-order mark is dropped and offsets count after it.

Records: one JSON object per article with its `id`, attributions, speakers, spans,
`metadata` (a JSONL line's own fields kept as they are) and `text`, the exact
string every offset indexes (--no-text leaves it out).

Streaming: articles are read and predicted in chunks (--chunk-size) and each
chunk's records are written before the next is read, so memory stays flat. With
--output PATH the records go to PATH.partial, renamed to PATH when every article is
done. Ctrl-C stops with one line; PATH.partial then holds complete records only,
and the same command with --resume (or --skip-done) continues after them.

Rules: inputs and the output are checked before the model loads. An input (or a
JSONL line) that cannot be read is reported and skipped, the others are still
predicted, the failures are listed at the end and the exit status is 1. Within one
JSONL file an id must not repeat (that line fails); across inputs a repeated id
gets a suffix (`id~2`). The output is never an input and never replaces an
existing file without --overwrite (--force).

Exit status: 0 every article predicted; 1 some inputs failed (the others were
written); 2 a usage or configuration error (options, model directory, output
path), before any work; 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys

from whosaid.cli import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, add_overwrite_option, fail
from whosaid.cli.options import add_model_options, parse_model_args, predictor_options
from whosaid.errors import ModelLoadError, WhosaidError
from whosaid.readers.articles import STDIN_FORMATS
from whosaid.records.output import FORMATS

#: Inputs with more articles than this get a progress bar (on stderr) unless --no-progress.
PROGRESS_MIN_ARTICLES = 20


def build_parser() -> argparse.ArgumentParser:
    from whosaid.inference.streaming import DEFAULT_CHUNK_SIZE

    p = argparse.ArgumentParser(prog="whosaid predict", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_options(p)  # listed in their own group of the help
    p.add_argument("inputs", nargs="*", metavar="INPUT",
                   help=".txt file, directory of .txt, .jsonl file, or - for stdin (default)")
    p.add_argument("--format", choices=FORMATS, default="jsonl", help="output format (default jsonl)")
    p.add_argument("--output", help="output file (default stdout); JSON Lines stream into OUTPUT.partial, "
                                    "renamed to OUTPUT at the end")
    add_overwrite_option(p)
    p.add_argument("--resume", "--skip-done", dest="resume", action="store_true",
                   help="continue an interrupted run: keep the records in OUTPUT.partial (or OUTPUT) and "
                        "skip their articles")
    p.add_argument("--no-text", action="store_true", help="leave the article text out of the JSON Lines records")
    p.add_argument("--text-field", default="text", metavar="NAME",
                   help="the key of a JSONL object that holds the article text (default text)")
    p.add_argument("--stdin-format", choices=STDIN_FORMATS, default="auto",
                   help="stdin as one article (text), JSON Lines (jsonl), or auto: JSON Lines when it starts "
                        "with '{' (default auto)")
    p.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE, metavar="N",
                   help=f"articles read and predicted at a time (default {DEFAULT_CHUNK_SIZE}); memory grows "
                        "with it, not with the number of articles")
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parse_model_args(build_parser(), argv)
    from whosaid.files import check_model_dir
    from whosaid.inference.streaming import PredictionInterrupted, prepare, run

    try:
        check_model_dir(args.model)
    except ModelLoadError as exc:
        return fail(f"cannot use model {args.model}: {exc}")
    try:  # every input read and the output checked before the model loads
        job = prepare(args.inputs, args.output, fmt=args.format, include_text=not args.no_text,
                      text_field=args.text_field, stdin_format=args.stdin_format, resume=args.resume,
                      overwrite=args.overwrite, chunk_size=args.chunk_size, model_dir=args.model)
    except WhosaidError as exc:
        return fail(exc)
    except KeyboardInterrupt:  # while the inputs are read
        print("interrupted: nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    try:
        return _predict(args, job, PredictionInterrupted, run)
    except KeyboardInterrupt:  # while the model loads, say (during prediction: PredictionInterrupted)
        print("interrupted: nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        job.close()


def _predict(args, job, PredictionInterrupted, run) -> int:
    for f in job.failures:  # reported now, before the model loads
        print(f"skipped {f}", file=sys.stderr)
    if job.articles == 0 and job.resume_from is None:
        return fail("no articles to predict", EXIT_FAILED)
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # long articles are windowed: the tokenizer's length warning is noise
    hf_logging.disable_progress_bar()
    from whosaid.inference.predictor import Predictor

    try:
        predictor = Predictor.from_pretrained(args.model, **predictor_options(args))
    except ModelLoadError as exc:
        return fail(f"cannot use model {args.model}: {exc}")
    try:
        report = run(job, predictor, progress=job.articles >= PROGRESS_MIN_ARTICLES and not args.no_progress)
    except PredictionInterrupted as exc:
        print(exc, file=sys.stderr)
        return EXIT_INTERRUPTED
    except WhosaidError as exc:
        return fail(exc)
    except BrokenPipeError:
        sys.stderr.write("error: the output was closed before every record was written\n")
        return EXIT_FAILED
    if args.output:
        kept = f" (and {report.kept} kept from the earlier run)" if report.kept else ""
        print(f"{report.written} article(s){kept} -> {args.output}", file=sys.stderr)
    for f in report.failures[len(job.failures):]:
        print(f"skipped {f}", file=sys.stderr)
    if report.failures:
        print(f"{len(report.failures)} input(s) failed (listed above)", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
