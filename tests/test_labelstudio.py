"""Label Studio JSON export reader/writer: semantics, round trip and validation errors.

Expected values are derived from the hand-written fixture tests/data/export_small.json
(looked up by text, not by hard-coded offsets).
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pytest

from whosaid.documents import Attribution, Document, Span
from whosaid.errors import AnnotationError
from whosaid.readers.labelstudio_json import (document_from_task, parse_tasks, read_export, to_tasks,
                                 write_export)

FIXTURE = Path(__file__).parent / "data" / "export_small.json"


@pytest.fixture()
def tasks() -> list:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture()
def docs(schema) -> dict[str, Document]:
    return {d.id: d for d in read_export(FIXTURE, schema)}


def texts(doc: Document, spans) -> list[str]:
    return [doc.text[s.start:s.end] for s in spans]


def attribution_with_cue(doc: Document, cue_text: str, nth: int = 0):
    found = [a for a in doc.attributions if texts(doc, a.cues) == [cue_text]]
    return found[nth]


def region(task: dict, rid: str) -> dict:
    items = (task.get("annotations") or task["predictions"])[0]["result"]
    return next(r for r in items if r.get("id") == rid)


def save(tmp_path: Path, tasks: list, name: str = "export.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(tasks), encoding="utf-8")
    return path


# ------------------------------------------------------------------------ semantics


def test_fixture_ids_metadata_and_order(docs):
    assert list(docs) == ["101", "102", "104", "103"]
    d = docs["101"]
    assert d.metadata["date"] == "2024-03-01"
    assert d.metadata["headline"] == "Dockers back port deal"
    assert d.metadata["task_id"] == 101
    assert d.layers == {"attribution", "figure", "stance"}
    assert d.provenance == {"attribution": "gold", "figure": "gold", "stance": "gold"}


def test_cancelled_annotation_is_ignored_even_when_newer(docs, tasks):
    cancelled = tasks[0]["annotations"][1]
    assert cancelled["was_cancelled"] and cancelled["updated_at"] > tasks[0]["annotations"][0]["updated_at"]
    d = docs["101"]
    assert d.metadata["annotation"] == {"kind": "annotation", "id": 11, "model_version": None,
                                        "score": None}
    assert len(d.spans) == sum(r["type"] == "labels" for r in tasks[0]["annotations"][0]["result"])


def test_two_attributions_share_one_speaker(docs):
    d = docs["101"]
    welcomed, condemned = attribution_with_cue(d, "welcomed"), attribution_with_cue(d, "condemned")
    assert welcomed.speakers == condemned.speakers
    assert texts(d, welcomed.speakers) == ["The union, which represents 900 dockers"]
    assert texts(d, welcomed.contents) == ["the decision"]
    assert texts(d, condemned.contents) == ["the delays"]


def test_content_interrupted_by_its_cue_is_two_regions(docs):
    d = docs["101"]
    a = attribution_with_cue(d, "said", nth=1)
    assert texts(d, a.speakers) == ["the union leader"]
    assert texts(d, a.contents) == ['"We will keep working,"', '"until the ships are gone."']
    assert [c.id for c in a.contents] == ["k4", "k5"]


def test_figure_inside_content_and_stance_on_cues(docs):
    d = docs["101"]
    content = attribution_with_cue(d, "said").contents[0]
    figures = d.spans_in("figure")
    assert texts(d, figures) == ["more than 4,000 containers", "900 dockers"]
    assert content.start <= figures[0].start < figures[0].end <= content.end
    stance_by_offsets = {(s.start, s.end): s.label for s in d.spans_in("stance")}
    for a in d.attributions:
        assert a.stance == stance_by_offsets[(a.cue.start, a.cue.end)]
    assert [a.stance for a in d.attributions] == ["NEUTRAL", "SUPPORT", "OPPOSE", "SUPPORT"]


def test_prediction_only_task_keeps_scores(docs, tasks):
    d = docs["102"]
    prediction = tasks[1]["predictions"][0]
    assert d.metadata["annotation"] == {"kind": "prediction", "id": 21,
                                        "model_version": "whosaid-0.1", "score": 0.7}
    assert set(d.provenance.values()) == {"silver"}
    assert [s.score for s in d.spans] == [r["score"] for r in prediction["result"] if "score" in r]
    (a,) = d.attributions
    assert a.stance == "NEUTRAL" and a.stance_score == region(tasks[1], "p5")["score"]


def test_data_layers_limits_the_annotated_layers(docs):
    d = docs["103"]
    assert d.layers == {"attribution"}
    assert d.attributions[0].stance is None
    assert "layers" not in d.metadata


def test_task_without_annotations_is_nothing_known(docs):
    d = docs["104"]
    assert d.layers == frozenset() and d.spans == () and d.metadata["annotation"] is None


def test_empty_result_means_annotated_nothing_found(tasks, schema):
    task = tasks[2]
    task["annotations"] = [{"id": 5, "result": []}]
    d = document_from_task(task, schema)
    assert d.layers == set(schema.layers) and d.spans == ()


def test_latest_annotation_wins(tasks, schema):
    task = tasks[3]
    result = task["annotations"][0]["result"]
    a = {"id": 1, "updated_at": "2024-05-01T10:00:00Z", "result": result}
    b = {"id": 2, "created_at": "2024-05-01T09:00:00Z", "result": []}
    task["annotations"] = [a, b]
    assert document_from_task(task, schema).metadata["annotation"]["id"] == 1
    b["updated_at"] = "2024-05-01T12:00:00+02:00"  # 10:00 UTC: a tie, the larger id wins
    assert document_from_task(task, schema).metadata["annotation"]["id"] == 2
    task["annotations"] = [{"result": result}, {"result": []}]  # no stamps, no ids: the last
    assert document_from_task(task, schema).spans == ()


def test_source_selects_annotations_or_predictions(tasks, schema):
    both = tasks[1]
    both["annotations"] = [{"id": 9, "result": []}]
    assert document_from_task(both, schema).metadata["annotation"]["kind"] == "annotation"
    assert document_from_task(both, schema, source="predictions").metadata["annotation"]["id"] == 21
    only_pred = json.loads(json.dumps(tasks[1]))
    only_pred["annotations"] = [{"id": 9, "was_cancelled": True, "result": []}]
    assert document_from_task(only_pred, schema).metadata["annotation"]["kind"] == "prediction"
    nothing = document_from_task(only_pred, schema, source="annotations")
    assert nothing.layers == frozenset() and nothing.metadata["annotation"] is None
    with pytest.raises(ValueError):
        document_from_task(only_pred, schema, source="drafts")


def test_latest_prediction_wins(tasks, schema):
    task = tasks[1]
    old = copy.deepcopy(task["predictions"][0])
    old.update(id=20, created_at="2024-01-01T00:00:00Z", result=[])
    task["predictions"].insert(1, old)
    assert document_from_task(task, schema).metadata["annotation"]["id"] == 21


def test_document_id_falls_back_to_data_id_then_index(tasks, schema):
    tasks[0].pop("id")
    tasks[0]["data"]["id"] = "art-7"
    tasks[1].pop("id")
    docs = parse_tasks(tasks, schema)
    assert [d.id for d in docs[:2]] == ["art-7", "1"]
    assert docs[0].metadata["id"] == "art-7" and "task_id" not in docs[0].metadata


def test_relation_direction_is_decided_by_labels(tasks, schema):
    for item in tasks[3]["annotations"][0]["result"]:
        if item["type"] == "relation":
            item["from_id"], item["to_id"] = item["to_id"], item["from_id"]
            item["direction"] = "left"
    d = document_from_task(tasks[3], schema)
    (a,) = d.attributions
    assert texts(d, a.speakers) == ["Critics"] and texts(d, a.contents) == ["the plan will fail"]


def test_stance_falls_back_to_the_most_overlapping_span(tasks, schema):
    st = region(tasks[1], "p5")
    text = tasks[1]["data"]["text"]
    st["value"].update(start=st["value"]["start"] - 1, text=text[st["value"]["start"] - 1:st["value"]["end"]])
    assert document_from_task(tasks[1], schema).attributions[0].stance == "NEUTRAL"
    tasks[1]["predictions"][0]["result"].remove(st)
    assert document_from_task(tasks[1], schema).attributions[0].stance is None


def test_region_id_shared_by_cue_and_stance(tasks, schema):
    """One Label Studio region labelled in two controls: same id, same offsets."""
    result = tasks[1]["predictions"][0]["result"]
    region(tasks[1], "p5")["id"] = "p2"
    d = document_from_task(tasks[1], schema)
    (a,) = d.attributions
    assert a.cue.layer == "attribution" and a.cue.id == "p2" and a.stance == "NEUTRAL"
    again = parse_tasks(to_tasks([d], schema=schema), schema)
    assert again == [d]
    assert result  # the fixture copy, not the file, was changed


def test_regions_without_ids_get_ids_that_do_not_clash(tasks, schema):
    result = tasks[3]["annotations"][0]["result"]
    result[0].pop("id")  # SPEAKER, no relation can point at it any more
    result[1]["id"] = "r1"  # the id the generator would pick first
    result[:] = [r for r in result if r["type"] == "labels"]
    result.append({"from_id": "r1", "to_id": "a3", "type": "relation", "direction": "right"})
    d = document_from_task(tasks[3], schema)
    assert [s.id for s in d.spans] == ["r2", "r1", "a3"]
    assert [(a.cue.id, [c.id for c in a.contents]) for a in d.attributions] == [("r1", ["a3"])]


# ------------------------------------------------------------------------ writing


def test_read_write_read_is_lossless(tmp_path, schema):
    before = hashlib.sha256(FIXTURE.read_bytes()).hexdigest()
    docs = read_export(FIXTURE, schema)
    assert hashlib.sha256(FIXTURE.read_bytes()).hexdigest() == before  # reading never writes
    out = write_export(docs, tmp_path / "out.json", schema=schema)
    again = read_export(out, schema)
    assert again == docs
    for a, b in zip(docs, again):
        assert [(s.key, s.id, s.score) for s in a.spans] == [(s.key, s.id, s.score) for s in b.spans]
        assert a.attributions == b.attributions and a.layers == b.layers
        assert a.metadata == b.metadata and a.id == b.id
    written = json.loads(out.read_text(encoding="utf-8"))
    assert [t["id"] for t in written] == [101, 102, 104, 103]
    assert "annotations" not in written[1] and written[1]["predictions"][0]["model_version"] == "whosaid-0.1"
    assert "annotations" not in written[2] and "predictions" not in written[2]
    assert written[3]["data"]["layers"] == ["attribution"] and "layers" not in written[0]["data"]


def test_write_as_predictions(schema, docs):
    doc = docs["101"]
    scored = Document(id="x", text=doc.text, layers=frozenset({"figure"}),
                      spans=(Span("figure", "FIGURE", 20, 46, score=0.5),
                             Span("figure", "FIGURE", 100, 111, score=1.0)))
    tasks = to_tasks([doc, scored], as_predictions=True, model_version="m1", schema=schema)
    assert all("annotations" not in t for t in tasks)
    p0, p1 = tasks[0]["predictions"][0], tasks[1]["predictions"][0]
    assert p0["model_version"] == "m1" and "score" not in p0 and "id" not in p0
    assert p1["score"] == pytest.approx(0.75)
    assert [r["score"] for r in p1["result"]] == [0.5, 1.0]
    assert [r["id"] for r in p1["result"]] == ["r1", "r2"]
    assert tasks[1]["data"] == {"text": doc.text, "id": "x", "layers": ["figure"]}
    back = parse_tasks(tasks, schema)
    assert back[1].spans == tuple(Span("figure", "FIGURE", s.start, s.end, id=f"r{i}", score=s.score)
                                  for i, s in enumerate(scored.spans, 1))
    assert back[0].attributions == doc.attributions and back[0].metadata["annotation"]["kind"] == "prediction"


def test_prediction_is_not_promoted_to_gold(docs, schema):
    (task,) = to_tasks([docs["102"]], schema=schema)
    assert "annotations" not in task and task["predictions"][0]["id"] == 21


def test_writer_gives_ids_and_relations_to_foreign_documents(docs, schema):
    d = docs["103"]
    bare = [Span(s.layer, s.label, s.start, s.end) for s in d.spans]
    foreign = Document(id="seed-1", text=d.text, spans=tuple(bare), layers=d.layers,
                       attributions=(Attribution(speakers=(bare[0],), cues=(bare[1],),
                                                 contents=(bare[2],)),))
    (task,) = to_tasks([foreign], schema=schema)
    relations = [r for r in task["annotations"][0]["result"] if r["type"] == "relation"]
    assert relations == [{"from_id": "r1", "to_id": "r2", "type": "relation", "direction": "right"},
                         {"from_id": "r2", "to_id": "r3", "type": "relation", "direction": "right"}]
    (back,) = parse_tasks([task], schema)
    assert back.id == "seed-1" and [a.parts for a in back.attributions] == [back.spans]


def test_unannotated_document_becomes_a_bare_task(schema):
    doc = Document(id="0", text="An article nobody annotated.", metadata={"date": "2024-01-01"})
    assert to_tasks([doc], schema=schema) == [{"data": {"text": doc.text, "date": "2024-01-01"}}]


def test_writer_refuses_invalid_documents(schema):
    doc = Document(id="bad", text="Some text here.", layers=frozenset({"figure"}),
                   spans=(Span("figure", "FIGURE", 0, 9), Span("figure", "FIGURE", 5, 10)))
    with pytest.raises(AnnotationError, match="task bad.*overlapping"):
        to_tasks([doc], schema=schema)


def test_write_export_is_atomic_and_refuses_to_overwrite(tmp_path, docs, schema):
    path = tmp_path / "sub" / "out.json"
    write_export(list(docs.values()), path, schema=schema)
    original = path.read_bytes()
    with pytest.raises(FileExistsError):
        write_export([docs["103"]], path, schema=schema)
    assert path.read_bytes() == original
    write_export([docs["103"]], path, overwrite=True, schema=schema)
    assert [d.id for d in read_export(path, schema)] == ["103"]
    assert sorted(p.name for p in path.parent.iterdir()) == ["out.json"]  # no temp file left


# ------------------------------------------------------------------ validation errors


def assert_names(exc: pytest.ExceptionInfo, *parts: str) -> None:
    message = str(exc.value)
    for part in parts:
        assert part in message, (part, message)


def test_missing_file(tmp_path, schema):
    path = tmp_path / "nope.json"
    with pytest.raises(AnnotationError) as exc:
        read_export(path, schema)
    assert_names(exc, str(path), "no such file")


def test_invalid_json(tmp_path, schema):
    path = tmp_path / "broken.json"
    path.write_text('[{"data": {"text": "x"}', encoding="utf-8")
    with pytest.raises(AnnotationError) as exc:
        read_export(path, schema)
    assert_names(exc, str(path), "invalid JSON", "line 1")


def test_unreadable_encoding(tmp_path, schema):
    path = tmp_path / "latin1.json"
    path.write_bytes('[{"data": {"text": "Caf\u00e9 owners said so."}}]'.encode("latin-1"))
    with pytest.raises(AnnotationError) as exc:
        read_export(path, schema)
    assert_names(exc, str(path), "UTF-8")


def test_utf8_bom_is_accepted(tmp_path, schema, tasks):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(tasks).encode("utf-8"))
    assert len(read_export(path, schema)) == len(tasks)


def test_top_level_not_a_list(tmp_path, schema, tasks):
    path = save(tmp_path, {"tasks": tasks})
    with pytest.raises(AnnotationError) as exc:
        read_export(path, schema)
    assert_names(exc, str(path), "list of tasks")


def test_task_not_an_object(tmp_path, schema, tasks):
    path = save(tmp_path, tasks + ["oops"])
    with pytest.raises(AnnotationError) as exc:
        read_export(path, schema)
    assert_names(exc, str(path), "task 4", "not a JSON object")


def test_duplicate_task_ids(tmp_path, schema, tasks):
    path = save(tmp_path, tasks + [tasks[0]])
    with pytest.raises(AnnotationError) as exc:
        read_export(path, schema)
    assert_names(exc, str(path), "task 101", "duplicate task id")


def _set(rid, **value):
    def change(tasks):
        region(tasks[0], rid)["value"].update(value)
    return change


def _del_data_text(tasks):
    del tasks[0]["data"]["text"]


def _text(new):
    def change(tasks):
        tasks[0]["data"]["text"] = new
        tasks[0]["annotations"] = []
    return change


def _overlap(tasks):
    k1 = region(tasks[0], "k1")["value"]
    k2 = region(tasks[0], "s2")["value"]  # next attribution region after k1
    text = tasks[0]["data"]["text"]
    k2.update(start=k1["end"] - 3, text=text[k1["end"] - 3:k2["end"]])


def _unknown_layer(tasks):
    region(tasks[0], "f1")["from_name"] = "quote"


def _unknown_label(tasks):
    region(tasks[0], "f1")["value"]["labels"] = ["DATE"]


def _missing_relation_target(tasks):
    tasks[0]["annotations"][0]["result"].append(
        {"from_id": "c1", "to_id": "zz9", "type": "relation", "direction": "right"})


def _speaker_to_content(tasks):
    tasks[0]["annotations"][0]["result"].append(
        {"from_id": "s1", "to_id": "k1", "type": "relation", "direction": "right"})


def _relation_to_stance(tasks):
    tasks[0]["annotations"][0]["result"].append(
        {"from_id": "c1", "to_id": "st1", "type": "relation", "direction": "right"})


def _unknown_data_layer(tasks):
    tasks[0]["data"]["layers"] = ["attribution", "sentiment"]


def _span_in_unlisted_layer(tasks):
    tasks[0]["data"]["layers"] = ["attribution", "stance"]


def _unsupported_type(tasks):
    region(tasks[0], "f1")["type"] = "choices"


TEXT = json.loads(FIXTURE.read_text(encoding="utf-8"))[0]["data"]["text"]

CASES = {
    # name: (change, words the message must contain besides file and task 101)
    "missing data.text": (_del_data_text, ["data.text"]),
    "empty text": (_text(""), ["empty text"]),
    "whitespace-only text": (_text(" \n\t "), ["empty text"]),
    "offsets outside the text": (_set("k5", end=len(TEXT) + 5), ["region k5", "outside the text"]),
    "negative offset": (_set("s1", start=-1), ["region s1", "outside the text"]),
    "non-integer offset": (_set("s1", start="0"), ["region s1", "integers"]),
    "empty region": (_set("s1", end=0, text=""), ["region s1", "empty region"]),
    "region text mismatch": (_set("c1", text="says"), ["region c1", "'says'", "'said'"]),
    "overlapping spans in one layer": (_overlap, ["region s2", "overlapping spans", "attribution"]),
    "unknown layer": (_unknown_layer, ["region f1", "unknown layer 'quote'"]),
    "unknown label": (_unknown_label, ["region f1", "unknown label 'DATE'"]),
    "zero labels": (_set("f1", labels=[]), ["region f1", "0 labels"]),
    "several labels": (_set("c1", labels=["CUE", "SPEAKER"]), ["region c1", "2 labels"]),
    "relation to missing region": (_missing_relation_target, ["c1->zz9", "'zz9'"]),
    "relation between wrong parts": (_speaker_to_content, ["s1->k1", "SPEAKER and CONTENT"]),
    "relation to a stance region": (_relation_to_stance, ["c1->st1", "'stance'"]),
    "unknown layer in data.layers": (_unknown_data_layer, ["data.layers", "'sentiment'"]),
    "span in a layer data.layers omits": (_span_in_unlisted_layer, ["region f1", "does not annotate"]),
    "unsupported result type": (_unsupported_type, ["region f1", "'choices'"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_validation_error_names_file_task_and_region(case, tmp_path, schema, tasks):
    change, words = CASES[case]
    change(tasks)
    path = save(tmp_path, tasks)
    with pytest.raises(AnnotationError) as exc:
        read_export(path, schema)
    assert exc.value.file == str(path) and exc.value.task == "101"
    assert_names(exc, str(path), "task 101", *words)


def test_seed_gold_round_trip_is_lossless(tmp_path, schema, repo_root):
    """The gold seed export: read -> write -> read keeps every span, id, attribution."""
    seed = repo_root / "data" / "seed-gold.json"
    docs = read_export(seed, schema)
    (doc,) = docs
    assert len(doc.attributions) == 28 and all(a.stance for a in doc.attributions)
    again = read_export(write_export(docs, tmp_path / "seed.json", schema=schema), schema)
    assert again == docs
    assert [(s.key, s.id) for s in again[0].spans] == [(s.key, s.id) for s in doc.spans]
