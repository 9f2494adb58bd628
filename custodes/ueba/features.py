"""Features per entity and day, computed in DuckDB over the lake.

Every feature is one SQL select giving `(entity, day, feature, value)`; they are stacked and
pivoted into a `FeatureTable`. The entity is the account name, lower case, without a domain
(`AGENCY\\jdoe`, `jdoe@AGENCY.EXAMPLE` and `JDoe` are one person). History-relative features
(first-seen things, off-hours activity) compare each day with the entity's own earlier days.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from custodes.store import connect
from custodes.ueba.table import FeatureTable, peer_groups

#: Window of earlier days that defines an entity's usual hours.
USUAL_HOURS_DAYS = 28
#: An hour is off-hours for an entity when under this share of its earlier activity fell in it.
USUAL_HOUR_SHARE = 0.01
#: Earlier events an entity needs before its own hours count; before that, 07:00-20:00 is usual.
USUAL_HOURS_MIN_EVENTS = 30
#: Failed-logon status codes and events; privileged actions (Windows ids and Linux actions).
FAILURE_CODES = ("4625", "4771")
PRIVILEGED_CODES = ("4672", "4720", "4722", "4725", "4726", "4728", "4732", "4738", "4756")
PRIVILEGED_ACTIONS = ("sudo", "user_added_to_group", "group_member_added", "su")
#: Account and group changes: Windows ids, and Linux tools run through sudo.
ACCOUNT_CHANGE_CODES = (
    "4720",
    "4722",
    "4725",
    "4726",
    "4728",
    "4729",
    "4732",
    "4733",
    "4738",
    "4756",
    "4757",
)
ACCOUNT_TOOLS = (
    r"COMMAND=\S*/(useradd|usermod|userdel|gpasswd|groupadd|groupmod|adduser|addgroup|chage)\b"
)

BASE_SQL = r"""
CREATE OR REPLACE TEMP TABLE base AS
SELECT
    CAST("@timestamp" AS DATE) AS day,
    hour("@timestamp") AS hour,
    lower(regexp_replace(split_part("user.name", '@', 1), '^.*\\', '')) AS entity,
    dataset,
    "event.code" AS code,
    "event.action" AS action,
    "event.outcome" AS outcome,
    lower(split_part("host.name", '.', 1)) AS host,
    nullif(nullif(nullif(regexp_replace("source.ip", '^::ffff:', ''), '-'), '127.0.0.1'), '::1')
        AS ip,
    "network.bytes" AS bytes_out,
    TRY_CAST(fields['in'] AS BIGINT) AS bytes_in,
    fields['cat'] AS category,
    lower("destination.domain") AS domain,
    lower("process.name") AS process,
    coalesce(fields['source.geo.country_iso_code'], fields['cs2']) AS country,
    coalesce((dataset = 'windows.security' AND "event.code" IN ('4624', '4648'))
        OR (dataset = 'authlog' AND "event.action" = 'ssh_login')
        OR ("event.action" = 'login' AND "event.outcome" = 'success'), false) AS is_logon,
    coalesce(("event.code" IN {failure_codes})
        OR ("event.code" = '4776' AND "event.outcome" = 'failure')
        OR (dataset = 'authlog' AND "event.outcome" = 'failure')
        OR ("event.action" = 'login' AND "event.outcome" = 'failure'), false) AS is_failure,
    coalesce(("event.code" IN {privileged_codes}) OR (dataset = 'authlog'
        AND "event.action" IN {privileged_actions}), false) AS is_privileged,
    coalesce(("event.code" IN {account_change_codes}) OR (dataset = 'authlog'
        AND "event.action" IN ('user_added_to_group', 'group_member_added')) OR (dataset = 'authlog'
        AND "event.action" = 'sudo' AND regexp_matches(message, {account_tools})), false)
        AS is_account_change,
    coalesce("event.action" = 'login', false) AS is_remote_access,
    coalesce(dataset = 'cef' AND "url.original" IS NOT NULL, false) AS is_web,
    coalesce("event.action" = 'checkin', false) AS is_checkin,
    coalesce("event.code" IN ('1', '4688') AND process IS NOT NULL, false) AS is_process
