"""Sigma correlations across batches and restarts, from hits of the rules they name."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.rule import SigmaDetectionItem, SigmaRule

from custodes.detect.correlate import CorrelationMatch, Correlator
from custodes.detect.correlations import Correlation, load_correlations, rule_key
from custodes.store.control import Control, CorrelationStateRow, open_control
from tests.detect.correlation_helpers import (
    BRUTE_FORCE_ID,
    BRUTE_FORCE_RULES,
    FAILED_ID,
    SUCCESS_ID,
    T0,
    brute_force,
    events_batch,
    logon,
)


@dataclass(frozen=True)
class RuleRef:
    id: str


@dataclass(frozen=True)
class Hit:
    rule: RuleRef
    rows: pa.Array


def correlations_of(text: str) -> tuple[list[Correlation], dict[str, str]]:
    """Correlations of a YAML rule set, and rule id -> the EventID its base rule selects."""
    collection = SigmaCollection.from_yaml(text)
    collection.resolve_rule_references()
    sigma = [rule for rule in collection.rules if isinstance(rule, SigmaCorrelationRule)]
    correlations, errors = load_correlations(sigma)
    assert errors == []
    codes = {}
    for rule in collection.rules:
        if isinstance(rule, SigmaRule):
            item = rule.detection.detections["selection"].detection_items[0]
            assert isinstance(item, SigmaDetectionItem)
            codes[rule_key(rule)] = str(item.value[0])
    return correlations, codes


def hits_of(batch: pa.RecordBatch, codes: dict[str, str]) -> list[Hit]:
    """What a matcher would return for rules that each select one EventID."""
    hits = []
    for rule_id, code in codes.items():
        rows = pc.indices_nonzero(pc.equal(batch.column("event.code"), code))
        if len(rows):
            hits.append(Hit(RuleRef(rule_id), rows))
    return hits


@pytest.fixture
def control(data_dir: Path) -> Iterator[Control]:
    with open_control(data_dir) as opened:
        yield opened


def run(
    correlator: Correlator,
    control: Control,
    batches: Sequence[pa.RecordBatch],
    codes: dict[str, str],
) -> list[CorrelationMatch]:
    """Feed batches as the detection step does: load nothing, save after each batch."""
    found = []
    for batch in batches:
        found.extend(correlator.process(batch, hits_of(batch, codes)))
        with control.session() as session:
            correlator.save(session, T0)
    return found


def split(rows: list[dict[str, object]], size: int) -> list[pa.RecordBatch]:
    return [events_batch(rows[i : i + size], origin=f"part{i}") for i in range(0, len(rows), size)]


def final(matches: list[CorrelationMatch]) -> list[CorrelationMatch]:
    return [match for match in matches if match.correlation.id == BRUTE_FORCE_ID]


def test_brute_force_raises_one_alert_across_batch_boundaries(control: Control) -> None:
    correlations, codes = correlations_of(BRUTE_FORCE_RULES)
    rows = brute_force("10.0.0.5")
    rows += brute_force("10.0.0.6", failures=19)  # one short: no alert
    rows += [logon(4625, "10.0.0.7", T0 + timedelta(seconds=i), n=i) for i in range(30)]
    rows.sort(key=lambda row: str(row["@timestamp"]))
    matches = run(Correlator(correlations), control, split(rows, 7), codes)

    [match] = final(matches)
    assert match.group == {"IpAddress": "10.0.0.5"}
    alert = match.to_alert()
    assert alert.rule_id == BRUTE_FORCE_ID
    assert (alert.kind, alert.level, alert.author) == ("correlation", "high", "Custodes tests")
    assert alert.host_name == "dc01"
    assert len(alert.event_ids) == 21  # the 20 failures that made the burst, then the success
    assert alert.first_seen_at == T0
    assert alert.last_seen_at == T0 + timedelta(seconds=6 * 25 + 1)


def test_brute_force_survives_a_restart(control: Control) -> None:
    correlations, codes = correlations_of(BRUTE_FORCE_RULES)
    batches = split(brute_force("10.0.0.5"), 4)
    before = run(Correlator(correlations), control, batches[:4], codes)
    assert final(before) == []
    with control.session() as session:
        assert session.get(CorrelationStateRow, ("many_failed_logons", '["10.0.0.5"]'))

    restarted = Correlator(correlations)  # a new process: state comes from the database
    with control.session() as session:
        restarted.load(session)
    after = run(restarted, control, batches[4:], codes)
    assert len(final(after)) == 1
    assert len(final(after)[0].event_ids) == 21

    forgetful = Correlator(correlations)  # without the saved state the burst is incomplete
    assert final(run(forgetful, control, batches[4:], codes)) == []


def test_success_before_failures_or_too_slow_raises_nothing(control: Control) -> None:
    correlations, codes = correlations_of(BRUTE_FORCE_RULES)
    success_first = [logon(4624, "10.0.0.8", T0 - timedelta(seconds=1))]
    success_first += [logon(4625, "10.0.0.8", T0 + timedelta(seconds=i), n=i) for i in range(25)]
    slow = brute_force("10.0.0.9", gap=timedelta(seconds=20))  # 20 failures need 6m20s
    matches = run(Correlator(correlations), control, split(success_first + slow, 10), codes)
    assert final(matches) == []


def test_replayed_batch_does_not_count_twice(control: Control) -> None:
    correlations, codes = correlations_of(BRUTE_FORCE_RULES)
    failures = [logon(4625, "10.0.0.5", T0 + timedelta(seconds=i), n=i) for i in range(12)]
    batch = events_batch(failures)
    matches = run(Correlator(correlations), control, [batch, batch], codes)
    assert matches == []


VALUE_COUNT = """
title: Failed logon
name: failed_logon
logsource: {product: windows, service: security}
detection: {selection: {EventID: 4625}, condition: selection}
---
title: Password spraying
name: spraying
level: medium
correlation:
  type: value_count
  rules: failed_logon
  group-by: IpAddress
  timespan: 10m
  condition: {gte: 3, field: TargetUserName}
