"""What a clinic's attendance records say about its clients: how much clients differ in how
often they come, and how often a missed group session ends a stay (a dropout that day).

Both come from the attendance extract (one row per group session a client was expected at):
- the spread of clients' own attendance chances, by the method of moments for the
  beta-binomial (the variance of clients' attended shares beyond what chance alone makes);
- the dropout chance after a missed session: among group sessions a client missed while in
  the IOP, the share after which their stay ended that same day as a dropout. Such dropouts are
  then treated as censored for the planned exit mix and stays (a competing cause), so the
  fitted clinic does not count them twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulation.fit.survival import Z95, wilson

MIN_CLIENTS = 30  # fewer clients with 5+ expected sessions: the spread is not estimated
MIN_SESSIONS = 5  # a client's share from fewer sessions is mostly noise
MIN_MISSED = 50  # fewer missed sessions: the dropout chance after one is not estimated


@dataclass(frozen=True)
class AttendanceSpread:
    mean: float
    sd: float  # between clients (0: everyone the same chance)
    clients: int


@dataclass(frozen=True)
class DropoutAfterMissed:
    share: float  # dropouts that day / missed sessions
    low: float
    high: float
    missed: int
    after_attended: float  # the same share after an attended session (the base rate)
    ended_that_day: np.ndarray  # bool per episode row: a dropout on a day they missed


def group_sessions(attendance: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Group sessions of clients who started the IOP, on days from their first to last day."""
    groups = attendance[attendance["kind"].str.contains("group")]
    stays = table.loc[
        table["iop_start_date"].notna(), ["episode", "iop_start_date", "iop_end_date"]
    ]
    joined = groups.merge(stays, on="episode", how="inner")
    inside = (joined["date"] >= joined["iop_start_date"]) & (
        joined["iop_end_date"].isna() | (joined["date"] <= joined["iop_end_date"])
    )
    return joined[inside].reset_index(drop=True)


def attendance_rate(groups: pd.DataFrame) -> tuple[float, float, float]:
    """Clients' mean chance of coming: the mean over clients of each one's attended share,
    with a 95% CI across clients. Each client counts once: weighting by sessions would let
    those who attend well (and so stay longer) count more, overstating the chance a new
    client brings by about one point in the baseline's records."""
    shares = groups.groupby("episode")["attended"].mean().to_numpy(dtype=float)
    p = float(shares.mean()) if len(shares) else math.nan
    if len(shares) < 2:
        return p, math.nan, math.nan
    se = float(shares.std(ddof=1)) / math.sqrt(len(shares))
    return p, max(p - Z95 * se, 0.0), min(p + Z95 * se, 1.0)


def attendance_spread(sessions: pd.DataFrame) -> AttendanceSpread | None:
    """Clients' own attendance chances: mean and between-client sd (beta-binomial moments)."""
    per = sessions.groupby("episode")["attended"].agg(["sum", "count"])
    per = per[per["count"] >= MIN_SESSIONS]
    if len(per) < MIN_CLIENTS:
        return None
    n = per["count"].to_numpy(dtype=float)
    share = per["sum"].to_numpy(dtype=float) / n
    mean = float(per["sum"].sum() / n.sum())
    # observed spread of shares = between-client variance + binomial noise p(1-p)/n
    observed = float(np.average((share - mean) ** 2, weights=n))
    noise = float(np.average(mean * (1 - mean) / n, weights=n))
    between = max(observed - noise, 0.0)
    return AttendanceSpread(mean, math.sqrt(between), len(per))


def dropout_after_missed(sessions: pd.DataFrame, table: pd.DataFrame) -> DropoutAfterMissed | None:
    """How often a missed group session is followed by the client's stay ending that day as a
    dropout; None with too few missed sessions."""
    ends = table.set_index("episode")
    dropout = ends["discharge_reason"].eq("dropped_out")
    end_day = ends["iop_end_date"]
    same_day = sessions["date"].to_numpy() == end_day.reindex(sessions["episode"]).to_numpy()
    ended = same_day & dropout.reindex(sessions["episode"]).to_numpy(dtype=bool)
    missed = ~sessions["attended"].to_numpy(dtype=bool)
    n_missed = int(missed.sum())
    if n_missed < MIN_MISSED:
        return None
    # a day with two sessions counts the dropout once (its last missed session that day)
    last = ~sessions.assign(m=missed).duplicated(["episode", "date", "m"], keep="last").to_numpy()
    hits = int((ended & missed & last).sum())
    p, low, high = wilson(hits, n_missed)
    base = float((ended & ~missed & last).sum() / max(int((~missed).sum()), 1))
    episodes = set(sessions.loc[ended & missed, "episode"])
    return DropoutAfterMissed(
        p, low, high, n_missed, base, table["episode"].isin(episodes).to_numpy()
    )
