"""SigmaHQ-style regression folders (info.yml + .evtx): does the named rule fire on its log?"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import yaml

from custodes.detect.matcher import Matcher
from custodes.errors import RuleError
from custodes.ingest import read_file
from custodes.normalise import Normaliser
from custodes.plugins import load


@dataclass
class RegressionResult:
    """One regression folder: the rule it names, whether it fired, and on how many events."""

    folder: Path
    rule_id: str
    title: str
    events: int = 0
    fired: int = 0
    problem: str = ""
    other_rules: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """The named rule fired on at least one event of the log."""
        return self.fired > 0


def regression_folders(paths: Sequence[Path]) -> list[Path]:
    """Folders holding an info.yml under the given paths, sorted."""
    found: set[Path] = set()
    for path in paths:
        if path.is_file() and path.name == "info.yml":
            found.add(path.parent)
        elif path.is_dir():
            found.update(info.parent for info in path.rglob("info.yml"))
        else:
            raise RuleError("no such regression file or folder", path=str(path))
    return sorted(found)


def read_events(path: Path, normaliser: Normaliser) -> pa.RecordBatch:
    """An EVTX file read and normalised exactly as `custodes ingest` does, as one batch."""
    batch, _failures = normaliser.normalise(list(read_file(path, "evtx")))
    return batch


def run_regression(
    folder: Path, matcher: Matcher, normaliser: Normaliser | None = None
) -> list[RegressionResult]:
    """Run one regression folder: each rule named in info.yml must fire on each of its EVTX tests.

    A folder whose info.yml lists no EVTX test (e.g. a commented-out raw test) gives no result.
    """
    normaliser = normaliser or Normaliser(load(entry_points=False).parsers)
    info = yaml.safe_load((folder / "info.yml").read_text(encoding="utf-8")) or {}
    logs = [
        folder / Path(str(test.get("path", ""))).name
        for test in info.get("regression_tests_info") or []
        if str(test.get("type", "evtx")) == "evtx"
    ]
    results = []
    for named in info.get("rule_metadata") or []:
        for log in logs:
            result = RegressionResult(folder, str(named.get("id")), str(named.get("title", "")))
            results.append(result)
            check(result, log, matcher, normaliser)
    return results


def check(result: RegressionResult, log: Path, matcher: Matcher, normaliser: Normaliser) -> None:
    """Match one EVTX log and record whether the named rule fired."""
    if not log.is_file():
        result.problem = f"missing log {log.name}"
        return
    if not any(rule.info.id == result.rule_id for rule in matcher.rules):
        refused = [e.reason for e in matcher.refused if e.rule_id == result.rule_id]
        result.problem = f"rule not loaded{': ' + refused[0] if refused else ''}"
        return
    batch = read_events(log, normaliser)
    result.events += batch.num_rows
    for hit in matcher.match(batch):
        if hit.rule.id == result.rule_id:
            result.fired += len(hit.rows)
        elif hit.rule.id not in result.other_rules:
            result.other_rules.append(hit.rule.id)
    if not result.fired:
        result.problem = f"did not fire on {result.events} event(s)"
