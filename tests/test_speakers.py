"""Speaker-entity resolution on hand-written sentences (codebook section "speaker entity")."""

from __future__ import annotations

import re

import pytest

from whosaid.records.speakers import ResolverOptions, resolve_speakers


def spans(text: str, *needles: str) -> list[list[tuple[int, int]]]:
    """Speaker fragments for each needle ("text@n": its n-th occurrence, from 0)."""
    out = []
    for needle in needles:
        word, _, nth = needle.partition("@")
        hits = [m.start() for m in re.finditer(r"(?<!\w)" + re.escape(word) + r"(?!\w)", text)]
        start = hits[int(nth or 0)]
        out.append([(start, start + len(word))])
    return out


def entities(text: str, *needles: str, contents=None, options=None) -> list[str | None]:
    res = resolve_speakers(text, spans(text, *needles), contents, options)
    return [None if m is None else m.text for m in (res.entity_of(i) for i in range(len(needles)))]


def test_pronoun_resolves_to_the_full_name():
    text = ("Sen. Ted Cruz spoke in Houston on Monday. He said the deal was a disaster "
            "for Texas.")
    assert entities(text, "Ted Cruz", "He") == ["Ted Cruz", "Ted Cruz"]


def test_pronoun_gender_agreement():
    text = ("Hillary Clinton met Donald Trump in St. Louis. She said the debate was fair, "
            "and he said it was rigged.")
    assert entities(text, "She", "he") == ["Hillary Clinton", "Donald Trump"]


def test_pronoun_after_a_quotation_is_the_last_speaker():
    text = ("Keron Blair, executive director of the Alliance to Reclaim Our Schools, spoke "
            "after Mayor Bill de Blasio.\n\n“We need neighborhood schools,” Blair said. “Every "
            "parent knows it,” he added.")
    assert entities(text, "Blair@1", "he") == ["Keron Blair", "Keron Blair"]


def test_description_takes_the_entity_with_that_title():
    text = ("Sen. Ted Cruz endorsed Donald Trump on Friday. The senator said he could not "
            "allow Hillary Clinton to win.")
    assert entities(text, "The senator") == ["Ted Cruz"]


def test_description_with_party_words_picks_the_matching_nominee():
    text = ("Republican presidential nominee Donald Trump and Democratic presidential nominee "
            "Hillary Clinton met on Monday. The Democratic nominee said she was ready.")
    assert entities(text, "The Democratic nominee") == ["Hillary Clinton"]


def test_alias_surname_and_honorific():
    text = ("Barack Obama and Michelle Obama arrived together. Mr. Obama said the museum "
            "was overdue. Mrs. Obama said it was moving. Obama later thanked the crowd.")
    assert entities(text, "Mr. Obama", "Mrs. Obama", "Obama@2") == [
        "Barack Obama", "Michelle Obama", "Barack Obama"]


def test_alias_acronym():
    text = ("More than 100,000 people took part, according to the event organizer Alliance to "
            "Reclaim Our Schools (AROS). AROS said the rallies would continue.")
    assert entities(text, "the event organizer Alliance to Reclaim Our Schools (AROS)", "AROS@1") == [
        "Alliance to Reclaim Our Schools", "Alliance to Reclaim Our Schools"]


def test_titles_are_stripped_and_the_most_complete_name_wins():
    text = ("US Secretary of State Antony Blinken flew to Kiev. Blinken said the talks went "
            "well.")
    assert entities(text, "US Secretary of State Antony Blinken", "Blinken@1") == [
        "Antony Blinken", "Antony Blinken"]


def test_no_entity_for_unnamed_groups_documents_and_indefinites():
    text = ("Officials said the plan was sound. The report said costs would rise. Critics say "
            "it is too late. A senior aide said nothing. Republicans said they would vote no.")
    assert entities(text, "Officials", "The report", "Critics", "A senior aide", "Republicans") == [
        None, None, None, None, None]


def test_no_entity_for_the_author():
    text = "I think the senator is wrong. We deserve better."
    assert entities(text, "I", "We") == [None, None]


def test_institutions_keep_their_own_names():
    text = ("Kiev says Russia has amassed more than 90,000 troops near the border. The Kremlin "
            "denies those claims. The White House said it was watching closely.")
    assert entities(text, "Kiev", "The Kremlin", "The White House", "it") == [
        "Kiev", "Kremlin", "White House", "White House"]


