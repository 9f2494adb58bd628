"""A timeline whose lake scan runs on Spark has the steps of the embedded timeline."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from custodes.cli.main import app
from custodes.errors import QueryError
from custodes.investigate import Seed, Timeline, build_timeline
from custodes.oversight import Door
from custodes.scale.timeline import spark_timeline
from custodes.store import connect, open_control
from custodes.store.users import Role, User

ANALYST = User(name="ana", role=Role.ANALYST, kind="cli")


def busiest(data_dir: Path, column: str) -> tuple[str, Any]:
    """The value of `column` with the most events, and its latest time."""
    connection = connect(data_dir)
    try:
        rows = connection.sql(
            f'SELECT "{column}", max("@timestamp") FROM events WHERE "{column}" IS NOT NULL'
            f" GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        ).fetchall()
    finally:
        connection.close()
    assert rows
    return str(rows[0][0]), rows[0][1]


def steps(timeline: Timeline) -> list[dict[str, Any]]:
    """The steps as plain data."""
    return [step.to_dict(number) for number, step in enumerate(timeline.steps, start=1)]


@pytest.mark.parametrize(("kind", "column"), [("host", "host.name"), ("ip", "source.ip")])
def test_spark_timeline_has_the_embedded_steps(
    spark: Any, attack_lake: Path, kind: str, column: str
) -> None:
    value, latest = busiest(attack_lake, column)
    until = latest + timedelta(microseconds=1)
    since = until - timedelta(days=7)
    seed = Seed(kind, value)
    with open_control(attack_lake) as control:
        door = Door(attack_lake, control)
        embedded = build_timeline(
            attack_lake, control, door, ANALYST, seed, until - since, until=until
        )
        on_spark = spark_timeline(spark, attack_lake, control, door, ANALYST, seed, since, until)
    assert len(embedded.steps) > (1 if kind == "host" else 0)
    assert steps(on_spark) == steps(embedded)
    assert on_spark.events.column("event.id").to_pylist() == (
        embedded.events.column("event.id").to_pylist()
    )


def test_spark_timeline_refuses_other_seeds(spark: Any, attack_lake: Path) -> None:
    with open_control(attack_lake) as control, pytest.raises(QueryError, match="starts from"):
        spark_timeline(
            spark, attack_lake, control, Door(attack_lake, control), ANALYST,
            Seed("event", "x"), "2019-01-01", "2019-01-02",
        )  # fmt: skip


def test_cli_scale_timeline_prints_json_steps(spark: Any, attack_lake: Path) -> None:
    host, latest = busiest(attack_lake, "host.name")
    until = latest + timedelta(microseconds=1)
    args = ["scale", "timeline", "--data-dir", str(attack_lake), "--host", host]
    args += ["--since", (until - timedelta(days=1)).isoformat(), "--until", until.isoformat()]
    result = CliRunner().invoke(app, [*args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["steps"] and all(step["host"] for step in printed["steps"])
    assert spark.range(2).count() == 2  # the CLI left the session it found running
