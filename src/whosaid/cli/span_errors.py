"""`whosaid span-errors --model DIR --data polnear:dev [--layer attribution --label CONTENT]
[--output FILE.json]`: which mistakes a model makes on one span label (exact, boundary
error by edge and direction, split, merged, missed, spurious) and where its wrong edges
fall (sentence boundary, quotation mark, window seam, cue); markdown tables on stdout,
the whole result (with examples) as JSON with --output. The classes are described in
whosaid.evaluation.errors."""

from __future__ import annotations

import argparse

from whosaid.cli import add_overwrite_option, check_output, fail, show_result
from whosaid.cli.options import add_model_options, parse_model_args, predictor_options
from whosaid.errors import WhosaidError


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="whosaid span-errors", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_options(p)
    p.add_argument("--data", required=True,
                   help="annotated data: a Label Studio export (.json), a PolNeAR split dir, ROOT:SPLIT "
                        "or polnear:dev")
    p.add_argument("--split", help="split when --data is a PolNeAR root")
    p.add_argument("--polnear", help="PolNeAR root for ROOT-less specs (default $WHOSAID_POLNEAR or ../shared/polnear)")
    p.add_argument("--layer", default="attribution", help="layer of the label (default attribution)")
    p.add_argument("--label", default="CONTENT", help="the label analysed (default CONTENT)")
    p.add_argument("--cue-label", default="CUE",
                   help="label (same layer) whose spans count as cues for the edge places ('' for none; default CUE)")
    p.add_argument("--examples", type=int, default=3, metavar="N",
                   help="examples per class in the JSON (default 3; 0 for none)")
    p.add_argument("--no-constrained", action="store_true", help="argmax decoding with BIO repair instead of Viterbi")
    p.add_argument("--output", help="write the result JSON here (atomically)")
    add_overwrite_option(p)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parse_model_args(parser, argv)
    if args.examples < 0:
        return fail("--examples must be at least 0")
    try:
        check_output(args.output, args, reads=[args.data], read_dirs=[args.model])
        from whosaid.evaluation.errors import format_span_errors, span_errors, window_seams
        from whosaid.inference.predictor import Predictor
        from whosaid.readers.sources import load_source

        predictor = Predictor.from_pretrained(args.model, constrained=not args.no_constrained,
                                              **predictor_options(args))
        layers = predictor.schema.layers
        if args.layer not in layers:
            return fail(f"--layer {args.layer!r}: the model has the layers {', '.join(layers)}")
        if args.label not in layers[args.layer]:
            return fail(f"--label {args.label!r}: layer {args.layer!r} has {', '.join(layers[args.layer])}")
        cue = args.cue_label or None
        if cue is not None and cue not in layers[args.layer]:
            return fail(f"--cue-label {cue!r}: layer {args.layer!r} has {', '.join(layers[args.layer])}")
        gold = load_source(args.data, predictor.schema, split=args.split, polnear_root=args.polnear)
        gold = [d for d in gold if args.layer in d.layers]
        if not gold:
            return fail(f"{args.data}: no document annotates the layer {args.layer!r}")
        predicted = predictor.predict_documents(gold, progress=True)
        result = span_errors(gold, predicted, layer=args.layer, label=args.label, cue_label=cue,
                             seams=window_seams(gold, predictor.tokenizer, predictor.settings, predictor.schema),
                             examples=args.examples)
    except WhosaidError as exc:
        return fail(exc)
    result["data"] = {"source": str(args.data), "split": args.split}
    result["model"] = {"path": str(args.model), "backend": args.backend, "quantized": args.quantize,
                       "constrained_decoding": not args.no_constrained,
                       "window_length": predictor.settings.max_length, "stride": predictor.settings.stride}
    return show_result(format_span_errors(result), result, args.output, saved="span errors")
