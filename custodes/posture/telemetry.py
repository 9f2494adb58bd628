"""The events the checks need, read once from the lake into DuckDB temporary tables.

Source fields are looked up in the `fields` map only on the rows that carry them (a map
lookup on every row of a month of events is most of the cost).

`activity`: logons and other signs of use per account (Windows 4624/4625/4768/4776, sshd,
VPN and cloud sign-ins, MDM check-ins); `privileged_logons`: 4672 and sudo;
`group_changes`: Windows 4728/4732/4756 and Linux `usermod -aG`; `checkins`: MDM check-ins.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb

from custodes.posture.settings import PostureSettings


def short_name(expression: str) -> str:
    """SQL for an account name without domain (`AGENCY\\x`, `x@agency.example`), lower case."""
    plain = f"lower({expression})"
    stripped = f"regexp_replace(regexp_replace({plain}, '^.*\\\\', ''), '@.*$', '')"
    # Most names carry no domain: skip the regular expressions for them (millions of rows).
    return (
        f"CASE WHEN contains({expression}, '\\') OR contains({expression}, '@')"
        f" THEN {stripped} ELSE {plain} END"
    )


def short_host(expression: str) -> str:
    """SQL for a host name without its DNS domain, lower case."""
    return f"split_part(lower({expression}), '.', 1)"


WINDOW = """
CREATE OR REPLACE TEMP TABLE window_events AS
SELECT "@timestamp" AS ts, "event.id" AS event_id, "event.dataset" AS dataset,
       "event.code" AS code, "event.action" AS action, "event.category" AS category,
       "event.outcome" AS outcome, "host.name" AS host, "user.name" AS user_name,
       "user.target.name" AS target_name, "process.name" AS program, "device.id" AS device_id,
       "source.ip" AS source_ip,
       CASE WHEN "event.code" IN ('4624', '4625', '4768', '4776', '4728', '4732', '4756')
            THEN fields['TargetUserName'] END AS target_user,
       CASE WHEN "event.code" IN ('4672', '4728', '4732', '4756')
            THEN fields['SubjectUserName'] END AS subject_user,
       CASE WHEN "event.code" IN ('4728', '4732', '4756') THEN fields['TargetDomainName'] END
         AS target_domain,
       CASE WHEN "event.code" IN ('4728', '4732', '4756') THEN fields['MemberName'] END
         AS member_name,
       CASE WHEN "event.code" IN ('4728', '4732', '4756') THEN fields['MemberSid'] END
         AS member_sid,
       CASE WHEN "process.name" IN ('usermod', 'gpasswd', 'adduser') THEN fields['group'] END
         AS linux_group,
       CASE WHEN "device.id" IS NOT NULL THEN fields['source.geo.country_iso_code'] END
         AS country,
       CASE WHEN "process.name" = 'sudo' THEN fields['command'] END AS command
FROM events
WHERE "@timestamp" >= $since AND "@timestamp" <= $until
  AND date >= CAST($since AS DATE) AND date <= CAST($until AS DATE)
  AND ("event.dataset" IN ('windows.security', 'authlog', 'mdm.checkin', 'cef')
       OR "event.category" = 'authentication' OR "device.id" IS NOT NULL)
"""

ACTIVITY = f"""
CREATE OR REPLACE TEMP TABLE activity AS
SELECT ts, event_id, host, kind, {short_name("name")} AS account, source_ip, country, outcome
FROM (
  SELECT *, CASE
      WHEN dataset = 'windows.security' AND code IN ('4624', '4625', '4768', '4776')
        THEN 'windows ' || code
      WHEN dataset = 'mdm.checkin' THEN 'mdm check-in'
      WHEN dataset = 'authlog' AND program = 'sshd' AND category = 'authentication' THEN 'sshd'
      WHEN dataset = 'cef' AND lower(action) IN ('login', 'logon') THEN 'vpn'
      WHEN category = 'authentication' THEN 'sign-in'
    END AS kind,
    CASE WHEN dataset = 'windows.security' THEN coalesce(target_user, user_name)
         ELSE user_name END AS name
  FROM window_events
)
WHERE kind IS NOT NULL AND name IS NOT NULL AND name NOT IN ('-', '') AND name NOT LIKE '%$'
"""

PRIVILEGED_LOGONS = f"""
CREATE OR REPLACE TEMP TABLE privileged_logons AS
SELECT ts, event_id, host, {short_host("host")} AS host_key,
       {short_name("coalesce(subject_user, user_name)")} AS account,
       CASE WHEN dataset = 'authlog' THEN 'sudo' ELSE 'windows 4672' END AS kind
