"""`generate`: the whole demo data set, deterministic for a seed and a start date."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from custodes.demo.hosts import context
from custodes.demo.linux import admin_ssh, servers_day
from custodes.demo.mobile import build_fleet, mdm_day
from custodes.demo.network import proxy_day, site_habits, vpn_day
from custodes.demo.organisation import Organisation, Trip, build_organisation
from custodes.demo.output import manifest as build_manifest
from custodes.demo.output import open_streams
from custodes.demo.posture_cases import ALLOWED_COUNTRIES, plant_posture
from custodes.demo.reference import write_json, write_reference
from custodes.demo.scenarios import plant_activity
from custodes.demo.schedule import plan_day
from custodes.demo.truth import Facts, Planted
from custodes.demo.windows_activity import windows_day
from custodes.errors import ConfigError

#: Fewer people cannot host every planted case and near miss on distinct people.
MIN_PEOPLE = 20


@dataclass(frozen=True)
class DemoSettings:
    """How big, how long, from when, and which seed."""

    people: int = 200
    days: int = 14
    seed: int = 7
    start: date | None = None  # default: `days` days before today (UTC)

    def first_day(self) -> date:
        """The first day of telemetry."""
        if self.start is not None:
            return self.start
        return datetime.now(UTC).date() - timedelta(days=self.days)


def generate(out: Path, settings: DemoSettings = DemoSettings()) -> dict[str, Any]:
    """Write reference data, telemetry, ground truth and manifest under `out`; returns manifest."""
    if settings.people < MIN_PEOPLE or settings.days < 1:
        raise ConfigError(f"the demo needs at least {MIN_PEOPLE} people and 1 day", key="people")
    began = time.perf_counter()
    start = settings.first_day()
    rng = np.random.default_rng(settings.seed)
    org = build_organisation(rng, settings.people, start, settings.days)
    org.devices = build_fleet(org, rng)
    taken: set[int] = set()
    facts = Facts()
    cases = plant_activity(org, rng, taken, facts) + plant_posture(org, rng, taken, facts)
    register_travel(org, rng, taken, facts)
    streams = open_streams(out / "telemetry", len(org.hosts))
    ctx = context(org)
    last_seen: dict[str, tuple[int, str]] = {}
    workstation_ips = ctx.host_ips[ctx.workstations]
    habits = site_habits(rng, len(org.people))
    for index in range(settings.days):
        day_rng = np.random.default_rng([settings.seed, index])
        day = plan_day(org, start + timedelta(days=index), day_rng)
        abroad = travelling(org, day.date)
        day.remote[np.isin(day.present, list(abroad))] = True  # abroad means over the VPN
        assigned = vpn_day(day, streams.vpn, org.people, day_rng, abroad)
        client_ips = np.where(day.remote, assigned, workstation_ips[day.present])
        windows_day(day, ctx, day_rng, streams.windows, client_ips, facts.enabled_after_separation)
        hosts = [f"WS-{int(person):05d}" for person in day.present.tolist()]
        proxy_day(day, streams.proxy, ctx.accounts[day.present], hosts, client_ips, day_rng, habits)
        countries = {
            owner: country for (on, owner), country in facts.countries.items() if on == index
        }
        mdm_day(day, org, streams.mdm, day_rng, countries, set(facts.silent_devices), last_seen)
        servers_day(day, org, day_rng, streams.syslog, streams.network, streams.auth)
        admin_ssh(day, org, day_rng, streams.auth, client_ips)
        for case in cases:
            if (
                case.emit is not None
                and case.day is not None
                and case.day <= index < case.day + case.repeat
            ):
                case.emit(day, streams)
        for stream in streams.all():
            stream.flush_day()
    for stream in streams.all():
        stream.close()
    write_reference(out / "reference", org, facts, last_seen)
    write_json(out / "ground_truth.json", ground_truth(org, settings, cases))
    chosen = {
        "people": settings.people,
        "days": settings.days,
        "seed": settings.seed,
        "start": start.isoformat(),
    }
    document = build_manifest(out, streams, chosen, time.perf_counter() - began)
    write_json(out / "manifest.json", document)
    return document


def travelling(org: Organisation, day: date) -> dict[int, str]:
    """People on registered travel that day -> the (first) country they are in."""
    return {trip.person: trip.countries[0] for trip in org.trips if trip.start <= day <= trip.end}


def register_travel(
    org: Organisation, rng: np.random.Generator, taken: set[int], facts: Facts
) -> None:
    """A few ordinary trips abroad, registered, with the devices checking in from there."""
    owners = [
        d.owner
        for d in org.devices
        if d.owner not in taken and org.people[d.owner].separation_date is None
    ]
    for number in range(min(len(owners), max(1, len(org.people) // 150))):
        person = owners[int(rng.integers(0, len(owners)))]
        if person in taken:
            continue
        taken.add(person)
        first = int(rng.integers(0, org.days))
        length = int(rng.integers(1, 4))
        country = ALLOWED_COUNTRIES[1 + number % (len(ALLOWED_COUNTRIES) - 1)]
        org.trips.append(
            Trip(
                person,
                (country,),
                org.start + timedelta(days=first),
                org.start + timedelta(days=first + length),
                "Official meeting",
            )
        )
        for day in range(first, min(org.days, first + length + 1)):
            facts.countries[(day, person)] = country


def ground_truth(org: Organisation, settings: DemoSettings, cases: list[Planted]) -> dict[str, Any]:
    """The ground-truth document: settings and every planted case with its evidence."""
    return {
        "generator": "custodes demo generate",
        "seed": settings.seed,
        "start": org.start.isoformat(),
        "end": org.end.isoformat(),
        "people": settings.people,
        "scenarios": [case.to_dict() for case in cases],
    }
