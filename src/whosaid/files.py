"""Files the project reads and writes, each concern in one place.

* Atomic writes: a file a user relies on is either the old one or the complete new one.
* Output paths: the one check every command (and Python API) runs before writing a
  file a user named: never an input, never inside a run or model directory it reads,
  never an existing file without `overwrite`, and a place where a file can be created.
* Input files: regular files only (a FIFO or device would block or never end).
* JSON and JSON Lines: one parser for every reader of `.json`/`.jsonl` text (files and
  stdin); deep nesting and huge integers are errors of that text, not tracebacks.
* The PolNeAR corpus root: a flag, the config, `$WHOSAID_POLNEAR` or `../shared/polnear`.
* Model directories: the check that a path holds a saved model before loading it.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Callable, Iterable, Iterator

from whosaid.errors import AnnotationError, ModelLoadError, OutputError

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
        os.chmod(tmp, default_file_mode() if mode is None else mode)  # mkstemp creates 0600
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


def default_file_mode() -> int:
    """0666 less the umask: the mode a plain `open(path, "w")` gives a new file."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


# ------------------------------------------------------------------ output paths

def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)  # hard links and symlinks alike
    except OSError:
        return a.resolve() == b.resolve()


def check_output_path(path: str | Path, *, reads: Iterable[str | Path] = (), read_dirs: Iterable[str | Path] = (),
                      overwrite: bool = False, flag: str = "--output", overwrite_hint: str = "--overwrite") -> Path:
    """Refuse, before any work, an output `path` that

    * is (after symlinks, relative paths and hard links) one of the files in `reads`,
      or lies inside one of the directories in `read_dirs` (run and model directories
      the command reads);
    * is a directory, or exists while `overwrite` is false;
    * cannot be created (its directory is read-only, or is not a directory, or is /proc).

    Returns `path` as a Path; raises `OutputError` naming `flag` otherwise."""
    given = Path(path)
    target = given.resolve()
    for r in reads:
        r = Path(r)
        if target == r.resolve() or (given.exists() and r.exists() and _same_file(given, r)):
            raise OutputError(f"{flag} {path} is also an input ({r}); write the output elsewhere")
    for d in read_dirs:
        d = Path(d).resolve()
        if target == d or d in target.parents:
            raise OutputError(f"{flag} {path} is inside {d}, which this command reads; write the output elsewhere")
    if target.is_dir():
        raise OutputError(f"{flag} {path} is a directory; name a file")
    if (given.exists() or given.is_symlink()) and not overwrite:
        raise OutputError(f"{flag} {path} exists; pass {overwrite_hint} (or --force) to replace it")
    check_writable(given, flag)
    return given


def check_writable(path: str | Path, flag: str = "--output") -> None:
    """Raise `OutputError` unless a file can be created beside `path` (the nearest existing
    directory above it is probed with a temporary file, removed at once)."""
    parent = Path(path).resolve().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"{flag} {path}: {parent} is not a directory")
    try:
        fd, probe = tempfile.mkstemp(prefix=".whosaid-probe-", dir=parent)
    except OSError as exc:
        raise OutputError(f"{flag} {path}: cannot write in {parent}: {exc.strerror or exc}") from None
    os.close(fd)
    os.unlink(probe)


# ------------------------------------------------------------------ input files

