"""PolNeAR reader and gold overlays: synthetic brat files for each rule, the real
corpus for "every document validates"."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from whosaid.documents import Document
from whosaid.errors import AnnotationError
from whosaid.readers.overlays import apply_overlay, apply_overlays, load_overlays, text_sha256, write_overlay
from whosaid.readers.polnear import (choose_annotator_file, read_article, read_polnear,
                             read_polnear_with_report)


def make_article(root: Path, split: str, name: str, text: str, anns: dict[str, str]) -> None:
    (root / split / "text").mkdir(parents=True, exist_ok=True)
    (root / split / "attributions").mkdir(parents=True, exist_ok=True)
    (root / split / "text" / f"{name}.txt").write_bytes(text.encode("utf-8"))
    for annotator, content in anns.items():
        (root / split / "attributions" / f"{name}_{annotator}.ann").write_text(content, encoding="utf-8")


def t_line(n: int, label: str, text: str, *phrases: str, occurrence: int = 0) -> str:
    """A T line whose fragments are the given phrases (located once, here, to write the fixture)."""
    frags = []
    for phrase in phrases:
        start = -1
        for _ in range(occurrence + 1):
            start = text.index(phrase, start + 1)
        frags.append((start, start + len(phrase)))
    offsets = ";".join(f"{s} {e}" for s, e in frags)
    return f"T{n}\t{label} {offsets}\t{' '.join(phrases)}\n"


def texts(doc: Document, spans) -> list[str]:
    return [doc.text[s.start:s.end] for s in spans]


SIMPLE = "Officials said the vote was fair. It is reported that turnout rose."


def simple_ann() -> str:
    t = SIMPLE
    return (t_line(1, "Source", t, "Officials") + t_line(2, "Cue", t, "said")
            + t_line(3, "Content", t, "the vote was fair") + t_line(4, "Attribution", t, "said")
            + "E1\tAttribution:T4 Source:T1 Cue:T2 Content:T3\n"
            + t_line(5, "Cue", t, "is reported") + t_line(6, "Content", t, "that turnout rose")
            + t_line(7, "Attribution-no-source", t, "is reported")
            + "E2\tAttribution-no-source:T7 Cue:T5 Content:T6 \n"  # trailing blank, as in the corpus
            + t_line(8, "Discuss", t, "vote") + t_line(9, "Discard", t, "turnout")
            + "#1\tAnnotatorNotes T8\tshould this count?\n")


def test_basic_article_no_source_discuss_and_metadata(tmp_path, schema):
    make_article(tmp_path, "dev", "a1", SIMPLE, {"aaaa": simple_ann()})
    (tmp_path / "metadata.tsv").write_text(
        "compartment\tfilename\tpublisher\tpublication_date\ttitle\n"
        "dev\ta1\tnyt\t2016-01-02\tA title\n", encoding="utf-8")
    docs, report = read_polnear_with_report(tmp_path, "dev", schema)
    [doc] = docs
    assert doc.id == "a1" and doc.layers == frozenset({"attribution"})
    assert doc.provenance == {"attribution": "gold"}
    assert doc.metadata == {"source": "polnear", "split": "dev", "annotator_file": "a1_aaaa.ann",
                            "publisher": "nyt", "date": "2016-01-02", "title": "A title"}
    first, second = doc.attributions
    assert texts(doc, first.speakers) == ["Officials"]
    assert texts(doc, first.cues) == ["said"]
    assert texts(doc, first.contents) == ["the vote was fair"]
    assert second.speakers == () and texts(doc, second.cues) == ["is reported"]
    # Discuss/Discard and the trigger T lines are not spans.
    assert sorted(texts(doc, doc.spans)) == sorted(
        ["Officials", "said", "the vote was fair", "is reported", "that turnout rose"])
    assert report.attributions == 2 and report.unlinked_spans_ignored == 2
    assert report.overlap_chars == 0 and report.articles_with_overlaps == []


def test_multi_fragment_span_and_continuation_lines(tmp_path, schema):
    text = "“We will win,” he said, “and soon.”\nMore text."
    ann = (t_line(1, "Content", text, "“We will win,”", "“and soon.”")
           + "continuation of a covered text with a newline\n"
           + t_line(2, "Source", text, "he") + t_line(3, "Cue", text, "said")
           + t_line(4, "Attribution", text, "said")
           + "E1\tAttribution:T4 Content:T1 Source:T2 Cue:T3\n")
    make_article(tmp_path, "train", "m", text, {"bbbb": ann})
    [doc] = read_polnear(tmp_path, "train", schema)
    [a] = doc.attributions
    assert texts(doc, a.contents) == ["“We will win,”", "“and soon.”"]
    assert len(doc.spans_in("attribution")) == 4


def test_role_decides_part_and_content2_and_cue_from_trigger(tmp_path, schema):
    text = "Mr. Trump leads among men, the poll found. Critics were asked."
    ann = (t_line(1, "Content", text, "Mr. Trump")  # T label wrong, role right (as in the corpus)
           + t_line(2, "Source", text, "leads among men")
           + t_line(3, "Cue", text, "found") + t_line(4, "Source", text, "the poll")
           + t_line(5, "Attribution", text, "found")
           + "E1\tAttribution:T5 Source:T4 Cue:T3 Content:T1 Content2:T2\n"
           + t_line(6, "Attribution-no-source", text, "were asked")
           + "E2\tAttribution-no-source:T6 \n")
    make_article(tmp_path, "dev", "r", text, {"cccc": ann})
    docs, report = read_polnear_with_report(tmp_path, "dev", schema)
    first, second = docs[0].attributions
    assert texts(docs[0], first.contents) == ["Mr. Trump", "leads among men"]
    assert texts(docs[0], first.speakers) == ["the poll"]
    assert texts(docs[0], second.cues) == ["were asked"] and second.contents == ()
    assert report.cues_from_trigger == 1


def test_several_annotators_the_smallest_file_name_is_read(tmp_path, schema):
    text = "Smith said yes. Jones said no."
    one = t_line(1, "Cue", text, "said") + t_line(2, "Attribution", text, "said") + \
        "E1\tAttribution:T2 Cue:T1\n"
    two = one + t_line(3, "Cue", text, "said", occurrence=1) + \
        t_line(4, "Attribution", text, "said", occurrence=1) + "E2\tAttribution:T4 Cue:T3\n"
    make_article(tmp_path, "dev", "x", text, {"f00d": one, "0abc": two, "beef": one})
    docs, report = read_polnear_with_report(tmp_path, "dev", schema)
    assert docs[0].metadata["annotator_file"] == "x_0abc.ann"
    assert len(docs[0].attributions) == 2
    assert report.ann_files_ignored == 2
    paths = [Path("x_f00d.ann"), Path("d/x_0abc.ann"), Path("x_beef.ann")]
    for _ in range(5):
        random.shuffle(paths)
        assert choose_annotator_file(paths).name == "x_0abc.ann"
    with pytest.raises(AnnotationError):
        choose_annotator_file([])


NESTED = "Aides said Jones claimed the vote was rigged, officials told reporters today."


def nested_ann(order: list[int]) -> str:
    """E1: outer attribution whose content holds E2; E3's speaker crosses E4's cue;
    E5 shares E2's cue (identical duplicate); E6's content nests in E1's content."""
    t = NESTED
    lines = {
        1: t_line(1, "Source", t, "Aides") + t_line(2, "Cue", t, "said")
        + t_line(3, "Content", t, "Jones claimed the vote was rigged")
        + t_line(4, "Attribution", t, "said") + "E1\tAttribution:T4 Source:T1 Cue:T2 Content:T3\n",
        2: t_line(5, "Source", t, "Jones") + t_line(6, "Cue", t, "claimed")
        + t_line(7, "Content", t, "the vote was rigged") + t_line(8, "Attribution", t, "claimed")
        + "E2\tAttribution:T8 Source:T5 Cue:T6 Content:T7\n",
        3: t_line(9, "Source", t, "officials told") + t_line(10, "Cue", t, "today")
        + t_line(11, "Attribution", t, "today") + "E3\tAttribution:T11 Source:T9 Cue:T10\n",
        4: t_line(12, "Cue", t, "told") + t_line(13, "Content", t, "reporters")
        + t_line(14, "Attribution", t, "told") + "E4\tAttribution:T14 Cue:T12 Content:T13\n",
        5: t_line(15, "Cue", t, "claimed") + t_line(16, "Attribution", t, "claimed")
        + "E5\tAttribution:T16 Cue:T15\n",
        6: t_line(17, "Content", t, "vote was rigged") + t_line(18, "Attribution", t, "said")
        + "E6\tAttribution:T18 Cue:T2 Content:T17\n",
    }
    return "".join(lines[i] for i in order)


