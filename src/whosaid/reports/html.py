"""One self-contained HTML page for predicted (or gold) documents, for people to read.

Layers overlap across each other (a FIGURE inside a CONTENT, a stance on a CUE),
so the text is cut at every span boundary into flat segments and each segment
carries the classes of all spans covering it: the attribution layer is shown as
background colour, FIGURE as an underline, a stance as a coloured outline plus a
badge after its span. Each CUE gets the number of its attribution, which is also
its row in the table below the text. A "who said what" table groups the
attributions by their speaker entity (the resolved speaker; unnamed speakers last),
each with its stance and figures. Every piece of article text, id and metadata is
escaped (`html.escape`): the page never runs what an article contains.
"""

from __future__ import annotations

import hashlib
import html
import re
from typing import Iterable, Sequence

from whosaid.documents import Document, Span
from whosaid.records.records import article_record
from whosaid.schema import ATTRIBUTION, CUE, FIGURE, STANCE

#: Colours of data/label-config.xml; unknown labels get a colour derived from their name.
COLOURS = {"SPEAKER": "#1f77b4", "CUE": "#ff7f0e", "CONTENT": "#2ca02c", "FIGURE": "#9467bd",
           "SUPPORT": "#17becf", "OPPOSE": "#d62728", "NEUTRAL": "#7f7f7f"}

