"""Daily scoring and full rebuilds: features from the lake, scores to Parquet, alerts above a bar.

Scores live in `<data_dir>/ueba/scores.parquet` (one row per account or host and day, with its
rank among its kind on the day and its reasons as JSON); a rebuild replaces the days it covers
and keeps the others.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from custodes.events import Alert
from custodes.store import open_control, save_alerts
from custodes.ueba.explain import explain_row, explain_text
from custodes.ueba.features import compute_features
from custodes.ueba.hosts import HOST_PREFIX, compute_host_features
from custodes.ueba.score import Scores, score_table

UEBA_DIR = "ueba"
SCORES_FILE = "scores.parquet"
#: Scores at or above this become alerts (about one a day per 1,000 people on the demo).
ALERT_SCORE = 11.0
HIGH_SCORE = 20.0
#: The first days of data build baselines: they are scored but raise no alerts.
WARM_UP_DAYS = 7
RULE_ID = "ueba.daily"

SCORE_SCHEMA = pa.schema(
    [
        ("kind", pa.string()),  # account | host
        ("entity", pa.string()),
        ("day", pa.date32()),
        ("peer_group", pa.string()),
        ("score", pa.float64()),
        ("rank", pa.int64()),
        ("entities_on_day", pa.int64()),
        ("explanation", pa.string()),
        ("reasons", pa.string()),  # JSON list of {feature, deviation, text}
    ]
)


@dataclass(frozen=True)
class RunSummary:
    """What a build or daily run did."""

    days: int
    rows: int
    alerts: int


def scores_path(data_dir: Path) -> Path:
    """Where the scores are kept."""
    return data_dir / UEBA_DIR / SCORES_FILE


def score_rows(scores: Scores, rows: np.ndarray, kind: str) -> pa.Table:
    """The chosen rows as a table of SCORE_SCHEMA."""
    ranks = scores.rank_on_day()
    table = scores.table
    per_day = {day: int((table.day == day).sum()) for day in np.unique(table.day[rows])}
    reasons = [explain_row(scores, int(row)) for row in rows]
    return pa.table(
        {
            "kind": [kind] * len(rows),
            "entity": table.entity[rows].tolist(),
            "day": pa.array(table.day[rows], pa.date32()),
            "peer_group": table.peer[rows].tolist(),
            "score": np.round(scores.score[rows], 3),
            "rank": ranks[rows],
            "entities_on_day": [per_day[day] for day in table.day[rows]],
            "explanation": [explain_text(found) for found in reasons],
            "reasons": [
                orjson.dumps([reason.to_dict() for reason in found]).decode() for found in reasons
            ],
        },
        schema=SCORE_SCHEMA,
    )


def read_scores(data_dir: Path) -> pa.Table:
    """Every stored score (an empty table before the first run)."""
    path = scores_path(data_dir)
    return pq.read_table(path, schema=SCORE_SCHEMA) if path.exists() else SCORE_SCHEMA.empty_table()


def write_scores(data_dir: Path, fresh: pa.Table, first: date, last: date) -> None:
    """Replace the days [first, last] with `fresh`, keep the others (temp file, then rename)."""
    kept = read_scores(data_dir)
    if kept.num_rows:
        outside = pc.or_(pc.less(kept["day"], first), pc.greater(kept["day"], last))
        kept = kept.filter(outside)
    merged = pa.concat_tables([kept, fresh]).sort_by([("day", "ascending"), ("rank", "ascending")])
    path = scores_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    pq.write_table(merged, temporary)
    os.replace(temporary, path)


def alerts_for(rows: pa.Table, threshold: float) -> list[Alert]:
    """One alert (kind "ueba") per entity-day scoring at least `threshold`."""
    alerts = []
    for row in rows.filter(pc.greater_equal(rows["score"], threshold)).to_pylist():
        start = datetime.combine(row["day"], time(), tzinfo=UTC)
        is_host = row["kind"] == "host"
        alerts.append(
            Alert(
                rule_id=RULE_ID,
                title=f"Unusual behaviour: {row['explanation']}"[:250],
                level="high" if row["score"] >= HIGH_SCORE else "medium",
                event_ids=(),
                first_seen_at=start,
                last_seen_at=start + timedelta(days=1) - timedelta(microseconds=1),
                author="custodes ueba",
                kind="ueba",
                user_name=None if is_host else row["entity"],
                host_name=row["entity"].removeprefix(HOST_PREFIX) if is_host else None,
                description=f"Behaviour far from this {row['kind']}'s own history and its peers'.",
                details={
                    "score": row["score"],
                    "rank": row["rank"],
                    "day": row["day"].isoformat(),
                    "peer_group": row["peer_group"],
                    "reasons": orjson.loads(row["reasons"]),
                },
            )
        )
    return alerts


def run(
    data_dir: Path,
    *,
    first: date | None = None,
    last: date | None = None,
    threshold: float = ALERT_SCORE,
    raise_alerts: bool = True,
    now: datetime | None = None,
) -> RunSummary:
    """Score accounts and hosts on the days [first, last] (default: all) from all earlier
    history; store the scores and raise alerts."""
    until = last or date(9999, 12, 31)
    tables = {
        "account": compute_features(data_dir, until=until),
        "host": compute_host_features(data_dir, until=until),
    }
    days = np.concatenate([table.day for table in tables.values()])
    if len(days) == 0:
        return RunSummary(0, 0, 0)
    first = first or days.min().astype(date)
    last = last or days.max().astype(date)
    parts = []
    for kind, table in tables.items():
        if len(table) == 0:
            continue
        chosen = np.flatnonzero(
            (table.day >= np.datetime64(first)) & (table.day <= np.datetime64(last))
        )
        parts.append(score_rows(score_table(table), chosen, kind))
    fresh = pa.concat_tables(parts)
    write_scores(data_dir, fresh, first, last)
    warm = (days.min() + np.timedelta64(WARM_UP_DAYS, "D")).astype(date)
    alerts = alerts_for(fresh.filter(pc.greater_equal(fresh["day"], warm)), threshold)
    alerts = alerts if raise_alerts else []
    if alerts:
        with open_control(data_dir) as control:
            save_alerts(control, alerts, now=now or datetime.now(UTC))
    scored_days = len(set(fresh["day"].to_pylist()))
    return RunSummary(scored_days, fresh.num_rows, len(alerts))


def top(
    data_dir: Path, day: date, *, limit: int = 20, kind: str = "account"
) -> list[dict[str, object]]:
    """The day's ranking of accounts (or hosts), most unusual first."""
    scores = read_scores(data_dir)
    chosen = pc.and_(pc.equal(scores["day"], day), pc.equal(scores["kind"], kind))
    found = scores.filter(chosen).sort_by([("rank", "ascending")])
    rows = found.slice(0, limit).to_pylist()
    for row in rows:
        row["day"] = row["day"].isoformat()
        row["reasons"] = orjson.loads(row["reasons"])
    return list(rows)
