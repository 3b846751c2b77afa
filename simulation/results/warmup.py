"""The warm-up: MSER-5 on the weekly series, the suggested warm-up and moving averages for the Welch plot."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def mser5(series, max_fraction: float = 0.5) -> int:
    """MSER-5 truncation point (White 1997) of a weekly series, in weeks.

    The series is cut into batches of 5 weeks; the truncation d (in batches, at most
    ``max_fraction`` of the series) minimises the squared standard error of the mean of what
    remains, sum((Y_i - mean_d)^2) / (n - d)^2.
    """
    y = np.asarray(series, dtype=float)
    y = y[np.isfinite(y)]
    batches = len(y) // 5
    if batches < 4:
        return 0
    means = y[: batches * 5].reshape(batches, 5).mean(axis=1)
    best_d, best = 0, math.inf
    for d in range(int(batches * max_fraction) + 1):
        rest = means[d:]
        stat = float(((rest - rest.mean()) ** 2).sum()) / len(rest) ** 2
        if stat < best - 1e-15:
            best_d, best = d, stat
    return best_d * 5


WARMUP_SERIES = ("iop_census", "iop_waitlist")
"""The weekly series whose MSER-5 truncation points make the warm-up suggestion (and, in a
continuum, each level's places held and waiting list: ``warmup_series``)."""


def warmup_series(weekly: pd.DataFrame) -> list[str]:
    """The series the warm-up is judged on: the IOP's census and waitlist, then each level of
    care's places held and waiting list the weekly table has (a congested PHP may fill more
    slowly than the IOP)."""
    levels = [c for c in weekly.columns if c.startswith(("level_census[", "level_waitlist["))]
    return [*WARMUP_SERIES, *sorted(levels)]


def suggest_warmup(weekly: pd.DataFrame) -> dict[str, int]:
    """MSER-5 truncation (weeks) of each replication-mean weekly series ``warmup_series``."""
    series = warmup_series(weekly)
    means = weekly.groupby("week")[series].mean()
    return {name: mser5(means[name].to_numpy()) for name in series}


def moving_average(series, window: int) -> np.ndarray:
    """Welch's centred moving average, with shorter windows at the start."""
    y = np.asarray(series, dtype=float)
    out = np.empty(len(y))
    for i in range(len(y)):
        half = min(window, i, len(y) - 1 - i)
        out[i] = y[i - half : i + half + 1].mean()
    return out
