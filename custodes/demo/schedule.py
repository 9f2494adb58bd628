"""Who works when: weekdays, holidays, leave, remote days and each person's hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from custodes.demo.organisation import Organisation
from custodes.demo.timeline import MICROS, day_start

HOUR = 3600 * MICROS


def holidays(year: int) -> set[date]:
    """Public holidays of the demo agency (fixed dates and Thanksgiving)."""
    fixed = {date(year, 1, 1), date(year, 7, 4), date(year, 11, 11), date(year, 12, 25)}
    november = date(year, 11, 1)
    thanksgiving = november + timedelta(days=(3 - november.weekday()) % 7 + 21)
    return fixed | {thanksgiving}


def is_workday(day: date) -> bool:
    """Monday to Friday and not a holiday."""
    return day.weekday() < 5 and day not in holidays(day.year)


@dataclass(frozen=True)
class Day:
    """One day's plan: the people at work, when they arrive and leave, and who is remote."""

    date: date
    start: int  # midnight, µs since the epoch
    is_workday: bool
    present: np.ndarray  # person indices
    arrive: np.ndarray  # µs
    leave: np.ndarray  # µs
    remote: np.ndarray  # bool


def plan_day(org: Organisation, day: date, rng: np.random.Generator) -> Day:
    """Who works on `day` and for how long; weekends and holidays only the keen few."""
    workday = is_workday(day)
    employed = np.array([org.is_employed(person, day) for person in org.people])
    if workday:
        present = employed & (rng.random(len(org.people)) > 0.06)
    else:
        keen = np.array([person.weekend_worker for person in org.people])
        present = employed & keen & (rng.random(len(org.people)) < 0.5)
    indices = np.flatnonzero(present)
    starts = np.array([org.people[index].start_hour for index in indices], dtype=float)
    ends = np.array([org.people[index].end_hour for index in indices], dtype=float)
    if not workday:
        starts = starts + 2.0
        ends = starts + rng.uniform(1.5, 3.5, indices.size)
    midnight = day_start(day)
    arrive = midnight + ((starts + rng.normal(0, 0.25, indices.size)) * HOUR).astype(np.int64)
    leave = midnight + ((ends + rng.normal(0, 0.3, indices.size)) * HOUR).astype(np.int64)
    leave = np.maximum(leave, arrive + HOUR)
    weekday = day.weekday()
    remote = np.array(
        [weekday in org.people[index].remote_weekdays or not workday for index in indices],
        dtype=bool,
    )
    return Day(day, midnight, workday, indices, arrive, leave, remote)


def spread(
    rng: np.random.Generator, first: np.ndarray, last: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`counts[i]` random times between first[i] and last[i]; returns (owner positions, times)."""
    owners = np.repeat(np.arange(counts.size), counts)
    low, high = first[owners], last[owners]
    times = low + (rng.random(owners.size) * (high - low)).astype(np.int64)
    return owners, times
