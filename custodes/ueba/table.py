"""The feature table: one row per entity and day, one column per feature, plus the peer group."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

#: Peer group of an entity the roster does not know.
UNKNOWN_PEER = "unknown"
REFERENCE_DIR = "reference"


@dataclass(frozen=True)
class FeatureTable:
    """Features of entity-days: `values[i, j]` is feature `names[j]` of `entity[i]` on `day[i]`."""

    entity: np.ndarray  # str objects
    day: np.ndarray  # datetime64[D]
    peer: np.ndarray  # str objects
    names: list[str]
    values: np.ndarray  # float64, rows x features

    def __len__(self) -> int:
        return len(self.entity)

    @classmethod
    def from_long(cls, long: pa.Table, peers: dict[str, str] | None = None) -> FeatureTable:
        """Pivot (entity, day, feature, value) rows; absent features are 0."""
        peers = peers or {}
        entity = np.asarray(long["entity"].to_pylist(), dtype=object)
        day = long["day"].to_numpy().astype("datetime64[D]")
        feature = np.asarray(long["feature"].to_pylist(), dtype=object)
        value = long["value"].to_numpy(zero_copy_only=False).astype(np.float64)
        names = sorted(set(feature.tolist()))
        if len(entity) == 0:
            empty = np.array([], dtype=object)
            return cls(empty, np.array([], "datetime64[D]"), empty, names, np.zeros((0, 0)))
        keys = np.char.add(entity.astype(str), np.char.add("\x00", day.astype(str)))
        unique_keys, row = np.unique(keys, return_inverse=True)
        first = np.zeros(len(unique_keys), dtype=np.int64)
        first[row[::-1]] = np.arange(len(row))[::-1]
        column = np.searchsorted(np.asarray(names, dtype=object), feature)
        values = np.zeros((len(unique_keys), len(names)))
        np.add.at(values, (row, column), value)
        rows_entity = entity[first]
        order = np.lexsort((rows_entity.astype(str), day[first]))
        rows_entity = rows_entity[order]
        return cls(
            rows_entity,
            day[first][order],
            np.asarray([peers.get(name, UNKNOWN_PEER) for name in rows_entity], dtype=object),
            names,
            values[order],
        )

    def column(self, name: str) -> np.ndarray:
        """One feature's values (zeros when the feature never occurred)."""
        if name not in self.names:
            return np.zeros(len(self))
        return self.values[:, self.names.index(name)]

    def to_arrow(self) -> pa.Table:
        """The table as Arrow: entity, day, peer_group, then one column per feature."""
        columns = {
            "entity": pa.array(self.entity.tolist(), pa.string()),
            "day": pa.array(self.day, pa.date32()),
            "peer_group": pa.array(self.peer.tolist(), pa.string()),
        }
        for index, name in enumerate(self.names):
            columns[name] = pa.array(self.values[:, index])
        return pa.table(columns)

    @classmethod
    def from_arrow(cls, table: pa.Table) -> FeatureTable:
        """Read back what `to_arrow` wrote."""
        names = [name for name in table.column_names if name not in ("entity", "day", "peer_group")]
        values = np.column_stack([table[name].to_numpy() for name in names]) if names else None
        return cls(
            np.asarray(table["entity"].to_pylist(), dtype=object),
            table["day"].to_numpy().astype("datetime64[D]"),
            np.asarray(table["peer_group"].to_pylist(), dtype=object),
            names,
            values if values is not None else np.zeros((table.num_rows, 0)),
        )


def peer_groups(data_dir: Path) -> dict[str, str]:
    """Account -> "department / title" from the roster snapshot (admin and service accounts get
    their owner's department and their kind); empty without a roster."""
    folder = data_dir / REFERENCE_DIR
    people, accounts = folder / "people.parquet", folder / "accounts.parquet"
    if not people.exists():
        return {}
    connection = duckdb.connect()
    try:
        rows = connection.execute(
            "SELECT lower(account), coalesce(department, '?') || ' / ' || coalesce(title, '?')"
            f" FROM read_parquet('{people}') WHERE account IS NOT NULL"
        ).fetchall()
        if accounts.exists():
            rows += connection.execute(
                "SELECT lower(a.account), coalesce(p.department, '?') || ' / ' || a.kind"
                f" FROM read_parquet('{accounts}') a LEFT JOIN read_parquet('{people}') p"
                " ON p.employee_id = a.owner_employee_id WHERE a.kind <> 'user'"
            ).fetchall()
    finally:
        connection.close()
    return {str(account): str(group) for account, group in rows}
