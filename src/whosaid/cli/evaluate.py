"""`whosaid evaluate --model DIR --data SOURCE [--output metrics.json]`: span-level
metrics of any saved model on any annotated data, through the same `Predictor` that
`whosaid predict` uses."""

from __future__ import annotations

import argparse

from whosaid.cli import add_overwrite_option, check_output, fail, show_result
from whosaid.cli.options import add_model_options, parse_model_args, predictor_options
from whosaid.errors import WhosaidError


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="whosaid evaluate", description=__doc__)
    add_model_options(p)  # listed in their own group of the help
    p.add_argument("--data", required=True,
                   help="a Label Studio export (.json), a PolNeAR split dir, or ROOT:SPLIT")
    p.add_argument("--split", help="split when --data is a PolNeAR root")
    p.add_argument("--polnear", help="PolNeAR root for ROOT-less specs (default $WHOSAID_POLNEAR or ../shared/polnear)")
    p.add_argument("--overlays", default="data/polnear-gold",
                   help="gold figure/stance overlays for PolNeAR (dir with <split>/; '' to disable)")
    p.add_argument("--output", help="write the metrics JSON here (atomically; never the data, never inside "
                                    "the model directory)")
    add_overwrite_option(p)
    p.add_argument("--no-constrained", action="store_true", help="argmax decoding with BIO repair instead of Viterbi")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parse_model_args(build_parser(), argv)
    from whosaid.evaluation.evaluate import evaluate
    from whosaid.files import check_model_dir
    from whosaid.readers.sources import source_path

    try:  # the model directory, the data and the output are checked before the model loads
        check_model_dir(args.model)
        data = source_path(args.data, args.polnear)
        check_output(args.output, args, reads=[data], read_dirs=[args.model, data, args.overlays or None])
        metrics = evaluate(args.model, args.data, split=args.split, polnear=args.polnear,
                           overlays=args.overlays or None, constrained=not args.no_constrained,
                           **predictor_options(args))
    except WhosaidError as exc:
        return fail(exc)
    from whosaid.evaluation.metrics import format_metrics

    return show_result(format_metrics(metrics), metrics, args.output, saved="metrics")

