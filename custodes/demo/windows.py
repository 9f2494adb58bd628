"""Windows events as JSON lines, in the exact shape the `evtx` package renders EVTX records.

Frequent events use string templates (one `%` per row); rare ones (account changes, planted
attacks) build their EventData from a dict. Record numbers are per computer and channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson

from custodes.demo.organisation import NETBIOS, Host
from custodes.demo.timeline import Stream, iso_stamps

SECURITY, SYSTEM, SYSMON = 0, 1, 2
CHANNELS = ("Security", "System", "Microsoft-Windows-Sysmon/Operational")
LOGS_PER_HOST = 3
SECURITY_PROVIDER = ("Microsoft-Windows-Security-Auditing", "54849625-5478-4994-A5BA-3E3B0328C30D")
SYSMON_PROVIDER = ("Microsoft-Windows-Sysmon", "5770385F-C22A-43E0-BF4C-06F5698FFBD9")
SCM_PROVIDER = ("Service Control Manager", "{555908d1-a6d7-4695-8e1e-26931d2012f4}")

#: EventID -> (Version, Task) for the Security events we write.
SECURITY_TASKS = {
    4624: (2, 12544),
    4625: (0, 12544),
    4634: (0, 12545),
    4648: (0, 12544),
    4672: (0, 12548),
    4688: (2, 13312),
    4697: (0, 12289),
    4720: (0, 13824),
    4722: (0, 13824),
    4725: (0, 13824),
    4726: (0, 13824),
    4728: (0, 13826),
    4732: (0, 13826),
    4756: (0, 13826),
    4768: (0, 14339),
    4769: (0, 14337),
    4776: (0, 14336),
}
SYSMON_VERSIONS = {1: 5, 3: 5, 10: 3, 11: 2, 13: 2}


def escape(text: str) -> str:
    """A value ready to sit between JSON quotes in a template."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def header(event_id: int, channel: int, *, failure: bool = False, user_sid: str = "") -> str:
    """The Event/System part with placeholders for time, record number, thread and computer."""
    if channel == SECURITY:
        name, guid = SECURITY_PROVIDER
        version, task = SECURITY_TASKS[event_id]
        level, keywords = 0, "0x8010000000000000" if failure else "0x8020000000000000"
        event = str(event_id)
        execution, security = '{"#attributes":{"ProcessID":636,"ThreadID":%d}}', "null"
    elif channel == SYSMON:
        name, guid = SYSMON_PROVIDER
        version, task, level, keywords = (
            SYSMON_VERSIONS[event_id],
            event_id,
            4,
            "0x8000000000000000",
        )
        event = str(event_id)
        execution, security = (
            '{"#attributes":{"ProcessID":2904,"ThreadID":%d}}',
            '{"#attributes":{"UserID":"S-1-5-18"}}',
        )
    else:
        name, guid = SCM_PROVIDER
        version, task, level, keywords = 0, 0, 4, "0x8080000000000000"
        event = f'{{"#attributes":{{"Qualifiers":16384}},"#text":{event_id}}}'
        execution = '{"#attributes":{"ProcessID":780,"ThreadID":%d}}'
        security = f'{{"#attributes":{{"UserID":"{user_sid or "S-1-5-18"}"}}}}'
    source = f',"EventSourceName":"{name}"' if channel == SYSTEM else ""
    provider = f'{{"#attributes":{{"Name":"{name}","Guid":"{guid}"{source}}}}}'
    return (
        '{"Event":{"#attributes":{"xmlns":"http://schemas.microsoft.com/win/2004/08/events/event"},'
        f'"System":{{"Provider":{provider},"EventID":{event},"Version":{version},"Level":{level},'
        f'"Task":{task},"Opcode":0,"Keywords":"{keywords}",'
        '"TimeCreated":{"#attributes":{"SystemTime":"%s"}},"EventRecordID":%d,"Correlation":null,'
        f'"Execution":{execution},"Channel":"{CHANNELS[channel]}","Computer":"%s",'
        f'"Security":{security}}},"EventData":{{'
    )


def template(event_id: int, channel: int, data: str, **options: Any) -> str:
    """A whole event line: header placeholders first, then the EventData placeholders."""
    return header(event_id, channel, **options) + data + "}}}"


def log_of(host: Host | int, channel: int) -> int:
    """The record-number sequence of a host's channel."""
    index = host if isinstance(host, int) else host.index
    return index * LOGS_PER_HOST + channel


def thread(number: int) -> int:
    """A plausible thread id that changes from record to record."""
    return 400 + (number * 37) % 7000


