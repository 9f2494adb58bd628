"""Answer every test on one field at once, over the distinct values of a batch's column.

contains/startswith/endswith/equals patterns of every rule are answered by one Aho-Corasick
pass per distinct value (see `view.BatchView` for how values are found and deduplicated);
LIKE and regex patterns by Arrow kernels, run only on values holding a literal they require.
"""

from __future__ import annotations

import ipaddress
import re
import re._constants as re_constants  # the parser behind re: finds required literals
import re._parser as re_parser
from dataclasses import dataclass, field

import ahocorasick
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from custodes.detect.compile import STRING_KINDS, Test
from custodes.detect.view import BatchView, Mask, RowsByValue, Segment, distinct

#: Test kinds worth skipping when no rule needs them any more.
COSTLY_KINDS = frozenset({"regex", "like", "cidr", "lt", "lte", "gt", "gte"})


@dataclass
class FieldPlan:
    """Every test a group of rules asks of one Sigma field, prepared for one pass per batch."""

    sources: tuple[str, ...]
    tests: list[tuple[int, Test]]
    automaton: ahocorasick.Automaton | None = None
    equals: dict[str, list[int]] = field(default_factory=dict)
    others: list[tuple[int, Test]] = field(default_factory=list)
    references: dict[str, tuple[str, ...]] = field(default_factory=dict)  # fieldref: sources
    prefiltered: set[int] = field(default_factory=set)  # LIKE/regex tests with a required literal
    #: Tests answered only when some rule still needs them (regex, LIKE, cidr, numbers without
    #: a required literal): most rules are ruled out by their cheap tests first.
    costly: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        words: dict[str, list[tuple[int, str]]] = {}
        for index, test in self.tests:
            if test.kind in STRING_KINDS and not test.cased:
                if test.kind == "equals":
                    self.equals.setdefault(test.value.lower(), []).append(index)
                else:
                    words.setdefault(test.value.lower(), []).append((index, test.kind))
                continue
            self.others.append((index, test))
            literal = required_literal(test)
            if literal:  # only values holding it are handed to the LIKE/regex kernel
                words.setdefault(literal, []).append((index, "needs"))
                self.prefiltered.add(index)
        self.costly = {
            index
            for index, test in self.others
            if test.kind in COSTLY_KINDS and index not in self.prefiltered
        }
        if words:
            self.automaton = ahocorasick.Automaton(ahocorasick.STORE_ANY)
            for word, entries in words.items():
                by_kind = {
                    kind: tuple(index for index, k in entries if k == kind)
                    for kind in ("contains", "startswith", "endswith")
                }
                # LIKE/regex candidates are kept apart from results under -1 - index.
                needs = tuple(-1 - index for index, k in entries if k == "needs")
                payload = (len(word), by_kind["contains"] + needs, by_kind["startswith"])
                self.automaton.add_word(word, (*payload, by_kind["endswith"]))
            self.automaton.make_automaton()

    def evaluate(
        self, view: BatchView, wanted: Mask, out: dict[int, Mask], costly: set[int] | None = None
    ) -> None:
        """Add the row mask of every test that matches some row to `out`.

        Without `costly`: every test but the costly ones; with it: only those costly tests.
        """
        segments = view.segments(self.sources, wanted)
        found_rows: dict[int, list[np.ndarray]] = {}
        for segment in segments:
            self.evaluate_segment(view, segment, found_rows, costly)
        for index, parts in found_rows.items():
            mask = np.zeros(view.rows, dtype=bool)
            for rows in parts:
                mask[rows] = True
            out[index] = mask
        if costly is not None:
            return
        for index, test in self.others:
            if test.kind in ("null", "exists", "fieldref"):
                other = self.references.get(test.value, (test.value,))
                found = row_test(test, view, (self.sources, other), segments, wanted)
                if found is not None:
                    out[index] = found

    def evaluate_segment(
        self,
        view: BatchView,
        segment: Segment,
        found_rows: dict[int, list[np.ndarray]],
        costly: set[int] | None = None,
    ) -> None:
        """Run the value tests over the distinct values of one segment (see `evaluate`)."""
        if segment.name:
            dictionary, inverse = segment.dictionary, segment.codes
        else:
            distinct_codes, inverse = distinct(segment)
            dictionary = segment.dictionary.take(pa.array(distinct_codes))
        hits: dict[int, np.ndarray] = {}
        if costly is None and (self.equals or self.automaton is not None):
            self.scan(pc.utf8_lower(dictionary).to_pylist(), hits)
        by_test: dict[int, np.ndarray] = {}
        for index, positions in hits.items():
            if index >= 0:
                flags = np.zeros(len(dictionary), dtype=bool)
                flags[positions] = True
                by_test[index] = flags
        for index, test in self.others:
            if test.kind in ("null", "exists", "fieldref"):
                continue
            if costly is None:
                if index in self.costly:
                    continue
            elif index not in costly:
                continue
            if index in self.prefiltered:
                found = prefiltered_test(test, dictionary, hits.get(-1 - index))
            else:
                found = value_test(test, dictionary)
            if found is not None:
                by_test[index] = found
        if len(by_test) > 4 and len(inverse) > 8 * len(dictionary):
            rows_of = (
                view.rows_by_value(segment)
                if segment.name
                else RowsByValue(segment.rows, inverse, len(dictionary))
            )
            for index, flags in by_test.items():
                found_rows.setdefault(index, []).append(rows_of.rows(np.flatnonzero(flags)))
            return
        for index, flags in by_test.items():
            rows = segment.rows[flags[inverse]]
            if len(rows):
                found_rows.setdefault(index, []).append(rows)

    def scan(self, lowered: list[str | None], hits: dict[int, np.ndarray]) -> None:
        """One pass over the distinct values for every equals/contains/startswith/endswith."""
        equals = self.equals
        automaton = self.automaton
        tests: list[int] = []
        positions: list[int] = []
        add_test, add_position = tests.append, positions.append
        for position, value in enumerate(lowered):
            if value is None:
                continue
            same = equals.get(value)
            if same is not None:
                for index in same:
                    add_test(index)
                    add_position(position)
            if automaton is None:
                continue
            last = len(value) - 1
            for end, (length, anywhere, at_start, at_end) in automaton.iter(value):
                for index in anywhere:
                    add_test(index)
                    add_position(position)
                if at_start and end == length - 1:
                    for index in at_start:
                        add_test(index)
                        add_position(position)
                if at_end and end == last:
                    for index in at_end:
                        add_test(index)
                        add_position(position)
        if not tests:
            return
        test_array = np.array(tests, dtype=np.int64)
        order = np.argsort(test_array, kind="stable")
        found, starts = np.unique(test_array[order], return_index=True)
        grouped = np.split(np.array(positions, dtype=np.int64)[order], starts[1:])
        hits.update(zip(found.tolist(), grouped, strict=True))


