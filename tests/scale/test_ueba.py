"""UEBA features on Spark, with the SQL of `custodes.ueba.features`, equal the embedded ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from custodes.scale.ueba import spark_features
from custodes.ueba.features import compute_features
from custodes.ueba.table import FeatureTable


def rows(table: FeatureTable) -> list[dict[str, Any]]:
    """The table's rows, ordered by entity and day, features by name."""
    arrow = table.to_arrow()
    arrow = arrow.select(sorted(arrow.column_names))
    return sorted(arrow.to_pylist(), key=lambda row: (row["entity"], str(row["day"])))


def test_spark_features_equal_the_embedded_features(spark: Any, attack_lake: Path) -> None:
    embedded = compute_features(attack_lake)
    on_spark = spark_features(spark, attack_lake)
    assert len(embedded) > 20 and len(embedded.names) > 5  # many account-days, several families
    assert sorted(on_spark.names) == sorted(embedded.names)
    assert rows(on_spark) == rows(embedded)


def test_spark_features_of_a_day_range(spark: Any, attack_lake: Path) -> None:
    whole = compute_features(attack_lake)
    days = sorted(set(pa.array(whole.day).to_pylist()))
    since, until = days[len(days) // 3], days[2 * len(days) // 3]
    embedded = compute_features(attack_lake, since=since, until=until)
    on_spark = spark_features(spark, attack_lake, since=since, until=until)
    assert 0 < len(embedded) < len(whole)
    assert rows(on_spark) == rows(embedded)
