"""`whosaid predict --model DIR [--format jsonl|labelstudio|html] [--output PATH] INPUT...`

Attribution records ("who said what, with which stance, citing which figures") for
raw articles, through the same `Predictor` that `whosaid evaluate` uses.

Inputs: .txt files (a seed header line ` date YYYY-MM-DD Headline` is understood),
directories of .txt files, JSON Lines files (`{"id": ..., "text": ...}` per line),
or `-` / nothing for stdin (JSON Lines when every non-empty line is such an
object, else the whole of stdin is one article with id `stdin`).

Rules: an input that cannot be read is reported and skipped, the others are still
predicted, the failures are listed at the end and the exit status is 1. A model
directory that is missing, corrupt or incompatible exits with status 2 before any
input is read. A repeated article id gets a suffix (`id~2`) so outputs stay
unambiguous. The output is written atomically (or to stdout without --output).
"""

from __future__ import annotations

import argparse
import sys

from whosaid.cli.options import add_model_options, parse_model_args, predictor_options
from whosaid.errors import ModelLoadError, WhosaidError
from whosaid.files import write_text_atomic
from whosaid.readers.articles import read_inputs
from whosaid.records.output import FORMATS, render

#: Inputs longer than this many characters in total get a progress bar (on stderr).
PROGRESS_MIN_CHARS = 20_000


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="whosaid predict", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_options(p)  # listed in their own group of the help
    p.add_argument("inputs", nargs="*", metavar="INPUT",
                   help=".txt file, directory of .txt, .jsonl file, or - for stdin (default)")
    p.add_argument("--format", choices=FORMATS, default="jsonl", help="output format (default jsonl)")
    p.add_argument("--output", help="output file (written atomically); default stdout")
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parse_model_args(build_parser(), argv)
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # long articles are windowed: the tokenizer's length warning is noise
    hf_logging.disable_progress_bar()
    from whosaid.inference.predictor import Predictor

    try:
        predictor = Predictor.from_pretrained(args.model, **predictor_options(args))
    except ModelLoadError as exc:
        print(f"error: cannot use model {args.model}: {exc}", file=sys.stderr)
        return 2
    inputs = read_inputs(args.inputs)
    status = 0
    if inputs.documents:
        long_input = sum(len(d.text) for d in inputs.documents) >= PROGRESS_MIN_CHARS
        try:
            docs = predictor.predict_documents(inputs.documents, progress=long_input and not args.no_progress)
            payload = render(docs, args.format, predictor.model_version, predictor.schema)
        except WhosaidError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        if args.output:
            write_text_atomic(args.output, payload)
            print(f"{len(docs)} article(s) -> {args.output}", file=sys.stderr)
        else:
            sys.stdout.write(payload)
            sys.stdout.flush()
    if inputs.failures:
        print(f"{len(inputs.failures)} input(s) failed:", file=sys.stderr)
        for path, reason in inputs.failures:
            print(f"  {path}: {reason}", file=sys.stderr)
        status = 1
    elif not inputs.documents:
        print("error: no articles to predict", file=sys.stderr)
        status = 1
    return status