def check_input_file(path: str | Path) -> Path:
    """`path` when it is a regular file; `AnnotationError` naming it otherwise (missing,
    a directory, a FIFO, a device, a socket: reading those blocks or never ends)."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise AnnotationError("no such file or directory", file=path) from None
    except OSError as exc:
        raise AnnotationError(f"cannot read file: {exc.strerror or exc}", file=path) from None
    if stat.S_ISDIR(mode):
        raise AnnotationError("is a directory, not a file", file=path)
    if not stat.S_ISREG(mode):
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
        raise AnnotationError(f"not a regular file ({kind}); save the data to a file first", file=path)
    return path


def read_input_bytes(path: str | Path) -> bytes:
    """The bytes of a regular input file (`check_input_file`), errors as `AnnotationError`."""
    path = check_input_file(path)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise AnnotationError(f"cannot read file: {exc.strerror or exc}", file=path) from None


def decode_utf8(data: bytes) -> str:
    """UTF-8 text with a leading byte-order mark dropped (offsets count after it);
    `UnicodeDecodeError` otherwise."""
    return data.decode("utf-8-sig")


def not_utf8_reason(exc: UnicodeDecodeError) -> str:
    return f"not UTF-8 text (undecodable byte at offset {exc.start})"


# ------------------------------------------------------------------ JSON and JSON Lines

class JsonError(ValueError):
    """Text that is not JSON Python can hold: a syntax error, nesting deeper than the
    parser's recursion limit, or an integer beyond Python's digit limit."""

    def __init__(self, message: str, lineno: int | None = None, colno: int | None = None):
        super().__init__(message)
        self.message, self.lineno, self.colno = message, lineno, colno


def parse_json(text: str):
    """`json.loads(text)`, every failure a `JsonError` with a one-line message."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise JsonError(exc.msg, exc.lineno, exc.colno) from None
    except RecursionError:
        raise JsonError("nested too deeply") from None
    except ValueError as exc:  # "Exceeds the limit (4300 digits) for integer string conversion"
        raise JsonError(str(exc).split(";")[0]) from None


def jsonl_lines(text: str, fail: Callable[[str], Exception] = ValueError) -> Iterator[tuple[int, object]]:
    """(line number, parsed value) of every non-empty line; at a line that is not
    JSON, raises `fail("line N: invalid JSON: ...")`."""
    for lineno, line in enumerate(text.split("\n"), 1):  # not splitlines: U+2028 may be inside a string
        if not line.strip():
            continue
        try:
            value = parse_json(line)
        except JsonError as exc:
            raise fail(f"line {lineno}: invalid JSON: {exc.message}") from None
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


#: Files a saved tokenizer consists of (one of them is enough).
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "spiece.model", "spm.model",
                   "sentencepiece.bpe.model", "tokenizer.model")


def check_model_dir(path: str | Path) -> Path:
    """`path` as a Path when it is a saved model directory (config.json and the
    tokenizer's files), else ModelLoadError in one line; nothing is loaded or written."""
    path = Path(path)
    if not path.is_dir():
        raise ModelLoadError(f"model directory not found: {path}")
    if not is_model_dir(path):
        raise ModelLoadError(f"{path} is not a model directory (no config.json)")
    if not any((path / name).is_file() for name in TOKENIZER_FILES):
        raise ModelLoadError(f"{path} has no tokenizer files ({', '.join(TOKENIZER_FILES[:3])}, ...); "
                             "save the tokenizer into the model directory (tokenizer.save_pretrained)")
    return path


# ------------------------------------------------------------------ the shipped model and caches

MODEL_ENV = "WHOSAID_MODEL"
#: The reference model in this checkout (`whosaid release` writes it).
SHIPPED_MODEL = Path(__file__).resolve().parents[2] / "models" / "whosaid-news"
CACHE_ENV = "WHOSAID_CACHE"


def default_model_dir() -> Path:
    """The model used when none is given: $WHOSAID_MODEL, else the shipped
    `models/whosaid-news` of this checkout."""
    if os.environ.get(MODEL_ENV):
        return check_model_dir(os.environ[MODEL_ENV])
    if not is_model_dir(SHIPPED_MODEL):
        raise ModelLoadError(f"no model given and the shipped model is not at {SHIPPED_MODEL} "
                             f"(install from a checkout of the repository, set ${MODEL_ENV} or pass --model DIR)")
    return SHIPPED_MODEL


def cache_dir() -> Path:
    """Files derived from models (ONNX exports): $WHOSAID_CACHE, else $XDG_CACHE_HOME/whosaid,
    else ~/.cache/whosaid. Never inside a model directory, which may be read-only or part of
    a checkout that must stay clean."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "whosaid"
