"""Masking whole Arrow tables with pseudonyms, column by column, without a loop per event.

Identifier columns are dictionary-encoded and each distinct value mapped once. Free text (every
free-text column and every value of the `fields` map, deduplicated together with
`dictionary_encode`) is joined into one string and searched in one Aho-Corasick pass (C) for
every name the roster knows and every account seen in the identifier columns. When the texts are
ASCII (as they mostly are) the search runs over the Arrow buffer of the distinct texts, and the
rewritten buffer and its offsets are built with numpy, with no Python string per text or per
match; other texts take the per-match path (`replace_names`).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING

import ahocorasick
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from custodes.events import EVENT_SCHEMA
from custodes.oversight.pseudonyms import MIN_NAME_CHARS, short_account

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from custodes.oversight.pseudonyms import Pseudonymiser

CORE_NAMES = tuple(EVENT_SCHEMA.names)
SEPARATOR = "\x00"  # joins the distinct texts for one search; a text holding it is searched alone


@dataclass(frozen=True)
class MaskResult:
    """A masked table, the pseudonyms shown in clear, and those masked."""

    table: pa.Table
    revealed: frozenset[str]
    masked: frozenset[str]


def mask_table(
    owner: Pseudonymiser, table: pa.Table, revealed: frozenset[str], *, withhold: bool = False
) -> MaskResult:
    """The table with identifiers replaced, except people whose pseudonym is `revealed`."""
    if withhold:
        for name in set(owner.identifiers.withheld) & set(table.column_names):
            position = table.column_names.index(name)
            empty = pa.nulls(table.num_rows, table.schema.field(name).type)
            table = table.set_column(position, table.schema.field(name), empty)
    run = MaskRun(owner, revealed)
    identifiers = set(owner.identifiers.columns) & set(table.column_names)
    for name in identifiers:  # names seen in identifier columns are looked for in text too
        run.learn(table.column(name))
    texts = [name for name in owner.identifiers.free_text if name in table.column_names]
    if withhold:
        texts = [name for name in texts if name not in owner.identifiers.withheld]
    arrays = [table.column(name).combine_chunks() for name in texts]
    fields = table.column("fields").combine_chunks() if "fields" in table.column_names else None
    items = is_identifier = is_text = None
    if fields is not None:
        keys, items, offsets = map_parts(fields)
        wanted = pa.array(list(owner.identifiers.fields), pa.string())
        is_identifier = pc.fill_null(pc.is_in(keys, value_set=wanted), False)
        # Source fields named like a core column that is neither identifier nor free text (a
        # time, a host, an address) are left as that column is.
        plain = pa.array(sorted(set(CORE_NAMES) - set(owner.identifiers.columns) - set(texts)))
        is_text = pc.invert(pc.or_(is_identifier, pc.fill_null(pc.is_in(keys, plain), False)))
        arrays.append(pc.filter(items, is_text))
    masked_texts = run.mask_texts(arrays)
    columns = []
    for name in table.column_names:
        column: pa.Array | pa.ChunkedArray = table.column(name)
        if name in identifiers:
            column = run.map_identifiers(column)
        elif name in texts:
            column = masked_texts[texts.index(name)]
        elif name == "fields" and fields is not None:
            assert items is not None and is_identifier is not None and is_text is not None
            values = rebuild_items(items, is_text, masked_texts[-1], is_identifier, run)
            mask = fields.is_null() if fields.null_count else None
            column = pa.MapArray.from_arrays(offsets, keys, values, type=fields.type, mask=mask)
        columns.append(column)
    masked = pa.Table.from_arrays(columns, schema=table.schema)
    return MaskResult(masked, frozenset(run.revealed_seen), frozenset(run.masked_seen))


def rebuild_items(
    items: pa.Array, is_text: pa.Array, texts: pa.Array, is_identifier: pa.Array, run: MaskRun
) -> pa.Array:
    """Map items with the masked texts and identifiers put in place, in one `take`."""
    index = np.arange(len(items), dtype=np.int64)
    sources = [items.cast(pa.string()), texts.cast(pa.string())]
    text_at = np.flatnonzero(is_text.to_numpy(zero_copy_only=False))
    index[text_at] = len(items) + np.arange(len(text_at))
    identifier_at = np.flatnonzero(is_identifier.to_numpy(zero_copy_only=False))
    if len(identifier_at):
        sources.append(run.map_identifiers(pc.filter(items, is_identifier)).cast(pa.string()))
        index[identifier_at] = len(items) + len(text_at) + np.arange(len(identifier_at))
    return pc.take(pa.concat_arrays(sources), pa.array(index))


def map_parts(maps: pa.MapArray) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Keys, items and offsets (from 0) of a possibly sliced map array."""
    offsets = maps.offsets
    start, end = offsets[0].as_py(), offsets[-1].as_py()
    keys = maps.keys.slice(start, end - start)
    items = maps.items.slice(start, end - start)
    if start:
        offsets = pc.subtract(offsets, pa.scalar(start, offsets.type))
    return keys, items, offsets


