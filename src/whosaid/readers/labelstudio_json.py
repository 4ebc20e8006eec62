"""Label Studio JSON export <-> Documents.

The Label Studio JSON export (a list of tasks) is the project's interchange format
for gold annotations and for pre-annotations (predictions); see the "Interchange
format" section of the annotation guidelines. This module reads it into
`Document`s and writes `Document`s back, so that read -> write -> read is lossless.

Rules the reader applies (the README documents them for users):

* Which annotation: cancelled (skipped) annotations are ignored; of the rest the
  latest by (`updated_at` or `created_at`, then `id`, then position) is used. When
  there is none and `source` allows it, the latest prediction (by `created_at`,
  `id`, position) is used. A task with neither is "nothing known": no layers.
* `data.text` is the text, `data.layers` the annotated layers (absent = all schema
  layers); the other `data` keys go to `Document.metadata` and are written back.
  `metadata["annotation"]` records which annotation/prediction was used and
  `metadata["task_id"]` the Label Studio task id, so both round-trip.
* Each CUE region is the hub of one attribution: SPEAKER regions related to it and
  CONTENT regions related to it (relation direction is not trusted, the labels
  decide). Its stance is the stance-layer region on the cue's offsets (else the one
  overlapping the cue most).
* Speaker entity: a per-region text field `entity` on a SPEAKER region (a result
  item of type "textarea", from_name "entity", the region's id, value
  {"text": ["Donald Trump"]}) is that speaker's entity (codebook "speaker entity");
  each attribution takes the entity of its first SPEAKER region, located at the
  text's first occurrence in the article (no offsets when it does not occur). An
  annotation with at least one such field has its entities decided:
  `metadata["speaker_entities"]` is "gold" (an annotation) or "silver" (a
  prediction), and a SPEAKER without the field has no entity. The writer puts each
  attribution's `speaker_entity` into its SPEAKER region's `entity` field.
* Offsets are Unicode code points (Python `str` indices), end exclusive.

Every malformed input raises `AnnotationError` naming file, task and region.
"""

from __future__ import annotations

import copy
import json
import math
import os
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from whosaid.documents import Attribution, Document, EntityMention, Span, stance_on
from whosaid.errors import AnnotationError
from whosaid.files import JsonError, check_input_file, parse_json, write_text_atomic
from whosaid.schema import ATTRIBUTION, CONTENT, CUE, SPEAKER, STANCE, Schema

#: Which items of a task may supply the annotation (see `document_from_task`).
SOURCES = ("auto", "annotations", "predictions")
#: Metadata keys this module sets itself; a `data` key with one of these names is refused.
RESERVED_METADATA = ("annotation", "task_id", "speaker_entities")
#: The per-region text field (TextArea) that holds a SPEAKER region's entity.
ENTITY_FIELD = "entity"
TEXT_KEY, LAYERS_KEY = "text", "layers"
#: Provenance recorded per layer: human annotations are gold, predictions are not.
PROVENANCE = {"annotation": "gold", "prediction": "silver"}

_EPOCH_MIN = datetime.min.replace(tzinfo=timezone.utc)
_Where = dict  # {"file": ..., "task": ...} passed on to AnnotationError


# --------------------------------------------------------------------------- reading


def read_export(path: str | os.PathLike, schema: Schema | None = None, *,
                source: str = "auto") -> list[Document]:
    """Read a Label Studio JSON export (a list of tasks). The file is only read."""
    path = Path(path)
    try:
        check_input_file(path)  # a FIFO or device would block
        raw = path.read_bytes()
    except OSError as exc:
        raise AnnotationError(f"cannot read Label Studio export: {exc.strerror or exc}",
                              file=path) from exc
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AnnotationError(f"not UTF-8 text (undecodable byte at offset {exc.start}); "
                              "export the project again as JSON", file=path) from exc
    try:
        tasks = parse_json(content)
    except JsonError as exc:
        where = f" at line {exc.lineno} column {exc.colno}" if exc.lineno is not None else ""
        raise AnnotationError(f"invalid JSON{where}: {exc.message}", file=path) from None
    return parse_tasks(tasks, schema, file=str(path), source=source)