_BASE_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem} h2{font-size:1.15rem;margin-top:2.5rem;border-top:1px solid #ccc;padding-top:1rem}
.meta{color:#666;font-size:.85rem}
.text{white-space:pre-wrap;line-height:2.1;font-size:1rem}
.legend span{margin-right:.8rem;padding:0 .3rem;border-radius:3px}
.seg{border-radius:2px}
.fig{border-bottom:3px solid #9467bd;padding-bottom:1px}
.badge{font-size:.7rem;vertical-align:super;border-radius:3px;padding:0 .25rem;margin-left:1px;color:#fff}
.num{font-size:.7rem;vertical-align:super;font-weight:bold;color:#ff7f0e}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin-top:1rem}
td,th{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top;text-align:left}
.conf{color:#888;font-size:.75rem}
.who td.ent{font-weight:bold}
"""


def _css_name(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", label)


def _colour(label: str) -> str:
    if label in COLOURS:
        return COLOURS[label]
    return "#" + hashlib.sha1(label.encode()).hexdigest()[:6]


def _css(labels: Iterable[tuple[str, str]]) -> str:
    rules = []
    for layer, label in sorted(set(labels)):
        name, colour = _css_name(label), _colour(label)
        if layer == STANCE:
            rules.append(f".st-{name}{{outline:2px solid {colour};outline-offset:1px}}"
                         f".badge.st-{name}{{background:{colour};outline:none}}")
        elif layer != FIGURE:
            rules.append(f".l-{name}{{background:{colour}40}}")
    return _BASE_CSS + "\n".join(rules)


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _conf(score: float | None) -> str:
    return "" if score is None else f" <span class=conf>{score:.2f}</span>"


def _segments(doc: Document, cue_numbers: dict[tuple, int]) -> str:
    """The article text cut at every span boundary; each piece styled by its covering spans."""
    text = doc.text
    spans = sorted(doc.spans, key=lambda s: (s.start, s.end))
    cuts = sorted({0, len(text), *[s.start for s in spans], *[s.end for s in spans]})
    ends: dict[int, list[Span]] = {}
    for s in spans:
        ends.setdefault(s.end, []).append(s)
    out = []
    for a, b in zip(cuts, cuts[1:]):
        cover = [s for s in spans if s.start <= a and b <= s.end]
        piece = _e(text[a:b])
        if cover:
            classes, titles = ["seg"], []
            for s in cover:
                if s.layer == FIGURE:
                    classes.append("fig")
                elif s.layer == STANCE:
                    classes.append(f"st-{_css_name(s.label)}")
                else:
                    classes.append(f"l-{_css_name(s.label)}")
                titles.append(f"{s.layer}: {s.label}" + ("" if s.score is None else f" ({s.score:.2f})"))
            piece = f'<span class="{" ".join(classes)}" title="{_e("; ".join(titles))}">{piece}</span>'
        out.append(piece)
        for s in ends.get(b, []):
            if s.layer == STANCE:
                out.append(f'<span class="badge st-{_css_name(s.label)}">{_e(s.label)}</span>')
            if s.layer == ATTRIBUTION and s.label == CUE and s.key in cue_numbers:
                out.append(f"<span class=num>[{cue_numbers[s.key]}]</span>")
    return "".join(out)


def _record_cell(records) -> str:
    return "<br>".join(f"{_e(r.text)}{_conf(r.score)}" for r in records if r is not None) or "&mdash;"


def _table(doc: Document) -> str:
    record = article_record(doc)
    if not record.attributions:
        return "<p class=meta>No attributions.</p>"
    rows = ["<tr><th>#</th><th>speaker</th><th>cue</th><th>content</th><th>stance</th><th>figures</th></tr>"]
    for i, a in enumerate(record.attributions, 1):
        stance = "&mdash;" if a.stance is None else _e(a.stance) + _conf(a.stance_probability)
        rows.append(f"<tr><td>{i}</td><td>{_record_cell([a.speaker])}</td><td>{_record_cell([a.cue])}</td>"
                    f"<td>{_record_cell(a.contents)}</td><td>{stance}</td><td>{_record_cell(a.figures)}</td></tr>")
    table = "<table>" + "".join(rows) + "</table>"
    if record.figures_outside:
        table += "<p class=meta>Figures outside attributions: " + "; ".join(
            _e(f.text) + _conf(f.score) for f in record.figures_outside) + "</p>"
    return table


def _who_said_what(doc: Document) -> str:
    """Attributions grouped by speaker entity: each entity with its attributions'
    numbers, how the speaker is written, stance and figures."""
    record = article_record(doc)
    if not record.attributions:
        return ""
    groups: list[tuple[str, str, list[int]]] = []   # (entity, mentions note, attribution indices)
    seen: set[int] = set()
    for sp in record.speakers:
        idx = [i for i in sp.attributions if 0 <= i < len(record.attributions)]
        seen.update(idx)
        groups.append((sp.entity.text, f"{len(sp.mentions)} mention{'s' * (len(sp.mentions) != 1)}", idx))
    by_text: dict[str, list[int]] = {}
    for i, a in enumerate(record.attributions):   # entities not in the table (gold documents)
        if i not in seen and a.speaker_entity is not None:
            by_text.setdefault(a.speaker_entity.text, []).append(i)
            seen.add(i)
    groups += [(text, "", idx) for text, idx in by_text.items()]
    rest = [i for i in range(len(record.attributions)) if i not in seen]
    if rest:
        groups.append(("", "", rest))
    rows = ["<tr><th>who</th><th>#</th><th>speaker as written</th><th>stance</th><th>figures</th></tr>"]
    for entity, note, idx in groups:
        name = (f"{_e(entity)} <span class=conf>{_e(note)}</span>" if entity
                else "<span class=meta>no named speaker</span>")
        for k, i in enumerate(idx):
            a = record.attributions[i]
            stance = "&mdash;" if a.stance is None else _e(a.stance) + _conf(a.stance_probability)
            first = f'<td class=ent rowspan="{len(idx)}">{name}</td>' if k == 0 else ""
            rows.append(f"<tr>{first}<td>{i + 1}</td><td>{_record_cell([a.speaker])}</td>"
                        f"<td>{stance}</td><td>{_record_cell(a.figures)}</td></tr>")
    return "<h3>Who said what</h3><table class=who>" + "".join(rows) + "</table>"


def _article(doc: Document) -> str:
    cue_numbers = {a.cue.key: i for i, a in enumerate(doc.attributions, 1) if a.cue is not None}
    meta = [f"{_e(k)}: {_e(doc.metadata[k])}" for k in ("date", "source", "model_version") if doc.metadata.get(k)]
    anchor = "a-" + hashlib.sha1(doc.id.encode()).hexdigest()[:10]
    return (f'<section id="{anchor}"><h2>{_e(doc.metadata.get("headline") or doc.id)}</h2>'
            f'<p class=meta>id: {_e(doc.id)}{" · " if meta else ""}{" · ".join(meta)}</p>'
            f'<div class=text>{_segments(doc, cue_numbers)}</div>{_table(doc)}{_who_said_what(doc)}</section>')


def render_html(docs: Sequence[Document], title: str | None = None) -> str:
    """A complete HTML page (inline CSS, no scripts, no external resources)."""
    title = title or "whosaid predictions"
    labels = {(s.layer, s.label) for d in docs for s in d.spans}
    legend_labels = sorted(labels, key=lambda x: (x[0], x[1]))
    legend = "".join(
        f'<span class="{"fig" if layer == FIGURE else ("badge st-" if layer == STANCE else "l-") + _css_name(label)}">'
        f"{_e(layer)}: {_e(label)}</span>" for layer, label in legend_labels)
    toc = "".join(f'<li><a href="#a-{hashlib.sha1(d.id.encode()).hexdigest()[:10]}">{_e(d.metadata.get("headline") or d.id)}</a>'
                  f" ({len(d.attributions)} attributions)</li>" for d in docs)
    body = "".join(_article(d) for d in docs)
    return ("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width,initial-scale=1'>"
            f"<title>{_e(title)}</title><style>{_css(labels)}</style></head><body>"
            f"<h1>{_e(title)}</h1><p class=legend>{legend}</p><ol>{toc}</ol>{body}</body></html>\n")
