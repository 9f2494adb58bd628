"""The mobile fleet: MDM inventory and check-ins (JSON lines with ECS names)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import orjson

from custodes.demo.organisation import PHONE_MODELS, Device, Organisation
from custodes.demo.schedule import Day
from custodes.demo.timeline import DAY_MICROS, MICROS, Stream

HOUR = 3600 * MICROS
#: Countries whose carrier address blocks the demo uses (documentation ranges, by country).
COUNTRY_NETS = {
    "US": "198.51.100",
    "FR": "192.0.2",
    "DE": "192.0.2",
    "GB": "192.0.2",
    "CN": "203.0.113",
    "RU": "203.0.113",
    "CA": "198.51.100",
    "JP": "203.0.113",
    "BE": "192.0.2",
}


def build_fleet(org: Organisation, rng: np.random.Generator) -> list[Device]:
    """Phones for about three quarters of the current staff (all managers and admins)."""
    devices: list[Device] = []
    for person in org.people:
        if person.separation_date is not None and person.separation_date <= org.start:
            continue
        if person.role == "staff" and len(org.people) > 60 and rng.random() > 0.75:
            continue
        platform, model, version = PHONE_MODELS[int(rng.integers(0, len(PHONE_MODELS)))]
        number = len(devices)
        devices.append(
            Device(
                device_id=f"{(person.index * 2654435761 + 97) & 0xFFFFFFFF:08x}-mdm-{number:05d}",
                owner=person.index,
                platform=platform,
                model=model,
                os_version=version,
                serial=f"SN{(number * 7919 + 13) % 10**8:08d}",
            )
        )
    return devices


def set_device(org: Organisation, device_id: str, **changes: object) -> Device:
    """Replace a device in the fleet with changed attributes; returns the new one."""
    for position, device in enumerate(org.devices):
        if device.device_id == device_id:
            org.devices[position] = replace(device, **changes)  # type: ignore[arg-type]
            return org.devices[position]
    raise KeyError(device_id)


def checkin_document(stamp: str, device: Device, account: str, country: str, ip: str) -> str:
    """One check-in as the MDM's event stream reports it."""
    return orjson.dumps(
        {
            "@timestamp": stamp,
            "event": {
                "dataset": "mdm.checkin",
                "kind": "event",
                "action": "checkin",
                "module": "mdm",
            },
            "device": {
                "id": device.device_id,
                "model": {"identifier": device.model},
                "serial_number": device.serial,
            },
            "user": {"name": account},
            "host": {"os": {"platform": device.platform.lower(), "version": device.os_version}},
            "source": {"ip": ip, "geo": {"country_iso_code": country}},
            "mdm": {
                "managed": device.is_managed,
                "encrypted": device.is_encrypted,
                "passcode": device.has_passcode,
                "jailbroken": device.is_jailbroken,
                "lost_mode": device.is_lost,
            },
        }
    ).decode()


def add_checkins(
    stream: Stream,
    times: np.ndarray,
    devices: Sequence[Device],
    accounts: Sequence[str],
    countries: Sequence[str],
    record: list[str] | None = None,
) -> None:
    """Queue check-ins; when `record` is given the exact lines are appended to it."""

    def render(stamps: Sequence[str], _numbers: Sequence[int]) -> list[str]:
        lines = [
            checkin_document(
                stamp,
                device,
                account,
                country,
                f"{COUNTRY_NETS.get(country, '203.0.113')}."
                f"{int(device.device_id[:2], 16) % 200 + 20}",
            )
            for stamp, device, account, country in zip(
                stamps, devices, accounts, countries, strict=True
            )
        ]
        if record is not None:
            record.extend(lines)
        return lines

    stream.add(times, render)


def mdm_day(
    day: Day,
    org: Organisation,
    stream: Stream,
    rng: np.random.Generator,
    countries: dict[int, str],
    silent: set[str],
    last_seen: dict[str, tuple[int, str]],
) -> None:
    """Every active device checks in about every six hours; `countries` overrides by owner."""
    fleet = [
        device
        for device in org.devices
        if device.device_id not in silent and countries.get(device.owner) != "__skip__"
    ]
    fleet = [device for device in fleet if org.is_employed(org.people[device.owner], day.date)]
    if not fleet:
        return
    counts = rng.poisson(4.0, len(fleet)) + 1
    owners = np.repeat(np.arange(len(fleet)), counts)
    times = day.start + (rng.random(owners.size) * DAY_MICROS).astype(np.int64)
    chosen = [fleet[i] for i in owners.tolist()]
    accounts = [org.people[device.owner].account for device in chosen]
    where = [countries.get(device.owner, "US") for device in chosen]
    add_checkins(stream, times, chosen, accounts, where)
    remember(last_seen, times, chosen, where)


def remember(
    last_seen: dict[str, tuple[int, str]],
    times: np.ndarray,
    devices: Sequence[Device],
    countries: Sequence[str],
) -> None:
    """Keep each device's latest check-in time and country (for the inventory export)."""
    for time, device, country in zip(times.tolist(), devices, countries, strict=True):
        seen = last_seen.get(device.device_id)
        if seen is None or seen[0] < time:
            last_seen[device.device_id] = (time, country)
