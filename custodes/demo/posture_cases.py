"""Planted posture problems (and near misses that must not be findings) for issue 6's checks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np

from custodes.demo.cases import anyone, logon_data, mobile_checkins, pick, privileges
from custodes.demo.mobile import set_device
from custodes.demo.organisation import DELETE_AFTER_DAYS, NETBIOS, Organisation, Person, Trip
from custodes.demo.output import Streams
from custodes.demo.schedule import HOUR, Day
from custodes.demo.truth import Facts, Planted, posture
from custodes.demo.windows import SECURITY, emit_one

MINUTE = HOUR // 60
ALLOWED_COUNTRIES = ["US", "CA", "GB", "FR", "DE", "BE", "JP"]


def plant_posture(
    org: Organisation, rng: np.random.Generator, taken: set[int], facts: Facts
) -> list[Planted]:
    """Account, privilege and device cases with their near misses."""
    cases = accounts(org, rng, taken, facts) + [approved_addition(org, facts), builtin_admin(org)]
    return cases + devices(org, rng, taken, facts)


def accounts(
    org: Organisation, rng: np.random.Generator, taken: set[int], facts: Facts
) -> list[Planted]:
    """A departed but enabled account, a leaver today (near miss), a dormant and an orphan one."""
    former = [
        p
        for p in org.people
        if p.separation_date is not None and p.separation_date < org.start and p.index not in taken
    ]
    departed = pick(former, rng, taken)
    facts.enabled_after_separation.add(departed.account)
    for person in former:  # one ordinary leaver whose account is deleted (4726) on day two
        if person.index not in taken:
            gap = DELETE_AFTER_DAYS - min(1, org.days - 1)
            person.separation_date = org.start - timedelta(days=gap)
            taken.add(person.index)
            break
    current = [
        p
        for p in org.people
        if p.separation_date is None and p.role == "staff" and p.start_date <= org.start
    ]
    leaver = pick(current, rng, taken, anyone(org))
    leaver.separation_date = org.end + timedelta(days=1)  # the day the exports are taken
    facts.enabled_after_separation.add(leaver.account)
    owner = next(p for p in org.people if p.admin_account)
    facts.extra_accounts += [
        {
            "sam_account_name": "svc_legacy_report",
            "display_name": "Legacy reporting service",
            "employee_id": None,
            "owner_employee_id": owner.employee_id,
            "kind": "service",
            "enabled": True,
            "last_logon_at": f"{org.start - timedelta(days=203)}T03:00:00Z",
            "groups": ["Domain Users"],
        },
        {
            "sam_account_name": "contractor_tmp1",
            "display_name": "Temporary Contractor",
            "employee_id": None,
            "owner_employee_id": None,
            "kind": "user",
            "enabled": True,
            "last_logon_at": f"{org.start - timedelta(days=12)}T14:20:00Z",
            "groups": ["Domain Users", "Remote Desktop Users"],
        },
    ]
    return [
        Planted(
            "departed-account-enabled",
            "Account still enabled after separation",
            f"{departed.account} left on {departed.separation_date}; the directory account is"
            " still enabled (no activity since).",
            "posture",
            [posture("account_enabled_after_separation")],
            [departed.account],
            [departed.employee_id],
        ),
        Planted(
            "leaver-today-near-miss",
            "Separation today (near miss: not yet a finding)",
            f"{leaver.account} separates on {leaver.separation_date}, the day the exports are"
            " taken; the account is still enabled, which is not late yet.",
            "near-miss",
            [posture("account_enabled_after_separation")],
            [leaver.account],
            [leaver.employee_id],
        ),
        Planted(
            "dormant-service-account",
            "Dormant enabled account",
            "svc_legacy_report has not logged on for more than 200 days and is still enabled.",
            "posture",
            [posture("dormant_account")],
            ["svc_legacy_report"],
            [owner.employee_id],
        ),
        Planted(
            "account-without-owner",
            "Directory account with no owner in the roster",
            "contractor_tmp1 is enabled in the directory and belongs to nobody on the HR roster.",
            "posture",
            [posture("account_without_owner")],
            ["contractor_tmp1"],
            [],
        ),
    ]


def approved_addition(org: Organisation, facts: Facts) -> Planted:
    """Near miss: an approved addition to a server's local Administrators group in office hours."""
    admins = [p for p in org.people if p.admin_account and p.separation_date is None]
    actor, member = admins[0], admins[-1]
    server = org.hosts_by_role("sql")[0]
    when = org.start + timedelta(days=min(1, org.days - 1))
    facts.approvals.append(
        {
            "account": member.admin_account,
            "group": "Administrators",
            "scope": server.fqdn,
            "approved_by": "E100000",
            "approved_at": f"{when - timedelta(days=2)}T15:00:00Z",
            "valid_from": str(when),
            "valid_until": str(when + timedelta(days=90)),
            "ticket": "CHG-20417",
        }
    )
    planted = Planted(
        "approved-privileged-addition-near-miss",
        "Privileged group addition with approval (near miss)",
        f"{actor.admin_account} adds {member.admin_account} to Administrators on {server.name}"
        " during office hours under change CHG-20417 (SigmaHQ's c265cf08 flags it by design).",
        "near-miss",
        [posture("privileged_group_change_without_approval")],
        [member.admin_account or ""],
        [member.employee_id],
        [server.fqdn],
        day=(when - org.start).days,
    )

    def emit(day: Day, streams: Streams) -> None:
        emit_one(
            streams.windows,
            day.start + 10 * HOUR + 12 * MINUTE,
            server,
            4732,
            SECURITY,
            {
                "MemberName": "-",
                "MemberSid": f"{member.sid}0",
                "TargetUserName": "Administrators",
                "TargetDomainName": "Builtin",
                "TargetSid": "S-1-5-32-544",
                "SubjectUserSid": f"{actor.sid}0",
                "SubjectUserName": actor.admin_account,
                "SubjectDomainName": NETBIOS,
                "SubjectLogonId": "0x81c2a",
                "PrivilegeList": "-",
            },
            record=planted.events,
        )

    planted.emit = emit
    return planted


