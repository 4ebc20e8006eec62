"""whosaid: who said what, with which stance, citing which figures.

Data flows one way: readers -> documents -> windows -> model -> predicted spans ->
attribution records -> metrics and reports (one subpackage each; `cli` holds the
commands). Importing `whosaid` does not import torch; `whosaid.Predictor` loads it
on first use. It does let transformers' `AutoConfig` / `AutoModel` and `pipeline`
know whosaid models, by a hook that registers them when transformers loads those
(`whosaid.integrations.transformers_auto`).
"""

from whosaid.documents import Attribution, Document, Span
from whosaid.errors import AnnotationError, ConfigError, ModelLoadError, WhosaidError
from whosaid.schema import Schema

__all__ = [
    "Attribution",
    "AnnotationError",
    "ConfigError",
    "Document",
    "ModelLoadError",
    "Predictor",
    "Schema",
    "Span",
    "WhosaidError",
]
__version__ = "0.1.0"

from whosaid.integrations.transformers_auto import install as _install_transformers_hooks  # noqa: E402

_install_transformers_hooks()


def __getattr__(name: str):
    if name == "Predictor":  # lazy: torch and transformers load only when it is used
        from whosaid.inference.predictor import Predictor

        return Predictor
    raise AttributeError(f"module 'whosaid' has no attribute {name!r}")
