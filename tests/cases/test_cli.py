"""`custodes case ...` from the command line, and migration 0005 down and up."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from typer.testing import CliRunner

from custodes.cli.main import app
from custodes.store import open_control
from custodes.store.control import alembic_config, migrate

CASE_TABLES = {"units", "unit_members", "cases", "case_items", "case_access", "case_history"}


def run(*arguments: str) -> str:
    result = CliRunner().invoke(app, list(arguments))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_create_note_share_handover_decide_from_the_cli(data_dir: Path) -> None:
    where = ["--data-dir", str(data_dir)]
    run("case", "unit", "soc", "--member", "ana", *where)
    run("case", "unit", "ia", "--kind", "investigative", "--member", "ivy", *where)
    run("case", "unit", "cert", "--member", "ben", *where)
    case_id = run(
        "case", "create", "--title", "Spraying", "--unit", "soc", "--actor", "ana", *where
    )
    case_id = case_id.strip()
    run("case", "note", case_id, "first look", "--actor", "ana", *where)
    assert "active" in run("case", "share", case_id, "cert", "--actor", "ana", *where)
    pending = run(
        "case", "handover", case_id, "ia", "--legal-basis", "IG Act", "--actor", "ana", *where
    )
    assert "pending" in pending
    access_id = pending.split()[1]
    refused = CliRunner().invoke(
        app, ["case", "decide", access_id, "--approve", "--actor", "ana", *where]
    )
    assert refused.exit_code == 2 and "oversight" in refused.output
    assert "Spraying" not in run("case", "list", "--actor", "ivy", *where)
    assert "Spraying" in run("case", "list", "--actor", "ben", *where)
    memo = data_dir / "memo.txt"
    memo.write_bytes(b"memo\n")
    attached = run("case", "attach", case_id, str(memo), "--actor", "ana", *where)
    assert hashlib.sha256(b"memo\n").hexdigest() in attached
    shown = json.loads(run("case", "show", case_id, "--actor", "ana", *where))
    assert [item["text"] for item in shown["items"]] == ["first look", "memo.txt"]
    assert [entry["action"] for entry in shown["history"]] == [
        "created",
        "added-note",
        "share",
        "handover",
        "added-attachment",
    ]


def test_an_unknown_case_is_one_red_line(data_dir: Path) -> None:
    result = CliRunner().invoke(
        app, ["case", "show", "C-99", "--actor", "ana", "--data-dir", str(data_dir)]
    )
    assert result.exit_code == 2 and "case 'C-99' not found" in result.output


def test_migration_0005_goes_down_to_0004_and_up_again(tmp_path: Path) -> None:
    with open_control(tmp_path) as control:
        config = alembic_config()
        with control.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0004")
        with control.engine.connect() as connection:
            tables = set(sa.inspect(connection).get_table_names())
        assert not CASE_TABLES & tables and "access_log" in tables
        migrate(control.engine, "head")
        with control.engine.connect() as connection:
            assert set(sa.inspect(connection).get_table_names()) >= CASE_TABLES
