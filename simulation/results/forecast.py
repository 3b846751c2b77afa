"""Forecast bands from replications started from a clinic's state, and the back-test table that sets them against what happened."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.config import DISCHARGE_REASONS

FORECAST_SERIES = (
    "referrals",
    "iop_census",
    "iop_waitlist",
    "intake_waitlist",
    "admissions",
    "discharges",
)


QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)

EXTRA_SERIES = ("level_census[", "level_waitlist[", "iop_waitlist[site=")
"""Forecast too when the weekly table has them: each level of care's places held and waiting
list (a continuum), each site's IOP waitlist (a network)."""


def forecast_series(weekly: pd.DataFrame) -> list[str]:
    """The series a forecast gives bands for: ``FORECAST_SERIES``, then each level of care's
    census and waitlist and each site's IOP waitlist that ``weekly`` has."""
    extra = [c for c in weekly.columns if c.startswith(EXTRA_SERIES) and c.endswith("]")]
    return [*FORECAST_SERIES, *sorted(extra)]


def series_name(series: str) -> str:
    """A forecast series in words (a fan chart's title)."""
    for prefix, words in (
        ("level_census[", "Clients holding a place at level {}"),
        ("level_waitlist[", "Waiting for a place at level {}"),
        ("iop_waitlist[site=", "Waiting for an IOP place at site {}"),
    ):
        if series.startswith(prefix) and series.endswith("]"):
            return words.format(series[len(prefix) : -1])
    return SERIES_NAMES.get(series, series)


SERIES_NAMES = {
    "iop_census": "Clients in the IOP",
    "iop_waitlist": "Waiting for an IOP place",
    "intake_waitlist": "Waiting for intake",
    "admissions": "IOP admissions a week",
    "discharges": "IOP discharges a week",
    "referrals": "Referrals a week",
}


def forecast_bands(weekly: pd.DataFrame, as_recorded: bool = False, begins=None) -> pd.DataFrame:
    """Week-by-week prediction bands across replications: the 50% (p25-p75) and 90% (p5-p95)
    bands, the median and the mean of each forecast series (``forecast_series``: a continuum's
    levels and a network's sites included; long table). ``as_recorded``
    (back-tests): the census and IOP waitlist as dated records count them, to compare like
    with like with an extract. ``begins`` (the state's date): a week that starts before it is
    left out (``partial_week``): the model holds no one before the state's date, so a week
    begun on a Sunday showed a seventh of the clinic's census."""
    if begins is not None:
        weekly = weekly[weekly["date"] >= pd.Timestamp(begins)]
    w = weekly.assign(discharges=weekly[[f"discharged_{r}" for r in DISCHARGE_REASONS]].sum(axis=1))
    if as_recorded:
        w = w.assign(iop_census=w["iop_census_recorded"], iop_waitlist=w["iop_waitlist_recorded"])
        recorded = [c for c in w.columns if c.startswith(LEVEL_RECORDED)]
        w = w.assign(**{c.replace("_recorded[", "["): w[c] for c in recorded})
    rows = []
    for series in forecast_series(w):
        grouped = w.groupby(["week", "date"])[series]
        q = grouped.quantile(list(QUANTILES)).unstack()
        q.columns = ["p5", "p25", "p50", "p75", "p95"]
        q["mean"] = grouped.mean()
        rows.append(q.reset_index().assign(series=series))
    return pd.concat(rows, ignore_index=True)[
        ["series", "week", "date", "p5", "p25", "p50", "p75", "p95", "mean"]
    ]


def partial_week(begins) -> str:
    """The sentence a forecast from a state dated after its week's Monday says: that week is
    left out of its bands (``forecast_bands``); '' when the state falls on a Monday."""
    day = pd.Timestamp(begins)
    if day.weekday() == 0:
        return ""
    monday = (day - pd.Timedelta(days=day.weekday())).date()
    return (
        f"The week of {monday} is left out: the forecast begins on {day.date()} "
        f"({day.day_name()}), part-way through it, with no one held before then."
    )


LEVEL_RECORDED = ("level_census_recorded[", "level_waitlist_recorded[")
"""A level's series as dated records count them (``tables.level_recorded``)."""

BACKTEST_SERIES = ("referrals", "iop_census", "iop_waitlist", "admissions")
"""Compared with the extract: referrals (demand: where losses before assessment grow with the
wait, a surge shows here before it shows in the IOP), the IOP census, the IOP waitlist (joining
it to the first IOP day, or giving up: a client placed on a track waits for its next session)
and admissions."""


def backtest_series(observed: pd.DataFrame) -> list[str]:
    """The series a back-test compares: ``BACKTEST_SERIES``, then each level of care's places
    held and waiting list where the records have them (a continuum's)."""
    levels = [c for c in observed.columns if c.startswith(("level_census[", "level_waitlist["))]
    return [*BACKTEST_SERIES, *sorted(levels)]


def backtest_table(bands: pd.DataFrame, observed: pd.DataFrame, last: dict) -> pd.DataFrame:
    """Per series (``backtest_series``): the share of weeks whose observed value falls inside
    the 50% and 90% bands, the mean absolute error of the median forecast and of the naive
    forecast (the last value seen before the forecast carried forward), and which was
    better."""
    rows = []
    for series in backtest_series(observed):
        b = bands[bands["series"] == series].set_index("week")
        o = observed.set_index("week")[series]
        weeks = [w for w in o.index if w in b.index]
        if not weeks:
            continue
        y = o.loc[weeks].to_numpy(float)
        b = b.loc[weeks]
        inside50 = (y >= b["p25"].to_numpy() - 1e-9) & (y <= b["p75"].to_numpy() + 1e-9)
        inside90 = (y >= b["p5"].to_numpy() - 1e-9) & (y <= b["p95"].to_numpy() + 1e-9)
        mae = float(np.abs(y - b["p50"].to_numpy()).mean())
        naive = float(np.abs(y - last[series]).mean())
        rows.append(
            {
                "series": series,
                "weeks": len(weeks),
                "coverage_50": float(inside50.mean()),
                "coverage_90": float(inside90.mean()),
                "mae_model": mae,
                "mae_naive": naive,
                "model_better": mae <= naive,
                # weeks above the 90% band less weeks below it, as a share: a run of one
                # sign says the clinic moved one way (its capacity or demand changed)
                "above_minus_below_90": float(
                    ((y > b["p95"].to_numpy() + 1e-9).sum() - (y < b["p5"].to_numpy() - 1e-9).sum())
                    / len(weeks)
                ),
            }
        )
    return pd.DataFrame(rows)
