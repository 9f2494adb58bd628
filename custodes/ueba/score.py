"""Scores: deviation from the entity's own baseline and its peers', plus an Isolation Forest.

Per feature, the deviation is a robust z-score of today's value against the entity's own
earlier days (when it has enough of them) blended with its peer group's; only increases count.
Deviations are measured above the baseline's upper quantile. A feature the entity's own history
never showed is judged by its peers: by its rarity among them (-log10 of the share of peer days
that have it), so a first foreign country or a first privileged action counts although 0 -> 1 is
a small step, plus how far it goes above what the peers who do it reach.
The robust score weighs the three largest deviations 1, 1/2 and 1/4 (one strong reason
counts most; several unusual things at once add). The ensemble adds an Isolation Forest
fitted on the deviation vectors, so unusual *combinations* count too. `plain_isolation_forest`
is the baseline the evaluation compares against: the same forest on the raw (log-scaled)
features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from custodes.ueba.baseline import Baselines, compute_baselines, transform
from custodes.ueba.model import isolation_scores, robust_standardise
from custodes.ueba.table import FeatureTable

#: Weight of the own baseline when both exist (peers only when the entity is new).
OWN_WEIGHT = 0.5
#: A deviation never counts for more than this (one absurd value must not hide the rest).
MAX_DEVIATION = 12.0
#: Rarity deviation per factor of ten of rareness among peers.
RARITY_WEIGHT = 2.5
#: Weights of the largest, second and third deviation in the robust score.
TOP_WEIGHTS = (1.0, 0.5, 0.25)
#: Weight of the standardised Isolation Forest score in the ensemble.
FOREST_WEIGHT = 0.5
#: The scorers `score_table` knows.
METHODS = ("ensemble", "robust", "isolation-forest")


@dataclass(frozen=True)
class Scores:
    """Scores of every row of a feature table, with what explains them."""

    table: FeatureTable
    baselines: Baselines
    contributions: np.ndarray  # rows x features: the blended deviation of each feature
    own: np.ndarray  # rows x features: deviation from the own baseline (NaN without one)
    peer: np.ndarray  # rows x features: deviation from the peer group (NaN without one)
    score: np.ndarray  # the chosen method's score per row

    def rank_on_day(self) -> np.ndarray:
        """Rank of each row among the rows of its day (1 = most unusual)."""
        ranks = np.zeros(len(self.score), dtype=np.int64)
        for day in np.unique(self.table.day):
            rows = np.flatnonzero(self.table.day == day)
            order = rows[np.argsort(-self.score[rows], kind="stable")]
            ranks[order] = np.arange(1, len(order) + 1)
        return ranks


def deviations(
    table: FeatureTable, baselines: Baselines
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(blended, own, peer) deviations per row and feature; increases only, capped.

    A feature the entity's own history has never shown (or an entity without enough history)
    is judged by its peers alone: by how rare it is among them and by how far above what the
    peers who do it reach it goes.
    """
    transformed = transform(table.values)
    with np.errstate(invalid="ignore"):
        own = np.clip((transformed - baselines.own_upper) / baselines.own_scale, 0, MAX_DEVIATION)
        peer = np.clip(
            (transformed - baselines.peer_upper) / baselines.peer_scale, 0, MAX_DEVIATION
        )
        rarity = np.clip(-RARITY_WEIGHT * np.log10(baselines.peer_share), 0, MAX_DEVIATION)
    has_own = ~np.isnan(own)
    peer_or_own = np.where(np.isnan(peer), own, peer)
    blended = np.nan_to_num(
        np.where(has_own, own**OWN_WEIGHT * peer_or_own ** (1 - OWN_WEIGHT), peer)
    )
    never = (~has_own | (baselines.own_upper == 0)) & (transformed > 0)
    with np.errstate(invalid="ignore"):
        beyond = (transformed - baselines.peer_active_upper) / baselines.peer_scale
    by_peers = np.nan_to_num(rarity) + np.clip(np.nan_to_num(beyond), 0, MAX_DEVIATION)
    blended = np.where(never, by_peers, blended)
    return blended, own, peer


def robust_score(contributions: np.ndarray) -> np.ndarray:
    """The largest deviations of each row, weighted 1, 1/2, 1/4: one strong reason counts most,
    further ones add."""
    if contributions.shape[1] == 0:
        return np.zeros(len(contributions))
    top = min(len(TOP_WEIGHTS), contributions.shape[1])
    largest = np.sort(contributions, axis=1)[:, ::-1][:, :top]
    return np.asarray(largest @ np.asarray(TOP_WEIGHTS[:top]))


def plain_isolation_forest(table: FeatureTable) -> np.ndarray:
    """The baseline: an Isolation Forest on the log-scaled features, no baselines."""
    return isolation_scores(transform(table.values))


def score_table(table: FeatureTable, *, method: str = "ensemble") -> Scores:
    """Score every row: `ensemble` (robust + forest on deviations), `robust` or the plain forest."""
    if method not in METHODS:
        raise ValueError(f"unknown scoring method {method!r}: one of {', '.join(METHODS)}")
    baselines = compute_baselines(table)
    contributions, own, peer = deviations(table, baselines)
    if method == "isolation-forest":
        score = plain_isolation_forest(table)
    else:
        score = robust_score(contributions)
        if method == "ensemble":
            forest = robust_standardise(isolation_scores(contributions))
            score = score + FOREST_WEIGHT * np.maximum(forest, 0)
    return Scores(table, baselines, contributions, own, peer, score)