def test_it_takes_the_institution_that_spoke():
    text = ("Slower growth is being offset by faster growth elsewhere, the International "
            "Monetary Fund said on Tuesday. It cut its forecast for Britain.")
    assert entities(text, "the International Monetary Fund", "It") == [
        "International Monetary Fund", "International Monetary Fund"]


def test_possessive_speaker_is_the_thing_possessed():
    text = ("Donald Trump's campaign said the ad was false. Trump's running mate, Indiana Gov. "
            "Mike Pence, said the same. By Trump's own admission, the returns are thick.")
    assert entities(text, "Donald Trump's campaign", "Trump's running mate, Indiana Gov. Mike Pence,",
                    "Trump's@2") == [None, "Mike Pence", "Donald Trump"]


def test_possessive_pronoun_description_has_no_entity():
    text = "Sen. Ted Cruz was absent. His spokeswoman said he was ill."
    assert entities(text, "His spokeswoman", "he") == [None, "Ted Cruz"]


def test_several_speakers_joined_by_and_take_the_first_named():
    text = ("Amelize Joseph brought her children. Joseph and other community members "
            "protested the funding system.")
    assert entities(text, "Joseph and other community members") == ["Amelize Joseph"]


def test_relative_pronoun_takes_the_name_before_it():
    text = "Ted Cruz endorses Donald Trump, who says he is honored."
    assert entities(text, "who") == ["Donald Trump"]


def test_relative_pronoun_skips_an_appositive():
    text = ("Donna Sampson Rawlings, 59, of Ashton, Md., who watched the ceremony, said it was "
            "emotional.")
    assert entities(text, "who") == ["Donna Sampson Rawlings"]


def test_first_person_inside_a_quotation_is_the_quotations_speaker():
    text = "“I will not stop,” said Megan Hester of the Annenberg Institute."
    i = text.index("I will")
    contents = [[], [(i - 1, text.index("”") + 1)]]
    res = resolve_speakers(text, [[(i, i + 1)], [(text.index("Megan"), text.index(" of the"))]],
                           contents)
    assert res.entity_of(0).text == "Megan Hester"
    assert res.entity_of(1).text == "Megan Hester"


def test_letter_signed_below():
    text = ("LETTERS.\n\nI cannot fathom how this happened.\n\nMichael Pravica.\n\n"
            "Henderson, Nev.\n\nFACEBOOK.\n\nI hope it ends soon.\n\nChris Smith.")
    assert entities(text, "I", "I@1") == ["Michael Pravica", "Chris Smith"]


def test_speakers_table_lists_attributions_and_mentions():
    text = ("Sen. Ted Cruz endorsed Donald Trump. Cruz said he was honored. Officials said "
            "nothing.")
    res = resolve_speakers(text, spans(text, "Cruz@1", "he", "Officials"))
    (cruz,) = [e for e in res.entities if e.attributions]
    assert cruz.canonical.text == "Ted Cruz"
    assert text[cruz.canonical.start:cruz.canonical.end] == "Ted Cruz"
    assert cruz.attributions == [0, 1]
    assert {m.text for m in cruz.mentions} >= {"Ted Cruz", "Cruz", "he"}
    assert [s.kind for s in res.speakers] == ["name", "pronoun", "description"]
    assert res.speakers[2].entity is None


def test_offsets_point_into_the_text():
    text = "Melanie said she was fine. Later, she said it again."
    res = resolve_speakers(text, spans(text, "she@1"))
    m = res.entity_of(0)
    assert text[m.start:m.end] == m.text == "Melanie"


def test_no_speaker_and_empty_article():
    assert resolve_speakers("", []).speakers == []
    res = resolve_speakers("It rained.", [[]])
    assert res.entity_of(0) is None and res.speakers[0].kind == "none"


@pytest.mark.parametrize("component", ["titles", "aliases", "pronouns", "gender", "salience",
                                       "relatives", "first_person", "descriptions", "appositives"])
def test_every_component_can_be_switched_off(component):
    text = "Sen. Ted Cruz spoke. He said the senator's plan was good. The senator left."
    opts = ResolverOptions().without(component)
    res = resolve_speakers(text, spans(text, "He", "The senator"), options=opts)
    assert len(res.speakers) == 2
    with pytest.raises(ValueError):
        ResolverOptions().without("nonsense")


