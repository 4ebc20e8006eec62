"""Silver figure and stance labellers, checked on hand-written sentences (one per rule
of the codebook) and on the seed article."""

from __future__ import annotations

from pathlib import Path

import pytest

from whosaid.documents import Attribution, Document, Span
from whosaid.errors import ConfigError
from whosaid.schema import ATTRIBUTION, CONTENT, CUE, FIGURE, SPEAKER, STANCE
from whosaid.silver import (NEUTRAL, OPPOSE, SUPPORT, add_silver_layers, label_figures,
                            label_stance)

SEED = Path(__file__).resolve().parents[1] / "seeds" / "000_6e1d9f0e23a31894.txt"


def figures(text: str) -> list[str]:
    return [s.text_in(text) for s in label_figures(text)]


# --------------------------------------------------------------------------- figures

@pytest.mark.parametrize("text, expected", [
    # the codebook's examples
    ("Kiev says Russia has amassed more than 90,000 troops near the border.",
     ["more than 90,000 troops"]),
    ("The death toll rose to 61 since the beginning of the year.", ["61"]),
    ("Separatists reported the loss of some 40 fighters since January.", ["some 40 fighters"]),
    ("He had lost six other soldiers in the same area.", ["six other soldiers"]),
    ("The war has claimed more than 13,000 lives since then.", ["more than 13,000 lives"]),
    ("Relations are at their worst level in three decades.", ["three decades"]),
    ("Congress approved $5 billion in aid.", ["$5 billion"]),
    ("Prices rose 12 percent last year.", ["12 percent"]),
    # approximators
    ("At least 40 people died.", ["At least 40 people"]),
    ("about 40 people, nearly 40 people, almost 40 people and up to 40 people",
     ["about 40 people", "nearly 40 people", "almost 40 people", "up to 40 people"]),
    ("over 40 people, fewer than 40 people, roughly 40 people, around 40 people",
     ["over 40 people", "fewer than 40 people", "roughly 40 people", "around 40 people"]),
    # modifiers between number and noun; capitalised words only as modifiers
    ("Moscow sent 90,000 Russian troops.", ["90,000 Russian troops"]),
    ("Kiev counted 61 Ukrainian.", ["61"]),
    ("a 2,500-strong force and a 20-year-old man", ["2,500-strong force", "20-year-old man"]),
    # the counted noun stops before prepositions, verbs, punctuation, adverbs
    ("40 fighters were killed", ["40 fighters"]),
    ("40 fighters reportedly fled", ["40 fighters"]),
    ("40 fighters, tanks and missiles", ["40 fighters"]),
    ("a total of 50 in all", ["50"]),
    ("Twenty-seven states led the effort", ["Twenty-seven states"]),
    ("a three-day schedule because of the storm", ["three-day schedule"]),
    # money and percentages end at their unit
    ("$1.2 million package, 5% growth, 5 per cent, US$5, €3 billion",
     ["$1.2 million", "5%", "5 per cent", "US$5", "€3 billion"]),
    ("5 million euros and 2.5 percentage points", ["5 million euros", "2.5 percentage points"]),
    ("a USD 5 million loan", ["USD 5 million"]),
    ("a 3.5km stretch", ["3.5km stretch"]),
    # number words
    ("twenty-five soldiers, two hundred thousand people, a dozen soldiers, one soldier",
     ["twenty-five soldiers", "two hundred thousand people", "a dozen soldiers", "one soldier"]),
    # ranges are one figure
    ("40 to 50 fighters", ["40 to 50 fighters"]),
    ("between 40 and 50 fighters", ["between 40 and 50 fighters"]),
    ("between 40 and 50", ["between 40 and 50"]),
    ("40-50 fighters and two or three days", ["40-50 fighters", "two or three days"]),
    ("rose from 40 to 50", ["40", "50"]),  # a change, not a range
])
def test_figures(text, expected):
    assert figures(text) == expected


