"""The telemetry files the generator writes, and the manifest that says how to send each."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from custodes.demo.timeline import Stream
from custodes.demo.windows import LOGS_PER_HOST


@dataclass
class Streams:
    """One stream per telemetry file."""

    windows: Stream
    syslog: Stream
    network: Stream
    auth: Stream
    vpn: Stream
    proxy: Stream
    mdm: Stream

    def all(self) -> list[Stream]:
        """Every stream, in manifest order."""
        return [self.windows, self.syslog, self.network, self.auth, self.vpn, self.proxy, self.mdm]


def open_streams(telemetry: Path, hosts: int) -> Streams:
    """Streams under `telemetry/`, each knowing its format and how it should be sent."""
    return Streams(
        windows=Stream(telemetry / "windows.jsonl", "evtx", "http", logs=hosts * LOGS_PER_HOST),
        syslog=Stream(telemetry / "linux-syslog.log", "rfc5424", "syslog"),
        network=Stream(telemetry / "network-syslog.log", "rfc3164", "syslog"),
        auth=Stream(telemetry / "auth.log", "authlog", "http"),
        vpn=Stream(telemetry / "vpn.cef", "cef", "syslog"),
        proxy=Stream(telemetry / "proxy.cef", "cef", "syslog"),
        mdm=Stream(telemetry / "mdm.jsonl", "json", "http"),
    )


DESCRIPTIONS = {
    "windows.jsonl": "Windows Security, System and Sysmon events as evtx-style JSON lines",
    "linux-syslog.log": "Linux servers, RFC 5424 syslog lines",
    "network-syslog.log": "firewall and switch, RFC 3164 syslog lines",
    "auth.log": "Linux auth.log (sshd, sudo, cron sessions), rsyslog high-precision time",
    "vpn.cef": "VPN gateway sessions, CEF",
    "proxy.cef": "web proxy requests, CEF",
    "mdm.jsonl": "MDM device check-ins, ECS JSON lines (event.dataset mdm.checkin)",
}


def manifest(
    out: Path, streams: Streams, settings: dict[str, Any], seconds: float
) -> dict[str, Any]:
    """What was written, in which format, how many events, and how each should be sent."""
    files = [
        {
            "path": stream.path.relative_to(out).as_posix(),
            "format": stream.format,
            "send": stream.send,
            "events": stream.lines,
            "description": DESCRIPTIONS.get(stream.path.name, ""),
        }
        for stream in streams.all()
    ]
    return {
        "generator": "custodes demo generate",
        "settings": settings,
        "events": sum(stream.lines for stream in streams.all()),
        "seconds": round(seconds, 3),
        "files": files,
        "reference": sorted(path.name for path in (out / "reference").glob("*")),
        "ground_truth": "ground_truth.json",
    }
