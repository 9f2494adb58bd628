"""Robust baselines: each entity's own earlier days, and its peer group's earlier days.

Values are compared on a log scale (`log1p`), so "3x more" weighs the same for a clerk and for a
server. A baseline is a median, an upper quantile (the 90th percentile: what the entity reaches
on its busier days, so a habit of working from home one day a week is not news) and a scaled
median absolute deviation (MAD), floored (higher for byte volumes) so that a perfectly regular
history does not turn one extra event into a huge deviation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from custodes.ueba.table import FeatureTable

#: Earlier days that form a baseline.
WINDOW_DAYS = 28
#: Own history an entity needs (active days in the window) before its own baseline counts.
MIN_HISTORY_DAYS = 3
#: Peer-group rows needed; smaller groups are compared with everyone.
MIN_PEER_ROWS = 20
#: Pseudo-rows of the whole population a peer group's rarity share is smoothed with.
SHARE_PRIOR_ROWS = 20
#: Peer quantiles are taken over at most this many rows (an even, deterministic subsample);
#: the share of rows with a feature always counts them all.
MAX_QUANTILE_ROWS = 5000
#: Peer baselines are refreshed every this many days (from the days before the refresh).
PEER_REFRESH_DAYS = 7
#: MAD -> standard deviation for normal data, and the smallest scale (log1p units, ~1.65x).
MAD_TO_SIGMA = 1.4826
MIN_SCALE = 0.5
#: Volumes (bytes) swing far more from day to day than counts: their smallest scale (~4.5x).
MIN_VOLUME_SCALE = 1.5
#: The upper quantile deviations are measured from.
UPPER_QUANTILE = 0.9


@dataclass(frozen=True)
class Baselines:
    """Per row and feature: own median, scale and history days; peer median, scale and the
    share of peer rows where the feature occurs at all (how rare it is)."""

    own_median: np.ndarray
    own_upper: np.ndarray
    own_scale: np.ndarray
    own_days: np.ndarray  # per row
    peer_median: np.ndarray
    peer_upper: np.ndarray
    peer_scale: np.ndarray
    peer_share: np.ndarray
    peer_active_upper: np.ndarray  # upper quantile among the peer days that have the feature


def transform(values: np.ndarray) -> np.ndarray:
    """The scale baselines work on: log(1 + x) of non-negative counts and sizes."""
    return np.asarray(np.log1p(np.maximum(values, 0.0)))


def sorted_quantile(ordered: np.ndarray, counts: np.ndarray, quantile: float) -> np.ndarray:
    """Quantile along axis 1 of NaN-padded data sorted there (NaNs last), `counts` valid values
    per row; linear between the two nearest values."""
    position = quantile * (counts - 1)
    low = np.floor(position).astype(np.intp)
    high = np.ceil(position).astype(np.intp)
    fraction = (position - low)[:, None].astype(ordered.dtype)
    take_low = np.take_along_axis(ordered, low[:, None, None], axis=1)[:, 0, :]
    take_high = np.take_along_axis(ordered, high[:, None, None], axis=1)[:, 0, :]
    return np.asarray(take_low + (take_high - take_low) * fraction)


def median_and_scale(
    history: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median, upper quantile and floored scaled MAD along axis 1 of (rows, days, features),
    NaN = no data."""
    ordered = np.sort(history, axis=1)
    median = sorted_quantile(ordered, counts, 0.5)
    upper = sorted_quantile(ordered, counts, UPPER_QUANTILE)
    spread = np.sort(np.abs(history - median[:, None, :]), axis=1)
    scale = MAD_TO_SIGMA * sorted_quantile(spread, counts, 0.5)
    return median, upper, scale


def floor_scales(scale: np.ndarray, names: list[str]) -> np.ndarray:
    """Scales raised to their floor: MIN_VOLUME_SCALE for byte volumes, MIN_SCALE otherwise."""
    floors = np.array([MIN_VOLUME_SCALE if "bytes" in name else MIN_SCALE for name in names])
    return np.asarray(np.maximum(scale, floors))


