"""One way to name any data source on a command line: the path says what it is.

* `export.json`                -> Label Studio export (whosaid.readers.labelstudio_json)
* `ROOT/dev` (has text/ and attributions/) -> one PolNeAR split
* `ROOT` (has train/ or dev/)  -> PolNeAR, with `split` or the form `ROOT:dev`
* `polnear` / `polnear:dev`    -> PolNeAR at `whosaid.files.resolve_polnear_root()` (when no such path exists)
* `.txt`, `.jsonl`, directory of .txt -> unannotated articles (whosaid.readers.seeds)
"""

from __future__ import annotations

from pathlib import Path

from whosaid.documents import Document
from whosaid.errors import AnnotationError
from whosaid.files import check_input_file, resolve_polnear_root
from whosaid.schema import Schema


def _split_spec(spec) -> tuple[Path, str | None]:
    """`PATH:split` -> (PATH, split) unless PATH itself exists with the colon."""
    text = str(spec)
    if Path(text).exists() or ":" not in text:
        return Path(text), None
    path, _, split = text.rpartition(":")
    if not split or "/" in split or "\\" in split:
        return Path(text), None
    return Path(path), split


def _is_split_dir(path: Path) -> bool:
    return (path / "text").is_dir() and (path / "attributions").is_dir()


def _is_polnear_root(path: Path) -> bool:
    return (path / "train").is_dir() or (path / "dev").is_dir()


def source_path(spec, polnear_root=None) -> Path:
    """The file or directory a source spec (`PATH`, `PATH:split`, `polnear:dev`) reads
    (not checked; for the output checks of the commands that read it)."""
    path, _ = _split_spec(spec)
    if str(path) == "polnear" and not path.exists():
        from whosaid.files import polnear_root_candidate

        path = polnear_root_candidate(polnear_root)[0]
    return path


def load_source_with_report(spec, schema: Schema | None = None, *, split: str | None = None,
                            polnear_root=None):
    """Documents of one source, and the PolnearReport when it is PolNeAR (else None)."""
    path, spec_split = _split_spec(spec)
    if spec_split and split and spec_split != split:
        raise AnnotationError(f"split given twice: {spec_split!r} in the source, {split!r} as option",
                              file=path)
    split = spec_split or split
    if not path.exists() and str(path) == "polnear":
        path = resolve_polnear_root(polnear_root)
    if not path.exists():
        raise AnnotationError("no such file or directory", file=path)
    if not path.is_dir():
        check_input_file(path)  # a FIFO or device would block the reader

    if path.is_file() and path.suffix == ".json":
        from whosaid.readers.labelstudio_json import read_export  # lazy: written by another module, heavier

        if split:
            raise AnnotationError("a split applies to PolNeAR only", file=path)
        return read_export(path, schema or Schema.default()), None
    if path.is_dir() and _is_split_dir(path):
        if split and split != path.name:
            raise AnnotationError(f"split {split!r} given for the split directory {path.name!r}",
                                  file=path)
        from whosaid.readers.polnear import read_polnear_with_report

        return read_polnear_with_report(path.parent, path.name, schema)
    if path.is_dir() and _is_polnear_root(path):
        if not split:
            raise AnnotationError("PolNeAR needs a split: add --split dev or write PATH:dev", file=path)
        from whosaid.readers.polnear import read_polnear_with_report

        return read_polnear_with_report(path, split, schema)
    if split:
        raise AnnotationError("a split applies to PolNeAR only", file=path)
    if path.is_dir() or path.suffix in (".txt", ".jsonl"):
        from whosaid.readers.seeds import read_text_inputs

        return read_text_inputs([path]), None
    raise AnnotationError("unknown data source: expected a Label Studio .json export, a PolNeAR "
                          "directory, .txt, .jsonl or a directory of .txt", file=path)


def load_source(spec, schema: Schema | None = None, *, split: str | None = None,
                polnear_root=None) -> list[Document]:
    """Documents of one source named as in the module docstring."""
    return load_source_with_report(spec, schema, split=split, polnear_root=polnear_root)[0]
