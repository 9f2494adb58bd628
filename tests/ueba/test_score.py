"""A planted anomaly ranks first on its day, explained by the right features; scores and alerts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest

from custodes.store import list_alerts, open_control
from custodes.ueba import compute_features, explain_row, read_scores, run, score_table, top
from tests.ueba.office import at, logon, office, privilege, write_lake

#: Day 11 of the office is a Friday; user07 logs on to six servers at 02:00 with privileges.
PLANTED_DAY = "2026-03-13"


def planted_office(data_dir: Path) -> None:
    """The office, plus one night of unusual logons by user07."""
    rows = office(data_dir, people=30, days=12)
    for number in range(6):
        when = at(11, 2 + number / 10)
        rows.append(logon(when, "user07", f"SRV-{number:02d}", "10.0.0.17"))
        rows.append(privilege(when, "user07", f"SRV-{number:02d}"))
    write_lake(data_dir, rows)


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("ueba") / "data"
    planted_office(data_dir)
    return data_dir


@pytest.mark.parametrize("method", ["ensemble", "robust"])
def test_planted_anomaly_ranks_first_with_the_right_explanation(planted: Path, method: str) -> None:
    scores = score_table(compute_features(planted), method=method)
    table = scores.table
    on_day = np.flatnonzero(table.day == np.datetime64(PLANTED_DAY))
    best = on_day[np.argmax(scores.score[on_day])]
    reasons = explain_row(scores, int(best))

    assert table.entity[best] == "user07"
    assert scores.rank_on_day()[best] == 1
    named = {reason.feature for reason in reasons}
    assert named & {"distinct_hosts", "off_hours_logons", "privileged_actions", "first_seen_hosts"}
    assert any("usual" in reason.text or "first" in reason.text for reason in reasons)


def test_ordinary_days_score_low(planted: Path) -> None:
    scores = score_table(compute_features(planted))
    ordinary = scores.table.entity != "user07"
    assert scores.score[ordinary].max() < scores.score[scores.table.entity == "user07"].max() / 2


def test_run_stores_scores_ranks_and_raises_alerts(planted: Path) -> None:
    now = datetime(2026, 3, 14, tzinfo=UTC)
    summary = run(planted, threshold=8.0, now=now)

    assert summary.rows == len(read_scores(planted))
    ranking = top(planted, date.fromisoformat(PLANTED_DAY), limit=3)
    assert ranking[0]["entity"] == "user07" and ranking[0]["rank"] == 1
    assert ranking[0]["reasons"] and ranking[0]["explanation"]
    with open_control(planted) as control:
        alerts = [alert for alert in list_alerts(control) if alert.kind == "ueba"]
    people = [alert.user_name for alert in alerts if alert.user_name]
    hosts = {alert.host_name for alert in alerts if alert.host_name}
    assert people == ["user07"]
    assert hosts <= {f"srv-{number:02d}" for number in range(6)}  # the servers of that night
    assert summary.alerts == len(alerts)
    ranked_hosts = top(planted, date.fromisoformat(PLANTED_DAY), limit=3, kind="host")
    assert str(ranked_hosts[0]["entity"]).startswith("host:srv-")


def test_daily_run_replaces_only_its_day(planted: Path) -> None:
    run(planted, raise_alerts=False)
    before = read_scores(planted).num_rows
    day = date.fromisoformat(PLANTED_DAY)
    summary = run(planted, first=day, last=day, raise_alerts=False)
    assert summary.days == 1
    assert read_scores(planted).num_rows == before
