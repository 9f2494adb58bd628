"""A batch seen field by field: each source located and dictionary-encoded once per batch.

`fields` is a map column; its entries are flattened and grouped by key once, so reading
`fields['CommandLine']` for every rule group costs one slice. Values are dictionary-encoded, so
a command line repeated a thousand times is tested once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from custodes.events import CORE_NAMES, FIELDS_COLUMN

Mask = np.ndarray  # numpy bool array over the rows of a batch
EMPTY = np.zeros(0, dtype=np.int64)
#: A source meaning every value of the `fields` map (what keywords search besides `message`).
ALL_VALUES = "fields.*"


class Entries(NamedTuple):
    """The `fields` map of a batch, flattened: entries grouped by key."""

    lookup: dict[str, int]  # key -> key code
    bounds: np.ndarray  # entries of key code k: order[bounds[k]:bounds[k + 1]]
    order: np.ndarray
    rows: np.ndarray  # entry -> row
    items: pa.Array  # entry -> value


class Segment(NamedTuple):
    """Rows holding a field's value, and each row's code into the batch-wide `dictionary`."""

    rows: np.ndarray
    codes: np.ndarray
    dictionary: pa.Array
    name: str = ""  # set when the segment is the whole column: every value of it occurs


class BatchView:
    """Lazy access to a batch's fields: each column and the `fields` map is encoded once."""

    def __init__(self, batch: pa.RecordBatch) -> None:
        self.batch = batch
        self.rows = batch.num_rows
        self.names = set(batch.schema.names)
        self._entries: Entries | None = None
        self._columns: dict[str, tuple[np.ndarray, np.ndarray, pa.Array]] = {}
        self._lowered: dict[str, tuple[np.ndarray, np.ndarray, list[str]]] = {}
        self._grouped: dict[str, RowsByValue] = {}

    def entries(self) -> Entries:
        """The `fields` map flattened, entries grouped by key (values stay as they are)."""
        if self._entries is None:
            column = self.batch.column(FIELDS_COLUMN) if FIELDS_COLUMN in self.names else None
            if column is None or len(column) == 0:
                self._entries = Entries({}, EMPTY, EMPTY, EMPTY, pa.array([], pa.string()))
                return self._entries
            offsets = column.offsets.to_numpy()
            start, end = int(offsets[0]), int(offsets[-1])
            keys = pc.dictionary_encode(column.keys.slice(start, end - start))
            key_codes = keys.indices.to_numpy()
            if len(keys.dictionary) < 2**15:  # numpy sorts 16-bit integers by radix: much faster
                key_codes = key_codes.astype(np.int16)
            order = np.argsort(key_codes, kind="stable")
            bounds = np.concatenate(
                ([0], np.cumsum(np.bincount(key_codes, minlength=len(keys.dictionary))))
            )
            entry_rows = np.repeat(np.arange(self.rows), np.diff(offsets))
            lookup = {name: code for code, name in enumerate(keys.dictionary.to_pylist())}
            items = column.items.slice(start, end - start)
            self._entries = Entries(lookup, bounds, order, entry_rows, items)
        return self._entries

    def column(self, name: str) -> tuple[np.ndarray, np.ndarray, pa.Array]:
        """A source over the whole batch, dictionary-encoded: rows with a value, codes, values."""
        if name not in self._columns:
            if name == ALL_VALUES:
                entries = self.entries()
                all_rows = entries.rows
                column = entries.items
            elif name in CORE_NAMES or (name in self.names and name != FIELDS_COLUMN):
                if name not in self.names:
                    found = (EMPTY, EMPTY, pa.array([], pa.string()))
                    self._columns[name] = found
                    return found
                column = self.batch.column(name)
                if not pa.types.is_string(column.type):
                    column = column.cast(pa.string())
                all_rows = None
            else:
                entries = self.entries()
                code = entries.lookup.get(name)
                if code is None:
                    found = (EMPTY, EMPTY, pa.array([], pa.string()))
                    self._columns[name] = found
                    return found
                positions = entries.order[entries.bounds[code] : entries.bounds[code + 1]]
                all_rows = entries.rows[positions]
                column = entries.items.take(pa.array(positions))
            encoded = pc.dictionary_encode(column)
            if encoded.indices.null_count == 0:  # the usual case: no copies to skip nulls
                codes = encoded.indices.to_numpy()
                rows = np.arange(len(codes)) if all_rows is None else all_rows
                self._columns[name] = (rows, codes, encoded.dictionary)
                return self._columns[name]
            codes = encoded.indices.fill_null(-1).to_numpy()
            present = np.flatnonzero(codes >= 0)
            rows = present if all_rows is None else all_rows[present]
            self._columns[name] = (rows, codes[present], encoded.dictionary)
        return self._columns[name]

    def lowered(self, name: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """A source over the whole batch: rows, their distinct positions, lowercase texts."""
        if name not in self._lowered:
            segment = self.source(name, np.ones(self.rows, dtype=bool))
            codes, inverse = distinct(segment)
            texts = pc.utf8_lower(segment.dictionary.take(pa.array(codes))).to_pylist()
            self._lowered[name] = (segment.rows, inverse, texts)
        return self._lowered[name]

    def rows_by_value(self, segment: Segment) -> RowsByValue:
        """A whole column's rows grouped by value (kept for the other tests of this batch)."""
        if segment.name not in self._grouped:
            self._grouped[segment.name] = RowsByValue(
                segment.rows, segment.codes, len(segment.dictionary)
            )
        return self._grouped[segment.name]

    def source(self, name: str, wanted: Mask) -> Segment:
        """Rows (among `wanted`) where a source has a value, with their codes."""
        rows, codes, dictionary = self.column(name)
        keep = wanted[rows]
        if keep.all():
            return Segment(rows, codes, dictionary, name)
        return Segment(rows[keep], codes[keep], dictionary)

    def segments(self, sources: Sequence[str], wanted: Mask) -> list[Segment]:
        """A Sigma field read from its sources, first present wins per row."""
        if len(sources) == 1:
            found = self.source(sources[0], wanted)
            return [found] if len(found.rows) else []
        remaining = wanted.copy()
        found_all: list[Segment] = []
        for name in sources:
            found = self.source(name, remaining)
            if len(found.rows):
                remaining[found.rows] = False
                found_all.append(found)
        return found_all

    def row_values(self, sources: Sequence[str], wanted: Mask) -> pa.Array:
        """A field as one string per row (null where absent)."""
        values: list[str | None] = [None] * self.rows
        for segment in self.segments(sources, wanted):
            texts = segment.dictionary.take(pa.array(segment.codes)).to_pylist()
            for row, text in zip(segment.rows.tolist(), texts, strict=True):
                values[row] = text
        return pa.array(values, pa.string())


class RowsByValue:
    """Rows grouped by distinct value, so a test's rows cost what it matched, not the segment."""

    def __init__(self, rows: np.ndarray, inverse: np.ndarray, values: int) -> None:
        keys = inverse.astype(np.uint16) if values < 2**16 else inverse
        self.order = rows[np.argsort(keys, kind="stable")]
        counts = np.bincount(inverse, minlength=values)
        self.starts = np.concatenate(([0], np.cumsum(counts)))
        self.counts = counts

    def rows(self, values: np.ndarray) -> np.ndarray:
        """The rows holding any of these distinct values."""
        lengths = self.counts[values]
        total = int(lengths.sum())
        if total == 0:
            return EMPTY
        shift = np.repeat(
            self.starts[values] - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths
        )
        return self.order[shift + np.arange(total)]


def distinct(segment: Segment) -> tuple[np.ndarray, np.ndarray]:
    """The distinct codes of a segment and, per row, the position of its code among them."""
    present = np.zeros(len(segment.dictionary), dtype=bool)
    present[segment.codes] = True
    codes = np.flatnonzero(present)
    position = np.zeros(len(segment.dictionary), dtype=np.int64)
    position[codes] = np.arange(len(codes))
    return codes, position[segment.codes]
