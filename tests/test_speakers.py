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
