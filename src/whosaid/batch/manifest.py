"""`OUTDIR/_manifest.json`: what a batch job is (model, inputs, output settings) and
how far it got (shards done, their counts and failed records, the runs so far).

It is rewritten atomically after every finished shard, *after* the shard's file,
so a shard listed as done always has its complete file. `in_progress` lists the
shards handed to workers and not yet written: after an interruption those are the
ones the next run recomputes (recorded in that run's `recomputed`).
"""

from __future__ import annotations

import json
from pathlib import Path

from whosaid.errors import WhosaidError

MANIFEST = "_manifest.json"
ERRORS = "errors.jsonl"
VERSION = 1


class Manifest:
    def __init__(self, path: Path, data: dict):
        self.path = path
        self.data = data

    # -------------------------------------------------------- load / create

    @classmethod
    def load(cls, outdir: Path) -> "Manifest | None":
        path = outdir / MANIFEST
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise WhosaidError(f"{path} is unreadable ({exc}); use a new --output directory") from None
        if not isinstance(data, dict) or data.get("whosaid_batch") != VERSION:
            raise WhosaidError(f"{path} is not a whosaid batch manifest; use a new --output directory")
        return cls(path, data)

    @classmethod
    def create(cls, outdir: Path, identity: dict) -> "Manifest":
        data = {"whosaid_batch": VERSION, **identity, "complete": False, "shard_count": None,
                "totals": {"shards": 0, "articles": 0, "errors": 0, "words": 0},
                "shards": {}, "in_progress": [], "runs": []}
        return cls(outdir / MANIFEST, data)

    def mismatch(self, identity: dict) -> str | None:
        """Why this manifest belongs to another job than `identity`, or None."""
        old, new = self.data, identity
        where = self.path.parent
        hint = "use a new --output directory (or the original model and inputs)"
        om, nm = old.get("model", {}), new["model"]
        if om.get("sha256") != nm["sha256"]:
            return (f"{where} holds output of another model ({om.get('version')}, weights sha256 "
                    f"{str(om.get('sha256'))[:12]}), not {nm['version']} ({nm['sha256'][:12]}): {hint}")
        for key in ("backend", "quantize", "stride"):
            if om.get(key) != nm[key]:
                return (f"{where} was made with --{key} {om.get(key)}, this run asks for --{key} {nm[key]}: {hint}")
        oi, ni = old.get("inputs", {}), new["inputs"]
        if oi.get("fingerprint") != ni["fingerprint"]:
            return (f"{where} holds output of a different input list ({oi.get('files')} file(s): "
                    f"{' '.join(oi.get('specs', []))[:200]}), not this one ({ni['files']} file(s)): {hint}")
        for key, flag in (("format", "--format"), ("shard_size", "--shard-size"), ("max_chars", "--max-chars")):
            if old.get(key) != new[key]:
                return f"{where} was made with {flag} {old.get(key)}, this run asks for {flag} {new[key]}: {hint}"
        return None

    # -------------------------------------------------------- state

    @property
    def shards(self) -> dict:
        return self.data["shards"]

    def is_done(self, index: int) -> bool:
        return str(index) in self.shards

    def mark_done(self, index: int, entry: dict) -> None:
        self.shards[str(index)] = entry
        totals = self.data["totals"]
        totals["shards"] = len(self.shards)
        for key in ("articles", "errors", "words"):
            totals[key] = sum(s[key] for s in self.shards.values())

    def errors(self) -> list[dict]:
        """Failed records of all done shards, in shard order."""
        out = []
        for index in sorted(self.shards, key=int):
            out += [{**e, "shard": int(index)} for e in self.shards[index].get("failed", [])]
        return out

    def save(self) -> None:
        from whosaid.files import write_json_atomic

        write_json_atomic(self.path, self.data)

    def write_errors(self) -> Path | None:
        """`errors.jsonl` from the done shards (atomically); None when there are none."""
        from whosaid.files import write_text_atomic

        errors = self.errors()
        path = self.path.parent / ERRORS
        if not errors and not path.exists():
            return None
        write_text_atomic(path, "".join(json.dumps(e, ensure_ascii=False, default=str) + "\n" for e in errors))
        return path