FROM events
WHERE "user.name" IS NOT NULL AND date <= $until AND date >= $since
"""

CLEAN_SQL = """
DELETE FROM base WHERE entity IN ('', '-', 'system', 'anonymous logon', 'local service',
    'network service') OR entity LIKE '%$' OR entity IS NULL
"""

#: Plain counts and distinct counts per entity and day.
COUNTS_SQL = """
SELECT entity, day, unnest(map_keys(m)) AS feature, unnest(map_values(m)) AS value FROM (
  SELECT entity, day, MAP {
    'events': count(*)::DOUBLE,
    'logons': count(*) FILTER (is_logon)::DOUBLE,
    'failed_logons': count(*) FILTER (is_failure)::DOUBLE,
    'remote_access_logons': count(*) FILTER (is_remote_access)::DOUBLE,
    'distinct_hosts': count(DISTINCT host) FILTER (is_logon)::DOUBLE,
    'distinct_source_ips': count(DISTINCT ip) FILTER (is_logon)::DOUBLE,
    'privileged_actions': count(*) FILTER (is_privileged)::DOUBLE,
    'account_changes': count(*) FILTER (is_account_change)::DOUBLE,
    'bytes_out': coalesce(sum(bytes_out) FILTER (is_web), 0)::DOUBLE,
    'bytes_in': coalesce(sum(bytes_in) FILTER (is_web), 0)::DOUBLE,
    'remote_access_bytes_out': coalesce(sum(bytes_out) FILTER (dataset = 'cef'
        AND NOT is_web), 0)::DOUBLE,
    'remote_access_bytes_in': coalesce(sum(bytes_in) FILTER (dataset = 'cef'
        AND NOT is_web), 0)::DOUBLE,
    'web_requests': count(*) FILTER (is_web)::DOUBLE,
    'distinct_web_domains': count(DISTINCT domain) FILTER (is_web)::DOUBLE,
    'processes_started': count(*) FILTER (is_process)::DOUBLE,
    'device_checkins': count(*) FILTER (is_checkin)::DOUBLE,
    'distinct_countries': count(DISTINCT country)::DOUBLE,
    'weekend_activity': (count(*) FILTER (isodow(day) >= 6 AND NOT is_checkin))::DOUBLE
  } AS m
  FROM base GROUP BY entity, day
)
"""

#: Web requests per category (`web_category_personal_storage`).
CATEGORIES_SQL = """
SELECT entity, day,
    'web_category_' || trim(regexp_replace(lower(category), '[^a-z0-9]+', '_', 'g'), '_')
        AS feature,
    count(*)::DOUBLE AS value
