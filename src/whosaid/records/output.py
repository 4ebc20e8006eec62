"""Predicted documents as the files users get: JSON Lines records, Label Studio
tasks (pre-annotations) or an HTML page."""

from __future__ import annotations

import json

from whosaid.documents import Document
from whosaid.errors import WhosaidError

FORMATS = ("jsonl", "labelstudio", "html")


def render(docs: list[Document], fmt: str, model_version: str | None = None, schema=None,
           include_text: bool = True) -> str:
    """The output file's content for predicted documents. JSON Lines records carry the
    article `text` their offsets index, unless `include_text` is false."""
    if fmt == "jsonl":
        from whosaid.records.records import article_record

        return "".join(json.dumps(article_record(d).to_dict(include_text), ensure_ascii=False, default=str) + "\n"
                       for d in docs)
    if fmt == "labelstudio":
        from whosaid.readers.labelstudio_json import to_tasks

        tasks = to_tasks(docs, as_predictions=True, model_version=model_version, schema=schema)
        return json.dumps(tasks, ensure_ascii=False, indent=2, default=str) + "\n"
    if fmt == "html":
        from whosaid.reports.html import render_html

        return render_html(docs, title=f"whosaid predictions ({model_version})" if model_version else None)
    raise WhosaidError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