def test_pronoun_switch_changes_the_answer():
    text = "Sen. Ted Cruz spoke on Monday. He said the deal was bad."
    assert entities(text, "He", options=ResolverOptions().without("pronouns")) == [None]


def test_twenty_thousand_word_article_resolves_quickly():
    import time
    para = ("Sen. Ted Cruz spoke in Houston on Monday. He said the deal was bad, and "
            "officials said the plan was sound. “We will fight,” Cruz said.\n\n")
    text = para * 400
    needles = []
    for k in range(400):
        base = k * len(para)
        needles.append([(base + para.index("He"), base + para.index("He") + 2)])
        needles.append([(base + para.index("officials"), base + para.index("officials") + 9)])
    t0 = time.process_time()   # CPU time: other jobs on the machine do not count
    res = resolve_speakers(text, needles)
    assert time.process_time() - t0 < 5
    assert res.entity_of(0).text == "Ted Cruz" and res.entity_of(1) is None


# ------------------------------------------------------------ records, Label Studio, overlays, eval

from whosaid.documents import Document, EntityMention, Span  # noqa: E402
from whosaid.records.records import article_record, assemble_attributions, resolve_document_speakers  # noqa: E402

ARTICLE = ("Sen. Ted Cruz endorsed Donald Trump on Friday.\n\n"
           "Cruz said he could not allow Hillary Clinton to win. The senator added that the choice "
           "was clear. Officials said the vote was close.")


def _doc(text: str = ARTICLE, doc_id: str = "a1") -> Document:
    """Spans by hand (as a model would give them), attributions assembled."""
    def at(part, nth=0):
        hits = [m.start() for m in re.finditer(re.escape(part), text)]
        return hits[nth], hits[nth] + len(part)

    marks = [("SPEAKER", "Cruz", 1), ("CUE", "said", 0), ("CONTENT", "he could not allow Hillary Clinton to win", 0),
             ("SPEAKER", "The senator", 0), ("CUE", "added", 0), ("CONTENT", "that the choice was clear", 0),
             ("SPEAKER", "Officials", 0), ("CUE", "said", 1), ("CONTENT", "the vote was close", 0)]
    spans = [Span("attribution", label, *at(part, nth), score=0.9) for label, part, nth in marks]
    spans.append(Span("stance", "SUPPORT", *at("added"), score=0.8))
    return Document(doc_id, text, spans=tuple(spans), attributions=tuple(assemble_attributions(text, spans)),
                    layers=frozenset({"attribution", "figure", "stance"}))


def test_records_carry_speaker_entity_and_the_speakers_table():
    doc = resolve_document_speakers(_doc())
    rec = article_record(doc).to_dict()
    assert [None if a["speaker_entity"] is None else a["speaker_entity"]["text"] for a in rec["attributions"]] == [
        "Ted Cruz", "Ted Cruz", None]
    ent = rec["attributions"][0]["speaker_entity"]
    assert ARTICLE[ent["start"]:ent["end"]] == "Ted Cruz"
    (row,) = rec["speakers"]
    assert row["entity"]["text"] == "Ted Cruz" and row["attributions"] == [0, 1]
    assert {(m["text"], ARTICLE[m["start"]:m["end"]]) for m in row["mentions"]} >= {
        ("Ted Cruz", "Ted Cruz"), ("Cruz", "Cruz"), ("The senator", "The senator")}


def test_jsonl_output_has_the_fields_on_every_attribution_and_article():
    import json

    from whosaid.records.output import render

    lines = render([resolve_document_speakers(_doc()), resolve_document_speakers(Document("a2", "Nothing was said."))],
                   "jsonl").splitlines()
    recs = [json.loads(line) for line in lines]
    assert all("speakers" in r for r in recs) and recs[1]["speakers"] == []
    assert all("speaker_entity" in a for r in recs for a in r["attributions"])


def test_html_shows_who_said_what_grouped_by_speaker():
    from whosaid.reports.html import render_html

    page = render_html([resolve_document_speakers(_doc())])
    who = re.search(r"<h3>Who said what</h3><table class=who>(.*?)</table>", page, re.S).group(1)
    assert who.index("Ted Cruz") < who.index("no named speaker")
    assert 'rowspan="2"' in who and "SUPPORT" in who
    page = render_html([resolve_document_speakers(_doc(ARTICLE.replace("Ted Cruz", "<b>Ted</b> Cruz")))])
    assert "<b>Ted</b>" not in page