def parse_tasks(tasks: list, schema: Schema | None = None, *, file: str | None = None,
                source: str = "auto") -> list[Document]:
    """Documents of a list of Label Studio tasks, in order; document ids must be unique."""
    _check_source(source)
    schema = schema if schema is not None else Schema.default()
    if not isinstance(tasks, list):
        raise AnnotationError(f"a Label Studio JSON export is a list of tasks, not {_kind(tasks)}",
                              file=file)
    docs: list[Document] = []
    first_at: dict[str, int] = {}
    for index, task in enumerate(tasks):
        doc = document_from_task(task, schema, file=file, source=source, index=index)
        if doc.id in first_at:
            raise AnnotationError(f"duplicate task id (the task at position {first_at[doc.id]} "
                                  "has the same id)", file=file, task=doc.id)
        first_at[doc.id] = index
        docs.append(doc)
    return docs


def document_from_task(task: dict, schema: Schema | None = None, *, file: str | None = None,
                       source: str = "auto", index: int | None = None) -> Document:
    """One task -> one validated Document.

    `source`: "auto" (annotations, else predictions), "annotations" or "predictions".
    `index` is the task's position in its file, the document id of last resort.
    """
    _check_source(source)
    schema = schema if schema is not None else Schema.default()
    where: _Where = {"file": file, "task": index}
    if not isinstance(task, dict):
        raise AnnotationError(f"task is not a JSON object but {_kind(task)}", **where)
    data = task.get("data")
    if not isinstance(data, dict):
        raise AnnotationError("task has no 'data' object (a JSON-MIN or CSV export? "
                              "export the project as JSON)", **where)
    doc_id = _document_id(task, data, index, where)
    where["task"] = doc_id

    text = data.get(TEXT_KEY)
    if not isinstance(text, str):
        raise AnnotationError(f"data.{TEXT_KEY} is missing or not a string ({_kind(text)})", **where)
    if not text.strip():
        raise AnnotationError("empty text", **where)
    listed = _listed_layers(data, schema, where)

    metadata = {k: _copy(v) for k, v in data.items() if k not in (TEXT_KEY, LAYERS_KEY)}
    for key in RESERVED_METADATA:
        if key in metadata:
            raise AnnotationError(f"data key {key!r} is reserved by the reader; rename it", **where)
    if task.get("id") is not None:
        metadata["task_id"] = task["id"]

    chosen = _choose(task, source, where)
    if chosen is None:  # nothing known about any layer
        metadata["annotation"] = None
        return Document(id=doc_id, text=text, metadata=metadata).validate(schema, file=file)
    kind, item = chosen
    metadata["annotation"] = _provenance_record(kind, item, where)
    spans, relations, entities = _parse_result(item.get("result"), kind, text, schema, where)
    attributions = _attributions(spans, relations)
    if entities:
        metadata["speaker_entities"] = PROVENANCE[kind]
        attributions = tuple(_with_entity(a, entities, text) for a in attributions)
    doc = Document(id=doc_id, text=text, spans=tuple(spans), attributions=attributions,
                   layers=listed, metadata=metadata,
                   provenance={layer: PROVENANCE[kind] for layer in sorted(listed)})
    return doc.validate(schema, file=file)


def _check_source(source: str) -> None:
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")


