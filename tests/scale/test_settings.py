"""The settings several nodes need: a node name per writer, one control database URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from custodes.config import Settings
from custodes.errors import ConfigError
from custodes.events import RawRecord
from custodes.pipeline import open_pipeline
from custodes.serve import parse_config
from custodes.store.control import control_url


def test_control_url_in_custodes_yaml_must_be_a_url() -> None:
    url = "postgresql+psycopg://custodes:pw@db:5432/custodes"
    assert parse_config({"control_url": url}).control_url == url
    with pytest.raises(ConfigError) as refused:
        parse_config({"control_url": "db.internal"})
    assert refused.value.key == "control_url"


def test_control_url_setting_replaces_the_sqlite_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CUSTODES_CONTROL_URL", raising=False)
    assert control_url(tmp_path) == f"sqlite:///{tmp_path.resolve() / 'control.db'}"
    monkeypatch.setenv("CUSTODES_CONTROL_URL", "postgresql+psycopg://u:p@h/db")
    assert control_url(tmp_path) == "postgresql+psycopg://u:p@h/db"
    assert control_url("sqlite:///elsewhere.db") == "sqlite:///elsewhere.db"  # given: kept


def test_node_names_are_safe_in_file_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTODES_NODE", "ingest_b")
    assert Settings().node == "ingest_b"
    for bad in ("a/b", "node-1", "", "x" * 41):
        monkeypatch.setenv("CUSTODES_NODE", bad)
        with pytest.raises(ValidationError):
            Settings()


def test_open_pipeline_names_segments_after_the_node_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CUSTODES_NODE", "ingest_x")
    line = b'{"@timestamp": "2026-03-01T12:00:00Z", "message": "hello", "host": {"name": "h1"}}'
    with open_pipeline(tmp_path, detect=False, ledger=False) as pipeline:
        stored = pipeline.submit([RawRecord(data=line, origin="test", position=0, format="json")])
    assert stored.stored == 1
    names = [path.name for path in (tmp_path / "lake").rglob("*.parquet")]
    assert names and all(name.startswith("ingest_x-") for name in names)
