"""A replication's result tables: the weekly table, resource use by week, hours by client and week, caseloads, hourly capacity and activity hours."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation import clock
from simulation.clock import HOURS_PER_DAY, HOURS_PER_WEEK
from simulation.config import DISCHARGE_REASONS, Scenario, roster_intervals
from simulation.kpis import (
    UTILISATION_PREFIX,
)
from simulation.model.levels import BLOCKED, CENSUS, WAITING
from simulation.model.recorder import BLOCKING, Recorder, busy_by_week, column
from simulation.results.money import (
    IOP_SERVICES,
    _daily_revenue,
    billable_days,
    claims,
    level_money,
    payer_lookup,
    staffed_cost,
    video_lookup,
)
from simulation.results.queues import SITE_QUEUE


def resource_groups(
    scenario: Scenario, employment: list | None = None
) -> tuple[list[tuple[str, str, str]], dict[str, str]]:
    """The resources reported on, as (name, kind, role) for each staff pool then each room,
    and the group each person or room belongs to (``employment``: a replication's people,
    replacements and locums included)."""
    groups = [(pool, "staff", p.role) for pool, p in scenario.staff.items()]
    groups += [(r.name, "room", "room") for r in scenario.rooms]
    groups += [(o.name, "office", "office") for o in scenario.offices]
    people = employment if employment is not None else scenario.people()
    group_of = {row[0]: row[1] for row in people}
    group_of.update({unit: o.name for o in scenario.offices for unit in o.units()})
    return groups, group_of


def resource_weeks(scenario: Scenario, recorder: Recorder, staff) -> pd.DataFrame:
    """Busy (client-facing), indirect (reserved supervision, meetings and case management, and
    documentation) and available hours per week for each staff pool and each room."""
    weeks = scenario.total_weeks
    groups, group_of = resource_groups(scenario, recorder.employment or None)
    names = [g[0] for g in groups]
    busy = busy_by_week(recorder.busy_log, group_of, names, weeks)
    indirect = busy_by_week(recorder.indirect_log, group_of, names, weeks)
    available = np.zeros((len(groups), weeks))
    position = {name: i for i, name in enumerate(names)}
    for person in staff.people.values():
        available[position[person.pool]] += person.available_hours(weeks)
        indirect[position[person.pool]] += person.indirect_by_week(weeks)
    for room in scenario.rooms:
        available[position[room.name]] = sum(e - s for s, e in roster_intervals(room.available))
    for office in scenario.offices:
        open_hours = sum(e - s for s, e in roster_intervals(office.available))
        available[position[office.name]] = office.count * open_hours
    return pd.DataFrame(
        {
            "week": np.tile(np.arange(weeks), len(groups)),
            "resource": column(np.repeat(np.array(names, dtype=object), weeks), "str"),
            "kind": column(np.repeat(np.array([g[1] for g in groups], dtype=object), weeks), "str"),
            "role": column(np.repeat(np.array([g[2] for g in groups], dtype=object), weeks), "str"),
            "busy_hours": busy.ravel(),
            "indirect_hours": indirect.ravel(),
            "available_hours": available.ravel(),
        }
    )


def recorded_weekly(first_day: np.ndarray, last_day: np.ndarray, weeks: int) -> np.ndarray:
    """The weekly mean of a daily count taken at midday from dated records: on day k (days
    from week zero's Monday) those whose stage began on or before day k and did not end on or
    before it (no end: still in it). How a clinic's extract counts its census or waitlist."""
    begun = first_day[np.isfinite(first_day)]
    ended = last_day[np.isfinite(first_day)]
    ended = np.sort(np.where(np.isnan(ended), np.inf, ended))
    begun = np.sort(begun)
    k = np.arange(7 * weeks) + 0.5
    daily = np.searchsorted(begun, k, "right") - np.searchsorted(ended, k, "right")
    return daily.reshape(weeks, 7).mean(axis=1)


def level_recorded(visits: pd.DataFrame, names: list[str], weeks: int) -> dict[str, tuple]:
    """Each level's places held and waiting list as a clinic's dated records count them
    (``recorded_weekly``: a level's row runs from joining its queue to admission, then to
    leaving): level -> (census, waitlist), weekly means of daily midday counts."""
    if not names:
        return {}
    days = {
        c: np.floor(visits[c].to_numpy(dtype=float) / HOURS_PER_DAY)
        for c in ("queued", "admitted", "left")
    }
    level = visits["level"].to_numpy(dtype=object)
    until = np.where(np.isnan(days["admitted"]), days["left"], days["admitted"])
    return {
        name: (
            recorded_weekly(days["admitted"][level == name], days["left"][level == name], weeks),
            recorded_weekly(days["queued"][level == name], until[level == name], weeks),
        )
        for name in names
    }


LEVEL_SERIES = {"level_census": CENSUS, "level_waitlist": WAITING, "level_blocked": BLOCKED}
"""Weekly columns of each level of care (``level_census[php]``, ...): places held (blocked
clients included), clients waiting for a place, clients blocked (ready to go on, waiting for
the next place)."""


def weekly_table(
    scenario: Scenario,
    recorder: Recorder,
    resources: pd.DataFrame,
    clients: pd.DataFrame,
    attendance: pd.DataFrame,
    sessions: pd.DataFrame,
    visits: pd.DataFrame,
) -> pd.DataFrame:
    """One row per simulated week (warm-up included, flagged); ``visits``: the stays at levels
    of care (``visit_table``)."""
    weeks = scenario.total_weeks
    edges = np.arange(weeks + 1) * HOURS_PER_WEEK
    monday = pd.Timestamp(clock.week_zero_monday(scenario.start_date))
    cols: dict[str, np.ndarray] = {
        "week": np.arange(weeks),
        "date": monday + pd.to_timedelta(np.arange(weeks) * 7, unit="D"),
        "warmup": np.arange(weeks) < scenario.measured_from_week,
    }
    m = recorder.monitors
    for name in ("intake_waitlist", "iop_waitlist", "op_waitlist", "blocked"):
        cols[name] = m[name].bin_means(edges)
    cols["op_census"] = m["op"].bin_means(edges)
    cols["iop_census"] = m["iop"].bin_means(edges) + cols["blocked"]
    cols["seat_occupancy"] = m["seats_held"].bin_means(edges) / sum(
        t.seats for t in scenario.tracks
    )
    for name in BLOCKING:
        cols[f"admission_{name}"] = m[name].bin_means(edges)
    for level in sorted(level.name for level in scenario.levels):
        for series, prefix in LEVEL_SERIES.items():
            cols[f"{series}[{level}]"] = m[prefix + level].bin_means(edges)

    def count_by_week(times) -> np.ndarray:
        t = np.asarray(times, dtype=float)
        w = (t[np.isfinite(t)] // HOURS_PER_WEEK).astype(int)
        # (a client on the books when a run starts from a state has dates before it)
        return np.bincount(w[(w >= 0) & (w < weeks)], minlength=weeks)

    status = clients["status"].to_numpy(dtype=object)
    reason = clients["exit_reason"].to_numpy(dtype=object)
    cols["referrals"] = count_by_week(clients["referred"])
    cols["admissions"] = count_by_week(clients["iop_start"])
    iop_end = clients["iop_end"].to_numpy(dtype=float)
    left = clients["left"].to_numpy(dtype=float)
    for r in DISCHARGE_REASONS:
        cols[f"discharged_{r}"] = count_by_week(iop_end[reason == r])
    cols["lost"] = count_by_week(left[status == "lost"])
    # the census and IOP waitlist as a clinic's dated records show them (back-tests compare
    # these with the extract: counted at midday of each day, from the dates alone)
    days = lambda column: np.floor(clients[column].to_numpy(dtype=float) / HOURS_PER_DAY)  # noqa: E731
    start = days("iop_start")
    gave_up = np.where((status == "lost") & np.isnan(start), days("left"), np.nan)
    cols["iop_census_recorded"] = recorded_weekly(start, days("iop_end"), weeks)
    cols["iop_waitlist_recorded"] = recorded_weekly(
        days("iop_waitlisted"), np.where(np.isnan(start), gave_up, start), weeks
    )
    names = sorted(level.name for level in scenario.levels)
    for level, (census, waiting) in level_recorded(visits, names, weeks).items():
        cols[f"level_census_recorded[{level}]"] = census  # (as the records count them)
        cols[f"level_waitlist_recorded[{level}]"] = waiting
    if scenario.sites:  # a network: each site's IOP waitlist, counted the same way
        site = clients["site"].to_numpy(dtype=object)
        joined, until = days("iop_waitlisted"), np.where(np.isnan(start), gave_up, start)
        for name in sorted(s.name for s in scenario.sites):
            at = site == name
            cols[f"{SITE_QUEUE}{name}]"] = recorded_weekly(joined[at], until[at], weeks)
    cols["turned_away"] = count_by_week(left[status == "turned_away"])

    busy = resources["busy_hours"].to_numpy().reshape(-1, weeks)
    available = resources["available_hours"].to_numpy().reshape(-1, weeks)
    names = resources["resource"].to_numpy()[::weeks]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(available > 0, busy / np.where(available > 0, available, 1), np.nan)
    for i, name in enumerate(names):
        cols[f"{UTILISATION_PREFIX}{name}"] = ratio[i]

    held = sessions["held"].to_numpy(dtype=bool)
    session_week = sessions["week"].to_numpy(dtype=int)
    held_weeks = session_week[held]
    cols["sessions_held"] = np.bincount(held_weeks, minlength=weeks)[:weeks]
    cancelled_weeks = session_week[sessions["cancelled"].to_numpy(dtype=bool)]
    cols["sessions_cancelled"] = np.bincount(cancelled_weeks, minlength=weeks)[:weeks]
    attendees = sessions["attendees"].to_numpy(float)[held]
    size_sum = np.bincount(held_weeks, weights=attendees, minlength=weeks)[:weeks]
    with np.errstate(invalid="ignore", divide="ignore"):
        cols["mean_group_size"] = np.where(
            cols["sessions_held"] > 0, size_sum / cols["sessions_held"], np.nan
        )

    payers = payer_lookup(scenario, clients)
    days = billable_days(scenario, attendance, payers)
    billed_days = days["day"].to_numpy()[days["billable"].to_numpy(dtype=bool)]
    billed_weeks = (billed_days // 7).clip(max=weeks - 1)
    cols["billable_days"] = np.bincount(billed_weeks, minlength=weeks)[:weeks]
    every_claim = claims(scenario, days, attendance, payers, video_lookup(scenario, clients))
    daily = _daily_revenue(every_claim)
    if scenario.payers:  # (kept for the payers' KPIs: computed once)
        recorder.claims = every_claim
    revenue = np.zeros(weeks)
    np.add.at(revenue, (daily.index.to_numpy() // 7).clip(max=weeks - 1), daily.to_numpy())
    cols["revenue"] = revenue
    cols["cost"] = staffed_cost(scenario, recorder.employment, weeks)
    for level in sorted(scenario.levels, key=lambda level: level.name):  # money of each level
        earned, spent = level_money(
            scenario,
            level,
            cols[f"level_census[{level.name}]"],
            cols[f"level_blocked[{level.name}]"],
            visits,
            payers,
            edges,
        )
        cols[f"level_revenue[{level.name}]"], cols[f"level_cost[{level.name}]"] = earned, spent
        cols["revenue"] = cols["revenue"] + earned
        cols["cost"] = cols["cost"] + spent
    cols["margin"] = cols["revenue"] - cols["cost"]
    return pd.DataFrame(cols)


def hours_by_client_week(
    scenario: Scenario, clients: pd.DataFrame, attendance: pd.DataFrame
) -> pd.DataFrame:
    """IOP hours attended in each full week a client spent in the IOP, with the week's rule."""
    rule = {t.name: t.hours_rule for t in scenario.tracks}
    end_of_run = scenario.total_weeks * HOURS_PER_WEEK
    iop_start = clients["iop_start"].to_numpy(dtype=float)
    started = ~np.isnan(iop_start)
    first = np.ceil(iop_start[started] / HOURS_PER_WEEK).astype(int).clip(min=0)
    last_end = clients["iop_end"].to_numpy(dtype=float)[started]
    last_end = np.where(np.isnan(last_end), end_of_run, last_end)
    last = np.floor(last_end / HOURS_PER_WEEK).astype(int)  # weeks [first, last) are full
    counts = np.maximum(last - first, 0)
    ids = np.repeat(clients["id"].to_numpy(dtype=np.int64)[started], counts)
    # each client's weeks first, first + 1, ...: a running count restarted at each client
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    weeks = np.repeat(first, counts) + offset
    track = clients["track"].to_numpy(dtype=object)[started]
    rule_hours = np.array([rule.get(t, np.nan) for t in track], dtype=float)
    kind = attendance["kind"].to_numpy(dtype=object)
    iop = np.isin(kind, list(IOP_SERVICES))
    came = (attendance["time"].to_numpy(dtype=float)[iop] // HOURS_PER_WEEK).astype(np.int64)
    span = max(int(weeks.max()) if len(weeks) else 0, int(came.max()) if len(came) else 0) + 1
    key = attendance["client_id"].to_numpy(dtype=np.int64)[iop] * span + came
    # (pandas' grouped sum: the same compensated sum, in the same order, as before)
    sums = pd.Series(attendance["hours"].to_numpy(dtype=float)[iop]).groupby(key).sum()
    hours = np.zeros(len(ids))
    if len(sums):
        keys, values = sums.index.to_numpy(), sums.to_numpy()
        wanted = ids * span + weeks
        at = np.searchsorted(keys, wanted).clip(max=len(keys) - 1)
        hours = np.where(keys[at] == wanted, values[at], 0.0)
    return pd.DataFrame(
        {
            "client_id": ids,
            "week": weeks.astype(int),
            "track": column(np.repeat(track, counts), "str"),
            "rule_hours": np.repeat(rule_hours, counts),
            "hours": hours,
            "meets_rule": hours >= np.repeat(rule_hours, counts) - 1e-9,
        }
    )


def caseload_table(scenario: Scenario, clients: pd.DataFrame, staff) -> pd.DataFrame:
    """Each primary therapist's mean IOP caseload over the reporting period, against the cap
    (a place is held from placement on the waitlist to leaving the IOP) and the share of the
    period they were in post (a leaver's or a joiner's places count for the weeks they were
    there: counted for the whole period, a summer vacancy read as caseload places left
    empty). ``occupancy``: places held / places offered while in post."""
    start = scenario.measured_from_week * HOURS_PER_WEEK
    end = scenario.total_weeks * HOURS_PER_WEEK
    full_time = scenario.finance.full_time_hours
    caps = {name: pool.caseload_caps(full_time)[0] for name, pool in scenario.staff.items()}
    first, last = scenario.measured_from_week, scenario.total_weeks

    def in_post(p) -> float:
        gone = last if p.gone_week is None else min(p.gone_week, last)
        return max(0, gone - max(p.first_week, first)) / max(last - first, 1)

    people = [
        p
        for p in staff.members(scenario.iop.therapist_pools)
        if caps[p.pool] > 0 and in_post(p) > 0
    ]
    therapist = clients["therapist"].to_numpy(dtype=object)
    held = therapist != ""
    began = clients["placed"].to_numpy(dtype=float)[held]
    ended = clients["iop_end"].to_numpy(dtype=float)[held]
    ended = np.where(np.isfinite(ended), ended, end)
    overlap = np.clip(np.minimum(ended, end) - np.maximum(began, start), 0, None)
    # (pandas' grouped sum: the same compensated sum, in the same order, as before)
    mean_held = pd.Series(overlap, index=therapist[held]).groupby(level=0).sum()
    cap = np.array([caps[p.pool] for p in people], dtype=np.int64)
    share = np.array([in_post(p) for p in people], dtype=float)
    mean_caseload = np.array(
        [float(mean_held.get(p.name, 0.0)) / (end - start) for p in people], dtype=float
    )
    return pd.DataFrame(
        {
            "therapist": column([p.name for p in people], "str"),
            "pool": column([p.pool for p in people], "str"),
            "cap": cap,
            "in_post_share": share,
            "mean_caseload": mean_caseload,
            "occupancy": mean_caseload / (cap * share),
        }
    )


def hourly_capacity(scenario: Scenario) -> np.ndarray:
    """Person-hours (staff pools) or open hours (rooms) in each hour of the week: an array
    (resources x 168) in the order of ``resource_groups``."""
    rosters = [(pool.size, roster_intervals(pool.roster)) for pool in scenario.staff.values()]
    rosters += [(1, roster_intervals(room.available)) for room in scenario.rooms]
    rosters += [(o.count, roster_intervals(o.available)) for o in scenario.offices]
    out = np.zeros((len(rosters), 168))
    for i, (size, intervals) in enumerate(rosters):
        for start, end in intervals:
            for h in range(int(start), int(np.ceil(end))):
                out[i, h % 168] += size * max(0.0, min(end, h + 1) - max(start, h))
    return out


def with_hours(
    clients: pd.DataFrame, attendance: pd.DataFrame, client_weeks: pd.DataFrame
) -> pd.DataFrame:
    """The clients table with IOP hours attended, full weeks in IOP and weeks meeting the rule."""
    iop = np.isin(attendance["kind"].to_numpy(dtype=object), IOP_SERVICES)
    who = attendance["client_id"].to_numpy(dtype=np.int64)[iop]
    # (pandas' grouped sum: the same compensated sum, in the same order, as before)
    hours = pd.Series(attendance["hours"].to_numpy(dtype=float)[iop]).groupby(who).sum()
    ids = clients["id"].to_numpy(dtype=np.int64)
    week_of = client_weeks["client_id"].to_numpy(dtype=np.int64)
    size = max(int(ids.max()) + 1 if len(ids) else 0, int(week_of.max()) + 1 if len(week_of) else 0)
    full = np.bincount(week_of, minlength=size)
    met = np.bincount(week_of[client_weeks["meets_rule"].to_numpy(dtype=bool)], minlength=size)
    out = clients.copy()
    out["iop_hours_attended"] = hours.reindex(ids, fill_value=0.0).to_numpy(dtype=float)
    out["full_weeks_in_iop"] = full[ids].astype(np.int64)
    out["weeks_meeting_hours_rule"] = met[ids].astype(np.int64)
    return out


def activity_hours(busy: pd.DataFrame, group_of: dict[str, str], from_time: float) -> pd.DataFrame:
    """Busy hours of each person and room by activity over the reporting period."""
    end = busy["end"].to_numpy(dtype=float)
    keep = end > from_time
    start = np.maximum(busy["start"].to_numpy(dtype=float)[keep], from_time)
    resource = busy["resource"].to_numpy(dtype=object)[keep]
    activity = busy["activity"].to_numpy(dtype=object)[keep]
    # one row per (resource, activity), in that order, as a grouped sum gives them
    # (pandas' grouped sum: the same compensated sum, in the same order, as before)
    hours = pd.Series(end[keep] - start).groupby([resource, activity]).sum()
    names = hours.index.get_level_values(0).to_numpy(dtype=object)
    return pd.DataFrame(
        {
            "resource": pd.array(names, dtype="str"),
            "pool": pd.array([group_of.get(r, r) for r in names], dtype="str"),
            "activity": pd.array(
                hours.index.get_level_values(1).to_numpy(dtype=object), dtype="str"
            ),
            "busy_hours": hours.to_numpy(dtype=float),
        }
    )
