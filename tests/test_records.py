"""Attribution assembly from predicted spans and the structured records."""

from __future__ import annotations

from whosaid.documents import Document, Span
from whosaid.records.records import article_record, assemble_attributions, sentence_starts


def S(layer, label, text, needle, nth=0, score=None):
    start = -1
    for _ in range(nth + 1):
        start = text.index(needle, start + 1)
    return Span(layer, label, start, start + len(needle), score=score)


TEXT = ("Kiev says Russia has amassed more than 90,000 troops. The Kremlin denies those claims. "
        "\u201cWe want peace,\u201d he said, \u201cbut not at any price.\u201d Nobody spoke.")


def spans():
    t = TEXT
    return [S("attribution", "SPEAKER", t, "Kiev"), S("attribution", "CUE", t, "says"),
            S("attribution", "CONTENT", t, "Russia has amassed more than 90,000 troops"),
            S("attribution", "SPEAKER", t, "The Kremlin"), S("attribution", "CUE", t, "denies"),
            S("attribution", "CONTENT", t, "those claims"),
            S("attribution", "CONTENT", t, "\u201cWe want peace,\u201d"), Span("attribution", "SPEAKER", t.index(" he said") + 1, t.index(" he said") + 3),
            S("attribution", "CUE", t, "said"), S("attribution", "CONTENT", t, "\u201cbut not at any price.\u201d"),
            S("figure", "FIGURE", t, "more than 90,000 troops", score=0.9),
            S("stance", "NEUTRAL", t, "says", score=0.8), S("stance", "OPPOSE", t, "denies", score=0.7)]


def test_sentences():
    starts = sentence_starts(TEXT)
    assert [TEXT[s:s + 4] for s in starts] == ["Kiev", "The ", "\u201cWe ", "Nobo"]


def test_assembly_nearest_in_sentence():
    attrs = assemble_attributions(TEXT, spans())
    got = [(TEXT[a.speaker.start:a.speaker.end] if a.speaker else None, TEXT[a.cue.start:a.cue.end],
            [TEXT[c.start:c.end] for c in a.contents], a.stance) for a in attrs]
    assert got == [
        ("Kiev", "says", ["Russia has amassed more than 90,000 troops"], "NEUTRAL"),
        ("The Kremlin", "denies", ["those claims"], "OPPOSE"),
        ("he", "said", ["\u201cWe want peace,\u201d", "\u201cbut not at any price.\u201d"], None),
    ]


def test_content_without_cue_nearby_is_left_out():
    t = "Officials said it rained. Sky. Sea. Later, \u201cwhat a mess.\u201d"
    sp = [S("attribution", "CUE", t, "said"), S("attribution", "CONTENT", t, "\u201cwhat a mess.\u201d")]
    (a,) = assemble_attributions(t, sp)
    assert a.contents == () and a.speaker is None


def test_article_record_figures_inside_and_outside():
    extra = S("figure", "FIGURE", TEXT, "Nobody")  # a (fake) figure outside any content
    doc = Document("d1", TEXT, spans=tuple(spans()) + (extra,))
    doc = doc.__class__(**{**doc.__dict__, "attributions": tuple(assemble_attributions(TEXT, list(doc.spans)))})
    rec = article_record(doc)
    assert rec.id == "d1"
    first = rec.attributions[0]
    assert first.speaker.text == "Kiev" and first.stance == "NEUTRAL" and first.stance_probability == 0.8
    assert [f.text for f in first.figures] == ["more than 90,000 troops"]
    assert [f.text for f in rec.figures_outside] == ["Nobody"]
    assert {s["layer"] for s in rec.spans} == {"attribution", "figure", "stance"}
    assert rec.to_dict()["attributions"][1]["cue"]["text"] == "denies"
