"""VPN sessions and web proxy requests as CEF lines (keys as our CEF parser reads them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np

from custodes.demo.mobile import COUNTRY_NETS
from custodes.demo.organisation import Person
from custodes.demo.schedule import Day, spread
from custodes.demo.timeline import MICROS, Stream

MINUTE = 60 * MICROS
VPN_GATEWAY = ("vpn-gw01.agency.example", "198.51.100.10")
PROXY = ("proxy01.agency.example", "10.10.0.8")
#: (domain, category, weight); personal cloud storage is used a little by everyone.
SITES = [
    ("outlook.office365.com", "Business", 18),
    ("agency.sharepoint.com", "Business", 14),
    ("teams.microsoft.com", "Business", 12),
    ("www.google.com", "Search Engines", 10),
    ("www.bing.com", "Search Engines", 3),
    ("www.usa.gov", "Government", 4),
    ("www.regulations.gov", "Government", 2),
    ("www.nytimes.com", "News", 3),
    ("www.bbc.co.uk", "News", 2),
    ("www.reuters.com", "News", 2),
    ("www.linkedin.com", "Social Networking", 2),
    ("github.com", "Information Technology", 2),
    ("docs.python.org", "Information Technology", 1),
    ("www.weather.gov", "Government", 2),
    ("www.amazon.com", "Shopping", 1),
    ("en.wikipedia.org", "Reference", 4),
    ("www.dropbox.com", "Personal Storage", 1),
    ("drive.google.com", "Personal Storage", 1),
    ("login.microsoftonline.com", "Business", 6),
    ("update.microsoft.com", "Software Updates", 2),
]
PATHS = ["/", "/search", "/mail/inbox", "/sites/home", "/news/latest", "/api/v1/status", "/docs"]
BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36"
)


def cef_escape(value: str) -> str:
    """A CEF extension value: backslash and equals sign escaped."""
    return value.replace("\\", "\\\\").replace("=", "\\=")


def epoch_millis(stamp: str) -> int:
    """CEF `rt`: milliseconds since the epoch, from an ISO stamp of this module's making."""
    return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)


VPN_LINE = (
    "CEF:0|Palo Alto Networks|GlobalProtect|10.2.4|globalprotect-%s|GlobalProtect gateway %s|%d|"
    "rt=%d dvchost=" + VPN_GATEWAY[0] + " act=%s outcome=%s suser=%s src=%s spt=%d "
    "dst=" + VPN_GATEWAY[1] + " dpt=443 cs1Label=AssignedIP cs1=%s cs2Label=SourceCountry cs2=%s "
    "shost=%s in=%d out=%d"
)
PROXY_LINE = (
    "CEF:0|Squid|Squid Proxy|6.10|%s|web request|%d|rt=%d dvchost=" + PROXY[0] + " src=%s "
    "suser=%s shost=%s requestMethod=%s request=%s dhost=%s dst=%s dpt=443 out=%d in=%d "
    "act=%s outcome=%d cat=%s requestClientApplication=%s"
)