def test_overlap_resolution_is_deterministic_and_counted(tmp_path, schema):
    orders = [[1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1], [3, 1, 6, 2, 5, 4]]
    results = []
    for i, order in enumerate(orders):
        make_article(tmp_path / str(i), "dev", "n", NESTED, {"dddd": nested_ann(order)})
        docs, report = read_polnear_with_report(tmp_path / str(i), "dev", schema)
        docs[0].validate(schema)
        results.append((docs[0], report))
    doc, report = results[0]
    spans = {(s.label, doc.text[s.start:s.end]) for s in doc.spans}
    # Cues win over speakers and contents; speakers over contents; same-label overlaps split.
    assert spans == {("SPEAKER", "Aides"), ("CUE", "said"), ("SPEAKER", "Jones"), ("CUE", "claimed"),
                     ("CONTENT", "the"), ("CONTENT", "vote was rigged"), ("SPEAKER", "officials"),
                     ("CUE", "told"), ("CONTENT", "reporters"), ("CUE", "today")}
    by_cue = {doc.text[a.cue.start:a.cue.end] + str(len(a.contents)): a for a in doc.attributions}
    assert len(doc.attributions) == 6 == report.attributions
    outer = by_cue["said2"]   # E1: content trimmed around Jones/claimed, split where E6's starts
    assert texts(doc, outer.contents) == ["the", "vote was rigged"]
    assert texts(doc, by_cue["claimed2"].contents) == ["the", "vote was rigged"]
    assert texts(doc, by_cue["said1"].contents) == ["vote was rigged"]
    assert by_cue["claimed0"].cues == by_cue["claimed2"].cues  # one shared span
    assert texts(doc, by_cue["today0"].speakers) == ["officials"]
    # Counts derived by hand: E1's content loses "Jones claimed " (14 characters,
    # "Jones" + " " + "claimed" + " "), E3's speaker loses " told" (5).
    assert report.spans_trimmed == 2 and report.spans_dropped == 0
    assert report.chars_removed == 14 + 5
    assert report.spans_split == 2  # E1's and E2's content, cut where E6's starts
    assert report.duplicate_fragments_merged == 2  # E5's cue = E2's, E6's cue = E1's
    # characters covered twice or more: "Jones" and "claimed" inside E1's content (5 + 7),
    # "the vote was rigged" inside it (19, "vote was rigged" even three times), "told" (4).
    assert report.overlap_chars == 5 + 7 + 19 + 4
    for other, _ in results[1:]:
        assert set(other.spans) == set(doc.spans)
        assert {a.parts for a in other.attributions} == {a.parts for a in doc.attributions}


