"""`whosaid SUBCOMMAND ...`: one entry point for the library's commands.

Each subcommand lives in the module of its concept and exposes `main(argv)`;
modules are imported lazily so `whosaid stats` does not pay for torch.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "train": ("whosaid.training", "main", "train a model from a YAML config"),
    "evaluate": ("whosaid.evaluation", "main", "span-level metrics of a model on annotated data"),
    "predict": ("whosaid.predict", "main", "attribution records for articles"),
    "stats": ("whosaid.stats", "main", "corpus statistics of any data source"),
    "compare": ("whosaid.reports", "compare_main", "side-by-side metrics of several runs"),
    "export-onnx": ("whosaid.onnx_backend", "main", "export a trained model to ONNX (optionally int8)"),
    "silver-eval": ("whosaid.silver_eval", "main", "quality of the silver labellers and a model on gold figure/stance data"),
    "studio": ("whosaid.studio", "main", "Label Studio loop: project, import, predictions, export"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print("usage: whosaid COMMAND [ARGS...]\n\ncommands:")
        for name, (_, _, help_) in COMMANDS.items():
            print(f"  {name:12s} {help_}")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    module, func, _ = COMMANDS[argv[0]]
    return getattr(importlib.import_module(module), func)(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main())
