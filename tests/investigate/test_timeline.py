"""The demo's planted lateral movement, reconstructed from one of its alerts."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from custodes.cli.main import app
from custodes.demo import load_truth
from custodes.demo.check import planted_event_ids
from custodes.demo.truth import SIGMA_COMSVCS_DUMP, SIGMA_UNCOMMON_SERVICE
from custodes.errors import QueryError
from custodes.investigate import Seed, Timeline, build_timeline, parse_window
from custodes.oversight import Door, list_entries
from custodes.store import list_alerts, open_control
from custodes.store.users import Role, User

ANALYST = User(name="ana", role=Role.ANALYST, kind="cli")
#: The planted chain, as the activities of the steps that hold its events.
CHAIN = [
    "failed-logons",
    "logon",
    "explicit-credentials",
    "logon",
    "service",
    "process",
    "credential-access",
]


def service_alert_id(data_dir: Path) -> int:
    with open_control(data_dir) as control:
        alerts = list_alerts(control, limit=100)
    return next(alert.id for alert in alerts if alert.rule_id == SIGMA_UNCOMMON_SERVICE)


@pytest.fixture(scope="module")
def timeline(demo_data: Path) -> Timeline:
    with open_control(demo_data) as control:
        seed = Seed("alert", str(service_alert_id(demo_data)))
        return build_timeline(demo_data, control, Door(demo_data, control), ANALYST, seed, "24h")


@pytest.fixture(scope="module")
def planted(demo_data: Path, demo_folder: Path) -> set[str]:
    truth = load_truth(demo_folder / "ground_truth.json")
    return planted_event_ids(demo_data, truth["scenarios"])["password-spray-lateral-movement"]


def test_timeline_of_the_service_alert_holds_every_planted_event(
    timeline: Timeline, planted: set[str]
) -> None:
    assert planted, "the scenario's events are in the lake"
    assert planted <= set(timeline.events.column("event.id").to_pylist())


def test_the_planted_chain_comes_back_in_order_as_steps(
    timeline: Timeline, planted: set[str], demo_folder: Path
) -> None:
    chain = [step for step in timeline.steps if planted & set(step.event_ids)]
    assert [step.activity for step in chain] == CHAIN
    assert all(a.started_at <= b.started_at for a, b in zip(chain, chain[1:], strict=False))
    truth = load_truth(demo_folder / "ground_truth.json")
    scenario = next(s for s in truth["scenarios"] if s["id"] == "password-spray-lateral-movement")
    sprayed = sum(1 for event in scenario["events"] if event["event_id"] == 4625)
    assert set(chain[0].event_ids) <= planted and len(chain[0].event_ids) == 2 * sprayed
    assert chain[0].label.startswith(f"{2 * sprayed} failed logons on DC01 from 10.")
    assert chain[4].label.endswith("created on APP01 (lateral movement)")
    assert "credential dumping" in chain[6].label
    assert {rule["rule_id"] for rule in chain[4].rules} == {SIGMA_UNCOMMON_SERVICE}
    assert SIGMA_COMSVCS_DUMP in {rule["rule_id"] for rule in chain[5].rules}
    notable = [step for step in timeline.steps if step.is_notable]
    assert {0, 2, 4, 5, 6} <= {chain.index(step) for step in notable if step in chain}
    assert len(notable) < len(timeline.steps) / 4


def test_events_come_in_time_order_and_people_are_pseudonymised(
    timeline: Timeline, demo_folder: Path
) -> None:
    stamps = timeline.events.column("@timestamp").to_pylist()
    assert stamps == sorted(stamps)
    truth = load_truth(demo_folder / "ground_truth.json")
    scenario = next(s for s in truth["scenarios"] if s["id"] == "password-spray-lateral-movement")
    names = {str(name).lower() for name in timeline.events.column("user.name").to_pylist()}
    for account in scenario["who"]["accounts"]:
        assert account.lower() not in names
    assert any(name.startswith("usr-") for name in names)


def test_the_timeline_read_is_in_the_access_ledger(demo_data: Path, timeline: Timeline) -> None:
    with open_control(demo_data) as control:
        entries = list_entries(control, action="timeline")
    assert timeline.access_entry in {entry.seq for entry in entries}


def test_a_host_seed_gathers_that_hosts_events(demo_data: Path, timeline: Timeline) -> None:
    lateral = next(step for step in timeline.steps if "lateral movement" in step.label)
    with open_control(demo_data) as control:
        around_host = build_timeline(
            demo_data,
            control,
            Door(demo_data, control),
            ANALYST,
            Seed("host", "APP01.agency.example"),
            "1h",
            until=lateral.ended_at + timedelta(minutes=1),
        )
    hosts = set(around_host.events.column("host.name").to_pylist())
    assert "APP01.agency.example" in hosts
    assert set(lateral.event_ids) <= set(around_host.events.column("event.id").to_pylist())
    assert around_host.until - around_host.since == parse_window("1h")


def test_a_window_must_be_readable() -> None:
    with pytest.raises(QueryError):
        parse_window("a day")
    with pytest.raises(QueryError):
        Seed("mailbox", "x")


def test_cli_timeline_prints_the_steps_as_json(demo_data: Path) -> None:
    runner = CliRunner()
    alert = service_alert_id(demo_data)
    result = runner.invoke(
        app,
        ["timeline", "--alert", str(alert), "--data-dir", str(demo_data), "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    steps = json.loads(result.stdout)["steps"]
    assert any(step["label"].endswith("(lateral movement)") for step in steps)
    short = runner.invoke(
        app, ["timeline", "--alert", str(alert), "--data-dir", str(demo_data), "--notable"]
    )
    assert short.exit_code == 0 and "lateral movement" in short.stdout
    assert short.stdout.count("\n") < result.stdout.count('"number"')


def test_cli_timeline_needs_exactly_one_seed(demo_data: Path) -> None:
    result = CliRunner().invoke(app, ["timeline", "--data-dir", str(demo_data)])
    assert result.exit_code == 2
    assert "exactly one of" in result.output


def test_a_pseudonym_seeds_the_timeline_of_the_account_behind_it(
    demo_data: Path, demo_folder: Path, timeline: Timeline, planted: set[str]
) -> None:
    truth = load_truth(demo_folder / "ground_truth.json")
    scenario = next(s for s in truth["scenarios"] if s["id"] == "password-spray-lateral-movement")
    victim = scenario["who"]["accounts"][0]
    lateral = next(step for step in timeline.steps if "lateral movement" in step.label)
    with open_control(demo_data) as control:
        door = Door(demo_data, control)
        pseudonym = door.state()[1].pseudonym(victim)
        by_user = build_timeline(
            demo_data,
            control,
            door,
            ANALYST,
            Seed("user", pseudonym),
            "2h",
            until=lateral.ended_at + timedelta(minutes=5),
        )
    found = set(by_user.events.column("event.id").to_pylist())
    assert planted & found and set(lateral.event_ids) & found
    assert victim.lower() not in {
        str(n).lower() for n in by_user.events.column("user.name").to_pylist()
    }


@pytest.mark.parametrize("kind", ["event", "ip", "process"])
def test_event_ip_and_process_seeds_reach_the_lateral_movement(
    demo_data: Path, timeline: Timeline, kind: str
) -> None:
    lateral = next(step for step in timeline.steps if "lateral movement" in step.label)
    dump = next(step for step in timeline.steps if step.activity == "credential-access")
    events = {row["event.id"]: row for row in timeline.events.to_pylist()}
    spray = next(step for step in timeline.steps if step.activity == "failed-logons")
    address = str(events[spray.event_ids[1]]["source.ip"])
    values = {
        "event": lateral.event_ids[0],
        "ip": address,
        "process": dict(events[dump.event_ids[0]]["fields"])["SourceProcessGUID"],
    }
    from_address = [i for i in spray.event_ids if events[i]["source.ip"] == address]
    expected = {"event": lateral.event_ids, "ip": from_address, "process": dump.event_ids}[kind]
    with open_control(demo_data) as control:
        found = build_timeline(
            demo_data,
            control,
            Door(demo_data, control),
            ANALYST,
            Seed(kind, values[kind]),
            "2h",
            until=dump.ended_at + timedelta(minutes=5),
        )
    assert expected and set(expected) <= set(found.events.column("event.id").to_pylist())
