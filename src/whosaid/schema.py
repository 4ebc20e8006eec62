"""Layers and labels, read from the Label Studio labeling config.

The labeling config (`data/label-config.xml`) is the single place where layers
and labels are defined: adding a label or a layer means editing that file only.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from whosaid.errors import AnnotationError

#: The layers the codebook gives meaning to (attribution assembly, figures, stance).
ATTRIBUTION, FIGURE, STANCE = "attribution", "figure", "stance"
SPEAKER, CUE, CONTENT = "SPEAKER", "CUE", "CONTENT"


def default_label_config_path() -> Path:
    """`data/label-config.xml` of this checkout (editable install), else of the working directory."""
    repo_copy = Path(__file__).resolve().parents[2] / "data" / "label-config.xml"
    return repo_copy if repo_copy.is_file() else Path("data") / "label-config.xml"


@dataclass(frozen=True)
class Schema:
    """Ordered layers, each with its ordered labels, plus the text field name."""

    layers: dict[str, tuple[str, ...]]
    to_name: str = "text"
    relation_labels: tuple[str, ...] = field(default=())

    @classmethod
    def from_label_config(cls, path: str | Path | None = None, xml: str | None = None) -> "Schema":
        """Parse `<Labels name=...><Label value=.../></Labels>` elements."""
        source = str(path) if path is not None else "<label config>"
        if xml is None:
            path = Path(path) if path is not None else default_label_config_path()
            source = str(path)
            try:
                xml = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise AnnotationError(f"cannot read labeling config: {exc}", file=source) from exc
        try:
            root = ET.fromstring(xml)
        except ET.ParseError as exc:
            raise AnnotationError(f"labeling config is not valid XML: {exc}", file=source) from exc
        layers: dict[str, tuple[str, ...]] = {}
        to_name = None
        for el in root.iter("Labels"):
            name = el.get("name")
            if not name:
                raise AnnotationError("<Labels> without a name", file=source)
            labels = tuple(l.get("value") for l in el.iter("Label") if l.get("value"))
            if not labels:
                raise AnnotationError(f"layer {name!r} has no labels", file=source)
            layers[name] = labels
            to_name = to_name or el.get("toName")
        if not layers:
            raise AnnotationError("labeling config defines no <Labels> layer", file=source)
        rel = tuple(r.get("value") for r in root.iter("Relation") if r.get("value"))
        return cls(layers=layers, to_name=to_name or "text", relation_labels=rel)

    @classmethod
    def default(cls) -> "Schema":
        return cls.from_label_config(default_label_config_path())

    @classmethod
    def from_dict(cls, d: dict) -> "Schema":
        return cls(layers={k: tuple(v) for k, v in d["layers"].items()},
                   to_name=d.get("to_name", "text"),
                   relation_labels=tuple(d.get("relation_labels", ())))

    def to_dict(self) -> dict:
        return {"layers": {k: list(v) for k, v in self.layers.items()},
                "to_name": self.to_name, "relation_labels": list(self.relation_labels)}

    @property
    def layer_names(self) -> tuple[str, ...]:
        return tuple(self.layers)

    def bio_labels(self, layer: str) -> list[str]:
        """IOB2 tag set of a layer: O, then B-/I- for each label in config order."""
        tags = ["O"]
        for label in self.layers[layer]:
            tags += [f"B-{label}", f"I-{label}"]
        return tags

    def label2id(self, layer: str) -> dict[str, int]:
        return {t: i for i, t in enumerate(self.bio_labels(layer))}

    def check(self, layer: str, label: str, **where) -> None:
        """Raise AnnotationError for an unknown layer or label."""
        if layer not in self.layers:
            raise AnnotationError(f"unknown layer {layer!r} (known: {', '.join(self.layers)})", **where)
        if label not in self.layers[layer]:
            raise AnnotationError(
                f"unknown label {label!r} in layer {layer!r} (known: {', '.join(self.layers[layer])})",
                **where)

    def missing_from(self, other: "Schema") -> list[str]:
        """Layers/labels of this schema that `other` lacks (e.g. a Label Studio project)."""
        missing = []
        for layer, labels in self.layers.items():
            if layer not in other.layers:
                missing.append(f"layer {layer!r}")
                continue
            missing += [f"label {layer}/{l}" for l in labels if l not in other.layers[layer]]
        return missing
