"""Gold figure and stance layers for PolNeAR articles, kept in the project without
the corpus text: `data/polnear-gold/<split>/<NAME>.json` holds offsets only, plus the
SHA-256 of the article's UTF-8 bytes so that a changed text is caught, not mislabelled.

    {"file": "<split>/text/<NAME>.txt", "sha256": "...", "annotator_file": "NAME_xxxx.ann",
     "layers": ["figure", "stance"],
     "spans": [{"layer": "figure", "label": "FIGURE", "start": 0, "end": 9}, ...],
     "entities": [{"speaker": [0, 11], "entity": [0, 11]}, {"speaker": [40, 42], "entity": null}],
     "notes": "optional free text"}

Stance spans sit exactly on CUE fragments of the PolNeAR attributions read from
`annotator_file` (the one `polnear.choose_annotator_file` picks). Applying an
overlay sets `Attribution.stance` from the span on its cue; a stance span on no
surviving cue (one trimmed by overlap resolution) is dropped and counted in
`metadata["overlay"]`.

`entities` (optional) are the speaker-entity decisions (codebook "speaker entity"),
keyed by the offsets of the first SPEAKER fragment of each attribution: `entity` is
the offsets of the entity's canonical mention, or null for none. Applying them sets
`Attribution.speaker_entity` on every attribution (None for a speaker without an
entity and for an attribution without speaker) and `metadata["speaker_entities"] =
"gold"`; a decision for a speaker that is no attribution's first SPEAKER fragment
is counted in `metadata["overlay"]["entities_dropped"]`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

from whosaid.documents import Document, EntityMention, Span, stance_spans
from whosaid.errors import AnnotationError
from whosaid.files import write_json_atomic
from whosaid.schema import ATTRIBUTION, STANCE, Schema


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check(overlay, file) -> dict:
    """Structural check of one overlay: the keys and types the format promises."""
    if not isinstance(overlay, dict):
        raise AnnotationError("overlay is not a JSON object", file=file)
    for key, kind in (("file", str), ("sha256", str), ("layers", list), ("spans", list)):
        if not isinstance(overlay.get(key), kind):
            raise AnnotationError(f"overlay needs {key!r} ({kind.__name__})", file=file)
    layers = overlay["layers"]
    if ATTRIBUTION in layers or not all(isinstance(l, str) for l in layers):
        raise AnnotationError(f"overlay layers must be names other than {ATTRIBUTION!r}: {layers}",
                              file=file)
    for i, s in enumerate(overlay["spans"]):
        ok = (isinstance(s, dict) and isinstance(s.get("layer"), str) and isinstance(s.get("label"), str)
              and all(isinstance(s.get(k), int) and not isinstance(s.get(k), bool)
                      for k in ("start", "end")))
        if not ok:
            raise AnnotationError("span needs layer, label (strings), start, end (integers)",
                                  file=file, region=i)
        if s["layer"] not in layers:
            raise AnnotationError(f"span in layer {s['layer']!r}, which the overlay does not list",
                                  file=file, region=i)
    if "entities" in overlay:
        if not isinstance(overlay["entities"], list):
            raise AnnotationError("overlay 'entities' must be a list", file=file)

        def pair(v) -> bool:
            return isinstance(v, list) and len(v) == 2 and all(
                isinstance(x, int) and not isinstance(x, bool) for x in v) and 0 <= v[0] < v[1]

        for i, e in enumerate(overlay["entities"]):
            if not (isinstance(e, dict) and pair(e.get("speaker")) and (e.get("entity") is None or pair(e["entity"]))):
                raise AnnotationError("entity needs speaker [start, end] and entity [start, end] or null",
                                      file=file, region=f"entities[{i}]")
    return overlay


def _overlay_files(directory) -> dict[str, tuple[Path, dict]]:
    directory = Path(directory)
    if not directory.is_dir():
        raise AnnotationError("overlay directory not found", file=directory)
    out: dict[str, tuple[Path, dict]] = {}
    for path in sorted(directory.rglob("*.json")):
        try:
            overlay = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise AnnotationError(f"cannot read overlay: {exc}", file=path) from exc
        _check(overlay, path)
        if path.stem in out:
            raise AnnotationError(f"second overlay for {path.stem} (first: {out[path.stem][0]})", file=path)
        out[path.stem] = (path, overlay)
    return out


def load_overlays(directory) -> dict[str, dict]:
    """Every `*.json` overlay under `directory` (split sub-directories included), by article name."""
    return {name: overlay for name, (_, overlay) in _overlay_files(directory).items()}


def apply_overlay(doc: Document, overlay: dict, *, file=None, schema: Schema | None = None) -> Document:
    """`doc` with the overlay's layers added as gold and stances set on its attributions."""
    file = str(file) if file is not None else overlay.get("file") if isinstance(overlay, dict) else None
    _check(overlay, file)
    if Path(overlay["file"]).stem != doc.id:
        raise AnnotationError(f"overlay is for {overlay['file']!r}, not for article {doc.id!r}",
                              file=file, task=doc.id)
    if text_sha256(doc.text) != overlay["sha256"]:
        raise AnnotationError("article text differs from the one the overlay was made on "
                              "(sha256 mismatch)", file=file, task=doc.id)
    ours = doc.metadata.get("annotator_file")
    if overlay.get("annotator_file") and ours and ours != overlay["annotator_file"]:
        raise AnnotationError(f"overlay was made on {overlay['annotator_file']}, the article was "
                              f"read from {ours}", file=file, task=doc.id)

    schema = schema or Schema.default()
    by_layer: dict[str, list[Span]] = {layer: [] for layer in overlay["layers"]}
    for i, s in enumerate(overlay["spans"]):
        schema.check(s["layer"], s["label"], file=file, task=doc.id, region=i)
        span = Span(s["layer"], s["label"], s["start"], s["end"])
        if span not in by_layer[span.layer]:
            by_layer[span.layer].append(span)

    attributions = doc.attributions
    dropped = 0
    if STANCE in by_layer:
        on_cue: dict[tuple[int, int], str] = {}
        cues = {(c.start, c.end) for a in attributions for c in a.cues}
        for span in by_layer[STANCE]:
            if (span.start, span.end) not in cues:
                dropped += 1
                continue
            previous = on_cue.setdefault((span.start, span.end), span.label)
            if previous != span.label:
                raise AnnotationError(f"two stances ({previous}, {span.label}) on the cue "
                                      f"{span.start}-{span.end}", file=file, task=doc.id)
        new = []
        for a in attributions:
            labels = {on_cue[(c.start, c.end)] for c in a.cues if (c.start, c.end) in on_cue}
            if len(labels) > 1:
                raise AnnotationError(f"cue fragments of one attribution have different stances "
                                      f"{sorted(labels)}", file=file, task=doc.id,
                                      region=f"{a.cues[0].start}-{a.cues[0].end}")
            new.append(replace(a, stance=labels.pop() if labels else None, stance_score=None))
        attributions = tuple(new)
        by_layer[STANCE] = [Span(STANCE, label, s, e) for (s, e), label in on_cue.items()]

    out = doc
    for layer, spans in by_layer.items():
        out = out.with_layer(layer, spans, "gold")
    info = {"file": file, "stance_spans_dropped": dropped,
            "cues_without_stance": sum(1 for a in attributions if a.stance is None)
            if STANCE in by_layer else None}
    metadata = {}
    if "entities" in overlay:
        attributions, info["entities_dropped"] = _apply_entities(doc, attributions, overlay["entities"],
                                                                 file)
        metadata["speaker_entities"] = "gold"
    for key in ("notes", "batch"):   # kept so that write_overlay writes them back
        if overlay.get(key):
            info[key] = overlay[key]
    out = replace(out, attributions=attributions, metadata={**out.metadata, **metadata, "overlay": info})
    return out.validate(schema, file=file)


