"""Articles a user hands to `predict`, read as a stream (memory does not grow with
their number).

Inputs:

* a `.txt` file: one article, its id the file name without `.txt`; a seed header line
  ` date YYYY-MM-DD Headline` goes to the metadata and the text starts after it;
* a directory: every `.txt` file in it (sorted by name), each as above;
* a `.jsonl` file: one JSON object per line, its text under `text` (or the key given
  as `text_field`), its id under `id` (default `<file stem>-<line>`); every other
  field is kept in the record's metadata as it is;
* `-`, or no input at all: stdin. `stdin_format="text"` reads it as one article (id
  `stdin`, the seed header understood as in a file), `"jsonl"` as JSON Lines, and
  `"auto"` (the default) as JSON Lines when its first non-blank character is `{`,
  else as text. Detection never falls back: JSONL with a bad line reports that line.

Only regular files are read (a FIFO or device is refused, not waited on). Text must
be UTF-8; a byte-order mark at the start of a file or of stdin is dropped, and
offsets count characters after it.

Problems are per article wherever they can be: a bad JSONL line (invalid JSON,
nested too deeply, no text, a number as text, a repeated id within the file) is one
`Failure` naming the file and line, and the file's other lines are still read; an
unreadable file is one `Failure`.

Ids: within one JSONL file an id must be unique (a repeated one is a failure of
that line). Across inputs a repeated id gets a suffix, `id~2`, `id~3`, ... (the
first occurrence keeps it, `original_id` in the metadata), chosen from the ids read
before it, so the same inputs always get the same ids.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Iterator, Sequence

from whosaid.documents import Document
from whosaid.errors import AnnotationError, WhosaidError
from whosaid.files import JsonError, check_input_file, decode_utf8, not_utf8_reason, parse_json

STDIN = "-"
STDIN_LABEL = "<stdin>"
STDIN_FORMATS = ("auto", "text", "jsonl")


@dataclass(frozen=True)
class Failure:
    """An input, or one line of it, that could not be read: where and why."""

    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


@dataclass(frozen=True)
class InputFile:
    """One file to read: `path` on disk, `label` as the user named it, `kind` txt or jsonl."""

    path: Path
    label: str
    kind: str


@dataclass
class InputPlan:
    """What the inputs name, checked without reading them: the files to read (stdin
    spooled into a temporary file), and the inputs that already failed."""

    files: list[InputFile] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    stdin_file: Path | None = None  # the spooled copy of stdin, removed by `close`

    @property
    def paths(self) -> list[Path]:
        """The user's files this plan reads (for the output checks)."""
        return [f.path for f in self.files if f.label != STDIN_LABEL]

    def close(self) -> None:
        if self.stdin_file is not None:
            self.stdin_file.unlink(missing_ok=True)
            self.stdin_file = None


def _spool_stdin(stream) -> Path:
    """Copy stdin (bytes) to a temporary file, so it is read like any input file."""
    raw = getattr(stream, "buffer", stream)
    fd, name = tempfile.mkstemp(prefix="whosaid-stdin-", suffix=".tmp")
    with open(fd, "wb") as out:
        if isinstance(raw.read(0), str):  # a text stream (tests pass io.StringIO)
            out.write(stream.read().encode("utf-8", "surrogateescape"))
        else:
            shutil.copyfileobj(raw, out)
    return Path(name)


def _stdin_kind(path: Path, stdin_format: str) -> str:
    if stdin_format != "auto":
        return "jsonl" if stdin_format == "jsonl" else "stdin-text"
    with open(path, "rb") as f:
        head = f.read(4096)
        while head and not head.lstrip():
            head = f.read(4096)
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    return "jsonl" if head.startswith(b"{") else "stdin-text"


def plan_inputs(specs: Sequence[str], stdin: IO | None = None, stdin_format: str = "auto") -> InputPlan:
    """The files `specs` name (module docstring), in order; what cannot be read is a
    failure of the plan, not an exception. Nothing is parsed yet."""
    if stdin_format not in STDIN_FORMATS:
        raise WhosaidError(f"unknown stdin format {stdin_format!r} (one of {', '.join(STDIN_FORMATS)})")
    plan = InputPlan()
    for spec in specs or [STDIN]:
        if spec == STDIN:
            if plan.stdin_file is not None:
                plan.failures.append(Failure(STDIN_LABEL, "stdin given twice"))
                continue
            stream = stdin if stdin is not None else sys.stdin
            if stream.isatty():
                print("reading articles from stdin (end with Ctrl-D) ...", file=sys.stderr)
            try:
                plan.stdin_file = _spool_stdin(stream)
            except OSError as exc:
                plan.failures.append(Failure(STDIN_LABEL, f"cannot read stdin: {exc.strerror or exc}"))
                continue
            plan.files.append(InputFile(plan.stdin_file, STDIN_LABEL, _stdin_kind(plan.stdin_file, stdin_format)))
            continue
        path = Path(spec)
        if path.is_dir():
            txt = sorted(p for p in path.glob("*.txt") if p.is_file())
            if not txt:
                plan.failures.append(Failure(spec, "directory holds no .txt files"))
            plan.files += [InputFile(p, str(p), "txt") for p in txt]
            continue
        try:
            check_input_file(path)
        except AnnotationError as exc:
            plan.failures.append(Failure(spec, exc.reason))
            continue
        if path.suffix not in (".txt", ".jsonl"):
            plan.failures.append(Failure(spec, "unsupported input: expected .txt, .jsonl or a directory of .txt"))
            continue
        plan.files.append(InputFile(path, spec, path.suffix[1:]))
    return plan


