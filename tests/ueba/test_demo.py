"""On the demo agency, every planted behavioural scenario ranks in the top 1% of its day.

The issue asks this of 30 days x 1,000 people (docs/ueba.md gives that run's figures); the test
uses 300 people x 21 days to stay near two minutes. A scenario's rank counts the ordinary
user-days above it (another planted case scoring higher on the same day is not a false alarm).
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import pytest

from custodes.demo import DemoSettings, generate
from custodes.pipeline import import_files, open_pipeline
from custodes.posture import ImportRequest, import_reference
from custodes.ueba import evaluate

SETTINGS = DemoSettings(people=300, days=21, seed=7, start=date(2026, 10, 5))


@pytest.fixture(scope="module")
def demo_result(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("ueba-demo")
    generate(out / "demo", SETTINGS)
    data_dir = out / "data"
    with open_pipeline(data_dir, detect=False) as pipeline:
        import_files(pipeline, [out / "demo" / "telemetry"])
    reference = out / "demo" / "reference"
    import_reference(
        data_dir,
        ImportRequest(roster=reference / "roster.csv", accounts=reference / "accounts.json"),
    )
    return evaluate("demo", out / "demo", data_dir=data_dir).scenarios


def test_every_behavioural_scenario_is_in_the_top_percent_of_its_day(
    demo_result: list[dict[str, Any]],
) -> None:
    assert len(demo_result) == 6
    for scenario in demo_result:
        allowed = math.ceil(0.01 * scenario["entities_on_day"])
        assert scenario["rank_among_ordinary"] <= allowed, scenario


def test_explanations_name_the_expected_features(demo_result: list[dict[str, Any]]) -> None:
    for scenario in demo_result:
        assert scenario["names_expected"], scenario
