"""HTML page: escaping, overlapping layers, attribution table."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from whosaid.documents import Document, Span
from whosaid.records.records import assemble_attributions
from whosaid.reports.html import render_html
from whosaid.schema import ATTRIBUTION, FIGURE, STANCE


def find(text: str, part: str, after: int = 0) -> tuple[int, int]:
    i = text.index(part, after)
    return i, i + len(part)


def predicted(text: str, marks: list[tuple[str, str, str]], doc_id: str = "a1", **meta) -> Document:
    """A document with spans given as (layer, label, text fragment), attributions assembled."""
    spans = [Span(layer, label, *find(text, frag), score=0.9) for layer, label, frag in marks]
    return Document(id=doc_id, text=text, spans=tuple(spans),
                    attributions=tuple(assemble_attributions(text, spans)),
                    layers=frozenset({ATTRIBUTION, FIGURE, STANCE}), metadata=meta)


class _Collector(HTMLParser):
    """Visible text and every tag seen."""

    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.data: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._skip += tag == "style"

    def handle_endtag(self, tag):
        self._skip -= tag == "style"

    def handle_data(self, data):
        if not self._skip:
            self.data.append(data)


def article_text(page: str) -> str:
    """The text shown in the article's text block, badges and attribution numbers removed."""
    inner = re.search(r"<div class=text>(.*?)</div>", page, re.S).group(1)
    inner = re.sub(r'<span class="badge[^"]*">[^<]*</span>|<span class=num>[^<]*</span>', "", inner)
    return html.unescape(re.sub(r"<[^>]+>", "", inner))


def parse(page: str) -> _Collector:
    c = _Collector()
    c.feed(page)
    return c


TEXT = 'The minister said that unemployment fell by 3.5 percent last year.'


def test_page_marks_all_layers_and_lists_attributions():
    doc = predicted(TEXT, [(ATTRIBUTION, "SPEAKER", "The minister"), (ATTRIBUTION, "CUE", "said"),
                           (ATTRIBUTION, "CONTENT", "unemployment fell by 3.5 percent last year"),
                           (FIGURE, "FIGURE", "3.5 percent"), (STANCE, "SUPPORT", "said")])
    page = render_html([doc])
    assert page.startswith("<!DOCTYPE html>")
    # The figure lies inside the content: its segment carries both classes.
    seg = re.search(r'<span class="([^"]+)"[^>]*>3\.5 percent</span>', page)
    assert seg and {"fig", "l-CONTENT"} <= set(seg.group(1).split())
    cue = re.search(r'<span class="([^"]+)"[^>]*>said</span>', page)
    assert cue and {"l-CUE", "st-SUPPORT"} <= set(cue.group(1).split())
    assert '<span class="badge st-SUPPORT">SUPPORT</span>' in page
    # The text block shows exactly the article (markup only adds badges and numbers).
    assert article_text(page) == TEXT
    # Table row: speaker, cue, content, stance, figure.
    row = re.search(r"<tr><td>1</td>(.*?)</tr>", page).group(1)
    for part in ("The minister", "said", "unemployment fell by 3.5 percent last year", "SUPPORT", "3.5 percent"):
        assert part in row


def test_article_text_is_escaped():
    text = 'Officials said <script>alert(1)</script> & "quotes" were <b>bold</b>.'
    doc = predicted(text, [(ATTRIBUTION, "SPEAKER", "Officials"), (ATTRIBUTION, "CUE", "said"),
                           (ATTRIBUTION, "CONTENT", "<script>alert(1)</script>")],
                    doc_id="<img src=x onerror=alert(2)>", headline="<i>head</i>", source="<x>.txt")
    page = render_html([doc], title="<title>")
    tags = parse(page).tags
    assert "script" not in tags and "img" not in tags and "b" not in tags and "i" not in tags
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page.lower()
    assert article_text(page) == text  # shown as text, unchanged
    assert "<script>alert(1)</script>" in "".join(parse(page).data)


def test_unannotated_document_renders_plain_text():
    doc = Document(id="plain", text="Nothing to see here.\nSecond line.")
    page = render_html([doc])
    assert article_text(page) == doc.text
    assert "No attributions." in page
