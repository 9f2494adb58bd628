"""Finding known names in many ASCII texts at once, in Arrow and numpy, with no loop per text.

A name is found where it stands on word boundaries: no letter, digit or `_` just before or just
after it, and never across two texts. The texts are cut into pieces (runs of word characters,
runs of other characters, and at each text's start); a name that starts and ends with a word
character is found exactly where a run of whole pieces spells it. Single-piece names are looked
up with one `index_in` over all pieces; longer names (`john.smith@agency.gov`, `john smith`)
only where a piece is their first and the window of pieces has their length. Names that start
or end with another character (`Smith, J (Contractor)`) are searched with Aho-Corasick.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING

import ahocorasick
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from custodes.oversight.pseudonyms import MIN_NAME_CHARS

if TYPE_CHECKING:
    from collections.abc import Iterable

WORD_BYTES = np.zeros(256, dtype=bool)  # a letter, digit or `_` (any non-ASCII counts as a letter)
for _low, _high in ((48, 57), (65, 90), (97, 122), (95, 95), (128, 255)):
    WORD_BYTES[_low : _high + 1] = True
PIECE = re.compile(r"[0-9A-Za-z_]+|[^0-9A-Za-z_]+")

Matches = tuple[np.ndarray, np.ndarray, np.ndarray]  # starts, ends, word index (one per match)


def no_matches() -> Matches:
    """An empty set of matches."""
    empty = np.zeros(0, dtype=np.int64)
    return empty, empty, empty


def text_buffers(texts: pa.Array) -> tuple[np.ndarray, pa.Buffer]:
    """A string array's offsets (from 0, int64) and the bytes they point into."""
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int32)
    offsets = offsets[texts.offset : texts.offset + len(texts) + 1]
    data = texts.buffers()[2] or pa.py_buffer(b"")
    data = data.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))
    return offsets.astype(np.int64) - offsets[0], data


@dataclass(frozen=True)
class Pieces:
    """Lower-cased ASCII texts (their offsets from 0) cut into word and non-word pieces."""

    lowered: pa.Buffer
    offsets: np.ndarray
    cuts: np.ndarray  # where each piece starts, then the end
    array: pa.Array  # the pieces as a large_string array over `lowered`
    shape: np.ndarray  # per piece: `shape_of` it

    @classmethod
    def of(cls, texts: pa.Array) -> Pieces:
        """Cut ASCII texts (a string array without nulls)."""
        offsets, lowered = text_buffers(pc.ascii_lower(texts))
        codes = np.frombuffer(lowered, dtype=np.uint8)
        word = is_word_byte(codes)
        is_cut = np.empty(len(word) + 1, dtype=bool)
        np.not_equal(word[1:], word[:-1], out=is_cut[1:-1])
        is_cut[offsets] = True
        cuts = np.flatnonzero(is_cut)
        buffers = [None, pa.py_buffer(cuts), lowered]
        array = pa.Array.from_buffers(pa.large_string(), len(cuts) - 1, buffers)
        return cls(lowered, offsets, cuts, array, piece_shapes(codes, cuts))


def is_word_byte(codes: np.ndarray) -> np.ndarray:
    """`WORD_BYTES` of lower-cased bytes: a few passes of numpy arithmetic, one scratch buffer
    (faster than looking each byte up)."""
    scratch = np.subtract(codes, 97, dtype=np.uint8)
    word: np.ndarray = np.less(scratch, 26)
    flag = scratch.view(np.bool_)
    np.subtract(codes, 48, out=scratch)
    np.less(scratch, 10, out=flag)
    word |= flag
    np.equal(codes, 95, out=flag)
    word |= flag
    np.greater_equal(codes, 128, out=flag)
    word |= flag
    return word


LONG = 31
MAX_PIECE = 65_535  # pieces this long or longer share one shape


def shape_of(piece: str) -> int:
    """A piece's first byte and length (up to LONG) in one number, to rule out most pieces
    before looking them up."""
    return ord(piece[0]) << 5 | min(len(piece), LONG)