def test_identical_duplicates_are_not_an_overlap(tmp_path, schema):
    text = "Clinton said X and promised Y."
    ann = (t_line(1, "Source", text, "Clinton") + t_line(2, "Cue", text, "said")
           + t_line(3, "Attribution", text, "said") + "E1\tAttribution:T3 Source:T1 Cue:T2\n"
           + t_line(4, "Source", text, "Clinton") + t_line(5, "Cue", text, "promised")
           + t_line(6, "Attribution", text, "promised") + "E2\tAttribution:T6 Source:T4 Cue:T5\n")
    make_article(tmp_path, "dev", "d", text, {"eeee": ann})
    [doc], report = read_polnear_with_report(tmp_path, "dev", schema)
    assert doc.attributions[0].speakers == doc.attributions[1].speakers
    assert len(doc.spans_in("attribution")) == 3
    assert report.overlap_chars == 0 and report.duplicate_fragments_merged == 1


def test_crlf_text_offsets_count_file_characters(tmp_path, schema):
    text = "Intro.\r\nHe said so."
    ann = t_line(1, "Cue", text, "said") + t_line(2, "Attribution", text, "said") + \
        "E1\tAttribution:T2 Cue:T1\n"
    make_article(tmp_path, "dev", "c", text, {"ffff": ann})
    doc = read_article(tmp_path / "dev/text/c.txt", tmp_path / "dev/attributions/c_ffff.ann", schema)
    assert doc.text == text and texts(doc, doc.spans) == ["said"]