def _kind(value: Any) -> str:
    """A JSON type name for messages."""
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _copy(value: Any) -> Any:
    """Documents and tasks share no mutable metadata values."""
    return copy.deepcopy(value) if isinstance(value, (dict, list)) else value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _document_id(task: dict, data: dict, index: int | None, where: _Where) -> str:
    """str(task id), else str(data.id), else the position in the file."""
    for name, value in (("task id", task.get("id")), ("data.id", data.get("id"))):
        if value is None:
            continue
        if not (_is_int(value) or isinstance(value, str)) or str(value).strip() == "":
            raise AnnotationError(f"{name} must be an integer or a non-empty string, "
                                  f"not {value!r}", **where)
        return str(value)
    if index is None:
        raise AnnotationError("task has neither an id nor data.id", **where)
    return str(index)


def _listed_layers(data: dict, schema: Schema, where: _Where) -> frozenset[str]:
    layers = data.get(LAYERS_KEY)
    if layers is None:
        return frozenset(schema.layers)
    if not isinstance(layers, list) or not all(isinstance(l, str) for l in layers):
        raise AnnotationError(f"data.{LAYERS_KEY} must be a list of layer names", **where)
    for layer in layers:
        if layer not in schema.layers:
            raise AnnotationError(f"data.{LAYERS_KEY} names unknown layer {layer!r} "
                                  f"(known: {', '.join(schema.layers)})", **where)
    return frozenset(layers)


# ------------------------------------------------------------------ which annotation


def _choose(task: dict, source: str, where: _Where) -> tuple[str, dict] | None:
    """("annotation" | "prediction", item) to read, or None when nothing is usable."""
    if source != "predictions":
        annotations = _items(task, "annotations", where)
        usable = [(i, a) for i, a in enumerate(annotations)
                  if not _cancelled(a, i, where)]
        if usable:
            return "annotation", max(usable, key=lambda p: _recency(
                p[1], p[0], ("updated_at", "created_at"), "annotation", where))[1]
    if source != "annotations":
        predictions = _items(task, "predictions", where)
        if predictions:
            return "prediction", max(enumerate(predictions), key=lambda p: _recency(
                p[1], p[0], ("created_at",), "prediction", where))[1]
    return None


def _items(task: dict, key: str, where: _Where) -> list[dict]:
    items = task.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        raise AnnotationError(f"task {key!r} is {_kind(items)}, not a list", **where)
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise AnnotationError(f"{key}[{i}] is {_kind(item)}, not an object (an export "
                                  "with ids only? export with full annotations)", **where)
    return items


def _cancelled(annotation: dict, i: int, where: _Where) -> bool:
    flag = annotation.get("was_cancelled")
    if flag is None or isinstance(flag, bool):
        return bool(flag)
    raise AnnotationError(f"annotations[{i}].was_cancelled must be true or false, not {flag!r}",
                          **where)


def _recency(item: dict, position: int, stamp_keys: tuple[str, ...], what: str,
             where: _Where) -> tuple[datetime, int, int]:
    """Sort key "latest wins": timestamp, then integer id, then position in the list."""
    stamp = next((item[k] for k in stamp_keys if item.get(k) not in (None, "")), None)
    when = _EPOCH_MIN if stamp is None else _timestamp(stamp, f"{what} {position}", where)
    ident = item.get("id")
    return when, ident if _is_int(ident) else -1, position


def _timestamp(value: Any, what: str, where: _Where) -> datetime:
    """ISO 8601 string (Label Studio) or seconds since the epoch (old exports)."""
    try:
        if _is_int(value) or isinstance(value, float):
            when = datetime.fromtimestamp(value, tz=timezone.utc)
        elif isinstance(value, str):
            text = value.strip()
            when = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        else:
            raise TypeError(_kind(value))
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise AnnotationError(f"{what}: unreadable timestamp {value!r}", **where) from exc
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def _provenance_record(kind: str, item: dict, where: _Where) -> dict:
    """metadata["annotation"]: which item was read, enough to write it back the same way."""
    ident = item.get("id")
    if ident is not None and not (_is_int(ident) or isinstance(ident, str)):
        raise AnnotationError(f"{kind} id must be an integer or a string, not {ident!r}", **where)
    model_version = score = None
    if kind == "prediction":
        model_version = item.get("model_version")
        if model_version is not None:
            if not (_is_int(model_version) or isinstance(model_version, (str, float))):
                raise AnnotationError(f"prediction model_version must be a string, "
                                      f"not {_kind(model_version)}", **where)
            model_version = str(model_version)
        score = _score(item.get("score"), "prediction score", where)
    return {"kind": kind, "id": ident, "model_version": model_version, "score": score}


