"""Annotate PolNeAR articles with the figure, stance and speaker-entity layers.

An annotator works on one whole article at a time:

    python scripts/gold.py next --split dev -n 5          # which articles come next
    python scripts/gold.py show NAME                       # text + numbered attributions
    python scripts/gold.py write NAME decisions.json       # decisions -> overlay file
    python scripts/gold.py write NAME decisions.json --second   # the independent second annotation
    python scripts/gold.py diff NAME                       # first vs second annotation
    python scripts/gold.py validate                        # check every gold file (whosaid check-gold)
    python scripts/gold.py agreement                       # per-batch agreement table

decisions.json (written by the annotator; offsets are found from the quoted text):
    {"batch": "b03",
     "stance":   {"1": "NEUTRAL", "2": "OPPOSE", ...},      every attribution number
     "entities": {"1": {"text": "Donald Trump", "near": 120}, "2": null, ...},
                                                            every attribution with a speaker
     "figures":  [{"text": "more than 90,000 troops", "near": 456}, ...],
     "notes": "optional"}
`near` is any character offset close to the intended occurrence (the paragraph
offsets `show` prints are enough): the occurrence of `text` nearest to it is taken.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "data" / "polnear-gold"
SECOND = ROOT / "data" / "gold-agreement" / "second-annotations"
STANCES = ("SUPPORT", "OPPOSE", "NEUTRAL")
NUMBER_WORDS = re.compile(
    r"\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    r"eighty|ninety|hundred|hundreds|thousand|thousands|million|millions|billion|billions|"
    r"trillion|dozen|dozens|half|percent)\b", re.I)


def _polnear_root() -> Path:
    for cand in (ROOT.parent / "shared" / "polnear", Path("../shared/polnear")):
        if cand.is_dir():
            return cand
    sys.exit("PolNeAR not found at ../shared/polnear")


def sha256(text: str) -> str:
    from whosaid.readers.overlays import text_sha256

    return text_sha256(text)


def _write_json(path: Path, obj) -> None:
    from whosaid.files import write_json_atomic

    write_json_atomic(path, obj, indent=1)  # indent=1: the layout of the project's overlay files


def _read(split: str, name: str):
    from whosaid.readers.polnear import read_polnear

    return read_polnear(_polnear_root(), split, names=[name])[0]


def _split_of(name: str) -> str:
    for split in ("train", "dev"):
        if (_polnear_root() / split / "text" / f"{name}.txt").exists():
            return split
    sys.exit(f"no PolNeAR article {name!r} in train or dev")


# --- selection -----------------------------------------------------------------------

def candidates(split: str) -> list[str]:
    """The deterministic order: articles of 1,500-4,000 characters with a digit and at
    least 3 attributions, by SHA-256 of the name; then the rest of the split (any length,
    at least 3 attributions) in the same order."""
    root = _polnear_root() / split
    first, rest = [], []
    for p in sorted((root / "text").glob("*.txt")):
        text = p.read_text(encoding="utf-8")
        anns = sorted((root / "attributions").glob(f"{p.stem}_*.ann"))
        if not anns:
            continue
        n_attr = sum(1 for line in anns[0].read_text(encoding="utf-8").splitlines() if line.startswith("E"))
        key = hashlib.sha256(p.stem.encode()).hexdigest()
        if n_attr >= 3 and 1500 <= len(text) <= 4000 and re.search(r"\d", text):
            first.append((key, p.stem))
        elif n_attr >= 3:
            rest.append((key, p.stem))
    return [n for _, n in sorted(first)] + [n for _, n in sorted(rest)]


def cmd_next(args) -> None:
    done = {p.stem for p in (GOLD / args.split).glob("*.json")}
    todo = [n for n in candidates(args.split) if n not in done]
    for n in todo[args.skip:args.skip + args.n]:
        print(n)


# --- show ---------------------------------------------------------------------------

def _frag(text, spans):
    return " ... ".join(text[s.start:s.end] for s in spans)


def cmd_show(args) -> None:
    split = _split_of(args.name)
    doc = _read(split, args.name)
    text = doc.text
    print(f"ARTICLE {doc.id}  split={split}  chars={len(text)}")
    print("\nTEXT (each paragraph starts with its character offset):")
    pos = 0
    for para in text.split("\n"):
        if para.strip():
            print(f"[{pos}] {para}")
        pos += len(para) + 1
    print("\nATTRIBUTIONS (number: speaker | cue | content, with start offsets):")
    for i, a in enumerate(doc.attributions, 1):
        sp = f'"{_frag(text, a.speakers)}"@{a.speakers[0].start}' if a.speakers else "(no speaker)"
        cue = f'"{_frag(text, a.cues)}"@{a.cues[0].start}'
        content = _frag(text, a.contents)
        if len(content) > 160 and not args.full:
            content = content[:150] + " [...]"
        print(f"#{i}: {sp} | {cue} | \"{content}\"")
    if args.numbers:
        print("\nTOKENS WITH DIGITS OR NUMBER WORDS (a checklist to consider, not decisions):")
        for m in re.finditer(r"\S*\d\S*|" + NUMBER_WORDS.pattern, text, flags=re.I):
            ctx = text[max(0, m.start() - 30):m.end() + 30].replace("\n", " ")
            print(f"  @{m.start()}: {m.group(0)!r}   ...{ctx}...")


# --- write --------------------------------------------------------------------------

def _locate(text: str, item, what: str) -> tuple[int, int]:
    if not isinstance(item, dict) or not isinstance(item.get("text"), str) or not item["text"]:
        raise SystemExit(f"{what}: needs {{'text': ..., 'near': offset}}, got {item!r}")
    needle, near = item["text"], item.get("near", 0)
    hits = [m.start() for m in re.finditer(re.escape(needle), text)]
    if not hits:
        raise SystemExit(f"{what}: text {needle!r} not found in the article")
    start = min(hits, key=lambda h: (abs(h - near), h))
    return start, start + len(needle)


def build_overlay(split: str, name: str, decisions: dict) -> dict:
    doc = _read(split, name)
    text = doc.text
    stance = decisions.get("stance") or {}
    entities = decisions.get("entities") or {}
    spans, ents, problems = [], [], []
    for i, a in enumerate(doc.attributions, 1):
        label = stance.get(str(i))
        if label not in STANCES:
            problems.append(f"attribution #{i}: stance {label!r} (need one of {STANCES})")
            continue
        for c in a.cues:
            spans.append({"layer": "stance", "label": label, "start": c.start, "end": c.end})
        if a.speakers:
            if str(i) not in entities:
                problems.append(f"attribution #{i}: no entity decision (object or null)")
                continue
            e = entities[str(i)]
            loc = None if e is None else _locate(text, e, f"entity of #{i}")
            ents.append({"speaker": [a.speakers[0].start, a.speakers[0].end],
                         "entity": None if loc is None else list(loc)})
    extra = sorted(set(stance) - {str(i) for i in range(1, len(doc.attributions) + 1)})
    if extra:
        problems.append(f"stance for attribution numbers that do not exist: {extra}")
    figs = sorted({_locate(text, f, f"figure {f!r}") for f in decisions.get("figures") or []})
    for (s1, e1), (s2, e2) in zip(figs, figs[1:]):
        if s2 < e1:
            problems.append(f"overlapping figures {text[s1:e1]!r} and {text[s2:e2]!r}")
    if problems:
        raise SystemExit("not written:\n  " + "\n  ".join(problems))
    # one stance per cue: cues shared by two attributions must agree
    seen: dict[tuple, str] = {}
    unique = []
    for s in spans:
        k = (s["start"], s["end"])
        if k in seen:
            if seen[k] != s["label"]:
                raise SystemExit(f"cue {text[k[0]:k[1]]!r}@{k[0]} is shared by attributions with "
                                 f"different stances ({seen[k]}, {s['label']})")
            continue
        seen[k] = s["label"]
        unique.append(s)
    # de-duplicate entities of speakers shared by several attributions
    ent_by_speaker: dict[tuple, list | None] = {}
    for e in ents:
        k = tuple(e["speaker"])
        if k in ent_by_speaker and ent_by_speaker[k] != e["entity"]:
            raise SystemExit(f"speaker {text[k[0]:k[1]]!r}@{k[0]} is shared by attributions with "
                             f"different entities")
        ent_by_speaker[k] = e["entity"]
    overlay = {
        "file": f"{split}/text/{name}.txt", "sha256": sha256(text),
        "annotator_file": doc.metadata["annotator_file"], "layers": ["figure", "stance"],
        "spans": [{"layer": "figure", "label": "FIGURE", "start": s, "end": e} for s, e in figs]
                 + sorted(unique, key=lambda s: (s["start"], s["end"])),
        "entities": [{"speaker": list(k), "entity": v} for k, v in sorted(ent_by_speaker.items())],
    }
    if decisions.get("batch"):
        overlay["batch"] = str(decisions["batch"])
    if decisions.get("notes"):
        overlay["notes"] = str(decisions["notes"])
    return overlay


def cmd_write(args) -> None:
    split = _split_of(args.name)
    decisions = json.loads(Path(args.decisions).read_text(encoding="utf-8"))
    target = (SECOND if args.second else GOLD) / split / f"{args.name}.json"
    if args.entities_only:
        if not target.exists():
            raise SystemExit(f"--entities-only needs an existing overlay at {target}")
        old = json.loads(target.read_text(encoding="utf-8"))
        doc = _read(split, args.name)
        # keep the existing stance and figure spans, add the entity decisions
        stance = {}
        by_cue = {(s["start"], s["end"]): s["label"] for s in old["spans"] if s["layer"] == "stance"}
        for i, a in enumerate(doc.attributions, 1):
            labels = {by_cue.get((c.start, c.end)) for c in a.cues} - {None}
            if len(labels) == 1:
                stance[str(i)] = labels.pop()
        figures = [{"text": doc.text[s["start"]:s["end"]], "near": s["start"]}
                   for s in old["spans"] if s["layer"] == "figure"]
        decisions = {**decisions, "stance": {**stance, **(decisions.get("stance") or {})},
                     "figures": figures, "notes": decisions.get("notes") or old.get("notes"),
                     "batch": decisions.get("batch") or old.get("batch")}
    overlay = build_overlay(split, args.name, decisions)
    _write_json(target, overlay)
    n_fig = sum(1 for s in overlay["spans"] if s["layer"] == "figure")
    n_st = sum(1 for s in overlay["spans"] if s["layer"] == "stance")
    n_ent = sum(1 for e in overlay["entities"] if e["entity"])
    print(f"wrote {target.relative_to(ROOT)}: {n_fig} figures, {n_st} stance cues, "
          f"{n_ent}/{len(overlay['entities'])} speakers with an entity")


# --- compare two annotations ------------------------------------------------------------

def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _pair(split: str, name: str):
    return _load(GOLD / split / f"{name}.json"), _load(SECOND / split / f"{name}.json")


def entity_key(text: str, span) -> str | None:
    """Entities are compared by their name, not by which occurrence was pointed at: case
    and a leading "the" are ignored."""
    if span is None:
        return None
    return re.sub(r"^the\s+", "", " ".join(text[span[0]:span[1]].split()).lower())


def compare(a: dict, b: dict, text: str) -> dict:
    sa = {(s["start"], s["end"]): s["label"] for s in a["spans"] if s["layer"] == "stance"}
    sb = {(s["start"], s["end"]): s["label"] for s in b["spans"] if s["layer"] == "stance"}
    shared = sorted(set(sa) & set(sb))
    fa = {(s["start"], s["end"]) for s in a["spans"] if s["layer"] == "figure"}
    fb = {(s["start"], s["end"]) for s in b["spans"] if s["layer"] == "figure"}
    ea = {tuple(e["speaker"]): entity_key(text, e["entity"]) for e in a.get("entities", [])}
    eb = {tuple(e["speaker"]): entity_key(text, e["entity"]) for e in b.get("entities", [])}
    shared_e = sorted(set(ea) & set(eb))
    return {"stance_pairs": [(sa[k], sb[k]) for k in shared], "stance_keys": shared,
            "fig_tp": len(fa & fb), "fig_a": len(fa), "fig_b": len(fb),
            "fig_only_a": sorted(fa - fb), "fig_only_b": sorted(fb - fa),
            "entity_same": sum(1 for k in shared_e if ea[k] == eb[k]), "entity_n": len(shared_e),
            "entity_diff": [(k, ea[k], eb[k]) for k in shared_e if ea[k] != eb[k]]}


def kappa(pairs) -> float:
    n = len(pairs)
    if not n:
        return float("nan")
    po = sum(1 for x, y in pairs if x == y) / n
    pe = sum((sum(1 for x, _ in pairs if x == c) / n) * (sum(1 for _, y in pairs if y == c) / n)
             for c in STANCES)
    return 1.0 if pe == 1 else (po - pe) / (1 - pe)


def cmd_diff(args) -> None:
    split = _split_of(args.name)
    text = _read(split, args.name).text
    a, b = _pair(split, args.name)
    c = compare(a, b, text)
    for k, (x, y) in zip(c["stance_keys"], c["stance_pairs"]):
        if x != y:
            print(f"stance  @{k[0]} {text[k[0]:k[1]]!r}: first {x}, second {y}")
    for s, e in c["fig_only_a"]:
        print(f"figure only in first:  @{s} {text[s:e]!r}")
    for s, e in c["fig_only_b"]:
        print(f"figure only in second: @{s} {text[s:e]!r}")
    for k, x, y in c["entity_diff"]:
        print(f"entity  speaker @{k[0]} {text[k[0]:k[1]]!r}: first {x!r}, second {y!r}")


def cmd_agreement(args) -> None:
    batches: dict[str, list] = {}
    primary = Path(args.primary_dir) if args.primary_dir else GOLD
    for split in ("train", "dev"):
        for p in sorted((SECOND / split).glob("*.json")):
            first = primary / split / p.name
            if not first.exists():
                continue
            a, b = _load(first), _load(p)
            text = _read(split, p.stem).text
            batches.setdefault(b.get("batch") or a.get("batch") or "?", []).append((p.stem, compare(a, b, text)))
    rows = ["| batch | articles | shared cues | stance kappa | figures (first/second/both) | figure exact F1 | speaker entity agreement | accepted |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for batch, items in sorted(batches.items()):
        pairs = [p for _, c in items for p in c["stance_pairs"]]
        tp = sum(c["fig_tp"] for _, c in items)
        na, nb = sum(c["fig_a"] for _, c in items), sum(c["fig_b"] for _, c in items)
        f1 = 2 * tp / (na + nb) if na + nb else 1.0
        en = sum(c["entity_n"] for _, c in items)
        es = sum(c["entity_same"] for _, c in items)
        k = kappa(pairs)
        ok = k >= 0.80 and f1 >= 0.85
        rows.append(f"| {batch} | {len(items)} | {len(pairs)} | {k:.3f} | {na}/{nb}/{tp} | {f1:.3f} | "
                    f"{es}/{en} = {es / en if en else float('nan'):.3f} | {'yes' if ok else 'no'} |")
    print("\n".join(rows))


# --- validate -------------------------------------------------------------------------

def cmd_validate(args) -> None:
    """The project's validator (`whosaid check-gold`) on the gold and the second annotations."""
    from whosaid.cli.check_gold import main as check_gold

    sys.exit(check_gold([str(GOLD), str(SECOND), "--polnear", str(_polnear_root())]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("next"); q.add_argument("--split", default="train"); q.add_argument("-n", type=int, default=5)
    q.add_argument("--skip", type=int, default=0); q.set_defaults(func=cmd_next)
    q = sub.add_parser("show"); q.add_argument("name"); q.add_argument("--full", action="store_true")
    q.add_argument("--numbers", action="store_true"); q.set_defaults(func=cmd_show)
    q = sub.add_parser("write"); q.add_argument("name"); q.add_argument("decisions")
    q.add_argument("--second", action="store_true"); q.add_argument("--entities-only", action="store_true")
    q.set_defaults(func=cmd_write)
    q = sub.add_parser("diff"); q.add_argument("name"); q.set_defaults(func=cmd_diff)
    q = sub.add_parser("agreement")
    q.add_argument("--primary-dir", help="the first annotations as they were before adjudication "
                   "(e.g. a checkout of data/polnear-gold at an earlier commit)")
    q.set_defaults(func=cmd_agreement)
    q = sub.add_parser("validate"); q.set_defaults(func=cmd_validate)
    args = p.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
