"""Linux servers and network devices: RFC 5424 and RFC 3164 syslog, and auth.log (sshd, sudo)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from custodes.demo.organisation import Host, Organisation
from custodes.demo.schedule import HOUR, Day, spread
from custodes.demo.timeline import MICROS, Stream

MINUTE = 60 * MICROS
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
NETWORK_DEVICES = (("fw01", "10.0.0.1"), ("core-sw01", "10.0.0.2"))
#: (facility*8+severity, app, message) for routine server messages.
ROUTINE = [
    (30, "systemd", "Started Daily apt download activities."),
    (30, "systemd", "Starting Cleanup of Temporary Directories..."),
    (30, "systemd", "logrotate.service: Deactivated successfully."),
    (78, "CRON", "(root) CMD (cd / && run-parts --report /etc/cron.hourly)"),
    (29, "chronyd", "Selected source 10.0.0.123 (ntp.agency.example)"),
    (14, "kernel", "EXT4-fs (sda1): mounted filesystem with ordered data mode. Quota mode: none."),
    (134, "app", "health check ok latency_ms=12"),
]
SUDO_COMMANDS = [
    "/usr/bin/systemctl restart nginx",
    "/usr/bin/apt-get update",
    "/usr/bin/journalctl -u nginx --since today",
    "/usr/bin/systemctl status postgresql",
    "/usr/bin/tail -n 100 /var/log/syslog",
]


def rfc3164_time(stamp: str) -> str:
    """`Nov 26 08:00:01` (the day padded with a space) from an ISO stamp."""
    day = int(stamp[8:10])
    return f"{MONTHS[int(stamp[5:7]) - 1]} {day:2d} {stamp[11:19]}"


def authlog_time(stamp: str) -> str:
    """The high-precision time rsyslog writes to auth.log on Debian 12 and later."""
    return f"{stamp[:26]}+00:00"


def add_5424(
    stream: Stream, times: np.ndarray, rows: Sequence[tuple[int, str, str, int, str]]
) -> None:
    """Queue RFC 5424 rows: (priority, host, app, pid, message)."""
    stream.add(
        times,
        lambda stamps, _n: [
            f"<{pri}>1 {stamp} {host} {app} {pid} - - {message}"
            for stamp, (pri, host, app, pid, message) in zip(stamps, rows, strict=True)
        ],
    )


def add_3164(stream: Stream, times: np.ndarray, rows: Sequence[tuple[int, str, str]]) -> None:
    """Queue RFC 3164 rows: (priority, host, message with its tag)."""
    stream.add(
        times,
        lambda stamps, _n: [
            f"<{pri}>{rfc3164_time(stamp)} {host} {message}"
            for stamp, (pri, host, message) in zip(stamps, rows, strict=True)
        ],
    )


def add_auth(
    stream: Stream,
    times: np.ndarray,
    rows: Sequence[tuple[str, str]],
    record: list[str] | None = None,
) -> None:
    """Queue auth.log rows: (host, "program[pid]: message")."""

    def render(stamps: Sequence[str], _n: Sequence[int]) -> list[str]:
        lines = [
            f"{authlog_time(stamp)} {host} {message}"
            for stamp, (host, message) in zip(stamps, rows, strict=True)
        ]
        if record is not None:
            record.extend(lines)
        return lines

    stream.add(times, render)


def servers_day(
    day: Day,
    org: Organisation,
    rng: np.random.Generator,
    syslog: Stream,
    network: Stream,
    auth: Stream,
) -> None:
    """Routine server messages around the clock, firewall connection logs, hourly cron sessions."""
    linux = [host for host in org.hosts if host.kind == "linux-server"]
    counts = rng.poisson(30, len(linux))
    owners = np.repeat(np.arange(len(linux)), counts)
    times = day.start + (rng.random(owners.size) * 24 * HOUR).astype(np.int64)
    kinds = rng.integers(0, len(ROUTINE), owners.size).tolist()
    pids = rng.integers(300, 40000, owners.size).tolist()
    add_5424(
        syslog,
        times,
        [
            (ROUTINE[k][0], f"{linux[o].name}.agency.example", ROUTINE[k][1], p, ROUTINE[k][2])
            for o, k, p in zip(owners.tolist(), kinds, pids, strict=True)
        ],
    )
    cron_hosts = np.repeat(np.arange(len(linux)), 24)
    cron_times = day.start + np.tile(np.arange(24) * HOUR + 17 * MINUTE, len(linux))
    cron_pids = rng.integers(2000, 60000, cron_hosts.size).tolist()
    add_auth(
        auth,
        cron_times,
        [
            (
                linux[h].name,
                f"CRON[{p}]: pam_unix(cron:session): session opened for user root(uid=0) by"
                " root(uid=0)",
            )
            for h, p in zip(cron_hosts.tolist(), cron_pids, strict=True)
        ],
    )
    add_auth(
        auth,
        cron_times + 2 * MICROS,
        [
            (linux[h].name, f"CRON[{p}]: pam_unix(cron:session): session closed for user root")
            for h, p in zip(cron_hosts.tolist(), cron_pids, strict=True)
        ],
    )
    busy = rng.poisson(40 if day.is_workday else 8)
    fw_times = day.start + np.sort(rng.random(busy) * 24 * HOUR).astype(np.int64)
    add_3164(
        network,
        fw_times,
        [
            (
                166,
                "fw01",
                f"%ASA-6-302013: Built outbound TCP connection {900000 + n} for"
                f" outside:203.0.113.{n % 200 + 5}/443 (203.0.113.{n % 200 + 5}/443) to"
                f" inside:10.10.0.8/{40000 + n} (198.51.100.20/{40000 + n})",
            )
            for n in range(busy)
        ],
    )
    links = rng.poisson(2)
    add_3164(
        network,
        day.start + (rng.random(links) * 24 * HOUR).astype(np.int64),
        [
            (
                189,
                "core-sw01",
                f"%LINEPROTO-5-UPDOWN: Line protocol on Interface GigabitEthernet1/0/{n + 10},"
                " changed state to up",
            )
            for n in range(links)
        ],
    )


def admin_ssh(
    day: Day, org: Organisation, rng: np.random.Generator, auth: Stream, client_ips: np.ndarray
) -> None:
    """Administrators ssh to Linux servers with keys and use sudo."""
    linux: list[Host] = [host for host in org.hosts if host.kind == "linux-server"]
    positions = [
        n for n, index in enumerate(day.present.tolist()) if org.people[index].admin_account
    ]
    if not positions or not linux:
        return
    chosen = np.array(positions)
    owners, times = spread(
        rng,
        day.arrive[chosen] + 30 * MINUTE,
        day.leave[chosen] - HOUR,
        rng.poisson(1.2, chosen.size) + 1,
    )
    targets = rng.integers(0, len(linux), owners.size).tolist()
    rows: list[tuple[str, str]] = []
    later: list[tuple[str, str]] = []
    closing: list[tuple[str, str]] = []
    for n, (owner, target) in enumerate(zip(owners.tolist(), targets, strict=True)):
        person = org.people[int(day.present[chosen[owner]])]
        account, host, pid = person.admin_account, linux[target].name, 10000 + n
        rows.append(
            (
                host,
                f"sshd[{pid}]: Accepted publickey for {account} from {client_ips[chosen[owner]]}"
                f" port {50000 + n} ssh2: ED25519 SHA256:{person.employee_id}Kq9mYzB4xWc0aLr7u",
            )
        )
        later.append(
            (
                host,
                f"sudo: {account} : TTY=pts/0 ; PWD=/home/{account} ; USER=root ;"
                f" COMMAND={SUDO_COMMANDS[n % len(SUDO_COMMANDS)]}",
            )
        )
        closing.append(
            (host, f"sshd[{pid}]: pam_unix(sshd:session): session closed for user {account}")
        )
    add_auth(auth, times, rows)
    add_auth(auth, times + 2 * MINUTE, later)
    add_auth(auth, times + rng.integers(5, 60, owners.size) * MINUTE, closing)
