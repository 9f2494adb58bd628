"""The evaluation harness: our scorers beside a plain Isolation Forest, on labelled data.

Protocols: `cert` (custodes.ueba.cert: injection replay on the shared r4.2 material), `lanl`
(custodes.ueba.lanl: red-team user-days, needs auth.txt) and `demo` (a generated demo ingested
into a data directory; labels = the (account, day) pairs of planted behavioural scenarios).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from custodes.ueba.cert import DatasetError, LabelledDays, load_cert
from custodes.ueba.explain import explain_row
from custodes.ueba.features import compute_features
from custodes.ueba.lanl import load_lanl
from custodes.ueba.metrics import Measures, measure
from custodes.ueba.score import METHODS, Scores, score_table

DATASETS = ("cert", "lanl", "demo")


@dataclass
class Evaluation:
    """Measures per scoring method on one protocol, and (demo) the result of each scenario."""

    dataset: str
    measures: dict[str, Measures]
    scenarios: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """As JSON."""
        return {
            "dataset": self.dataset,
            "measures": {name: found.to_dict() for name, found in self.measures.items()},
            "scenarios": self.scenarios,
        }


def measure_all(days: LabelledDays) -> tuple[dict[str, Measures], Scores]:
    """Every method's measures over the test rows; returns the ensemble's scores too."""
    results, kept = {}, None
    test = days.is_test
    for method in METHODS:
        scores = score_table(days.table, method=method)
        results[method] = measure(
            scores.score[test], days.label[test], days.user[test], days.incident_day[test]
        )
        if method == METHODS[0]:
            kept = scores
    assert kept is not None
    return results, kept


def demo_days(data_dir: Path, folder: Path) -> tuple[LabelledDays, list[dict[str, Any]]]:
    """The lake's user-days labelled by the demo's ground truth (behavioural scenarios only)."""
    truth_path = folder / "ground_truth.json"
    if not truth_path.exists():
        raise DatasetError(f"{folder} has no ground_truth.json (custodes demo generate writes it)")
    truth = orjson.loads(truth_path.read_bytes())
    scenarios = [
        scenario
        for scenario in truth["scenarios"]
        if any(target["kind"] == "ueba" for target in scenario["detect"])
    ]
    table = compute_features(data_dir)
    key = {(e, d): i for i, (e, d) in enumerate(zip(table.entity, table.day, strict=True))}
    label = np.zeros(len(table), dtype=bool)
    for scenario in scenarios:
        for pair in scenario["user_days"]:
            row = key.get((pair["account"].lower(), np.datetime64(pair["date"], "D")))
            if row is not None:
                label[row] = True
    incident = (table.day - table.day.min()).astype(np.int64) if len(table) else np.zeros(0)
    days = LabelledDays(table, label, table.entity, incident, np.ones(len(table), dtype=bool))
    return days, scenarios


def scenario_results(
    scores: Scores, scenarios: list[dict[str, Any]], planted: np.ndarray
) -> list[dict[str, Any]]:
    """Per scenario, on its first day: its best-ranked account, its rank among all user-days
    of the day and among the ordinary ones (other planted cases above it are not false
    alarms), and the features its explanation names."""
    table, ranks = scores.table, scores.rank_on_day()
    results = []
    for scenario in scenarios:
        expected = [f for t in scenario["detect"] if t["kind"] == "ueba" for f in t["features"]]
        first_day = min(pair["date"] for pair in scenario["user_days"])
        best: dict[str, Any] | None = None
        for pair in scenario["user_days"]:
            if pair["date"] != first_day:
                continue
            rows = np.flatnonzero(
                (table.entity == pair["account"].lower())
                & (table.day == np.datetime64(pair["date"], "D"))
            )
            if len(rows) == 0 or (best is not None and ranks[rows[0]] >= best["rank"]):
                continue
            row = int(rows[0])
            reasons = [reason.feature for reason in explain_row(scores, row)]
            same_day = table.day == table.day[row]
            on_day = int(same_day.sum())
            above = int((same_day & ~planted & (scores.score > scores.score[row])).sum())
            best = {
                "id": scenario["id"],
                "account": pair["account"],
                "day": pair["date"],
                "rank": int(ranks[row]),
                "rank_among_ordinary": above + 1,
                "entities_on_day": on_day,
                "top_percent": round(100 * (above + 1) / on_day, 2),
                "reasons": reasons,
                "expected": expected,
                "names_expected": any(want in got for want in expected for got in reasons),
            }
        results.append(best or {"id": scenario["id"], "rank": None, "names_expected": False})
    return results


def evaluate(dataset: str, path: Path, *, data_dir: Path | None = None) -> Evaluation:
    """Run one protocol; `path` is the data set's folder (the demo's output folder for `demo`)."""
    if dataset == "cert":
        days = load_cert(path)
    elif dataset == "lanl":
        days = load_lanl(path)
    elif dataset == "demo":
        if data_dir is None:
            raise DatasetError(
                "the demo protocol needs the data directory the demo was ingested to"
            )
        days, scenarios = demo_days(data_dir, path)
        measures, scores = measure_all(days)
        return Evaluation(dataset, measures, scenario_results(scores, scenarios, days.label))
    else:
        raise DatasetError(f"unknown data set {dataset!r}: one of {', '.join(DATASETS)}")
    measures, _ = measure_all(days)
    return Evaluation(dataset, measures)
