"""Mobile device checks: the MDM inventory's state, and where the check-ins come from.

Same columns as every check (see `custodes.posture.accounts`).
"""

from __future__ import annotations

from custodes.posture.settings import PostureSettings

DEVICE_COLUMNS = """
SELECT device_id AS subject, owner_account AS account, owner_employee_id AS employee_id,
       NULL AS host, device_id,
"""

OWNED_DEVICES = """
owned_devices AS (
  SELECT d.*, coalesce(p.account, split_part(lower(d.owner_upn), '@', 1)) AS owner_account
  FROM ref_devices d LEFT JOIN ref_people p ON p.employee_id = d.owner_employee_id
)
"""

STATE_CHECKS = {
    "device_not_encrypted": "NOT is_encrypted",
    "device_without_passcode": "NOT has_passcode",
    "device_jailbroken": "is_jailbroken",
    "device_unmanaged": "NOT is_managed",
}


def version_list(expression: str) -> str:
    """SQL turning a dotted version into a list of integers (compared element by element)."""
    return (
        f"list_transform(string_split(regexp_extract({expression}, '^[0-9.]+'), '.'),"
        " lambda x: TRY_CAST(x AS INTEGER))"
    )


def state(condition: str) -> str:
    """Devices whose inventory entry meets `condition`."""
    return f"""
WITH {OWNED_DEVICES}
{DEVICE_COLUMNS}
       json_object('platform', platform, 'model', model, 'os_version', os_version,
                   'last_checkin_at', last_checkin_at, 'name', name) AS details,
       NULL::TIMESTAMPTZ AS first_at, NULL::TIMESTAMPTZ AS last_at, []::VARCHAR[] AS event_ids
FROM owned_devices WHERE {condition}
"""


def state_check(condition: str, settings: PostureSettings) -> str:
    """`state` in the shape of every check (settings unused: the condition says it all)."""
    return state(condition)


def os_outdated(settings: PostureSettings) -> str:
    """Devices below their platform's minimum OS version, or the minimum patch level."""
    minimums = " ".join(
        f"WHEN lower(platform) = '{name.lower()}' THEN '{version}'"
        for name, version in settings.minimum_os_versions.items()
    )
    minimum = f"CASE {minimums} END" if minimums else "NULL"
    patch = settings.minimum_patch_level
    patch_test = f"OR patch_level < DATE '{patch.isoformat()}'" if patch else ""
    condition = (
        f"({version_list('os_version')} < {version_list(minimum)} {patch_test})"
        if minimums
        else f"(FALSE {patch_test})"
    )
    return state(condition)


def silent(settings: PostureSettings) -> str:
    """Devices (not in lost mode) with no check-in for more than N days."""
    return f"""
WITH {OWNED_DEVICES},
seen AS (SELECT device_id, max(ts) AS ts FROM checkins GROUP BY device_id)
{DEVICE_COLUMNS}
       json_object('last_checkin_at', greatest(d.last_checkin_at, s.ts),
                   'days_silent', datediff('day', greatest(d.last_checkin_at, s.ts), $now))
         AS details,
       NULL::TIMESTAMPTZ AS first_at, NULL::TIMESTAMPTZ AS last_at, []::VARCHAR[] AS event_ids
FROM owned_devices d LEFT JOIN seen s USING (device_id)
WHERE NOT d.is_lost
  AND coalesce(greatest(d.last_checkin_at, s.ts), TIMESTAMPTZ '1970-01-01')
      < $now - INTERVAL {settings.device_silent_after_days} DAY
"""


def abroad(settings: PostureSettings, *, only_not_allowed: bool) -> str:
    """Check-ins from countries that are not allowed, or away from home without travel."""
    allowed = ", ".join(f"'{c.upper()}'" for c in settings.allowed_countries) or "NULL"
    home = f"'{settings.home}'" if settings.home else "NULL"
    if only_not_allowed:
        test = f"c.country NOT IN ({allowed})"
    else:
        test = f"""c.country <> {home} AND NOT EXISTS (
            SELECT 1 FROM ref_trips t
            WHERE (t.employee_id = d.owner_employee_id OR lower(t.account) = d.owner_account)
              AND t.country = c.country
              AND CAST(c.ts AS DATE) BETWEEN t.start_date AND t.end_date)"""
    return f"""
WITH {OWNED_DEVICES}
{DEVICE_COLUMNS}
       json_object('countries', list_sort(list_distinct(list(c.country))), 'checkins', count(*),
                   'allowed_countries', [{allowed}]) AS details,
       min(c.ts) AS first_at, max(c.ts) AS last_at,
       list(c.event_id ORDER BY c.ts)[1:1000] AS event_ids
FROM checkins c JOIN owned_devices d USING (device_id)
WHERE c.country IS NOT NULL AND {test}
GROUP BY ALL
"""


def lost_checking_in(settings: PostureSettings) -> str:
    """Devices reported lost that check in after the report (no wipe)."""
    return f"""
WITH {OWNED_DEVICES}
{DEVICE_COLUMNS}
       json_object('lost_at', min(d.lost_at), 'checkins', count(*),
                   'countries', list_sort(list_distinct(list(c.country)))) AS details,
       min(c.ts) AS first_at, max(c.ts) AS last_at,
       list(c.event_id ORDER BY c.ts)[1:1000] AS event_ids
FROM checkins c JOIN owned_devices d USING (device_id)
WHERE d.is_lost AND c.ts > coalesce(d.lost_at, TIMESTAMPTZ '1970-01-01')
GROUP BY ALL
"""
