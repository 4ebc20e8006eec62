"""Articles a user hands to `predict`: .txt files (a seed header line
` date YYYY-MM-DD Headline` is understood), directories of .txt files, JSON Lines
files (`{"id": ..., "text": ...}` per line), or `-` for stdin (JSON Lines when
every non-empty line is such an object, else the whole of stdin is one article
with id `stdin`).

An input that cannot be read is recorded as a failure, not raised, so the other
inputs are still predicted. A repeated article id gets a suffix (`id~2`) so
outputs stay unambiguous.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

from whosaid.documents import Document
from whosaid.errors import WhosaidError
from whosaid.files import jsonl_lines

STDIN = "-"


@dataclass
class Inputs:
    """Articles read from the command line, and the inputs that failed (path, reason)."""

    documents: list[Document] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)


def _parse_stdin(raw: str) -> list[Document]:
    try:
        records = [record for _, record in jsonl_lines(raw)]
    except ValueError:
        records = []
    if records and all(isinstance(r, dict) and isinstance(r.get("text"), str) for r in records):
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
    from whosaid.readers.seeds import read_seed, read_text_inputs

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