@pytest.mark.parametrize("text", [
    # dates and times
    "the 2014 Minsk peace process", "It happened in 2020.", "since 2014", "on Thursday",
    "on Sept. 11", "at 11 a.m.", "at 3pm", "on March 3", "on 3 March", "the 2014-2015 winter",
    "around 9/11", "in the 1990s", "in mid-2014", "at 11:30",
    # ordinals
    "the first time", "the 61st day", "the third round",
    # numbers inside names or identifiers
    "the G7 summit", "Level I", "Article 5 of the treaty", "COVID-19 cases", "an F-16 jet",
    "Route 66 runs west", "No. 10 said", "the P5+1 talks", "5G networks", "a 7-Eleven shop",
    # "one" as a pronoun
    "one of them", "no one was hurt", "the one who left", "they blamed one another",
    # vague plurals are not stated figures
    "hundreds of people and dozens of tanks",
])
def test_not_figures(text):
    assert figures(text) == []


def test_figures_sorted_non_overlapping_and_in_layer():
    text = "Between 40 and 50 fighters and 61 soldiers; some 40 fighters, 5% and $5 billion."
    spans = label_figures(text)
    assert [s.start for s in spans] == sorted(s.start for s in spans)
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:]))
    assert {(s.layer, s.label) for s in spans} == {(FIGURE, "FIGURE")}
    assert figures(text) == ["Between 40 and 50 fighters", "61 soldiers", "some 40 fighters",
                             "5%", "$5 billion"]


def seed_text() -> str:
    """Headline (header line without ' date 2021-12-02 ') followed by the rest of the file."""
    raw = SEED.read_text(encoding="utf-8")
    first, rest = raw.split("\n", 1)
    assert first.startswith(" date 2021-12-02 ")
    return first[len(" date 2021-12-02 "):] + "\n" + rest


def test_seed_article_figures():
    text = seed_text()
    found = figures(text)
    for expected in ["more than 90,000 troops", "61", "some 40 fighters", "six other soldiers",
                     "more than 13,000 lives", "three decades"]:
        assert expected in found
    for span in label_figures(text):
        assert not {"2014", "2020", "Thursday"} & set(span.text_in(text).split())
    # years stay unmarked wherever they occur
    for year in ("2014", "2020"):
        at = text.index(year)
        assert not any(s.start <= at < s.end for s in label_figures(text))


# --------------------------------------------------------------------------- stance

def attribution(text: str, cue: str, content: str | None = None, speaker: str | None = None,
                occurrence: int = 0) -> Attribution:
    """Attribution over the first (or n-th) occurrence of each part in `text`."""
    def span(part: str, label: str) -> Span:
        at = -1
        for _ in range(occurrence + 1 if label == CUE else 1):
            at = text.index(part, at + 1)
        return Span(ATTRIBUTION, label, at, at + len(part))

    return Attribution(cues=(span(cue, CUE),),
                       speakers=(span(speaker, SPEAKER),) if speaker else (),
                       contents=(span(content, CONTENT),) if content else ())


