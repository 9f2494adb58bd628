"""The activity scenarios of the demo, placed on fixed fractions of the window."""

from __future__ import annotations

import numpy as np

from custodes.demo.insiders import (
    departed_vpn,
    exfiltration,
    privileged_addition,
    protected_channel,
)
from custodes.demo.intrusion import spray_and_move
from custodes.demo.linux_cases import sudo_addition
from custodes.demo.organisation import IT_DEPARTMENT, Organisation
from custodes.demo.truth import Facts, Planted


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
        sudo_addition(org, rng, taken, facts, admins, min(last, max(0, org.days // 2 - 1))),
    ]
