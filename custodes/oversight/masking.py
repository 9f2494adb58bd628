"""Masking whole Arrow tables with pseudonyms, column by column, without a loop per event.

Identifier columns are dictionary-encoded and each distinct value mapped once. Free text (every
free-text column and every text value of the `fields` map, deduplicated together with
`dictionary_encode`) is searched once per distinct text for every name the roster knows and
every account seen in the identifier columns. ASCII texts (as they mostly are) are searched and
rewritten all at once in Arrow and numpy (`text_names`), with no Python string per text or per
match; other texts take the per-match path (`replace_names`, Aho-Corasick). Each column, and the
`fields` values, are then put together from the masked distinct values with one `take`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from custodes.events import EVENT_SCHEMA
from custodes.oversight.pseudonyms import MIN_NAME_CHARS, short_account
from custodes.oversight.text_names import Names, Pieces, rewrite, text_buffers

if TYPE_CHECKING:
    from custodes.oversight.pseudonyms import Pseudonymiser

CORE_NAMES = tuple(EVENT_SCHEMA.names)
SEPARATOR = "\x00"  # joins the distinct texts for one search; a text holding it is searched alone
TEXT, IDENTIFIER, PLAIN = 0, 1, 2  # what a source field holds


@dataclass(frozen=True)
class MaskResult:
    """A masked table, the pseudonyms shown in clear, and those masked."""

    table: pa.Table
    revealed: frozenset[str]
    shown_aliases: tuple[pa.Array, ...] = ()  # every pseudonym put in place (and nulls)

    @cached_property
    def masked(self) -> frozenset[str]:
        """The pseudonyms put in place (worked out when asked: a read does not need them)."""
        if not self.shown_aliases:
            return frozenset()
        every = pa.concat_arrays([aliases.cast(pa.string()) for aliases in self.shown_aliases])
        return frozenset(pc.unique(pc.drop_null(every)).to_pylist())


@dataclass(frozen=True)
class Parts:
    """Masked distinct values, and for each value of a column its index among them."""

    distinct: pa.Array
    indices: pa.Array

    def taken(self) -> pa.Array:
        """The masked column."""
        return self.distinct.take(self.indices)


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
    identifiers = [name for name in owner.identifiers.columns if name in table.column_names]
    texts = [name for name in owner.identifiers.free_text if name in table.column_names]
    if withhold:
        texts = [name for name in texts if name not in owner.identifiers.withheld]
    fields = one_array(table.column("fields")) if "fields" in table.column_names else None
    if fields is not None and fields.offset and fields.null_count:
        fields = pa.concat_arrays([fields])  # a sliced map with nulls is rebuilt unsliced
    id_arrays = [one_array(table.column(name)) for name in identifiers]
    arrays = [one_array(table.column(name)) for name in texts]
    if fields is not None:
        keys, items, offsets = map_parts(fields)
        kind = field_kinds(keys, owner, texts)
        id_arrays.append(items.filter(pa.array(kind == IDENTIFIER)))
        arrays.append(items.filter(pa.array(kind == TEXT)))
    # names seen in identifier columns (not source fields) are looked for in text too
    masked_ids = run.mask_identifiers(id_arrays, learn_from=len(identifiers))
    masked_texts = run.mask_texts(arrays)
    columns = []
    for name in table.column_names:
        column: pa.Array | pa.ChunkedArray = table.column(name)
        if column.null_count == len(column):
            pass  # nothing to mask, and its type (perhaps null) stays
        elif name in identifiers and masked_ids is not None:
            column = masked_ids[identifiers.index(name)].taken()
        elif name in texts and masked_texts is not None:
            column = masked_texts[texts.index(name)].taken()
        elif name == "fields" and fields is not None:
            text_parts = None if masked_texts is None else masked_texts[-1]
            id_parts = None if masked_ids is None else masked_ids[-1]
            values = rebuild_items(
                items, [(text_parts, kind == TEXT), (id_parts, kind == IDENTIFIER)]
            )
            if withhold:  # a source field named like a withheld column is withheld too
                named = pc.is_in(keys, value_set=pa.array(owner.identifiers.withheld, pa.string()))
                if pc.any(named).as_py():
                    values = pc.if_else(named, pa.scalar(None, values.type), values)
            mask = fields.is_null() if fields.null_count else None
            column = pa.MapArray.from_arrays(offsets, keys, values, type=fields.type, mask=mask)
        columns.append(column)
    masked = pa.Table.from_arrays(columns, schema=table.schema)
    return MaskResult(masked, frozenset(run.revealed_seen), tuple(run.shown_aliases))


def one_array(column: pa.ChunkedArray) -> pa.Array:
    """A column as one array (its only chunk as it is: `combine_chunks` would copy it)."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def field_kinds(keys: pa.Array, owner: Pseudonymiser, texts: list[str]) -> np.ndarray:
    """Per source field: an identifier (by its key), or plain (named like a core column that is
    neither identifier nor free text: a time, a host, an address; left as that column is), or
    free text (all others)."""
    named = list(owner.identifiers.fields)
    plain = sorted(set(CORE_NAMES) - set(owner.identifiers.columns) - set(texts) - set(named))
    found = pc.index_in(keys, value_set=pa.array(named + plain, pa.string()))
    kind_of = np.array([TEXT] + [IDENTIFIER] * len(named) + [PLAIN] * len(plain), dtype=np.int8)
    kind: np.ndarray = kind_of.take(pc.fill_null(found, -1).to_numpy() + 1)
    return kind


