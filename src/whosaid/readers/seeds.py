"""Read unannotated articles: seed .txt files, directories of them, and JSON Lines.

A seed article's first line is a header ` date YYYY-MM-DD Headline`. The document
text is the headline followed by the rest of the file, unchanged, so that offsets
predicted on it point into what a reader sees; the date goes to the metadata.
A .txt without the header is taken whole, without a date.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from whosaid.documents import Document
from whosaid.errors import AnnotationError
from whosaid.files import jsonl_lines

_HEADER = re.compile(r"[ \t]*date[ \t]+(\d{4}-\d{2}-\d{2})(?:[ \t]+|[ \t]*(?=\r?\n|$))")


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AnnotationError(f"cannot read file: {exc}", file=path) from exc
    try:
        # utf-8-sig: a byte-order mark would hide the header otherwise.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AnnotationError(f"not UTF-8 text: {exc}", file=path) from exc


def read_seed(path) -> Document:
    """One article; metadata has `date` and `headline` when the seed header is present."""
    path = Path(path)
    raw = _read_text(path)
    if not raw.strip():
        raise AnnotationError("empty article", file=path)
    metadata: dict = {"source": str(path)}
    text = raw
    header = _HEADER.match(raw)
    if header:
        try:
            dt.date.fromisoformat(header.group(1))
        except ValueError:
            raise AnnotationError(f"seed header has an invalid date {header.group(1)!r}",
                                  file=path) from None
        text = raw[header.end():]
        metadata["date"] = header.group(1)
        metadata["headline"] = text.split("\n", 1)[0].strip()
        if not text.strip():
            raise AnnotationError("seed header without headline or text", file=path)
    return Document(id=path.stem, text=text, metadata=metadata)


def _read_jsonl(path: Path) -> list[Document]:
    docs, seen = [], set()
    for lineno, record in jsonl_lines(_read_text(path), lambda message: AnnotationError(message, file=path)):
        if not isinstance(record, dict):
            raise AnnotationError(f"line {lineno}: expected an object with 'id' and 'text'", file=path)
        text = record.get("text")
        if not isinstance(text, str) or not text.strip():
            raise AnnotationError(f"line {lineno}: missing or empty 'text'", file=path)
        doc_id = record.get("id", f"{path.stem}-{lineno}")
        if not isinstance(doc_id, (str, int)) or isinstance(doc_id, bool):
            raise AnnotationError(f"line {lineno}: 'id' must be a string or an integer", file=path)
        doc_id = str(doc_id)
        if doc_id in seen:
            raise AnnotationError(f"line {lineno}: duplicate id {doc_id!r}", file=path)
        seen.add(doc_id)
        extra = {k: v for k, v in record.items() if k not in ("id", "text")}
        docs.append(Document(id=doc_id, text=text,
                             metadata={**extra, "source": str(path), "line": lineno}))
    if not docs:
        raise AnnotationError("no articles in file", file=path)
    return docs


def read_text_inputs(paths) -> list[Document]:
    """Articles from .txt files, directories of .txt files (sorted by name) and .jsonl
    files (one `{"id": ..., "text": ...}` object per line; other keys go to metadata)."""
    docs: list[Document] = []
    for path in map(Path, [paths] if isinstance(paths, (str, Path)) else paths):
        if path.is_dir():
            files = sorted(p for p in path.glob("*.txt") if p.is_file())
            if not files:
                raise AnnotationError("directory holds no .txt files", file=path)
            docs += [read_seed(p) for p in files]
        elif not path.exists():
            raise AnnotationError("no such file or directory", file=path)
        elif path.suffix == ".jsonl":
            docs += _read_jsonl(path)
        elif path.suffix == ".txt":
            docs.append(read_seed(path))
        else:
            raise AnnotationError("unsupported input: expected .txt, .jsonl or a directory of .txt",
                                  file=path)
    return docs
