"""The shared SigmaHQ rule set: every rule loads, and every regression test fires its rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from custodes.detect import Matcher, load_matcher
from custodes.detect.regression import regression_folders, run_regression

RULE_FOLDERS = ("rules", "rules-threat-hunting", "rules-emerging-threats")


def rule_paths(datasets: Path) -> list[Path]:
    return [datasets / "sigma" / name for name in RULE_FOLDERS]


@pytest.fixture(scope="session")
def shared_matcher(datasets: Path, tmp_path_factory: pytest.TempPathFactory) -> Matcher:
    cache = tmp_path_factory.mktemp("rule-cache")
    return load_matcher(rule_paths(datasets), cache_dir=cache)


def test_every_shared_rule_loads_and_all_but_placeholder_rules_compile(
    shared_matcher: Matcher,
) -> None:
    load_errors = [e for e in shared_matcher.refused if "placeholder" not in e.reason]
    assert load_errors == []
    assert len(shared_matcher.rules) + len(shared_matcher.refused) == 3754
    assert len(shared_matcher.refused) <= 2  # the two CVE-2026-54121 rules need %known_cdcs%
    assert all(rule.info.author for rule in shared_matcher.rules if rule.info.path)


def test_cache_gives_back_the_same_rules(datasets: Path, tmp_path: Path) -> None:
    some = [datasets / "sigma" / "rules-threat-hunting"]
    cold = load_matcher(some, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.pickle"))) == 1
    warm = load_matcher(some, cache_dir=tmp_path)
    assert [r.info for r in warm.rules] == [r.info for r in cold.rules]
    assert [r.condition for r in warm.rules] == [r.condition for r in cold.rules]


def test_every_regression_test_fires_its_rule(datasets: Path, shared_matcher: Matcher) -> None:
    results = []
    for folder in regression_folders([datasets / "sigma" / "regression_data"]):
        results.extend(run_regression(folder, shared_matcher))
    failed = [f"{r.rule_id} {r.title}: {r.problem}" for r in results if not r.passed]
    passed = len(results) - len(failed)
    print(f"regression: {passed} of {len(results)} fire their rule")
    assert len(results) >= 200
    assert failed == []
