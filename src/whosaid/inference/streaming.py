"""Predict files of articles into one output, as a stream (what `whosaid predict` runs).

`prepare` checks everything that can be checked without the model, so a bad input
or output is reported in seconds: the options, the inputs (read once, line by line:
the count for the progress bar and every bad file or line), the output path
(`whosaid.files.check_output_path`: never an input, never an existing file without
`overwrite`, a place where a file can be created). `run` then reads the articles
again in chunks of `chunk_size`, predicts each chunk and writes its records before
reading the next, so memory does not grow with the number of articles.

JSON Lines output with a path goes to `OUTPUT.partial` first, one complete line per
record, flushed after every chunk; when every article is done the file is renamed
onto OUTPUT (an existing OUTPUT stays as it was until then). Interrupted (Ctrl-C,
or killed), `OUTPUT.partial` holds complete records only, and `resume=True`
(`--resume`, `--skip-done`) continues after them: the articles whose ids are
already there are skipped. `resume` on a finished OUTPUT skips the articles it
holds and appends the new ones. Label Studio and HTML outputs are one document each,
written (atomically) at the end.

A chunk that fails is predicted article by article, so only the failing articles
are lost; each becomes a failure naming its input and id.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Sequence

from whosaid.documents import Document
from whosaid.errors import OutputError, WhosaidError
from whosaid.files import check_output_path, default_file_mode, write_text_atomic
from whosaid.readers.articles import Failure, InputPlan, iter_articles, plan_inputs
from whosaid.records.output import FORMATS, render

DEFAULT_CHUNK_SIZE = 32
#: A chunk also ends once its articles hold this many characters.
CHUNK_MAX_CHARS = 1_000_000
PARTIAL_SUFFIX = ".partial"


class PredictionInterrupted(WhosaidError):
    """Ctrl-C during `run`: what was written so far is complete, and where it is."""


def partial_path(output: str | Path) -> Path:
    output = Path(output)
    return output.with_name(output.name + PARTIAL_SUFFIX)


@dataclass
class Done:
    """The complete records already in a file: their ids, their model versions, and the
    byte length of those complete lines (a torn last line comes after it)."""

    ids: set[str] = field(default_factory=set)
    versions: set[str] = field(default_factory=set)
    length: int = 0


def read_done(path: Path) -> Done:
    """The records of an earlier (possibly interrupted) run in `path`. A last line cut
    short by a kill is ignored (and later cut off); any other line that is not a record
    is an error, so a file that is not this command's output is never appended to."""
    done = Done()
    size = path.stat().st_size
    with open(path, "rb") as f:
        offset = 0
        for lineno, raw in enumerate(f, 1):
            end = offset + len(raw)
            last = end >= size
            try:
                record = json.loads(raw)
                if not isinstance(record, dict) or not isinstance(record.get("id"), str):
                    raise ValueError("not a record")
            except (ValueError, RecursionError):
                if last and not raw.endswith(b"\n"):
                    break  # torn by an interruption (no newline yet): dropped
                raise OutputError(f"{path} line {lineno} is not a whosaid record; cannot resume from this file") \
                    from None
            if not raw.endswith(b"\n"):
                break  # complete JSON but no newline: a kill mid-write; predicted again
            done.ids.add(record["id"])
            version = (record.get("metadata") or {}).get("model_version")
            if version:
                done.versions.add(str(version))
            done.length = offset = end
    return done


@dataclass
class PredictionJob:
    """What `prepare` checked and `run` does."""

    plan: InputPlan
    output: Path | None
    fmt: str
    include_text: bool
    text_field: str
    chunk_size: int
    articles: int                        # articles to predict (those already done not counted)
    failures: list[Failure]              # inputs and lines that cannot be read
    resume_from: Path | None = None      # the file whose complete records are kept
    done: Done = field(default_factory=Done)
    written: int = 0                     # records written by `run` so far

    @property
    def partial(self) -> Path | None:
        return partial_path(self.output) if self.output is not None and self.fmt == "jsonl" else None

    def close(self) -> None:
        self.plan.close()


