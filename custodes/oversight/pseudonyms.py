"""Stable keyed pseudonyms (`usr-3f9a1c2b`), and masking whole Arrow tables with them.

A pseudonym is HMAC-SHA256 over the person's identity (the roster's employee id when the roster
knows the account, e-mail or name; else the account without its domain), with a key kept in
`<data_dir>/keys/pseudonym.key`, apart from the lake. The same person always gets the same
pseudonym, whichever column, e-mail or spelling names them.

Masking is columnar: each column is dictionary-encoded, the distinct values are mapped once, and
free text is searched with one regular expression in Arrow before any value is rewritten.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from custodes.oversight.policy import Identifiers

KEY_FILE = Path("keys") / "pseudonym.key"
PREFIX = "usr-"
MIN_NAME_CHARS = 3  # shorter tokens would rewrite ordinary words
PSEUDONYM_PATTERN = re.compile(r"^usr-[0-9a-f]{8}$")


def pseudonym_key(data_dir: Path) -> bytes:
    """The pseudonymisation key, made on first use (mode 0600)."""
    path = data_dir / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes()
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_bytes(32))
            handle.flush()
            os.fsync(handle.fileno())
    return path.read_bytes()


def short_account(value: str) -> str:
    """`AGENCY\\JSmith` or `jsmith@agency.gov` -> `jsmith`."""
    text = value.strip().lower()
    text = text.rsplit("\\", 1)[-1]
    return text.split("@", 1)[0]


@dataclass
class Roster:
    """Every spelling of a person the roster knows -> their employee id."""

    identities: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, data_dir: Path) -> Roster:
        """From the posture reference snapshots (roster and directory accounts), if imported."""
        roster = cls()
        folder = data_dir / "reference"
        people = folder / "roster.parquet"
        if people.exists():
            for row in pq.read_table(people).to_pylist():
                person = str(row.get("employee_id") or "")
                if not person:
                    continue
                names = [row.get("account"), row.get("email"), row.get("employee_id")]
                full = f"{row.get('first_name') or ''} {row.get('last_name') or ''}".strip()
                roster.add(person, [*names, full if " " in full else None])
        accounts = folder / "accounts.parquet"
        if accounts.exists():
            for row in pq.read_table(accounts).to_pylist():
                person = str(row.get("employee_id") or "")
                if person:
                    names = [row.get("sam_account_name"), row.get("user_principal_name")]
                    roster.add(person, [*names, row.get("display_name")])
        return roster

    def add(self, person: str, names: Iterable[object]) -> None:
        """Record spellings of one person."""
        for name in names:
            if isinstance(name, str) and len(name.strip()) >= MIN_NAME_CHARS:
                self.identities[name.strip().lower()] = person
                self.identities.setdefault(short_account(name), person)

    def identity(self, value: str) -> str:
        """The identity a value names: the employee id if known, else the short account."""
        lowered = value.strip().lower()
        found = self.identities.get(lowered) or self.identities.get(short_account(value))
        return f"person:{found}" if found else f"account:{short_account(value)}"


class Pseudonymiser:
    """Maps person identifiers to pseudonyms, and masks tables (one per data directory)."""

    def __init__(self, key: bytes, roster: Roster, identifiers: Identifiers) -> None:
        self.key = key
        self.roster = roster
        self.identifiers = identifiers
        self.system = {name.lower() for name in identifiers.system_accounts}
        self.cache: dict[str, str] = {}

    @classmethod
    def for_data_dir(cls, data_dir: Path, identifiers: Identifiers) -> Pseudonymiser:
        """With the data directory's key and roster."""
        return cls(pseudonym_key(data_dir), Roster.load(data_dir), identifiers)

    def is_person(self, value: str) -> bool:
        """Whether a value in an identifier column names a person (not SYSTEM, not a machine)."""
        text = value.strip()
        return bool(text) and text.lower() not in self.system and not text.endswith("$")

    def pseudonym(self, value: str) -> str:
        """The stable pseudonym of whoever `value` names."""
        found = self.cache.get(value)
        if found is None:
            identity = self.roster.identity(value)
            digest = hmac.new(self.key, identity.encode(), hashlib.sha256).hexdigest()
            found = self.cache[value] = PREFIX + digest[:8]
        return found

    def mask(self, table: pa.Table, revealed: frozenset[str] = frozenset()) -> MaskResult:
        """The table with identifiers replaced, except people whose pseudonym is `revealed`."""
        run = MaskRun(self, revealed)
        names = set(self.identifiers.columns)
        text = set(self.identifiers.free_text)
        # Names seen in identifier columns are searched for in free text too (roster or not).
        for name in names & set(table.column_names):
            run.learn(table.column(name))
        columns = []
        for name in table.column_names:
            column = table.column(name)
            if name in names:
                column = run.map_values(column, run.identifier)
            elif name in text:
                column = run.map_values(column, run.free_text, prefilter=True)
            elif name == "fields" and pa.types.is_map(column.type):
                column = run.mask_fields(column)
            columns.append(column)
        masked = pa.Table.from_arrays(columns, schema=table.schema)
        return MaskResult(masked, frozenset(run.revealed_seen), frozenset(run.masked_seen))