def _apply_entities(doc: Document, attributions, entities: list, file) -> tuple[tuple, int]:
    """Attributions with their speaker entities set; and how many decisions matched no speaker."""
    n = len(doc.text)
    decided: dict[tuple[int, int], EntityMention | None] = {}
    for i, e in enumerate(entities):
        s, t = e["speaker"]
        if e["entity"] is not None:
            a, b = e["entity"]
            if b > n:
                raise AnnotationError(f"entity offsets {a}-{b} outside the text (length {n})",
                                      file=file, task=doc.id, region=f"entities[{i}]")
            decided[(s, t)] = EntityMention(doc.text[a:b], a, b)
        else:
            decided[(s, t)] = None
    used = set()
    out = []
    for a in attributions:
        key = (a.speakers[0].start, a.speakers[0].end) if a.speakers else None
        if key in decided:
            used.add(key)
        out.append(replace(a, speaker_entity=decided.get(key) if key else None))
    return tuple(out), len(set(decided) - used)


def apply_overlays(docs, directory, schema: Schema | None = None) -> list[Document]:
    """Each document with its overlay applied, if `directory` has one (matched by id)."""
    overlays = _overlay_files(directory)
    schema = schema or Schema.default()
    return [apply_overlay(d, overlays[d.id][1], file=overlays[d.id][0], schema=schema)
            if d.id in overlays else d for d in docs]


def apply_overlays_counted(docs, directory, schema: Schema | None = None) -> tuple[list[Document], int]:
    """`apply_overlays`, and how many documents it gave a new stance layer."""
    before = [d.provenance.get(STANCE) for d in docs]
    docs = apply_overlays(docs, directory, schema)
    return docs, sum(1 for b, d in zip(before, docs) if d.provenance.get(STANCE) != b)


def write_overlay(doc: Document, path, *, notes: str | None = None) -> dict:
    """Write the non-attribution layers of a PolNeAR document as an overlay (atomically)."""
    split, ann = doc.metadata.get("split"), doc.metadata.get("annotator_file")
    if not split or not ann:
        raise AnnotationError("overlays are for PolNeAR articles read with their split "
                              "(metadata 'split' and 'annotator_file')", task=doc.id)
    layers = sorted(l for l in doc.layers if l != ATTRIBUTION)
    spans = [s for l in layers for s in doc.spans_in(l)]
    if STANCE not in layers and any(a.stance for a in doc.attributions):
        layers.append(STANCE)
        spans += sorted(set(stance_spans(doc.attributions)), key=lambda s: (s.start, s.end))
    if notes is None:
        notes = (doc.metadata.get("overlay") or {}).get("notes")
    batch = (doc.metadata.get("overlay") or {}).get("batch")
    overlay = {"file": f"{split}/text/{doc.id}.txt", "sha256": text_sha256(doc.text),
               "annotator_file": ann, "layers": layers,
               "spans": [{"layer": s.layer, "label": s.label, "start": s.start, "end": s.end}
                         for s in spans]}
    if doc.metadata.get("speaker_entities") == "gold":
        decided = {}
        for a in doc.attributions:
            if a.speakers:
                e = a.speaker_entity
                decided.setdefault((a.speakers[0].start, a.speakers[0].end),
                                   None if e is None or e.start is None else [e.start, e.end])
        overlay["entities"] = [{"speaker": list(k), "entity": v} for k, v in sorted(decided.items())]
    if batch:
        overlay["batch"] = batch
    if notes:
        overlay["notes"] = notes
    write_json_atomic(path, overlay, indent=1)  # indent=1: the layout of the project's overlay files
    return overlay
