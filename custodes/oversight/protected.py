"""Protected channels: their events are never stored, only counted per day.

`ProtectedChannels.withhold(batch)` is the ingest step between normalise and the WAL: it drops
matching rows and adds them to a per-day, per-channel counter kept durably in
`<data_dir>/oversight/protected_counts.json`. Nothing else of those events is kept.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from custodes.oversight.policy import Policy, ProtectedChannel

COUNTS_FILE = Path("oversight") / "protected_counts.json"
#: Columns searched for a channel's domains, hosts and e-mail addresses.
TEXT_COLUMNS = ("destination.domain", "url.original", "message", "event.original")
ADDRESS_COLUMNS = ("destination.ip", "source.ip")


def channel_pattern(channel: ProtectedChannel) -> str | None:
    """One case-insensitive regular expression for a channel's names (None when it has none)."""
    names = [*channel.domains, *channel.emails, *channel.hosts]
    if not names:
        return None
    alternatives = "|".join(re.escape(name.lower()) for name in names)
    # A name or a subdomain of it, not part of a longer name: `oig.gov` matches `www.oig.gov`,
    # never `notoig.gov`.
    return f"(?i)(^|[^a-z0-9-])({alternatives})($|[^a-z0-9-])"


def channel_rows(batch: pa.RecordBatch, channel: ProtectedChannel) -> pa.Array:
    """A boolean mask of the rows that belong to one channel."""
    mask = pa.array([False] * batch.num_rows)
    pattern = channel_pattern(channel)
    names = batch.schema.names
    if pattern is not None:
        for column in TEXT_COLUMNS:
            if column in names:
                hit = pc.match_substring_regex(batch.column(column), pattern)
                mask = pc.or_kleene(mask, pc.fill_null(hit, False))
    if channel.addresses:
        wanted = pa.array(list(channel.addresses))
        for column in ADDRESS_COLUMNS:
            if column in names:
                mask = pc.or_kleene(mask, pc.is_in(batch.column(column), value_set=wanted))
    if channel.ports and "destination.port" in names:
        ports = pa.array(list(channel.ports), pa.int32())
        mask = pc.or_kleene(mask, pc.is_in(batch.column("destination.port"), value_set=ports))
    return mask


class ProtectedChannels:
    """The withholding step of one data directory (thread-safe)."""

    def __init__(self, data_dir: Path, channels: tuple[ProtectedChannel, ...]) -> None:
        self.path = data_dir / COUNTS_FILE
        self.channels = channels
        self.lock = threading.Lock()

    @classmethod
    def from_policy(cls, data_dir: Path, policy: Policy) -> ProtectedChannels:
        """The step for the policy's channels."""
        return cls(data_dir, policy.protected_channels)

    def withhold(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """The batch without protected-channel rows; those are counted per day, then forgotten."""
        if not self.channels or batch.num_rows == 0:
            return batch
        counts: Counter[tuple[str, str]] = Counter()
        dropped = pa.array([False] * batch.num_rows)
        for channel in self.channels:
            mask = pc.and_kleene(channel_rows(batch, channel), pc.invert(dropped))
            if not pc.any(mask).as_py():
                continue
            days = pc.strftime(pc.filter(batch.column("@timestamp"), mask), format="%Y-%m-%d")
            for day, count in Counter(days.to_pylist()).items():
                counts[(str(day), channel.name)] += count
            dropped = pc.or_kleene(dropped, mask)
        if not counts:
            return batch
        self.add(counts)
        return batch.filter(pc.invert(dropped))

    def add(self, counts: Counter[tuple[str, str]]) -> None:
        """Add to the durable counter (written atomically and synced before the batch goes on)."""
        with self.lock:
            current = read_counts_file(self.path)
            for (day, name), count in counts.items():
                per_day = current.setdefault(day, {})
                per_day[name] = per_day.get(name, 0) + count
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(self.path.name + ".tmp")
            with temporary.open("w") as handle:
                json.dump(current, handle, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)


def read_counts_file(path: Path) -> dict[str, dict[str, int]]:
    """Day -> channel name -> events withheld."""
    if not path.exists():
        return {}
    data: dict[str, dict[str, int]] = json.loads(path.read_text())
    return data


def protected_counts(data_dir: Path) -> dict[str, dict[str, int]]:
    """Day -> channel name -> events withheld, for reports."""
    return read_counts_file(data_dir / COUNTS_FILE)
