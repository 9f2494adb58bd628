"""Normal Windows activity for one day: logons, Kerberos, file shares, processes, admin work."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from custodes.demo.organisation import NETBIOS, Organisation
from custodes.demo.schedule import HOUR, Day, spread
from custodes.demo.timeline import MICROS, Stream, iso_stamps
from custodes.demo.windows import (
    FAILED_LOGON,
    LOGOFF,
    LOGON,
    NTLM_VALIDATION,
    PROCESS_CREATED,
    SECURITY,
    SERVICE_TICKET,
    SPECIAL_PRIVILEGES,
    SYSMON,
    SYSMON_FILE,
    SYSMON_NETWORK,
    SYSMON_PROCESS,
    SYSMON_REGISTRY,
    TGT_REQUEST,
    emit,
    escape,
    process_guid,
    sysmon_time,
)

MINUTE = 60 * MICROS
SVCHOST = escape("C:\\Windows\\System32\\svchost.exe")
EXPLORER = escape("C:\\Windows\\explorer.exe")
#: (image, description, product, company, original name, command line suffix, network?)
PROGRAMS = [
    (
        "C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE",
        "Microsoft Outlook",
        "Microsoft Office",
        "Microsoft Corporation",
        "Outlook.exe",
        "",
        True,
    ),
    (
        "C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE",
        "Microsoft Excel",
        "Microsoft Office",
        "Microsoft Corporation",
        "Excel.exe",
        "",
        False,
    ),
    (
        "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
        "Microsoft Word",
        "Microsoft Office",
        "Microsoft Corporation",
        "WinWord.exe",
        "",
        False,
    ),
    (
        "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
        "Google Chrome",
        "Google Chrome",
        "Google LLC",
        "chrome.exe",
        "",
        True,
    ),
    (
        "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
        "Microsoft Edge",
        "Microsoft Edge",
        "Microsoft Corporation",
        "msedge.exe",
        "",
        True,
    ),
    (
        "C:\\Windows\\System32\\notepad.exe",
        "Notepad",
        "Microsoft Windows Operating System",
        "Microsoft Corporation",
        "NOTEPAD.EXE",
        "",
        False,
    ),
    (
        "C:\\Program Files\\Adobe\\Acrobat DC\\Acrobat\\Acrobat.exe",
        "Adobe Acrobat",
        "Adobe Acrobat",
        "Adobe Inc.",
        "Acrobat.exe",
        "",
        False,
    ),
]
ADMIN_TOOLS = [
    "C:\\Windows\\System32\\ServerManager.exe",
    "C:\\Windows\\System32\\mmc.exe C:\\Windows\\System32\\eventvwr.msc",
    "C:\\Windows\\System32\\mmc.exe C:\\Windows\\System32\\services.msc",
    "C:\\Windows\\System32\\mmc.exe C:\\Windows\\System32\\dsa.msc",
]
#: Sysmon's fields of each program: image, version, description, product, company, name, command.
PROGRAM_FIELDS = [
    (
        escape(image),
        "16.0.17928.20114",
        description,
        product,
        company,
        original,
        escape(f'"{image}"'),
    )
    for image, description, product, company, original, _, _ in PROGRAMS
]
PROGRAM_HASHES = [
    f"SHA256={(n * 2654435761) % (1 << 64):016X}" * 1 + "A" * 48 for n in range(len(PROGRAMS))
]
#: Where programs connect (HTTPS through the transparent proxy).
CLOUD_HOSTS = [
    "outlook.office365.com",
    "agency.sharepoint.com",
    "www.google.com",
    "teams.microsoft.com",
]
DOCUMENTS = ["report", "budget", "minutes", "notes", "plan", "memo", "review", "draft"]
EXTENSIONS = [".docx", ".xlsx", ".pdf", ".pptx"]


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


def windows_day(
    day: Day, ctx: Context, rng: np.random.Generator, stream: Stream, client_ips: np.ndarray
) -> None:
    """Queue a day's normal Windows events; `client_ips[i]` is where present person i works from."""
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


