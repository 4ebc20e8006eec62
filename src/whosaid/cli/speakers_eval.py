"""`whosaid speakers-eval [--data SOURCE] [--model DIR] [--ablation] [--output JSON]`:
accuracy of the speaker entity on gold attributions; what is reported is described
in whosaid.evaluation.speakers."""

from __future__ import annotations

import argparse

from whosaid.cli import fail, show_result
from whosaid.cli.options import add_scoring_options, parse_model_args, scoring_predictor
from whosaid.errors import WhosaidError


def build_parser() -> argparse.ArgumentParser:
    from whosaid.evaluation import speakers

    p = argparse.ArgumentParser(prog="whosaid speakers-eval", description=speakers.__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="polnear:dev",
                   help="a PolNeAR split (ROOT:SPLIT, or polnear:dev) with entity overlays, or a Label "
                        "Studio export with the 'entity' field (default polnear:dev)")
    p.add_argument("--split", help="split when --data is a PolNeAR root")
    p.add_argument("--polnear", help="PolNeAR root for ROOT-less specs (default $WHOSAID_POLNEAR or ../shared/polnear)")
    p.add_argument("--overlays", default="data/polnear-gold",
                   help="gold overlays for PolNeAR (dir with <split>/; their 'entities' are the gold)")
    p.add_argument("--ablation", action="store_true", help="also the accuracy with each resolver component off")
    p.add_argument("--errors", type=int, default=0, metavar="N", help="list the first N mistakes (gold spans)")
    add_scoring_options(p, model_help="also score this model's attributions end to end")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parse_model_args(build_parser(), argv, default_model=False)
    if args.errors < 0:
        return fail("--errors must be at least 0")
    from whosaid.evaluation.speakers import format_speakers, speakers_eval

    try:
        predictor = scoring_predictor(args, [args.data])
        result = speakers_eval(args.data, split=args.split, polnear=args.polnear, overlays=args.overlays or None,
                               predictor=predictor, model_name=args.model, with_ablation=args.ablation,
                               errors=args.errors)
    except WhosaidError as exc:
        return fail(exc)
    return show_result(format_speakers(result), result, args.output, saved="results")
