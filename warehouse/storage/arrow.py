"""Arrow tables from Python rows and back, without importing pandas (which pyarrow pulls in,
~1–1.5 s, for its generic conversions): used by the raw archive, the parsed store and the stages."""
from __future__ import annotations

import sys
from array import array
from datetime import datetime, timedelta, timezone
from itertools import accumulate
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

# pyarrow imports pandas (~1–1.5 s) the first time `pa.array` (or Table.from_pylist,
# pa.table on lists, Schema.empty_table, pq.read_table) runs, whatever the values: it
# asks pandas whether the input is a Series. The builders below make Arrow arrays from
# their buffers instead, for the column types of warehouse.storage.schemas; anything they don't
# handle exactly (other types, unexpected Python types, overflow) goes to `pa.array`,
# so the result is the same either way.
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_US = timedelta(microseconds=1)
_INT_CODES = {pa.int8(): "b", pa.int16(): "h", pa.int32(): "i", pa.int64(): "q"}
_INT_CODES = {t: c for t, c in _INT_CODES.items() if array(c).itemsize == t.bit_width // 8}
_MAX_EXACT_FLOAT_INT = 2 ** 53


def _bitmap(flags) -> pa.Buffer:
    """A little-endian validity (or boolean) bitmap of the truth of `flags`."""
    import numpy as np  # pyarrow has imported it already

    bits = np.fromiter(flags, dtype=bool)
    return pa.py_buffer(np.packbits(bits, bitorder="little").tobytes())


def _validity(values: list) -> tuple[pa.Buffer | None, int]:
    nulls = values.count(None)
    return (_bitmap(v is not None for v in values) if nulls else None), nulls


def _only(values: list, *types: type) -> bool:
    """Every value is None or exactly of one of `types` (no subclasses: bool is not an int here)."""
    found = set(map(type, values))
    found.discard(type(None))
    return found <= set(types)


def _fast_array(values: list, typ: pa.DataType) -> pa.Array | None:
    """The Arrow array `pa.array(values, typ)` would give, or None when not sure."""
    n = len(values)
    if typ == pa.string():
        if not _only(values, str):
            return None
        validity, nulls = _validity(values)
        try:
            encoded = [b"" if v is None else v.encode() for v in values] if nulls else list(map(str.encode, values))
        except UnicodeEncodeError:  # lone surrogates: pa.array has its own error
            return None
        offsets = array("i", [0])
        offsets.extend(accumulate(map(len, encoded)))  # OverflowError beyond 2 GiB: falls back
        return pa.Array.from_buffers(typ, n, [validity, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))], nulls)
    if typ in _INT_CODES:
        if not _only(values, int):
            return None
        validity, nulls = _validity(values)
        data = array(_INT_CODES[typ], [0 if v is None else v for v in values] if nulls else values)  # OverflowError: falls back
        return pa.Array.from_buffers(typ, n, [validity, pa.py_buffer(data)], nulls)
    if typ == pa.float64():
        if not _only(values, float, int):
            return None
        if not all(-_MAX_EXACT_FLOAT_INT <= v <= _MAX_EXACT_FLOAT_INT for v in values if type(v) is int):
            return None
        validity, nulls = _validity(values)
        data = array("d", [0.0 if v is None else v for v in values] if nulls else values)
        return pa.Array.from_buffers(typ, n, [validity, pa.py_buffer(data)], nulls)
    if typ == pa.bool_():
        if not _only(values, bool):
            return None
        validity, nulls = _validity(values)
        return pa.Array.from_buffers(typ, n, [validity, _bitmap(v is True for v in values)], nulls)
    if pa.types.is_timestamp(typ) and typ.unit == "us" and typ.tz is not None:
        # aware datetimes only (pa.array reads naive ones in its own way): microseconds since the epoch, in UTC
        if not _only(values, datetime) or not all(v.utcoffset() is not None for v in values if v is not None):
            return None
        validity, nulls = _validity(values)
        data = array("q", [0 if v is None else (v - _EPOCH) // _US for v in values])
        return pa.Array.from_buffers(typ, n, [validity, pa.py_buffer(data)], nulls)
    return None


# Above this many values per table, importing pandas once costs less than building in Python
# (pa.array converts ~5x faster): the parse stage's batches (warehouse.storage.parsed.BATCH_ROWS, 50 000
# rows of its larger datasets) take pa.array.
FAST_PATH_MAX_VALUES = 500_000


def to_arrow_array(values: list, typ: pa.DataType) -> pa.Array:
    """`pa.array(values, typ)` without importing pandas for the common column types."""
    if "pandas" not in sys.modules:
        try:
            arr = _fast_array(values, typ)
        except (OverflowError, TypeError, ValueError):
            arr = None
        if arr is not None:
            return arr
    return pa.array(values, typ)


def rows_to_table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """Rows to a table column by column (Table.from_pylist pulls in pandas, ~1 s at start-up;
    small tables, such as a crawl's manifest, are built without pa.array, which does too)."""
    if "pandas" in sys.modules or len(rows) * len(schema) > FAST_PATH_MAX_VALUES:
        return pa.table({f.name: pa.array([r.get(f.name) for r in rows], f.type) for f in schema}, schema=schema)
    return pa.Table.from_arrays([to_arrow_array([r.get(f.name) for r in rows], f.type) for f in schema], schema=schema)


def empty_table(schema: pa.Schema) -> pa.Table:
    """`schema.empty_table()` without importing pandas."""
    return pa.Table.from_arrays([pa.nulls(0, f.type) for f in schema], schema=schema)


def read_parquet(path: str | Path, schema: pa.Schema) -> pa.Table:
    """One Parquet file as `schema` (columns it lacks are null, extra ones dropped, types
    cast), like `pq.read_table(path, schema=schema)` but without importing pandas."""
    table = pq.ParquetFile(path).read()
    columns = []
    for f in schema:
        i = table.schema.get_field_index(f.name)
        column = table.column(i) if i >= 0 else pa.nulls(table.num_rows, f.type)
        columns.append(column if column.type == f.type else column.cast(f.type))
    return pa.Table.from_arrays(columns, schema=schema)


def table_rows(table: pa.Table) -> list[dict]:
    """`table.to_pylist()` without importing pandas, which pyarrow does (over a second) to
    convert tz-aware timestamps: UTC ones go through naive values and get their zone back."""
    utc = [i for i, f in enumerate(table.schema)
           if pa.types.is_timestamp(f.type) and f.type.tz in ("UTC", "+00:00")]
    for i in utc:
        table = table.set_column(i, table.schema[i].name, table.column(i).cast(pa.timestamp(table.schema[i].type.unit)))
    rows = table.to_pylist()
    names = [table.schema[i].name for i in utc]
    for row in rows:
        for name in names:
            if row[name] is not None:
                row[name] = row[name].replace(tzinfo=timezone.utc)
    return rows