def rebuild_items(items: pa.Array, masked: list[tuple[Parts | None, np.ndarray]]) -> pa.Array:
    """Map items with the masked texts and identifiers put in place, in one `take` (each Parts
    covers the items where its flags are set)."""
    index = np.arange(len(items), dtype=np.int64)
    sources = [items.cast(pa.string())]
    for parts, flags in masked:
        if parts is None:
            continue
        found = pc.fill_null(parts.indices, -1).to_numpy()
        valid = found >= 0  # null values stay in their own place
        index[np.flatnonzero(flags)[valid]] = sum(map(len, sources)) + found[valid]
        sources.append(parts.distinct.cast(pa.string()))
    if len(sources) == 1:
        return items
    return pa.concat_arrays(sources).take(pa.array(index))


def encode_together(arrays: list[pa.Array]) -> tuple[pa.Array, list[pa.Array]] | None:
    """The distinct values of several string arrays (one dictionary), and each array's indices
    into them; None when there is no value (all null or empty)."""
    joined = pa.chunked_array([array.cast(pa.string()) for array in arrays], pa.string())
    if len(joined) == 0 or joined.null_count == len(joined):
        return None
    encoded = pc.dictionary_encode(joined)  # one dictionary for every chunk
    distinct = encoded.chunk(0).dictionary
    if [len(chunk) for chunk in encoded.chunks] == [len(array) for array in arrays]:
        return distinct, [chunk.indices for chunk in encoded.chunks]
    every = pa.concat_arrays([chunk.indices for chunk in encoded.chunks])  # empty ones left out
    found, start = [], 0
    for array in arrays:
        found.append(every.slice(start, len(array)))
        start += len(array)
    return distinct, found


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
        self.shown_aliases: list[pa.Array] = []  # every pseudonym put in place (nulls too)
        self.extra: set[str] = set()

    def learn(self, values: pa.Array) -> None:
        """Add the person values of identifier columns to the names looked for in text."""
        known = self.owner.roster.identities
        learnt = self.owner.learnt
        for value in values.to_pylist():
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

    def mask_identifiers(self, arrays: list[pa.Array], *, learn_from: int) -> list[Parts] | None:
        """Identifier values -> pseudonyms (unless revealed or not a person), each distinct value
        of all arrays looked up once, in Arrow; the values of the first `learn_from` arrays are
        learnt as names. None when every value is null."""
        encoded = encode_together(arrays)
        if encoded is None:
            return None
        distinct, indices = encoded
        distinct = distinct.cast(pa.string())
        is_used = np.zeros(len(distinct), dtype=bool)
        for found in indices[:learn_from]:
            is_used[pc.drop_null(found).to_numpy()] = True
        self.learn(distinct.filter(pa.array(is_used)))
        shown = pc.coalesce(self.aliases(distinct), distinct)
        return [Parts(shown, found) for found in indices]

    def aliases(self, distinct: pa.Array) -> pa.Array:
        """Distinct values -> pseudonyms, null where the value stays (revealed, not a person)."""
        aliases = self.owner.aliases(distinct)
        if self.revealed:
            wanted = pa.array(sorted(self.revealed), pa.string())
            is_revealed = pc.fill_null(pc.is_in(aliases, value_set=wanted), False)
            if pc.any(is_revealed).as_py():
                self.revealed_seen.update(pc.unique(pc.filter(aliases, is_revealed)).to_pylist())
                aliases = pc.if_else(is_revealed, pa.scalar(None, pa.string()), aliases)
        self.shown_aliases.append(aliases)
        return aliases

    def mask_texts(self, arrays: list[pa.Array]) -> list[Parts] | None:
        """Several text arrays masked together (each distinct text searched once); None when no
        text names anyone."""
        if not arrays:
            return None
        encoded = encode_together(arrays)
        if encoded is None:
            return None
        distinct, indices = encoded
        replaced = self.replace_distinct(distinct)
        if replaced is None:
            return None
        return [Parts(replaced, found) for found in indices]

    def replace_distinct(self, distinct: pa.Array) -> pa.Array | None:
        """Distinct texts (no nulls) with known names replaced; None when no text names anyone.

        ASCII texts (as they mostly are) are searched all at once on their Arrow buffer; the
        others one match at a time (`replace_names`).
        """
        names = self.finder()
        if names is None:
            return None
        distinct = distinct.cast(pa.string())
        is_ascii = pc.string_is_ascii(distinct)
        if pc.all(is_ascii).as_py():
            return self.replace_ascii(names, distinct)
        if not pc.any(is_ascii).as_py():
            replaced = self.replace_names(distinct.to_pylist())
            return None if replaced is None else pa.array(replaced, pa.string())
        ascii_texts, other_texts = distinct.filter(is_ascii), distinct.filter(pc.invert(is_ascii))
        ascii_done = self.replace_ascii(names, ascii_texts)
        other_done = self.replace_names(other_texts.to_pylist())
        if ascii_done is None and other_done is None:
            return None
        pool = pa.concat_arrays(
            [
                ascii_texts if ascii_done is None else ascii_done,
                other_texts if other_done is None else pa.array(other_done, pa.string()),
            ]
        )
        flags = is_ascii.to_numpy(zero_copy_only=False)
        order = np.where(flags, np.cumsum(flags) - 1, len(ascii_texts) + np.cumsum(~flags) - 1)
        return pool.take(pa.array(order))

    def replace_ascii(self, names: Names, texts: pa.Array) -> pa.Array | None:
        """ASCII texts with every known name replaced, found and rewritten in Arrow and numpy
        (`text_names`); None when none names anyone shown masked."""
        starts, ends, word_index = names.find(Pieces.of(texts))
        if not len(starts):
            return None
        starts, ends, word_index = leftmost_longest(starts, ends, word_index)
        is_seen = np.zeros(len(names.words), dtype=bool)
        is_seen[word_index] = True
        seen = np.flatnonzero(is_seen)
        position = (np.cumsum(is_seen) - 1)[word_index]
        aliases = self.aliases(pa.array([names.words[i] for i in seen.tolist()], pa.string()))
        replaced = aliases.is_valid().to_numpy(zero_copy_only=False)[position]
        if not replaced.any():
            return None
        shown = aliases.take(pa.array(position[replaced]))
        offsets, raw = text_buffers(texts)
        return rewrite(raw, offsets, starts[replaced], ends[replaced], shown)

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

    def finder(self) -> Names | None:
        """The roster's names, or those plus the names learnt from this table."""
        roster = self.owner.roster_names()
        learnt = self.owner.learnt_names(frozenset(self.extra)) if self.extra else None
        return learnt if roster is None else roster.joined(learnt)


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
