"""`custodes notify test` and `custodes notify resend` against a local webhook."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from custodes.cli.main import app
from tests.test_notify import Webhook, free_port

runner = CliRunner()


def config_file(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "custodes.yaml"
    path.write_text(
        f"sinks:\n  hook: {{type: webhook, url: '{url}', timeout_secs: 2}}\n"
        "notifications:\n  retries: 0\n  routes:\n    - {min_level: high, sinks: [hook]}\n"
    )
    return path


def test_notify_test_sends_through_the_routes(tmp_path: Path, data_dir: Path) -> None:
    hook = Webhook([])
    try:
        config = config_file(tmp_path, hook.url)
        args = ["notify", "test", "--config", str(config), "--data-dir", str(data_dir)]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "hook" in result.stdout and "yes" in result.stdout
        assert hook.received[0]["title"] == "Custodes notification test"
        low = runner.invoke(app, [*args, "--level", "low"])
        assert low.exit_code == 2 and "no route takes a low alert" in low.stderr
    finally:
        hook.close()


def test_failed_test_leaves_a_dead_letter_that_resend_delivers(
    tmp_path: Path, data_dir: Path
) -> None:
    port = free_port()
    down = config_file(tmp_path, f"http://127.0.0.1:{port}/hook")
    failed = runner.invoke(app, ["notify", "test", "-c", str(down), "--data-dir", str(data_dir)])
    assert failed.exit_code == 1 and "no" in failed.stdout
    hook = Webhook([])
    try:
        up = config_file(tmp_path, hook.url)
        result = runner.invoke(
            app, ["notify", "resend", "-c", str(up), "--data-dir", str(data_dir)]
        )
        assert result.exit_code == 0, result.output
        assert "1 of 1 dead letters sent" in result.stdout
        assert [item["rule_id"] for item in hook.received] == ["custodes-notify-test"]
    finally:
        hook.close()