def _score(value: Any, what: str, where: _Where, region: object = None) -> float | None:
    if value is None:
        return None
    if (_is_int(value) or isinstance(value, float)) and math.isfinite(value):
        return float(value)
    raise AnnotationError(f"{what} must be a finite number, not {value!r}", region=region, **where)


# --------------------------------------------------------------------- result items


def _parse_result(result: Any, kind: str, text: str, schema: Schema, where: _Where
                  ) -> tuple[list[Span], list[tuple[Span, Span]], dict[str, str]]:
    """Spans in result order (ids generated where missing), (speaker|cue, cue|content)
    pairs, and the speaker entities by SPEAKER region id."""
    if not isinstance(result, list):
        raise AnnotationError(f"the {kind} used has no 'result' list ({_kind(result)})", **where)
    regions: list[tuple[int, Span]] = []
    relation_items: list[tuple[int, dict]] = []
    entity_items: list[tuple[int, dict]] = []
    for pos, item in enumerate(result):
        if not isinstance(item, dict):
            raise AnnotationError(f"result item is {_kind(item)}, not an object",
                                  region=f"result[{pos}]", **where)
        kind_ = item.get("type")
        if kind_ == "relation":
            relation_items.append((pos, item))
        elif kind_ == "labels":
            regions.append((pos, _region(item, pos, text, schema, where)))
        elif kind_ == "textarea":
            entity_items.append((pos, item))
        else:
            raise AnnotationError(f"unsupported result type {kind_!r} (expected 'labels', "
                                  "'relation' or 'textarea')", region=_region_name(item, pos), **where)

    spans = _with_ids([s for _, s in regions])
    by_id: dict[str, list[Span]] = {}
    for span in spans:
        for other in by_id.setdefault(span.id, []):
            if other.layer == span.layer:
                raise AnnotationError(f"duplicate region id in layer {span.layer!r}",
                                      region=span.id, **where)
            if (other.start, other.end) != (span.start, span.end):
                raise AnnotationError("region id used for different offsets "
                                      f"({other.start}-{other.end} and {span.start}-{span.end})",
                                      region=span.id, **where)
        by_id[span.id].append(span)

    relations: list[tuple[Span, Span]] = []
    for pos, item in relation_items:
        pair = _relation(item, pos, by_id, where)
        if pair not in relations:
            relations.append(pair)
    entities: dict[str, str] = {}
    for pos, item in entity_items:
        ident, value = _entity(item, pos, by_id, where)
        if entities.get(ident, value) != value:
            raise AnnotationError(f"two entities ({entities[ident]!r}, {value!r}) for one speaker region",
                                  region=ident, **where)
        entities[ident] = value
    return spans, relations, entities


def _entity(item: dict, pos: int, by_id: dict[str, list[Span]], where: _Where) -> tuple[str, str]:
    """(SPEAKER region id, entity text) of a per-region `entity` text field ("" = none)."""
    name = _region_name(item, pos)
    at = {"region": name, **where}
    if item.get("from_name") != ENTITY_FIELD:
        raise AnnotationError(f"text field {item.get('from_name')!r} is not known (the only "
                              f"per-region text field is {ENTITY_FIELD!r})", **at)
    ident = item.get("id")
    spans = by_id.get(str(ident)) if _is_int(ident) or (isinstance(ident, str) and ident) else None
    speaker = next((s for s in spans or () if s.layer == ATTRIBUTION and s.label == SPEAKER), None)
    if speaker is None:
        raise AnnotationError(f"the {ENTITY_FIELD!r} field belongs to no SPEAKER region "
                              f"(id {ident!r})", **at)
    value = item.get("value")
    texts = value.get("text") if isinstance(value, dict) else None
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts) or len(texts) > 1:
        raise AnnotationError(f"the {ENTITY_FIELD!r} field needs value.text, a list of at most one "
                              f"string ({_kind(texts)})", **at)
    return str(ident), (texts[0].strip() if texts else "")


