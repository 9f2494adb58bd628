"""`custodes demo generate|check` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from custodes.cli.main import app

runner = CliRunner()


def test_generate_then_check_as_json(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    args = ["demo", "generate", "--out", str(out), "--people", "20", "--days", "2"]
    result = runner.invoke(app, [*args, "--start", "2026-11-02", "--seed", "5"])
    assert result.exit_code == 0, result.output
    assert "events/s" in result.output
    assert (out / "manifest.json").is_file() and (out / "reference" / "roster.csv").is_file()
    truth = str(out / "ground_truth.json")
    checked = runner.invoke(
        app,
        [
            "demo",
            "check",
            "--truth",
            truth,
            "--data-dir",
            str(tmp_path / "none"),
            "--format",
            "json",
        ],
    )
    assert checked.exit_code == 0, checked.output
    report = orjson.loads(checked.output)
    assert report["alerts"] == 0 and report["false_positives"] == 0
    assert {row["status"] for row in report["scenarios"]} <= {"pending", "missed", "quiet"}
    table = runner.invoke(app, ["demo", "check", "--truth", truth, "--data-dir", str(tmp_path)])
    assert table.exit_code == 0 and "password-spray-lateral-movement" in table.output


def test_user_mistakes_are_one_line_and_exit_2(tmp_path: Path) -> None:
    bad_start = runner.invoke(
        app, ["demo", "generate", "--out", str(tmp_path / "x"), "--start", "soon"]
    )
    too_small = runner.invoke(
        app, ["demo", "generate", "--out", str(tmp_path / "y"), "--people", "5"]
    )
    no_truth = runner.invoke(app, ["demo", "check", "--truth", str(tmp_path / "missing.json")])
    for result in (bad_start, too_small, no_truth):
        assert result.exit_code == 2
        assert "Traceback" not in result.output
        assert "error:" in result.output
