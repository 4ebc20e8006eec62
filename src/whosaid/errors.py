"""The project's own exceptions: every bad input surfaces as one of these, with
the file, task and region that caused it, so a user can find and fix it."""

from __future__ import annotations


class WhosaidError(Exception):
    """Base class for every error the project raises on purpose."""


class AnnotationError(WhosaidError, ValueError):
    """Invalid annotated data; names the file, task and region where known."""

    def __init__(self, message: str, *, file: str | None = None, task: object = None,
                 region: object = None):
        self.file = str(file) if file is not None else None
        self.task = task
        self.region = region
        self.reason = message
        where = []
        if self.file is not None:
            where.append(self.file)
        if task is not None:
            where.append(f"task {task}")
        if region is not None:
            where.append(f"region {region}")
        super().__init__(f"{': '.join(where)}: {message}" if where else message)


class ConfigError(WhosaidError, ValueError):
    """Invalid training/evaluation configuration, raised before any work starts."""


class ModelLoadError(WhosaidError):
    """A model directory that is missing, corrupt or incompatible."""


class OutputError(WhosaidError):
    """An output path the command refuses (it is an input, it exists, it cannot be
    written), raised before any work starts."""
