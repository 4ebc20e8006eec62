"""Shard files: `part-NNNNN.jsonl` (the lines `whosaid predict --format jsonl` writes)
or `part-NNNNN.parquet` (the same records as columns), each written atomically.

The Parquet columns follow the record classes (`whosaid.records.records`): one
column per field of `ArticleRecord`, nested lists and structs where the field's
type is made of strings, numbers, lists and record dataclasses, so every part has
the same schema whatever it holds; a field typed as a free-form `dict` (`metadata`,
`spans`) is a column of JSON text, listed in the file's metadata under
`whosaid.json_columns` (`read_parquet_records` parses them back).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path

OUTPUT_FORMATS = ("jsonl", "parquet")
JSON_COLUMNS_KEY = b"whosaid.json_columns"


def part_name(index: int, fmt: str) -> str:
    return f"part-{index:05d}.{fmt}"


def _arrow_type(tp):
    """The Arrow type of a record field's type, or None when it has a free-form part."""
    import pyarrow as pa

    simple = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}
    if tp in simple:
        return simple[tp]
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        return _arrow_type(rest[0]) if len(rest) == 1 else None
    if origin is list and len(args) == 1:
        inner = _arrow_type(args[0])
        return None if inner is None else pa.list_(inner)
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        fields = [(f.name, _arrow_type(hints[f.name])) for f in dataclasses.fields(tp)]
        return None if any(t is None for _, t in fields) else pa.struct(fields)
    return None


def _columns() -> list[tuple[str, object]]:
    """(field name, Arrow type or None for JSON text) of every `ArticleRecord` field."""
    from whosaid.records.records import ArticleRecord

    hints = typing.get_type_hints(ArticleRecord)
    return [(f.name, _arrow_type(hints[f.name])) for f in dataclasses.fields(ArticleRecord)]


def parquet_bytes(jsonl: bytes) -> bytes:
    """A Parquet file holding the records of JSONL bytes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    records = [json.loads(line) for line in jsonl.decode("utf-8").split("\n") if line]  # not splitlines: U+2028
    columns = _columns()
    if records:  # fields a record leaves out (the text, say) are left out of the file too
        columns = [(name, t) for name, t in columns if name in records[0]]
    json_columns = [name for name, t in columns if t is None]
    for record in records:
        for name in json_columns:
            record[name] = json.dumps(record.get(name), ensure_ascii=False, default=str)
    schema = pa.schema([(name, t if t is not None else pa.string()) for name, t in columns],
                       metadata={JSON_COLUMNS_KEY: ",".join(json_columns).encode()})
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pylist(records, schema=schema), sink)
    return sink.getvalue().to_pybytes()


def write_part(outdir: Path, index: int, fmt: str, jsonl: bytes) -> Path:
    from whosaid.files import write_bytes_atomic

    data = jsonl if fmt == "jsonl" else parquet_bytes(jsonl)
    return write_bytes_atomic(outdir / part_name(index, fmt), data)


def read_parquet_records(path: str | Path) -> list[dict]:
    """Records of a Parquet part as the dicts of the JSONL records (JSON columns parsed)."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    json_columns = [c for c in (table.schema.metadata or {}).get(JSON_COLUMNS_KEY, b"").decode().split(",") if c]
    rows = table.to_pylist()
    for row in rows:
        for name in json_columns:
            row[name] = json.loads(row[name])
    return rows
