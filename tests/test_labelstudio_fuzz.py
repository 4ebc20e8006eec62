"""Property: whatever a Label Studio export looks like, the reader either returns
valid documents (that round-trip through the writer) or raises AnnotationError —
never another exception, and never modifies its input.

Inputs are the hand-written fixture (overlapping cross-layer spans, relations,
annotations and predictions) after a few random structural mutations.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from whosaid.errors import AnnotationError
from whosaid.readers.labelstudio_json import parse_tasks, read_export, to_tasks
from whosaid.schema import Schema

HERE = Path(__file__).parent
FIXTURE = HERE / "data" / "export_small.json"
BASE = json.loads(FIXTURE.read_text(encoding="utf-8"))
SCHEMA = Schema.from_label_config(HERE.parent / "data" / "label-config.xml")
#: ~1-4 mutations each; about 10 s on one core. Raise it for a deeper hunt.
EXAMPLES = int(os.environ.get("WHOSAID_FUZZ_EXAMPLES", "1000"))


def _collect(tree) -> list[tuple[tuple, object]]:
    """Every node of a JSON tree as (path, value); paths index dicts by key and lists by position."""
    out, stack = [], [((), tree)]
    while stack:
        path, node = stack.pop()
        out.append((path, node))
        if isinstance(node, dict):
            stack.extend((path + (k,), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((path + (i,), v) for i, v in enumerate(node))
    return out


#: Task, annotation and region ids of the fixture: targets for corrupted references.
_IDS = sorted({v for p, v in _collect(BASE) if p and p[-1] in ("id", "from_id", "to_id")},
              key=repr) + ["zz", 7]


#: Values that are plausible in the format, so mutations reach the deeper checks.
_NAMES = ["text", "data", "layers", "id", "annotations", "predictions", "result", "value",
          "start", "end", "labels", "from_name", "to_name", "type", "from_id", "to_id",
          "relation", "labels", "was_cancelled", "created_at", "updated_at", "score",
          "model_version", "annotation", "task_id", "attribution", "figure", "stance",
          "SPEAKER", "CUE", "CONTENT", "FIGURE", "SUPPORT", "OPPOSE", "NEUTRAL", "", " ",
          "2024-03-02T10:00:00Z", "not a date", "right"]
_scalars = (st.none() | st.booleans() | st.integers(-3, 260) | st.integers()
            | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=6)
            | st.sampled_from(_NAMES))
_json = _scalars | st.recursive(_scalars, lambda inner: st.lists(inner, max_size=2)
                                | st.dictionaries(st.sampled_from(_NAMES), inner, max_size=2),
                                max_leaves=3)


_OPS = st.sampled_from(["delete", "replace", "shift", "duplicate", "add_key", "retarget", "swap"])
_NAME = st.sampled_from(_NAMES)
_ID = st.sampled_from(_IDS)


def _clone(tree):
    """Deep copy of a JSON tree (several times faster than copy.deepcopy)."""
    return json.loads(json.dumps(tree))


def _mutate(data, tree):
    # Draw an index, not the node: strategies over large values are slow to label.
    nodes = _collect(tree)
    path, node = nodes[data.draw(st.integers(0, len(nodes) - 1), label="node")]
    parent = tree
    for step in path[:-1]:
        parent = parent[step]
    op = data.draw(_OPS, label="op")
    if op == "delete" and path:
        del parent[path[-1]]
    elif op == "replace" and path:
        parent[path[-1]] = data.draw(_json, label="value")
    elif op == "shift" and path and isinstance(node, int) and not isinstance(node, bool):
        parent[path[-1]] = node + data.draw(st.integers(-40, 40), label="delta")
    elif op == "duplicate" and path and isinstance(parent, list):
        parent.insert(data.draw(st.integers(0, len(parent)), label="at"), _clone(node))
    elif op == "add_key" and isinstance(node, dict):
        node[data.draw(_NAME, label="key")] = data.draw(_json, label="value")
    elif op == "retarget" and path:
        parent[path[-1]] = data.draw(_ID, label="id")
    elif op == "swap" and isinstance(node, list) and len(node) > 1:
        i = data.draw(st.integers(0, len(node) - 2), label="i")
        j = data.draw(st.integers(i + 1, len(node) - 1), label="j")
        node[i], node[j] = node[j], node[i]


def _check(tasks) -> None:
    before = _clone(tasks)
    try:
        docs = parse_tasks(tasks, SCHEMA, file="fuzz.json")
    except AnnotationError:
        assert tasks == before
        return
    assert tasks == before, "the reader changed its input"
    for doc in docs:
        doc.validate(SCHEMA)
    # Whatever the reader accepts, the writer writes back without loss.
    assert parse_tasks(to_tasks(docs, schema=SCHEMA), SCHEMA) == docs


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_exports_raise_only_annotation_errors(data):
    tasks = _clone(BASE)
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        _mutate(data, tasks)
    _check(tasks)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_corrupted_files_raise_only_annotation_errors(data):
    raw = bytearray(FIXTURE.read_bytes())
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        at = data.draw(st.integers(0, len(raw) - 1), label="at")
        edit = data.draw(st.sampled_from(["flip", "cut", "truncate"]), label="edit")
        if edit == "flip":
            raw[at] = data.draw(st.integers(0, 255), label="byte")
        elif edit == "cut":
            del raw[at:at + data.draw(st.integers(1, 40), label="n")]
        else:
            del raw[at:]
        if not raw:
            break
    fd, name = tempfile.mkstemp(suffix=".json")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        try:
            read_export(name, SCHEMA)
        except AnnotationError:
            pass
    finally:
        os.unlink(name)