def piece_shapes(codes: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """`shape_of` each piece, in 16-bit numbers. A length past MAX_PIECE wraps: such a piece may
    be looked up for nothing, but is never a name's (longer names are searched as odd ones)."""
    length = np.empty(len(cuts) - 1, dtype=np.uint16)
    np.subtract(cuts[1:], cuts[:-1], out=length, casting="unsafe")
    np.minimum(length, LONG, out=length)
    shape: np.ndarray = codes[cuts[:-1]].astype(np.uint16)
    shape <<= 5
    shape |= length
    return shape


class Shapes:
    """The shapes of some pieces."""

    def __init__(self, pieces: Iterable[str]) -> None:
        self.known = np.zeros(256 << 5, dtype=bool)
        self.known[[shape_of(piece) for piece in pieces]] = True

    def maybe(self, pieces: Pieces) -> np.ndarray:
        """The positions of the pieces with one of these shapes."""
        return np.flatnonzero(self.known[pieces.shape])


class NameSet:
    """Lower-case names, ready to be found in pieces (indices into `words`)."""

    def __init__(self, words: list[str]) -> None:
        self.words = words
        self.lengths = np.array([len(word) for word in words], dtype=np.int64)
        heads: dict[str, int] = {}
        single: dict[str, int] = {}
        longer: dict[int, list[tuple[str, int]]] = {}
        odd: list[tuple[str, int]] = []
        for index, word in enumerate(words):
            if not word.isascii():
                continue  # never in an ASCII text
            pieces = PIECE.findall(word)
            edges = WORD_BYTES[ord(word[0])] and WORD_BYTES[ord(word[-1])]
            if not edges or len(word) > MAX_PIECE:  # see `piece_shapes`
                odd.append((word, index))
                continue
            heads.setdefault(pieces[0], len(heads))
            if len(pieces) == 1:
                single[word] = index
            else:
                longer.setdefault(len(pieces), []).append((word, index))
        self.heads = pa.array(list(heads), pa.string())
        self.head_shapes = Shapes(heads)
        self.head_word = np.full(len(heads), -1, dtype=np.int64)
        for word, index in single.items():
            self.head_word[heads[word]] = index
        self.longer: dict[int, tuple[pa.Array, np.ndarray, np.ndarray, np.ndarray]] = {}
        for width, named in longer.items():
            is_first = np.zeros(len(heads), dtype=bool)
            is_first[[heads[PIECE.findall(word)[0]] for word, _ in named]] = True
            indices = np.array([index for _, index in named], dtype=np.int64)
            self.longer[width] = (
                pa.array([word for word, _ in named], pa.string()),
                indices,
                is_first,
                np.unique(self.lengths[indices]),
            )
        self.odd = build_automaton([(index, word) for word, index in odd])
        self._automaton: ahocorasick.Automaton | None = None

    @property
    def automaton(self) -> ahocorasick.Automaton:
        """Every name in an Aho-Corasick automaton (value: the word's index), built on first use."""
        if self._automaton is None:
            self._automaton = build_automaton(list(enumerate(self.words)))
        return self._automaton

    def find(self, pieces: Pieces) -> Matches:
        """Every match (overlaps included) of every name, on word boundaries, within one text."""
        found = [no_matches()]
        if len(self.heads) and len(pieces.array):
            maybe = self.head_shapes.maybe(pieces)
            found_at = pc.index_in(pieces.array.take(pa.array(maybe)), value_set=self.heads)
            hit = pc.fill_null(found_at, -1).to_numpy()
            at = maybe[hit >= 0]
            head = hit[hit >= 0]
            word = self.head_word[head]
            alone = word >= 0
            found.append((pieces.cuts[at[alone]], pieces.cuts[at[alone] + 1], word[alone]))
            for width, named in self.longer.items():
                found.append(self.find_longer(pieces, at[named[2][head]], width, named))
        if self.odd is not None:
            found.append(find_with_automaton(self.odd, self.lengths, pieces))
        starts, ends, words = zip(*found, strict=True)
        return np.concatenate(starts), np.concatenate(ends), np.concatenate(words)

    @staticmethod
    def find_longer(
        pieces: Pieces,
        first: np.ndarray,
        width: int,
        named: tuple[pa.Array, np.ndarray, np.ndarray, np.ndarray],
    ) -> Matches:
        """Names of `width` pieces, in the windows starting at the pieces `first`."""
        names, indices, _is_first, lengths = named
        first = first[first + width < len(pieces.cuts)]
        starts, ends = pieces.cuts[first], pieces.cuts[first + width]
        fits = np.isin(ends - starts, lengths)
        first, starts, ends = first[fits], starts[fits], ends[fits]
        text_end = pieces.offsets[np.searchsorted(pieces.offsets, starts, side="right")]
        within = ends <= text_end  # the window stays in one text
        first, starts, ends = first[within], starts[within], ends[within]
        if not len(first):
            return no_matches()
        parts = [pieces.array.take(pa.array(first + step)) for step in range(width)]
        windows = pc.binary_join_element_wise(*parts, pa.scalar("", pa.large_string()))
        hit = pc.fill_null(pc.index_in(windows, value_set=names), -1).to_numpy()
        named_at = hit >= 0
        return starts[named_at], ends[named_at], indices[hit[named_at]]


def build_automaton(words: list[tuple[int, str]]) -> ahocorasick.Automaton | None:
    """An Aho-Corasick automaton of (index, word) pairs, or None when there are none."""
    if not words:
        return None
    automaton = ahocorasick.Automaton()
    for index, word in words:
        automaton.add_word(word, index)
    automaton.make_automaton()
    return automaton


def find_with_automaton(
    automaton: ahocorasick.Automaton, lengths: np.ndarray, pieces: Pieces
) -> Matches:
    """Every match of the automaton's names in the texts, kept on word boundaries only."""
    matches = automaton.iter(pieces.lowered.to_pybytes().decode("ascii"))  # (end, word index)
    found = np.fromiter(chain.from_iterable(matches), dtype=np.int64).reshape(-1, 2)
    if not len(found):
        return no_matches()
    offsets, codes = pieces.offsets, np.frombuffer(pieces.lowered, dtype=np.uint8)
    ends, word_index = found[:, 0] + 1, found[:, 1]
    starts = ends - lengths[word_index]
    text = np.searchsorted(offsets, starts, side="right") - 1
    touching = ends > offsets[text + 1]  # straddles two texts
    before = ~touching & (starts > offsets[text])
    touching[before] |= WORD_BYTES[codes[starts[before] - 1]]
    after = ~touching & (ends < offsets[text + 1])
    touching[after] |= WORD_BYTES[codes[ends[after]]]
    return starts[~touching], ends[~touching], word_index[~touching]


def rewrite(
    raw: pa.Buffer, offsets: np.ndarray, starts: np.ndarray, ends: np.ndarray, shown: pa.Array
) -> pa.Array:
    """The texts (their bytes and offsets from 0) with the spans [starts, ends) (sorted, apart)
    replaced by `shown` (one string each), put together by one `take`."""
    count = len(starts)
    cuts = np.empty(2 * count + 2, dtype=np.int64)
    cuts[0], cuts[-1] = 0, raw.size
    cuts[1:-1:2], cuts[2:-1:2] = starts, ends
    kept = pa.Array.from_buffers(pa.large_string(), 2 * count + 1, [None, pa.py_buffer(cuts), raw])
    order = np.empty(2 * count + 1, dtype=np.int64)
    order[0::2] = np.arange(0, 2 * count + 1, 2)
    order[1::2] = np.arange(2 * count + 1, 3 * count + 1)
    pool = pa.concat_arrays([kept, shown.cast(pa.large_string())])
    joined = pool.take(pa.array(order))
    growth = pc.binary_length(shown).to_numpy().astype(np.int64) - (ends - starts)
    shift_before = np.concatenate(([0], np.cumsum(growth)))  # by the spans before each offset
    new_offsets = offsets + shift_before[np.searchsorted(starts, offsets, side="left")]
    buffers = [None, pa.py_buffer(new_offsets), joined.buffers()[2]]
    return pa.Array.from_buffers(pa.large_string(), len(offsets) - 1, buffers).cast(pa.string())


class Names:
    """The names looked for in one table: the roster's (built once) and those learnt from it."""

    def __init__(self, sets: list[NameSet]) -> None:
        self.sets = sets
        self.words = [word for names in sets for word in names.words]
        self.lengths = np.concatenate([names.lengths for names in sets])
        self._automaton: ahocorasick.Automaton | None = None

    @classmethod
    def build(cls, names: Iterable[str]) -> Names | None:
        """These names (those long enough), or None when there are none."""
        words = sorted({name for name in names if len(name) >= MIN_NAME_CHARS})
        return cls([NameSet(words)]) if words else None

    def joined(self, other: Names | None) -> Names:
        """These names and the other's."""
        return self if other is None else Names([*self.sets, *other.sets])

    @property
    def automaton(self) -> ahocorasick.Automaton:
        """Every name in one Aho-Corasick automaton (value: the word's index)."""
        if len(self.sets) == 1:
            return self.sets[0].automaton
        if self._automaton is None:
            self._automaton = build_automaton(list(enumerate(self.words)))
        return self._automaton

    def find(self, pieces: Pieces) -> Matches:
        """Every match of every name (indices into `words`)."""
        found, base = [], 0
        for names in self.sets:
            starts, ends, words = names.find(pieces)
            found.append((starts, ends, words + base))
            base += len(names.words)
        starts, ends, words = zip(*found, strict=True)
        return np.concatenate(starts), np.concatenate(ends), np.concatenate(words)
