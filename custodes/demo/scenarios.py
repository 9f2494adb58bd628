"""Planted attacks and misuse: each writes its events on its day and records them as truth."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import numpy as np

from custodes.demo.linux import MINUTE
from custodes.demo.mobile import add_checkins
from custodes.demo.network import BROWSER, add_proxy, add_vpn
from custodes.demo.organisation import (
    DOMAIN_SID,
    IT_DEPARTMENT,
    NETBIOS,
    Device,
    Organisation,
    Person,
)
from custodes.demo.output import Streams
from custodes.demo.schedule import HOUR, Day
from custodes.demo.timeline import MICROS, Render
from custodes.demo.truth import (
    SIGMA_COMSVCS_DUMP,
    SIGMA_GLOBAL_GROUP_ADD,
    SIGMA_LSASS_COMSVCS,
    SIGMA_LSASS_MEMDUMP,
    SIGMA_RCLONE_AGENT,
    SIGMA_UNCOMMON_SERVICE,
    Facts,
    Planted,
    line_recorder,
    policy,
    posture,
    sigma,
    ueba,
)
from custodes.demo.windows import SECURITY, SYSMON, SYSTEM, emit_one
from custodes.errors import ConfigError

HOTLINE = "hotline.oig.example.gov"
#: Names a sprayer tries besides the real accounts it harvested.
GUESSED_ACCOUNTS = ("administrator", "admin", "backup", "scanner", "test", "helpdesk", "training")
PRIVILEGES = ("SeSecurityPrivilege", "SeBackupPrivilege", "SeRestorePrivilege", "SeDebugPrivilege")
#: The credential dump: comsvcs.dll's MiniDump export run by rundll32 against LSASS (pid 708).
DUMP_COMMAND = (
    "C:\\Windows\\System32\\rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump 708 "
    "C:\\Windows\\Temp\\wupd.bin full"
)
LSASS_CALL_TRACE = "|".join(
    (
        "C:\\Windows\\SYSTEM32\\ntdll.dll+9f8e4",
        "C:\\Windows\\System32\\KERNELBASE.dll+71a6b",
        "C:\\Windows\\System32\\dbgcore.dll+6b82",
        "C:\\Windows\\System32\\comsvcs.dll+47f3f",
        "C:\\Windows\\System32\\rundll32.exe+3bd4",
    )
)
SECOND = MICROS


def logon_data(
    person_sid: str, account: str, logon_type: int, ip: str, workstation: str, package: str = "NTLM"
) -> dict[str, object]:
    """EventData of a 4624 network or remote logon."""
    return {
        "SubjectUserSid": "S-1-0-0",
        "SubjectUserName": "-",
        "SubjectDomainName": "-",
        "SubjectLogonId": "0x0",
        "TargetUserSid": person_sid,
        "TargetUserName": account,
        "TargetDomainName": NETBIOS,
        "TargetLogonId": "0x5d1c3f7",
        "LogonType": logon_type,
        "LogonProcessName": "NtLmSsp " if package == "NTLM" else "User32 ",
        "AuthenticationPackageName": package,
        "WorkstationName": workstation,
        "LogonGuid": "{00000000-0000-0000-0000-000000000000}",
        "TransmittedServices": "-",
        "LmPackageName": "NTLM V2" if package == "NTLM" else "-",
        "KeyLength": 128 if package == "NTLM" else 0,
        "ProcessId": "0x0",
        "ProcessName": "-",
        "IpAddress": ip,
        "IpPort": "49733",
        "ImpersonationLevel": "%%1833",
        "RestrictedAdminMode": "-",
        "TargetOutboundUserName": "-",
        "TargetOutboundDomainName": "-",
        "VirtualAccount": "%%1843",
        "TargetLinkedLogonId": "0x0",
        "ElevatedToken": "%%1842",
    }


def privileges(sid: str, account: str) -> dict[str, object]:
    """EventData of a 4672 special-privileges logon."""
    return {
        "SubjectUserSid": sid,
        "SubjectUserName": account,
        "SubjectDomainName": NETBIOS,
        "SubjectLogonId": "0x5d1c3f7",
        "PrivilegeList": "\r\n\t\t\t".join(PRIVILEGES),
    }


def pick(
    people: list[Person],
    rng: np.random.Generator,
    taken: set[int],
    fallback: list[Person] | None = None,
) -> Person:
    """A person not yet used by another case (from `fallback` when `people` are all used)."""
    free = [person for person in people if person.index not in taken]
    if not free and fallback is not None:
        free = [person for person in fallback if person.index not in taken]
    if not free:
        raise ConfigError("the agency is too small for every planted case: use more --people")
    person = free[int(rng.integers(0, len(free)))]
    taken.add(person.index)
    return person


def anyone(org: Organisation) -> list[Person]:
    """Current staff who are not administrators (the fallback of small agencies)."""
    return [
        p
        for p in org.people
        if p.separation_date is None and p.start_date <= org.start and not p.admin_account
    ]


def plant_activity(
    org: Organisation, rng: np.random.Generator, taken: set[int], facts: Facts
) -> list[Planted]:
    """The activity scenarios of issue 8, placed on fixed fractions of the window."""
    last = org.days - 1
    current = [p for p in org.people if p.separation_date is None and p.start_date <= org.start]
    staff = [p for p in current if p.role == "staff" and p.department != IT_DEPARTMENT]
    admins = [p for p in current if p.admin_account]
    for person in admins:
        taken.add(person.index)
    return [
        departed_vpn(org, rng, taken, facts, min(last, max(0, org.days // 2))),
        privileged_addition(org, rng, taken, current, admins, min(last, org.days // 3)),
        spray_and_move(org, rng, taken, staff, admins, min(last, (2 * org.days) // 3)),
        exfiltration(org, rng, taken, staff, max(0, last - 1)),
        protected_channel(org, rng, taken, staff, min(last, 1)),
    ]


def departed_vpn(
    org: Organisation, rng: np.random.Generator, taken: set[int], facts: Facts, day_index: int
) -> Planted:
    """A former employee's account, still enabled, used over the VPN weeks after separation."""
    former = [
        p for p in org.people if p.separation_date is not None and p.separation_date < org.start
    ]
    person = pick(former, rng, taken)
    facts.enabled_after_separation.add(person.account)
    use_day = org.start + timedelta(days=day_index)
    person.separation_date = use_day - timedelta(days=35)
    planted = Planted(
        "departed-account-vpn",
        "Departed employee's account used from the VPN",
        f"{person.account} separated on {person.separation_date}, 35 days before; the account is"
        " still enabled and logs on over the VPN at night from an unfamiliar address.",
        "activity",
        [
            posture("activity_after_separation"),
            posture("account_enabled_after_separation"),
            ueba("first_seen_source_ip", "off_hours_logons"),
        ],
        [person.account],
        [person.employee_id],
        ["FS01.agency.example"],
        day=day_index,
    )

    def emit(day: Day, streams: Streams) -> None:
        start = day.start + 21 * HOUR + 40 * MINUTE
        source, assigned = "185.220.101.47", "10.99.250.77"
        add_vpn(
            streams.vpn,
            np.array([start, start + 52 * MINUTE]),
            [
                ("login", person.account, source, 51515, assigned, "NL", "UNKNOWN", 0, 0, True),
                (
                    "logout",
                    person.account,
                    source,
                    51515,
                    assigned,
                    "NL",
                    "UNKNOWN",
                    180_000_000,
                    9_000_000,
                    True,
                ),
            ],
        )
        streams.vpn.blocks[-1].render = record_lines(
            streams.vpn.blocks[-1].render, planted, "vpn.cef"
        )
        dc, fs = org.hosts_by_role("dc")[0], org.hosts_by_role("file")[0]
        emit_one(
            streams.windows,
            start + 3 * MINUTE,
            dc,
            4768,
            SECURITY,
            {
                "TargetUserName": person.account,
                "TargetDomainName": "AGENCY.EXAMPLE",
                "TargetSid": person.sid,
                "ServiceName": "krbtgt",
                "ServiceSid": f"{DOMAIN_SID}-502",
                "TicketOptions": "0x40810010",
                "Status": "0x0",
                "TicketEncryptionType": "0x12",
                "PreAuthType": "2",
                "IpAddress": f"::ffff:{assigned}",
                "IpPort": "50122",
                "CertIssuerName": "",
                "CertSerialNumber": "",
                "CertThumbprint": "",
            },
            record=planted.events,
        )
        for minute in (4, 9, 17):
            emit_one(
                streams.windows,
                start + minute * MINUTE,
                fs,
                4624,
                SECURITY,
                logon_data(person.sid, person.account, 3, assigned, "-", "Kerberos"),
                record=planted.events,
            )

    planted.emit = emit
    return planted


