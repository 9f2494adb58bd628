"""The detection step: a batch -> rule hits + correlation matches -> alerts, suppressed or stored.

`Detection` is what ingest registers on `Pipeline.on_commit` and what `custodes hunt --store`
runs over the lake. Per batch: the matcher's hits become alerts (except for rules a correlation
silences with `generate: false` and rules below the minimum alert level, by default the
`informational` ones), the hits of the rules correlations name feed the `Correlator` (whatever
their level),
and all resulting alerts are grouped, filtered by active suppressions and stored in the control
database in one transaction together with the correlation state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import yaml
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError

from custodes.detect.alerts import hits_to_alerts
from custodes.detect.correlate import Correlator, FieldSources, same_name
from custodes.detect.correlations import (
    Correlation,
    document_key,
    load_correlations,
    split_range,
)
from custodes.detect.levels import DEFAULT_ALERT_MIN_LEVEL, configured_min_level, raises_alert
from custodes.detect.matcher import Hit, Matcher
from custodes.detect.rules import rule_files
from custodes.errors import ConfigError, RuleError
from custodes.events import CORE_NAMES, EVENT_SCHEMA, FIELDS_COLUMN, Alert
from custodes.store.alerts import DEFAULT_GROUP_WINDOW_SECS, SaveResult, save_alerts_in
from custodes.store.control import Control

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The wall clock, in UTC (suppression expiry and `created_at` are wall-clock times)."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class BatchDetection:
    """What one batch raised: the alerts (before suppression) and what storing them did."""

    alerts: list[Alert]
    saved: SaveResult


@dataclass(slots=True)
class DetectionTotals:
    """Counters since the step started (for `custodes ingest` output and metrics)."""

    batches: int = 0
    events: int = 0
    hits: int = 0
    alerts: int = 0
    created: int = 0
    grouped: int = 0
    suppressed: int = 0
    duplicates: int = 0
    correlation_matches: int = 0

    def add(self, batch: pa.RecordBatch, hits: int, alerts: int, saved: SaveResult) -> None:
        """Count one processed batch."""
        self.batches += 1
        self.events += batch.num_rows
        self.hits += hits
        self.alerts += alerts
        self.created += saved.created
        self.grouped += saved.grouped
        self.suppressed += saved.suppressed
        self.duplicates += saved.duplicates


@dataclass
class Detection:
    """Matcher + correlations + suppressions -> stored alerts, one committed batch at a time.

    With `keep_state` (ingest) correlation state is loaded from and saved to the control
    database; without it (a retro-hunt) it lives only in memory, so a hunt never disturbs the
    live stream's windows.
    """

    control: Control
    matcher: Matcher | None
    correlations: Sequence[Correlation] = ()
    field_sources: FieldSources = same_name
    group_window_secs: float = DEFAULT_GROUP_WINDOW_SECS
    keep_state: bool = True
    #: Rules (and correlations) below this level raise no alert; their hits still correlate.
    alert_min_level: str = DEFAULT_ALERT_MIN_LEVEL
    clock: Clock = utc_now
    totals: DetectionTotals = field(default_factory=DetectionTotals)
    refused: list[RuleError] = field(default_factory=list)  # correlations that cannot run
    #: Told of each stored batch after its transaction committed (e.g. to notify new alerts).
    on_saved: list[Callable[[BatchDetection], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.correlator = self._fresh_correlator()
        self.silenced = self.correlator.silenced_rules

    def _fresh_correlator(self) -> Correlator:
        correlator = Correlator(self.correlations, field_sources=self.field_sources)
        if self.keep_state and self.correlations:
            with self.control.session() as session:
                correlator.load(session)
        return correlator

    def columns(self) -> list[str] | None:
        """The event columns matching, alerting and the correlations read (None: all of them)."""
        if self.matcher is None:
            return None
        wanted = set(self.matcher.columns()) | {"@timestamp", "event.id"}
        for correlation in self.correlations:
            fields = (*correlation.group_by, *filter(None, [correlation.value_field]))
            for key in correlation.inputs:
                for name in fields:
                    wanted.update(self.field_sources(key, correlation.field_for(name, key)))
        wanted = {name if name in CORE_NAMES else FIELDS_COLUMN for name in wanted}
        return [name for name in EVENT_SCHEMA.names if name in wanted]

    def __call__(self, batch: pa.RecordBatch) -> None:
        """The `Pipeline.on_commit` listener: detect and store, results counted in `totals`."""
        self.process(batch)

    def process(self, batch: pa.RecordBatch) -> BatchDetection:
        """Match one batch and store what it raises."""
        hits = self.matcher.match(batch) if self.matcher is not None else []
        return self.process_hits(batch, hits)

    def process_hits(self, batch: pa.RecordBatch, hits: Sequence[Hit]) -> BatchDetection:
        """Turn a batch's hits (and the correlations they complete) into stored alerts."""
        with self.lock:  # on_commit may be called from several submitting threads
            alerting = [h for h in hits if h.rule.id not in self.silenced]
            alerts = hits_to_alerts(batch, alerting, self.alert_min_level)
            try:
                matches = self.correlator.process(batch, hits) if self.correlations else []
                raised = [m.to_alert() for m in matches if m.correlation.id not in self.silenced]
                alerts += [a for a in raised if raises_alert(a.level, self.alert_min_level)]
                now = self.clock()
                with self.control.session() as session:
                    saved = save_alerts_in(
                        session, alerts, now=now, group_window_secs=self.group_window_secs
                    )
                    if self.keep_state:
                        self.correlator.save(session, now)
                    else:
                        self.correlator.settle()
            except BaseException:
                self.correlator = self._fresh_correlator()  # back to what the database holds
                raise
            self.totals.add(batch, len(hits), len(alerts), saved)
            self.totals.correlation_matches += len(matches)
            result = BatchDetection(alerts, saved)
            for listener in self.on_saved:
                listener(result)
            return result


