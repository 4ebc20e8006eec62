"""`whosaid COMMAND ...`: the command-line layer.

Each command is one small module here that parses its arguments and calls the
library (`whosaid.training`, `whosaid.evaluation`, `whosaid.inference`, ...); no
library module parses arguments. Modules are imported lazily so `whosaid stats`
does not pay for torch.

Exit status, the same for every command: 0 success; 1 some inputs failed (the
others were processed; the failures are listed on stderr) or the work itself
failed; 2 a usage or configuration error (options, config, model directory, data
that cannot be read, an output path that is refused), reported before any work
starts; 130 interrupted (Ctrl-C).

Every command that writes a file the user names refuses an output that is one of its
inputs (or inside a run or model directory it reads) and an existing file unless
`--overwrite` (`--force`) is given: `whosaid.files.check_output_path`.
"""

from __future__ import annotations

import importlib
import sys

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

COMMANDS = {
    "train": ("whosaid.cli.train", "train a model from a YAML config"),
    "evaluate": ("whosaid.cli.evaluate", "span-level metrics of a model on annotated data"),
    "span-errors": ("whosaid.cli.span_errors", "error analysis of one span label (boundaries, splits, misses)"),
    "predict": ("whosaid.cli.predict", "attribution records for articles"),
    "stats": ("whosaid.cli.stats", "corpus statistics of any data source"),
    "compare": ("whosaid.cli.compare", "side-by-side metrics of several runs"),
    "export-onnx": ("whosaid.cli.export_onnx", "export a trained model to ONNX (optionally int8)"),
    "release": ("whosaid.cli.release", "replace the shipped model from a finished run (float16, checked)"),
    "check-gold": ("whosaid.cli.check_gold", "check the gold figure/stance/entity files against the corpus"),
    "silver-eval": ("whosaid.cli.silver_eval", "quality of the silver labellers and a model on gold figure/stance data"),
    "speakers-eval": ("whosaid.cli.speakers_eval", "accuracy of the speaker entity on gold attributions"),
    "studio": ("whosaid.cli.studio", "Label Studio loop: project, import, predictions, export, train, suggest"),
    "serve": ("whosaid.cli.serve", "the model as a Label Studio ML backend"),
    "batch": ("whosaid.cli.batch", "attribution records for a large collection, on Ray"),
}


def fail(exc: BaseException | str, status: int = EXIT_USAGE) -> int:
    """Report an error in one line on stderr; the exit status to return."""
    print(f"error: {exc}", file=sys.stderr)
    return status


def add_overwrite_option(parser) -> None:
    """--overwrite (alias --force): replace an existing output file."""
    parser.add_argument("--overwrite", "--force", dest="overwrite", action="store_true",
                        help="replace an existing output file (refused otherwise)")


def check_output(path: str | None, args, *, reads=(), read_dirs=(), flag: str = "--output") -> None:
    """The output checks of `whosaid.files.check_output_path` for an optional output
    option, with the command's --overwrite; raises OutputError."""
    if path:
        from whosaid.files import check_output_path

        check_output_path(path, reads=[r for r in reads if r], read_dirs=[d for d in read_dirs if d],
                          overwrite=getattr(args, "overwrite", False), flag=flag)


def show_result(text: str, result: dict, output: str | None, saved: str | None = None) -> int:
    """Print a command's report; with `output`, also write its JSON there (atomically)."""
    print(text)
    if output:
        from whosaid.files import write_json_atomic

        write_json_atomic(output, result)
        if saved:
            print(f"{saved} written to {output}")
    return EXIT_OK


def usage() -> str:
    lines = ["usage: whosaid [--version] COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:12s} {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "`whosaid COMMAND --help` describes a command. Exit status: 0 ok, "
              "1 some inputs failed, 2 usage or configuration error, 130 interrupted."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--version":
        from whosaid import __version__

        print(f"whosaid {__version__}")
        return EXIT_OK
    if argv and argv[0] in ("-h", "--help"):
        print(usage())
        return EXIT_OK
    if not argv or argv[0] not in COMMANDS:
        if argv:
            print(f"whosaid: error: unknown command {argv[0]!r}", file=sys.stderr)
        print(usage(), file=sys.stderr if argv else sys.stdout)
        return EXIT_USAGE
    module, _ = COMMANDS[argv[0]]
    try:
        return importlib.import_module(module).main(argv[1:]) or EXIT_OK
    except KeyboardInterrupt:
        print(f"whosaid {argv[0]}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
