"""Read PolNeAR (brat standoff) into Documents annotated in the attribution layer.

Layout of one split: `<root>/<split>/text/NAME.txt` and
`<root>/<split>/attributions/NAME_<annotator>.ann`; `<root>/metadata.tsv` (optional)
gives publisher, date and title. The corpus text is never copied: it is read
from wherever the user keeps it.

Rules (they decide what the model learns, so they are fixed and documented here):

* Only lines `T<n><TAB>...` and `E<n><TAB>...` are parsed; `#` notes and the
  continuation lines of covered text that contains a newline are ignored. Spans
  are located by their offsets (`start end[;start end...]`), never by the covered
  text; each fragment becomes its own Span.
* Attributions come from the `E` lines. The *role* in the E line decides the part
  (`Source` -> SPEAKER, `Cue` -> CUE, `Content`/`Content2`... -> CONTENT), not the
  label of the T line: the two disagree three times in the corpus and the role is
  right each time. `Attribution`/`Attribution-no-source` are triggers, not spans.
  An E line without a `Cue` (36 in the corpus) uses its trigger's offsets as the
  cue: the trigger sits on the cue words in 99.96% of the E lines that have both.
* T lines that no E line references (`Discuss`, `Discard`, leftover parts) are
  ignored, so every attribution-layer span belongs to an attribution.
* Several annotators: `choose_annotator_file` keeps the lexicographically smallest
  file name, the others are ignored (and counted).
* Overlaps: inside a layer spans must not overlap (a few PolNeAR spans of
  different attributions do). Resolution is deterministic and never drops an
  attribution:
  - identical fragments (same label and offsets, e.g. one speaker of two E lines)
    are one Span that both attributions reference;
  - between labels, priority CUE > SPEAKER > CONTENT: a fragment loses the
    characters a higher-priority span holds; the remaining pieces are stripped of
    surrounding whitespace and a piece without any letter or digit is dropped;
  - within one label, overlapping fragments are cut at each other's boundaries
    into shared segments, stripped of whitespace at the cuts (a content nested in
    another: the outer one becomes two segments, the inner attribution references
    the second).
  Cues are never trimmed, so every E line yields exactly one Attribution with a
  cue (what `whosaid stats` counts). Everything is counted in `PolnearReport`.
"""

from __future__ import annotations

import csv
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from pathlib import Path

from whosaid.documents import Attribution, Document, Span
from whosaid.errors import AnnotationError
from whosaid.schema import ATTRIBUTION, CONTENT, CUE, SPEAKER, Schema

_T_LINE = re.compile(r"T(\d+)\t")
_E_LINE = re.compile(r"E(\d+)\t")
_OFFSETS = re.compile(r"\d+ \d+(?:;\d+ \d+)*")
TRIGGERS = ("Attribution", "Attribution-no-source")
ROLE_LABELS = {"Source": SPEAKER, "Cue": CUE, "Content": CONTENT}
#: Resolution order of overlapping fragments: lower wins.
PRIORITY = {CUE: 0, SPEAKER: 1, CONTENT: 2}


@dataclass
class PolnearReport:
    """What reading a split did to the annotations: the numbers behind `whosaid stats`."""

    articles: int = 0
    ann_files_ignored: int = 0          # files of other annotators of the same article
    attributions: int = 0               # E lines of the chosen files
    cues_from_trigger: int = 0          # E lines without a Cue: the trigger's offsets are the cue
    unlinked_spans_ignored: int = 0     # T lines no E line references (Discuss, Discard, leftovers)
    duplicate_fragments_merged: int = 0  # identical fragments referenced by several E lines
    overlap_chars: int = 0              # characters covered by more than one distinct fragment
    spans_trimmed: int = 0              # fragments that lost characters to a higher-priority label
    spans_dropped: int = 0              # fragments that lost all their characters that way
    spans_split: int = 0                # fragments cut where a fragment of the same label overlaps
    chars_removed: int = 0              # characters the trimmed and dropped fragments lost
    articles_with_overlaps: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(vars(self))