class MaskRun:
    """One masking pass over a table: the names it learnt and the pseudonyms it used."""

    def __init__(self, owner: Pseudonymiser, revealed: frozenset[str]) -> None:
        self.owner = owner
        self.revealed = revealed
        self.revealed_seen: set[str] = set()
        self.masked_seen: set[str] = set()
        self.extra: set[str] = set()

    def learn(self, column: pa.ChunkedArray) -> None:
        """Add the person values of an identifier column to the names looked for in text."""
        known = self.owner.roster.identities
        learnt = self.owner.learnt
        for value in pc.unique(column).to_pylist():
            if not isinstance(value, str):
                continue
            if value not in learnt:
                short = short_account(value)
                is_new = self.owner.is_person(value) and short not in known
                # `AGENCY\x` is found through `x` (`\` is a boundary)
                learnt[value] = short if is_new and len(short) >= MIN_NAME_CHARS else None
            name = learnt[value]
            if name is not None:
                self.extra.add(name)

    def identifier(self, value: str) -> str:
        """An identifier's value -> its pseudonym (unless revealed or not a person)."""
        if not self.owner.is_person(value):
            return value
        alias = self.owner.pseudonym(value)
        if alias in self.revealed:
            self.revealed_seen.add(alias)
            return value
        self.masked_seen.add(alias)
        return alias

    def map_values(
        self, column: pa.ChunkedArray | pa.Array, mapper: Callable[[str], str]
    ) -> pa.Array:
        """Apply `mapper` once per distinct value."""
        array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        if len(array) == 0 or array.null_count == len(array):
            return array
        encoded = pc.dictionary_encode(array)
        values = [mapper(value) for value in encoded.dictionary.to_pylist()]
        return pc.take(pa.array(values, pa.string()), encoded.indices)

    def map_identifiers(self, column: pa.ChunkedArray | pa.Array) -> pa.Array:
        """`map_values(column, self.identifier)`, the distinct values looked up in Arrow."""
        array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        if len(array) == 0 or array.null_count == len(array):
            return array
        encoded = pc.dictionary_encode(array)
        distinct = encoded.dictionary.cast(pa.string())
        return pc.take(self.shown(distinct, self.aliases(distinct)), encoded.indices)

    def aliases(self, distinct: pa.Array) -> pa.Array:
        """Distinct values -> pseudonyms, null where the value stays (revealed, not a person)."""
        aliases = self.owner.aliases(distinct)
        if self.revealed:
            wanted = pa.array(sorted(self.revealed), pa.string())
            is_revealed = pc.fill_null(pc.is_in(aliases, value_set=wanted), False)
            if pc.any(is_revealed).as_py():
                self.revealed_seen.update(pc.unique(pc.filter(aliases, is_revealed)).to_pylist())
                aliases = pc.if_else(is_revealed, pa.scalar(None, pa.string()), aliases)
        self.masked_seen.update(pc.unique(pc.drop_null(aliases)).to_pylist())
        return aliases

    @staticmethod
    def shown(distinct: pa.Array, aliases: pa.Array) -> pa.Array:
        """Each value's pseudonym, or the value itself where it has none."""
        return pc.coalesce(aliases, distinct)

    def mask_texts(self, arrays: list[pa.Array]) -> list[pa.Array]:
        """Several text arrays masked together (each distinct text is searched once)."""
        if not arrays:
            return arrays
        lengths = [len(array) for array in arrays]
        joined = pa.concat_arrays([array.cast(pa.string()) for array in arrays])
        if len(joined) == 0 or joined.null_count == len(joined):
            return arrays
        encoded = pc.dictionary_encode(joined)
        replaced = self.replace_distinct(encoded.dictionary)
        if replaced is None:
            return arrays
        masked = pc.take(replaced, encoded.indices)
        found, start = [], 0
        for length in lengths:
            found.append(masked.slice(start, length))
            start += length
        return found

    def replace_distinct(self, distinct: pa.Array) -> pa.Array | None:
        """Distinct texts (no nulls) with known names replaced; None when no text names anyone."""
        names = self.finder()
        if names is None:
            return None
        distinct = distinct.cast(pa.string())
        offsets = np.frombuffer(distinct.buffers()[1], dtype=np.int32)
        offsets = offsets[distinct.offset : distinct.offset + len(distinct) + 1].astype(np.int64)
        data = distinct.buffers()[2]
        raw = b"" if data is None else memoryview(data)[offsets[0] : offsets[-1]].tobytes()
        if raw.isascii():
            return self.replace_ascii(names, offsets - offsets[0], raw)
        replaced = self.replace_names(distinct.to_pylist())
        return None if replaced is None else pa.array(replaced, pa.string())

    def replace_ascii(self, names: Names, offsets: np.ndarray, raw: bytes) -> pa.Array | None:
        """ASCII texts (their Arrow offsets from 0 and bytes) rewritten: one search, numpy for
        the rest."""
        matches = names.automaton.iter(raw.decode("ascii").lower())  # (end, word index) each
        found = np.fromiter(chain.from_iterable(matches), dtype=np.int64).reshape(-1, 2)
        if not len(found):
            return None
        ends, word_index = found[:, 0] + 1, found[:, 1]
        starts = ends - names.lengths[word_index]
        text = np.searchsorted(offsets, starts, side="right") - 1
        codes = np.frombuffer(raw, dtype=np.uint8)
        touching = ends > offsets[text + 1]  # straddles two texts
        before = ~touching & (starts > offsets[text])
        touching[before] |= is_word(codes[starts[before] - 1])
        after = ~touching & (ends < offsets[text + 1])
        touching[after] |= is_word(codes[ends[after]])
        starts, ends, word_index = starts[~touching], ends[~touching], word_index[~touching]
        starts, ends, word_index = leftmost_longest(starts, ends, word_index)
        seen = np.unique(word_index)
        aliases = self.aliases(pa.array([names.words[i] for i in seen.tolist()], pa.string()))
        alias_of_word = np.full(len(names.words), None, dtype=object)
        alias_of_word[seen] = aliases.to_numpy(zero_copy_only=False)
        width = np.zeros(len(names.words), dtype=np.int64)
        width[seen] = pc.fill_null(pc.binary_length(aliases), 0).to_numpy()
        replaced = width[word_index] > 0
        if not replaced.any():
            return None
        starts, ends, word_index = starts[replaced], ends[replaced], word_index[replaced]
        growth = width[word_index] - (ends - starts)
        cut_starts = np.concatenate(([0], ends)).tolist()
        cut_ends = np.concatenate((starts, [len(raw)])).tolist()
        pieces: list[bytes] = [b""] * (2 * len(cut_starts) - 1)
        pieces[0::2] = [raw[a:b] for a, b in zip(cut_starts, cut_ends, strict=True)]
        pieces[1::2] = [alias.encode() for alias in alias_of_word[word_index].tolist()]
        out = b"".join(pieces)
        shift_before = np.concatenate(([0], np.cumsum(growth)))  # by the spans before each
        new_offsets = offsets + shift_before[np.searchsorted(starts, offsets, side="left")]
        buffers = [None, pa.py_buffer(new_offsets.tobytes()), pa.py_buffer(out)]
        return pa.Array.from_buffers(pa.large_string(), len(offsets) - 1, buffers).cast(pa.string())

    def replace_names(self, texts: list[str | None]) -> list[str | None] | None:
        """Known names in texts -> pseudonyms (None when no text names anyone).

        All texts are joined into one string and searched in one Aho-Corasick pass.
        """
        names = self.finder()
        if names is None:
            return None
        whole = SEPARATOR.join(text or "" for text in texts)
        if whole.count(SEPARATOR) != len(texts) - 1:  # a text holds the separator itself
            return [self.replace_in(names, text) for text in texts]
        replaced = self.replace_in(names, whole)
        if replaced is whole or replaced is None:
            return None
        return [
            None if text is None else part
            for text, part in zip(texts, replaced.split(SEPARATOR), strict=True)
        ]

    def replace_in(self, names: Names, text: str | None) -> str | None:
        """One text with every known name (on word boundaries) replaced; the same object if none.

        The automaton finds the names in C; boundaries are checked, and the pseudonyms (all of
        one length) put in place, with numpy; Python maps each distinct name once.
        """
        if not text:
            return text
        lowered = text.lower()
        if len(lowered) != len(text):  # a few characters grow when lowered: keep them as they are
            lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        matches = list(names.automaton.iter(lowered))  # every match, overlaps included
        if not matches:
            return text
        word_index = np.array([match[1] for match in matches], dtype=np.int64)
        ends = np.array([match[0] for match in matches], dtype=np.int64) + 1
        starts = ends - names.lengths[word_index]
        codes = code_points(text)
        touching = np.zeros(len(starts), dtype=bool)
        inside = starts > 0
        touching[inside] |= is_word(codes[starts[inside] - 1])
        within = ends < len(codes)
        touching[within] |= is_word(codes[ends[within]])
        starts, ends, word_index = starts[~touching], ends[~touching], word_index[~touching]
        starts, ends, word_index = leftmost_longest(starts, ends, word_index)
        found = np.unique(word_index)
        words = pa.array([names.words[i] for i in found.tolist()], pa.string())
        alias_of_word = np.full(len(names.words), None, dtype=object)
        aliases = self.aliases(words)
        alias_of_word[found] = aliases.to_numpy(zero_copy_only=False)
        has_alias = aliases.is_valid().to_numpy(zero_copy_only=False)
        is_shown = np.zeros(len(names.words), dtype=bool)
        is_shown[found] = has_alias
        replaced = is_shown[word_index]
        if not replaced.any():
            return text
        cut_starts = np.concatenate(([0], ends[replaced])).tolist()
        cut_ends = np.concatenate((starts[replaced], [len(text)])).tolist()
        pieces: list[str] = [""] * (2 * len(cut_starts) - 1)
        pieces[0::2] = [text[a:b] for a, b in zip(cut_starts, cut_ends, strict=True)]
        pieces[1::2] = alias_of_word[word_index[replaced]].tolist()
        return "".join(pieces)

    def alias_of(self, name: str) -> str | None:
        """A found name's pseudonym, or None when it stays (revealed, or not a person)."""
        shown = self.identifier(name)
        return None if shown == name else shown

    def finder(self) -> Names | None:
        """The roster's names, or those plus the names learnt from this table."""
        if not self.extra:
            return self.owner.roster_names()
        return Names.build(set(self.owner.roster.identities) | self.extra)