FROM window_events
WHERE (dataset = 'windows.security' AND code = '4672')
   OR (dataset = 'authlog' AND program = 'sudo' AND action = 'sudo')
"""

#: `usermod -aG group[,group] user` (also `-a -G`, `--append --groups`) and `gpasswd -a user group`.
USERMOD = r"usermod\s+(?:-aG|-a\s+-G|--append\s+--groups)\s+(\S+)\s+(\S+)"
GPASSWD = r"gpasswd\s+(?:-a|--add)\s+(\S+)\s+(\S+)"

GROUP_CHANGES = f"""
CREATE OR REPLACE TEMP TABLE group_changes AS
WITH windows AS (
  SELECT ts, event_id, host, target_user AS grp,
         CASE WHEN lower(target_domain) = 'builtin' THEN {short_host("host")}
              ELSE lower(target_domain) END AS scope,
         {short_name("subject_user")} AS actor,
         nullif(regexp_extract(member_name, '^CN=([^,]+)', 1), '') AS member_cn,
         member_sid
  FROM window_events
  WHERE dataset = 'windows.security' AND code IN ('4728', '4732', '4756')
), named AS (
  SELECT w.*, (SELECT min(lower(a.account)) FROM ref_accounts a
               WHERE a.display_name = w.member_cn) AS member
  FROM windows w
), commands AS (
  SELECT ts, event_id, host, user_name,
    coalesce(nullif(regexp_extract(command, '{USERMOD}', 1), ''),
             nullif(regexp_extract(command, '{GPASSWD}', 2), '')) AS groups,
    coalesce(nullif(regexp_extract(command, '{USERMOD}', 2), ''),
             nullif(regexp_extract(command, '{GPASSWD}', 1), '')) AS member
  FROM window_events
  WHERE dataset = 'authlog' AND program = 'sudo' AND action = 'sudo'
    AND regexp_matches(command, '(usermod|gpasswd)[[:space:]]')
), linux_commands AS (
  SELECT ts, event_id, host, unnest(string_split(groups, ',')) AS grp,
         {short_host("host")} AS scope,
         {short_name("user_name")} AS actor, lower(member) AS member, NULL AS member_sid
  FROM commands WHERE groups IS NOT NULL AND member IS NOT NULL
), linux AS (
  SELECT ts, event_id, host, linux_group AS grp, {short_host("host")} AS scope,
         NULL AS actor, lower(target_name) AS member, NULL AS member_sid
  FROM window_events
  WHERE dataset = 'authlog' AND program IN ('usermod', 'gpasswd', 'adduser')
    AND action = 'user_added_to_group'
)
SELECT ts, event_id, host, grp, scope, actor, coalesce(member, member_cn) AS member, member_sid,
       'windows' AS platform
FROM named
UNION ALL
SELECT ts, event_id, host, grp, scope, actor, member, member_sid, 'linux' FROM linux
UNION ALL
SELECT ts, event_id, host, grp, scope, actor, member, member_sid, 'linux' FROM linux_commands
"""

CHECKINS = f"""
CREATE OR REPLACE TEMP TABLE checkins AS
SELECT ts, event_id, device_id, upper(country) AS country,
       {short_name("user_name")} AS account
FROM window_events
WHERE device_id IS NOT NULL AND dataset LIKE 'mdm%'
"""


def prepare_telemetry(
    connection: duckdb.DuckDBPyConnection, settings: PostureSettings, now: datetime
) -> None:
    """Fill the temporary tables with the look-back window ending at `now`."""
    since = now - timedelta(days=settings.lookback_days)
    connection.execute(WINDOW, {"since": since, "until": now})
    for statement in (ACTIVITY, PRIVILEGED_LOGONS, GROUP_CHANGES, CHECKINS):
        connection.execute(statement)
