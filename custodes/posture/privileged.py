"""Privileged access: unapproved members, unapproved group changes, off-hours logons, shared admins.

Same columns as every check (see `custodes.posture.accounts`).
"""

from __future__ import annotations

from custodes.posture.settings import PostureSettings


def sql_names(names: tuple[str, ...] | list[str]) -> str:
    """A SQL list of lower-case string literals."""
    quoted = ", ".join("'" + name.lower().replace("'", "''") + "'" for name in names)
    return f"[{quoted}]::VARCHAR[]" if quoted else "[]::VARCHAR[]"


def privileged_group_list(settings: PostureSettings) -> str:
    """SQL for the privileged group names: the settings' and the approved list's, lower case."""
    return (
        f"list_distinct(list_concat({sql_names(settings.privileged_groups)},"
        ' (SELECT coalesce(list(lower("group")), []::VARCHAR[]) FROM ref_privileged_groups)))'
    )


def account_not_approved(settings: PostureSettings) -> str:
    """Members of privileged groups (directory or Linux) without an approval for that group.

    An approval with no `groups` covers every privileged group; one with groups covers those.
    """
    windows_groups = privileged_group_list(settings)
    linux_groups = sql_names(settings.linux_privileged_groups)
    shared = sql_names(settings.shared_admin_accounts)
    return f"""
WITH members AS (
  SELECT a.account, g AS grp, 'directory' AS scope
  FROM ref_accounts a, unnest(a.groups) AS t(g)
  WHERE a.enabled AND a.source = 'directory' AND a.kind NOT IN ('builtin', 'system')
    AND list_contains({windows_groups}, lower(g))
  UNION ALL
  SELECT m.account, m."group", m.host FROM ref_group_members m
  WHERE list_contains({linux_groups}, lower(m."group"))
), approved AS (
  SELECT lower(account) AS account, list_transform(groups, lambda g: lower(g)) AS groups
  FROM ref_approved_accounts
  WHERE expires_at IS NULL OR expires_at > $now
), unapproved AS (
  SELECT m.* FROM members m
  WHERE NOT EXISTS (
    SELECT 1 FROM approved p
    WHERE p.account = lower(m.account)
      AND (len(coalesce(p.groups, [])) = 0 OR list_contains(p.groups, lower(m.grp))))
)
SELECT m.account AS subject, m.account, min(a.employee_id) AS employee_id,
       NULL AS host, NULL AS device_id,
       json_object('memberships', list_sort(list_distinct(list(m.grp || ' on ' || m.scope))))
         AS details,
       NULL::TIMESTAMPTZ AS first_at, NULL::TIMESTAMPTZ AS last_at, []::VARCHAR[] AS event_ids
FROM unapproved m
LEFT JOIN ref_accounts a ON lower(a.account) = lower(m.account) AND a.source = 'directory'
WHERE NOT list_contains({shared}, lower(m.account))
GROUP BY m.account
"""


def group_change_without_approval(settings: PostureSettings) -> str:
    """Additions to privileged groups with no approval for that group, scope and day."""
    windows_groups = privileged_group_list(settings)
    linux_groups = sql_names(settings.linux_privileged_groups)
    return f"""
WITH changes AS (
  SELECT * FROM group_changes
  WHERE (platform = 'windows' AND list_contains({windows_groups}, lower(grp)))
     OR (platform = 'linux' AND list_contains({linux_groups}, lower(grp)))
), unapproved AS (
  SELECT c.* FROM changes c
  WHERE NOT EXISTS (
    SELECT 1 FROM ref_approved_changes r
    WHERE lower(r."group") = lower(c.grp)
      AND (r.scope IS NULL OR split_part(lower(r.scope), '.', 1) = c.scope
           OR lower(r.scope) = c.scope)
      AND CAST(c.ts AS DATE) >= r.valid_from
      AND (r.valid_until IS NULL OR CAST(c.ts AS DATE) <= r.valid_until)
      AND (c.member IS NULL OR lower(r.account) = lower(c.member)))
)
SELECT coalesce(member, member_sid) || ' in ' || grp || ' on ' || scope AS subject,
       coalesce(member, member_sid) AS account, NULL AS employee_id, min(host) AS host,
       NULL AS device_id,
       json_object('group', grp, 'scope', scope, 'member_sid', min(member_sid),
                   'changed_by', list_sort(list_distinct(list(actor))), 'changes', count(*))
         AS details,
       min(ts) AS first_at, max(ts) AS last_at,
       list(event_id ORDER BY ts)[1:1000] AS event_ids
FROM unapproved
GROUP BY coalesce(member, member_sid), grp, scope
"""


