"""Answer every test on one field at once, over the distinct values of a batch's column.

A batch is read through a `BatchView`, which finds a field's values (a core column or a key of
the `fields` map) once. Each field's values are dictionary-encoded, so a command line repeated
a thousand times is tested once; contains/startswith/endswith/equals patterns of every rule are
answered by one Aho-Corasick pass per distinct value, LIKE and regex patterns by Arrow kernels.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import ahocorasick
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from custodes.detect.compile import STRING_KINDS, Test
from custodes.events import CORE_NAMES, FIELDS_COLUMN

Mask = np.ndarray  # numpy bool array over the rows of a batch


class BatchView:
    """Lazy access to a batch's fields: each source is located once per batch."""

    def __init__(self, batch: pa.RecordBatch) -> None:
        self.batch = batch
        self.rows = batch.num_rows
        self.names = set(batch.schema.names)
        self._entries: (
            tuple[dict[str, int], np.ndarray, np.ndarray, np.ndarray, pa.Array] | None
        ) = None

    def entries(self) -> tuple[dict[str, int], np.ndarray, np.ndarray, np.ndarray, pa.Array]:
        """The `fields` map flattened: key codes, entry order sorted by key, rows, values."""
        if self._entries is None:
            column = self.batch.column(FIELDS_COLUMN) if FIELDS_COLUMN in self.names else None
            if column is None or len(column) == 0:
                empty = np.zeros(0, dtype=np.int64)
                self._entries = ({}, empty, empty, empty, pa.array([], pa.string()))
            else:
                offsets = column.offsets.to_numpy()
                start, end = int(offsets[0]), int(offsets[-1])
                keys = pc.dictionary_encode(column.keys.slice(start, end - start))
                codes = keys.indices.to_numpy()
                order = np.argsort(codes, kind="stable")
                entry_rows = np.repeat(np.arange(self.rows), np.diff(offsets))
                lookup = {name: code for code, name in enumerate(keys.dictionary.to_pylist())}
                items = column.items.slice(start, end - start)
                self._entries = (lookup, codes[order], order, entry_rows, items)
        return self._entries

    def source(self, name: str, wanted: Mask) -> tuple[np.ndarray, pa.Array]:
        """Rows (among `wanted`) where a source has a value, and those values as strings."""
        if name in CORE_NAMES or name in self.names and name != FIELDS_COLUMN:
            if name not in self.names:
                return np.zeros(0, dtype=np.int64), pa.array([], pa.string())
            column = self.batch.column(name)
            if not pa.types.is_string(column.type):
                column = column.cast(pa.string())
            present = wanted & ~np.asarray(column.is_null().to_numpy(zero_copy_only=False))
            rows = np.flatnonzero(present)
            return rows, column.take(pa.array(rows))
        lookup, sorted_codes, order, entry_rows, items = self.entries()
        code = lookup.get(name)
        if code is None:
            return np.zeros(0, dtype=np.int64), pa.array([], pa.string())
        low, high = np.searchsorted(sorted_codes, [code, code + 1])
        positions = order[low:high]
        rows = entry_rows[positions]
        keep = wanted[rows]
        return rows[keep], items.take(pa.array(positions[keep]))

    def values(self, sources: Sequence[str], wanted: Mask) -> tuple[np.ndarray, pa.Array]:
        """A Sigma field read from its sources, first present wins per row."""
        if len(sources) == 1:
            return self.source(sources[0], wanted)
        remaining = wanted.copy()
        all_rows: list[np.ndarray] = []
        all_values: list[pa.Array] = []
        for name in sources:
            rows, values = self.source(name, remaining)
            remaining[rows] = False
            all_rows.append(rows)
            all_values.append(values)
        return np.concatenate(all_rows), pa.concat_arrays(all_values)

    def row_values(self, sources: Sequence[str], wanted: Mask) -> pa.Array:
        """A field as one string per row (null where absent)."""
        rows, values = self.values(sources, wanted)
        index = np.full(self.rows, -1, dtype=np.int64)
        index[rows] = np.arange(len(rows))
        return values.take(pa.array(index, mask=index < 0))


