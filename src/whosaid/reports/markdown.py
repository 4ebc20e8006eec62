"""Markdown building blocks shared by the run comparison and the model card."""

from __future__ import annotations

import json
from typing import Iterable

#: Averages listed after the labels in per-label tables.
AVERAGES = ("micro", "macro")


def union(keys: Iterable[Iterable[str]]) -> list[str]:
    out: list[str] = []
    for ks in keys:
        for k in ks:
            if k not in out:
                out.append(k)
    return out


def dig(d: dict, *keys):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def fmt(value) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "–"


def cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def describe_data(data) -> str:
    """One line naming the evaluation data of a metrics["data"] entry."""
    if data is None:
        return "–"
    if isinstance(data, str):
        return data
    if isinstance(data, list):
        return ", ".join(describe_data(d) for d in data) or "–"
    if isinstance(data, dict):
        if "dev" in data and isinstance(data["dev"], list):  # written by training
            return describe_data(data["dev"])
        name = data.get("name") or data.get("source") or data.get("path")
        if name is not None:
            extra = [str(data["split"])] if data.get("split") else []
            if "documents" in data:
                extra.append(f"{data['documents']} docs")
            return f"{name} ({', '.join(extra)})" if extra else str(name)
    return json.dumps(data, sort_keys=True)