def logon_off_hours(settings: PostureSettings) -> str:
    """4672 and sudo outside working hours (unless usual for the account) or on a new host.

    A host is new to an account with enough privileged logons in the window when it is used on
    one day only, at least `unusual_host_history_days` after the account's first logon seen.
    """
    weekend = ", ".join(str(day + 1) for day in settings.weekend_days) or "0"
    holidays = ", ".join(f"DATE '{day.isoformat()}'" for day in settings.holidays) or "NULL"
    shared = sql_names(settings.shared_admin_accounts)
    return f"""
WITH logons AS (
  SELECT *, hour(ts) AS hr, CAST(ts AS DATE) AS day FROM privileged_logons
  WHERE NOT list_contains({shared}, account)
), usual_hours AS (
  SELECT account, hr, count(DISTINCT day) AS days FROM logons GROUP BY account, hr
), host_use AS (
  SELECT account, host_key, count(DISTINCT day) AS days, min(day) AS first_day
  FROM logons GROUP BY account, host_key
), totals AS (
  SELECT account, count(*) AS logons, min(day) AS first_day FROM logons GROUP BY account
), flagged AS (
  SELECT l.*,
    (l.hr < {settings.working_hours_start} OR l.hr >= {settings.working_hours_end}
     OR isodow(l.ts) IN ({weekend}) OR l.day IN ({holidays}))
    AND u.days < {settings.usual_hour_min_days} AS is_off_hours,
    t.logons >= {settings.unusual_host_min_logons} AND h.days = 1
      AND h.first_day >= t.first_day + {settings.unusual_host_history_days} AS is_new_host
  FROM logons l
  JOIN usual_hours u USING (account, hr)
  JOIN host_use h USING (account, host_key)
  JOIN totals t USING (account)
)
SELECT account AS subject, account, NULL AS employee_id, min(host) AS host, NULL AS device_id,
       json_object('off_hours', count(*) FILTER (WHERE is_off_hours),
                   'new_hosts', list_sort(list_distinct(list(host) FILTER (WHERE is_new_host))),
                   'hosts', list_sort(list_distinct(list(host))),
                   'kinds', list_sort(list_distinct(list(kind))),
                   'times', list(strftime(ts, '%Y-%m-%dT%H:%M:%SZ') ORDER BY ts)[1:20])
         AS details,
       min(ts) AS first_at, max(ts) AS last_at,
       list(event_id ORDER BY ts)[1:1000] AS event_ids
FROM flagged
WHERE is_off_hours OR is_new_host
GROUP BY account
"""


def shared_admin_use(settings: PostureSettings) -> str:
    """Logons by shared or built-in administrator accounts (by name or directory kind)."""
    shared = sql_names(settings.shared_admin_accounts)
    return f"""
WITH shared_accounts AS (
  SELECT unnest({shared}) AS account
  UNION SELECT lower(account) FROM ref_accounts WHERE kind IN ('builtin', 'shared')
    AND account NOT ILIKE 'guest'
), uses AS (
  SELECT ts, event_id, host, account, kind FROM activity
  WHERE kind IN ('windows 4624', 'sshd', 'vpn', 'sign-in')
    AND coalesce(outcome, 'success') <> 'failure'
  UNION ALL
  SELECT ts, event_id, host, account, kind FROM privileged_logons WHERE kind <> 'sudo'
)
SELECT u.account AS subject, u.account, NULL AS employee_id, min(u.host) AS host,
       NULL AS device_id,
       json_object('uses', count(*), 'hosts', list_sort(list_distinct(list(u.host))),
                   'kinds', list_sort(list_distinct(list(u.kind)))) AS details,
       min(u.ts) AS first_at, max(u.ts) AS last_at,
       list(u.event_id ORDER BY u.ts)[1:1000] AS event_ids
FROM uses u JOIN shared_accounts s ON u.account = s.account
GROUP BY u.account
"""