def _with_entity(a: Attribution, entities: dict[str, str], text: str) -> Attribution:
    """The attribution with the entity of its first SPEAKER region (none without one)."""
    value = entities.get(a.speakers[0].id, "") if a.speakers else ""
    if not value:
        return a
    start = text.find(value)
    return replace(a, speaker_entity=EntityMention(value, start, start + len(value)) if start >= 0
                   else EntityMention(value))


def _region_name(item: dict, pos: int) -> str:
    ident = item.get("id")
    return str(ident) if _is_int(ident) or (isinstance(ident, str) and ident) else f"result[{pos}]"


def _region(item: dict, pos: int, text: str, schema: Schema, where: _Where) -> Span:
    name = _region_name(item, pos)
    at = {"region": name, **where}
    ident = item.get("id")
    if ident is not None and not (_is_int(ident) or (isinstance(ident, str) and ident)):
        raise AnnotationError(f"region id must be a non-empty string, not {ident!r}", **at)
    layer = item.get("from_name")
    if not isinstance(layer, str):
        raise AnnotationError(f"region has no from_name (layer): {layer!r}", **at)
    if layer not in schema.layers:
        raise AnnotationError(f"unknown layer {layer!r} (known: {', '.join(schema.layers)})", **at)
    to_name = item.get("to_name")
    if to_name is not None and to_name != schema.to_name:
        raise AnnotationError(f"region points to {to_name!r}, not to {schema.to_name!r}", **at)
    value = item.get("value")
    if not isinstance(value, dict):
        raise AnnotationError(f"region value is {_kind(value)}, not an object", **at)
    labels = value.get("labels")
    if not isinstance(labels, list):
        raise AnnotationError(f"region has no labels list ({_kind(labels)})", **at)
    if len(labels) != 1:
        raise AnnotationError(f"region has {len(labels)} labels; exactly one per region "
                              "(one region per layer and label)", **at)
    label = labels[0]
    if not isinstance(label, str):
        raise AnnotationError(f"region label is {_kind(label)}, not a string", **at)
    schema.check(layer, label, **at)
    start, end = value.get("start"), value.get("end")
    if not (_is_int(start) and _is_int(end)):
        raise AnnotationError(f"offsets must be integers, not {start!r} and {end!r}", **at)
    if not 0 <= start <= end <= len(text):
        raise AnnotationError(f"offsets {start}-{end} outside the text (length {len(text)})", **at)
    if start == end:
        raise AnnotationError(f"empty region (offsets {start}-{end})", **at)
    quoted = value.get("text")
    if quoted is not None and quoted != text[start:end]:
        raise AnnotationError(f"region text {quoted!r} does not match text[{start}:{end}] = "
                              f"{text[start:end]!r} (offsets are Unicode code points)", **at)
    return Span(layer, label, start, end, id=None if ident is None else str(ident),
                score=_score(item.get("score"), "region score", where, region=name))


