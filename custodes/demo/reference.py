"""Reference data beside the telemetry: roster, directory, privileged list, MDM, travel, policy."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import yaml

from custodes.demo.insiders import HOTLINE
from custodes.demo.organisation import DOMAIN, HOME_COUNTRY, MIN_OS, NETBIOS, Organisation
from custodes.demo.posture_cases import ALLOWED_COUNTRIES
from custodes.demo.schedule import holidays
from custodes.demo.truth import Facts

PRIVILEGED_GROUPS = ["Domain Admins", "Enterprise Admins", "Schema Admins", "Administrators"]


def write_json(path: Path, document: object) -> None:
    """Indented JSON, keys in the order given."""
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")


def stamp(micros: int) -> str:
    """µs since the epoch as ISO 8601 UTC with seconds."""
    return datetime.fromtimestamp(micros / 1e6, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_reference(
    folder: Path, org: Organisation, facts: Facts, last_seen: dict[str, tuple[int, str]]
) -> None:
    """Write every reference file into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    exported_at = f"{org.end + timedelta(days=1)}T00:00:00Z"
    write_roster(folder / "roster.csv", org)
    write_json(folder / "accounts.json", directory(org, facts, exported_at))
    write_json(folder / "privileged.json", privileged(org, facts))
    write_json(folder / "devices.json", inventory(org, facts, last_seen, exported_at))
    write_json(folder / "travel.json", {"trips": [trip_entry(org, trip) for trip in org.trips]})
    write_json(folder / "policy-hints.json", policy_hints(org))
    (folder / "posture.yaml").write_text(posture_settings(org), encoding="utf-8")
    write_json(folder / "linux-groups.json", linux_groups(org, facts, exported_at))


