"""Where the clinic stood on a date, read from its extract: who waited, who was in care and
since when (a scenario's ``[state]``); and what its weekly series were afterwards (for
back-tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.data.extract import Episodes


def state_on(episodes: Episodes) -> dict:
    """The ``[state]`` table at the extract's date: clients waiting for intake or the IOP, in
    the IOP (track) and in outpatient step-down, each with the date they entered that stage.
    Nothing that identifies a client is kept."""
    t = episodes.table
    day = episodes.as_of
    clients = []

    def add(rows: pd.DataFrame, stage: str, since: str) -> None:
        for row in rows.itertuples():
            item = {"stage": stage, "since": getattr(row, since).date(), "source": row.source}
            if stage == "iop" and row.track:
                item["track"] = row.track
            clients.append(item)

    before = lambda column: t[column].notna() & (t[column] <= day)  # noqa: E731
    not_yet = lambda column: t[column].isna() | (t[column] > day)  # noqa: E731
    waiting_intake = (
        before("referral_date") & not_yet("assessment_date") & (t["assessment_outcome"] != "lost")
    )
    add(t[waiting_intake], "intake_waitlist", "referral_date")
    waiting_iop = (
        before("waitlist_date") & not_yet("iop_start_date") & not_yet("waitlist_exit_date")
    )
    add(t[waiting_iop], "iop_waitlist", "waitlist_date")
    in_iop = before("iop_start_date") & not_yet("iop_end_date")
    add(t[in_iop], "iop", "iop_start_date")
    in_op = before("step_down_start_date") & not_yet("step_down_end_date")
    add(t[in_op], "op", "step_down_start_date")
    return {"as_of": day.date(), "clients": clients}


def weekly_observed(episodes: Episodes, monday: pd.Timestamp, weeks: int) -> pd.DataFrame:
    """Observed weekly series from ``monday`` on: mean daily IOP census and IOP waitlist, and
    admissions (first IOP days) in each week."""
    t = episodes.table
    days = pd.date_range(monday, periods=7 * weeks, freq="D")
    far = np.datetime64("2200-01-01", "ns")

    def daily_count(start: pd.Series, end: pd.Series) -> np.ndarray:
        s = start.dropna()
        e = end.reindex(s.index).to_numpy(dtype="datetime64[ns]")
        e = np.where(np.isnat(e), far, e)  # still open at the extract's end
        starts = np.sort(s.to_numpy(dtype="datetime64[ns]"))
        ends = np.sort(e)
        at = days.to_numpy(dtype="datetime64[ns]") + np.timedelta64(12, "h")  # midday
        return np.searchsorted(starts, at, "right") - np.searchsorted(ends, at, "right")

    census = daily_count(t["iop_start_date"], t["iop_end_date"])  # (waiting: until day one)
    left_waitlist = t["iop_start_date"].combine_first(t["waitlist_exit_date"])
    waitlist = daily_count(t["waitlist_date"], left_waitlist)
    started = t["iop_start_date"].dropna()
    week_of = ((started - monday).dt.days // 7).to_numpy()
    admissions = np.bincount(week_of[(week_of >= 0) & (week_of < weeks)], minlength=weeks)
    return pd.DataFrame(
        {
            "week": np.arange(weeks),
            "date": pd.date_range(monday, periods=weeks, freq="7D"),
            "iop_census": census.reshape(weeks, 7).mean(axis=1),
            "iop_waitlist": waitlist.reshape(weeks, 7).mean(axis=1),
            "admissions": admissions[:weeks],
        }
    )