def sysmon(
    day: Day,
    ctx: Context,
    rng: np.random.Generator,
    stream: Stream,
    hosts: np.ndarray,
    accounts: np.ndarray,
) -> None:
    """Programs started, their connections through the proxy, documents saved, settings written."""
    owners, times = spread(rng, day.arrive + MINUTE, day.leave, rng.poisson(6.0, hosts.size))
    choice = rng.integers(0, len(PROGRAMS), owners.size)
    pids = rng.integers(1000, 15000, owners.size)
    utc = [sysmon_time(stamp) for stamp in iso_stamps(times)]
    host_list = hosts[owners].tolist()
    guids = [
        process_guid(host, pid, n)
        for n, (host, pid) in enumerate(zip(host_list, pids.tolist(), strict=True))
    ]
    session = {
        host: (process_guid(host, 0, 1), process_guid(host, 4120, 7)) for host in set(host_list)
    }
    rows = [
        (
            utc[n],
            guids[n],
            pid,
            *PROGRAM_FIELDS[program],
            escape("C:\\Users\\" + accounts[i] + "\\"),
            accounts[i],
            session[host][0],
            "0x2c41a7",
            1,
            "Medium",
            PROGRAM_HASHES[program],
            session[host][1],
            4120,
            EXPLORER,
            EXPLORER,
            accounts[i],
        )
        for n, (i, program, pid, host) in enumerate(
            zip(owners.tolist(), choice.tolist(), pids.tolist(), host_list, strict=True)
        )
    ]
    emit(stream, SYSMON_PROCESS, times, hosts[owners], ctx.computers[hosts[owners]], rows, SYSMON)
    networked = np.array([PROGRAMS[program][6] for program in choice.tolist()], dtype=bool)
    net = np.flatnonzero(networked)
    net_times = times[net] + rng.integers(1, 30, net.size) * MICROS
    net_utc = [sysmon_time(stamp) for stamp in iso_stamps(net_times)]
    emit(
        stream,
        SYSMON_NETWORK,
        net_times,
        hosts[owners[net]],
        ctx.computers[hosts[owners[net]]],
        [
            (
                net_utc[k],
                guids[n],
                int(pids[n]),
                escape(PROGRAMS[int(choice[n])][0]),
                accounts[owners[n]],
                ctx.host_ips[hosts[owners[n]]],
                ctx.computers[hosts[owners[n]]],
                50000 + (n * 7) % 15000,
                f"52.96.{n % 200}.{n % 250 + 1}",
                CLOUD_HOSTS[n % len(CLOUD_HOSTS)],
                443,
                "https",
            )
            for k, n in enumerate(net.tolist())
        ],
        SYSMON,
    )
    saved = np.flatnonzero(rng.random(owners.size) < 0.35)
    file_times = times[saved] + rng.integers(2, 60, saved.size) * MINUTE
    file_utc = [sysmon_time(stamp) for stamp in iso_stamps(file_times)]
    emit(
        stream,
        SYSMON_FILE,
        file_times,
        hosts[owners[saved]],
        ctx.computers[hosts[owners[saved]]],
        [
            (
                file_utc[k],
                guids[n],
                int(pids[n]),
                escape(PROGRAMS[int(choice[n])][0]),
                escape(
                    f"C:\\Users\\{accounts[owners[n]]}\\Documents\\{DOCUMENTS[n % 8]}-"
                    f"{n % 97}{EXTENSIONS[n % 4]}"
                ),
                file_utc[k],
                accounts[owners[n]],
            )
            for k, n in enumerate(saved.tolist())
        ],
        SYSMON,
    )
    written = np.flatnonzero(rng.random(owners.size) < 0.1)
    reg_times = times[written] + 3 * MICROS
    reg_utc = [sysmon_time(stamp) for stamp in iso_stamps(reg_times)]
    emit(
        stream,
        SYSMON_REGISTRY,
        reg_times,
        hosts[owners[written]],
        ctx.computers[hosts[owners[written]]],
        [
            (
                reg_utc[k],
                guids[n],
                int(pids[n]),
                escape(PROGRAMS[int(choice[n])][0]),
                escape(
                    f"HKU\\{ctx.sids[day.present[owners[n]]]}\\Software\\Microsoft\\Office\\16.0"
                    "\\Common\\General\\LastAutoSave"
                ),
                "DWORD (0x00000001)",
                accounts[owners[n]],
            )
            for k, n in enumerate(written.tolist())
        ],
        SYSMON,
    )


def admins(
    day: Day, ctx: Context, rng: np.random.Generator, stream: Stream, client_ips: np.ndarray
) -> None:
    """Administrators use their admin accounts over RDP on servers, with special privileges."""
    servers = [host.index for host in ctx.org.hosts if host.kind == "windows-server"]
    positions = [
        n for n, index in enumerate(day.present.tolist()) if ctx.org.people[index].admin_account
    ]
    if not positions:
        return
    chosen = np.array(positions)
    owners, times = spread(
        rng,
        day.arrive[chosen] + 20 * MINUTE,
        day.leave[chosen] - HOUR,
        rng.poisson(1.5, chosen.size) + 1,
    )
    targets = np.array(servers)[rng.integers(0, len(servers), owners.size)]
    ids = logon_ids(rng, owners.size)
    people = [ctx.org.people[day.present[chosen[o]]] for o in owners.tolist()]
    names = [person.admin_account or "" for person in people]
    sids = [f"{person.sid}0" for person in people]
    ips = [client_ips[chosen[o]] for o in owners.tolist()]
    computers = ctx.computers[targets]
    emit(
        stream,
        LOGON,
        times,
        targets,
        computers,
        [
            (
                "S-1-5-18",
                f"{c.split('.')[0]}$",
                NETBIOS,
                "0x3e7",
                s,
                a,
                i,
                10,
                "User32 ",
                "Negotiate",
                c.split(".")[0],
                "0x1d4",
                escape("C:\\Windows\\System32\\svchost.exe"),
                ip,
                "0",
                "%%1842",
            )
            for c, s, a, i, ip in zip(computers, sids, names, ids, ips, strict=True)
        ],
        SECURITY,
    )
    emit(
        stream,
        SPECIAL_PRIVILEGES,
        times + 1,
        targets,
        computers,
        list(zip(sids, names, ids, strict=True)),
        SECURITY,
    )
    tools = rng.integers(0, len(ADMIN_TOOLS), owners.size).tolist()
    emit(
        stream,
        PROCESS_CREATED,
        times + 40 * MICROS,
        targets,
        computers,
        [
            (
                s,
                a,
                i,
                f"0x{1000 + n:x}",
                escape(ADMIN_TOOLS[t].split(" ")[0]),
                "0x1a2c",
                escape(ADMIN_TOOLS[t]),
                EXPLORER,
            )
            for n, (s, a, i, t) in enumerate(zip(sids, names, ids, tools, strict=True))
        ],
        SECURITY,
    )
    ends = times + rng.integers(10, 90, owners.size) * MINUTE
    emit(
        stream,
        LOGOFF,
        ends,
        targets,
        computers,
        [(s, a, i, 10) for s, a, i in zip(sids, names, ids, strict=True)],
        SECURITY,
    )