@pytest.mark.parametrize("text, cue, content, expected", [
    # OPPOSE cues, inflected
    ("The Kremlin denies those claims.", "denies", "those claims", OPPOSE),
    ("The Kremlin denied the report.", "denied", "the report", OPPOSE),
    ("Moscow accuses Kiev of pursuing its own military consolidation.", "accuses",
     "of pursuing its own military consolidation", OPPOSE),
    ("The army accused the separatists of firing.", "accused", "of firing", OPPOSE),
    ("It has rejected as incendiary suggestions that it is preparing for an attack.",
     "has rejected", "suggestions that it is preparing for an attack", OPPOSE),
    ("The minister criticised the plan.", "criticised", "the plan", OPPOSE),
    ("NATO condemned the strikes.", "condemned", "the strikes", OPPOSE),
    ("He threatened retaliation.", "threatened", "retaliation", OPPOSE),
    ("Critics slammed the deal.", "slammed", "the deal", OPPOSE),
    ("She blamed Moscow for the attack.", "blamed", "Moscow for the attack", OPPOSE),
    ("He dismissed the reports.", "dismissed", "the reports", OPPOSE),
    ("They questioned whether talks would help.", "questioned", "whether talks would help", OPPOSE),
    ("Analysts fear an invasion.", "fear", "an invasion", OPPOSE),
    # SUPPORT cues
    ("Blinken urged Russia to reduce its troops.", "urged", "Russia to reduce its troops", SUPPORT),
    ("The EU welcomed the agreement.", "welcomed", "the agreement", SUPPORT),
    ("Leaders praised the deal.", "praised", "the deal", SUPPORT),
    ("Moscow has defended its right to deploy troops.", "has defended",
     "its right to deploy troops", SUPPORT),
    ("He vowed to protect the country.", "vowed", "to protect the country", SUPPORT),
    ("Germany backs the plan.", "backs", "the plan", SUPPORT),
    ("Paris endorsed the proposal.", "endorsed", "the proposal", SUPPORT),
    ("Lavrov said he was ready for a dialogue.", "was ready", "for a dialogue", SUPPORT),
    # NEUTRAL cues
    ("Kiev says Russia has amassed more than 90,000 troops.", "says",
     "Russia has amassed more than 90,000 troops", NEUTRAL),
    ("Kiev said the soldier was killed on Wednesday.", "said", "the soldier was killed on Wednesday",
     NEUTRAL),
    ("His press service told AFP that the soldier was killed.", "told",
     "that the soldier was killed", NEUTRAL),
    ("The toll is 61, according to an AFP tally.", "according to", "The toll is 61", NEUTRAL),
    ("Separatists have reported the loss of some 40 fighters.", "have reported",
     "the loss of some 40 fighters", NEUTRAL),
    ("The ministry announced that talks would resume.", "announced", "that talks would resume",
     NEUTRAL),
    # phrase and light-verb rules
    ("Lavrov warned against a Ukrainian military adventure.", "warned against",
     "a Ukrainian military adventure", OPPOSE),
    ("Lavrov warned against a Ukrainian military adventure.", "warned",
     "a Ukrainian military adventure", OPPOSE),
    ("Officials expressed concerns about the build-up.", "expressed concerns",
     "about the build-up", OPPOSE),
    ("Officials expressed deep concern about the build-up.", "expressed", "about the build-up", OPPOSE),
    ("Experts raised doubts about the plan.", "raised doubts", "about the plan", OPPOSE),
    ("Blinken delivered the warning a day later.", "delivered", None, OPPOSE),
    ("The UN called for a ceasefire.", "called for", "a ceasefire", SUPPORT),
    ("The UN called on Russia to withdraw.", "called", "Russia to withdraw", SUPPORT),
    ("Moscow acts in response to what he called a growing threat.", "called", "a growing threat",
     OPPOSE),
    # negation in or just before the cue
    ("Paris did not support the plan.", "did not support", "the plan", OPPOSE),
    ("Paris did not support the plan.", "support", "the plan", OPPOSE),
    ("Berlin refused to endorse the deal.", "refused to endorse", "the deal", OPPOSE),
    ("Berlin refused to endorse the deal.", "endorse", "the deal", OPPOSE),
    ("Paris didn't back the plan.", "back", "the plan", OPPOSE),
    ("The Kremlin did not deny the report.", "deny", "the report", NEUTRAL),
    ("The Kremlin declined to comment on the report.", "declined to comment", "on the report",
     NEUTRAL),
    ("Berlin refused the offer.", "refused", "the offer", OPPOSE),
    # content polarity behind a neutral cue
    ("Putin said that Russia would be forced to act if NATO placed missiles in Ukraine.", "said",
     "that Russia would be forced to act if NATO placed missiles in Ukraine", OPPOSE),
    ("Blinken said if Russia continues the confrontation, there will be serious consequences.",
     "said", "if Russia continues the confrontation, there will be serious consequences", OPPOSE),
    ("“We have deep concerns about Russia’s plans,” Blinken said.", "said",
     "“We have deep concerns about Russia’s plans,”", OPPOSE),
    ("He said he wanted concrete agreements.", "said", "he wanted concrete agreements", SUPPORT),
    ("He said he did not want a war.", "said", "he did not want a war", OPPOSE),
    ("Lavrov told reporters that Moscow was ready for a dialogue with Kiev.", "told",
     "that Moscow was ready for a dialogue with Kiev", SUPPORT),
    # ambiguous lexicon words inside a content do not carry the stance
    ("They say they have several questions for the director.", "say",
     "they have several questions for the director", NEUTRAL),
    ("He asked: I just want to know what happens next.", "asked",
     "I just want to know what happens next", NEUTRAL),
    # negative words alone, without a condition or threat pattern, stay NEUTRAL
    ("Kiev said the war has claimed 13,000 lives.", "said", "the war has claimed 13,000 lives",
     NEUTRAL),
    ("He said sanctions were discussed if time allowed.", "said",
     "sanctions were discussed if time allowed", NEUTRAL),
])
def test_stance(text, cue, content, expected):
    label, confidence = label_stance(text, attribution(text, cue, content))
    assert label == expected
    assert 0 < confidence <= 1


