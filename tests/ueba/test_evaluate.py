"""The evaluation harness on the shared CERT and LANL material, and its measures."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from custodes.ueba import DatasetError, evaluate, load_cert, measure

CERT = "cert-insider-threat"
LANL = "lanl-2015-redteam"


def test_measures_of_a_perfect_and_a_useless_scorer() -> None:
    label = np.array([0] * 95 + [1] * 5)
    user = np.array([f"u{n % 20}" for n in range(95)] + ["bad1", "bad1", "bad1", "bad2", "bad2"])
    day = np.array([0] * 95 + [0, 1, 2, 0, 1])
    perfect = measure(label.astype(float), label, user, day)
    assert perfect.roc_auc == 1.0 and perfect.pr_auc == 1.0
    assert perfect.detection_at_5pct == 1.0 and perfect.detection_at_1pct == 0.2  # 1 of 5 rows
    assert perfect.users_caught_at_5pct == 1.0 and perfect.median_days_to_first_alert == 0
    backwards = measure(1.0 - label, label, user, day)
    assert backwards.roc_auc == 0.0 and backwards.detection_at_5pct == 0.0


def test_cert_replay_labels_the_insiders_injected_days(datasets: Path) -> None:
    days = load_cert(datasets / CERT)
    assert days.label.sum() > 100  # malicious user-days of the developer half's r4.2 insiders
    assert len(np.unique(days.user[days.label])) == 35
    assert not (days.label & ~days.is_test).any()


def test_cert_ensemble_beats_the_plain_isolation_forest(datasets: Path) -> None:
    result = evaluate("cert", datasets / CERT)
    ours, forest = result.measures["ensemble"], result.measures["isolation-forest"]
    assert ours.roc_auc > forest.roc_auc
    assert ours.roc_auc > 0.9
    assert ours.detection_at_5pct > forest.detection_at_5pct


def test_lanl_without_auth_says_what_is_missing(datasets: Path) -> None:
    with pytest.raises(DatasetError, match="auth.txt"):
        evaluate("lanl", datasets / LANL)


def write_auth(folder: Path, redteam: Path) -> None:
    """auth.txt in LANL's format: every red-team logon, over a background made here of each
    account (and 60 others) logging on from its own computer to two usual servers by day."""
    lines = []
    red = [line.split(",") for line in redteam.read_text().split()]
    users = sorted({user for _, user, _, _ in red}) + [f"U9{n:03d}@DOM1" for n in range(60)]
    rng = np.random.default_rng(3)
    for day in range(30):
        for number, user in enumerate(users):
            for _ in range(int(rng.integers(3, 8))):
                second = day * 86400 + int(rng.integers(8 * 3600, 17 * 3600))
                server = f"C{number % 7 + 1}"
                lines.append((second, f"{user},{user},C{5000 + number},{server}"))
    for stamp, user, source, target in red:
        lines.append((int(stamp), f"{user},{user},{source},{target}"))
    lines.sort()
    text = "".join(f"{second},{rest},Kerberos,Network,LogOn,Success\n" for second, rest in lines)
    (folder / "auth.txt").write_text(text)


def test_lanl_harness_finds_red_team_days_over_a_background(datasets: Path, tmp_path: Path) -> None:
    shutil.copy(datasets / LANL / "redteam.dev.txt", tmp_path / "redteam.dev.txt")
    write_auth(tmp_path, tmp_path / "redteam.dev.txt")
    result = evaluate("lanl", tmp_path)
    ours = result.measures["ensemble"]
    assert ours.malicious_users == 52
    assert ours.roc_auc > 0.9