def _relation(item: dict, pos: int, by_id: dict[str, list[Span]],
              where: _Where) -> tuple[Span, Span]:
    """(SPEAKER, CUE) or (CUE, CONTENT), whatever the stored direction."""
    ends = [item.get("from_id"), item.get("to_id")]
    name = f"relation {ends[0]}->{ends[1]}" if None not in ends else f"relation result[{pos}]"
    parts = []
    for ident in ends:
        if not (_is_int(ident) or (isinstance(ident, str) and ident)):
            raise AnnotationError(f"relation end must be a region id, not {ident!r}",
                                  region=name, **where)
        spans = by_id.get(str(ident))
        if not spans:
            raise AnnotationError(f"relation to missing region id {str(ident)!r}",
                                  region=name, **where)
        span = next((s for s in spans if s.layer == ATTRIBUTION), None)
        if span is None:
            raise AnnotationError(f"relation links region {ident} of layer {spans[0].layer!r}; "
                                  f"relations link {ATTRIBUTION!r} regions only",
                                  region=name, **where)
        parts.append(span)
    a, b = parts
    pair = {a.label: a, b.label: b}
    if len(pair) == 2 and CUE in pair and (SPEAKER in pair or CONTENT in pair):
        return (pair[SPEAKER], pair[CUE]) if SPEAKER in pair else (pair[CUE], pair[CONTENT])
    raise AnnotationError(f"relation between {a.label} and {b.label}; only {SPEAKER}-{CUE} "
                          f"and {CUE}-{CONTENT} relations are allowed", region=name, **where)


def _with_ids(spans: Iterable[Span]) -> list[Span]:
    """Give id-less spans stable ids r1, r2, ... that clash with no existing id."""
    spans = list(spans)
    taken = {s.id for s in spans if s.id is not None}
    out, n = [], 0
    for s in spans:
        if s.id is None:
            n += 1
            while f"r{n}" in taken:
                n += 1
            s = Span(s.layer, s.label, s.start, s.end, id=f"r{n}", score=s.score)
        out.append(s)
    return out


def _attributions(spans: list[Span], relations: list[tuple[Span, Span]]) -> tuple[Attribution, ...]:
    """One attribution per CUE region, in text order."""
    def by_offset(s: Span) -> tuple[int, int]:
        return s.start, s.end

    stances = [s for s in spans if s.layer == STANCE]
    cues = sorted((s for s in spans if s.layer == ATTRIBUTION and s.label == CUE), key=by_offset)
    out = []
    for cue in cues:
        speakers = sorted({a for a, b in relations if b == cue and a.label == SPEAKER}, key=by_offset)
        contents = sorted({b for a, b in relations if a == cue and b.label == CONTENT}, key=by_offset)
        stance = stance_on(cue, stances)
        out.append(Attribution(cues=(cue,), speakers=tuple(speakers), contents=tuple(contents),
                               stance=stance.label if stance else None,
                               stance_score=stance.score if stance else None))
    return tuple(out)


# --------------------------------------------------------------------------- writing


def to_tasks(docs: Iterable[Document], *, as_predictions: bool = False,
             model_version: str | None = None, schema: Schema | None = None) -> list[dict]:
    """Documents -> Label Studio tasks (JSON-ready dicts).

    With `as_predictions=False` a document keeps the kind it was read as (an LS
    prediction stays a prediction, so machine output is never promoted to gold);
    documents from elsewhere become annotations. `as_predictions=True` writes every
    annotated document as a prediction (pre-annotations). A document with no layers
    and no recorded annotation becomes a bare task to annotate. The result is
    checked by reading it back, so whatever is written can be read.
    """
    schema = schema if schema is not None else Schema.default()
    tasks = [_task(doc, index, schema, as_predictions, model_version)
             for index, doc in enumerate(docs)]
    parse_tasks(tasks, schema, source="auto")  # the reader never changes its input
    return tasks


