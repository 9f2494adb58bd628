"""Lookup arrays every Windows emitter shares: names and addresses per host and person."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from custodes.demo.organisation import Organisation


@dataclass(frozen=True)
class Context:
    """What every emitter needs: the organisation and names per host and person."""

    org: Organisation
    computers: np.ndarray  # host index -> FQDN
    host_ips: np.ndarray
    accounts: np.ndarray  # person index -> account
    sids: np.ndarray
    workstations: np.ndarray  # person index -> host index


def context(org: Organisation) -> Context:
    """Lookup arrays for the organisation."""
    return Context(
        org,
        np.array([host.fqdn for host in org.hosts], dtype=object),
        np.array([host.ip for host in org.hosts], dtype=object),
        np.array([person.account for person in org.people], dtype=object),
        np.array([person.sid for person in org.people], dtype=object),
        np.array([person.workstation for person in org.people], dtype=np.int64),
    )


def logon_ids(rng: np.random.Generator, count: int) -> list[str]:
    """Hexadecimal logon ids as Windows prints them."""
    return [f"0x{value:x}" for value in rng.integers(0x100000, 0x8FFFFFF, count).tolist()]