def leftmost_longest(
    starts: np.ndarray, ends: np.ndarray, word_index: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The matches a left-to-right reader takes: at each start the longest, none overlapping."""
    order = np.lexsort((starts - ends, starts))
    starts, ends, word_index = starts[order], ends[order], word_index[order]
    reach = np.maximum.accumulate(np.concatenate(([0], ends[:-1])))
    keep = starts >= reach
    if (~keep & (ends > reach)).any():  # a match straddling a dropped one: decide one by one
        keep[:] = False
        taken_to = 0
        for position, (first, last) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
            if first >= taken_to:
                keep[position], taken_to = True, last
    return starts[keep], ends[keep], word_index[keep]


def code_points(text: str) -> np.ndarray:
    """The text's code points (one byte each when it is ASCII, as it mostly is)."""
    if text.isascii():
        return np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def is_word(codes: np.ndarray) -> np.ndarray:
    """Per code point: a letter, digit or `_` (any non-ASCII counts as a letter)."""
    word: np.ndarray = (
        ((codes >= 48) & (codes <= 57))
        | ((codes >= 65) & (codes <= 90))
        | ((codes >= 97) & (codes <= 122))
        | (codes == 95)
        | (codes > 127)
    )
    return word


@dataclass(frozen=True)
class Names:
    """Lower-case names in an Aho-Corasick automaton (value: the word's index)."""

    automaton: ahocorasick.Automaton
    words: list[str]
    lengths: np.ndarray

    @classmethod
    def build(cls, names: Iterable[str]) -> Names | None:
        """The automaton of these names (None when there are none)."""
        words = sorted({name for name in names if len(name) >= MIN_NAME_CHARS})
        if not words:
            return None
        automaton = ahocorasick.Automaton()
        for index, word in enumerate(words):
            automaton.add_word(word, index)
        automaton.make_automaton()
        return cls(automaton, words, np.array([len(word) for word in words], dtype=np.int64))