def write_export(docs: Iterable[Document], path: str | os.PathLike, *, as_predictions: bool = False,
                 model_version: str | None = None, overwrite: bool = False,
                 schema: Schema | None = None) -> Path:
    """Write a Label Studio JSON export atomically; refuse to replace a file unless `overwrite`."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    tasks = to_tasks(docs, as_predictions=as_predictions, model_version=model_version,
                     schema=schema)
    payload = json.dumps(tasks, ensure_ascii=False, indent=2, default=_json_default) + "\n"
    write_text_atomic(path, payload)
    return path


def _task(doc: Document, index: int, schema: Schema, as_predictions: bool,
          model_version: str | None) -> dict:
    doc.validate(schema)
    meta = doc.metadata or {}
    used = meta.get("annotation") if isinstance(meta.get("annotation"), dict) else None
    data = {TEXT_KEY: doc.text}
    data.update({k: _copy(v) for k, v in meta.items()
                 if k not in RESERVED_METADATA + (TEXT_KEY, LAYERS_KEY)})
    task: dict[str, Any] = {}

    # The id the reader will recover: task id, else data.id, else position.
    task_id = meta.get("task_id")
    if task_id is not None and str(task_id) == doc.id:
        task["id"] = task_id
    elif data.get("id") is not None:
        if str(data["id"]) != doc.id:
            data["id"] = doc.id
    elif doc.id != str(index):
        data["id"] = doc.id
    task["data"] = data

    if not doc.layers and used is None:
        return task  # nothing known: a task still to annotate
    if set(doc.layers) != set(schema.layers):
        data[LAYERS_KEY] = [l for l in schema.layers if l in doc.layers]

    kind = "prediction" if as_predictions or (used or {}).get("kind") == "prediction" else "annotation"
    same = used is not None and used.get("kind") == kind and (
        model_version is None or kind == "annotation" or model_version == used.get("model_version"))
    item: dict[str, Any] = {}
    if same and used.get("id") is not None:
        item["id"] = used["id"]
    if kind == "prediction":
        version = model_version if model_version is not None else (
            used.get("model_version") if same else None)
        if version is not None:
            item["model_version"] = version
        scores = [s.score for s in doc.spans if s.score is not None]
        score = used.get("score") if same else (sum(scores) / len(scores) if scores else None)
        if score is not None:
            item["score"] = score
    item["result"] = _result(doc, schema)
    task["predictions" if kind == "prediction" else "annotations"] = [item]
    return task


def _result(doc: Document, schema: Schema) -> list[dict]:
    spans = _with_ids(doc.spans)
    result = []
    for s in spans:
        region = {"id": s.id, "from_name": s.layer, "to_name": schema.to_name, "type": "labels",
                  "value": {"start": s.start, "end": s.end, "text": doc.text[s.start:s.end],
                            "labels": [s.label]}}
        if s.score is not None:
            region["score"] = s.score
        result.append(region)
    ids = {s.key: s.id for s in spans if s.layer == ATTRIBUTION}

    def id_of(part: Span) -> str:
        if part.key not in ids:
            raise AnnotationError(f"attribution part {part.label} {part.start}-{part.end} is not "
                                  "among the document's spans", task=doc.id, region=part.id)
        return ids[part.key]

    pairs: list[tuple[str, str]] = []
    for a in doc.attributions:
        for cue in a.cues:
            pairs += [(id_of(s), id_of(cue)) for s in a.speakers]
            pairs += [(id_of(cue), id_of(c)) for c in a.contents]
    for from_id, to_id in dict.fromkeys(pairs):
        result.append({"from_id": from_id, "to_id": to_id, "type": "relation",
                       "direction": "right"})
    # the speaker entity in its SPEAKER region's per-region text field
    written: set[str] = set()
    for a in doc.attributions:
        if a.speaker_entity is None or not a.speaker_entity.text or not a.speakers:
            continue
        speaker = a.speakers[0]
        rid = id_of(speaker)
        if rid in written:
            continue
        written.add(rid)
        result.append({"id": rid, "from_name": ENTITY_FIELD, "to_name": schema.to_name, "type": "textarea",
                       "value": {"start": speaker.start, "end": speaker.end, "text": [a.speaker_entity.text]}})
    return result


def _json_default(value: Any) -> Any:
    """Metadata from other readers may hold paths, sets or dates."""
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"metadata value of type {type(value).__name__} is not JSON serialisable")
