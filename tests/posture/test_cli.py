"""`custodes posture import|run|findings|report` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from custodes.cli.main import app
from tests.posture.scene import Scene

runner = CliRunner()


def test_import_run_findings_and_report(tmp_path: Path) -> None:
    scene = Scene(tmp_path)
    scene.person("E1", "gone", separation_date="2026-11-01")
    scene.logon("2026-11-03T21:40:00Z", "gone")
    data_dir = scene.write()
    exports = tmp_path / "exports"
    config = tmp_path / "custodes.yaml"
    config.write_text("posture:\n  allowed_countries: [US, FR]\n  dormant_after_days: 60\n")
    imported = runner.invoke(
        app,
        [
            "posture",
            "import",
            "--data-dir",
            str(data_dir),
            "--roster",
            str(exports / "roster.csv"),
            "--accounts",
            str(exports / "accounts.json"),
        ],
    )
    assert imported.exit_code == 0, imported.output
    assert "people: 1 row(s)" in imported.output
    ran = runner.invoke(
        app,
        [
            "posture",
            "run",
            "--data-dir",
            str(data_dir),
            "--config",
            str(config),
            "--now",
            "2026-11-05T00:00:00Z",
        ],
    )
    assert ran.exit_code == 0, ran.output
    assert "opened 2, resolved 0" in ran.output
    listed = runner.invoke(app, ["posture", "findings", "--data-dir", str(data_dir), "--json"])
    checks = sorted(orjson.loads(line)["check"] for line in listed.output.splitlines())
    assert checks == ["account_enabled_after_separation", "activity_after_separation"]
    out = tmp_path / "report.html"
    reported = runner.invoke(
        app, ["posture", "report", "--data-dir", str(data_dir), "--out", str(out)]
    )
    assert reported.exit_code == 0, reported.output
    html = out.read_text()
    assert "Posture audit report" in html and "Logon or activity after the owner" in html
    as_json = runner.invoke(
        app, ["posture", "report", "--data-dir", str(data_dir), "--format", "json"]
    )
    report = orjson.loads(as_json.output)
    assert report["open"] == 2
    assert {c["check"]: c["trend"] for c in report["classes"]}["activity_after_separation"] == [1]


def test_bad_rows_and_bad_settings_are_one_red_line_exit_2(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("employee_id,start_date\nE1,yesterday\n")
    result = runner.invoke(
        app, ["posture", "import", "--data-dir", str(tmp_path), "--roster", str(roster)]
    )
    assert result.exit_code == 2
    assert "roster.csv, row 2, start_date" in result.output
    config = tmp_path / "custodes.yaml"
    config.write_text("posture:\n  dormant_after_dayz: 60\n")
    result = runner.invoke(
        app, ["posture", "run", "--data-dir", str(tmp_path), "--config", str(config)]
    )
    assert result.exit_code == 2
    assert "posture.dormant_after_dayz: unknown key" in result.output
    assert "Traceback" not in result.output


def test_run_reimports_the_exports_named_in_the_config(tmp_path: Path) -> None:
    scene = Scene(tmp_path)
    scene.person("E1", "gone", separation_date="2026-11-01")
    data_dir = scene.write()
    exports = tmp_path / "exports"
    config = tmp_path / "custodes.yaml"
    config.write_text(f"posture:\n  sources:\n    accounts: {exports / 'accounts.json'}\n")
    arguments = ["posture", "run", "--data-dir", str(data_dir), "--config", str(config)]
    first = runner.invoke(app, [*arguments, "--now", "2026-11-05T00:00:00Z"])
    assert "re-imported accounts (1)" in first.output
    assert "opened 1, resolved 0" in first.output
    scene.accounts[0]["enabled"] = False  # the next export shows the account disabled
    (exports / "accounts.json").write_bytes(orjson.dumps({"accounts": scene.accounts}))
    second = runner.invoke(app, [*arguments, "--now", "2026-11-05T01:00:00Z"])
    assert "opened 0, resolved 1" in second.output


def test_pdf_report_is_written_to_a_file(tmp_path: Path) -> None:
    scene = Scene(tmp_path)
    scene.person("E1", "gone", separation_date="2026-11-01")
    data_dir = scene.write()
    runner.invoke(app, ["posture", "run", "--data-dir", str(data_dir), "--now", "2026-11-05"])
    arguments = ["posture", "report", "--data-dir", str(data_dir), "--format", "pdf"]
    refused = runner.invoke(app, arguments)
    assert refused.exit_code == 2 and "needs --out" in refused.output
    out = tmp_path / "report.pdf"
    written = runner.invoke(app, [*arguments, "--out", str(out)])
    assert written.exit_code == 0, written.output
    assert out.read_bytes().startswith(b"%PDF-")
    assert out.stat().st_size > 5000