def emit(
    stream: Stream,
    line_template: str,
    times: np.ndarray,
    hosts: np.ndarray,
    computers: Sequence[str],
    values: Sequence[tuple[object, ...]],
    channel: int,
) -> None:
    """Queue rows of one event kind: `values[i]` fills the EventData placeholders of row i."""

    def render(stamps: Sequence[str], numbers: Sequence[int]) -> list[str]:
        return [  # the thread id is `thread(number)`, inlined: this is the hottest loop
            line_template % (stamp, number, 400 + (number * 37) % 7000, computer, *row)
            for stamp, number, computer, row in zip(stamps, numbers, computers, values, strict=True)
        ]

    stream.add(times, render, hosts * LOGS_PER_HOST + channel)


def emit_one(
    stream: Stream,
    time: int,
    host: Host,
    event_id: int,
    channel: int,
    data: dict[str, Any],
    *,
    failure: bool = False,
    user_sid: str = "",
    record: list[dict[str, Any]] | None = None,
) -> None:
    """Queue one rare event; when `record` is given, its identity is appended there once known."""
    if channel == SYSMON and data.get("UtcTime") == "":
        utc = sysmon_time(iso_stamps(np.array([time], dtype=np.int64))[0])
        data = {
            key: utc if key in ("UtcTime", "CreationUtcTime") else value
            for key, value in data.items()
        }
    body = orjson.dumps(data).decode()[1:-1].replace("%", "%%")
    line_template = template(event_id, channel, body, failure=failure, user_sid=user_sid)

    def render(stamps: Sequence[str], numbers: Sequence[int]) -> list[str]:
        line = line_template % (stamps[0], numbers[0], thread(numbers[0]), host.fqdn)
        if record is not None:
            record.append(
                {
                    "file": stream.path.name,
                    "computer": host.fqdn,
                    "channel": CHANNELS[channel],
                    "event_id": event_id,
                    "event_record_id": numbers[0],
                    "time": stamps[0],
                }
            )
        return [line]

    stream.add(np.array([time], dtype=np.int64), render, log_of(host, channel))