def prepare(inputs: Sequence[str], output: str | Path | None = None, *, fmt: str = "jsonl",
            include_text: bool = True, text_field: str = "text", stdin: IO | None = None,
            stdin_format: str = "auto", resume: bool = False, overwrite: bool = False,
            chunk_size: int = DEFAULT_CHUNK_SIZE, model_dir: str | Path | None = None) -> PredictionJob:
    """Check the options, inputs and output (module docstring); raises `WhosaidError`
    (an `OutputError` for the output) before anything is written."""
    if fmt not in FORMATS:
        raise WhosaidError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    if chunk_size < 1:
        raise WhosaidError("--chunk-size must be at least 1")
    if not text_field:
        raise WhosaidError("--text-field must not be empty")
    if resume and (fmt != "jsonl" or output is None):
        raise WhosaidError("--resume continues a JSON Lines --output file (--format jsonl --output PATH)")
    plan = plan_inputs(inputs, stdin, stdin_format)
    try:
        job = PredictionJob(plan, Path(output) if output is not None else None, fmt, include_text, text_field,
                            chunk_size, 0, list(plan.failures))
        if job.output is not None:
            named = [Path(spec) for spec in inputs if spec != "-"]  # unreadable ones too: the user's files
            _check_output(job, resume, overwrite, model_dir, named)
        for item in iter_articles(plan, text_field):
            if isinstance(item, Failure):
                job.failures.append(item)
            elif item.id not in job.done.ids:
                job.articles += 1
        return job
    except BaseException:
        plan.close()
        raise


def _check_output(job: PredictionJob, resume: bool, overwrite: bool, model_dir, named: list[Path]) -> None:
    reads = job.plan.paths + named
    read_dirs = [model_dir] if model_dir is not None else []
    check_output_path(job.output, reads=reads, read_dirs=read_dirs, overwrite=overwrite or resume)
    partial = job.partial
    if partial is None:
        return
    check_output_path(partial, reads=reads, read_dirs=read_dirs, overwrite=True, flag="--output (partial file)")
    if resume:
        job.resume_from = partial if partial.exists() else job.output if job.output.exists() else None
        if job.resume_from is not None:
            job.done = read_done(job.resume_from)
    elif partial.exists() and not overwrite:
        raise OutputError(f"{partial} holds the records of an interrupted run: pass --resume to continue it, "
                          "or --overwrite to start over")


@dataclass
class PredictionReport:
    written: int          # records written by this run
    kept: int             # records of an earlier run kept (resume)
    failures: list[Failure]
    output: Path | None


def _chunks(job: PredictionJob, failures: list[Failure]):
    known = {(f.source, f.reason) for f in job.failures}
    chunk: list[Document] = []
    chars = 0
    for item in iter_articles(job.plan, job.text_field):
        if isinstance(item, Failure):
            if (item.source, item.reason) not in known:  # the input changed since `prepare`
                failures.append(item)
            continue
        if item.id in job.done.ids:
            continue
        chunk.append(item)
        chars += len(item.text)
        if len(chunk) >= job.chunk_size or chars >= CHUNK_MAX_CHARS:
            yield chunk
            chunk, chars = [], 0
    if chunk:
        yield chunk


def _predict_chunk(predictor, docs: list[Document], render_one, failures: list[Failure]):
    """(predicted documents, rendered text) of a chunk; when it fails, article by article."""
    try:
        predicted = predictor.predict_documents(docs)
        return predicted, render_one(predicted)
    except Exception:  # noqa: BLE001 - find the failing articles, keep the others
        kept, parts = [], []
        for doc in docs:
            try:
                one = predictor.predict_documents([doc])
                parts.append(render_one(one))
                kept += one
            except Exception as exc:  # noqa: BLE001
                reason = "nested too deeply" if isinstance(exc, RecursionError) else f"{type(exc).__name__}: {exc}"
                failures.append(Failure(str(doc.metadata.get("source", "?")),
                                        f"article {doc.id!r}: cannot predict: {reason}"[:500]))
        return kept, "".join(parts)


def _write_uninterrupted(stream, data) -> None:
    """Write and flush with Ctrl-C held back until the write is complete, so an
    interrupted run never leaves half a line (SIGINT is delivered right after)."""
    masked = threading.current_thread() is threading.main_thread() and hasattr(signal, "pthread_sigmask")
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if masked else None
    try:
        stream.write(data)
        stream.flush()
    finally:
        if masked:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _open_partial(job: PredictionJob):
    partial = job.partial
    partial.parent.mkdir(parents=True, exist_ok=True)  # as an atomic write would
    if job.resume_from is None:
        return open(partial, "wb")
    if job.resume_from != partial:
        shutil.copyfile(job.resume_from, partial)  # a finished output stays as it is until the end
    f = open(partial, "r+b")
    f.truncate(job.done.length)  # a torn last line goes
    f.seek(job.done.length)
    return f