@pytest.mark.parametrize("bad, message", [
    ("E1\tAttribution:T9 Cue:T7\n", "no T line"),
    ("T1\tCue 3 999\tx\n", "outside the text"),
    ("T1\tCue 3 x\tx\n", "bad offsets"),
    ("T1\tCue 0 2\tab\nE1\tSpeaker:T1\n", "unknown role"),
])
def test_bad_annotations_name_the_file(tmp_path, schema, bad, message):
    make_article(tmp_path, "dev", "b", "abc def ghi", {"0000": bad})
    with pytest.raises(AnnotationError, match=message) as err:
        read_polnear(tmp_path, "dev", schema)
    assert err.value.file.endswith("b_0000.ann")


def test_limit_names_and_missing_split(tmp_path, schema):
    for name in ("a", "b", "c"):
        make_article(tmp_path, "dev", name, SIMPLE, {"aaaa": simple_ann()})
    assert [d.id for d in read_polnear(tmp_path, "dev", schema, limit=2)] == ["a", "b"]
    assert [d.id for d in read_polnear(tmp_path, "dev", schema, names=["c", "a"])] == ["c", "a"]
    with pytest.raises(AnnotationError, match="no article"):
        read_polnear(tmp_path, "dev", schema, names=["zzz"])
    with pytest.raises(AnnotationError, match="not a PolNeAR split"):
        read_polnear(tmp_path, "train", schema)


@pytest.mark.parametrize("split", ["dev", "train"])
def test_every_real_document_validates(polnear_dir, schema, split):
    docs, report = read_polnear_with_report(polnear_dir, split, schema)
    assert len(docs) == report.articles == len(list((polnear_dir / split / "text").glob("*.txt")))
    assert len({d.id for d in docs}) == len(docs)
    for doc in docs:
        doc.validate(schema)
        assert doc.layers == frozenset({"attribution"}) and doc.metadata["split"] == split
        # every span belongs to an attribution, and every attribution has a cue
        assert set(doc.spans) == {s for a in doc.attributions for s in a.parts}
        assert all(a.cues for a in doc.attributions)


# ---------------------------------------------------------------- overlays

def overlay_for(doc: Document, spans: list[dict], **extra) -> dict:
    return {"file": f"dev/text/{doc.id}.txt", "sha256": text_sha256(doc.text),
            "annotator_file": doc.metadata["annotator_file"], "layers": ["figure", "stance"],
            "spans": spans, **extra}