def privileged_addition(
    org: Organisation,
    rng: np.random.Generator,
    taken: set[int],
    current: list[Person],
    admins: list[Person],
    day_index: int,
) -> Planted:
    """An IT specialist added to Domain Admins without approval, then admin logons at night."""
    candidates = [p for p in current if p.department == IT_DEPARTMENT and p.role == "staff"] or [
        p for p in current if p.role == "staff"
    ]
    person = pick(candidates, rng, taken, anyone(org))
    actor = admins[0]
    person.extra_groups.append("Domain Admins")  # what the directory export shows afterwards
    planted = Planted(
        "unapproved-privileged-group-addition",
        "Privileged group addition without approval, then off-hours admin logons",
        f"{actor.admin_account} adds {person.account} to Domain Admins at night with no approval"
        f" on record; {person.account} then logs on to servers over RDP before midnight.",
        "activity",
        [
            sigma(SIGMA_GLOBAL_GROUP_ADD),
            posture("privileged_group_change_without_approval"),
            posture("privileged_account_not_approved"),
            posture("privileged_logon_off_hours"),
            ueba("off_hours_logons", "distinct_hosts", "privileged_actions"),
        ],
        [person.account, actor.admin_account or ""],
        [person.employee_id, actor.employee_id],
        [],
        day=day_index,
    )
    servers = [host for host in org.hosts if host.kind == "windows-server" and host.role != "dc"]

    def emit(day: Day, streams: Streams) -> None:
        dc = org.hosts_by_role("dc")[0]
        planted.hosts = [dc.fqdn] + [host.fqdn for host in servers[:2]]
        at = day.start + 22 * HOUR + 41 * MINUTE
        emit_one(
            streams.windows,
            at,
            dc,
            4728,
            SECURITY,
            {
                "MemberName": f"CN={person.name},OU=Staff,DC=agency,DC=example",
                "MemberSid": person.sid,
                "TargetUserName": "Domain Admins",
                "TargetDomainName": NETBIOS,
                "TargetSid": f"{DOMAIN_SID}-512",
                "SubjectUserSid": f"{actor.sid}0",
                "SubjectUserName": actor.admin_account,
                "SubjectDomainName": NETBIOS,
                "SubjectLogonId": "0x9a3e11",
                "PrivilegeList": "-",
            },
            record=planted.events,
        )
        workstation = org.hosts[person.workstation]
        for hour, host in ((23.15, servers[0]), (23.8, servers[1 % len(servers)])):
            when = day.start + int(hour * HOUR)
            emit_one(
                streams.windows,
                when,
                host,
                4624,
                SECURITY,
                logon_data(
                    person.sid, person.account, 10, workstation.ip, workstation.name, "Negotiate"
                ),
                record=planted.events,
            )
            emit_one(
                streams.windows,
                when + 1,
                host,
                4672,
                SECURITY,
                privileges(person.sid, person.account),
                record=planted.events,
            )

    planted.emit = emit
    return planted