"""


def test_value_count_counts_distinct_values(control: Control) -> None:
    correlations, codes = correlations_of(VALUE_COUNT)
    same_user = [logon(4625, "10.0.0.1", T0 + timedelta(seconds=i), n=i) for i in range(10)]
    users = [logon(4625, "10.0.0.2", T0, user=f"u{i}", n=100 + i) for i in range(3)]
    matches = run(Correlator(correlations), control, split(same_user + users, 4), codes)
    assert [(m.group, m.value) for m in matches] == [({"IpAddress": "10.0.0.2"}, 3.0)]


TEMPORAL = """
title: Failed logon
name: failed_logon
logsource: {product: windows, service: security}
detection: {selection: {EventID: 4625}, condition: selection}
---
title: Explicit credentials
name: explicit_credentials
logsource: {product: windows, service: security}
detection: {selection: {EventID: 4648}, condition: selection}
---
title: Both within a minute
name: both
correlation:
  type: temporal
  rules: [explicit_credentials, failed_logon]
  group-by: [IpAddress]
  timespan: 1m
"""


def test_temporal_needs_every_rule_in_any_order(control: Control) -> None:
    correlations, codes = correlations_of(TEMPORAL)
    rows = [
        logon(4625, "10.0.0.1", T0),
        logon(4648, "10.0.0.1", T0 + timedelta(seconds=30)),
        logon(4625, "10.0.0.2", T0),
        logon(4648, "10.0.0.2", T0 + timedelta(minutes=2)),
    ]
    matches = run(Correlator(correlations), control, split(rows, 1), codes)
    assert [m.group for m in matches] == [{"IpAddress": "10.0.0.1"}]


FEW_EVENTS = """
title: Failed logon
name: failed_logon
logsource: {product: windows, service: security}
detection: {selection: {EventID: 4625}, condition: selection}
---
title: Exactly two failures in a minute
name: exactly_two
correlation:
  type: event_count
  rules: failed_logon
  group-by: [IpAddress]
  timespan: 1m
  condition: {eq: 2}
