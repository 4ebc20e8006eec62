"""Predicted documents as the files users get: JSON Lines records, Label Studio
tasks (pre-annotations) or an HTML page."""

from __future__ import annotations

import json

from whosaid.documents import Document
from whosaid.errors import WhosaidError

FORMATS = ("jsonl", "labelstudio", "html")


#: Characters JSON leaves raw that line splitters (Python's str.splitlines, some editors)
#: take for line breaks; escaped so that one record is one line for every reader.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def jsonl_line(obj) -> str:
    """One JSON Lines record: UTF-8 text as is, except the characters some readers take
    for line breaks (U+0085, U+2028, U+2029), which are escaped."""
    return json.dumps(obj, ensure_ascii=False, default=str).translate(_LINE_BREAKS) + "\n"


def render(docs: list[Document], fmt: str, model_version: str | None = None, schema=None,
           include_text: bool = True) -> str:
    """The output file's content for predicted documents. JSON Lines records carry the
    article `text` their offsets index, unless `include_text` is false."""
    if fmt == "jsonl":
        from whosaid.records.records import article_record

        return "".join(jsonl_line(article_record(d).to_dict(include_text)) for d in docs)
    if fmt == "labelstudio":
        from whosaid.readers.labelstudio_json import to_tasks

        tasks = to_tasks(docs, as_predictions=True, model_version=model_version, schema=schema)
        return json.dumps(tasks, ensure_ascii=False, indent=2, default=str) + "\n"
    if fmt == "html":
        from whosaid.reports.html import render_html

        return render_html(docs, title=f"whosaid predictions ({model_version})" if model_version else None)
    raise WhosaidError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
