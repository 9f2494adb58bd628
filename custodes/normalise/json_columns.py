"""Generic JSON lines read a whole group at a time with Arrow's JSON reader.

The per-record path (`JsonParser.parse`) costs a few microseconds of Python per record; Arrow
reads the same objects in C. The result must be exactly what the per-record path gives, so this
path only takes groups it can read identically (flat or nested objects of strings, integers and
booleans, times as ISO 8601 text or integer epochs) and returns None for anything else, which
then goes record by record: lists, floats, mixed types, duplicate names, odd escapes.
"""

from __future__ import annotations

import io
import re
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from custodes.events import CORE_COLUMNS, TIMESTAMP
from custodes.normalise.json import INT_BITS, SETTABLE, TIME_KEYS

CORE_TYPES = dict(CORE_COLUMNS)
#: Lone UTF-16 surrogates: orjson refuses them, Arrow might not; let the per-record path decide.
SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
MILLIS_FROM = 10**11  # as `read_time`: larger epoch numbers are milliseconds
FIRST_MICROS, END_MICROS = -62_135_596_800_000_000, 253_402_300_800_000_000  # years 1 to 9999
BLOCK_BYTES = 1 << 20  # Arrow parses blocks in parallel; 1 MiB measured best on 2 cores
#: Read as text up front (the common case: ECS `@timestamp` as ISO 8601 text).
TEXT_TIMESTAMP = pa.schema([("@timestamp", pa.string())])
SCALARS = (pa.types.is_string, pa.types.is_int64, pa.types.is_boolean)


class Unreadable(Exception):
    """This group needs the per-record path."""


def markers_of(flavours: Sequence[Any]) -> list[bytes]:
    """The marker bytes of the flavours (see `unmarked`)."""
    return [marker for flavour in flavours for marker in getattr(flavour, "markers", ())]


def has_marker(datas: Sequence[bytes], flavours: Sequence[Any]) -> bool:
    """Whether any of these records holds one of the flavours' markers."""
    markers = markers_of(flavours)
    return any(marker in data for data in datas for marker in markers)


def unmarked(datas: Sequence[bytes], flavours: Sequence[Any]) -> list[int]:
    """Indices of the records that hold none of the flavours' `markers` (one regex scan).

    A flavour without markers cannot be told apart from bytes: then every record is kept and
    `read_json_group` checks the keys of the whole group instead.
    """
    markers = markers_of(flavours)
    if not markers:
        return list(range(len(datas)))
    pattern = re.compile(b"|".join(re.escape(marker) for marker in markers))
    joined = b"\n".join(datas)
    starts = list(accumulate((len(data) + 1 for data in datas), initial=0))
    marked = {bisect_right(starts, found.start()) - 1 for found in pattern.finditer(joined)}
    return [index for index in range(len(datas)) if index not in marked]