"""


def test_upper_bounded_condition_waits_for_the_window_to_close(control: Control) -> None:
    correlations, codes = correlations_of(FEW_EVENTS)
    correlator = Correlator(correlations)
    rows = [logon(4625, "10.0.0.1", T0), logon(4625, "10.0.0.1", T0 + timedelta(seconds=10))]
    rows += [logon(4625, "10.0.0.2", T0 + timedelta(seconds=i), n=i) for i in range(3)]
    assert run(correlator, control, [events_batch(rows)], codes) == []
    later = [logon(4624, "10.9.9.9", T0 + timedelta(minutes=5))]  # time moves on
    matches = run(correlator, control, [events_batch(later, origin="later")], codes)
    assert [(m.group, m.value) for m in matches] == [({"IpAddress": "10.0.0.1"}, 2.0)]


EXTENDED = """
title: Failed logon
name: failed_logon
logsource: {product: windows, service: security}
detection: {selection: {EventID: 4625}, condition: selection}
---
title: Successful logon
name: successful_logon
logsource: {product: windows, service: security}
detection: {selection: {EventID: 4624}, condition: selection}
---
title: Failure never followed by success
name: failure_only
correlation:
  type: temporal
  group-by: [IpAddress]
  timespan: 1m
  condition: failed_logon and not successful_logon
"""


def test_extended_condition_with_not(control: Control) -> None:
    correlations, codes = correlations_of(EXTENDED)
    [correlation] = correlations
    assert not correlation.is_monotone
    rows = [
        logon(4625, "10.0.0.1", T0),
        logon(4625, "10.0.0.2", T0),
        logon(4624, "10.0.0.2", T0 + timedelta(seconds=5)),
        logon(4624, "10.9.9.9", T0 + timedelta(minutes=10)),
    ]
    matches = run(Correlator(correlations), control, split(rows, 2), codes)
    assert [m.group for m in matches] == [{"IpAddress": "10.0.0.1"}]


def test_generate_false_silences_the_rules_a_correlation_names() -> None:
    correlations, _ = correlations_of(BRUTE_FORCE_RULES)
    correlator = Correlator(correlations)
    assert correlator.silenced_rules == {FAILED_ID, SUCCESS_ID, "many_failed_logons"}
    assert correlator.referenced_rules == {FAILED_ID, SUCCESS_ID}
    assert [c.id for c in correlations] == ["many_failed_logons", BRUTE_FORCE_ID]


BOTH_ON_ONE_EVENT = """
title: Failed logon
name: failed_logon
logsource: {product: windows, service: security}
detection: {selection: {EventID: 4625}, condition: selection}
---
title: Failed logon again
name: failed_logon_too
logsource: {product: windows, service: security}
detection: {selection: {EventID: 4625}, condition: selection}
---
title: Both rules
name: both_rules
correlation:
  type: temporal
  rules: [failed_logon, failed_logon_too]
  group-by: [IpAddress]
  timespan: 1m
"""


def test_one_event_may_feed_two_inputs_of_a_correlation(control: Control) -> None:
    correlations, codes = correlations_of(BOTH_ON_ONE_EVENT)
    assert set(codes.values()) == {"4625"}
    correlator = Correlator(correlations)
    batch = events_batch([logon(4625, "10.0.0.1", T0)])
    [match] = run(correlator, control, [batch], codes)
    assert len(match.event_ids) == 1

    later = events_batch([logon(4625, "10.0.0.2", T0)], origin="later")
    only_first = {"failed_logon": "4625"}  # the second rule arrives after a restart
    assert run(correlator, control, [later], only_first) == []
    [match] = run(correlator, control, [later], codes)  # same event, now for both inputs
    assert match.group == {"IpAddress": "10.0.0.2"}
