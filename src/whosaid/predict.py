"""`predict.py --model DIR [--format jsonl|labelstudio|html] [--output PATH] INPUT...`

Attribution records ("who said what, with which stance, citing which figures") for
raw articles, through the same `Predictor` that evaluate.py uses.

Inputs: .txt files (a seed header line ` date YYYY-MM-DD Headline` is understood),
directories of .txt files, JSON Lines files (`{"id": ..., "text": ...}` per line),
or `-` / nothing for stdin (JSON Lines when every non-empty line is such an
object, else the whole of stdin is one article with id `stdin`).

Rules: an input that cannot be read is reported and skipped, the others are still
predicted, the failures are listed at the end and the exit status is 1. A model
directory that is missing, corrupt or incompatible exits with status 2 before any
input is read. A repeated article id gets a suffix (`id~2`) so outputs stay
unambiguous. The output is written atomically (or to stdout without --output).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

from whosaid.atomic import write_text_atomic
from whosaid.documents import Document
from whosaid.errors import ModelLoadError, WhosaidError

FORMATS = ("jsonl", "labelstudio", "html")
STDIN = "-"
#: Windows per forward pass: small batches keep activations in cache on a 2-core CPU;
#: `benchmarks/bench_inference.py --batch-size N` measures other sizes on your machine.
DEFAULT_BATCH_SIZE = 4
#: Inputs longer than this many characters in total get a progress bar (on stderr).
PROGRESS_MIN_CHARS = 20_000


@dataclass
class Inputs:
    """Articles read from the command line, and the inputs that failed (path, reason)."""

    documents: list[Document] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)


def _parse_stdin(raw: str) -> list[Document]:
    lines = [l for l in raw.splitlines() if l.strip()]
    records = []
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            records = None
            break
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            records = None
            break
        records.append(record)
    if records:
        docs = []
        for i, r in enumerate(records, 1):
            if not r["text"].strip():
                raise WhosaidError(f"<stdin>: line {i}: empty 'text'")
            extra = {k: v for k, v in r.items() if k not in ("id", "text")}
            docs.append(Document(id=str(r.get("id", f"stdin-{i}")), text=r["text"],
                                 metadata={**extra, "source": "<stdin>", "line": i}))
        return docs
    if not raw.strip():
        raise WhosaidError("<stdin>: no text")
    return [Document(id="stdin", text=raw, metadata={"source": "<stdin>"})]


def read_inputs(paths: Sequence[str], stdin=None) -> Inputs:
    """Read every input; a failing file is recorded, not fatal. Directories are
    expanded file by file so one bad file does not hide its siblings."""
    from whosaid.seeds import read_seed, read_text_inputs

    out = Inputs()
    for spec in paths or [STDIN]:
        if spec == STDIN:
            stream = stdin or sys.stdin
            if stream.isatty():
                print("reading articles from stdin (end with Ctrl-D) ...", file=sys.stderr)
            try:
                out.documents += _parse_stdin(stream.read())
            except (WhosaidError, OSError, UnicodeDecodeError) as exc:
                out.failures.append(("<stdin>", str(exc)))
            continue
        path = Path(spec)
        targets = sorted(p for p in path.glob("*.txt") if p.is_file()) if path.is_dir() else [path]
        if path.is_dir() and not targets:
            out.failures.append((str(path), "directory holds no .txt files"))
        for target in targets:
            try:
                out.documents += [read_seed(target)] if path.is_dir() else read_text_inputs([target])
            except (WhosaidError, OSError) as exc:
                out.failures.append((str(target), getattr(exc, "reason", None) or str(exc)))
    out.documents = unique_ids(out.documents)
    return out


def unique_ids(docs: list[Document]) -> list[Document]:
    """Give a repeated id a `~N` suffix (first occurrence keeps it)."""
    seen: dict[str, int] = {}
    taken = {d.id for d in docs}
    out = []
    for d in docs:
        if d.id not in seen:
            seen[d.id] = 1
            out.append(d)
            continue
        n = seen[d.id]
        while f"{d.id}~{n + 1}" in taken:
            n += 1
        seen[d.id] = n + 1
        new = f"{d.id}~{n + 1}"
        taken.add(new)
        out.append(replace(d, id=new, metadata={**d.metadata, "original_id": d.id}))
    return out


def render(docs: list[Document], fmt: str, model_version: str | None = None, schema=None) -> str:
    """The output file's content for predicted documents."""
    if fmt == "jsonl":
        from whosaid.records import article_record

        return "".join(json.dumps(article_record(d).to_dict(), ensure_ascii=False, default=str) + "\n"
                       for d in docs)
    if fmt == "labelstudio":
        from whosaid.labelstudio import to_tasks

        tasks = to_tasks(docs, as_predictions=True, model_version=model_version, schema=schema)
        return json.dumps(tasks, ensure_ascii=False, indent=2, default=str) + "\n"
    if fmt == "html":
        from whosaid.html_report import render_html

        return render_html(docs, title=f"whosaid predictions ({model_version})" if model_version else None)
    raise WhosaidError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="predict.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="*", metavar="INPUT",
                   help=".txt file, directory of .txt, .jsonl file, or - for stdin (default)")
    p.add_argument("--model", required=True, help="saved model directory (a run's model/)")
    p.add_argument("--format", choices=FORMATS, default="jsonl", help="output format (default jsonl)")
    p.add_argument("--output", help="output file (written atomically); default stdout")
    p.add_argument("--backend", choices=["torch", "onnx"], default="torch")
    p.add_argument("--quantize", action="store_true", help="with --backend onnx: the dynamic int8 model")
    p.add_argument("--threads", type=int, help="CPU threads for the model (default: the library's)")
    p.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE,
                   help=f"windows per forward pass (default {DEFAULT_BATCH_SIZE})")
    p.add_argument("--stride", type=int,
                   help="window overlap in sub-tokens (default: the model's training overlap; less is faster)")
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.quantize and args.backend != "onnx":
        print("error: --quantize needs --backend onnx", file=sys.stderr)
        return 2
    if args.threads is not None and args.threads < 1 or args.batch_size < 1:
        print("error: --threads and --batch-size must be at least 1", file=sys.stderr)
        return 2
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # long articles are windowed: the tokenizer's length warning is noise
    hf_logging.disable_progress_bar()
    from whosaid.predictor import Predictor

    try:
        predictor = Predictor.from_pretrained(args.model, backend=args.backend, threads=args.threads,
                                              batch_size=args.batch_size, quantize=args.quantize,
                                              stride=args.stride)
    except ModelLoadError as exc:
        print(f"error: cannot use model {args.model}: {exc}", file=sys.stderr)
        return 2
    inputs = read_inputs(args.inputs)
    status = 0
    if inputs.documents:
        long_input = sum(len(d.text) for d in inputs.documents) >= PROGRESS_MIN_CHARS
        try:
            docs = predictor.predict_documents(inputs.documents, progress=long_input and not args.no_progress)
            payload = render(docs, args.format, predictor.model_version, predictor.schema)
        except WhosaidError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        if args.output:
            write_text_atomic(args.output, payload)
            print(f"{len(docs)} article(s) -> {args.output}", file=sys.stderr)
        else:
            sys.stdout.write(payload)
            sys.stdout.flush()
    if inputs.failures:
        print(f"{len(inputs.failures)} input(s) failed:", file=sys.stderr)
        for path, reason in inputs.failures:
            print(f"  {path}: {reason}", file=sys.stderr)
        status = 1
    elif not inputs.documents:
        print("error: no articles to predict", file=sys.stderr)
        status = 1
    return status