FROM base WHERE is_web AND category IS NOT NULL GROUP BY ALL
"""

#: Failed logons that come from an address the entity used that day, and the accounts they name.
SPRAY_SQL = """
WITH owners AS (
  SELECT day, ip, arg_max(entity, n) AS entity FROM (
    SELECT day, ip, entity, count(*) AS n FROM base
    WHERE ip IS NOT NULL AND NOT is_failure GROUP BY ALL
  ) GROUP BY day, ip
), failures AS (
  SELECT o.entity, b.day, b.entity AS target
  FROM base b JOIN owners o ON o.day = b.day AND o.ip = b.ip
  WHERE b.is_failure
)
SELECT entity, day, 'failed_logons_from_own_address' AS feature, count(*)::DOUBLE FROM failures
GROUP BY ALL
UNION ALL
SELECT entity, day, 'distinct_target_accounts', count(DISTINCT target)::DOUBLE FROM failures
WHERE target <> entity GROUP BY ALL
"""

#: Things never seen for the entity before (the first day of data, when all is new, is left
#: out). A country counts once the entity has been seen in another: a first trip abroad, not
#: the first day a home country is logged at all.
FIRST_SEEN_SQL = """
WITH things AS (
  SELECT entity, day, 'first_seen_hosts' AS feature, host AS value FROM base WHERE is_logon
  UNION ALL SELECT entity, day, 'first_seen_source_ip', ip FROM base
    WHERE (is_logon OR is_remote_access) AND ip IS NOT NULL
  UNION ALL SELECT entity, day, 'first_seen_country', country FROM base WHERE country IS NOT NULL
  UNION ALL SELECT entity, day, 'first_seen_processes', process FROM base WHERE is_process
  UNION ALL SELECT entity, day, 'first_seen_web_domains', domain FROM base WHERE is_web
), firsts AS (
  SELECT entity, feature, value, min(day) AS day FROM things WHERE value IS NOT NULL GROUP BY ALL
), starts AS (
  SELECT entity, feature, min(day) AS start FROM firsts GROUP BY ALL
)
SELECT entity, day, feature, count(*)::DOUBLE AS value
FROM firsts JOIN starts USING (entity, feature)
WHERE day > (SELECT min(day) FROM base) AND (day > start OR feature <> 'first_seen_country')
GROUP BY ALL
"""

#: Activity and logons in hours that are unusual for the entity's own history (a phone's
#: check-ins happen at any hour and are left out).
OFF_HOURS_SQL = """
WITH hourly AS (
  SELECT entity, day, hour, count(*) AS n, count(*) FILTER (is_logon) AS logons
  FROM base WHERE NOT is_checkin GROUP BY ALL
), daily AS (
  SELECT entity, day, sum(n) AS n FROM hourly GROUP BY ALL
), history AS (
  SELECT entity, day, coalesce(sum(n) OVER (PARTITION BY entity ORDER BY day
      RANGE BETWEEN INTERVAL {days} DAYS PRECEDING AND INTERVAL 1 DAY PRECEDING), 0) AS earlier
  FROM daily
), judged AS (
  SELECT h.entity, h.day, h.n, h.logons,
    CASE WHEN y.earlier >= {min_events}
      THEN coalesce(sum(h.n) OVER (PARTITION BY h.entity, h.hour ORDER BY h.day
          RANGE BETWEEN INTERVAL {days} DAYS PRECEDING AND INTERVAL 1 DAY PRECEDING), 0)
          < {share} * y.earlier
      ELSE h.hour < 7 OR h.hour >= 20 END AS is_off
  FROM hourly h JOIN history y USING (entity, day)
)
SELECT entity, day, 'off_hours_activity' AS feature, sum(n)::DOUBLE AS value FROM judged
WHERE is_off GROUP BY ALL
UNION ALL
SELECT entity, day, 'off_hours_logons', sum(logons)::DOUBLE FROM judged
WHERE is_off AND logons > 0 GROUP BY ALL
"""


def feature_queries() -> list[str]:
    """The SQL of every feature family, each giving (entity, day, feature, value)."""
    off_hours = OFF_HOURS_SQL.format(
        days=USUAL_HOURS_DAYS, min_events=USUAL_HOURS_MIN_EVENTS, share=USUAL_HOUR_SHARE
    )
    return [COUNTS_SQL, CATEGORIES_SQL, SPRAY_SQL, FIRST_SEEN_SQL, off_hours]


def load_base(connection: duckdb.DuckDBPyConnection, since: date, until: date) -> None:
    """Fill the temp table `base`: one narrow row per event of a named entity."""
    sql = BASE_SQL.format(
        failure_codes=FAILURE_CODES,
        privileged_codes=PRIVILEGED_CODES,
        privileged_actions=PRIVILEGED_ACTIONS,
        account_change_codes=ACCOUNT_CHANGE_CODES,
        account_tools="'" + ACCOUNT_TOOLS.replace("'", "''") + "'",
    )
    connection.execute(sql, {"since": since, "until": until})
    connection.execute(CLEAN_SQL)


def compute_features(
    data_dir: Path, *, since: date = date(1970, 1, 1), until: date = date(9999, 12, 31)
) -> FeatureTable:
    """Every feature of every entity and day in [since, until] (history read from `since`)."""
    connection = connect(data_dir)
    try:
        load_base(connection, since, until)
        union = " UNION ALL ".join(f"({query})" for query in feature_queries())
        long = connection.sql(f"SELECT * FROM ({union}) WHERE value <> 0").to_arrow_table()
    finally:
        connection.close()
    return FeatureTable.from_long(long, peer_groups(data_dir))