def _whole_text(f: InputFile) -> str:
    check_input_file(f.path)  # it may have been replaced since the plan was made
    data = f.path.read_bytes()
    try:
        return decode_utf8(data)
    except UnicodeDecodeError as exc:
        raise AnnotationError(not_utf8_reason(exc), file=f.label) from None


def _jsonl_documents(f: InputFile, text_field: str) -> Iterator[Document | Failure]:
    from whosaid.readers.seeds import article_from_record

    check_input_file(f.path)
    stem = "stdin" if f.label == STDIN_LABEL else f.path.stem
    seen: set[str] = set()
    any_line = False
    with open(f.path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):  # bytes split on b"\n" only (U+2028 may be in a text)
            if lineno == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            if not raw.strip():
                continue
            any_line = True
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield Failure(f.label, f"line {lineno}: not UTF-8 text (undecodable byte at column {exc.start + 1})")
                continue
            try:
                record = parse_json(line)
            except JsonError as exc:
                yield Failure(f.label, f"line {lineno}: invalid JSON: {exc.message}")
                continue
            try:
                doc = article_from_record(record, lineno, f.label, f"{stem}-{lineno}", text_field)
            except AnnotationError as exc:
                yield Failure(f.label, exc.reason)
                continue
            if doc.id in seen:
                yield Failure(f.label, f"line {lineno}: id {doc.id!r} repeats an earlier line of this file")
                continue
            seen.add(doc.id)
            yield doc
    if not any_line:
        yield Failure(f.label, "no articles in file" if f.label != STDIN_LABEL else "no text")


def _file_documents(f: InputFile, text_field: str) -> Iterator[Document | Failure]:
    from whosaid.readers.seeds import seed_document

    try:
        if f.kind == "jsonl":
            yield from _jsonl_documents(f, text_field)
        elif f.kind == "stdin-text":
            text = _whole_text(f)
            if not text.strip():
                yield Failure(f.label, "no text")
            else:
                yield seed_document(text, "stdin", f.label)
        else:
            yield seed_document(_whole_text(f), f.path.stem, f.label)
    except AnnotationError as exc:
        yield Failure(f.label, exc.reason)
    except OSError as exc:
        yield Failure(f.label, f"cannot read file: {exc.strerror or exc}")


class UniqueIds:
    """Give a repeated id a `~N` suffix (the first occurrence keeps it), one document at a time."""

    def __init__(self) -> None:
        self.next: dict[str, int] = {}
        self.taken: set[str] = set()

    def __call__(self, d: Document) -> Document:
        if d.id not in self.taken:
            self.taken.add(d.id)
            self.next.setdefault(d.id, 2)
            return d
        n = self.next.get(d.id, 2)
        while f"{d.id}~{n}" in self.taken:
            n += 1
        self.next[d.id] = n + 1
        new = f"{d.id}~{n}"
        self.taken.add(new)
        return replace(d, id=new, metadata={**d.metadata, "original_id": d.id})


def iter_articles(plan: InputPlan, text_field: str = "text") -> Iterator[Document | Failure]:
    """Every article of the plan's files (unique ids) and every failure, in input order;
    one file (one line of a JSONL file) at a time."""
    unique = UniqueIds()
    for f in plan.files:
        for item in _file_documents(f, text_field):
            yield unique(item) if isinstance(item, Document) else item


@dataclass
class Inputs:
    """Articles read from the command line, and the inputs that failed (path, reason)."""

    documents: list[Document] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)


def read_inputs(paths: Sequence[str], stdin=None, stdin_format: str = "auto", text_field: str = "text") -> Inputs:
    """Every article in memory (for small inputs and tests; `whosaid predict` streams
    with `plan_inputs` and `iter_articles`)."""
    plan = plan_inputs(paths, stdin, stdin_format)
    out = Inputs(failures=[(f.source, f.reason) for f in plan.failures])
    try:
        for item in iter_articles(plan, text_field):
            if isinstance(item, Failure):
                out.failures.append((item.source, item.reason))
            else:
                out.documents.append(item)
    finally:
        plan.close()
    return out


def unique_ids(docs: list[Document]) -> list[Document]:
    """`docs` with a repeated id suffixed `~N` (first occurrence keeps it)."""
    unique = UniqueIds()
    return [unique(d) for d in docs]