def test_label_studio_round_trip_of_entity():
    from whosaid.readers.labelstudio_json import ENTITY_FIELD, parse_tasks, to_tasks

    doc = resolve_document_speakers(_doc())
    for as_predictions, provenance in ((True, "silver"), (False, "gold")):
        tasks = to_tasks([doc], as_predictions=as_predictions)
        item = tasks[0]["predictions" if as_predictions else "annotations"][0]
        fields = [r for r in item["result"] if r["type"] == "textarea"]
        speakers = {r["id"]: r for r in item["result"] if r["type"] == "labels" and r["value"]["labels"] == ["SPEAKER"]}
        assert [f["from_name"] for f in fields] == [ENTITY_FIELD, ENTITY_FIELD]   # Cruz, The senator
        assert all(f["id"] in speakers and f["value"]["text"] == ["Ted Cruz"] for f in fields)
        (back,) = parse_tasks(tasks)
        assert back.metadata["speaker_entities"] == provenance
        assert [a.speaker_entity for a in back.attributions] == [a.speaker_entity for a in doc.attributions]
        assert "speaker_entities" not in tasks[0]["data"]


def test_label_studio_entity_typed_by_an_annotator():
    from whosaid.errors import AnnotationError
    from whosaid.readers.labelstudio_json import document_from_task

    text = "Kiev says Russia has amassed troops. The Kremlin denies those claims."
    result = [
        {"id": "s1", "from_name": "attribution", "to_name": "text", "type": "labels",
         "value": {"start": 0, "end": 4, "text": "Kiev", "labels": ["SPEAKER"]}},
        {"id": "c1", "from_name": "attribution", "to_name": "text", "type": "labels",
         "value": {"start": 5, "end": 9, "text": "says", "labels": ["CUE"]}},
        {"id": "s2", "from_name": "attribution", "to_name": "text", "type": "labels",
         "value": {"start": 37, "end": 48, "text": "The Kremlin", "labels": ["SPEAKER"]}},
        {"id": "c2", "from_name": "attribution", "to_name": "text", "type": "labels",
         "value": {"start": 49, "end": 55, "text": "denies", "labels": ["CUE"]}},
        {"from_id": "s1", "to_id": "c1", "type": "relation", "direction": "right"},
        {"from_id": "s2", "to_id": "c2", "type": "relation", "direction": "right"},
        {"id": "s2", "from_name": "entity", "to_name": "text", "type": "textarea",
         "value": {"start": 37, "end": 48, "text": ["the Kremlin"]}},
        {"id": "s1", "from_name": "entity", "to_name": "text", "type": "textarea",
         "value": {"start": 0, "end": 4, "text": ["Kiev"]}},
    ]
    task = {"id": 7, "data": {"text": text}, "annotations": [{"id": 1, "result": result}]}
    doc = document_from_task(task)
    assert [a.speaker_entity for a in doc.attributions] == [EntityMention("Kiev", 0, 4), EntityMention("the Kremlin")]
    assert doc.metadata["speaker_entities"] == "gold"
    for bad, message in (({"id": "c1"}, "SPEAKER"), ({"from_name": "note"}, "not known"),
                         ({"value": {"text": ["a", "b"]}}, "at most one")):
        broken = {**task, "annotations": [{"id": 1, "result": result[:-1] + [{**result[-1], **bad}]}]}
        with pytest.raises(AnnotationError, match=message):
            document_from_task(broken)
    # no entity field at all: the entities are not decided
    plain = {**task, "annotations": [{"id": 1, "result": result[:6]}]}
    assert "speaker_entities" not in document_from_task(plain).metadata


def _overlay(doc: Document, entities: list) -> dict:
    from whosaid.readers.overlays import text_sha256

    return {"file": f"dev/text/{doc.id}.txt", "sha256": text_sha256(doc.text), "annotator_file": f"{doc.id}_x.ann",
            "layers": [], "spans": [], "entities": entities}


