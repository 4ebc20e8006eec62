"""The articles of a batch job, read lazily in a fixed order.

Inputs are what `whosaid predict` reads (.txt files, directories of .txt files,
.jsonl files) plus Parquet files (`text` column, optional `id`; other columns go
to the metadata like a JSONL record's other keys) and shell-style globs. The
input list is expanded to files, de-duplicated and **sorted by path**, so the
same inputs in any order give the same articles in the same order, and so the
same shards. Documents are read one file at a time (a Parquet file one row
group at a time): memory does not grow with the number of articles.

A problem is per record wherever it can be: a bad JSONL line or Parquet row is
one `InputError` and the file's other records are still read; an unreadable file
is one `InputError` with the path as its id.

Documents are built exactly as `whosaid predict` builds them (same id, text and
metadata, `source` being the path as given), so records are byte-identical.
Repeated ids get the same `~N` suffix as in predict; the suffix is chosen from the
ids read so far (predict also looks at ids further on, which matters only when an
input literally contains an id such as `x~2` after a second `x`).
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from whosaid.documents import Document
from whosaid.errors import WhosaidError
from whosaid.readers.articles import UniqueIds

SUFFIXES = (".txt", ".jsonl", ".parquet")
_GLOB_CHARS = set("*?[")


@dataclass(frozen=True)
class InputFile:
    path: Path  # as the user spelled it (or as a glob / directory listing produced it)
    kind: str  # "txt" | "jsonl" | "parquet" | "error"
    reason: str = ""  # for kind "error"

    @property
    def key(self) -> str:
        return os.path.abspath(self.path)


@dataclass(frozen=True)
class InputError:
    """A record (or a whole input) that could not be read."""

    id: str
    reason: str
    source: str
    line: int | None = None  # JSONL line (1-based)
    row: int | None = None  # Parquet row (1-based)

    def to_dict(self) -> dict:
        d = {"id": self.id, "reason": self.reason, "source": self.source}
        if self.line is not None:
            d["line"] = self.line
        if self.row is not None:
            d["row"] = self.row
        return d


def expand_inputs(specs: Sequence[str]) -> list[InputFile]:
    """Files named by `specs` (files, directories, globs), de-duplicated, sorted by path.
    A spec that names nothing readable becomes one `kind="error"` entry."""
    found: dict[str, InputFile] = {}

    def add(f: InputFile) -> None:
        found.setdefault(f.key, f)

    for spec in specs:
        if spec == "-":
            raise WhosaidError("batch reads files, not stdin: save the articles to a .jsonl file")
        paths = [Path(p) for p in sorted(glob.glob(spec, recursive=True))] if _GLOB_CHARS & set(spec) else [Path(spec)]
        if not paths:
            add(InputFile(Path(spec), "error", "no file matches this pattern"))
        for path in paths:
            if path.is_dir():
                txt = sorted(p for p in path.glob("*.txt") if p.is_file())
                if not txt:
                    add(InputFile(path, "error", "directory holds no .txt files"))
                for p in txt:
                    add(InputFile(p, "txt"))
            elif not path.exists():
                add(InputFile(path, "error", "no such file or directory"))
            elif path.suffix in SUFFIXES:
                add(InputFile(path, path.suffix[1:]))
            else:
                add(InputFile(path, "error", "unsupported input: expected .txt, .jsonl, .parquet or a directory of .txt"))
    return sorted(found.values(), key=lambda f: str(f.path))


def fingerprint(files: Sequence[InputFile]) -> str:
    """sha256 of the sorted absolute paths and sizes: a different input list (or a file
    that grew or shrank) gives a different fingerprint."""
    h = hashlib.sha256()
    for f in files:
        try:
            size = os.path.getsize(f.path) if f.kind != "error" else -1
        except OSError:
            size = -1
        h.update(f"{f.key}\0{f.kind}\0{size}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def estimate_records(files: Sequence[InputFile]) -> int:
    """Records the inputs hold (for the progress bar), without parsing them: non-blank
    JSONL lines, Parquet row counts, one per .txt or failing input."""
    n = 0
    for f in files:
        try:
            if f.kind == "jsonl":
                with open(f.path, "rb") as fh:
                    n += sum(1 for line in fh if line.strip())
            elif f.kind == "parquet":
                import pyarrow.parquet as pq

                n += pq.ParquetFile(f.path).metadata.num_rows
            else:
                n += 1
        except Exception:
            n += 1
    return n


# ------------------------------------------------------------------ records


def _check_id(value, default: str, allow_none: bool = False) -> str:
    if value is None and allow_none:
        return default
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise ValueError("'id' must be a string or an integer")
    return str(value)


def _jsonl_records(path: Path) -> Iterator[Document | InputError]:
    from whosaid.readers.seeds import _read_text

    source = str(path)
    seen: set[str] = set()
    any_record = False
    for lineno, line in enumerate(_read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        any_record = True
        fallback = f"{path.stem}-{lineno}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield InputError(fallback, f"line {lineno}: invalid JSON: {exc}", source, lineno)
            continue
        if not isinstance(record, dict):
            yield InputError(fallback, f"line {lineno}: expected an object with 'id' and 'text'", source, lineno)
            continue
        try:
            doc_id = _check_id(record["id"], fallback) if "id" in record else fallback
        except ValueError as exc:
            yield InputError(fallback, f"line {lineno}: {exc}", source, lineno)
            continue
        text = record.get("text")
        if not isinstance(text, str) or not text.strip():
            yield InputError(doc_id, f"line {lineno}: missing or empty 'text'", source, lineno)
            continue
        if doc_id in seen:
            yield InputError(doc_id, f"line {lineno}: duplicate id {doc_id!r} in this file", source, lineno)
            continue
        seen.add(doc_id)
        extra = {k: v for k, v in record.items() if k not in ("id", "text")}
        yield Document(id=doc_id, text=text, metadata={**extra, "source": source, "line": lineno})
    if not any_record:
        yield InputError(source, "no articles in file", source)


def _parquet_records(path: Path) -> Iterator[Document | InputError]:
    import pyarrow.parquet as pq

    source = str(path)
    pf = pq.ParquetFile(path)
    names = pf.schema_arrow.names
    if "text" not in names:
        yield InputError(source, f"Parquet file has no 'text' column (columns: {', '.join(names)})", source)
        return
    if pf.metadata.num_rows == 0:
        yield InputError(source, "no articles in file", source)
        return
    seen: set[str] = set()
    row = 0
    for batch in pf.iter_batches(batch_size=256):
        for record in batch.to_pylist():
            row += 1
            fallback = f"{path.stem}-{row}"
            try:
                doc_id = _check_id(record.get("id"), fallback, allow_none=True)
            except ValueError as exc:
                yield InputError(fallback, f"row {row}: {exc}", source, row=row)
                continue
            text = record.get("text")
            if not isinstance(text, str) or not text.strip():
                yield InputError(doc_id, f"row {row}: missing or empty 'text'", source, row=row)
                continue
            if doc_id in seen:
                yield InputError(doc_id, f"row {row}: duplicate id {doc_id!r} in this file", source, row=row)
                continue
            seen.add(doc_id)
            extra = {k: v for k, v in record.items() if k not in ("id", "text")}
            yield Document(id=doc_id, text=text, metadata={**extra, "source": source, "row": row})


def _file_records(f: InputFile) -> Iterator[Document | InputError]:
    source = str(f.path)
    if f.kind == "error":
        yield InputError(source, f.reason, source)
        return
    try:
        if f.kind == "txt":
            from whosaid.readers.seeds import read_seed

            yield read_seed(f.path)
        elif f.kind == "jsonl":
            yield from _jsonl_records(f.path)
        else:
            yield from _parquet_records(f.path)
    except (WhosaidError, OSError) as exc:
        yield InputError(source, getattr(exc, "reason", None) or str(exc), source)
    except Exception as exc:  # a corrupt Parquet file, say
        yield InputError(source, f"{type(exc).__name__}: {exc}", source)


def iter_records(files: Sequence[InputFile]) -> Iterator[Document | InputError]:
    """Every article (with unique ids) and every input error, in input order."""
    unique = UniqueIds()
    for f in files:
        for item in _file_records(f):
            yield unique(item) if isinstance(item, Document) else item
