"""Options shared by the commands that load a trained model (`predict`, `evaluate`,
`silver-eval`): one definition, one set of defaults, one check."""

from __future__ import annotations

import argparse

from whosaid.inference import DEFAULT_BATCH_SIZE

BACKENDS = ("torch", "onnx")


def add_model_options(parser: argparse.ArgumentParser, *, required: bool = False,
                      model_help: str = "saved model directory (default: the shipped models/whosaid-news, "
                                        "or $WHOSAID_MODEL)") -> None:
    """--model --backend --quantize --threads --batch-size --stride. Unless `required`, a
    missing --model means the shipped model (see `parse_model_args`); commands where
    --model is an optional extra pass `default_model=False` to `parse_model_args`."""
    group = parser.add_argument_group("model")
    group.add_argument("--model", required=required, help=model_help)
    group.add_argument("--backend", choices=BACKENDS, default="torch",
                       help="torch, or onnx (onnxruntime; the model is exported on first use) (default torch)")
    group.add_argument("--quantize", action="store_true", help="with --backend onnx: the dynamic int8 model")
    group.add_argument("--threads", type=int, help="CPU threads for the model (default: the library's)")
    group.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE,
                       help=f"windows per forward pass (default {DEFAULT_BATCH_SIZE}: small batches keep "
                            "activations in cache on a small CPU; benchmarks/bench_inference.py "
                            "--batch-size N measures other sizes)")
    group.add_argument("--stride", type=int,
                       help="window overlap in sub-tokens (default: the model's training overlap; less is faster)")


def parse_model_args(parser: argparse.ArgumentParser, argv: list[str] | None, *,
                     default_model: bool = True) -> argparse.Namespace:
    """`parser.parse_args(argv)`, then the checks of the model options (a usage error, exit 2);
    with `default_model`, no --model means the shipped model."""
    args = parser.parse_args(argv)
    if default_model and args.model is None:
        from whosaid.errors import ModelLoadError
        from whosaid.files import default_model_dir

        try:
            args.model = str(default_model_dir())
        except ModelLoadError as exc:
            parser.error(str(exc))
    if args.quantize and args.backend != "onnx":
        parser.error("--quantize needs --backend onnx")
    if args.threads is not None and args.threads < 1 or args.batch_size < 1:
        parser.error("--threads and --batch-size must be at least 1")
    return args


def predictor_options(args: argparse.Namespace) -> dict:
    """Keyword arguments of `Predictor.from_pretrained` from the parsed options."""
    return dict(backend=args.backend, quantize=args.quantize, threads=args.threads,
                batch_size=args.batch_size, stride=args.stride)


def add_scoring_options(parser: argparse.ArgumentParser, model_help: str) -> None:
    """For commands that score gold data and may also score a model (silver-eval,
    speakers-eval): --output for the results JSON, --overwrite, and the model options
    with an optional --model (parse with `default_model=False`: no model, no model score)."""
    from whosaid.cli import add_overwrite_option

    parser.add_argument("--output", help="write the results JSON here (atomically; never a data file)")
    add_overwrite_option(parser)
    add_model_options(parser, required=False, model_help=model_help)


def scoring_predictor(args: argparse.Namespace, data: list[str]):
    """For the scoring commands: refuse a bad --output (never a data file, never inside a
    directory read) and a missing model directory before any work; then the Predictor
    of --model, or None without one."""
    from whosaid.cli import check_output
    from whosaid.readers.sources import source_path

    paths = [source_path(d, args.polnear) for d in data]
    check_output(args.output, args, reads=paths, read_dirs=[args.model, args.overlays or None, *paths])
    if not args.model:
        return None
    from whosaid.files import check_model_dir

    check_model_dir(args.model)  # a missing model directory is told at once, not after loading torch
    from whosaid.inference.predictor import Predictor

    return Predictor.from_pretrained(args.model, **predictor_options(args))
