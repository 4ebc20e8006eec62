"""Checks of the project's gold standoff files (`data/polnear-gold/`): every file must
apply cleanly to its PolNeAR article (text hash, offsets inside the text, labels of the
schema, no overlapping figures) and be complete: exactly one stance on every
attribution's cue, no stance span off a cue, and a speaker-entity decision for every
attribution with a speaker when the file records entities."""

from __future__ import annotations

from pathlib import Path

from whosaid.errors import AnnotationError
from whosaid.readers.articles import Failure as GoldProblem  # a file and what is wrong with it
from whosaid.readers.overlays import _overlay_files, apply_overlay
from whosaid.readers.polnear import read_polnear
from whosaid.schema import STANCE, Schema


def check_gold_dir(directory: str | Path, polnear_root: str | Path,
                   schema: Schema | None = None) -> tuple[int, list[GoldProblem]]:
    """(number of files checked, problems found) for every overlay under `directory`."""
    schema = schema or Schema.default()
    problems: list[GoldProblem] = []
    files = _overlay_files(directory)
    for name, (path, overlay) in sorted(files.items()):
        split = Path(overlay["file"]).parts[0]
        try:
            (doc,) = read_polnear(polnear_root, split, schema, names=[name])
            gold = apply_overlay(doc, overlay, file=path, schema=schema)
        except AnnotationError as exc:
            problems.append(GoldProblem(str(path), str(exc)))
            continue
        info = gold.metadata.get("overlay", {})
        if STANCE in overlay["layers"]:
            if info.get("stance_spans_dropped"):
                problems.append(GoldProblem(str(path), f"{info['stance_spans_dropped']} stance spans on no cue"))
            missing = [a.cues[0] for a in gold.attributions if a.cues and a.stance is None]
            if missing:
                problems.append(GoldProblem(str(path), f"{len(missing)} attributions without a stance on "
                                                       f"their cue (first at {missing[0].start})"))
        if "entities" in overlay:
            if info.get("entities_dropped"):
                problems.append(GoldProblem(str(path), f"{info['entities_dropped']} entity decisions for no speaker"))
            decided = {tuple(e["speaker"]) for e in overlay["entities"]}
            undecided = [a for a in gold.attributions
                         if a.speakers and (a.speakers[0].start, a.speakers[0].end) not in decided]
            if undecided:
                problems.append(GoldProblem(str(path), f"{len(undecided)} speakers without an entity decision"))
    return len(files), problems