def test_overlay_entities_are_gold_and_written_back(tmp_path):
    from whosaid.readers.overlays import apply_overlay, write_overlay

    doc = _doc()
    doc = Document(doc.id, doc.text, spans=tuple(s for s in doc.spans if s.layer == "attribution"),
                   attributions=tuple(replace_stance(a) for a in doc.attributions), layers=frozenset({"attribution"}),
                   metadata={"split": "dev", "annotator_file": f"{doc.id}_x.ann"})
    cruz = [a for a in doc.attributions][0].speakers[0]
    officials = doc.attributions[2].speakers[0]
    start = ARTICLE.index("Ted Cruz")
    overlay = _overlay(doc, [{"speaker": [cruz.start, cruz.end], "entity": [start, start + 8]},
                             {"speaker": [officials.start, officials.end], "entity": None},
                             {"speaker": [0, 3], "entity": None}])
    out = apply_overlay(doc, overlay)
    assert out.metadata["speaker_entities"] == "gold" and out.metadata["overlay"]["entities_dropped"] == 1
    assert [a.speaker_entity for a in out.attributions] == [EntityMention("Ted Cruz", start, start + 8), None, None]
    written = write_overlay(out, tmp_path / "a1.json")
    assert {tuple(e["speaker"]): e["entity"] for e in written["entities"]} == {
        (cruz.start, cruz.end): [start, start + 8], (officials.start, officials.end): None,
        (doc.attributions[1].speakers[0].start, doc.attributions[1].speakers[0].end): None}


def replace_stance(a):
    from dataclasses import replace

    return replace(a, stance=None, stance_score=None)


def _gold_export(tmp_path, entities: dict[str, str | None]):
    """A Label Studio export of ARTICLE with the gold entities by speaker text."""
    from dataclasses import replace

    from whosaid.readers.labelstudio_json import write_export

    doc = _doc()
    gold = tuple(replace(a, speaker_entity=None if entities[ARTICLE[a.speaker.start:a.speaker.end]] is None
                         else EntityMention(entities[ARTICLE[a.speaker.start:a.speaker.end]]))
                 for a in doc.attributions)
    doc = replace(doc, attributions=gold, metadata={"speaker_entities": "gold"})
    return write_export([doc], tmp_path / "gold.json")


def test_speakers_eval_on_a_tiny_hand_made_case(tmp_path):
    import json

    from whosaid.cli import main
    from whosaid.evaluation.speakers import speakers_eval

    path = _gold_export(tmp_path, {"Cruz": "Ted Cruz", "The senator": "Ted Cruz", "Officials": None})
    result = speakers_eval(str(path), errors=5)
    g = result["gold_spans"]
    assert (g["n"], g["correct"]) == (3, 3)
    assert {k: v["n"] for k, v in g["by_kind"].items()} == {"name": 1, "pronoun": 0, "description": 1, "none": 1}
    # a gold entity the resolver misses, and a model that finds two of the three attributions
    (tmp_path / "x").mkdir()
    path = _gold_export(tmp_path / "x", {"Cruz": "Ted Cruz", "The senator": "Donald Trump", "Officials": None})

    class FakePredictor:
        resolve_speakers = True

        def predict_documents(self, docs, progress=False):
            from dataclasses import replace

            return [replace(d, attributions=d.attributions[:2], metadata={}) for d in docs]

    result = speakers_eval(str(path), predictor=FakePredictor(), model_name="fake", with_ablation=True, errors=5)
    assert (result["gold_spans"]["correct"], result["gold_spans"]["n"]) == (2, 3)
    assert result["gold_spans"]["errors"][0]["gold"] == "Donald Trump"
    e2e = result["end_to_end"]
    assert (e2e["gold"], e2e["matched"], e2e["correct"]) == (3, 2, 1)
    assert e2e["by_kind"]["description"] == {"n": 1, "correct": 0, "accuracy": 0.0}
    assert set(result["components"]) >= {"all", "without pronouns", "without aliases"}
    out = tmp_path / "result.json"
    assert main(["speakers-eval", "--data", str(path), "--output", str(out)]) == 0
    assert json.loads(out.read_text())["gold_spans"]["n"] == 3


def test_speakers_eval_refuses_data_without_gold_entities(tmp_path):
    from whosaid.cli import main
    from whosaid.readers.labelstudio_json import write_export

    path = write_export([_doc()], tmp_path / "plain.json")
    assert main(["speakers-eval", "--data", str(path)]) == 2
