"""`whosaid train --config configs/NAME.yaml [--output-dir DIR] [--set KEY=VALUE ...] [--resume]`:
train a whosaid model from a YAML config."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
from pathlib import Path

from whosaid.errors import WhosaidError


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="whosaid train", description="Train a whosaid model from a YAML config.")
    p.add_argument("--config", required=True, help="configs/NAME.yaml")
    p.add_argument("--output-dir", help="run directory (default runs/<config name>)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set training.epochs=1 (repeatable)")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint in the run directory")
    p.add_argument("--polnear", help="PolNeAR root (default: data.polnear_root, $WHOSAID_POLNEAR, ../shared/polnear)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from whosaid.config import load_config

    try:
        cfg = load_config(args.config, args.overrides, polnear_override=args.polnear)
        out = Path(args.output_dir or Path("runs") / cfg.name)
        command = "python train.py " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
        from whosaid.training.train import train

        run_dir = train(cfg, out, resume=args.resume, polnear=args.polnear, command=command)
    except WhosaidError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if int(os.environ.get("RANK", "0")) == 0:
        print(f"run written to {run_dir}")
        metrics_path = run_dir / "metrics.json"
        if metrics_path.is_file():
            from whosaid.evaluation.metrics import format_metrics

            print(format_metrics(json.loads(metrics_path.read_text())))
    return 0
