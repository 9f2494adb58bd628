"""Retro-hunts over the lake and the `rules`/`hunt` commands."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from custodes.cli.main import app
from custodes.detect import load_matcher
from custodes.detect.hunt import gather, hunt, prefetch
from custodes.store import write_events
from tests.detect.helpers import event_batch, sysmon

RULE = """
title: Whoami Execution
id: 00000000-0000-4000-8000-0000000000aa
author: Jane Analyst
level: medium
logsource: {product: windows, category: process_creation}
detection:
  sel: {Image|endswith: '\\\\whoami.exe'}
  condition: sel
"""
runner = CliRunner()


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTODES_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "250")  # rich wraps tables to the terminal width


@pytest.fixture
def rule_file(tmp_path: Path) -> Path:
    path = tmp_path / "rules" / "whoami.yml"
    path.parent.mkdir()
    path.write_text(RULE)
    return path


def write_lake(data_dir: Path) -> pa.RecordBatch:
    batch = event_batch(
        {**sysmon(Image="C:\\Windows\\whoami.exe"), "user.name": "alice"},
        {**sysmon(Image="C:\\Windows\\notepad.exe"), "user.name": "alice"},
        {**sysmon(Image="C:\\Windows\\WHOAMI.EXE"), "user.name": "bob"},
    )
    write_events(data_dir, pa.Table.from_batches([batch]), node="test", seq=0)
    return batch


def test_hunt_finds_matches_in_the_lake_with_the_rule_author(
    data_dir: Path, rule_file: Path
) -> None:
    batch = write_lake(data_dir)
    alerts = list(hunt(data_dir, load_matcher([rule_file])))
    assert sorted((a.user_name, a.count) for a in alerts) == [("alice", 1), ("bob", 1)]
    assert {a.author for a in alerts} == {"Jane Analyst"}
    ids = batch.column("event.id").to_pylist()
    assert {a.event_ids[0] for a in alerts} == {ids[0], ids[2]}


def test_gather_joins_small_batches_and_keeps_every_row() -> None:
    small = [event_batch(sysmon(Image=str(i))) for i in range(5)]
    gathered = list(gather(small, rows=2))
    assert [b.num_rows for b in gathered] == [2, 2, 1]
    assert sum(b.num_rows for b in prefetch(iter(gathered))) == 5


def test_prefetch_passes_on_errors() -> None:
    def broken() -> Iterator[pa.RecordBatch]:
        yield event_batch(sysmon(Image="x"))
        raise ValueError("disk gone")

    with pytest.raises(ValueError, match="disk gone"):
        list(prefetch(broken()))


def test_hunt_command_prints_jsonl_alerts(data_dir: Path, rule_file: Path) -> None:
    write_lake(data_dir)
    result = runner.invoke(
        app, ["hunt", "--data-dir", str(data_dir), "--rules", str(rule_file), "--format", "jsonl"]
    )
    assert result.exit_code == 0, result.output
    lines = [orjson.loads(line) for line in result.output.splitlines()]
    assert {line["user"] for line in lines} == {"alice", "bob"}
    assert {line["author"] for line in lines} == {"Jane Analyst"}


def test_rules_list_shows_rules_and_refusals(tmp_path: Path, rule_file: Path) -> None:
    (rule_file.parent / "broken.yml").write_text("title: x\ndetection: {condition: sel}\n")
    result = runner.invoke(app, ["rules", "list", "--rules", str(rule_file.parent)])
    assert result.exit_code == 0, result.output
    assert "Whoami Execution" in result.output
    assert "broken.yml" in result.output
    assert "1 rules compile, 1 do not" in result.output


def test_rules_list_with_a_missing_path_is_a_one_line_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["rules", "list", "--rules", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "no such file or folder" in result.output


def test_rules_test_runs_a_regression_folder(datasets: Path) -> None:
    sigma = datasets / "sigma"
    info = next((sigma / "regression_data" / "rules" / "windows").rglob("info.yml"))
    rule_id = info.parent.name
    result = runner.invoke(
        app, ["rules", "test", str(info.parent), "--rules", str(sigma / "rules" / "windows")]
    )
    assert result.exit_code == 0, (rule_id, result.output)
    assert "1 of 1 regression tests fire their rule" in result.output
