"""Alert storage: grouping, replay safety, listing, acknowledging and suppressions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from custodes.errors import NotFound, QueryError
from custodes.events import Alert
from custodes.store.alerts import get_alert, list_alerts, save_alerts, set_alert_status
from custodes.store.control import Control, open_control
from custodes.store.suppressions import (
    SuppressionError,
    add_suppression,
    list_suppressions,
    parse_expiry,
    revoke_suppression,
    suppress_alert,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def alert(
    *event_ids: str,
    at: datetime = T0,
    rule_id: str = "rule-1",
    host: str | None = "ws01",
    user: str | None = "alice",
    level: str = "high",
) -> Alert:
    return Alert(
        rule_id=rule_id,
        title=f"Title of {rule_id}",
        level=level,
        event_ids=event_ids,
        first_seen_at=at,
        last_seen_at=at + timedelta(seconds=len(event_ids)),
        author="Florian Roth",
        tags=("attack.t1059",),
        host_name=host,
        user_name=user,
        count=len(event_ids),
    )


@pytest.fixture
def control(data_dir: Path) -> Iterator[Control]:
    with open_control(data_dir) as opened:
        yield opened


def test_repeated_matches_on_same_host_and_user_group_into_one_alert(control: Control) -> None:
    save_alerts(control, [alert("e1", "e2")], now=T0)
    result = save_alerts(control, [alert("e3", at=T0 + timedelta(hours=3))], now=T0)
    assert (result.created, result.grouped, result.created_ids) == (0, 1, [])
    [stored] = list_alerts(control)
    assert stored.count == 3
    assert (stored.first_seen_at, stored.last_seen_at) == (T0, T0 + timedelta(hours=3, seconds=1))
    assert get_alert(control, stored.id).event_ids == ("e1", "e2", "e3")
    assert stored.author == "Florian Roth"
    assert stored.tags == ("attack.t1059",)


def test_other_host_user_or_rule_makes_a_separate_alert(control: Control) -> None:
    result = save_alerts(
        control,
        [alert("e1"), alert("e2", host="ws02"), alert("e3", user="bob"), alert("e4", rule_id="r2")],
        now=T0,
    )
    assert sorted(result.created_ids) == sorted(item.id for item in list_alerts(control))
    assert len(result.created_ids) == 4


def test_match_outside_the_group_window_opens_a_new_alert(control: Control) -> None:
    save_alerts(control, [alert("e1")], now=T0, group_window_secs=3600)
    save_alerts(control, [alert("e2", at=T0 + timedelta(hours=2))], now=T0, group_window_secs=3600)
    assert sorted(item.count for item in list_alerts(control)) == [1, 1]


def test_closed_alert_is_not_reopened_by_a_new_match(control: Control) -> None:
    [first_id] = save_alerts(control, [alert("e1")], now=T0).alert_ids
    set_alert_status(control, first_id, "closed", now=T0)
    result = save_alerts(control, [alert("e2")], now=T0)
    assert result.created == 1
    assert get_alert(control, first_id).count == 1


def test_replaying_the_same_events_changes_nothing(control: Control) -> None:
    save_alerts(control, [alert("e1", "e2")], now=T0)
    result = save_alerts(control, [alert("e1", "e2"), alert("e2", "e5")], now=T0)
    assert result.duplicates == 1
    [stored] = list_alerts(control)
    assert stored.count == 3


def test_list_filters_by_level_status_rule_and_since(control: Control) -> None:
    save_alerts(
        control,
        [
            alert("e1", level="low"),
            alert("e2", rule_id="r2", level="critical"),
            alert("e3", rule_id="r3", level="medium", at=T0 - timedelta(days=3)),
        ],
        now=T0,
    )
    assert {item.rule_id for item in list_alerts(control, min_level="medium")} == {"r2", "r3"}
    assert [item.rule_id for item in list_alerts(control, rule_id="r2")] == ["r2"]
    assert {item.rule_id for item in list_alerts(control, since=T0 - timedelta(days=1))} == {
        "rule-1",
        "r2",
    }
    [low] = list_alerts(control, rule_id="rule-1")
    assert (low.status_by, low.status_changed_at) == (None, None)
    set_alert_status(control, low.id, "acknowledged", now=T0, actor="ann")
    assert [item.id for item in list_alerts(control, status="acknowledged")] == [low.id]
    acknowledged = get_alert(control, low.id)
    assert (acknowledged.status_by, acknowledged.status_changed_at) == ("ann", T0)
    assert acknowledged.to_dict()["status_by"] == "ann"
    assert len(list_alerts(control, status="open")) == 2
    with pytest.raises(QueryError):
        list_alerts(control, min_level="severe")


def test_unknown_alert_is_not_found(control: Control) -> None:
    with pytest.raises(NotFound):
        get_alert(control, 42)
    with pytest.raises(NotFound):
        set_alert_status(control, 42, "acknowledged", now=T0)


@pytest.mark.parametrize(
    ("justification", "owner", "expires_in", "message"),
    [
        ("", "bob", timedelta(days=1), "justification"),
        ("known scanner", " ", timedelta(days=1), "owner"),
        ("known scanner", "bob", timedelta(seconds=-1), "not in the future"),
    ],
)
def test_suppression_requires_justification_owner_and_future_expiry(
    control: Control, justification: str, owner: str, expires_in: timedelta, message: str
) -> None:
    with pytest.raises(SuppressionError, match=message):
        add_suppression(
            control,
            rule_id="rule-1",
            justification=justification,
            owner=owner,
            expires_at=T0 + expires_in,
            now=T0,
        )
    assert list_suppressions(control, now=T0, include_inactive=True) == []


def test_suppression_must_name_a_rule_or_a_field(control: Control) -> None:
    with pytest.raises(SuppressionError, match="not everything"):
        add_suppression(
            control, justification="x", owner="bob", expires_at=T0 + timedelta(days=1), now=T0
        )
    with pytest.raises(SuppressionError, match="cannot suppress on"):
        add_suppression(
            control,
            justification="x",
            owner="bob",
            expires_at=T0 + timedelta(days=1),
            now=T0,
            conditions={"message": "x"},
        )


def test_suppressed_alerts_are_counted_not_stored(control: Control) -> None:
    suppression = add_suppression(
        control,
        rule_id="rule-1",
        conditions={"host_name": "WS01"},
        justification="backup agent runs this nightly",
        owner="bob",
        expires_at=T0 + timedelta(days=30),
        now=T0,
    )
    result = save_alerts(
        control, [alert("e1", "e2"), alert("e3", host="ws02"), alert("e4", rule_id="r2")], now=T0
    )
    assert result.suppressed == 1
    assert {(item.rule_id, item.host_name) for item in list_alerts(control)} == {
        ("rule-1", "ws02"),
        ("r2", "ws01"),
    }
    [stored] = list_suppressions(control, now=T0)
    assert stored.id == suppression.id
    assert stored.suppressed_count == 2
    assert stored.last_suppressed_at == T0


def test_expired_or_revoked_suppression_stops_applying(control: Control) -> None:
    expiring = add_suppression(
        control,
        rule_id="rule-1",
        justification="maintenance window",
        owner="bob",
        expires_at=T0 + timedelta(hours=1),
        now=T0,
    )
    assert save_alerts(control, [alert("e1")], now=T0 + timedelta(minutes=59)).suppressed == 1
    later = T0 + timedelta(hours=1, seconds=1)
    assert list_suppressions(control, now=later) == []
    assert save_alerts(control, [alert("e2")], now=later).created == 1

    revoked = add_suppression(
        control, rule_id="r2", justification="noise", owner="eve", expires_at=later, now=T0
    )
    revoke_suppression(control, revoked.id, now=T0)
    assert save_alerts(control, [alert("e3", rule_id="r2")], now=T0).created == 1
    kept = {item.id: item for item in list_suppressions(control, now=later, include_inactive=True)}
    assert kept[expiring.id].suppressed_count == 1
    assert kept[revoked.id].revoked_at == T0


def test_suppress_alert_covers_its_rule_host_and_user(control: Control) -> None:
    [alert_id] = save_alerts(control, [alert("e1")], now=T0).alert_ids
    suppression = suppress_alert(
        control,
        alert_id,
        justification="admin testing",
        owner="bob",
        expires_at=T0 + timedelta(days=7),
        now=T0,
    )
    assert suppression.rule_id == "rule-1"
    assert suppression.conditions == {"host_name": ["ws01"], "user_name": ["alice"]}
    result = save_alerts(control, [alert("e2"), alert("e3", user="mallory")], now=T0)
    assert (result.suppressed, result.grouped, result.created) == (1, 0, 1)


def test_parse_expiry_accepts_durations_dates_and_times() -> None:
    assert parse_expiry("30d", now=T0) == T0 + timedelta(days=30)
    assert parse_expiry("12h", now=T0) == T0 + timedelta(hours=12)
    assert parse_expiry("2026-12-31", now=T0) == datetime(2027, 1, 1, tzinfo=UTC)
    assert parse_expiry("2026-04-01T08:00:00+02:00", now=T0) == datetime(2026, 4, 1, 6, tzinfo=UTC)
    with pytest.raises(SuppressionError, match="neither a duration"):
        parse_expiry("soon", now=T0)