def test_stance_confidence_is_lower_for_fallbacks():
    text = "Kiev said the soldier was killed. Kiev mused the soldier was killed."
    _, said = label_stance(text, attribution(text, "said", "the soldier was killed"))
    _, denied = label_stance("Kiev denied it.", attribution("Kiev denied it.", "denied", "it"))
    label, unknown = label_stance(text, attribution(text, "mused", "the soldier was killed"))
    assert label == NEUTRAL and unknown < said < denied
    text = "Putin said Russia would be forced to act if NATO placed missiles."
    label, content_rule = label_stance(
        text, attribution(text, "said", "Russia would be forced to act if NATO placed missiles"))
    assert label == OPPOSE and content_rule < denied


def test_stance_without_cue_is_neutral_with_low_confidence():
    text = "It is reported that talks resumed."
    at = text.index("talks resumed")
    label, conf = label_stance(text, Attribution(contents=(Span(ATTRIBUTION, CONTENT, at, len(text) - 1),)))
    assert label == NEUTRAL and conf < 0.5


# --------------------------------------------------------------------------- documents

def doc_with(text: str, attributions: tuple[Attribution, ...] = (), **kwargs) -> Document:
    spans = tuple(s for a in attributions for s in a.parts)
    return Document(id="t1", text=text, spans=spans, attributions=attributions,
                    layers=frozenset({ATTRIBUTION}), provenance={ATTRIBUTION: "gold"}, **kwargs)


def test_add_silver_figure_layer(schema):
    text = "Kiev says Russia has amassed more than 90,000 troops since 2014."
    doc = add_silver_layers(doc_with(text), {FIGURE})
    assert doc.layers == {ATTRIBUTION, FIGURE}
    assert doc.provenance == {ATTRIBUTION: "gold", FIGURE: "silver"}
    assert [s.text_in(text) for s in doc.spans_in(FIGURE)] == ["more than 90,000 troops"]
    doc.validate(schema)


def test_silver_figures_replace_silver_but_not_gold():
    text = "Kiev counted 61 soldiers."
    stale = Span(FIGURE, "FIGURE", 0, 4)
    silver = doc_with(text).with_layer(FIGURE, [stale], "silver")
    assert [s.text_in(text) for s in add_silver_layers(silver, {FIGURE}).spans_in(FIGURE)] == ["61 soldiers"]
    gold = doc_with(text).with_layer(FIGURE, [stale], "gold")
    assert add_silver_layers(gold, {FIGURE}) == gold
    gold_empty = doc_with(text).with_layer(FIGURE, [], "gold")  # gold "no figures" also wins
    assert add_silver_layers(gold_empty, {FIGURE}).spans_in(FIGURE) == []


def test_add_silver_stance_layer(schema):
    text = "The Kremlin denies those claims. Kiev says Russia has amassed troops, he said."
    a1 = attribution(text, "denies", "those claims", "The Kremlin")
    a2 = attribution(text, "says", "Russia has amassed troops", "Kiev")
    doc = add_silver_layers(doc_with(text, (a1, a2)), {STANCE})
    assert doc.provenance[STANCE] == "silver" and STANCE in doc.layers
    assert [a.stance for a in doc.attributions] == [OPPOSE, NEUTRAL]
    assert all(a.stance_score is not None for a in doc.attributions)
    assert [(s.label, s.text_in(text)) for s in doc.spans_in(STANCE)] == [(OPPOSE, "denies"),
                                                                          (NEUTRAL, "says")]
    assert doc.spans_in(ATTRIBUTION) == doc_with(text, (a1, a2)).spans_in(ATTRIBUTION)
    doc.validate(schema)