def run(job: PredictionJob, predictor, *, stream: IO | None = None, progress: bool = False) -> PredictionReport:
    """Predict the job's articles chunk by chunk (module docstring). Without an output
    path the records go to `stream` (stdout). Ctrl-C raises `PredictionInterrupted`
    once what was written is complete."""
    import sys

    versions = job.done.versions - {str(predictor.model_version)}
    if versions:
        raise OutputError(f"{job.resume_from} holds records of another model ({', '.join(sorted(versions))}, "
                          f"not {predictor.model_version}); resume with that model or start over with --overwrite")
    failures: list[Failure] = list(job.failures)
    if job.articles == 0 and job.output is not None and job.resume_from == job.output:
        return PredictionReport(0, len(job.done.ids), failures, job.output)  # all done: nothing is touched
    stream = stream if stream is not None else sys.stdout
    jsonl = job.fmt == "jsonl"

    def render_one(docs):
        return render(docs, "jsonl", include_text=job.include_text) if jsonl else ""

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=job.articles, desc="predict", unit="article", dynamic_ncols=True)
    sink = _open_partial(job) if jsonl and job.output is not None else None
    collected: list[Document] = []
    started, words = time.monotonic(), 0
    try:
        for chunk in _chunks(job, failures):
            predicted, text = _predict_chunk(predictor, chunk, render_one, failures)
            if jsonl:
                if sink is not None:
                    _write_uninterrupted(sink, text.encode("utf-8"))
                else:
                    _write_uninterrupted(stream, text)
            else:
                collected += predicted
            job.written += len(predicted)
            words += sum(len(d.text.split()) for d in chunk)
            if bar is not None:
                bar.update(len(chunk))
                bar.set_postfix_str(f"{words / max(time.monotonic() - started, 1e-9):,.0f} words/s", refresh=False)
    except KeyboardInterrupt:
        where = f"in {job.partial}" if sink is not None else "to stdout"
        hint = "; run the same command with --resume to continue" if sink is not None else ""
        raise PredictionInterrupted(f"interrupted: {job.written} new record(s) written {where} "
                                    f"({len(job.done.ids) + job.written} in all){hint}") from None
    finally:
        if bar is not None:
            bar.close()
        if sink is not None:
            sink.flush()
            os.fsync(sink.fileno())
            sink.close()
    if sink is not None:
        os.chmod(job.partial, default_file_mode())
        os.replace(job.partial, job.output)
    elif not jsonl:
        payload = render(collected, job.fmt, predictor.model_version, predictor.schema)
        if job.output is not None:
            write_text_atomic(job.output, payload)
        else:
            stream.write(payload)
            stream.flush()
    return PredictionReport(job.written, len(job.done.ids), failures, job.output)


def predict_files(model, inputs: Sequence[str], output: str | Path | None = None, *, fmt: str = "jsonl",
                  include_text: bool = True, text_field: str = "text", stdin_format: str = "auto",
                  resume: bool = False, overwrite: bool = False, chunk_size: int = DEFAULT_CHUNK_SIZE,
                  progress: bool = False, stream: IO | None = None, **predictor_options) -> PredictionReport:
    """The Python API of `whosaid predict`: `model` is a model directory (loaded with
    `predictor_options`) or a `Predictor`. The inputs and output are checked before the
    model loads, with the same rules as the command (an output that is an input, or that
    exists without `overwrite`, is refused with `OutputError`)."""
    from whosaid.inference.predictor import Predictor

    model_dir = None if isinstance(model, Predictor) else model
    if model_dir is not None:
        from whosaid.files import check_model_dir

        check_model_dir(model_dir)
    job = prepare(inputs, output, fmt=fmt, include_text=include_text, text_field=text_field,
                  stdin_format=stdin_format, resume=resume, overwrite=overwrite, chunk_size=chunk_size,
                  model_dir=model_dir)
    try:
        predictor = model if model_dir is None else Predictor.from_pretrained(model_dir, **predictor_options)
        return run(job, predictor, stream=stream, progress=progress)
    finally:
        job.close()
