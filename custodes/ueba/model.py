"""The multivariate model: scikit-learn's Isolation Forest, deterministic for a seed."""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import IsolationForest

#: Trees and rows per tree; more buys little (Liu et al. 2008 use 100 trees of 256 rows).
TREES = 100
SAMPLE_ROWS = 256
SEED = 0


def isolation_scores(matrix: np.ndarray, *, seed: int = SEED) -> np.ndarray:
    """Anomaly score per row (higher = easier to isolate = more unusual), fit on the rows."""
    if len(matrix) < 2 or matrix.shape[1] == 0:
        return np.zeros(len(matrix))
    forest = IsolationForest(
        n_estimators=TREES,
        max_samples=min(SAMPLE_ROWS, len(matrix)),
        random_state=seed,
        n_jobs=1,
    )
    forest.fit(matrix)
    return np.asarray(-forest.score_samples(matrix), dtype=np.float64)


def robust_standardise(values: np.ndarray) -> np.ndarray:
    """(x - median) / (1.4826 MAD), so model scores can be added to deviation scores."""
    if len(values) == 0:
        return values
    median = float(np.median(values))
    spread = 1.4826 * float(np.median(np.abs(values - median))) or 1.0
    return (values - median) / spread