def required_literal(test: Test) -> str:
    """A lowercase text every value matching this LIKE or regex test contains ("" if none)."""
    runs: list[str] = []
    current: list[str] = []
    if test.kind == "like":
        escaped = False
        for char in test.value:
            if escaped or char not in "%_\\":
                current.append(char)
                escaped = False
            elif char == "\\":
                escaped = True
            else:
                runs.append("".join(current))
                current = []
    elif test.kind == "regex":
        try:
            parsed = re_parser.parse(test.value)
        except (re.error, RecursionError, OverflowError, ValueError):
            return ""
        for op, argument in parsed.data:
            if op is re_constants.LITERAL:
                current.append(chr(argument))
            else:
                runs.append("".join(current))
                current = []
    else:
        return ""
    runs.append("".join(current))
    longest = max(runs, key=len).lower()
    return longest if len(longest) >= 3 else ""


def prefiltered_test(
    test: Test, dictionary: pa.Array, candidates: np.ndarray | None
) -> np.ndarray | None:
    """A LIKE/regex test run only on the values that hold its required literal."""
    if candidates is None or len(candidates) == 0:
        return None
    positions = np.unique(candidates)
    found = value_test(test, dictionary.take(pa.array(positions)))
    if found is None:
        return None
    flags = np.zeros(len(dictionary), dtype=bool)
    flags[positions[found]] = True
    return flags


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


#: Counted repetitions this large make RE2 build a huge automaton on every call (Arrow does not
#: keep compiled patterns); Python's re, which caches, matches them quickly.
LARGE_REPEAT = re.compile(r"\{\d{3,}")


def regex_test(pattern: str, dictionary: pa.Array) -> pa.Array:
    """RE2 through Arrow when the pattern suits it, else Python's re."""
    if not LARGE_REPEAT.search(pattern):
        try:
            return pc.match_substring_regex(dictionary, pattern)
        except pa.ArrowInvalid:
            pass  # a construct RE2 lacks (lookaround, backreference)
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
    segments: list[Segment],
    wanted: Mask,
) -> Mask | None:
    """Tests about presence (null, exists) or about two fields of one row (fieldref)."""
    mask = np.zeros(view.rows, dtype=bool)
    if test.kind == "exists":
        for segment in segments:
            mask[segment.rows] = True
    elif test.kind == "null":  # absent or empty
        mask[:] = wanted
        for segment in segments:
            empty = pc.equal(segment.dictionary, "").fill_null(True)
            is_empty = np.asarray(empty.to_numpy(zero_copy_only=False), dtype=bool)
            mask[segment.rows[~is_empty[segment.codes]]] = False
    else:  # fieldref: equal to another field of the same event
        here = view.row_values(sources[0], wanted)
        other = view.row_values(sources[1], wanted)
        same = pc.equal(pc.utf8_lower(here), pc.utf8_lower(other)).fill_null(False)
        mask = np.asarray(same.to_numpy(zero_copy_only=False), dtype=bool)
    return mask if mask.any() else None
