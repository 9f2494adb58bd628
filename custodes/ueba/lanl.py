"""LANL 2015 authentication data with the red-team events as labels (user-day protocol).

Needs `auth.txt` (or `auth*.txt[.gz]`) in LANL's format under the folder beside `redteam*.txt`;
the shared folder holds only the red-team half and a DNS sample, so `load_lanl` says so.
Times are seconds from the start of the collection; day = time // 86400. An account is
`user@domain` as LANL writes it (U8777@C583 and U8777@DOM1 are different accounts).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np

from custodes.ueba.cert import DatasetError, LabelledDays
from custodes.ueba.table import FeatureTable

FEATURES_SQL = """
WITH firsts AS (
  SELECT entity, dst, min(day) AS first_day FROM auth GROUP BY ALL
), sources AS (
  SELECT entity, src, min(day) AS first_day FROM auth GROUP BY ALL
), starts AS (SELECT min(day) AS start FROM auth)
SELECT entity, day, unnest(map_keys(m)) AS feature, unnest(map_values(m)) AS value FROM (
  SELECT entity, day, MAP {
    'logons': count(*)::DOUBLE,
    'failed_logons': count(*) FILTER (outcome = 'Fail')::DOUBLE,
    'distinct_hosts': count(DISTINCT dst)::DOUBLE,
    'distinct_source_hosts': count(DISTINCT src)::DOUBLE,
    'off_hours_logons': count(*) FILTER (hour < 7 OR hour >= 19)::DOUBLE
  } AS m FROM auth GROUP BY entity, day
)
UNION ALL SELECT f.entity, f.first_day, 'first_seen_hosts', count(*)::DOUBLE FROM firsts f, starts s
  WHERE f.first_day > s.start GROUP BY ALL
UNION ALL SELECT f.entity, f.first_day, 'first_seen_source_hosts', count(*)::DOUBLE
  FROM sources f, starts s WHERE f.first_day > s.start GROUP BY ALL
"""


def sql_list(paths: list[Path]) -> str:
    """Paths as a DuckDB list literal."""
    return "[" + ", ".join("'" + str(path).replace("'", "''") + "'" for path in paths) + "]"


def load_lanl(root: Path) -> LabelledDays:
    """User-days of the authentication events, labelled by the red-team file."""
    auth = sorted(root.glob("auth*.txt*"))
    redteam = sorted(root.glob("redteam*.txt*"))
    if not redteam:
        raise DatasetError(f"{root} has no redteam*.txt (the labels)")
    if not auth:
        raise DatasetError(
            f"{root} has the red-team labels but no auth.txt: download it from"
            " csr.lanl.gov/data/cyber1 and put it beside them"
        )
    columns = "{'t': 'BIGINT', 'su': 'VARCHAR', 'du': 'VARCHAR', 'src': 'VARCHAR',"
    columns += " 'dst': 'VARCHAR', 'auth_type': 'VARCHAR', 'logon_type': 'VARCHAR',"
    columns += " 'orientation': 'VARCHAR', 'outcome': 'VARCHAR'}"
    connection = duckdb.connect()
    try:
        connection.execute(
            "CREATE TEMP TABLE auth AS SELECT lower(su) AS entity,"
            " t // 86400 AS day_number, DATE '2015-01-01' + CAST(t // 86400 AS INTEGER) AS day,"
            " (t % 86400) // 3600 AS hour, src, dst, outcome"
            f" FROM read_csv({sql_list(auth)}, header = false, columns = {columns})"
            " WHERE su NOT LIKE 'ANONYMOUS%'"
        )
        long = connection.sql(f"SELECT * FROM ({FEATURES_SQL}) WHERE value <> 0")
        table = FeatureTable.from_long(long.to_arrow_table())
        red = connection.sql(
            "SELECT DISTINCT lower(u),"
            " DATE '2015-01-01' + CAST(t // 86400 AS INTEGER)"
            f" FROM read_csv({sql_list(redteam)}, header = false,"
            " columns = {'t': 'BIGINT', 'u': 'VARCHAR', 'src': 'VARCHAR', 'dst': 'VARCHAR'})"
        ).fetchall()
    finally:
        connection.close()
    labelled = {(str(user), np.datetime64(day, "D")) for user, day in red}
    label = np.array(
        [(e, d) in labelled for e, d in zip(table.entity, table.day, strict=True)], dtype=bool
    )
    incident = (table.day - table.day.min()).astype(np.int64) if len(table) else np.zeros(0)
    return LabelledDays(table, label, table.entity, incident, np.ones(len(table), dtype=bool))
