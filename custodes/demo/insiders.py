"""Misuse from inside: a departed account, an unapproved privilege, exfiltration, a hotline."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from custodes.demo.cases import anyone, logon_data, pick, privileges, record_lines
from custodes.demo.linux import MINUTE
from custodes.demo.network import BROWSER, add_proxy, add_vpn
from custodes.demo.organisation import DOMAIN_SID, IT_DEPARTMENT, NETBIOS, Organisation, Person
from custodes.demo.output import Streams
from custodes.demo.schedule import HOUR, Day
from custodes.demo.truth import (
    SIGMA_GLOBAL_GROUP_ADD,
    SIGMA_RCLONE_AGENT,
    Facts,
    Planted,
    policy,
    posture,
    sigma,
    ueba,
)
from custodes.demo.windows import SECURITY, emit_one

HOTLINE = "hotline.oig.example.gov"


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
