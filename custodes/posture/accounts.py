"""Account checks: separated owners, activity after separation, dormant and ownerless accounts.

Each function returns SQL over the reference views (`ref_*`) and the telemetry tables, with
the columns every check returns: subject, account, employee_id, host, device_id, details
(JSON text), first_at, last_at, event_ids. `$now` and `$today` are parameters.
"""

from __future__ import annotations

from custodes.posture.settings import PostureSettings

#: Accounts with an owner on the roster (by the account's own employee id, else by its name).
OWNED_ACCOUNTS = """
owned AS (
  SELECT a.account, lower(a.account) AS account_key, a.kind, a.enabled, a.source, a.host,
         a.last_logon_at, a.created_at,
         coalesce(by_id.employee_id, by_name.employee_id) AS employee_id,
         coalesce(by_id.separation_date, by_name.separation_date) AS separation_date
  FROM (SELECT *, CASE WHEN employee_id IS NULL AND kind = 'user' THEN lower(account) END
               AS name_key FROM ref_accounts) a
  LEFT JOIN ref_people by_id ON by_id.employee_id = a.employee_id
  LEFT JOIN (SELECT *, lower(account) AS name_key FROM ref_people) by_name
    ON by_name.name_key = a.name_key
)
"""


def enabled_after_separation(settings: PostureSettings) -> str:
    """Enabled accounts whose owner left before today (leaving today is not late yet)."""
    return f"""
WITH {OWNED_ACCOUNTS}
SELECT account AS subject, account, employee_id, host, NULL AS device_id,
       json_object('separation_date', separation_date,
                   'days_since_separation', datediff('day', separation_date, $today),
                   'source', source, 'kind', kind) AS details,
       NULL::TIMESTAMPTZ AS first_at, NULL::TIMESTAMPTZ AS last_at, []::VARCHAR[] AS event_ids
FROM owned
WHERE enabled AND separation_date IS NOT NULL AND separation_date < $today
"""


def activity_after_separation(settings: PostureSettings) -> str:
    """Logons and other activity by an account after its owner's separation day."""
    return f"""
WITH {OWNED_ACCOUNTS},
gone AS (
  SELECT DISTINCT account_key, account, employee_id, separation_date FROM owned
  WHERE separation_date IS NOT NULL
)
SELECT g.account AS subject, g.account, g.employee_id, min(e.host) AS host, NULL AS device_id,
       json_object('separation_date', g.separation_date,
                   'events', count(*),
                   'kinds', list_sort(list_distinct(list(e.kind))),
                   'hosts', list_sort(list_distinct(list(e.host))),
                   'source_ips', list_sort(list_distinct(list(e.source_ip)))) AS details,
       min(e.ts) AS first_at, max(e.ts) AS last_at,
       list(e.event_id ORDER BY e.ts)[1:1000] AS event_ids
FROM activity e JOIN gone g ON e.account = g.account_key
WHERE CAST(e.ts AS DATE) > g.separation_date
GROUP BY g.account, g.employee_id, g.separation_date
"""


def dormant(settings: PostureSettings) -> str:
    """Enabled accounts of current staff and services with no logon for too long."""
    return f"""
WITH {OWNED_ACCOUNTS},
seen AS (SELECT account, max(ts) AS ts FROM activity GROUP BY account)
SELECT o.account AS subject, o.account, o.employee_id, o.host, NULL AS device_id,
       json_object('last_logon_at', greatest(o.last_logon_at, s.ts),
                   'days_without_logon',
                   datediff('day', coalesce(greatest(o.last_logon_at, s.ts), o.created_at), $now),
                   'kind', o.kind) AS details,
       NULL::TIMESTAMPTZ AS first_at, NULL::TIMESTAMPTZ AS last_at, []::VARCHAR[] AS event_ids
FROM owned o LEFT JOIN seen s ON s.account = o.account_key
WHERE o.enabled AND o.kind NOT IN ('system')
  AND (o.separation_date IS NULL OR o.separation_date >= $today)
  AND coalesce(greatest(o.last_logon_at, s.ts), o.created_at)
      < $now - INTERVAL {settings.dormant_after_days} DAY
"""


def without_owner(settings: PostureSettings) -> str:
    """Enabled accounts whose owner is nobody on the roster (built-in and system ones aside)."""
    return """
SELECT a.account AS subject, a.account, NULL AS employee_id, a.host, NULL AS device_id,
       json_object('owner_employee_id', coalesce(a.owner_employee_id, a.employee_id),
                   'kind', a.kind, 'source', a.source, 'groups', a.groups) AS details,
       NULL::TIMESTAMPTZ AS first_at, NULL::TIMESTAMPTZ AS last_at, []::VARCHAR[] AS event_ids
FROM ref_accounts a
WHERE a.enabled AND a.kind NOT IN ('builtin', 'system')
  AND (coalesce(a.owner_employee_id, a.employee_id) IS NULL
       OR coalesce(a.owner_employee_id, a.employee_id) NOT IN (
    SELECT employee_id FROM ref_people WHERE employee_id IS NOT NULL))
  AND NOT (a.source = 'linux' AND lower(a.account) IN (
    SELECT lower(account) FROM ref_people WHERE account IS NOT NULL))
"""
