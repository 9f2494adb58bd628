"""Programs on workstations (Sysmon 1), their connections (3), files saved (11), settings (13)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from custodes.demo.hosts import Context
from custodes.demo.schedule import Day, spread
from custodes.demo.timeline import MICROS, Stream, iso_stamps
from custodes.demo.windows import (
    SYSMON,
    SYSMON_FILE,
    SYSMON_NETWORK,
    SYSMON_PROCESS,
    SYSMON_REGISTRY,
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

    def emit_caused(
        kind: str,
        picked: np.ndarray,
        at: np.ndarray,
        details: Callable[[str, int], tuple[object, ...]],
    ) -> None:
        """One event of `kind` per picked process: its time, guid, pid and image, then `details`."""
        stamps = [sysmon_time(stamp) for stamp in iso_stamps(at)]
        where = hosts[owners[picked]]
        rows = [
            (
                stamps[k],
                guids[n],
                int(pids[n]),
                escape(PROGRAMS[int(choice[n])][0]),
                *details(stamps[k], n),
            )
            for k, n in enumerate(picked.tolist())
        ]
        emit(stream, kind, at, where, ctx.computers[where], rows, SYSMON)

    networked = np.array([PROGRAMS[program][6] for program in choice.tolist()], dtype=bool)
    net = np.flatnonzero(networked)
    emit_caused(
        SYSMON_NETWORK,
        net,
        times[net] + rng.integers(1, 30, net.size) * MICROS,
        lambda _stamp, n: (
            accounts[owners[n]],
            ctx.host_ips[hosts[owners[n]]],
            ctx.computers[hosts[owners[n]]],
            50000 + (n * 7) % 15000,
            f"52.96.{n % 200}.{n % 250 + 1}",
            CLOUD_HOSTS[n % len(CLOUD_HOSTS)],
            443,
            "https",
        ),
    )
    saved = np.flatnonzero(rng.random(owners.size) < 0.35)
    emit_caused(
        SYSMON_FILE,
        saved,
        times[saved] + rng.integers(2, 60, saved.size) * MINUTE,
        lambda stamp, n: (
            escape(
                f"C:\\Users\\{accounts[owners[n]]}\\Documents\\{DOCUMENTS[n % 8]}-"
                f"{n % 97}{EXTENSIONS[n % 4]}"
            ),
            stamp,
            accounts[owners[n]],
        ),
    )
    written = np.flatnonzero(rng.random(owners.size) < 0.1)
    emit_caused(
        SYSMON_REGISTRY,
        written,
        times[written] + 3 * MICROS,
        lambda _stamp, n: (
            escape(
                f"HKU\\{ctx.sids[day.present[owners[n]]]}\\Software\\Microsoft\\Office\\16.0"
                "\\Common\\General\\LastAutoSave"
            ),
            "DWORD (0x00000001)",
            accounts[owners[n]],
        ),
    )
