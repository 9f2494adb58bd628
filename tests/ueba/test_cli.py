"""custodes ueba build|score|top|evaluate."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from custodes.cli.main import app
from tests.ueba.test_score import PLANTED_DAY, planted_office

runner = CliRunner()


def test_build_top_and_score(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    planted_office(data_dir)
    where = ["--data-dir", str(data_dir)]

    built = runner.invoke(app, ["ueba", "build", *where, "--threshold", "8"])
    assert built.exit_code == 0, built.output
    assert "0 alerts" not in built.output  # user07's night, and the servers it touched

    shown = runner.invoke(app, ["ueba", "top", *where, "--day", PLANTED_DAY, "--json"])
    assert shown.exit_code == 0, shown.output
    assert orjson.loads(shown.output)[0]["entity"] == "user07"

    daily = runner.invoke(app, ["ueba", "score", *where, "--day", PLANTED_DAY, "--threshold", "99"])
    assert daily.exit_code == 0 and "0 alerts" in daily.output


def test_user_mistakes_are_one_red_line(tmp_path: Path) -> None:
    bad_day = runner.invoke(app, ["ueba", "top", "--data-dir", str(tmp_path), "--day", "soon"])
    assert bad_day.exit_code == 2 and "unreadable day" in bad_day.output
    missing = runner.invoke(
        app, ["ueba", "evaluate", "--dataset", "cert", "--path", str(tmp_path / "nothing")]
    )
    assert missing.exit_code == 2 and "head_sample" in missing.output
