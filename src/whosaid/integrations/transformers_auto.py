"""Make transformers' auto classes and pipeline registry know whosaid, lazily.

After `import whosaid`, `AutoConfig.from_pretrained(DIR)` and
`AutoModel.from_pretrained(DIR)` load a saved whosaid model, and
`pipeline("attribution-extraction", model=DIR)` is a known task. `import whosaid`
must stay cheap (importing transformers' auto classes imports torch), so nothing is
registered then; `install()` only places a post-import hook:

- when `transformers.models.auto.configuration_auto` has been executed, a stand-in
  for `WhosaidConfig` is registered under the model type "whosaid" (public
  `AutoConfig.register`). The stand-in imports `whosaid.model.modeling` on its first
  use; that module registers the real `WhosaidConfig` and `WhosaidModel`
  (`AutoConfig.register`, `AutoModel.register`), replacing the stand-in. So
  `AutoModel.from_pretrained(DIR)`, which reads the config first, finds the model class.
- when `transformers.pipelines` has been executed, `whosaid.integrations.transformers_pipeline`
  is imported, which registers the pipeline (`PIPELINE_REGISTRY.register_pipeline`).

Modules already imported when `install()` runs are handled at once. A failing
registration is logged and never breaks the import of transformers.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading

log = logging.getLogger(__name__)

MODEL_TYPE = "whosaid"
_CONFIG_AUTO = "transformers.models.auto.configuration_auto"
_PIPELINES = "transformers.pipelines"
_MODELING = "whosaid.model.modeling"


class _LoadOnUse(type):
    """Metaclass of a stand-in class: calling it, or reading any attribute it does not
    define itself, imports the real class (`cls._real_module`.`cls.__name__`)."""

    def _real(cls):
        return getattr(importlib.import_module(cls._real_module), cls.__name__)

    def __getattr__(cls, name):
        if name.startswith("__") or name == "_real_module":
            raise AttributeError(name)
        return getattr(cls._real(), name)

    def __call__(cls, *args, **kwargs):
        return cls._real()(*args, **kwargs)

    def __repr__(cls):
        return f"<stand-in for class '{cls._real_module}.{cls.__name__}', loaded on use>"


class ConfigStandIn(metaclass=_LoadOnUse):
    """Stand-in for `whosaid.model.modeling.WhosaidConfig` in `AutoConfig`'s mapping
    until that module is imported (which replaces it). It carries the real class's
    names: transformers reads `__module__` (local code or its own) and `__name__`."""

    _real_module = _MODELING
    model_type = MODEL_TYPE


ConfigStandIn.__name__ = ConfigStandIn.__qualname__ = "WhosaidConfig"
ConfigStandIn.__module__ = _MODELING


def _register_config(module) -> None:
    if MODEL_TYPE not in module.CONFIG_MAPPING:
        module.AutoConfig.register(MODEL_TYPE, ConfigStandIn)


def _register_pipeline(module) -> None:
    importlib.import_module("whosaid.integrations.transformers_pipeline")  # registers on import


_HOOKS = {_CONFIG_AUTO: _register_config, _PIPELINES: _register_pipeline}
_pending: dict[str, object] = {}
_lock = threading.Lock()


def _run(name: str, hook, module) -> None:
    try:
        hook(module)
    except Exception as exc:  # never break the user's import of transformers
        log.warning("whosaid: registration with %s failed: %s: %s", name, type(exc).__name__, exc)


class _HookedLoader:
    """The module's own loader (everything delegated to it), then the hook once the
    module has been executed."""

    def __init__(self, loader, name: str, hook):
        self._loader, self._name, self._hook = loader, name, hook

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        _run(self._name, self._hook, module)

    def __getattr__(self, name):  # get_source, get_code, is_package, ... of the real loader
        return getattr(self._loader, name)


class _PostImportFinder:
    """Finds nothing itself: wraps the loader that the other finders return for a
    hooked module name, once, then leaves `sys.meta_path` when no hook is left."""

    def find_spec(self, fullname, path, target=None):
        if fullname not in _pending:
            return None
        with _lock:
            hook = _pending.pop(fullname, None)
            if not _pending and self in sys.meta_path:
                sys.meta_path.remove(self)
        if hook is None:
            return None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _HookedLoader(spec.loader, fullname, hook)
                return spec
        return None


_finder = _PostImportFinder()


def install() -> None:
    """Register now with what transformers has already imported; hook the rest. Idempotent."""
    with _lock:
        todo = []
        for name, hook in _HOOKS.items():
            module = sys.modules.get(name)
            if module is not None:
                todo.append((name, hook, module))
            elif name not in _pending:
                _pending[name] = hook
        if _pending and _finder not in sys.meta_path:
            sys.meta_path.insert(0, _finder)
    for name, hook, module in todo:
        _run(name, hook, module)
