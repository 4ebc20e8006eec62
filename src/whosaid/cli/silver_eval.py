"""`whosaid silver-eval [--model DIR]`: the silver labellers (and a model) scored on
gold figure and stance data; what is reported is described in whosaid.evaluation.silver_eval."""

from __future__ import annotations

import argparse

from whosaid.cli import fail, show_result
from whosaid.cli.options import add_scoring_options, parse_model_args, scoring_predictor
from whosaid.errors import WhosaidError


def build_parser() -> argparse.ArgumentParser:
    from whosaid.evaluation import silver_eval

    p = argparse.ArgumentParser(prog="whosaid silver-eval", description=silver_eval.__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", action="append",
                   help="sources with gold figure/stance (repeatable; default: PolNeAR dev overlays + seed gold)")
    p.add_argument("--polnear", help="PolNeAR root (default $WHOSAID_POLNEAR or ../shared/polnear)")
    p.add_argument("--overlays", default="data/polnear-gold",
                   help="gold figure/stance overlays for PolNeAR (dir with <split>/)")
    add_scoring_options(p, model_help="also score this trained model directory")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parse_model_args(build_parser(), argv, default_model=False)
    from whosaid.evaluation.silver_eval import default_sources, format_quality, silver_eval

    try:
        predictor = scoring_predictor(args, args.data or [])
        sources = args.data or default_sources(args.polnear)
        result = silver_eval(sources, polnear=args.polnear, overlays=args.overlays, predictor=predictor,
                             model_name=args.model)
    except WhosaidError as exc:
        return fail(exc)
    return show_result(format_quality(result), result, args.output)