def read_json_group(
    datas: Sequence[bytes], flavours: Sequence[Any]
) -> tuple[dict[str, pa.Array], pa.MapArray, pa.Array] | None:
    """Core columns, the fields map and the times of generic JSON records, or None."""
    joined = b"\n".join(datas)
    if joined.count(b"\n") != len(datas) - 1 or SURROGATE.search(joined):
        return None
    try:
        table = read_table(joined)
        if table.num_rows != len(datas):
            return None
        names = set(table.column_names)
        if any(flavour.claims(dict.fromkeys(names)) for flavour in flavours):
            return None  # some record may be a Windows event, a Zeek record, ...
        columns = flat_columns(table)
        texts = {name: as_text(array) for name, array in columns.items()}
        count = len(datas)
        core = core_columns(columns, texts, count)
        return core, fields_map(not_in_core(texts, core), count), times(columns, count)
    except (Unreadable, pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None


def read_table(joined: bytes) -> pa.Table:
    """The objects as a table; times stay text (Arrow would otherwise guess some into times).

    `@timestamp` is read as text from the start, so the usual ECS record needs one parse, not
    two; other values Arrow takes for times are read again as text.
    """
    options = pajson.ReadOptions(block_size=BLOCK_BYTES, use_threads=True)
    try:
        text_time = pajson.ParseOptions(explicit_schema=TEXT_TIMESTAMP)
        table = pajson.read_json(io.BytesIO(joined), read_options=options, parse_options=text_time)
        if table.column(TEXT_TIMESTAMP.names[0]).null_count == table.num_rows:
            table = table.drop_columns(TEXT_TIMESTAMP.names)  # as if it were absent: no values
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        table = pajson.read_json(io.BytesIO(joined), read_options=options)  # e.g. epoch numbers
    if any(has_times(field.type) for field in table.schema):
        schema = pa.schema([field.with_type(times_as_text(field.type)) for field in table.schema])
        parse = pajson.ParseOptions(explicit_schema=schema)
        table = pajson.read_json(io.BytesIO(joined), read_options=options, parse_options=parse)
    return table


def has_times(kind: pa.DataType) -> bool:
    """Whether a type holds a timestamp anywhere."""
    if pa.types.is_struct(kind):
        return any(has_times(kind.field(index).type) for index in range(kind.num_fields))
    return bool(pa.types.is_timestamp(kind))


def times_as_text(kind: pa.DataType) -> pa.DataType:
    """The type with every timestamp replaced by text."""
    if pa.types.is_struct(kind):
        return pa.struct(
            [
                kind.field(i).with_type(times_as_text(kind.field(i).type))
                for i in range(kind.num_fields)
            ]
        )
    return pa.string() if pa.types.is_timestamp(kind) else kind


def flat_columns(table: pa.Table) -> dict[str, pa.Array]:
    """Nested objects flattened to dotted names; null-only columns dropped."""
    while any(pa.types.is_struct(field.type) for field in table.schema):
        table = table.flatten()
    if len(set(table.column_names)) != table.num_columns:
        raise Unreadable("a dotted name and a nested one collide")
    columns: dict[str, pa.Array] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_null(column.type):
            continue
        if not any(test(column.type) for test in SCALARS):
            raise Unreadable(f"column {name} is {column.type}")
        columns[name] = column.combine_chunks()
    return columns


def as_text(array: pa.Array) -> pa.Array:
    """A column as the text the per-record path gives (`true`/`false`, decimal integers)."""
    if pa.types.is_boolean(array.type):
        return pc.if_else(array, "true", "false")
    return array if pa.types.is_string(array.type) else array.cast(pa.string())


def core_columns(
    columns: dict[str, pa.Array], texts: dict[str, pa.Array], count: int
) -> dict[str, pa.Array]:
    """ECS-named keys as core columns, typed as the per-record path types them."""
    core: dict[str, pa.Array] = {}
    for name in SETTABLE.intersection(columns):
        bits = INT_BITS.get(name)
        if bits is None:
            core[name] = texts[name]
            continue
        if not pa.types.is_int64(columns[name].type):
            raise Unreadable(f"{name} is not an integer column")
        values = columns[name]
        if bits < 64:  # out of the column's range: null, as `to_int` gives
            limit = pa.scalar(1 << (bits - 1), pa.int64())
            fits = pc.and_(pc.greater_equal(values, pc.negate(limit)), pc.less(values, limit))
            values = pc.if_else(fits, values, pa.scalar(None, pa.int64()))
        core[name] = values.cast(CORE_TYPES[name])
    for name, default in (("event.dataset", "json"), ("event.kind", "event")):
        given = core.get(name)
        if given is None:
            core[name] = repeated([default], count)
        elif given.null_count:
            core[name] = pc.coalesce(given, pa.scalar(default, pa.string()))
    return core


def not_in_core(texts: dict[str, pa.Array], core: dict[str, pa.Array]) -> dict[str, pa.Array]:
    """The values a core column of the same name does not hold (as `ecs_row` keeps them)."""
    kept = {}
    for name, text in texts.items():
        column = core.get(name)
        if column is None:
            kept[name] = text
        elif column.null_count:  # e.g. an integer out of the column's range
            kept[name] = pc.if_else(column.is_null(), text, pa.scalar(None, pa.string()))
    return kept


def fields_map(texts: dict[str, pa.Array], count: int) -> pa.MapArray:
    """Every non-null value under its dotted name, keys sorted within each row."""
    names = sorted(texts)
    if not names:
        empty = pa.array([], pa.string())
        return pa.MapArray.from_arrays(pa.array([0] * (count + 1), pa.int32()), empty, empty)
    valid = np.stack([texts[name].is_valid().to_numpy(zero_copy_only=False) for name in names])
    values = pa.concat_arrays([texts[name] for name in names])
    # Values are stacked column after column (index k * count + row); the map wants row order.
    kind = np.int32 if len(names) * count < 2**31 else np.int64
    column_major = np.add.outer(
        np.arange(count, dtype=kind), np.arange(len(names), dtype=kind) * count
    )
    if valid.all():  # every record has every key: the names repeat row after row
        offsets = np.arange(0, (count + 1) * len(names), len(names), dtype=np.int32)
        return pa.MapArray.from_arrays(
            pa.array(offsets), repeated(names, count), values.take(pa.array(column_major.ravel()))
        )
    keep = column_major.ravel()[valid.T.ravel()]
    keys = pa.array(names, pa.string()).take(pa.array(keep // count))
    offsets = np.concatenate([[0], np.cumsum(valid.sum(axis=0))]).astype(np.int32)
    return pa.MapArray.from_arrays(pa.array(offsets), keys, values.take(pa.array(keep)))


def repeated(names: list[str], count: int) -> pa.Array:
    """The names, in order, `count` times over, as one string array built from its buffers."""
    encoded = [name.encode() for name in names]
    row = b"".join(encoded)
    if len(row) * count >= 2**31:
        return pa.array(names, pa.string()).take(pa.array(np.tile(np.arange(len(names)), count)))
    within = np.cumsum([0] + [len(name) for name in encoded[:-1]], dtype=np.int32)
    starts = np.add.outer(np.arange(count, dtype=np.int32) * len(row), within).ravel()
    offsets = np.append(starts, np.int32(len(row) * count)).astype(np.int32, copy=False)
    return pa.StringArray.from_buffers(
        len(names) * count, pa.py_buffer(offsets), pa.py_buffer(row * count)
    )


def times(columns: dict[str, pa.Array], count: int) -> pa.Array:
    """`@timestamp`: the first of the time keys a record has, as `read_time` reads it."""
    found: list[pa.Array] = []
    for name in TIME_KEYS:
        column = columns.get(name)
        if column is None:
            continue
        if pa.types.is_int64(column.type):
            micros = pc.if_else(
                pc.greater(pc.abs_checked(column), MILLIS_FROM),
                pc.multiply_checked(column, 1_000),
                pc.multiply_checked(column, 1_000_000),
            )
            in_range = pc.and_(pc.greater_equal(micros, FIRST_MICROS), pc.less(micros, END_MICROS))
            if not pc.all(in_range).as_py():
                raise Unreadable(f"{name} holds a time before year 1 or after 9999")
            found.append(micros.cast(TIMESTAMP))
        elif pa.types.is_string(column.type):
            dashed = pc.equal(pc.utf8_slice_codeunits(column, 4, 5), "-")
            long_enough = pc.greater(pc.utf8_length(column), 7)
            if not pc.all(pc.and_(dashed, long_enough)).as_py():
                raise Unreadable(f"{name} holds times that are not ISO 8601")
            found.append(column.cast(TIMESTAMP))
        else:
            raise Unreadable(f"{name} is {column.type}")
    if not found:
        return pa.nulls(count, TIMESTAMP)
    return found[0] if len(found) == 1 else pc.coalesce(*found)