def spray_and_move(
    org: Organisation,
    rng: np.random.Generator,
    taken: set[int],
    staff: list[Person],
    admins: list[Person],
    day_index: int,
) -> Planted:
    """Password spraying from a compromised workstation, a hit, a remote service, an LSASS dump."""
    foothold = pick(staff, rng, taken, anyone(org))
    victim = admins[-1]
    workstation = org.hosts[foothold.workstation]
    target = org.hosts_by_role("app")[0]
    known = [p.account for p in org.people if p.separation_date is None][:40]
    sprayed = known + [name for name in GUESSED_ACCOUNTS if name not in known]
    planted = Planted(
        "password-spray-lateral-movement",
        "Password spraying, a successful logon, remote service creation and credential dumping",
        f"From {workstation.name} ({workstation.ip}) one password is tried against"
        f" {len(sprayed)} accounts on the domain controller; {victim.admin_account} falls, logs"
        f" on to {target.name}, installs a service from C:\\Windows\\Temp and dumps LSASS with"
        " comsvcs.dll MiniDump.",
        "activity",
        [
            sigma(SIGMA_UNCOMMON_SERVICE),
            sigma(SIGMA_COMSVCS_DUMP),
            sigma(SIGMA_LSASS_MEMDUMP),
            sigma(SIGMA_LSASS_COMSVCS),
            {"kind": "correlation", "what": "many 4625 from one source over many accounts"},
            ueba("failed_logons", "distinct_target_accounts"),
        ],
        [victim.admin_account or "", foothold.account],
        [victim.employee_id, foothold.employee_id],
        [workstation.fqdn, target.fqdn],
        day=day_index,
    )

    def emit(day: Day, streams: Streams) -> None:
        dc = org.hosts_by_role("dc")[0]
        planted.hosts.append(dc.fqdn)
        start = day.start + 2 * HOUR + 10 * MINUTE
        failure = {
            "SubjectUserSid": "S-1-0-0",
            "SubjectUserName": "-",
            "SubjectDomainName": "-",
            "SubjectLogonId": "0x0",
            "TargetUserSid": "S-1-0-0",
            "TargetDomainName": NETBIOS,
            "Status": "0xc000006d",
            "FailureReason": "%%2313",
            "SubStatus": "0xc000006a",
            "LogonType": 3,
            "LogonProcessName": "NtLmSsp ",
            "AuthenticationPackageName": "NTLM",
            "WorkstationName": workstation.name,
            "TransmittedServices": "-",
            "LmPackageName": "-",
            "KeyLength": 0,
            "ProcessId": "0x0",
            "ProcessName": "-",
            "IpAddress": workstation.ip,
            "IpPort": "0",
        }
        for number, name in enumerate(sprayed):
            status = "0xc000006a" if name in known else "0xc0000064"  # bad password / no such user
            at = start + number * 11 * SECOND
            emit_one(
                streams.windows,
                at,
                dc,
                4776,
                SECURITY,
                {
                    "PackageName": "MICROSOFT_AUTHENTICATION_PACKAGE_V1_0",
                    "TargetUserName": name,
                    "Workstation": workstation.name,
                    "Status": status,
                },
                failure=True,
                record=planted.events,
            )
            emit_one(
                streams.windows,
                at + 2000,
                dc,
                4625,
                SECURITY,
                {**failure, "TargetUserName": name, "SubStatus": status},
                failure=True,
                record=planted.events,
            )
        hit = start + len(sprayed) * 11 * SECOND + 30 * SECOND
        account, sid = victim.admin_account or "", f"{victim.sid}0"
        emit_one(
            streams.windows,
            hit,
            dc,
            4776,
            SECURITY,
            {
                "PackageName": "MICROSOFT_AUTHENTICATION_PACKAGE_V1_0",
                "TargetUserName": account,
                "Workstation": workstation.name,
                "Status": "0x0",
            },
            record=planted.events,
        )
        emit_one(
            streams.windows,
            hit + 1000,
            dc,
            4624,
            SECURITY,
            logon_data(sid, account, 3, workstation.ip, workstation.name),
            record=planted.events,
        )
        move = hit + 4 * MINUTE
        emit_one(
            streams.windows,
            move,
            workstation,
            4648,
            SECURITY,
            {
                "SubjectUserSid": foothold.sid,
                "SubjectUserName": foothold.account,
                "SubjectDomainName": NETBIOS,
                "SubjectLogonId": "0x3c2a1",
                "LogonGuid": "{00000000-0000-0000-0000-000000000000}",
                "TargetUserName": account,
                "TargetDomainName": NETBIOS,
                "TargetLogonGuid": "{00000000-0000-0000-0000-000000000000}",
                "TargetServerName": target.fqdn,
                "TargetInfo": target.fqdn,
                "ProcessId": "0x4",
                "ProcessName": "",
                "IpAddress": target.ip,
                "IpPort": "445",
            },
            record=planted.events,
        )
        emit_one(
            streams.windows,
            move + SECOND,
            target,
            4624,
            SECURITY,
            logon_data(sid, account, 3, workstation.ip, workstation.name),
            record=planted.events,
        )
        emit_one(
            streams.windows,
            move + SECOND + 1,
            target,
            4672,
            SECURITY,
            privileges(sid, account),
            record=planted.events,
        )
        image = "C:\\Windows\\Temp\\wupdsvc.exe"
        emit_one(
            streams.windows,
            move + 3 * SECOND,
            target,
            4697,
            SECURITY,
            {
                "SubjectUserSid": sid,
                "SubjectUserName": account,
                "SubjectDomainName": NETBIOS,
                "SubjectLogonId": "0x5d1c3f7",
                "ServiceName": "WinUpdSvc",
                "ServiceFileName": image,
                "ServiceType": "0x10",
                "ServiceStartType": "3",
                "ServiceAccount": "LocalSystem",
            },
            record=planted.events,
        )
        emit_one(
            streams.windows,
            move + 3 * SECOND + 1,
            target,
            7045,
            SYSTEM,
            {
                "ServiceName": "WinUpdSvc",
                "ImagePath": image,
                "ServiceType": "user mode service",
                "StartType": "demand start",
                "AccountName": "LocalSystem",
            },
            user_sid=sid,
            record=planted.events,
        )
        dump = move + 40 * SECOND
        command = DUMP_COMMAND
        guid = "{3D5E0001-6F2A-6740-0B01-000000000F00}"
        emit_one(
            streams.windows,
            dump,
            target,
            1,
            SYSMON,
            {
                "RuleName": "-",
                "UtcTime": "",
                "ProcessGuid": guid,
                "ProcessId": 5120,
                "Image": "C:\\Windows\\System32\\rundll32.exe",
                "FileVersion": "10.0.20348.1 (WinBuild.160101.0800)",
                "Description": "Windows host process (Rundll32)",
                "Product": "Microsoft® Windows® Operating System",
                "Company": "Microsoft Corporation",
                "OriginalFileName": "RUNDLL32.EXE",
                "CommandLine": command,
                "CurrentDirectory": "C:\\Windows\\system32\\",
                "User": "NT AUTHORITY\\SYSTEM",
                "LogonGuid": "{3D5E0001-6F2A-6740-E703-000000000000}",
                "LogonId": "0x3e7",
                "TerminalSessionId": 0,
                "IntegrityLevel": "System",
                "Hashes": "SHA256=7F4E1B9C8D2A3F5E6B7C8D9E0F1A2B3C4D5E6F7A8B9C0D1E2F3A4B5C6D7E8F90",
                "ParentProcessGuid": "{3D5E0001-6F29-6740-0A01-000000000F00}",
                "ParentProcessId": 4876,
                "ParentImage": image,
                "ParentCommandLine": image,
                "ParentUser": "NT AUTHORITY\\SYSTEM",
            },
            record=planted.events,
        )
        emit_one(
            streams.windows,
            dump + 2000,
            target,
            4688,
            SECURITY,
            {
                "SubjectUserSid": "S-1-5-18",
                "SubjectUserName": f"{target.name}$",
                "SubjectDomainName": NETBIOS,
                "SubjectLogonId": "0x3e7",
                "NewProcessId": "0x1400",
                "NewProcessName": "C:\\Windows\\System32\\rundll32.exe",
                "TokenElevationType": "%%1936",
                "ProcessId": "0x130c",
                "CommandLine": command,
                "TargetUserSid": "S-1-0-0",
                "TargetUserName": "-",
                "TargetDomainName": "-",
                "TargetLogonId": "0x0",
                "ParentProcessName": image,
                "MandatoryLabel": "S-1-16-16384",
            },
            record=planted.events,
        )
        emit_one(
            streams.windows,
            dump + 90_000,
            target,
            10,
            SYSMON,
            {
                "RuleName": "-",
                "UtcTime": "",
                "SourceProcessGUID": guid,
                "SourceProcessId": 5120,
                "SourceThreadId": 5124,
                "SourceImage": "C:\\Windows\\System32\\rundll32.exe",
                "TargetProcessGUID": "{3D5E0001-6EF0-6740-0C00-000000000F00}",
                "TargetProcessId": 708,
                "TargetImage": "C:\\Windows\\system32\\lsass.exe",
                "GrantedAccess": "0x1fffff",
                "CallTrace": LSASS_CALL_TRACE,
                "SourceUser": f"{NETBIOS}\\{account}",
                "TargetUser": "NT AUTHORITY\\SYSTEM",
            },
            record=planted.events,
        )
        emit_one(
            streams.windows,
            dump + 2 * SECOND,
            target,
            11,
            SYSMON,
            {
                "RuleName": "-",
                "UtcTime": "",
                "ProcessGuid": guid,
                "ProcessId": 5120,
                "Image": "C:\\Windows\\System32\\rundll32.exe",
                "TargetFilename": "C:\\Windows\\Temp\\wupd.bin",
                "CreationUtcTime": "",
                "User": "NT AUTHORITY\\SYSTEM",
            },
            record=planted.events,
        )

    planted.emit = emit
    return planted


