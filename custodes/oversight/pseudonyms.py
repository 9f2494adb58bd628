"""Stable keyed pseudonyms (`usr-3f9a1c2b`), and masking whole Arrow tables with them.

A pseudonym is HMAC-SHA256 over the person's identity (the roster's employee id when the roster
knows the account, e-mail or name; else the account without its domain), with a key kept in
`<data_dir>/keys/pseudonym.key`, apart from the lake. The same person always gets the same
pseudonym, whichever column, e-mail or spelling names them.

Masking whole tables, column by column in Arrow, is in `masking.py`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from custodes.oversight.policy import Identifiers

if TYPE_CHECKING:
    from custodes.oversight.masking import MaskResult
    from custodes.oversight.text_names import Names

KEY_FILE = Path("keys") / "pseudonym.key"
PREFIX = "usr-"
MIN_NAME_CHARS = 3  # shorter tokens would rewrite ordinary words
MAX_CACHED_ALIASES = 200_000  # distinct identifier values remembered before starting afresh
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


def reference_files(data_dir: Path) -> tuple[Path, Path]:
    """The HR roster and directory accounts snapshots that `custodes posture import` writes."""
    folder = data_dir / "reference"  # custodes.posture.reference: snapshot <name>.parquet
    return folder / "people.parquet", folder / "accounts.parquet"


@dataclass
class Roster:
    """Every spelling of a person the roster knows -> their employee id."""

    identities: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, data_dir: Path) -> Roster:
        """From the posture reference snapshots (roster and directory accounts), if imported."""
        roster = cls()
        people, accounts = reference_files(data_dir)
        if people.exists():
            for row in pq.read_table(people).to_pylist():
                person = str(row.get("employee_id") or "")
                if not person:
                    continue
                names = [row.get("account"), row.get("email"), row.get("employee_id")]
                full = f"{row.get('first_name') or ''} {row.get('last_name') or ''}".strip()
                roster.add(person, [*names, full if " " in full else None])
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
        self.learnt: dict[str, str | None] = {}  # identifier value -> its name to find in text
        self._alias_keys: list[str] = []
        self._alias_values: list[str | None] = []
        self._alias_arrays: tuple[pa.Array, pa.Array] | None = None
        self._alias_lock = threading.Lock()
        self._names: Names | None = None
        self._learnt_names: tuple[frozenset[str], Names | None] | None = None
        self._is_built = False

    @classmethod
    def for_data_dir(cls, data_dir: Path, identifiers: Identifiers) -> Pseudonymiser:
        """With the data directory's key and roster."""
        return cls(pseudonym_key(data_dir), Roster.load(data_dir), identifiers)

    def roster_names(self) -> Names | None:
        """Every name the roster knows, in an Aho-Corasick automaton (built on first use)."""
        if not self._is_built:
            from custodes.oversight.text_names import Names

            self._names, self._is_built = Names.build(self.roster.identities), True
        return self._names

    def learnt_names(self, names: frozenset[str]) -> Names | None:
        """Names learnt from a table, ready to be found (the last set asked for is kept: the
        same people tend to come back query after query)."""
        from custodes.oversight.text_names import Names

        last = self._learnt_names
        if last is None or last[0] != names:
            last = self._learnt_names = (names, Names.build(names))
        return last[1]

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

    def aliases(self, values: pa.Array) -> pa.Array:
        """Distinct identifier values -> their pseudonyms (null where not a person), each value
        worked out in Python once per pseudonymiser and looked up in Arrow after that."""
        values = values.cast(pa.string())
        arrays = self._alias_arrays
        if arrays is None or len(arrays[0]) > MAX_CACHED_ALIASES:
            with self._alias_lock:
                if len(self._alias_keys) > MAX_CACHED_ALIASES:
                    self._alias_keys, self._alias_values = [], []
                arrays = self._alias_arrays = self._alias_table()
        keys, aliases = arrays
        index = pc.index_in(values, value_set=keys)
        if index.null_count > values.null_count:
            new = pc.unique(pc.filter(values, pc.and_(pc.is_null(index), pc.is_valid(values))))
            with self._alias_lock:  # keys and values stay in step when threads add at once
                for value in new.to_pylist():  # (one added twice is harmless: same pseudonym)
                    self._alias_keys.append(value)
                    self._alias_values.append(
                        self.pseudonym(value) if self.is_person(value) else None
                    )
                keys, aliases = self._alias_arrays = self._alias_table()
            index = pc.index_in(values, value_set=keys)
        return pc.take(aliases, index)

    def _alias_table(self) -> tuple[pa.Array, pa.Array]:
        return (
            pa.array(self._alias_keys, pa.string()),
            pa.array(self._alias_values, pa.string()),
        )

    def mask(
        self, table: pa.Table, revealed: frozenset[str] = frozenset(), *, withhold: bool = False
    ) -> MaskResult:
        """The table with identifiers replaced, except people whose pseudonym is `revealed`;
        with `withhold`, the policy's withheld columns emptied."""
        from custodes.oversight.masking import mask_table  # masking uses this module

        return mask_table(self, table, revealed, withhold=withhold)


def is_pseudonym(text: str) -> bool:
    """Whether text looks like one of our pseudonyms."""
    return bool(PSEUDONYM_PATTERN.match(text))