def correlation_files(paths: Sequence[Path | str]) -> list[Path]:
    """The rule files that may hold correlation rules (a cheap text test, no YAML parsing)."""
    return [
        path for path in rule_files(Path(p) for p in paths) if b"correlation:" in path.read_bytes()
    ]


def known_rules(matcher: Matcher) -> dict[str, str]:
    """Rule name or id -> rule id, for every rule the matcher runs."""
    known: dict[str, str] = {}
    for rule in matcher.rules:
        known[rule.info.id] = rule.info.id
        if rule.info.name:
            known[rule.info.name] = rule.info.id
    return known


def load_correlation_rules(
    paths: Sequence[Path | str], matcher: Matcher
) -> tuple[list[Correlation], list[RuleError]]:
    """The correlation rules under `paths` that can run on `matcher`'s rules, and the errors.

    Each correlation document is read on its own (its rules may live in other files: they
    are resolved against the matcher's rules by id or name).
    """
    sigma: list[SigmaCorrelationRule] = []
    upper_bounds: dict[str, tuple[str, float]] = {}
    errors: list[RuleError] = []
    for path in correlation_files(paths):
        try:
            documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except (yaml.YAMLError, OSError, UnicodeDecodeError) as error:
            errors.append(RuleError(" ".join(str(error).split()), path=str(path)))
            continue
        for document in documents:
            if not isinstance(document, dict) or "correlation" not in document:
                continue
            document, bound = split_range(document)
            try:
                sigma.append(SigmaCorrelationRule.from_dict(document))
            except SigmaError as error:
                key = document_key(document) or None
                errors.append(RuleError(" ".join(str(error).split()), path=str(path), rule_id=key))
                continue
            if bound is not None:
                upper_bounds[document_key(document)] = bound
    correlations, refused = load_correlations(sigma, known_rules(matcher), upper_bounds)
    return correlations, errors + refused


def matcher_field_sources(matcher: Matcher) -> FieldSources:
    """Where each rule's Sigma fields are read from, by the matcher's field mapping."""
    mapping = matcher.mapping
    logsources = {
        rule.info.id: mapping.logsource_for(rule.product, rule.category, rule.service)
        for rule in matcher.rules
    }

    def sources(rule_id: str, name: str) -> tuple[str, ...]:
        logsource = logsources.get(rule_id)
        return logsource.sources(name, mapping.default_fields) if logsource else (name,)

    return sources


def open_detection(
    control: Control,
    rule_paths: Sequence[Path | str],
    *,
    keep_state: bool = True,
    group_window_secs: float = DEFAULT_GROUP_WINDOW_SECS,
    matcher: Matcher | None = None,
    alert_min_level: str | None = None,
) -> Detection:
    """The detection step for the rules under `rule_paths` (compiled rules come from the cache).

    Correlation rules that cannot run are listed in `detection.refused`. Rules below
    `alert_min_level` (default: the `alert_min_level` setting) raise no alert of their own.
    """
    from custodes.detect.cache import load_matcher

    matcher = matcher or load_matcher(rule_paths)
    correlations, refused = load_correlation_rules(rule_paths, matcher)
    return Detection(
        control,
        matcher,
        correlations,
        field_sources=matcher_field_sources(matcher),
        group_window_secs=group_window_secs,
        keep_state=keep_state,
        alert_min_level=configured_min_level(alert_min_level),
        refused=refused,
    )


def hunt_and_store(
    data_dir: Path,
    rule_paths: Sequence[Path | str],
    *,
    matcher: Matcher | None = None,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    min_level: str | None = None,
) -> tuple[list[Alert], DetectionTotals]:
    """A retro-hunt over the lake whose alerts (correlations included) are stored, grouped and
    filtered by suppressions; replaying it stores nothing twice, and live state is untouched.
    Rules below `min_level` (default: the `alert_min_level` setting) raise no alert.

    Only the columns the rules and correlations read are read, in large batches read ahead in
    a thread (as `custodes.detect.hunt.hunt` does)."""
    from custodes.detect.hunt import gather, prefetch
    from custodes.store import iter_batches
    from custodes.store.control import open_control

    alerts: list[Alert] = []
    with open_control(data_dir) as control:
        detection = open_detection(
            control, rule_paths, keep_state=False, matcher=matcher, alert_min_level=min_level
        )
        columns = detection.columns()
        batches = iter_batches(data_dir, since=since, until=until, columns=columns)
        for batch in prefetch(gather(batches)):
            alerts.extend(detection.process(batch).alerts)
    return alerts, detection.totals


def rule_paths_from_config(entries: Sequence[object], *, base: Path | None = None) -> list[Path]:
    """The rule folders and files of custodes.yaml's `rules:` list.

    Each entry is `{type: directory, path: rules/sigma}` (or `type: file`); a relative path is
    taken from `base` (the folder of custodes.yaml). Anything else is a ConfigError.
    """
    paths: list[Path] = []
    for position, entry in enumerate(entries):
        key = f"rules.{position}"
        if not isinstance(entry, dict) or entry.get("type") not in ("directory", "file"):
            raise ConfigError(f"{key}: expected {{type: directory|file, path: ...}}", key=key)
        if not isinstance(entry.get("path"), str) or not entry["path"]:
            raise ConfigError(f"{key}.path: a rule folder or file is required", key=key)
        path = Path(entry["path"]).expanduser()
        if base is not None and not path.is_absolute():
            path = base / path
        if not path.exists():
            raise ConfigError(f"{key}.path: no such file or folder: {path}", key=key)
        paths.append(path)
    return paths
