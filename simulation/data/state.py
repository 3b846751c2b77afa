"""Where the clinic stood on a date, read from its extract: who waited, who was in care and
since when (a scenario's ``[state]``); and what its weekly series were afterwards (for
back-tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.data.extract import LOSS_KNOWN_AFTER_DAYS, Episodes, at_iop


def state_on(episodes: Episodes) -> dict:
    """The ``[state]`` table at the extract's date: clients waiting for intake or the IOP, in
    the IOP (track), in outpatient step-down and at other levels of care (a level column),
    each with the date they entered that stage.
    Nothing that identifies a client is kept."""
    everyone = episodes.table
    iop = at_iop(everyone)  # (the other rows are stays at other levels of care)
    t = everyone[iop]
    day = episodes.as_of
    clients = []

    def add(rows: pd.DataFrame, stage, since: str) -> None:
        """``stage``: the stage, or (a level's rows) the stage given the row's level."""
        for row in rows.itertuples():
            at = stage(row.level) if callable(stage) else stage
            item = {"stage": at, "since": getattr(row, since).date(), "source": row.source}
            if stage == "iop" and row.track:
                item["track"] = row.track
            for key in ("site", "region"):  # (a network's records)
                if getattr(row, key, ""):
                    item[key] = getattr(row, key)
            clients.append(item)

    before = lambda column: everyone[column].notna() & (everyone[column] <= day)  # noqa: E731
    not_yet = lambda column: everyone[column].isna() | (everyone[column] > day)  # noqa: E731
    # (a client who joined the IOP waitlist or began without an assessment on record, as one
    # stepping down from another level of care does, is not waiting for intake)
    waiting_intake = (
        iop
        & before("referral_date")
        & not_yet("assessment_date")
        & not_yet("waitlist_date")
        & not_yet("iop_start_date")
        & (everyone["assessment_outcome"] != "lost")
    )
    add(everyone[waiting_intake], "intake_waitlist", "referral_date")
    chance = lost_chance(t, day)
    referred = everyone.loc[waiting_intake, "referral_date"]
    waited = (day - referred).dt.days.to_numpy()
    for item, d, weekday in zip(clients, waited, referred.dt.day_of_week, strict=True):
        p = chance(int(d), int(weekday))
        if p is not None:
            item["lost_chance"] = round(p, 4)
    # assessed for the IOP and not yet on its waitlist: waiting for the payer's authorisation
    # or an evaluation first (the records say nothing of one who gives up then: one assessed
    # longer ago than nearly every past client took to join is taken as gone)
    window = joining_window(t, day)
    assessed = (
        iop
        & before("assessment_date")
        & (everyone["assessment_outcome"] == "iop")
        & not_yet("waitlist_date")
        & not_yet("iop_start_date")
        & not_yet("waitlist_exit_date")
        & ((day - everyone["assessment_date"]).dt.days <= window)
    )
    add(everyone[assessed], "authorisation", "assessment_date")
    waiting_iop = (
        iop & before("waitlist_date") & not_yet("iop_start_date") & not_yet("waitlist_exit_date")
    )
    add(everyone[waiting_iop], "iop_waitlist", "waitlist_date")
    # in care: the IOP's rows in the IOP, a level's rows holding a place there (the stage is
    # the level's name)
    in_care = before("iop_start_date") & not_yet("iop_end_date")
    add(everyone[in_care & iop], "iop", "iop_start_date")
    in_op = iop & before("step_down_start_date") & not_yet("step_down_end_date")
    add(everyone[in_op], "op", "step_down_start_date")
    add(everyone[in_care & ~iop], lambda level: level, "iop_start_date")  # holding a place
    # waiting for a place at a level: its row begun (joined the queue), not yet admitted
    waiting_level = ~iop & before("referral_date") & not_yet("iop_start_date")
    # (one who left its waitlist without a place, gave up or relapsed, has left)
    waiting_level &= not_yet("waitlist_exit_date") & not_yet("iop_end_date")
    add(everyone[waiting_level], lambda level: f"{level}_waitlist", "referral_date")
    return {"as_of": day.date(), "clients": clients}


JOINING_QUANTILE = 0.99
"""(state_on) The share of past clients who had joined the IOP waitlist (or begun) within the
window after their assessment: one assessed for the IOP longer ago and still not on it is
taken as gone."""


def joining_window(t: pd.DataFrame, day: pd.Timestamp) -> float:
    """Days from an assessment for the IOP to joining its waitlist (or the first IOP day, for
    one placed at once) within which nearly every past client (``JOINING_QUANTILE``) joined;
    0 where no past client informs it (then only those assessed that day count as waiting)."""
    joined = t["waitlist_date"].where(t["waitlist_date"].notna(), t["iop_start_date"])
    past = (
        (t["assessment_outcome"] == "iop")
        & t["assessment_date"].notna()
        & joined.notna()
        & (joined <= day)
    )
    delay = (joined[past] - t.loc[past, "assessment_date"]).dt.days.to_numpy(dtype=float)
    if not len(delay):
        return 0.0
    return float(np.ceil(np.quantile(np.clip(delay, 0, None), JOINING_QUANTILE)))


def lost_chance(t: pd.DataFrame, day: pd.Timestamp):
    """For a referral still waiting for intake ``d`` days after it came (its fate unknown):
    the share lost among past referrals (fates known) not assessed before day ``d`` (one
    assessed on the state's date is still waiting in the state), of those referred on the
    same weekday where at least 20 inform it (intake clinics run on some days, so a Friday's
    referral waits otherwise than a Monday's), else of all. A referral waiting longer than a
    loss takes to be recorded (docs/data.md) is not lost. None where fewer than 20 past
    referrals inform it."""
    past = t[t["referral_date"] <= day - pd.Timedelta(days=LOSS_KNOWN_AFTER_DAYS)]
    lost = (past["assessment_outcome"] == "lost").to_numpy()
    wait = (past["assessment_date"] - past["referral_date"]).dt.days.to_numpy(dtype=float)
    wait = np.where(np.isnan(wait), np.inf, wait)  # not assessed yet (nor lost)
    weekday = past["referral_date"].dt.day_of_week.to_numpy()

    def chance(d: int, referred_on: int | None = None) -> float | None:
        if d >= LOSS_KNOWN_AFTER_DAYS:
            return 0.0
        still = lost | (wait >= d)
        if referred_on is not None:
            same = still & (weekday == referred_on)
            if same.sum() >= 20:
                return float(lost[same].mean())
        if still.sum() < 20:
            return None
        return float(lost[still].mean())

    return chance


def direct_sources(scenario) -> dict[str, str]:
    """A scenario's sources that refer straight to a level of care: source -> level."""
    return {s.name: s.level for s in scenario.referrals.sources if s.level not in ("", "iop")}


def referral_rows(table: pd.DataFrame, direct: dict[str, str] | None = None) -> pd.DataFrame:
    """The rows of an extract that are new referrals. ``direct``: the sources that refer
    straight to a level of care (source -> level, the scenario's sources with a ``level``):
    their referrals are that level's rows, and their IOP rows are clients who came on from the
    level. Every other source's referrals are its IOP rows (its rows at a level came there from
    intake or the IOP)."""
    iop = at_iop(table)
    if not direct:
        return table[iop]
    at_levels = table[~iop]
    return pd.concat(
        [
            table[iop & ~table["source"].isin(direct)],
            at_levels[at_levels["source"].map(direct) == at_levels["level"]],
        ]
    )


def weekly_observed(
    episodes: Episodes, monday: pd.Timestamp, weeks: int, direct: dict[str, str] | None = None
) -> pd.DataFrame:
    """Observed weekly series from ``monday`` on: referrals (``referral_rows``: with
    ``direct``, a level's direct referrals counted and the clients it sends on to the IOP
    not), mean daily IOP census and IOP waitlist (counted as the model's ``*_recorded`` series
    are), and admissions (first IOP days) in each week."""
    from simulation.results import recorded_weekly

    t = episodes.table[at_iop(episodes.table)]
    new = referral_rows(episodes.table, direct)

    def days(column: str) -> np.ndarray:
        return ((t[column] - monday).dt.days).to_numpy(dtype=float)

    start = days("iop_start_date")
    left_waitlist = np.where(np.isnan(start), days("waitlist_exit_date"), start)
    week_of = start[np.isfinite(start)] // 7
    week_of = week_of[(week_of >= 0) & (week_of < weeks)].astype(int)
    referred = ((new["referral_date"] - monday).dt.days).to_numpy(dtype=float) // 7
    referred = referred[(referred >= 0) & (referred < weeks)].astype(int)
    observed = pd.DataFrame(
        {
            "week": np.arange(weeks),
            "date": pd.date_range(monday, periods=weeks, freq="7D"),
            "iop_census": recorded_weekly(start, days("iop_end_date"), weeks),
            "iop_waitlist": recorded_weekly(days("waitlist_date"), left_waitlist, weeks),
            "admissions": np.bincount(week_of, minlength=weeks)[:weeks],
            "referrals": np.bincount(referred, minlength=weeks)[:weeks],
        }
    )
    # each level of care: places held (admission to discharge) and waiting for one (its row
    # begun to admission, or to its waitlist exit for one who left the queue), as the model's
    # level_*_recorded series count them
    stays = episodes.table[~at_iop(episodes.table)]  # (none without a level column)
    for level in sorted(set(stays["level"])) if len(stays) else []:
        mine = stays[stays["level"] == level]
        at = {c: ((mine[c] - monday).dt.days).to_numpy(dtype=float) for c in STAY_DATES}
        admitted, ended = at["iop_start_date"], at["iop_end_date"]
        observed[f"level_census[{level}]"] = recorded_weekly(admitted, ended, weeks)
        observed[f"level_waitlist[{level}]"] = recorded_weekly(
            at["referral_date"],
            np.where(np.isnan(admitted), at["waitlist_exit_date"], admitted),
            weeks,
        )
    return observed


STAY_DATES = ("referral_date", "iop_start_date", "iop_end_date", "waitlist_exit_date")
"""A level's row in an extract: joined the level's queue, admitted, left; or left the queue
without a place (gave up, or relapsed on the way)."""
