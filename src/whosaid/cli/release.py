"""`whosaid release RUN/model [TARGET]`: replace the shipped model from a finished run.

Converts the weights to float16, checks on PolNeAR dev that the float16 copy scores
the same as the run (strict F1 within --tolerance per layer and label), writes the
model card with hub metadata, and swaps the new directory in; on any failure nothing
is replaced. Replace the shipped model only when a better reference has been trained:
every release adds its weights to the repository's history.
"""

from __future__ import annotations

import argparse
import sys

from whosaid.cli import EXIT_OK, EXIT_USAGE, fail


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="whosaid release", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="the finished run's model directory (RUN/model)")
    p.add_argument("target", nargs="?", default=None,
                   help="where the shipped model lives (default: models/whosaid-news of this checkout)")
    p.add_argument("--data", default="polnear:dev", help="data the two precisions are compared on "
                                                        "(default polnear:dev)")
    p.add_argument("--polnear", help="PolNeAR root (default $WHOSAID_POLNEAR or ../shared/polnear)")
    p.add_argument("--tolerance", type=float, default=0.001,
                   help="largest allowed strict-F1 difference per layer and label (default 0.001)")
    p.add_argument("--note", help="a paragraph for the card's 'Training recipe' section (e.g. the stages)")
    p.add_argument("--card-copy", default="model_card.md",
                   help="also write the card here (default: the top-level model_card.md; '' to skip)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from whosaid.errors import WhosaidError
    from whosaid.files import SHIPPED_MODEL
    from whosaid.model.release import release, release_summary

    try:
        check = release(args.model, args.target or SHIPPED_MODEL, data=args.data, polnear=args.polnear,
                        tolerance=args.tolerance, card_copy=args.card_copy or None, note=args.note)
    except WhosaidError as exc:
        return fail(exc, EXIT_USAGE)
    print(f"released {args.target or SHIPPED_MODEL}: {release_summary(check)}", file=sys.stderr)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
