"""Helpers every planted case uses: who it happens to, Windows event data, its evidence."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from custodes.demo.mobile import add_checkins
from custodes.demo.organisation import NETBIOS, Device, Organisation, Person
from custodes.demo.output import Streams
from custodes.demo.timeline import MICROS, Render
from custodes.demo.truth import Planted, line_recorder
from custodes.errors import ConfigError

PRIVILEGES = ("SeSecurityPrivilege", "SeBackupPrivilege", "SeRestorePrivilege", "SeDebugPrivilege")
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