@dataclass
class FieldPlan:
    """Every test a group of rules asks of one Sigma field, prepared for one pass per batch."""

    sources: tuple[str, ...]
    tests: list[tuple[int, Test]]
    automaton: ahocorasick.Automaton | None = None
    equals: dict[str, list[int]] = field(default_factory=dict)
    others: list[tuple[int, Test]] = field(default_factory=list)
    references: dict[str, tuple[str, ...]] = field(default_factory=dict)  # fieldref: sources

    def __post_init__(self) -> None:
        words: dict[str, list[tuple[int, str]]] = {}
        for index, test in self.tests:
            if test.kind in STRING_KINDS and not test.cased:
                if test.kind == "equals":
                    self.equals.setdefault(test.value.lower(), []).append(index)
                else:
                    words.setdefault(test.value.lower(), []).append((index, test.kind))
            else:
                self.others.append((index, test))
        if words:
            self.automaton = ahocorasick.Automaton(ahocorasick.STORE_ANY)
            for word, entries in words.items():
                self.automaton.add_word(word, (len(word), tuple(entries)))
            self.automaton.make_automaton()

    def evaluate(self, view: BatchView, wanted: Mask, out: dict[int, Mask]) -> None:
        """Add the row mask of every test that matches some row to `out`."""
        rows, values = view.values(self.sources, wanted)
        if len(rows) == 0 and not any(t.kind == "null" for _, t in self.others):
            return
        encoded = pc.dictionary_encode(values)
        dictionary = encoded.dictionary
        codes = encoded.indices.fill_null(len(dictionary)).to_numpy()
        hits: dict[int, list[int]] = {}
        if self.equals or self.automaton is not None:
            self.scan(pc.utf8_lower(dictionary).to_pylist(), hits)
        distinct: dict[int, np.ndarray] = {
            index: np.bincount(found, minlength=len(dictionary) + 1).astype(bool)
            for index, found in hits.items()
        }
        for index, test in self.others:
            if test.kind in ("null", "exists", "fieldref"):
                other = self.references.get(test.value, (test.value,))
                mask = row_test(test, view, (self.sources, other), rows, values, wanted)
                if mask is not None:
                    out[index] = mask
                continue
            found = value_test(test, dictionary)
            if found is not None:
                distinct[index] = np.append(found, False)
        for index, found in distinct.items():
            matched = rows[found[codes]]
            if len(matched):
                mask = np.zeros(view.rows, dtype=bool)
                mask[matched] = True
                out[index] = mask

    def scan(self, lowered: list[str | None], hits: dict[int, list[int]]) -> None:
        """One pass over the distinct values for every equals/contains/startswith/endswith."""
        equals = self.equals
        automaton = self.automaton
        for position, value in enumerate(lowered):
            if value is None:
                continue
            same = equals.get(value)
            if same is not None:
                for index in same:
                    hits.setdefault(index, []).append(position)
            if automaton is None:
                continue
            last = len(value) - 1
            for end, (length, entries) in automaton.iter(value):
                for index, kind in entries:
                    if (
                        kind == "contains"
                        or (kind == "startswith" and end == length - 1)
                        or (kind == "endswith" and end == last)
                    ):
                        hits.setdefault(index, []).append(position)


def value_test(test: Test, dictionary: pa.Array) -> np.ndarray | None:
    """A test over distinct values: a bool per value, or None when none matches."""
    kind = test.kind
    if kind == "like":
        found = pc.match_like(dictionary, test.value, ignore_case=not test.cased)
    elif kind == "regex":
        found = regex_test(test.value, dictionary)
    elif kind == "any":
        found = pc.not_equal(dictionary, "")
    elif kind in STRING_KINDS:  # case-sensitive (the `cased` modifier)
        function = {
            "equals": pc.equal,
            "contains": pc.match_substring,
            "startswith": pc.starts_with,
            "endswith": pc.ends_with,
        }[kind]
        found = (
            function(dictionary, test.value)
            if kind == "equals"
            else function(dictionary, pattern=test.value)
        )
    else:
        return python_test(test, dictionary.to_pylist())
    result = np.asarray(found.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    return result if result.any() else None


def regex_test(pattern: str, dictionary: pa.Array) -> pa.Array:
    """RE2 through Arrow when the pattern allows it, else Python's re."""
    try:
        return pc.match_substring_regex(dictionary, pattern)
    except pa.ArrowInvalid:
        compiled = re.compile(pattern)
        return pa.array(
            [v is not None and compiled.search(v) is not None for v in dictionary.to_pylist()]
        )


def python_test(test: Test, values: list[str | None]) -> np.ndarray | None:
    """cidr and numeric comparisons, value by value."""
    if test.kind == "cidr":
        network = ipaddress.ip_network(test.value, strict=False)
        found = [in_network(v, network) for v in values]
    else:
        limit = float(test.value)
        compare = {
            "lt": float.__lt__,
            "lte": float.__le__,
            "gt": float.__gt__,
            "gte": float.__ge__,
        }[test.kind]
        found = [(n := number(v)) is not None and compare(n, limit) for v in values]
    result = np.array(found, dtype=bool)
    return result if result.any() else None


def in_network(value: str | None, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    """Whether a text is an address inside the network."""
    if not value:
        return False
    try:
        return ipaddress.ip_address(value.strip("[]")) in network
    except ValueError:
        return False


def number(value: str | None) -> float | None:
    """A text as a number, or None."""
    if value is None:
        return None
    try:
        return float(int(value, 16)) if value[:2].lower() == "0x" else float(value)
    except ValueError:
        return None


def row_test(
    test: Test,
    view: BatchView,
    sources: tuple[tuple[str, ...], tuple[str, ...]],
    rows: np.ndarray,
    values: pa.Array,
    wanted: Mask,
) -> Mask | None:
    """Tests about presence (null, exists) or about two fields of one row (fieldref)."""
    mask = np.zeros(view.rows, dtype=bool)
    if test.kind == "exists":
        mask[rows] = True
    elif test.kind == "null":  # absent or empty
        mask[:] = wanted
        filled = np.asarray(
            pc.not_equal(values, "").fill_null(False).to_numpy(zero_copy_only=False), dtype=bool
        )
        mask[rows[filled]] = False
    else:  # fieldref: equal to another field of the same event
        here = view.row_values(sources[0], wanted)
        other = view.row_values(sources[1], wanted)
        same = pc.equal(pc.utf8_lower(here), pc.utf8_lower(other)).fill_null(False)
        mask = np.asarray(same.to_numpy(zero_copy_only=False), dtype=bool)
    return mask if mask.any() else None