def builtin_admin(org: Organisation) -> Planted:
    """The built-in Administrator account used over RDP on a server."""
    admin = next(p for p in org.people if p.admin_account)
    server = org.hosts_by_role("sql")[0]
    workstation = org.hosts[admin.workstation]
    planted = Planted(
        "builtin-administrator-use",
        "Use of the built-in Administrator account",
        f"The shared built-in Administrator logs on to {server.name} over RDP from"
        f" {workstation.name}.",
        "posture",
        [posture("shared_admin_account_use")],
        ["Administrator"],
        [],
        [server.fqdn],
        day=min(1, org.days - 1),
    )

    def emit(day: Day, streams: Streams) -> None:
        at = day.start + 14 * HOUR + 3 * MINUTE
        emit_one(
            streams.windows,
            at,
            server,
            4624,
            SECURITY,
            logon_data(
                f"{org.people[0].sid[:-5]}-500",
                "Administrator",
                10,
                workstation.ip,
                workstation.name,
                "Negotiate",
            ),
            record=planted.events,
        )
        emit_one(
            streams.windows,
            at + 1,
            server,
            4672,
            SECURITY,
            privileges(f"{org.people[0].sid[:-5]}-500", "Administrator"),
            record=planted.events,
        )

    planted.emit = emit
    return planted


def devices(
    org: Organisation, rng: np.random.Generator, taken: set[int], facts: Facts
) -> list[Planted]:
    """Insecure devices, one abroad without travel, one abroad on registered travel, lost ones."""
    owners = {
        device.owner: device
        for device in org.devices
        if org.people[device.owner].separation_date is None
    }
    usable = [
        org.people[index]
        for index in owners
        if index not in taken and org.people[index].role == "staff"
    ]

    def take() -> tuple[Person, str]:
        person = pick(usable, rng, taken, [p for p in anyone(org) if p.index in owners])
        return person, owners[person.index].device_id

    cases: list[Planted] = []
    for attribute, value, check, title in (
        ("is_encrypted", False, "device_not_encrypted", "Device storage not encrypted"),
        ("has_passcode", False, "device_without_passcode", "Device without a passcode"),
        ("is_jailbroken", True, "device_jailbroken", "Jailbroken device"),
        ("is_managed", False, "device_unmanaged", "Device no longer managed"),
        ("os_version", "16.7.10", "device_os_outdated", "Device below the minimum OS version"),
    ):
        person, device_id = take()
        if attribute == "os_version":
            set_device(org, device_id, platform="iOS", model="iPhone 11", os_version=value)
        else:
            set_device(org, device_id, **{attribute: value})
        cases.append(
            Planted(
                f"mobile-{check.replace('_', '-')}",
                title,
                f"{person.account}'s device {device_id}: {attribute} = {value}.",
                "posture",
                [posture(check)],
                [person.account],
                [person.employee_id],
                devices=[device_id],
            )
        )
    person, device_id = take()
    facts.silent_devices[device_id] = org.start - timedelta(days=41)
    cases.append(
        Planted(
            "mobile-device-silent",
            "Device silent for weeks",
            f"{device_id} ({person.account}) last checked in 41 days before the data starts.",
            "posture",
            [posture("device_silent")],
            [person.account],
            [person.employee_id],
            devices=[device_id],
        )
    )
    cases += abroad(org, rng, facts, take)
    cases += lost(org, facts, take)
    return cases


