"""Files the project reads and writes, each concern in one place.

* Atomic writes: a file a user relies on is either the old one or the complete new one.
* JSON Lines: one parser for every reader of `.jsonl` text (files and stdin).
* The PolNeAR corpus root: a flag, the config, `$WHOSAID_POLNEAR` or `../shared/polnear`.
* Model directories: the check that a path holds a saved model before loading it.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Callable, Iterator

from whosaid.errors import AnnotationError, ModelLoadError

POLNEAR_ENV = "WHOSAID_POLNEAR"
DEFAULT_POLNEAR = Path("..") / "shared" / "polnear"


# ------------------------------------------------------------------ atomic writes

def write_atomic(path: str | Path, write: Callable[[str], None], mode: int | None = None) -> Path:
    """Let `write(temp_path)` fill a temporary sibling of `path`, then rename it into place.

    The temporary file gets the usual file mode (0666 less the umask) unless `mode`
    is given; on any failure it is removed and `path` is left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask  # mkstemp creates 0600
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_bytes_atomic(path: str | Path, data: bytes, mode: int | None = None) -> Path:
    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    return write_atomic(path, write, mode)


def write_text_atomic(path: str | Path, text: str, mode: int | None = None) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"), mode)


def write_json_atomic(path: str | Path, obj, indent: int = 2) -> Path:
    return write_text_atomic(path, json.dumps(obj, indent=indent, ensure_ascii=False) + "\n")


# ------------------------------------------------------------------ JSON Lines

def jsonl_lines(text: str, fail: Callable[[str], Exception] = ValueError) -> Iterator[tuple[int, object]]:
    """(line number, parsed value) of every non-empty line; at a line that is not
    JSON, raises `fail("line N: invalid JSON: ...")`."""
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise fail(f"line {lineno}: invalid JSON: {exc}") from None
        yield lineno, value


# ------------------------------------------------------------------ PolNeAR root

def polnear_root_candidate(path=None) -> tuple[Path, str]:
    """The PolNeAR root a command should use, and where that choice came from:
    `path` (a flag or config value), else $WHOSAID_POLNEAR, else ../shared/polnear."""
    if path is not None:
        return Path(path), "the command-line flag"
    if os.environ.get(POLNEAR_ENV):
        return Path(os.environ[POLNEAR_ENV]), f"${POLNEAR_ENV}"
    return DEFAULT_POLNEAR, "the default, relative to the working directory"


def resolve_polnear_root(path=None) -> Path:
    """PolNeAR root: the flag value, else $WHOSAID_POLNEAR, else ../shared/polnear (from the CWD)."""
    root, origin = polnear_root_candidate(path)
    if not root.is_dir():
        raise AnnotationError(
            f"PolNeAR corpus not found at {root} ({origin}); pass its path with --polnear PATH "
            f"or set {POLNEAR_ENV}=PATH (the directory holding train/ and dev/)", file=root)
    return root


# ------------------------------------------------------------------ model directories

def is_model_dir(path: str | Path) -> bool:
    return (Path(path) / "config.json").is_file()


def check_model_dir(path: str | Path) -> Path:
    """`path` as a Path when it is a saved model directory (has config.json), else ModelLoadError."""
    path = Path(path)
    if not path.is_dir():
        raise ModelLoadError(f"model directory not found: {path}")
    if not is_model_dir(path):
        raise ModelLoadError(f"{path} is not a model directory (no config.json)")
    return path
