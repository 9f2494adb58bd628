"""Administrators at work: RDP to servers with their admin accounts, privileges, admin tools."""

from __future__ import annotations

import numpy as np

from custodes.demo.hosts import Context, logon_ids
from custodes.demo.organisation import DOMAIN, DOMAIN_SID, NETBIOS
from custodes.demo.programs import EXPLORER
from custodes.demo.schedule import HOUR, Day, spread
from custodes.demo.timeline import MICROS, Stream
from custodes.demo.windows import (
    LOGOFF,
    LOGON,
    PROCESS_CREATED,
    SECURITY,
    SPECIAL_PRIVILEGES,
    SYSTEM,
    emit,
    emit_one,
    escape,
)

MINUTE = 60 * MICROS
ADMIN_TOOLS = [
    "C:\\Windows\\System32\\ServerManager.exe",
    "C:\\Windows\\System32\\mmc.exe C:\\Windows\\System32\\eventvwr.msc",
    "C:\\Windows\\System32\\mmc.exe C:\\Windows\\System32\\services.msc",
    "C:\\Windows\\System32\\mmc.exe C:\\Windows\\System32\\dsa.msc",
]


def admins(
    day: Day, ctx: Context, rng: np.random.Generator, stream: Stream, client_ips: np.ndarray
) -> None:
    """Administrators use their admin accounts over RDP on servers, with special privileges."""
    servers = [host.index for host in ctx.org.hosts if host.kind == "windows-server"]
    positions = [
        n for n, index in enumerate(day.present.tolist()) if ctx.org.people[index].admin_account
    ]
    if not positions:
        return
    chosen = np.array(positions)
    owners, times = spread(
        rng,
        day.arrive[chosen] + 20 * MINUTE,
        day.leave[chosen] - HOUR,
        rng.poisson(1.5, chosen.size) + 1,
    )
    targets = np.array(servers)[rng.integers(0, len(servers), owners.size)]
    ids = logon_ids(rng, owners.size)
    people = [ctx.org.people[day.present[chosen[o]]] for o in owners.tolist()]
    names = [person.admin_account or "" for person in people]
    sids = [f"{person.sid}0" for person in people]
    ips = [client_ips[chosen[o]] for o in owners.tolist()]
    computers = ctx.computers[targets].tolist()
    emit(
        stream,
        LOGON,
        times,
        targets,
        computers,
        [
            (
                "S-1-5-18",
                f"{c.split('.')[0]}$",
                NETBIOS,
                "0x3e7",
                s,
                a,
                i,
                10,
                "User32 ",
                "Negotiate",
                c.split(".")[0],
                "0x1d4",
                escape("C:\\Windows\\System32\\svchost.exe"),
                ip,
                "0",
                "%%1842",
            )
            for c, s, a, i, ip in zip(computers, sids, names, ids, ips, strict=True)
        ],
        SECURITY,
    )
    emit(
        stream,
        SPECIAL_PRIVILEGES,
        times + 1,
        targets,
        computers,
        list(zip(sids, names, ids, strict=True)),
        SECURITY,
    )
    tools = rng.integers(0, len(ADMIN_TOOLS), owners.size).tolist()
    emit(
        stream,
        PROCESS_CREATED,
        times + 40 * MICROS,
        targets,
        computers,
        [
            (
                s,
                a,
                i,
                f"0x{1000 + n:x}",
                escape(ADMIN_TOOLS[t].split(" ")[0]),
                "0x1a2c",
                escape(ADMIN_TOOLS[t]),
                EXPLORER,
            )
            for n, (s, a, i, t) in enumerate(zip(sids, names, ids, tools, strict=True))
        ],
        SECURITY,
    )
    ends = times + rng.integers(10, 90, owners.size) * MINUTE
    emit(
        stream,
        LOGOFF,
        ends,
        targets,
        computers,
        [(s, a, i, 10) for s, a, i in zip(sids, names, ids, strict=True)],
        SECURITY,
    )


def service_accounts(day: Day, ctx: Context, rng: np.random.Generator, stream: Stream) -> None:
    """Service accounts work around the clock: backups at 01:00, scans at 03:00, SQL hourly."""
    org = ctx.org
    servers = [host for host in org.hosts if host.kind == "windows-server"]
    apps, sqls, files = (
        org.hosts_by_role("app"),
        org.hosts_by_role("sql"),
        org.hosts_by_role("file"),
    )
    plan: list[tuple[int, int, str, str]] = []  # (time, host index, account, source ip)
    for host in files:
        plan.append(
            (
                day.start + HOUR + int(rng.integers(0, 600)) * MICROS,
                host.index,
                "svc_backup",
                apps[0].ip,
            )
        )
    for host in servers:
        plan.append(
            (
                day.start + 3 * HOUR + int(rng.integers(0, 1800)) * MICROS,
                host.index,
                "svc_scan",
                "10.11.0.250",
            )
        )
    for hour in range(24):
        for sql in sqls:
            for app in apps:
                plan.append(
                    (
                        day.start + hour * HOUR + int(rng.integers(0, 300)) * MICROS,
                        sql.index,
                        "svc_sql",
                        app.ip,
                    )
                )
    times = np.array([row[0] for row in plan], dtype=np.int64)
    targets = np.array([row[1] for row in plan], dtype=np.int64)
    computers = ctx.computers[targets].tolist()
    ids = logon_ids(rng, len(plan))
    sids = [f"{DOMAIN_SID}-{5000 + org.service_accounts.index(row[2])}" for row in plan]
    rows = [
        (
            "S-1-0-0",
            "-",
            "-",
            "0x0",
            sid,
            account,
            logon,
            3,
            "Kerberos",
            "Kerberos",
            "-",
            "0x0",
            "-",
            ip,
            str(50000 + n),
            "%%1843",
        )
        for n, ((_, _, account, ip), sid, logon) in enumerate(zip(plan, sids, ids, strict=True))
    ]
    emit(stream, LOGON, times, targets, computers, rows, SECURITY)
    ends = times + rng.integers(1, 20, len(plan)) * MINUTE
    logoffs = [(sid, row[2], logon, 3) for row, sid, logon in zip(plan, sids, ids, strict=True)]
    emit(stream, LOGOFF, ends, targets, computers, logoffs, SECURITY)


