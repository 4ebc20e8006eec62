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
from whosaid.files import decode_utf8, jsonl_lines, not_utf8_reason, read_input_bytes

_HEADER = re.compile(r"[ \t]*date[ \t]+(\d{4}-\d{2}-\d{2})(?:[ \t]+|[ \t]*(?=\r?\n|$))")


def _read_text(path: Path) -> str:
    """A regular file's text (a byte-order mark dropped), errors naming the file."""
    data = read_input_bytes(path)
    try:
        # utf-8-sig: a byte-order mark would hide the header otherwise.
        return decode_utf8(data)
    except UnicodeDecodeError as exc:
        raise AnnotationError(not_utf8_reason(exc), file=path) from exc


def seed_document(raw: str, doc_id: str, source: str) -> Document:
    """One article from the text of a .txt file (or of stdin): the seed header, when
    present, goes to the metadata (`date`, `headline`) and the text starts after it."""
    if not raw.strip():
        raise AnnotationError("empty article", file=source)
    metadata: dict = {"source": source}
    text = raw
    header = _HEADER.match(raw)
    if header:
        try:
            dt.date.fromisoformat(header.group(1))
        except ValueError:
            raise AnnotationError(f"seed header has an invalid date {header.group(1)!r}",
                                  file=source) from None
        text = raw[header.end():]
        metadata["date"] = header.group(1)
        metadata["headline"] = text.split("\n", 1)[0].strip()
        if not text.strip():
            raise AnnotationError("seed header without headline or text", file=source)
    return Document(id=doc_id, text=text, metadata=metadata)


def read_seed(path) -> Document:
    """One article; metadata has `date` and `headline` when the seed header is present."""
    path = Path(path)
    return seed_document(_read_text(path), path.stem, str(path))


def article_from_record(record, lineno: int, source: str, default_id: str,
                        text_field: str = "text") -> Document:
    """The article of one parsed JSON Lines record: `text_field` (default `text`) is its
    text, `id` its id (default `default_id`); the record's other fields are kept in the
    metadata as they are, `source` (the file) and `line` added only where the record
    has no such field. Errors name the line."""
    if not isinstance(record, dict):
        raise AnnotationError(f"line {lineno}: expected an object with 'id' and {text_field!r}", file=source)
    text = record.get(text_field)
    if not isinstance(text, str) or not text.strip():
        raise AnnotationError(f"line {lineno}: missing or empty {text_field!r}", file=source)
    doc_id = record.get("id", default_id)
    if not isinstance(doc_id, (str, int)) or isinstance(doc_id, bool):
        raise AnnotationError(f"line {lineno}: 'id' must be a string or an integer", file=source)
    metadata = {k: v for k, v in record.items() if k not in ("id", text_field)}
    metadata.setdefault("source", source)
    metadata.setdefault("line", lineno)
    return Document(id=str(doc_id), text=text, metadata=metadata)


def _read_jsonl(path: Path, text_field: str = "text") -> list[Document]:
    docs, seen = [], set()
    for lineno, record in jsonl_lines(_read_text(path), lambda message: AnnotationError(message, file=path)):
        doc = article_from_record(record, lineno, str(path), f"{path.stem}-{lineno}", text_field)
        if doc.id in seen:
            raise AnnotationError(f"line {lineno}: duplicate id {doc.id!r}", file=path)
        seen.add(doc.id)
        docs.append(doc)
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