def choose_annotator_file(ann_paths) -> Path:
    """The annotation file used for an article with several annotators: the one whose
    file name is lexicographically smallest. Overlays and statistics rely on exactly
    this rule, so it must not depend on directory order or file dates."""
    paths = [Path(p) for p in ann_paths]
    if not paths:
        raise AnnotationError("no annotation file to choose from")
    return min(paths, key=lambda p: p.name)


def _role_label(role: str) -> str | None:
    """CUE/SPEAKER/CONTENT for a part role, None for a trigger; `Content2`... are contents."""
    if role in TRIGGERS:
        return None
    base = role.rstrip("0123456789")
    if base in ROLE_LABELS:
        return ROLE_LABELS[base]
    raise KeyError(role)


def _parse_ann(ann_path: Path, text_len: int):
    """T fragments by id and E lines as lists of (role, T id)."""
    try:
        lines = ann_path.read_bytes().decode("utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise AnnotationError(f"cannot read annotation file: {exc}", file=ann_path) from exc
    fragments: dict[str, list[tuple[int, int]]] = {}
    events: list[tuple[str, list[tuple[str, str]]]] = []
    for lineno, line in enumerate(lines, 1):
        line = line.rstrip("\r")
        if _T_LINE.match(line):
            tid, _, rest = line.partition("\t")
            head = rest.split("\t", 1)[0]
            _, _, offsets = head.partition(" ")
            if not _OFFSETS.fullmatch(offsets):
                raise AnnotationError(f"line {lineno}: bad offsets {offsets!r}", file=ann_path, region=tid)
            frags = []
            for piece in offsets.split(";"):
                start, end = map(int, piece.split())
                if not 0 <= start < end <= text_len:
                    raise AnnotationError(f"line {lineno}: offsets {start}-{end} outside the text "
                                          f"(length {text_len})", file=ann_path, region=tid)
                frags.append((start, end))
            fragments[tid] = frags
        elif _E_LINE.match(line):
            eid, _, rest = line.partition("\t")
            args = []
            for token in rest.split(" "):
                if not token:
                    continue  # trailing or doubled blanks occur in the corpus
                role, sep, ref = token.partition(":")
                if not sep or not ref:
                    raise AnnotationError(f"line {lineno}: bad argument {token!r}", file=ann_path, region=eid)
                args.append((role, ref))
            events.append((eid, args))
    return fragments, events


def _pieces(start: int, end: int, claimed: bytearray, text: str) -> list[tuple[int, int]]:
    """The parts of [start, end) whose characters are not claimed (1 in `claimed`),
    stripped of whitespace and kept only if they hold a letter or digit."""
    if claimed.find(1, start, end) < 0:
        return [(start, end)]
    free, i = [], start
    while i < end:
        j = claimed.find(1, i, end)
        j = end if j < 0 else j
        if i < j:
            free.append(_strip(text, i, j))
        k = claimed.find(0, j, end)
        i = end if k < 0 else k
    return [(fs, fe) for fs, fe in free if any(c.isalnum() for c in text[fs:fe])]


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    """Offsets without surrounding whitespace (start == end when there is nothing else)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _build(name: str, text: str, ann_path: Path, report: PolnearReport):
    """Attributions of one article, with overlaps resolved."""
    fragments, events = _parse_ann(ann_path, len(text))
    referenced: set[str] = set()
    raw: list[tuple[str, dict[str, list[tuple[int, int]]]]] = []  # (E id, label -> fragments)
    for eid, args in events:
        parts: dict[str, list[tuple[int, int]]] = {CUE: [], SPEAKER: [], CONTENT: []}
        trigger = None
        for role, ref in args:
            if ref not in fragments:
                raise AnnotationError(f"{role} refers to {ref}, which has no T line", file=ann_path,
                                      region=eid)
            referenced.add(ref)
            try:
                label = _role_label(role)
            except KeyError:
                raise AnnotationError(f"unknown role {role!r}", file=ann_path, region=eid) from None
            if label is None:
                trigger = ref
                continue
            for frag in fragments[ref]:
                if frag not in parts[label]:
                    parts[label].append(frag)
        if not parts[CUE]:
            if trigger is None:
                raise AnnotationError("attribution without cue and without trigger", file=ann_path,
                                      region=eid)
            parts[CUE] = list(fragments[trigger])
            report.cues_from_trigger += 1
        raw.append((eid, parts))
    report.attributions += len(raw)
    report.unlinked_spans_ignored += len(set(fragments) - referenced)

    uses: dict[tuple[str, int, int], int] = {}
    for _, parts in raw:
        for label, frags in parts.items():
            for s, e in frags:
                uses[(label, s, e)] = uses.get((label, s, e), 0) + 1
    report.duplicate_fragments_merged += sum(n - 1 for n in uses.values())
    overlap = _multiply_covered([(s, e) for _, s, e in uses])
    if overlap:
        report.overlap_chars += overlap
        report.articles_with_overlaps.append(name)
    resolved = _resolve(uses, text, report)

    attributions = []
    for eid, parts in raw:
        new = {label: tuple(sorted({sp for s, e in frags for sp in resolved[(label, s, e)]},
                                   key=lambda sp: sp.start))
               for label, frags in parts.items()}
        if not new[CUE]:  # cues are resolved first and only split: only a blank cue gets here
            raise AnnotationError("cue is blank", file=ann_path, region=eid)
        attributions.append(Attribution(cues=new[CUE], speakers=new[SPEAKER], contents=new[CONTENT]))
    spans = sorted({sp for a in attributions for sp in a.parts}, key=lambda sp: (sp.start, sp.end))
    return tuple(spans), tuple(attributions)


def _multiply_covered(intervals: list[tuple[int, int]]) -> int:
    """Characters covered by more than one interval (half-open)."""
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    depth, prev, total = 0, 0, 0
    for x, d in events:
        if depth > 1:
            total += x - prev
        depth, prev = depth + d, x
    return total


def _resolve(fragments, text: str, report: PolnearReport) -> dict[tuple[str, int, int], list[Span]]:
    """Non-overlapping spans for each distinct (label, start, end) fragment.

    Labels in PRIORITY order: a fragment loses the characters that spans of a
    higher-priority label hold (`_pieces`). Overlapping fragments of the same label
    are cut at each other's boundaries instead, so that they share segments and
    no characters are lost (a content nested in another content, two crossing cues).
    """
    claimed = bytearray(len(text))
    resolved: dict[tuple[str, int, int], list[Span]] = {}
    for label in sorted(PRIORITY, key=PRIORITY.get):
        pieces: dict[tuple[str, int, int], list[tuple[int, int]]] = {}
        for key in sorted(k for k in fragments if k[0] == label):
            _, s, e = key
            pieces[key] = _pieces(s, e, claimed, text)
            if pieces[key] != [(s, e)]:
                report.chars_removed += (e - s) - sum(pe - ps for ps, pe in pieces[key])
                if pieces[key]:
                    report.spans_trimmed += 1
                else:
                    report.spans_dropped += 1
        bounds = sorted({x for ivs in pieces.values() for iv in ivs for x in iv})
        for key, ivs in pieces.items():
            segments = []
            for ps, pe in ivs:
                edges = [ps, *bounds[bisect_right(bounds, ps):bisect_left(bounds, pe)], pe]
                for a, b in zip(edges, edges[1:]):
                    if len(edges) > 2:  # a cut may leave whitespace at a segment's edge
                        a, b = _strip(text, a, b)
                    if a < b:
                        segments.append(Span(ATTRIBUTION, label, a, b))
            if len(segments) > len(ivs):
                report.spans_split += 1
            resolved[key] = segments
        for ivs in pieces.values():
            for ps, pe in ivs:
                claimed[ps:pe] = b"\x01" * (pe - ps)
    return resolved


def _metadata_index(root: Path) -> dict[str, dict]:
    """publisher/date/title by article name from `<root>/metadata.tsv`, if present."""
    path = root / "metadata.tsv"
    if not path.is_file():
        return {}
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise AnnotationError(f"cannot read metadata: {exc}", file=path) from exc
    out = {}
    for row in rows:
        if row.get("filename"):
            out[row["filename"]] = {k: row[c] for k, c in
                                    (("publisher", "publisher"), ("date", "publication_date"),
                                     ("title", "title")) if row.get(c) not in (None, "", "None")}
    return out


def _read(text_path: Path, ann_path: Path, schema: Schema, report: PolnearReport,
          metadata: dict) -> Document:
    text_path, ann_path = Path(text_path), Path(ann_path)
    try:
        # Bytes decoded as is (no newline translation): brat offsets count the file's characters.
        text = text_path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AnnotationError(f"cannot read article text: {exc}", file=text_path) from exc
    name = text_path.stem
    spans, attributions = _build(name, text, ann_path, report)
    report.articles += 1
    doc = Document(id=name, text=text, spans=spans, attributions=attributions,
                   layers=frozenset({ATTRIBUTION}), provenance={ATTRIBUTION: "gold"},
                   metadata={"source": "polnear", "annotator_file": ann_path.name, **metadata})
    return doc.validate(schema, file=str(ann_path))


def read_article(text_path, ann_path, schema: Schema | None = None) -> Document:
    """One article from its text file and one annotation file (no split metadata)."""
    return _read(Path(text_path), Path(ann_path), schema or Schema.default(), PolnearReport(), {})


def read_polnear_with_report(root, split: str, schema: Schema | None = None, *,
                             limit: int | None = None,
                             names: list[str] | None = None) -> tuple[list[Document], PolnearReport]:
    """Articles of one split, sorted by name (or in the order of `names`), with the report."""
    root = Path(root)
    split_dir = root / split
    text_dir, ann_dir = split_dir / "text", split_dir / "attributions"
    if not text_dir.is_dir() or not ann_dir.is_dir():
        raise AnnotationError(f"not a PolNeAR split: expected {text_dir} and {ann_dir}", file=split_dir)
    schema = schema or Schema.default()
    texts = {p.stem: p for p in text_dir.glob("*.txt")}
    anns: dict[str, list[Path]] = {}
    for p in ann_dir.glob("*.ann"):
        article, sep, _annotator = p.stem.rpartition("_")
        if not sep:
            raise AnnotationError("annotation file name is not NAME_<annotator>.ann", file=p)
        anns.setdefault(article, []).append(p)
    orphans = sorted(set(anns) - set(texts))
    if orphans:
        raise AnnotationError(f"annotations without a text file ({len(orphans)}), e.g. {orphans[0]}",
                              file=ann_dir)
    if names is None:
        chosen = sorted(texts)
    else:
        missing = [n for n in names if n not in texts]
        if missing:
            raise AnnotationError(f"no article {missing[0]!r} in split {split!r}", file=text_dir)
        chosen = list(names)
    if limit is not None:
        chosen = chosen[:limit]
    meta = _metadata_index(root)
    report = PolnearReport()
    docs = []
    for name in chosen:
        if name not in anns:
            raise AnnotationError("article without an annotation file", file=texts[name])
        ann = choose_annotator_file(anns[name])
        report.ann_files_ignored += len(anns[name]) - 1
        docs.append(_read(texts[name], ann, schema, report,
                          {"split": split, **meta.get(name, {})}))
    return docs, report


def read_polnear(root, split: str, schema: Schema | None = None, *, limit: int | None = None,
                 names: list[str] | None = None) -> list[Document]:
    """Articles of one split; see `read_polnear_with_report` for what was resolved."""
    return read_polnear_with_report(root, split, schema, limit=limit, names=names)[0]
