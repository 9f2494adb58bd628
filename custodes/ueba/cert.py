"""CERT Insider Threat r4.2 as it is shared here: the answer key, LDAP and the head of each log.

The full logs are not available, so the protocol is an injection replay (docs/ueba.md): users of
the developer partition, benign logon and device rows 2010-01-02..01-20 from the head samples
(the other logs' samples cover only 1-6 days and are left out, else their mere presence would
give the answer away); days up to 01-12 are history, 01-13..01-20 the test days. Each malicious
day of an insider (its rows from the answer key, times of day kept) is laid over one of the
insider's own test days of the same kind (weekday / weekend) as a separate copy of the insider
(`USER#n`) that shares the real history. Labels: the copies' injected days.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from custodes.errors import CustodesError
from custodes.ueba.table import FeatureTable

FIRST_DAY, TEST_DAY, LAST_DAY = date(2010, 1, 2), date(2010, 1, 13), date(2010, 1, 20)
#: Malicious days replayed per insider (long incidents would otherwise swamp the test set).
MAX_DAYS_PER_INSIDER = 10
STAMP = "%m/%d/%Y %H:%M:%S"

FEATURES_SQL = """
WITH firsts AS (
  SELECT entity, pc, min(day) AS first_day FROM rows WHERE kind = 'logon' GROUP BY ALL
), usb_start AS (
  SELECT entity, min(day) AS first_day FROM rows WHERE kind = 'usb' GROUP BY ALL
), starts AS (SELECT min(day) AS start FROM rows)
SELECT r.entity, r.day, unnest(map_keys(m)) AS feature, unnest(map_values(m)) AS value FROM (
  SELECT entity, day, MAP {
    'logons': count(*) FILTER (kind = 'logon')::DOUBLE,
    'distinct_hosts': count(DISTINCT pc) FILTER (kind = 'logon')::DOUBLE,
    'off_hours_logons': count(*) FILTER (kind = 'logon' AND (hour < 7 OR hour >= 19))::DOUBLE,
    'off_hours_activity': count(*) FILTER (hour < 7 OR hour >= 19)::DOUBLE,
    'weekend_activity': count(*) FILTER (isodow(day) >= 6)::DOUBLE,
    'usb_connects': count(*) FILTER (kind = 'usb')::DOUBLE,
    'events': count(*)::DOUBLE
  } AS m FROM rows GROUP BY entity, day
) r
UNION ALL
SELECT f.entity, f.first_day, 'first_seen_hosts', count(*)::DOUBLE FROM firsts f, starts s
WHERE f.first_day > s.start GROUP BY ALL
UNION ALL
SELECT u.entity, u.first_day, 'first_seen_usb', 1.0 FROM usb_start u, starts s
WHERE u.first_day > s.start
"""


class DatasetError(CustodesError):
    """A labelled data set is missing files or unreadable."""


@dataclass(frozen=True)
class LabelledDays:
    """A feature table with a label per row, the real user and the day number in the incident."""

    table: FeatureTable
    label: np.ndarray
    user: np.ndarray
    incident_day: np.ndarray
    is_test: np.ndarray


def parse_stamp(text: str) -> datetime:
    """A CERT time (`01/02/2010 07:21:06`)."""
    return datetime.strptime(text.strip(), STAMP)


def read_rows(path: Path, kind: str, users: set[str]) -> list[tuple[str, datetime, str, str]]:
    """(user, time, kind, pc) of a head-sample file within the window."""
    rows = []
    with path.open(newline="") as handle:
        for record in csv.DictReader(handle):
            if record["user"] not in users:
                continue
            at = parse_stamp(record["date"])
            if FIRST_DAY <= at.date() <= LAST_DAY and record["activity"] in ("Logon", "Connect"):
                rows.append((record["user"], at, kind, record["pc"]))
    return rows


def read_answers(root: Path, users: set[str]) -> dict[str, list[tuple[datetime, str, str]]]:
    """Insider -> its malicious logon/device rows (time, kind, pc) from the r4.2 answer key."""
    found: dict[str, list[tuple[datetime, str, str]]] = {}
    for path in sorted((root / "answers").glob("r4.2-*/r4.2-*-*.csv")):
        user = path.stem.rsplit("-", 1)[1]
        if user not in users:
            continue
        with path.open(newline="") as handle:
            for record in csv.reader(handle):
                if record[0] == "logon" and record[5] == "Logon":
                    found.setdefault(user, []).append((parse_stamp(record[2]), "logon", record[4]))
                elif record[0] == "device" and record[5] == "Connect":
                    found.setdefault(user, []).append((parse_stamp(record[2]), "usb", record[4]))
    return found


def stable_index(text: str, count: int) -> int:
    """A deterministic choice among `count` (sha256, as the data set's own split)."""
    return int(hashlib.sha256(text.encode()).hexdigest(), 16) % count


def load_cert(root: Path) -> LabelledDays:
    """The replay protocol's labelled user-days (see the module docstring)."""
    sample = root / "r4.2" / "head_sample"
    partition = root / "r4.2" / "partition_dev_users.txt"
    if not (sample / "logon.csv").exists() or not partition.exists():
        raise DatasetError(f"{root} lacks r4.2/head_sample/logon.csv or partition_dev_users.txt")
    users = set(partition.read_text().split())
    rows = read_rows(sample / "logon.csv", "logon", users)
    rows += read_rows(sample / "device.csv", "usb", users)
    answers = read_answers(root, users)
    test_days: dict[tuple[str, bool], list[date]] = {}
    for user, at, _, _ in rows:
        if at.date() >= TEST_DAY:
            test_days.setdefault((user, at.date().isoweekday() >= 6), []).append(at.date())
    by_user: dict[str, list[tuple[str, datetime, str, str]]] = {}
    for row in rows:
        by_user.setdefault(row[0], []).append(row)
    labelled: dict[str, tuple[str, int]] = {}  # copy -> (user, day number in the incident)
    for user, malicious in sorted(answers.items()):
        start = min(at.date() for at, _, _ in malicious)
        days = sorted({at.date() for at, _, _ in malicious})[:MAX_DAYS_PER_INSIDER]
        for number, day in enumerate(days):
            weekend = day.isoweekday() >= 6
            choices = sorted(set(test_days.get((user, weekend), [])))
            choices = choices or sorted(set(test_days.get((user, not weekend), [])))
            if not choices:
                continue
            target = choices[stable_index(f"{user}{day}", len(choices))]
            copy = f"{user}#{number}"
            labelled[copy] = (user, (day - start).days)
            own = by_user.get(user, [])
            rows += [
                (copy, at, kind, pc)
                for _, at, kind, pc in own
                if at.date() < TEST_DAY or at.date() == target
            ]
            rows += [
                (copy, datetime.combine(target, at.time()), kind, pc)
                for at, kind, pc in malicious
                if at.date() == day
            ]
    return labelled_days(rows, labelled, directory_peers(root))


def directory_peers(root: Path) -> dict[str, str]:
    """User -> "functional unit / role" from the January 2010 LDAP snapshot."""
    peers = {}
    with (root / "r4.2" / "LDAP" / "2010-01.csv").open(newline="") as handle:
        for record in csv.DictReader(handle):
            peers[record["user_id"]] = f"{record['functional_unit']} / {record['role']}"
    return peers


def labelled_days(
    rows: list[tuple[str, datetime, str, str]],
    labelled: dict[str, tuple[str, int]],
    peers: dict[str, str],
) -> LabelledDays:
    """Features of the rows in DuckDB; labels for the copies' injected days."""
    events = pa.table(
        {
            "entity": [r[0] for r in rows],
            "stamp": [r[1] for r in rows],
            "kind": [r[2] for r in rows],
            "pc": [r[3] for r in rows],
        }
    )
    connection = duckdb.connect()
    try:
        connection.register("raw", events)
        connection.execute(
            "CREATE TEMP TABLE rows AS SELECT DISTINCT entity, CAST(stamp AS DATE) AS day,"
            " hour(stamp) AS hour, stamp, kind, pc FROM raw"
        )
        long = connection.sql(f"SELECT * FROM ({FEATURES_SQL}) WHERE value <> 0").to_arrow_table()
    finally:
        connection.close()
    copy_peers = {copy: peers.get(user, "unknown") for copy, (user, _) in labelled.items()}
    table = FeatureTable.from_long(long, {**peers, **copy_peers})
    is_copy = np.array(["#" in name for name in table.entity])
    is_test = table.day >= np.datetime64(TEST_DAY)
    label = is_copy & is_test
    user = np.array([labelled[e][0] if e in labelled else e for e in table.entity], dtype=object)
    incident = np.array([labelled[e][1] if e in labelled else 0 for e in table.entity])
    return LabelledDays(table, label, user, incident, is_test)
