"""Protected channels: never in the lake after ingest, only counted per day."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson

from custodes.events import RawRecord
from custodes.oversight import protected_counts
from custodes.oversight.policy import install_policy, policy_from_hints
from custodes.pipeline import open_pipeline
from custodes.store import search

HOTLINE = "hotline.oig.example.gov"


def proxy(position: int, url: str, at: str, **extra: object) -> RawRecord:
    document = {
        "@timestamp": at,
        "event": {"dataset": "proxy"},
        "user": {"name": "jsmith"},
        "url": {"original": url},
        **extra,
    }
    return RawRecord(orjson.dumps(document), "test", "proxy", position, "json")


def test_protected_channel_events_are_counted_not_stored(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    hints = {
        "protected_channels": [
            {"name": "IG hotline", "domains": [HOTLINE], "emails": [f"report@{HOTLINE}"]},
            {"name": "Union", "addresses": ["192.0.2.7"], "ports": [4444]},
        ]
    }
    install_policy(data_dir, policy_from_hints(hints))
    records = [
        proxy(0, f"https://{HOTLINE}/report", "2026-11-02T12:31:00Z"),
        proxy(1, "https://intranet.agency.gov/", "2026-11-02T12:32:00Z"),
        proxy(2, f"https://{HOTLINE.upper()}/status", "2026-11-03T09:00:00Z"),
        proxy(3, "https://nothotline.oig.example.gov.evil/", "2026-11-03T09:01:00Z"),
        proxy(4, "mailto:", "2026-11-03T09:02:00Z", message=f"mail to report@{HOTLINE}"),
        proxy(5, "x", "2026-11-03T09:03:00Z", destination={"ip": "192.0.2.7"}),
        proxy(6, "y", "2026-11-03T09:04:00Z", destination={"ip": "10.0.0.1", "port": 4444}),
        proxy(7, f"https://my{HOTLINE}/", "2026-11-03T09:05:00Z"),
        proxy(8, f"https://www.{HOTLINE}/", "2026-11-03T09:06:00Z"),
    ]
    with open_pipeline(data_dir) as pipeline:
        result = pipeline.submit(records)
    assert (result.stored, result.withheld) == (3, 6)
    stored = search(data_dir, limit=100)
    assert sorted(stored.column("url.original").to_pylist()) == [
        "https://intranet.agency.gov/",
        "https://my" + HOTLINE + "/",
        "https://nothotline.oig.example.gov.evil/",
    ]
    lake_bytes = b"".join(path.read_bytes() for path in (data_dir / "lake").rglob("*.parquet"))
    assert b"hotline.oig.example.gov/report" not in lake_bytes
    assert protected_counts(data_dir) == {
        "2026-11-02": {"IG hotline": 1},
        "2026-11-03": {"IG hotline": 3, "Union": 2},
    }


def test_without_channels_nothing_is_withheld(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    now = datetime.now(UTC).isoformat()
    with open_pipeline(data_dir) as pipeline:
        result = pipeline.submit([proxy(0, f"https://{HOTLINE}/", now)])
    assert (result.stored, result.withheld) == (1, 0)
    assert protected_counts(data_dir) == {}