def own_baselines(
    table: FeatureTable, transformed: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each row's own median, upper quantile, scale (NaN without enough history) and active
    days in the window."""
    entities, entity_code = np.unique(table.entity.astype(str), return_inverse=True)
    start = table.day.min() if len(table) else np.datetime64("1970-01-01")
    day_code = (table.day - start).astype(np.int64)
    days = int(day_code.max()) + 1 if len(table) else 0
    features = transformed.shape[1]
    cube = np.full((len(entities), days, features), np.nan, dtype=np.float32)
    cube[entity_code, day_code] = transformed
    present = np.zeros((len(entities), days), dtype=bool)
    present[entity_code, day_code] = True
    median = np.full(transformed.shape, np.nan)
    upper = np.full(transformed.shape, np.nan)
    scale = np.full(transformed.shape, np.nan)
    history_days = np.zeros(len(table), dtype=np.int64)
    for day in range(days):
        rows = np.flatnonzero(day_code == day)
        if len(rows) == 0 or day == 0:
            continue
        first = max(0, day - WINDOW_DAYS)
        counts = present[entity_code[rows], first:day].sum(axis=1)
        history_days[rows] = counts
        enough = counts >= MIN_HISTORY_DAYS
        if not enough.any():
            continue
        chosen = rows[enough]
        window = cube[entity_code[chosen], first:day]
        median[chosen], upper[chosen], scale[chosen] = median_and_scale(window, counts[enough])
    return median, upper, scale, history_days


def active_upper(values: np.ndarray) -> np.ndarray:
    """Per feature, the upper quantile of the non-zero values (0 when there are none)."""
    upper = np.zeros(values.shape[1])
    for column in range(values.shape[1]):
        active = values[:, column][values[:, column] > 0]
        if len(active):
            upper[column] = np.quantile(active, UPPER_QUANTILE)
    return upper


def group_stats(values: np.ndarray, prior: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Median, upper quantile, floored scaled MAD, share of non-zero rows (smoothed towards
    `prior`, the population's, or towards 1/2) and upper quantile of the non-zero values, per
    feature of a block."""
    present = (values > 0).sum(axis=0)
    sample = values[:: -(-len(values) // MAX_QUANTILE_ROWS)] if len(values) else values
    counts = np.full(1, sample.shape[0])
    median, upper, scale = median_and_scale(sample[None, :, :], counts)
    if prior is None:
        share = (present + 1) / (values.shape[0] + 2)
    else:
        share = (present + SHARE_PRIOR_ROWS * prior) / (values.shape[0] + SHARE_PRIOR_ROWS)
    return median[0], upper[0], scale[0], share, active_upper(sample)


def peer_baselines(table: FeatureTable, transformed: np.ndarray) -> tuple[np.ndarray, ...]:
    """Each row's peer-group `group_stats`, from the group's rows in the window before the last
    refresh (in the first days, when there is none: the days so far)."""
    found = tuple(np.full(transformed.shape, np.nan) for _ in range(5))
    if len(table) == 0:
        return found
    day_code = (table.day - table.day.min()).astype(np.int64)
    bucket = day_code // PEER_REFRESH_DAYS
    groups = table.peer.astype(str)
    for number in np.unique(bucket):
        end = int(number) * PEER_REFRESH_DAYS
        rows = np.flatnonzero(bucket == number)
        if end == 0:
            in_window = bucket == number
        else:
            in_window = (day_code < end) & (day_code >= end - WINDOW_DAYS)
        everyone = group_stats(transformed[in_window])
        for group in np.unique(groups[rows]):
            members = rows[groups[rows] == group]
            peers = in_window & (groups == group)
            enough = peers.sum() >= MIN_PEER_ROWS
            stats = group_stats(transformed[peers], everyone[3]) if enough else everyone
            for target, value in zip(found, stats, strict=True):
                target[members] = value
    return found


def compute_baselines(table: FeatureTable) -> Baselines:
    """Own and peer baselines of every row, from strictly earlier days."""
    transformed = transform(table.values)
    own_median, own_upper, own_scale, own_days = own_baselines(table, transformed)
    peer_median, peer_upper, peer_scale, peer_share, peer_active = peer_baselines(
        table, transformed
    )
    return Baselines(
        own_median,
        own_upper,
        floor_scales(own_scale, table.names),
        own_days,
        peer_median,
        peer_upper,
        floor_scales(peer_scale, table.names),
        peer_share,
        peer_active,
    )
