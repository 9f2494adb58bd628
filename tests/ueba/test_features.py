"""Features per account and day, computed in DuckDB over a small hand-made lake."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from custodes.ueba import FeatureTable, compute_features
from tests.ueba.office import at, logon, privilege, web, write_lake, write_roster


def value(table: FeatureTable, entity: str, day: str, feature: str) -> float:
    """One feature of one entity-day (0 when absent)."""
    rows = np.flatnonzero((table.entity == entity) & (table.day == np.datetime64(day)))
    assert len(rows) == 1, (entity, day)
    return float(table.column(feature)[rows[0]])


def test_counts_first_seen_and_off_hours(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    rows = [
        logon(at(0, 9), "AGENCY\\Alice", "WS-01.office.example", "10.0.0.1"),
        logon(at(0, 10), "alice@OFFICE.EXAMPLE", "WS-01", "10.0.0.1"),
        logon(at(0, 11), "alice", "WS-01", "10.0.0.1", ok=False),
        web(at(0, 12), "alice", "10.0.0.1", "intranet.example", "Business", 1000),
        logon(at(1, 3), "alice", "SRV-09", "10.0.0.1"),
        logon(at(1, 9), "alice", "WS-01", "10.0.0.7"),
        privilege(at(1, 3), "alice", "SRV-09"),
        web(at(1, 9), "alice", "10.0.0.7", "files.example", "Personal Storage", 5000),
        web(at(1, 9.5), "alice", "10.0.0.7", "files.example", "Personal Storage", 7000),
        logon(at(1, 9), "bob", "WS-02", "10.0.0.2"),
    ]
    # bob's failed logons come from alice's address: they count as hers, naming two accounts
    rows += [logon(at(1, 4), "carol", "DC01", "10.0.0.7", ok=False)]
    rows += [logon(at(1, 4), "dave", "DC01", "10.0.0.7", ok=False)]
    write_lake(data_dir, rows)
    write_roster(data_dir, 2)

    table = compute_features(data_dir)

    assert value(table, "alice", "2026-03-02", "logons") == 2  # three spellings, one account
    assert value(table, "alice", "2026-03-02", "failed_logons") == 1
    assert value(table, "alice", "2026-03-02", "bytes_out") == 1000
    assert value(table, "alice", "2026-03-02", "first_seen_hosts") == 0  # first day: all new
    assert value(table, "alice", "2026-03-03", "distinct_hosts") == 2
    assert value(table, "alice", "2026-03-03", "first_seen_hosts") == 1  # srv-09
    assert value(table, "alice", "2026-03-03", "first_seen_source_ip") == 1  # 10.0.0.7
    assert value(table, "alice", "2026-03-03", "off_hours_logons") == 1  # 03:00
    assert value(table, "alice", "2026-03-03", "privileged_actions") == 1
    assert value(table, "alice", "2026-03-03", "web_category_personal_storage") == 2
    assert value(table, "alice", "2026-03-03", "bytes_out") == 12000
    assert value(table, "alice", "2026-03-03", "failed_logons_from_own_address") == 2
    assert value(table, "alice", "2026-03-03", "distinct_target_accounts") == 2
    assert value(table, "carol", "2026-03-03", "failed_logons") == 1
    assert value(table, "bob", "2026-03-03", "logons") == 1
    peers = dict(zip(table.entity.tolist(), table.peer.tolist(), strict=True))
    assert peers["alice"] == "unknown"  # not on the roster


def test_off_hours_follow_the_accounts_own_hours(tmp_path: Path) -> None:
    """A night worker's 02:30 logon is usual for them; a day worker's is not."""
    data_dir = tmp_path / "data"
    rows = []
    for day in range(10):
        for minute in range(8):
            rows.append(logon(at(day, 2 + minute / 10), "night", "WS-01", "10.0.0.1"))
            rows.append(logon(at(day, 10 + minute / 10), "day", "WS-02", "10.0.0.2"))
    rows += [logon(at(10, 2.5), "night", "WS-01", "10.0.0.1")]
    rows += [logon(at(10, 2.5), "day", "WS-02", "10.0.0.2")]
    write_lake(data_dir, rows)

    table = compute_features(data_dir)

    assert value(table, "night", "2026-03-12", "off_hours_logons") == 0
    assert value(table, "day", "2026-03-12", "off_hours_logons") == 1