def test_stance_span_on_every_cue_fragment(schema):
    text = "The Kremlin has, officials say, denied those claims."
    has, denied = text.index("has"), text.index("denied")
    split_cue = Attribution(cues=(Span(ATTRIBUTION, CUE, has, has + 3),
                                  Span(ATTRIBUTION, CUE, denied, denied + 6)),
                            contents=(Span(ATTRIBUTION, CONTENT, denied + 7, len(text) - 1),))
    doc = add_silver_layers(doc_with(text, (split_cue,)), {STANCE})
    assert [(s.label, s.text_in(text)) for s in doc.spans_in(STANCE)] == [(OPPOSE, "has"),
                                                                          (OPPOSE, "denied")]
    doc.validate(schema)


def test_overlapping_cues_first_attribution_wins(schema):
    text = "Kiev says Moscow denied it."
    first = attribution(text, "says", "Moscow denied it")
    second = attribution(text, "says Moscow denied", "it")
    doc = add_silver_layers(doc_with(text, (first, second)), {STANCE})
    assert [(s.label, s.text_in(text)) for s in doc.spans_in(STANCE)] == [(NEUTRAL, "says")]
    assert [a.stance for a in doc.attributions] == [NEUTRAL, OPPOSE]
    Document(id="t", text=text, spans=tuple(doc.spans_in(STANCE)), layers=frozenset({STANCE})
             ).validate(schema)


def test_gold_stance_is_kept():
    text = "The Kremlin denies those claims."
    a = attribution(text, "denies", "those claims")
    gold_a = Attribution(cues=a.cues, contents=a.contents, stance=SUPPORT)
    doc = doc_with(text, (gold_a,)).with_layer(
        STANCE, [Span(STANCE, SUPPORT, a.cue.start, a.cue.end)], "gold", attributions=(gold_a,))
    out = add_silver_layers(doc, {STANCE, FIGURE})
    assert out.spans_in(STANCE) == doc.spans_in(STANCE)
    assert out.attributions == doc.attributions
    assert out.provenance[STANCE] == "gold" and out.provenance[FIGURE] == "silver"


def test_no_stance_layer_without_known_attributions():
    doc = Document(id="seed", text="Kiev said 61 soldiers died.")
    out = add_silver_layers(doc, {STANCE, FIGURE})
    assert out.layers == {FIGURE} and STANCE not in out.provenance


def test_unknown_silver_layer_is_refused():
    with pytest.raises(ConfigError, match="attribution"):
        add_silver_layers(doc_with("Kiev said 61."), {ATTRIBUTION})


def test_seed_article_stances():
    text = seed_text()
    cases = [
        ("Kiev says", "says", "Russia has amassed more than 90,000 troops near their long-shared border", NEUTRAL),
        ("The Kremlin denies", "denies", "those claims", OPPOSE),
        ("Moscow accuses", "accuses", "Kiev of pursuing its own military consolidation", OPPOSE),
        ("Antony Blinken on Thursday urged", "urged", "Russia to “reduce” a military concentration", SUPPORT),
        ("Putin has also said", "said", "that Russia would be forced to act if NATO placed missiles in Ukraine",
         OPPOSE),
        ("Lavrov on Wednesday warned", "warned against", "a Ukrainian “military adventure”", OPPOSE),
        ("according to an AFP", "according to", "The latest death brings Ukraine’s death toll", NEUTRAL),
    ]
    for anchor, cue, content, expected in cases:
        at = text.index(anchor) + anchor.index(cue.split()[0])
        c = text.index(content)
        a = Attribution(cues=(Span(ATTRIBUTION, CUE, at, at + len(cue)),),
                        contents=(Span(ATTRIBUTION, CONTENT, c, c + len(content)),))
        assert text[at:at + len(cue)] == cue
        assert label_stance(text, a)[0] == expected, anchor
