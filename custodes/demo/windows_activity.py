"""Normal Windows activity for one day: logons, Kerberos, file shares; programs and admin work."""

from __future__ import annotations

import numpy as np

from custodes.demo.administration import (
    admins,
    directory_changes,
    service_accounts,
    software_updates,
)
from custodes.demo.hosts import Context, logon_ids
from custodes.demo.organisation import NETBIOS
from custodes.demo.programs import SVCHOST, sysmon
from custodes.demo.schedule import Day, spread
from custodes.demo.timeline import MICROS, Stream
from custodes.demo.windows import (
    FAILED_LOGON,
    LOGOFF,
    LOGON,
    NTLM_VALIDATION,
    SECURITY,
    SERVICE_TICKET,
    TGT_REQUEST,
    emit,
)

MINUTE = 60 * MICROS


def windows_day(
    day: Day,
    ctx: Context,
    rng: np.random.Generator,
    stream: Stream,
    client_ips: np.ndarray,
    keep_enabled: set[str],
) -> None:
    """Queue a day's normal Windows events; `client_ips[i]` is where present person i works from."""
    service_accounts(day, ctx, rng, stream)
    directory_changes(day, ctx, stream, keep_enabled)
    people = day.present
    if people.size == 0:
        return
    hosts = ctx.workstations[people]
    accounts, sids = ctx.accounts[people], ctx.sids[people]
    interactive(day, ctx, rng, stream, hosts, accounts, sids)
    domain_controllers = [host.index for host in ctx.org.hosts_by_role("dc")]
    file_servers = [host.index for host in ctx.org.hosts_by_role("file")]
    kerberos(day, ctx, rng, stream, accounts, sids, client_ips, domain_controllers, file_servers)
    sysmon(day, ctx, rng, stream, hosts, accounts)
    software_updates(day, ctx, rng, stream)
    admins(day, ctx, rng, stream, client_ips)


def interactive(
    day: Day,
    ctx: Context,
    rng: np.random.Generator,
    stream: Stream,
    hosts: np.ndarray,
    accounts: np.ndarray,
    sids: np.ndarray,
) -> None:
    """Logon at arrival (a typo now and then), unlocks during the day, logoff when leaving."""
    count = hosts.size
    ids = logon_ids(rng, count)
    computer_names = [name.split(".")[0] for name in ctx.computers[hosts]]
    typo = rng.random(count) < 0.07
    rows = [
        (
            "S-1-5-18",
            f"{name}$",
            NETBIOS,
            "0x3e7",
            sid,
            account,
            logon,
            2,
            "User32 ",
            "Negotiate",
            name,
            "0x4f8",
            SVCHOST,
            "127.0.0.1",
            "0",
            "%%1842",
        )
        for name, account, sid, logon in zip(computer_names, accounts, sids, ids, strict=True)
    ]
    emit(stream, LOGON, day.arrive, hosts, ctx.computers[hosts], rows, SECURITY)
    failed = np.flatnonzero(typo)
    emit(
        stream,
        FAILED_LOGON,
        day.arrive[failed] - 20 * MICROS,
        hosts[failed],
        ctx.computers[hosts[failed]],
        [
            (
                "S-1-5-18",
                f"{computer_names[i]}$",
                NETBIOS,
                "0x3e7",
                accounts[i],
                "0xc000006a",
                2,
                "User32 ",
                "Negotiate",
                computer_names[i],
                "0x4f8",
                SVCHOST,
                "127.0.0.1",
                "0",
            )
            for i in failed.tolist()
        ],
        SECURITY,
    )
    emit(
        stream,
        LOGOFF,
        day.leave,
        hosts,
        ctx.computers[hosts],
        [(sid, account, logon, 2) for account, sid, logon in zip(accounts, sids, ids, strict=True)],
        SECURITY,
    )
    owners, times = spread(
        rng, day.arrive + 30 * MINUTE, day.leave - 10 * MINUTE, rng.poisson(2.0, count)
    )
    unlock_ids = logon_ids(rng, owners.size)
    emit(
        stream,
        LOGON,
        times,
        hosts[owners],
        ctx.computers[hosts[owners]],
        [
            (
                "S-1-5-18",
                f"{computer_names[i]}$",
                NETBIOS,
                "0x3e7",
                sids[i],
                accounts[i],
                unlock_ids[n],
                7,
                "User32 ",
                "Negotiate",
                computer_names[i],
                "0x4f8",
                SVCHOST,
                "127.0.0.1",
                "0",
                "%%1842",
            )
            for n, i in enumerate(owners.tolist())
        ],
        SECURITY,
    )


def kerberos(
    day: Day,
    ctx: Context,
    rng: np.random.Generator,
    stream: Stream,
    accounts: np.ndarray,
    sids: np.ndarray,
    client_ips: np.ndarray,
    controllers: list[int],
    file_servers: list[int],
) -> None:
    """A TGT at arrival, service tickets and file-share logons during the day."""
    count = accounts.size
    dcs = np.array(controllers)[rng.integers(0, len(controllers), count)]
    ports = rng.integers(49152, 65535, count).tolist()
    emit(
        stream,
        TGT_REQUEST,
        day.arrive + 2 * MICROS,
        dcs,
        ctx.computers[dcs],
        list(zip(accounts, sids, client_ips, ports, strict=True)),
        SECURITY,
    )
    owners, times = spread(
        rng, day.arrive + 5 * MINUTE, day.leave - 5 * MINUTE, rng.poisson(2.5, count)
    )
    servers = np.array(file_servers)[rng.integers(0, len(file_servers), owners.size)]
    server_names = [ctx.computers[server].split(".")[0] for server in servers.tolist()]
    ticket_dcs = dcs[owners]
    emit(
        stream,
        SERVICE_TICKET,
        times - 300_000,
        ticket_dcs,
        ctx.computers[ticket_dcs],
        [
            (
                accounts[i],
                f"{name}$",
                f"S-1-5-21-3623811015-3361044348-30300820-{2000 + s}",
                client_ips[i],
                p,
            )
            for i, name, s, p in zip(
                owners.tolist(),
                server_names,
                servers.tolist(),
                rng.integers(49152, 65535, owners.size).tolist(),
                strict=True,
            )
        ],
        SECURITY,
    )
    ids = logon_ids(rng, owners.size)
    emit(
        stream,
        LOGON,
        times,
        servers,
        ctx.computers[servers],
        [
            (
                "S-1-0-0",
                "-",
                "-",
                "0x0",
                sids[i],
                accounts[i],
                ids[n],
                3,
                "Kerberos",
                "Kerberos",
                "-",
                "0x0",
                "-",
                client_ips[i],
                str(p),
                "%%1843",
            )
            for n, (i, p) in enumerate(
                zip(owners.tolist(), rng.integers(49152, 65535, owners.size).tolist(), strict=True)
            )
        ],
        SECURITY,
    )
    ends = times + rng.integers(1, 40, owners.size) * MINUTE
    emit(
        stream,
        LOGOFF,
        ends,
        servers,
        ctx.computers[servers],
        [(sids[i], accounts[i], ids[n], 3) for n, i in enumerate(owners.tolist())],
        SECURITY,
    )
    ntlm = np.flatnonzero(rng.random(count) < 0.15)
    emit(
        stream,
        NTLM_VALIDATION,
        day.arrive[ntlm] + 90 * MICROS,
        dcs[ntlm],
        ctx.computers[dcs[ntlm]],
        [
            (accounts[i], ctx.computers[ctx.workstations[day.present[i]]].split(".")[0], "0x0")
            for i in ntlm.tolist()
        ],
        SECURITY,
    )
