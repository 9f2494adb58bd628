"""Host baselines: the same feature families with the host as the entity.

A host's day is read from the events logged on it (proxy and phone records are left out: they
describe the person, not the machine). The account and host columns swap places, so the
account families answer host questions: `distinct_hosts` becomes the accounts that logged on,
`first_seen_hosts` the accounts never seen on this host before. Hosts are named `host:<name>`
(lower case, without the domain) and form one peer group per role prefix (`host:ws`, `host:srv`).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np

from custodes.store import connect
from custodes.ueba.features import (
    COUNTS_SQL,
    FIRST_SEEN_SQL,
    OFF_HOURS_SQL,
    USUAL_HOUR_SHARE,
    USUAL_HOURS_DAYS,
    USUAL_HOURS_MIN_EVENTS,
    load_base,
)
from custodes.ueba.table import FeatureTable

HOST_PREFIX = "host:"
HOST_VIEW_SQL = """
CREATE OR REPLACE TEMP VIEW host_base AS
SELECT * REPLACE ('host:' || host AS entity, entity AS host) FROM base
WHERE host IS NOT NULL AND host <> '' AND dataset NOT IN ('cef', 'mdm.checkin')
"""
#: Account features renamed for hosts; features that mean nothing for a machine are dropped.
RENAMES = {"distinct_hosts": "distinct_accounts", "first_seen_hosts": "first_seen_accounts"}
DROPPED = ("device_checkins", "distinct_countries", "first_seen_country", "web_requests")
ROLE = re.compile(r"^host:([a-z]+)")


def host_queries() -> list[str]:
    """The account families over `host_base`."""
    off_hours = OFF_HOURS_SQL.format(
        days=USUAL_HOURS_DAYS, min_events=USUAL_HOURS_MIN_EVENTS, share=USUAL_HOUR_SHARE
    )
    return [
        query.replace("FROM base", "FROM host_base")
        for query in (COUNTS_SQL, FIRST_SEEN_SQL, off_hours)
    ]


def host_peer(name: str) -> str:
    """The peer group of a host: the letters its name starts with (`host:ws`, `host:dc`)."""
    found = ROLE.match(name)
    return f"host:{found.group(1)}" if found else "host:other"


def compute_host_features(
    data_dir: Path, *, since: date = date(1970, 1, 1), until: date = date(9999, 12, 31)
) -> FeatureTable:
    """Every host feature of every host and day in [since, until]."""
    connection = connect(data_dir)
    try:
        load_base(connection, since, until)
        connection.execute(HOST_VIEW_SQL)
        union = " UNION ALL ".join(f"({query})" for query in host_queries())
        long = connection.sql(
            f"SELECT * FROM ({union}) WHERE value <> 0 AND feature NOT IN {DROPPED}"
        ).to_arrow_table()
    finally:
        connection.close()
    table = FeatureTable.from_long(long)
    names = [RENAMES.get(name, name) for name in table.names]
    peers = np.asarray([host_peer(str(name)) for name in table.entity], dtype=object)
    return FeatureTable(table.entity, table.day, peers, names, table.values)
