"""`whosaid compare RUN_DIR... [--output MD] [--chart PNG]`: side-by-side metrics of several runs
(a markdown table on stdout; a bar chart only where --chart names a file)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from whosaid.cli import add_overwrite_option, check_output

from whosaid.errors import WhosaidError
from whosaid.files import write_text_atomic


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="whosaid compare", description="Side-by-side metrics of several runs.")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run directories holding metrics.json")
    p.add_argument("--output", help="also write the markdown table here (atomically)")
    p.add_argument("--chart", metavar="PNG", help="also draw a bar chart of strict F1 per label into this PNG "
                                                   "(none without it)")
    p.add_argument("--metrics-name", default="metrics.json", help="metrics file name inside each run")
    add_overwrite_option(p)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from whosaid.reports.comparison import compare_runs, plot_comparison

    try:  # an output inside a run directory (its metrics.json, say) or an existing file is refused first
        for flag, path in (("--output", args.output), ("--chart", args.chart)):
            check_output(path, args, read_dirs=args.runs, flag=flag)
        if args.output and args.chart and Path(args.output).resolve() == Path(args.chart).resolve():
            raise WhosaidError("--output and --chart name the same file")
        table = compare_runs(args.runs, args.metrics_name)
        print(table, end="")
        if args.output:
            write_text_atomic(args.output, table)
            print(f"table written to {args.output}", file=sys.stderr)
        if args.chart:
            plot_comparison(args.runs, args.chart, args.metrics_name, overwrite=True)  # checked above
            print(f"chart written to {args.chart}", file=sys.stderr)
    except WhosaidError as exc:
        print(f"whosaid compare: error: {exc}", file=sys.stderr)
        return 2
    return 0