def exfiltration(
    org: Organisation,
    rng: np.random.Generator,
    taken: set[int],
    staff: list[Person],
    day_index: int,
) -> Planted:
    """Gigabytes uploaded at night to personal cloud storage with rclone, over the VPN."""
    person = pick(staff, rng, taken, anyone(org))
    planted = Planted(
        "offhours-exfiltration-personal-cloud",
        "Large off-hours upload to a personal cloud domain",
        f"{person.account} connects to the VPN late at night and uploads about 3 GB to personal"
        " cloud storage with rclone.",
        "activity",
        [
            sigma(SIGMA_RCLONE_AGENT),
            ueba("bytes_out", "off_hours_activity", "web_category_personal_storage"),
        ],
        [person.account],
        [person.employee_id],
        [f"WS-{person.index:05d}"],
        day=day_index,
    )

    def emit(day: Day, streams: Streams) -> None:
        start = day.start + 22 * HOUR + 5 * MINUTE
        assigned = f"10.99.{(person.index // 250) % 250}.{person.index % 250 + 2}"
        host = f"WS-{person.index:05d}"
        add_vpn(
            streams.vpn,
            np.array([start, start + 95 * MINUTE]),
            [
                ("login", person.account, person.home_ip, 50123, assigned, "US", host, 0, 0, True),
                (
                    "logout",
                    person.account,
                    person.home_ip,
                    50123,
                    assigned,
                    "US",
                    host,
                    40_000_000,
                    3_300_000_000,
                    True,
                ),
            ],
        )
        sizes = rng.integers(90_000_000, 130_000_000, 28)
        times = start + 4 * MINUTE + np.arange(28) * 3 * MINUTE
        rows: list[tuple[object, ...]] = [
            (
                assigned,
                person.account,
                host,
                "PUT",
                f"https://content.dropboxapi.com/2/files/upload_session/append_v2?part={n}",
                "content.dropboxapi.com",
                "162.125.4.14",
                int(size),
                512,
                200,
                "Personal Storage",
                "rclone/v1.68.1",
            )
            for n, size in enumerate(sizes.tolist())
        ]
        add_proxy(streams.proxy, times, rows)
        streams.proxy.blocks[-1].render = record_lines(
            streams.proxy.blocks[-1].render, planted, "proxy.cef"
        )

    planted.emit = emit
    return planted


