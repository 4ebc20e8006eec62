"""`whosaid check-gold [DIR ...]`: check the gold standoff files against the corpus.

Every file under each DIR (default data/polnear-gold) must match its PolNeAR article
(text hash, offsets, labels), hold no overlapping figures, exactly one stance on every
attribution's cue, and an entity decision for every speaker when it records entities.
Exit 0 when all pass, 1 when any problem is found (each listed on one line).
"""

from __future__ import annotations

import argparse
import sys

from whosaid.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="whosaid check-gold", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dirs", nargs="*", default=["data/polnear-gold"], help="gold overlay directories")
    p.add_argument("--polnear", help="PolNeAR root (default $WHOSAID_POLNEAR or ../shared/polnear)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from whosaid.errors import WhosaidError
    from whosaid.files import resolve_polnear_root
    from whosaid.readers.gold_check import check_gold_dir

    total, problems = 0, []
    try:
        root = resolve_polnear_root(args.polnear)
        for d in args.dirs:
            n, found = check_gold_dir(d, root)
            total += n
            problems += found
    except WhosaidError as exc:
        return fail(exc, EXIT_USAGE)
    for p in problems:
        print(p)
    print(f"{total} gold files checked, {len(problems)} problems", file=sys.stderr)
    return EXIT_FAILED if problems else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