@dataclass(frozen=True)
class MaskResult:
    """A masked table, the pseudonyms shown in clear, and those masked."""

    table: pa.Table
    revealed: frozenset[str]
    masked: frozenset[str]


class MaskRun:
    """One masking pass over a table: the names it learnt and the pseudonyms it used."""

    def __init__(self, owner: Pseudonymiser, revealed: frozenset[str]) -> None:
        self.owner = owner
        self.revealed = revealed
        self.revealed_seen: set[str] = set()
        self.masked_seen: set[str] = set()
        self.names: dict[str, str] = dict(owner.roster.identities)
        self._pattern: re.Pattern[str] | None = None

    def learn(self, column: pa.ChunkedArray) -> None:
        """Add the person values of an identifier column to the free-text names."""
        for value in pc.unique(column).to_pylist():
            if isinstance(value, str) and self.owner.is_person(value):
                short = short_account(value)
                if len(short) >= MIN_NAME_CHARS:
                    self.names.setdefault(short, value)
                    self.names.setdefault(value.strip().lower(), value)

    def pattern(self) -> re.Pattern[str] | None:
        """One alternation of every known name, longest first, on word boundaries."""
        if self._pattern is None and self.names:
            words = sorted(self.names, key=len, reverse=True)
            alternatives = "|".join(re.escape(word) for word in words)
            self._pattern = re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)
        return self._pattern

    def identifier(self, value: str) -> str:
        """An identifier column's value -> its pseudonym (unless revealed or not a person)."""
        if not self.owner.is_person(value):
            return value
        alias = self.owner.pseudonym(value)
        if alias in self.revealed:
            self.revealed_seen.add(alias)
            return value
        self.masked_seen.add(alias)
        return alias

    def free_text(self, value: str) -> str:
        """Every known name inside free text -> its pseudonym."""
        pattern = self.pattern()
        if pattern is None:
            return value
        return pattern.sub(lambda match: self.identifier(match.group(0)), value)

    def map_values(
        self,
        column: pa.ChunkedArray | pa.Array,
        mapper: Callable[[str], str],
        *,
        prefilter: bool = False,
    ) -> pa.Array:
        """Apply `mapper` once per distinct value (with `prefilter`, only to pattern hits)."""
        array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        if len(array) == 0 or array.null_count == len(array):
            return array
        encoded = pc.dictionary_encode(array)
        dictionary = encoded.dictionary
        if prefilter:
            pattern = self.pattern()
            if pattern is None:
                return array
            hits = pc.match_substring_regex(dictionary, pattern.pattern, ignore_case=True)
            if not pc.any(hits).as_py():
                return array
            chosen = pc.filter(dictionary, hits)
            rewritten = pa.array([mapper(value) for value in chosen.to_pylist()], pa.string())
            dictionary = pc.replace_with_mask(dictionary, hits, rewritten)
        else:
            dictionary = pa.array([mapper(value) for value in dictionary.to_pylist()], pa.string())
        return pc.take(dictionary, encoded.indices)

    def mask_fields(self, column: pa.ChunkedArray) -> pa.Array:
        """The `fields` map: identifier keys get pseudonyms, every other value is free text."""
        maps = column.combine_chunks()
        offsets = maps.offsets
        start, end = offsets[0].as_py(), offsets[-1].as_py()
        keys = maps.keys.slice(start, end - start)
        items = maps.items.slice(start, end - start)
        if start:
            offsets = pc.subtract(offsets, pa.scalar(start, offsets.type))
        is_identifier = pc.fill_null(
            pc.is_in(keys, value_set=pa.array(list(self.owner.identifiers.fields), pa.string())),
            False,
        )
        masked = self.map_values(items, self.free_text, prefilter=True)
        if pc.any(is_identifier).as_py():
            ids = self.map_values(pc.filter(items, is_identifier), self.identifier)
            masked = pc.replace_with_mask(masked, is_identifier, ids)
        mask = maps.is_null() if maps.null_count else None
        return pa.MapArray.from_arrays(offsets, keys, masked, type=maps.type, mask=mask)


def is_pseudonym(text: str) -> bool:
    """Whether text looks like one of our pseudonyms."""
    return bool(PSEUDONYM_PATTERN.match(text))
