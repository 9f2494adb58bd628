"""`custodes ingest`, `search`, `stats` and `quarantine` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from custodes.cli.main import app
from tests.store.helpers import json_line

runner = CliRunner()


@pytest.fixture
def ingested(tmp_path: Path, data_dir: Path) -> Path:
    folder = tmp_path / "logs" / "nested"
    folder.mkdir(parents=True)
    (folder / "a.jsonl").write_bytes(b"\n".join(json_line(i) for i in range(40)) + b"\n")
    (tmp_path / "logs" / "b.jsonl").write_bytes(
        b"\n".join(json_line(i, day=2) for i in range(40, 60)) + b"\n{broken\n"
    )
    result = runner.invoke(app, ["ingest", "--data-dir", str(data_dir), str(tmp_path / "logs")])
    assert result.exit_code == 0, result.output
    return data_dir


def test_ingest_prints_counts_per_format(tmp_path: Path, data_dir: Path) -> None:
    (tmp_path / "a.jsonl").write_bytes(b"\n".join(json_line(i) for i in range(7)) + b"\nnope\n")
    result = runner.invoke(app, ["ingest", "--data-dir", str(data_dir), str(tmp_path / "a.jsonl")])
    assert result.exit_code == 0, result.output
    total = next(line for line in result.output.splitlines() if "total" in line)
    assert [cell.strip() for cell in total.split("│")[2:8]] == ["1", "8", "7", "1", "0", "0"]
    # The folder holds the data dir too: its own files are never read back in.
    again = runner.invoke(app, ["ingest", "--data-dir", str(data_dir), "--timings", str(tmp_path)])
    assert again.exit_code == 0
    total = next(line for line in again.output.splitlines() if "total" in line)
    assert [cell.strip() for cell in total.split("│")[2:8]] == ["0", "0", "0", "0", "0", "1"]
    assert "seconds per step" in again.output and "normalise" in again.output


def test_search_jsonl_with_time_range_and_filter(ingested: Path) -> None:
    result = runner.invoke(
        app,
        [
            "search",
            "--data-dir",
            str(ingested),
            "--since",
            "2024-05-02",
            "--until",
            "2024-05-03",
            "--where",
            "user.name = 'user1' or CommandLine = 'run --job 43'",
            "--format",
            "jsonl",
            "--limit",
            "100",
        ],
    )
    assert result.exit_code == 0, result.output
    events = [orjson.loads(line) for line in result.output.splitlines()]
    numbers = sorted(int(event["fields"]["n"]) for event in events)
    assert numbers == sorted({n for n in range(40, 60) if n % 5 == 1} | {43})
    assert all(event["@timestamp"].startswith("2024-05-02T") for event in events)


def test_search_csv_fields_and_table(ingested: Path) -> None:
    result = runner.invoke(
        app,
        ["search", "--data-dir", str(ingested), "--format", "csv", "--fields", "n,EventID"]
        + ["--where", "n < 3", "--limit", "10"],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "n,EventID"
    assert sorted(lines[1:]) == ["0,4624", "1,4625", "2,4626"]
    table = runner.invoke(app, ["search", "--data-dir", str(ingested), "--limit", "3"])
    assert table.exit_code == 0
    assert "3 events" in table.output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--where", "user.name = "], "expected a value"),
        (["--where", "user.name matches 'a'"], "unknown operator"),
        (["--where", "process.pid = 'abc'"], "expected a number"),
        (["--since", "last tuesday"], "unreadable time"),
        (["--fields", ","], "names no field"),
    ],
)
def test_user_mistakes_give_one_red_line_and_exit_2(
    ingested: Path, arguments: list[str], message: str
) -> None:
    result = runner.invoke(app, ["search", "--data-dir", str(ingested), *arguments])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_missing_input_path_is_a_user_mistake(data_dir: Path) -> None:
    result = runner.invoke(app, ["ingest", "--data-dir", str(data_dir), "/no/such/file"])
    assert result.exit_code == 2
    assert "no such file or folder" in result.output


def test_unknown_format_and_missing_data_dir_are_user_mistakes(
    tmp_path: Path, data_dir: Path
) -> None:
    (tmp_path / "a.jsonl").write_bytes(json_line(1) + b"\n")
    result = runner.invoke(
        app, ["ingest", "--data-dir", str(data_dir), "--format", "klingon", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "unknown format 'klingon'" in result.output
    result = runner.invoke(app, ["search", "--data-dir", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "no data directory" in result.output


def test_stats_and_quarantine_list(ingested: Path) -> None:
    stats = runner.invoke(app, ["stats", "--data-dir", str(ingested)])
    assert stats.exit_code == 0, stats.output
    assert "events: 60" in stats.output
    assert "quarantined: 1" in stats.output
    listing = runner.invoke(app, ["quarantine", "list", "--data-dir", str(ingested)])
    assert listing.exit_code == 0, listing.output
    assert "{broken" in listing.output
    assert "invalid JSON" in listing.output
    replay = runner.invoke(app, ["quarantine", "replay", "--data-dir", str(ingested)])
    assert replay.exit_code == 0, replay.output
    assert "0 stored, 1 still quarantined" in replay.output


def test_data_dir_from_environment(ingested: Path) -> None:
    result = runner.invoke(app, ["stats"], env={"CUSTODES_DATA_DIR": str(ingested)})
    assert result.exit_code == 0
    assert "events: 60" in result.output


@pytest.mark.parametrize("command", [["ingest"], ["search"], ["stats"], ["quarantine", "list"]])
def test_help_everywhere(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "--data-dir" in result.output