def abroad(org: Organisation, rng: np.random.Generator, facts: Facts, take: Any) -> list[Planted]:
    """A device in a country not allowed and not covered by travel; one covered by travel."""
    first = max(0, org.days // 2 - 1)
    days = range(first, min(org.days, first + 2))
    person, device_id = take()
    device = next(d for d in org.devices if d.device_id == device_id)
    unapproved = Planted(
        "mobile-unapproved-country",
        "Device checking in from an unapproved country with no registered travel",
        f"{device_id} ({person.account}) checks in from CN on {len(days)} day(s); no travel is"
        " registered.",
        "activity",
        [
            posture("device_country_not_allowed"),
            posture("device_abroad_without_travel"),
            {"kind": "ueba", "features": ["first_seen_country"]},
        ],
        [person.account],
        [person.employee_id],
        devices=[device_id],
        day=first,
    )
    traveller, travel_device = take()
    trip_start = org.start + timedelta(days=first)
    org.trips.append(
        Trip(
            traveller.index,
            ("FR",),
            trip_start,
            trip_start + timedelta(days=len(days)),
            "OECD working group, Paris",
        )
    )
    covered = Planted(
        "mobile-travel-registered-near-miss",
        "Device abroad on registered travel (near miss)",
        f"{travel_device} ({traveller.account}) checks in from FR during registered official"
        " travel.",
        "near-miss",
        [posture("device_abroad_without_travel")],
        [traveller.account],
        [traveller.employee_id],
        devices=[travel_device],
        day=first,
    )
    for day in days:
        facts.countries[(day, person.index)] = "__skip__"
        facts.countries[(day, traveller.index)] = "FR"

    def emit(day: Day, streams: Streams) -> None:
        times = day.start + np.array([7, 13, 19, 23]) * HOUR + rng.integers(0, 50, 4) * MINUTE
        mobile_checkins(unapproved, streams, times, device, person.account, "CN")

    unapproved.emit = emit
    unapproved.repeat = len(days)
    return [unapproved, covered]


def lost(org: Organisation, facts: Facts, take: Any) -> list[Planted]:
    """A device reported lost that keeps checking in; one lost and silent since (near miss)."""
    person, device_id = take()
    lost_at = org.start - timedelta(days=3)
    device = set_device(org, device_id, is_lost=True, lost_at=lost_at)
    found = Planted(
        "mobile-lost-device-checking-in",
        "Lost device still checking in",
        f"{device_id} ({person.account}) was reported lost on {lost_at} and keeps checking in"
        " without a wipe.",
        "activity",
        [posture("lost_device_checking_in")],
        [person.account],
        [person.employee_id],
        devices=[device_id],
        day=0,
    )
    other, other_id = take()
    set_device(org, other_id, is_lost=True, lost_at=org.start - timedelta(days=9))
    facts.silent_devices[other_id] = org.start - timedelta(days=9)
    quiet = Planted(
        "mobile-lost-device-silent-near-miss",
        "Lost device that stopped checking in (near miss)",
        f"{other_id} ({other.account}) was reported lost and has not checked in since.",
        "near-miss",
        [posture("lost_device_checking_in")],
        [other.account],
        [other.employee_id],
        devices=[other_id],
    )
    facts.countries.update({(day, person.index): "__skip__" for day in range(org.days)})

    def emit(day: Day, streams: Streams) -> None:
        times = day.start + np.array([9, 21]) * HOUR + 17 * MINUTE
        mobile_checkins(found, streams, times, device, person.account, "US")

    found.emit = emit
    found.repeat = org.days
    return [found, quiet]