def test_apply_overlay_sets_stances_and_drops_spans_off_cues(tmp_path, schema):
    make_article(tmp_path, "dev", "o", NESTED, {"dddd": nested_ann([1, 2, 3, 4, 5, 6])})
    [doc] = read_polnear(tmp_path, "dev", schema)
    pos = {w: (NESTED.index(w), NESTED.index(w) + len(w)) for w in ("said", "claimed", "told", "today", "Aides")}
    stance = [{"layer": "stance", "label": lab, "start": pos[w][0], "end": pos[w][1]}
              for w, lab in (("said", "NEUTRAL"), ("claimed", "OPPOSE"), ("told", "SUPPORT"),
                             ("Aides", "SUPPORT"))]  # "Aides" is no cue: dropped
    figure = [{"layer": "figure", "label": "FIGURE", "start": 0, "end": 5}]
    out = apply_overlay(doc, overlay_for(doc, figure + stance, notes="n"), file="x.json", schema=schema)
    got = {out.text[a.cue.start:a.cue.end] + str(len(a.contents)): a.stance for a in out.attributions}
    assert got == {"said2": "NEUTRAL", "said1": "NEUTRAL", "claimed2": "OPPOSE", "claimed0": "OPPOSE",
                   "told1": "SUPPORT", "today0": None}
    assert out.layers == {"attribution", "figure", "stance"}
    assert out.provenance == {"attribution": "gold", "figure": "gold", "stance": "gold"}
    assert len(out.spans_in("stance")) == 3 and len(out.spans_in("figure")) == 1
    assert out.metadata["overlay"]["stance_spans_dropped"] == 1
    assert out.metadata["overlay"]["cues_without_stance"] == 1
    # write_overlay round trip (the dropped span stays dropped)
    path = tmp_path / "gold" / "dev" / "o.json"
    written = write_overlay(out, path)
    assert json.loads(path.read_text(encoding="utf-8")) == written
    assert written["notes"] == "n" and written["annotator_file"] == "o_dddd.ann"
    assert [p.name for p in path.parent.iterdir()] == ["o.json"]  # no temporary left
    again = apply_overlays([doc], tmp_path / "gold", schema)[0]
    assert set(again.spans) == set(out.spans) and again.attributions == out.attributions


def test_apply_overlay_rejects_changed_text_and_other_annotator(tmp_path, schema):
    make_article(tmp_path, "dev", "s", SIMPLE, {"aaaa": simple_ann()})
    [doc] = read_polnear(tmp_path, "dev", schema)
    bad = overlay_for(doc, [], sha256="0" * 64)
    with pytest.raises(AnnotationError, match="sha256") as err:
        apply_overlay(doc, bad, file="gold/s.json", schema=schema)
    assert err.value.file == "gold/s.json"
    with pytest.raises(AnnotationError, match="s_zzzz.ann"):
        apply_overlay(doc, overlay_for(doc, [], annotator_file="s_zzzz.ann"), schema=schema)
    with pytest.raises(AnnotationError, match="unknown label"):
        apply_overlay(doc, overlay_for(doc, [{"layer": "figure", "label": "X", "start": 0, "end": 2}]),
                      schema=schema)
    other = Document(id="t", text="other")
    assert apply_overlays([other], tmp_path) == [other]  # no overlay: unchanged


def test_project_overlays_apply_to_the_real_corpus(polnear_dir, schema, repo_root, tmp_path):
    directory = repo_root / "data" / "polnear-gold"
    overlays = load_overlays(directory)
    if not overlays:
        pytest.skip("no overlays yet")

    def canonical(overlay: dict) -> dict:
        spans = sorted((s["layer"], s["label"], s["start"], s["end"]) for s in overlay["spans"])
        return {**overlay, "spans": spans}

    for split in ("dev", "train"):
        names = sorted(n for n, o in overlays.items() if o["file"].startswith(f"{split}/"))
        docs = apply_overlays(read_polnear(polnear_dir, split, schema, names=names), directory, schema)
        for doc in docs:
            kept = {(s.start, s.end, s.label) for s in doc.spans_in("stance")}
            # stance spans sit on cues, and each attribution's stance is the span on its cue
            assert kept == {(c.start, c.end, a.stance) for a in doc.attributions for c in a.cues
                            if a.stance is not None}
            assert {"figure", "stance"} <= doc.layers
            if doc.metadata["overlay"]["stance_spans_dropped"] == 0:
                written = write_overlay(doc, tmp_path / f"{doc.id}.json")
                assert canonical(written) == canonical(overlays[doc.id])