def directory_changes(day: Day, ctx: Context, stream: Stream, keep_enabled: set[str]) -> None:
    """Joiners' accounts created (4720, 4722) at 08:05 and put in the universal group All Staff
    (4756); leavers' disabled (4725) at 17:30 and
    deleted (4726) 30 days later, by the first administrator on the first domain controller.
    Accounts in `keep_enabled` are the planted failures: nobody disables or deletes them."""
    org = ctx.org
    admin = next(p for p in org.people if p.admin_account)
    dc = org.hosts_by_role("dc")[0]
    subject = {
        "SubjectUserSid": f"{admin.sid}0",
        "SubjectUserName": admin.admin_account,
        "SubjectDomainName": NETBIOS,
        "SubjectLogonId": "0x7a41c",
    }
    for person in org.people:
        target = {
            "TargetUserName": person.account,
            "TargetDomainName": NETBIOS,
            "TargetSid": person.sid,
        }
        if person.start_date == day.date:
            created = {
                **target,
                **subject,
                "PrivilegeList": "-",
                "SamAccountName": person.account,
                "DisplayName": person.name,
                "UserPrincipalName": f"{person.account}@{DOMAIN}",
                "HomeDirectory": "-",
                "HomePath": "-",
                "ScriptPath": "-",
                "ProfilePath": "-",
                "UserWorkstations": "-",
                "PasswordLastSet": "%%1794",
                "AccountExpires": "%%1794",
                "PrimaryGroupId": "513",
                "AllowedToDelegateTo": "-",
                "OldUacValue": "0x0",
                "NewUacValue": "0x15",
                "UserAccountControl": "\r\n\t\t%%2080\r\n\t\t%%2082\r\n\t\t%%2084",
                "UserParameters": "%%1793",
                "SidHistory": "-",
                "LogonHours": "%%1797",
            }
            emit_one(stream, day.start + 8 * HOUR + 5 * MINUTE, dc, 4720, SECURITY, created)
            emit_one(
                stream,
                day.start + 8 * HOUR + 5 * MINUTE + MICROS,
                dc,
                4722,
                SECURITY,
                {**target, **subject},
            )
            member = {
                "MemberName": f"CN={person.name},OU=Staff,DC=agency,DC=example",
                "MemberSid": person.sid,
            }
            group = {
                "TargetUserName": "All Staff",
                "TargetDomainName": NETBIOS,
                "TargetSid": f"{DOMAIN_SID}-3101",
            }
            emit_one(
                stream,
                day.start + 8 * HOUR + 6 * MINUTE,
                dc,
                4756,
                SECURITY,
                {**member, **group, **subject, "PrivilegeList": "-"},
            )
        if person.account in keep_enabled:
            continue
        if person.separation_date == day.date:
            emit_one(
                stream,
                day.start + 17 * HOUR + 30 * MINUTE,
                dc,
                4725,
                SECURITY,
                {**target, **subject},
            )
        if org.deleted_on(person) == day.date:
            emit_one(
                stream,
                day.start + 9 * HOUR + 12 * MINUTE,
                dc,
                4726,
                SECURITY,
                {**target, **subject, "PrivilegeList": "-"},
            )


#: Ordinary services installed by software updates: (name, image path).
UPDATE_SERVICES = [
    (
        "Google Update Service (gupdate)",
        '"C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe" /svc',
    ),
    (
        "Microsoft Edge Update Service (edgeupdate)",
        '"C:\\Program Files (x86)\\Microsoft\\EdgeUpdate\\MicrosoftEdgeUpdate.exe" /svc',
    ),
    (
        "Adobe Acrobat Update Service",
        '"C:\\Program Files (x86)\\Common Files\\Adobe\\ARM\\1.0\\armsvc.exe"',
    ),
]


def software_updates(day: Day, ctx: Context, rng: np.random.Generator, stream: Stream) -> None:
    """A few workstations install an updater service each day (System 7045)."""
    present = ctx.workstations[day.present]
    if present.size == 0:
        return
    chosen = rng.choice(present, size=min(present.size, max(1, present.size // 60)), replace=False)
    for host_index in sorted(chosen.tolist()):
        name, image = UPDATE_SERVICES[host_index % len(UPDATE_SERVICES)]
        host = ctx.org.hosts[host_index]
        data = {
            "ServiceName": name,
            "ImagePath": image,
            "ServiceType": "user mode service",
            "StartType": "auto start",
            "AccountName": "LocalSystem",
        }
        at = day.start + 11 * HOUR + int(rng.integers(0, 4 * 3600)) * MICROS
        emit_one(stream, at, host, 7045, SYSTEM, data)
