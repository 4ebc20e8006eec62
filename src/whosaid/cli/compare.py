"""`whosaid compare RUN_DIR...`: side-by-side metrics of several runs (markdown table and bar chart)."""

from __future__ import annotations

import argparse
import sys

from whosaid.errors import WhosaidError
from whosaid.files import write_text_atomic


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="whosaid compare", description="Side-by-side metrics of several runs.")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run directories holding metrics.json")
    p.add_argument("--output", help="also write the markdown table here (atomically)")
    p.add_argument("--chart", default="comparison.png", help="bar chart PNG (default: comparison.png)")
    p.add_argument("--metrics-name", default="metrics.json", help="metrics file name inside each run")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from whosaid.reports.comparison import compare_runs, plot_comparison

    try:
        table = compare_runs(args.runs, args.metrics_name)
        print(table, end="")
        if args.output:
            write_text_atomic(args.output, table)
            print(f"table written to {args.output}", file=sys.stderr)
        plot_comparison(args.runs, args.chart, args.metrics_name)
        print(f"chart written to {args.chart}", file=sys.stderr)
    except WhosaidError as exc:
        print(f"whosaid compare: error: {exc}", file=sys.stderr)
        return 2
    return 0