LOGON_DATA = (
    '"SubjectUserSid":"%s","SubjectUserName":"%s","SubjectDomainName":"%s","SubjectLogonId":"%s",'
    '"TargetUserSid":"%s","TargetUserName":"%s","TargetDomainName":"' + NETBIOS + '",'
    '"TargetLogonId":"%s","LogonType":%d,"LogonProcessName":"%s","AuthenticationPackageName":"%s",'
    '"WorkstationName":"%s","LogonGuid":"{00000000-0000-0000-0000-000000000000}",'
    '"TransmittedServices":"-","LmPackageName":"-","KeyLength":0,"ProcessId":"%s",'
    '"ProcessName":"%s","IpAddress":"%s","IpPort":"%s","ImpersonationLevel":"%%%%1833",'
    '"RestrictedAdminMode":"-","TargetOutboundUserName":"-","TargetOutboundDomainName":"-",'
    '"VirtualAccount":"%%%%1843","TargetLinkedLogonId":"0x0","ElevatedToken":"%s"'
)
LOGON = template(4624, SECURITY, LOGON_DATA)
FAILED_LOGON = template(
    4625,
    SECURITY,
    '"SubjectUserSid":"%s","SubjectUserName":"%s","SubjectDomainName":"%s","SubjectLogonId":"%s",'
    '"TargetUserSid":"S-1-0-0","TargetUserName":"%s","TargetDomainName":"' + NETBIOS + '",'
    '"Status":"0xc000006d","FailureReason":"%%%%2313","SubStatus":"%s","LogonType":%d,'
    '"LogonProcessName":"%s","AuthenticationPackageName":"%s","WorkstationName":"%s",'
    '"TransmittedServices":"-","LmPackageName":"-","KeyLength":0,"ProcessId":"%s",'
    '"ProcessName":"%s","IpAddress":"%s","IpPort":"%s"',
    failure=True,
)
LOGOFF = template(
    4634,
    SECURITY,
    '"TargetUserSid":"%s","TargetUserName":"%s","TargetDomainName":"' + NETBIOS + '",'
    '"TargetLogonId":"%s","LogonType":%d',
)
SPECIAL_PRIVILEGES = template(
    4672,
    SECURITY,
    '"SubjectUserSid":"%s","SubjectUserName":"%s","SubjectDomainName":"' + NETBIOS + '",'
    '"SubjectLogonId":"%s","PrivilegeList":"SeSecurityPrivilege\\r\\n\\t\\t\\tSeBackupPrivilege'
    "\\r\\n\\t\\t\\tSeRestorePrivilege\\r\\n\\t\\t\\tSeTakeOwnershipPrivilege\\r\\n\\t\\t\\t"
    "SeDebugPrivilege\\r\\n\\t\\t\\tSeSystemEnvironmentPrivilege\\r\\n\\t\\t\\tSeLoadDriverPrivil"
    "ege"
    '\\r\\n\\t\\t\\tSeImpersonatePrivilege"',
)
TGT_REQUEST = template(
    4768,
    SECURITY,
    '"TargetUserName":"%s","TargetDomainName":"AGENCY.EXAMPLE","TargetSid":"%s",'
    '"ServiceName":"krbtgt","ServiceSid":"S-1-5-21-3623811015-3361044348-30300820-502",'
    '"TicketOptions":"0x40810010","Status":"0x0","TicketEncryptionType":"0x12","PreAuthType":"2",'
    '"IpAddress":"::ffff:%s","IpPort":"%s","CertIssuerName":"","CertSerialNumber":"",'
    '"CertThumbprint":""',
)
SERVICE_TICKET = template(
    4769,
    SECURITY,
    '"TargetUserName":"%s@AGENCY.EXAMPLE","TargetDomainName":"AGENCY.EXAMPLE","ServiceName":"%s",'
    '"ServiceSid":"%s","TicketOptions":"0x40810000","TicketEncryptionType":"0x12",'
    '"IpAddress":"::ffff:%s","IpPort":"%s","Status":"0x0",'
    '"LogonGuid":"{00000000-0000-0000-0000-000000000000}","TransmittedServices":"-"',
)
NTLM_VALIDATION = template(
    4776,
    SECURITY,
    '"PackageName":"MICROSOFT_AUTHENTICATION_PACKAGE_V1_0","TargetUserName":"%s",'
    '"Workstation":"%s","Status":"%s"',
)
PROCESS_CREATED = template(
    4688,
    SECURITY,
    '"SubjectUserSid":"%s","SubjectUserName":"%s","SubjectDomainName":"' + NETBIOS + '",'
    '"SubjectLogonId":"%s","NewProcessId":"%s","NewProcessName":"%s",'
    '"TokenElevationType":"%%%%1936","ProcessId":"%s","CommandLine":"%s","TargetUserSid":"S-1-0-0",'
    '"TargetUserName":"-","TargetDomainName":"-","TargetLogonId":"0x0","ParentProcessName":"%s",'
    '"MandatoryLabel":"S-1-16-12288"',
)
SYSMON_PROCESS = template(
    1,
    SYSMON,
    '"RuleName":"-","UtcTime":"%s","ProcessGuid":"%s","ProcessId":%d,"Image":"%s",'
    '"FileVersion":"%s","Description":"%s","Product":"%s","Company":"%s","OriginalFileName":"%s",'
    '"CommandLine":"%s","CurrentDirectory":"%s","User":"' + NETBIOS + '\\\\%s",'
    '"LogonGuid":"%s","LogonId":"%s","TerminalSessionId":%d,"IntegrityLevel":"%s","Hashes":"%s",'
    '"ParentProcessGuid":"%s","ParentProcessId":%d,"ParentImage":"%s","ParentCommandLine":"%s",'
    '"ParentUser":"' + NETBIOS + '\\\\%s"',
)
SYSMON_NETWORK = template(
    3,
    SYSMON,
    '"RuleName":"-","UtcTime":"%s","ProcessGuid":"%s","ProcessId":%d,"Image":"%s",'
    '"User":"' + NETBIOS + '\\\\%s","Protocol":"tcp","Initiated":true,"SourceIsIpv6":false,'
    '"SourceIp":"%s","SourceHostname":"%s","SourcePort":%d,"SourcePortName":"-",'
    '"DestinationIsIpv6":false,"DestinationIp":"%s","DestinationHostname":"%s",'
    '"DestinationPort":%d,"DestinationPortName":"%s"',
)
SYSMON_FILE = template(
    11,
    SYSMON,
    '"RuleName":"-","UtcTime":"%s","ProcessGuid":"%s","ProcessId":%d,"Image":"%s",'
    '"TargetFilename":"%s","CreationUtcTime":"%s","User":"' + NETBIOS + '\\\\%s"',
)
SYSMON_REGISTRY = template(
    13,
    SYSMON,
    '"RuleName":"-","EventType":"SetValue","UtcTime":"%s","ProcessGuid":"%s","ProcessId":%d,'
    '"Image":"%s","TargetObject":"%s","Details":"%s","User":"' + NETBIOS + '\\\\%s"',
)


def sysmon_time(stamp: str) -> str:
    """Sysmon's UtcTime: milliseconds and a space, e.g. 2026-11-26 08:12:31.123."""
    return f"{stamp[:10]} {stamp[11:23]}"


def process_guid(host: int, pid: int, salt: int) -> str:
    """A stable Sysmon process GUID for a host and process."""
    low, high, tail = salt & 0xFFFF, (salt >> 16) & 0xFFFF, (pid * 31 + host) & 0xFFFFFF
    return f"{{{0x3D5E0000 + host:08X}-{low:04X}-{high:04X}-{pid:04X}-000000{tail:06X}}}"