def vpn_lines(stamps: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> list[str]:
    """Render VPN rows: (action, user, src, port, assigned ip, country, host, in, out, ok)."""
    return [
        VPN_LINE
        % (
            action,
            action,
            3 if ok else 6,
            epoch_millis(stamp),
            action,
            "success" if ok else "failure",
            user,
            source,
            port,
            assigned,
            country,
            host,
            bytes_in,
            bytes_out,
        )
        for stamp, (
            action,
            user,
            source,
            port,
            assigned,
            country,
            host,
            bytes_in,
            bytes_out,
            ok,
        ) in zip(stamps, rows, strict=True)
    ]


def add_vpn(stream: Stream, times: np.ndarray, rows: list[tuple[object, ...]]) -> None:
    """Queue VPN rows (see `vpn_lines`)."""
    stream.add(times, lambda stamps, _numbers: vpn_lines(stamps, rows))


def proxy_lines(stamps: Sequence[str], rows: Sequence[tuple[object, ...]]) -> list[str]:
    """Render proxy rows (src, user, host, method, url, domain, ip, out, in, status, cat, agent)."""
    lines = []
    for stamp, row in zip(stamps, rows, strict=True):
        source, user, host, method, url, domain, ip, out, received, status, category, agent = row
        action = "TCP_TUNNEL" if method == "CONNECT" else "TCP_MISS"
        lines.append(
            PROXY_LINE
            % (
                action,
                1,
                epoch_millis(stamp),
                source,
                user,
                host,
                method,
                cef_escape(str(url)),
                domain,
                ip,
                out,
                received,
                "allowed",
                status,
                category,
                cef_escape(str(agent)),
            )
        )
    return lines


def add_proxy(stream: Stream, times: np.ndarray, rows: list[tuple[object, ...]]) -> None:
    """Queue proxy rows (see `proxy_lines`)."""
    stream.add(times, lambda stamps, _numbers: proxy_lines(stamps, rows))


def vpn_day(
    day: Day,
    stream: Stream,
    people: Sequence[Person],
    rng: np.random.Generator,
    abroad: dict[int, str] | None = None,
) -> np.ndarray:
    """Remote workers connect when they start and disconnect when they stop; returns their IPs.

    People in `abroad` (person index -> country) connect from an address in that country.
    """
    abroad = abroad or {}

    assigned = np.array(
        [f"10.99.{(index // 250) % 250}.{index % 250 + 2}" for index in day.present.tolist()],
        dtype=object,
    )
    remote = np.flatnonzero(day.remote)
    rows_in: list[tuple[object, ...]] = []
    rows_out: list[tuple[object, ...]] = []
    for position in remote.tolist():
        person = people[int(day.present[position])]
        port = 40000 + position % 20000
        host = f"WS-{person.index:05d}"
        country = abroad.get(person.index, "US")
        source = person.home_ip
        if country != "US":
            source = f"{COUNTRY_NETS.get(country, '203.0.113')}.{person.index % 200 + 20}"
        rows_in.append(
            (
                "login",
                person.account,
                source,
                port,
                assigned[position],
                country,
                host,
                0,
                0,
                True,
            )
        )
        rows_out.append(
            (
                "logout",
                person.account,
                source,
                port,
                assigned[position],
                country,
                host,
                int(rng.integers(10**7, 10**9)),
                int(rng.integers(10**6, 10**8)),
                True,
            )
        )
    add_vpn(stream, day.arrive[remote] - 3 * MINUTE, rows_in)
    add_vpn(stream, day.leave[remote] + 2 * MINUTE, rows_out)
    return assigned


#: The part of a proxy line fixed by site and path (rendered once, not once per request).
PROXY_TARGETS = [
    f"requestMethod=GET request=https://{domain}{path} dhost={domain} dst=203.0.113.{site + 10}"
    f" dpt=443 out=%d in=%d act=allowed outcome=200 cat={category}"
    f" requestClientApplication={cef_escape(BROWSER)}"
    for site, (domain, category, _) in enumerate(SITES)
    for path in PATHS
]
PROXY_PREFIX = (
    "CEF:0|Squid|Squid Proxy|6.10|TCP_MISS|web request|1|rt=%d dvchost=" + PROXY[0] + " src=%s "
    "suser=%s shost=%s "
)
PROXY_LINES = [PROXY_PREFIX + target for target in PROXY_TARGETS]


def site_habits(rng: np.random.Generator, people: int) -> np.ndarray:
    """Each person's own mix of sites: cumulative probabilities, one row per person.

    Everyone leans on the business sites; the rest (news, shopping, personal storage...) vary
    from person to person, so that a site is unusual for one person and routine for another.
    """
    weights = np.array([weight for _, _, weight in SITES], dtype=float)
    taste = rng.gamma(0.6, 1.0, (people, len(SITES)))
    business = np.array([category == "Business" for _, category, _ in SITES])
    taste[:, business] = 1.0
    mix = weights * taste
    return np.cumsum(mix / mix.sum(axis=1, keepdims=True), axis=1)


def proxy_day(
    day: Day,
    stream: Stream,
    accounts: np.ndarray,
    hosts: Sequence[str],
    client_ips: np.ndarray,
    rng: np.random.Generator,
    habits: np.ndarray,
) -> None:
    """Web browsing during working hours: a few dozen requests each, by each person's habits."""
    owners, times = spread(rng, day.arrive, day.leave, rng.poisson(30.0, day.present.size))
    cumulative = habits[day.present[owners]]
    sites = np.minimum((cumulative < rng.random((owners.size, 1))).sum(axis=1), len(SITES) - 1)
    targets = (sites * len(PATHS) + rng.integers(0, len(PATHS), owners.size)).tolist()
    out = rng.lognormal(7.0, 0.8, owners.size).astype(np.int64).tolist()
    received = rng.lognormal(10.5, 1.4, owners.size).astype(np.int64).tolist()
    millis = (times // 1000).tolist()
    who = owners.tolist()
    sources = client_ips.tolist()
    names = accounts.tolist()

    def render(_stamps: Sequence[str], _numbers: Sequence[int]) -> list[str]:
        return [
            PROXY_LINES[t] % (rt, sources[o], names[o], hosts[o], sent, got)
            for rt, o, t, sent, got in zip(millis, who, targets, out, received, strict=True)
        ]

    stream.add(times, render, needs_stamps=False)
