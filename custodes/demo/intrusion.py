"""An intrusion: password spraying, a hit, a remote service and a credential dump."""

from __future__ import annotations

import numpy as np

from custodes.demo.cases import SECOND, anyone, logon_data, pick, privileges
from custodes.demo.linux import MINUTE
from custodes.demo.organisation import NETBIOS, Organisation, Person
from custodes.demo.output import Streams
from custodes.demo.schedule import HOUR, Day
from custodes.demo.truth import (
    SIGMA_COMSVCS_DUMP,
    SIGMA_LSASS_COMSVCS,
    SIGMA_LSASS_MEMDUMP,
    SIGMA_UNCOMMON_SERVICE,
    Planted,
    posture,
    sigma,
    ueba,
)
from custodes.demo.windows import SECURITY, SYSMON, SYSTEM, emit_one

#: Names a sprayer tries besides the real accounts it harvested.
GUESSED_ACCOUNTS = ("administrator", "admin", "backup", "scanner", "test", "helpdesk", "training")
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
            posture("privileged_logon_off_hours"),  # the stolen admin account at 02:20
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
