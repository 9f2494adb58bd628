"""Evaluation measures over labelled, scored user-days, as insider-threat papers report them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score


@dataclass(frozen=True)
class Measures:
    """ROC-AUC, PR-AUC, detection at 1% / 5% of user-days flagged, users caught, days to alert."""

    user_days: int
    malicious_user_days: int
    malicious_users: int
    roc_auc: float
    pr_auc: float
    detection_at_1pct: float
    detection_at_5pct: float
    users_caught_at_5pct: float
    median_days_to_first_alert: float

    def to_dict(self) -> dict[str, float | int]:
        """As JSON."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def flagged(score: np.ndarray, share: float) -> np.ndarray:
    """The rows in the top `share` of scores (at least one row)."""
    count = max(1, int(round(share * len(score))))
    flags = np.zeros(len(score), dtype=bool)
    flags[np.argsort(-score, kind="stable")[:count]] = True
    return flags


def measure(
    score: np.ndarray, label: np.ndarray, user: np.ndarray, incident_day: np.ndarray
) -> Measures:
    """Measures of one scorer; `incident_day` is each malicious row's day number in its incident."""
    label = label.astype(bool)
    at_1, at_5 = flagged(score, 0.01), flagged(score, 0.05)
    malicious_users = np.unique(user[label])
    caught, delays = 0, []
    for name in malicious_users:
        rows = label & (user == name)
        hits = rows & at_5
        if hits.any():
            caught += 1
            delays.append(float(incident_day[hits].min() - incident_day[rows].min()))
    both = 0 < label.sum() < len(label)
    return Measures(
        user_days=len(score),
        malicious_user_days=int(label.sum()),
        malicious_users=len(malicious_users),
        roc_auc=round(float(roc_auc_score(label, score)), 4) if both else float("nan"),
        pr_auc=round(float(average_precision_score(label, score)), 4) if both else float("nan"),
        detection_at_1pct=round(float(at_1[label].mean()), 4) if label.any() else float("nan"),
        detection_at_5pct=round(float(at_5[label].mean()), 4) if label.any() else float("nan"),
        users_caught_at_5pct=round(caught / len(malicious_users), 4) if len(malicious_users) else 0,
        median_days_to_first_alert=float(np.median(delays)) if delays else float("nan"),
    )
