"""The documents a config's data sources ask for: read, merge gold overlays,
add silver layers, subsample. Shared by training, evaluation and the quality report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from whosaid.config import Config, SourceSection
from whosaid.documents import Document
from whosaid.schema import Schema


@dataclass
class LoadedSource:
    name: str
    documents: list[Document]
    weight: float = 1.0
    info: dict = field(default_factory=dict)


def source_name(src: SourceSection) -> str:
    return f"polnear:{src.polnear}" if src.polnear else str(src.path)


def load_configured_source(src: SourceSection, cfg: Config, schema: Schema,
                           polnear_override: str | None = None) -> LoadedSource:
    from whosaid.readers.sources import load_source

    if src.polnear:
        docs = load_source(cfg.polnear_root(polnear_override) / src.polnear, schema)
    else:
        docs = load_source(src.path, schema)
    if src.sample is not None:
        docs = sample_documents(docs, src.sample)
    docs = sorted(docs, key=lambda d: d.id) if src.limit is not None else docs
    if src.limit is not None:
        docs = docs[:src.limit]
    overlay_count = 0
    if src.polnear and src.overlays and Path(src.overlays, src.polnear).is_dir():
        from whosaid.readers.overlays import apply_overlays_counted

        docs, overlay_count = apply_overlays_counted(docs, Path(src.overlays, src.polnear))
    if src.silver:
        from whosaid.silver import add_silver_layers

        docs = [add_silver_layers(d, set(src.silver)) for d in docs]
    if src.require_gold:
        docs = [d for d in docs if all(d.provenance.get(l) == "gold" for l in src.require_gold)]
    return LoadedSource(source_name(src), docs, src.weight, describe(docs) | {"gold_overlays": overlay_count})


def sample_documents(docs: list[Document], fraction: float) -> list[Document]:
    """A fixed fraction of `docs` (config `sample`), in their order: per publisher
    (metadata "publisher", else the id before its first "_"), the round(fraction * n) (at least one)
    documents whose ids have the lowest SHA-256. Deterministic (no seed, no file order)
    and balanced: a sorted-by-name prefix of PolNeAR would hold one or two publishers."""
    import hashlib

    groups: dict[str, list[Document]] = {}
    for d in docs:
        publisher = d.metadata.get("publisher") or d.id.split("_", 1)[0]
        groups.setdefault(str(publisher), []).append(d)
    kept: set[int] = set()
    for members in groups.values():
        ranked = sorted(members, key=lambda d: (hashlib.sha256(d.id.encode("utf-8")).hexdigest(), d.id))
        kept.update(id(d) for d in ranked[:max(1, round(fraction * len(members)))])
    return [d for d in docs if id(d) in kept]


def describe(docs: list[Document]) -> dict:
    """Sizes and per-layer provenance of a document set (for metrics and model cards)."""
    provenance: dict[str, dict[str, int]] = {}
    for d in docs:
        for layer in d.layers:
            kind = d.provenance.get(layer, "gold")
            provenance.setdefault(layer, {}).setdefault(kind, 0)
            provenance[layer][kind] += 1
    return {
        "documents": len(docs),
        "words": sum(len(d.text.split()) for d in docs),
        "attributions": sum(len(d.attributions) for d in docs),
        "spans": sum(len(d.spans) for d in docs),
        "layers": {l: dict(sorted(v.items())) for l, v in sorted(provenance.items())},
    }