def protected_channel(
    org: Organisation,
    rng: np.random.Generator,
    taken: set[int],
    staff: list[Person],
    day_index: int,
) -> Planted:
    """A visit to the inspector general's hotline: policy says it is never stored, only counted."""
    person = pick(staff, rng, taken, anyone(org))
    planted = Planted(
        "protected-channel-hotline",
        "Protected channel: inspector general hotline (must never be stored)",
        f"{person.account} opens the inspector general hotline's reporting page; the policy's"
        " protected channel says the record is counted, never stored.",
        "activity",
        [policy("protected_channel")],
        [person.account],
        [person.employee_id],
        [f"WS-{person.index:05d}"],
        day=day_index,
    )

    def emit(day: Day, streams: Streams) -> None:
        at = day.start + 12 * HOUR + 31 * MINUTE
        ip = org.hosts[person.workstation].ip
        rows: list[tuple[object, ...]] = [
            (
                ip,
                person.account,
                f"WS-{person.index:05d}",
                "GET",
                f"https://{HOTLINE}/report",
                HOTLINE,
                "198.51.100.77",
                812,
                14_230,
                200,
                "Government",
                BROWSER,
            )
        ]
        add_proxy(streams.proxy, np.array([at]), rows)
        streams.proxy.blocks[-1].render = record_lines(
            streams.proxy.blocks[-1].render, planted, "proxy.cef"
        )

    planted.emit = emit
    return planted


def record_lines(render: Render, planted: Planted, file: str) -> Render:
    """Wrap a block's render so that the exact lines it writes join the scenario's truth."""
    recorder = line_recorder(planted, file)

    def wrapped(stamps: Sequence[str], numbers: Sequence[int]) -> list[str]:
        lines = render(stamps, numbers)
        recorder.extend(lines)
        return lines

    return wrapped


def mobile_checkins(
    planted: Planted,
    streams: Streams,
    times: np.ndarray,
    device: Device,
    account: str,
    country: str,
) -> None:
    """Queue check-ins of one device from one country and record them as evidence."""
    add_checkins(
        streams.mdm,
        times,
        [device] * times.size,
        [account] * times.size,
        [country] * times.size,
        record=line_recorder(planted, "mdm.jsonl"),
    )