def write_roster(path: Path, org: Organisation) -> None:
    """The HR roster: current and former staff with start and separation dates."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "employee_id",
                "first_name",
                "last_name",
                "email",
                "account",
                "department",
                "title",
                "manager_id",
                "status",
                "start_date",
                "separation_date",
            ]
        )
        for person in org.people:
            separated = person.separation_date
            status = "active" if separated is None or separated > org.end else "separated"
            writer.writerow(
                [
                    person.employee_id,
                    person.first_name,
                    person.last_name,
                    person.email,
                    person.account,
                    person.department,
                    person.title,
                    person.manager_id,
                    status,
                    person.start_date.isoformat(),
                    separated.isoformat() if separated else "",
                ]
            )


def linux_groups(org: Organisation, facts: Facts, exported_at: str) -> dict[str, Any]:
    """Privileged groups of each Linux server (as `getent group` shows them)."""
    admins = sorted(
        p.admin_account for p in org.people if p.admin_account and p.separation_date is None
    )
    hosts = {}
    for host in org.hosts:
        if host.kind == "linux-server":
            planted = facts.linux_groups.get(host.name, {})
            hosts[host.name] = {
                "sudo": admins + planted.get("sudo", []),
                "adm": ["syslog"] + admins,
                "wheel": [],
            }
    return {"exported_at": exported_at, "hosts": hosts}


def directory(org: Organisation, facts: Facts, exported_at: str) -> dict[str, Any]:
    """An Active Directory export: every account, enabled or not, its last logon and groups."""
    accounts: list[dict[str, Any]] = []
    for person in org.people:
        separated = person.separation_date
        gone = separated is not None and separated <= org.end
        enabled = not gone or person.account in facts.enabled_after_separation
        last = min(org.end, separated - timedelta(days=1)) if separated else org.end
        deleted = org.deleted_on(person)
        kept = person.account in facts.enabled_after_separation
        if person.start_date > org.end or (deleted is not None and deleted <= org.end and not kept):
            continue
        groups = ["Domain Users", f"GG-{person.department.replace(' ', '-')}"]
        groups += person.extra_groups
        accounts.append(
            account_entry(
                person.account,
                person.name,
                person.employee_id,
                "user",
                enabled,
                f"{last}T17:30:00Z",
                groups,
                person.start_date,
            )
        )
        if person.admin_account and person.admin_account != person.account:
            accounts.append(
                account_entry(
                    person.admin_account,
                    f"{person.name} (admin)",
                    person.employee_id,
                    "admin",
                    not gone,
                    f"{last}T15:00:00Z",
                    ["Domain Users", "Domain Admins"],
                    person.start_date,
                )
            )
    for name in org.service_accounts:
        owner = next(p for p in org.people if p.admin_account)
        accounts.append(
            account_entry(
                name,
                name,
                None,
                "service",
                True,
                f"{org.end}T03:00:00Z",
                ["Domain Users", "Service Accounts"],
                org.start - timedelta(days=900),
                owner.employee_id,
            )
        )
    accounts.append(
        account_entry(
            "Administrator",
            "Built-in administrator",
            None,
            "builtin",
            True,
            f"{org.start + timedelta(days=min(1, org.days - 1))}T14:03:00Z",
            ["Administrators", "Domain Admins"],
            org.start - timedelta(days=2000),
        )
    )
    accounts.append(
        account_entry(
            "Guest",
            "Built-in guest",
            None,
            "builtin",
            False,
            None,
            ["Guests"],
            org.start - timedelta(days=2000),
        )
    )
    for extra in facts.extra_accounts:
        accounts.append(
            {
                **account_entry(
                    extra["sam_account_name"],
                    extra["display_name"],
                    extra["employee_id"],
                    extra["kind"],
                    extra["enabled"],
                    extra["last_logon_at"],
                    extra["groups"],
                    org.start - timedelta(days=400),
                    extra["owner_employee_id"],
                )
            }
        )
    return {
        "exported_at": exported_at,
        "domain": NETBIOS,
        "dns_domain": DOMAIN,
        "accounts": accounts,
    }


def account_entry(
    name: str,
    display: str,
    employee_id: str | None,
    kind: str,
    enabled: bool,
    last_logon: str | None,
    groups: list[str],
    created: date,
    owner: str | None = None,
) -> dict[str, Any]:
    """One directory account."""
    return {
        "sam_account_name": name,
        "user_principal_name": f"{name}@{DOMAIN}",
        "display_name": display,
        "employee_id": employee_id,
        "owner_employee_id": owner or employee_id,
        "kind": kind,
        "enabled": enabled,
        "created_at": f"{created}T09:00:00Z",
        "last_logon_at": last_logon,
        "groups": groups,
    }


def privileged(org: Organisation, facts: Facts) -> dict[str, Any]:
    """The approved privileged accounts and the approved group changes."""
    approved: list[dict[str, Any]] = [
        {
            "account": person.admin_account,
            "owner_employee_id": person.employee_id,
            "groups": ["Domain Admins", "sudo"],
            "approved_by": "E100000",
            "approved_at": f"{person.start_date + timedelta(days=30)}T10:00:00Z",
            "expires_at": f"{org.end + timedelta(days=180)}T00:00:00Z",
            "ticket": f"ACC-{1000 + person.index}",
        }
        for person in org.people
        if person.admin_account
        and person.admin_account != person.account
        and (person.separation_date is None or person.separation_date > org.end)
    ]
    for name in org.service_accounts:
        owner = next(p for p in org.people if p.admin_account)
        approved.append(
            {
                "account": name,
                "owner_employee_id": owner.employee_id,
                "groups": ["Service Accounts"],
                "approved_by": "E100000",
                "approved_at": f"{org.start - timedelta(days=700)}T10:00:00Z",
                "expires_at": None,
                "ticket": "ACC-0001",
            }
        )
    return {
        "privileged_groups": PRIVILEGED_GROUPS,
        "approved_accounts": approved,
        "approved_changes": facts.approvals,
    }


def inventory(
    org: Organisation, facts: Facts, last_seen: dict[str, tuple[int, str]], exported_at: str
) -> dict[str, Any]:
    """An Intune-style managed device export."""
    devices = []
    for device in org.devices:
        person = org.people[device.owner]
        seen = last_seen.get(device.device_id)
        if seen is not None:
            last_sync, country = stamp(seen[0]), seen[1]
        else:
            quiet = facts.silent_devices.get(device.device_id, org.start - timedelta(days=1))
            last_sync, country = f"{quiet}T08:00:00Z", HOME_COUNTRY
        devices.append(
            {
                "id": device.device_id,
                "deviceName": f"{person.first_name}'s {device.model}",
                "userPrincipalName": f"{person.account}@{DOMAIN}",
                "ownerEmployeeId": person.employee_id,
                "operatingSystem": device.platform,
                "osVersion": device.os_version,
                "securityPatchLevel": "2026-10-01"
                if device.os_version != "16.7.10"
                else "2024-07-29",
                "model": device.model,
                "manufacturer": "Apple"
                if device.platform == "iOS"
                else "Google"
                if "Pixel" in device.model
                else "Samsung",
                "serialNumber": device.serial,
                "isEncrypted": device.is_encrypted,
                "passcodeSet": device.has_passcode,
                "jailBroken": "True" if device.is_jailbroken else "False",
                "managementState": "managed" if device.is_managed else "unmanaged",
                "lastSyncDateTime": last_sync,
                "lastKnownCountry": country,
                "lostModeState": "enabled" if device.is_lost else "disabled",
                "lostReportedDateTime": f"{device.lost_at}T18:00:00Z" if device.lost_at else None,
            }
        )
    return {"exported_at": exported_at, "source": "intune", "devices": devices}


def trip_entry(org: Organisation, trip: Any) -> dict[str, Any]:
    """One registered trip."""
    person = org.people[trip.person]
    return {
        "employee_id": person.employee_id,
        "account": person.account,
        "countries": list(trip.countries),
        "start_date": trip.start.isoformat(),
        "end_date": trip.end.isoformat(),
        "purpose": trip.purpose,
        "approved_by": person.manager_id or "E100000",
    }


def policy_hints(org: Organisation) -> dict[str, Any]:
    """Settings the posture checks and the policy need for this agency."""
    years = range(org.start.year, org.end.year + 1)
    return {
        "home_country": HOME_COUNTRY,
        "allowed_countries": ALLOWED_COUNTRIES,
        "working_hours": {
            "start": "07:00",
            "end": "19:00",
            "timezone": "UTC",
            "weekend_days": ["Saturday", "Sunday"],
        },
        "holidays": sorted(day.isoformat() for year in years for day in holidays(year)),
        "privileged_groups": PRIVILEGED_GROUPS,
        "dormant_after_days": 90,
        "device_silent_after_days": 14,
        "minimum_os_versions": MIN_OS,
        "protected_channels": [
            {
                "name": "Inspector General hotline",
                "domains": [HOTLINE],
                "emails": [f"report@{HOTLINE}"],
            }
        ],
    }


def posture_settings(org: Organisation) -> str:
    """The `posture:` section of a custodes.yaml for this agency (for `posture run --config`)."""
    hints = policy_hints(org)
    section = {
        "posture": {
            "allowed_countries": hints["allowed_countries"],
            "dormant_after_days": hints["dormant_after_days"],
            "device_silent_after_days": hints["device_silent_after_days"],
            "minimum_os_versions": hints["minimum_os_versions"],
            "working_hours_start": 7,
            "working_hours_end": 19,
            "weekend_days": [5, 6],
            "holidays": hints["holidays"],
            "privileged_groups": hints["privileged_groups"],
        }
    }
    header = "# Posture settings of the demo agency (from policy-hints.json).\n"
    return header + yaml.safe_dump(section, sort_keys=False)
