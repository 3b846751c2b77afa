"""Patience from records: how long clients wait for a place before they give up, by censored
maximum likelihood over their waits. Records give days, not hours, and not when a place was
offered, so each wait is the time the client was at risk of giving up as the model counts it:

- one who gave up: from joining the waitlist to leaving it;
- one still waiting: to the extract's date;
- one placed: to when the place was offered. The model offers a seat the moment one is free
  and the client starts at their track's next session, not at risk in between. Joined with
  nobody of their age group waiting all that day and started at their track's next session,
  they were offered it at once (never at risk); otherwise some time between their track's
  last session day before their first day (or joining, if later) and that first day: the
  middle of it is taken. Counted to the first day, as before, a clinic with seats to spare (most placed the day they joined, starting
  days later at the next session) had its patience fitted 1.3-2.3 times too long (32-57 days
  against a true 25; two of three 95% intervals above the truth).

Exponential (a constant hazard, as in Erlang A), not the best of several families by AIC:
the waits observed are mostly far shorter than the patience, so the families' means differ
by how they extrapolate a tail no record shows, and AIC chose by the day-heaping (on the
baseline's own records a gamma of mean 30-37 days against the true exponential 25).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.clock import WEEKDAYS
from simulation.fit.survival import Fit, best_fit

SAME_DAY = 1 / 3
"""Days counted for a wait that began and ended on one date: between two moments of one day,
in order, a third of it on average (a wait of whole days d is d on average as it stands)."""

PLACED_AT_ONCE = 0.01
"""Days counted for one placed the moment they joined (never at risk of giving up)."""


def fit_patience(durations: np.ndarray, gave_up: np.ndarray) -> Fit | None:
    """The exponential patience of waits ``durations`` (days at risk) of which ``gave_up``
    ended by giving up (the others censored)."""
    fit, _ = best_fit(durations, gave_up, families=("exponential",))
    return fit


def days_at_risk(
    waited: pd.DataFrame, gave_up: pd.Series, as_of: pd.Timestamp, session_days: dict
) -> np.ndarray:
    """Each IOP waitlist row's days at risk of giving up (see the module's text):
    ``waited`` has waitlist_date, waitlist_exit_date, iop_start_date, age_group and track;
    ``session_days``: each track's weekdays (0: Monday) of sessions."""
    join = waited["waitlist_date"]
    start = waited["iop_start_date"]
    placed = start.notna().to_numpy() & ~gave_up.to_numpy()
    left = waited["waitlist_exit_date"].where(gave_up, start)
    ahead = waiting_through(join, left, waited["age_group"].to_numpy(dtype=object))
    # placed at once: nobody ahead, and started at the track's next session after joining
    at_once = (
        placed
        & (ahead == 0)
        & (start <= _next_session(join, waited["track"], session_days)).to_numpy()
    )
    offered = _offered(join, start, waited["track"], session_days)
    end = left.fillna(as_of).mask(placed, offered)
    days = (end - join).dt.total_seconds().to_numpy(dtype=float) / 86400.0
    return np.where(at_once, PLACED_AT_ONCE, np.maximum(days, SAME_DAY))


def waiting_through(joined: pd.Series, left: pd.Series, groups: np.ndarray) -> np.ndarray:
    """For each row, how many others of its group (``groups``: a queue's lane each) joined
    before the day it joined and were still waiting after that day (``left`` blank: still
    waiting at the extract's date)."""
    epoch = pd.Timestamp("1970-01-01")
    day = (joined - epoch).dt.days.to_numpy(dtype=float)
    out = (left - epoch).dt.days.to_numpy(dtype=float)
    out = np.where(np.isnan(out), np.inf, out)
    ahead = np.zeros(len(joined), dtype=np.int64)
    for group in sorted(set(groups)):
        mine = groups == group
        d, o = day[mine], out[mine]
        joined_by, gone_by = np.sort(d), np.sort(o)
        same = pd.Series(d[d == o]).value_counts()
        # #(joined before D) - #(gone by D) + #(joined and gone on D itself)
        ahead[mine] = (
            np.searchsorted(joined_by, d, "left")
            - np.searchsorted(gone_by, d, "right")
            + pd.Series(d).map(same).fillna(0).to_numpy(dtype=np.int64)
        )
    return ahead


def _next_session(join: pd.Series, track: pd.Series, session_days: dict) -> pd.Series:
    """The day of each client's track's next session after the day they joined."""
    return join + pd.to_timedelta(_days_to_session(join, track, session_days, 1), unit="D")


def _offered(join: pd.Series, start: pd.Series, track: pd.Series, session_days: dict) -> pd.Series:
    """When a client placed after waiting was offered their seat: the middle of the days from
    their track's last session day before their first day (or joining, if later) to it."""
    back = _days_to_session(start, track, session_days, -1)
    previous = start - pd.to_timedelta(back, unit="D")
    low = previous.where(previous > join, join)
    return low + (start - low) / 2


def _days_to_session(
    dates: pd.Series, track: pd.Series, session_days: dict, way: int
) -> np.ndarray:
    """Days from each date on (``way`` 1) or back (-1) to the nearest other day its track
    meets (1 to 7; a track the scenario lacks: any track's days; NaN for no date)."""
    every = set().union(*session_days.values()) if session_days else set(range(7))
    weekday = dates.dt.day_of_week.to_numpy(dtype=float)
    out = np.full(len(dates), np.nan)
    names = track.fillna("")
    for name in sorted(set(names)):
        days = session_days.get(name) or every
        gaps = np.array([min((way * (d - w) % 7) or 7 for d in days) for w in range(7)])
        known = (names == name).to_numpy() & ~np.isnan(weekday)
        out[known] = gaps[weekday[known].astype(int)]
    return out


def session_weekdays(tracks: list[dict]) -> dict[str, set[int]]:
    """Each track's weekdays of sessions (0: Monday) from a scenario's data."""
    return {t["name"]: {WEEKDAYS.index(d) for d in t.get("days", [])} for t in tracks}
