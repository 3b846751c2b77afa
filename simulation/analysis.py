"""Analysis: the weekly table and KPIs of a replication, and summaries across replications.

Every KPI excludes the warm-up: client measures count clients by the time of the event that
starts the measure (a wait to intake counts if the referral came after the warm-up), and
time-weighted measures average over the reporting period only. Waits still running at the
end of the run are not in the wait KPIs (they are visible in the waitlist lengths).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from simulation import clock
from simulation.clock import HOURS_PER_DAY, HOURS_PER_WEEK
from simulation.config import DISCHARGE_REASONS, Scenario, roster_intervals
from simulation.kpis import (
    CASELOAD_PREFIX,
    GROUP_KPIS,
    UTILISATION_PREFIX,
    describe,
    group_kpi,
    split_group,
)
from simulation.model.recorder import BLOCKING, Recorder, busy_by_week

IOP_SERVICES = ("group", "individual", "medication", "family")
ROLE_KPIS = {
    "therapist": "therapist_utilisation",
    "prescriber": "prescriber_utilisation",
    "intake": "intake_utilisation",
}


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


def in_post(weeks: np.ndarray, first: int, gone: int | None) -> np.ndarray:
    """Whether someone who joined in week ``first`` (and left in ``gone``) works each week."""
    return (weeks >= first) & (weeks < (gone if gone is not None else np.inf))


def workforce_kpis(scenario: Scenario, recorder: Recorder, start: float) -> dict[str, float]:
    """Posts empty below each pool's establishment (its size in the scenario) and the clients
    of leavers, a year over the reporting period."""
    years = scenario.horizon_weeks / 52.0
    weeks = np.arange(scenario.warmup_weeks, scenario.total_weeks)
    vacancy = 0.0
    people = recorder.employment or [(*row, False) for row in scenario.people()]
    locum_weeks = 0.0
    for pool_name, pool in scenario.staff.items():
        employed = np.zeros(len(weeks))
        for _, p, first, gone, agency in people:
            if p == pool_name:
                here = in_post(weeks, first, gone)
                employed += here
                locum_weeks += float(here.sum()) if agency else 0.0
        vacancy += float(np.clip(pool.size - employed, 0, None).sum())
    moved = [(t, found) for t, found in recorder.reassigned if t >= start]
    return {
        "staff_vacancy_weeks_per_year": vacancy / years,
        "agency_weeks_per_year": locum_weeks / years,
        "clients_reassigned_per_year": sum(found for _, found in moved) / years,
        "clients_left_without_clinician_per_year": sum(not f for _, f in moved) / years,
    }


def staff_time_kpis(
    scenario: Scenario, resources: pd.DataFrame, census: float, recorder: Recorder
) -> dict[str, float]:
    """Therapists' time as the field measures it: productivity (client-facing / paid hours),
    time committed ((client-facing + indirect) / rostered hours), clients per FTE, and the
    documentation that found no time in the day."""
    report = resources[
        (resources["week"] >= scenario.warmup_weeks) & (resources["kind"] == "staff")
    ]
    therapists = [n for n, p in scenario.staff.items() if p.role == "therapist"]
    mine = report[report["resource"].isin(therapists)]
    full_time = scenario.finance.full_time_hours
    fte = sum(scenario.staff[n].paid_fte(full_time) * scenario.staff[n].size for n in therapists)
    paid = fte * full_time * scenario.horizon_weeks
    rostered = float(mine["available_hours"].sum())
    facing = float(mine["busy_hours"].sum())
    return {
        "therapist_productivity": facing / paid if paid > 0 else math.nan,
        "therapist_time_committed": (
            (facing + float(mine["indirect_hours"].sum())) / rostered if rostered > 0 else math.nan
        ),
        "clients_per_therapist_fte": census / fte if fte > 0 else math.nan,
        "documentation_unbooked_hours_per_week": recorder.documentation_unbooked
        / scenario.total_weeks,
    }


def resource_weeks(scenario: Scenario, recorder: Recorder, staff) -> pd.DataFrame:
    """Busy (client-facing), indirect (reserved supervision, meetings and case management, and
    documentation) and available hours per week for each staff pool and each room."""
    weeks = scenario.total_weeks
    groups, group_of = resource_groups(scenario, recorder.employment or None)
    names = [g[0] for g in groups]
    busy = busy_by_week(recorder.busy_table(), group_of, names, weeks)
    indirect = busy_by_week(recorder.indirect_table(), group_of, names, weeks)
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
            "resource": np.repeat(names, weeks),
            "kind": np.repeat([g[1] for g in groups], weeks),
            "role": np.repeat([g[2] for g in groups], weeks),
            "busy_hours": busy.ravel(),
            "indirect_hours": indirect.ravel(),
            "available_hours": available.ravel(),
        }
    )


def pooled_utilisation(resources: pd.DataFrame, from_week: int) -> pd.Series:
    """Busy / available hours over the weeks from ``from_week``, per resource."""
    keep = resources["week"].to_numpy() >= from_week
    names, at = np.unique(
        resources["resource"].to_numpy(dtype=object)[keep].astype(str), return_inverse=True
    )
    busy = np.bincount(at, resources["busy_hours"].to_numpy(float)[keep], minlength=len(names))
    available = np.bincount(
        at, resources["available_hours"].to_numpy(float)[keep], minlength=len(names)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(available > 0, busy / np.where(available > 0, available, 1.0), np.nan)
    return pd.Series(share, index=pd.Index(names, name="resource"), dtype=float)


def payer_lookup(scenario: Scenario, clients: pd.DataFrame | None) -> np.ndarray | None:
    """The index of each client's payer in ``scenario.payers`` by client id (-1: none, or a
    client from a state, who pays by the finance table); None without payers."""
    if not scenario.payers or clients is None or "payer" not in clients or not len(clients):
        return None
    position = {p.name: k for k, p in enumerate(scenario.payers)}
    by_id = np.full(int(clients["id"].max()) + 1, -1)
    names = clients["payer"].to_numpy(dtype=object)  # (plain objects: quick to look up)
    codes = np.fromiter((position.get(n, -1) for n in names), dtype=np.int64, count=len(names))
    by_id[clients["id"].to_numpy(dtype=np.int64)] = codes
    return by_id


def video_lookup(scenario: Scenario, clients: pd.DataFrame | None) -> np.ndarray | None:
    """Whether each client (by id) joins their groups by video: a virtual track's clients and
    a hybrid track's video clients; None when no payer has a telehealth per diem."""
    if (
        not any(p.telehealth_per_diem is not None for p in scenario.payers)
        or clients is None
        or not len(clients)
    ):
        return None
    virtual = [t.name for t in scenario.tracks if t.modality == "virtual"]
    video = clients["track"].isin(virtual).to_numpy() | clients["by_video"].to_numpy(dtype=bool)
    by_id = np.zeros(int(clients["id"].max()) + 1, dtype=bool)
    by_id[clients["id"].to_numpy(dtype=np.int64)] = video
    return by_id


def payer_index(lookup: np.ndarray | None, client_ids) -> np.ndarray:
    """Each given client's payer index from a ``payer_lookup`` (-1 without payers)."""
    ids = np.asarray(client_ids, dtype=np.int64)
    return np.full(len(ids), -1) if lookup is None else lookup[ids]


def _rule_arrays(scenario: Scenario, payer: np.ndarray):
    """Per row: the billable-day rule's minimum hours and services and whether a group is
    required, by each row's payer (-1: the finance table's rule)."""
    rules = [p.billable_day for p in scenario.payers] + [scenario.finance.billable_day]
    pick = np.where(payer < 0, len(rules) - 1, payer)
    hours = np.array([r.min_hours for r in rules])[pick]
    services = np.array([r.min_services for r in rules])[pick]
    group = np.array([r.requires == "group" for r in rules])[pick]
    return hours, services, group


def billable_days(
    scenario: Scenario, attendance: pd.DataFrame, payers: np.ndarray | None = None
) -> pd.DataFrame:
    """Each client-day with an attended IOP service, its services and hours, and whether it
    meets the billable-day rule (``finance.billable_day``, or the client's payer's). A
    service is an hour of group or one appointment (CMS counts services per day)."""
    iop = attendance[attendance["kind"].isin(IOP_SERVICES)]
    client = iop["client_id"].to_numpy(dtype=np.int64)
    day = (iop["time"].to_numpy(dtype=float) // HOURS_PER_DAY).astype(np.int64)
    hours = iop["hours"].to_numpy(dtype=float)
    is_group = (iop["kind"] == "group").to_numpy()
    # one row per (client, day), in that order (numpy: a pandas groupby costs 10x here)
    low = int(day.min()) if len(day) else 0
    span = (int(day.max()) - low + 1) if len(day) else 1
    keys, at = np.unique(client * span + (day - low), return_inverse=True)
    n = len(keys)
    services = np.bincount(at, np.where(is_group, np.round(hours), 1.0), minlength=n)
    total = np.bincount(at, hours, minlength=n)
    group = np.bincount(at, is_group.astype(float), minlength=n) > 0
    who = keys // span
    payer = payer_index(payers, who)
    min_hours, min_services, needs_group = _rule_arrays(scenario, payer)
    billable = (total >= min_hours - 1e-9) & (services >= min_services)
    billable &= group | ~needs_group
    return pd.DataFrame(
        {
            "client_id": who,
            "day": keys % span + low,
            "services": services,
            "hours": total,
            "group": group,
            "billable": billable,
            "payer": payer,
        }
    )


def claims(
    scenario: Scenario,
    days: pd.DataFrame,
    attendance: pd.DataFrame,
    payers: np.ndarray | None = None,
    by_video: np.ndarray | None = None,
) -> pd.DataFrame:
    """Every claim: a billable IOP client-day at the client's payer's per diem (-1: the
    finance table's rates): its 4+ services tier on days with 4 or more services where the
    payer has one, its telehealth per diem for clients who join their groups by video
    (``by_video``: a lookup by client id) where it has one; or an attended outpatient session
    at its rate; with the amount expected to be denied and the days to payment."""
    finance = scenario.finance
    billed = days[days["billable"]]
    payer = billed["payer"].to_numpy()
    pick = np.where(payer < 0, len(scenario.payers), payer)

    def rates(name: str) -> np.ndarray:  # one per row, by payer; NaN where none is set
        values = [getattr(p, name) for p in scenario.payers] + [getattr(finance, name, None)]
        return np.array([math.nan if v is None else v for v in values], dtype=float)[pick]

    rate = rates("iop_per_diem")
    tier = rates("iop_per_diem_4plus")
    four = (billed["services"].to_numpy() >= 4) & np.isfinite(tier)
    rate = np.where(four, tier, rate)
    if by_video is not None and len(billed):
        video = by_video[billed["client_id"].to_numpy(dtype=np.int64)]
        tele = rates("telehealth_per_diem")
        rate = np.where(video & np.isfinite(tele), tele, rate)
    op = attendance[attendance["kind"] == "outpatient"]
    op_payer = payer_index(payers, op["client_id"].to_numpy())
    op_rates = np.array([p.op_session_rate for p in scenario.payers] + [finance.op_session_rate])
    op_rate = op_rates[np.where(op_payer < 0, len(op_rates) - 1, op_payer)]
    every = np.concatenate([payer, op_payer]).astype(int)
    denial = np.array([p.denial_share for p in scenario.payers] + [0.0])
    wait = np.array([p.days_to_payment for p in scenario.payers] + [0.0])
    pick = np.where(every < 0, len(denial) - 1, every)
    amount = np.concatenate([rate, op_rate])
    return pd.DataFrame(
        {
            "day": np.concatenate(
                [
                    billed["day"].to_numpy(),
                    (op["time"].to_numpy(dtype=float) // HOURS_PER_DAY).astype(int),
                ]
            ),
            "payer": every,
            "billed": amount,
            "denied": amount * denial[pick],
            "days_to_payment": wait[pick],
        }
    )


def _daily_revenue(c: pd.DataFrame) -> pd.Series:
    """Revenue per simulated day: what the claims bring once denials are taken off."""
    day = c["day"].to_numpy(dtype=np.int64)
    if not len(day):
        return pd.Series(dtype=float)
    low = int(day.min())
    amount = np.bincount(day - low, weights=(c["billed"] - c["denied"]).to_numpy(dtype=float))
    used = np.flatnonzero(np.bincount(day - low))
    return pd.Series(amount[used], index=used + low)


def staffed_cost(scenario: Scenario, employment: list, weeks: int) -> np.ndarray:
    """Staff and room cost in each week as staffed: people in post (a vacancy costs no salary;
    an agency locum costs agency_cost_multiplier times as much). Without turnover or dated
    changes this is ``weekly_cost`` every week."""
    if not employment or all(
        first == 0 and gone is None and not agency for _, _, first, gone, agency in employment
    ):
        return np.full(weeks, weekly_cost(scenario))
    full_time = scenario.finance.full_time_hours
    fixed = scenario.finance.room_cost_per_week * len(scenario.rooms)
    cost = np.full(weeks, fixed + scenario.finance.overhead_per_week)
    index = np.arange(weeks)
    for _, pool_name, first, gone, agency in employment:
        pool = scenario.staff[pool_name]
        weekly = pool.annual_cost * pool.paid_fte(full_time) / 52.0
        weekly *= pool.agency_cost_multiplier if agency else 1.0
        cost += weekly * in_post(index, first, gone)
    return cost


def weekly_cost(scenario: Scenario, overhead: bool = True) -> float:
    """Staff, room and overhead cost per week (annual cost x paid FTE / 52 for each person;
    the FTE follows the roster unless the pool gives one; ``overhead``: with the fixed
    monthly costs)."""
    full_time = scenario.finance.full_time_hours
    staff = sum(p.annual_cost * p.paid_fte(full_time) * p.size for p in scenario.staff.values())
    staff /= 52.0
    fixed = scenario.finance.overhead_per_week if overhead else 0.0
    return staff + scenario.finance.room_cost_per_week * len(scenario.rooms) + fixed


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


def weekly_table(
    scenario: Scenario,
    recorder: Recorder,
    resources: pd.DataFrame,
    clients: pd.DataFrame,
    attendance: pd.DataFrame,
    sessions: pd.DataFrame,
) -> pd.DataFrame:
    """One row per simulated week (warm-up included, flagged)."""
    weeks = scenario.total_weeks
    edges = np.arange(weeks + 1) * HOURS_PER_WEEK
    monday = pd.Timestamp(clock.week_zero_monday(scenario.start_date))
    cols: dict[str, np.ndarray] = {
        "week": np.arange(weeks),
        "date": monday + pd.to_timedelta(np.arange(weeks) * 7, unit="D"),
        "warmup": np.arange(weeks) < scenario.warmup_weeks,
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

    def count_by_week(times) -> np.ndarray:
        t = np.asarray(times, dtype=float)
        w = (t[np.isfinite(t)] // HOURS_PER_WEEK).astype(int)
        # (a client on the books when a run starts from a state has dates before it)
        return np.bincount(w[(w >= 0) & (w < weeks)], minlength=weeks)

    status = clients["status"].to_numpy()
    reason = clients["exit_reason"].to_numpy()
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
    cols["turned_away"] = count_by_week(left[status == "turned_away"])

    busy = resources["busy_hours"].to_numpy().reshape(-1, weeks)
    available = resources["available_hours"].to_numpy().reshape(-1, weeks)
    names = resources["resource"].to_numpy()[::weeks]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(available > 0, busy / np.where(available > 0, available, 1), np.nan)
    for i, name in enumerate(names):
        cols[f"{UTILISATION_PREFIX}{name}"] = ratio[i]

    held = sessions[sessions["held"]]
    held_weeks = held["week"].to_numpy(dtype=int)
    cols["sessions_held"] = np.bincount(held_weeks, minlength=weeks)[:weeks]
    cancelled_weeks = sessions.loc[sessions["cancelled"], "week"].to_numpy(dtype=int)
    cols["sessions_cancelled"] = np.bincount(cancelled_weeks, minlength=weeks)[:weeks]
    size_sum = np.bincount(held_weeks, weights=held["attendees"].to_numpy(float), minlength=weeks)[
        :weeks
    ]
    with np.errstate(invalid="ignore", divide="ignore"):
        cols["mean_group_size"] = np.where(
            cols["sessions_held"] > 0, size_sum / cols["sessions_held"], np.nan
        )

    payers = payer_lookup(scenario, clients)
    days = billable_days(scenario, attendance, payers)
    billed_weeks = (days.loc[days["billable"], "day"].to_numpy() // 7).clip(max=weeks - 1)
    cols["billable_days"] = np.bincount(billed_weeks, minlength=weeks)[:weeks]
    every_claim = claims(scenario, days, attendance, payers, video_lookup(scenario, clients))
    daily = _daily_revenue(every_claim)
    if scenario.payers:  # (kept for the payers' KPIs: computed once)
        recorder.claims = every_claim
    revenue = np.zeros(weeks)
    np.add.at(revenue, (daily.index.to_numpy() // 7).clip(max=weeks - 1), daily.to_numpy())
    cols["revenue"] = revenue
    cols["cost"] = staffed_cost(scenario, recorder.employment, weeks)
    cols["margin"] = revenue - cols["cost"]
    return pd.DataFrame(cols)


def hours_by_client_week(
    scenario: Scenario, clients: pd.DataFrame, attendance: pd.DataFrame
) -> pd.DataFrame:
    """IOP hours attended in each full week a client spent in the IOP, with the week's rule."""
    rule = {t.name: t.hours_rule for t in scenario.tracks}
    end_of_run = scenario.total_weeks * HOURS_PER_WEEK
    started = clients[clients["iop_start"].notna()]
    first = np.ceil(started["iop_start"].to_numpy() / HOURS_PER_WEEK).astype(int).clip(min=0)
    last_end = started["iop_end"].fillna(end_of_run).to_numpy()
    last = np.floor(last_end / HOURS_PER_WEEK).astype(int)  # weeks [first, last) are full
    counts = np.maximum(last - first, 0)
    ids = np.repeat(started["id"].to_numpy(), counts)
    weeks = (
        np.concatenate([np.arange(f, f + n) for f, n in zip(first, counts, strict=True)])
        if len(counts)
        else np.array([], dtype=int)
    )
    frame = pd.DataFrame({"client_id": ids, "week": weeks.astype(int)})
    frame["track"] = np.repeat(started["track"].to_numpy(), counts)
    frame["rule_hours"] = frame["track"].map(rule).astype(float)
    iop = attendance[attendance["kind"].isin(IOP_SERVICES)]
    hours = (
        iop.assign(week=(iop["time"] // HOURS_PER_WEEK).astype(int))
        .groupby(["client_id", "week"])["hours"]
        .sum()
    )
    frame["hours"] = hours.reindex(
        pd.MultiIndex.from_frame(frame[["client_id", "week"]]), fill_value=0.0
    ).to_numpy()
    frame["meets_rule"] = frame["hours"] >= frame["rule_hours"] - 1e-9
    return frame


WAITING_STATUSES = (
    "referred",
    "intake_waitlist",
    "in_assessment",
    "authorisation",
    "evaluation",
    "iop_waitlist",
)
"""Where a referral can still be at the end of a run before its first IOP day: its fate (lost,
turned away, referred on, started) is not yet known."""
ENDED_UNASSESSED = ("lost", "turned_away")
"""Final statuses of referrals that can end before an assessment."""


def _mean(values) -> float:
    values = np.asarray(values, dtype=float)
    return float(values.mean()) if len(values) else math.nan


def _p90(values) -> float:
    values = np.asarray(values, dtype=float)
    return float(np.quantile(values, 0.9)) if len(values) else math.nan


def _share(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else math.nan


def client_kpis(
    clients: pd.DataFrame, client_weeks: pd.DataFrame, start: float, end: float, weeks: int
) -> dict[str, float]:
    """KPIs computed from clients' milestones (for everyone, or for one group of clients).
    Plain numpy on the few columns needed: this runs once per group per replication."""

    def col(name: str) -> np.ndarray:
        return clients[name].to_numpy(dtype=float)

    referred, intake_start, assessed = col("referred"), col("intake_start"), col("assessed")
    iop_start, waitlisted = col("iop_start"), col("iop_waitlisted")
    status = clients["status"].to_numpy(dtype=object)
    outcome = clients["outcome"].to_numpy(dtype=object)
    k: dict[str, float] = {}
    is_referred = referred >= start
    seen = is_referred & ~np.isnan(intake_start)
    intake_wait = (intake_start[seen] - referred[seen]) / HOURS_PER_DAY
    k["wait_to_intake_days_mean"] = _mean(intake_wait)
    k["wait_to_intake_days_p90"] = _p90(intake_wait)
    to_iop = (assessed >= start) & ~np.isnan(iop_start)
    iop_wait = (iop_start[to_iop] - assessed[to_iop]) / HOURS_PER_DAY
    k["wait_to_iop_days_mean"] = _mean(iop_wait)
    k["wait_to_iop_days_p90"] = _p90(iop_wait)
    after = to_iop & (referred >= start)
    referral_to_iop = (iop_start[after] - referred[after]) / HOURS_PER_DAY
    k["referral_to_iop_days_mean"] = _mean(referral_to_iop)
    k["referral_to_iop_days_p90"] = _p90(referral_to_iop)
    # HEDIS-style initiation: of those assessed as needing IOP (and seen 14 days before the
    # end, so the outcome is known), who started within 14 days.
    needing = (assessed >= start) & (assessed <= end - 14 * HOURS_PER_DAY) & (outcome == "iop")
    in_time = (iop_start[needing] - assessed[needing]) <= 14 * HOURS_PER_DAY
    k["share_started_within_14_days"] = _share(int(in_time.sum()), int(needing.sum()))
    k["admissions_per_week"] = int((iop_start >= start).sum()) / weeks
    # Shares of referrals count those whose fate is known at the end: a referral still waiting
    # may yet give up or start, so counting it as neither would dilute every share as a queue
    # grows. Those still waiting are reported on their own.
    waiting = is_referred & np.isin(status, WAITING_STATUSES)
    known = is_referred & ~waiting
    lost = known & (status == "lost")
    k["lost_from_waitlist_share"] = _share(int(lost.sum()), int(known.sum()))
    known_assessment = is_referred & (~np.isnan(assessed) | np.isin(status, ENDED_UNASSESSED))
    k["lost_before_assessment_share"] = _share(
        int((lost & np.isnan(assessed)).sum()), int(known_assessment.sum())
    )
    on_list = (waitlisted >= start) & (status != "iop_waitlist")
    k["lost_from_iop_waitlist_share"] = _share(
        int((on_list & (status == "lost")).sum()), int(on_list.sum())
    )
    k["turned_away_share"] = _share(
        int((known & (status == "turned_away")).sum()), int(known.sum())
    )
    k["referrals_waiting_at_end_share"] = _share(int(waiting.sum()), int(is_referred.sum()))
    k["referrals_never_assessed_share"] = _share(
        int((waiting & np.isnan(assessed)).sum()), int(is_referred.sum())
    )
    from_week = int(start // HOURS_PER_WEEK)
    week = client_weeks["week"].to_numpy()
    mine = week >= from_week
    mine &= np.isin(client_weeks["client_id"].to_numpy(), clients["id"].to_numpy())
    met = client_weeks["meets_rule"].to_numpy()[mine]
    k["client_weeks_meeting_hours_share"] = _share(int(met.sum()), int(mine.sum()))
    return k


def _time_in_iop(clients: pd.DataFrame, start: float, end: float) -> float:
    """Mean number of these clients in the IOP (first day to leaving it) over [start, end)."""
    began = clients["iop_start"].to_numpy(dtype=float)
    ended = clients["iop_end"].to_numpy(dtype=float)
    ok = np.isfinite(began)
    ended = np.where(np.isfinite(ended), ended, end)
    overlap = np.clip(np.minimum(ended, end) - np.maximum(began, start), 0, None)
    return float(overlap[ok].sum() / (end - start))


_CLIENT_COLUMNS = [
    "id",
    "referred",
    "intake_start",
    "assessed",
    "iop_start",
    "iop_end",
    "iop_waitlisted",
    "status",
    "outcome",
]

GROUP_TRACK_KPIS = (
    "wait_to_iop_days_mean",
    "wait_to_iop_days_p90",
    "iop_census_mean",
    "admissions_per_week",
    "client_weeks_meeting_hours_share",
)
"""By track, only what happens once a client has a track (waits before it have none)."""


def reported_groups(scenario: Scenario) -> dict[str, list[str]]:
    """The groups KPIs are broken down by: kinds with more than one group, and any group a
    target names."""
    groups = {
        "track": [t.name for t in scenario.tracks],
        "age_group": sorted(
            {s.age_group for s in scenario.referrals.sources}
            | {t.age_group for t in scenario.tracks}
        ),
        "source": [s.name for s in scenario.referrals.sources],
        "payer": [p.name for p in scenario.payers],
    }
    named = {split_group(k)[1].partition("=")[0] for k in scenario.targets if split_group(k)[1]}
    return {kind: names for kind, names in groups.items() if len(names) > 1 or kind in named}


def group_kpis(
    scenario: Scenario, clients: pd.DataFrame, client_weeks: pd.DataFrame, start: float, end: float
) -> dict[str, float]:
    """Waits, losses, census, admissions and the hours rule for each track, age group and
    referral source, as ``<kpi>[<kind>=<name>]``."""
    k: dict[str, float] = {}
    weeks = scenario.horizon_weeks
    for kind, names in reported_groups(scenario).items():
        wanted = GROUP_TRACK_KPIS if kind == "track" else GROUP_KPIS
        column = clients[kind].to_numpy()
        needed = clients[_CLIENT_COLUMNS]
        for name in names:
            mine = needed[column == name]
            values = client_kpis(mine, client_weeks, start, end, weeks)
            values["iop_census_mean"] = _time_in_iop(mine, start, end)
            for base in wanted:
                k[group_kpi(base, kind, name)] = values[base]
    return k


READMISSION_DAYS = (30, 90, 365)


def readmission_kpis(clients: pd.DataFrame, start: float, end: float) -> dict[str, float]:
    """The share of clients discharged after an IOP stay who were referred again within 30,
    90 and 365 days, among those discharged early enough in the reporting period for the
    whole window to be seen (no censoring at the run's end)."""
    out: dict[str, float] = {}
    again = clients[clients["readmission_of"] >= 0]
    first_again = again.groupby("readmission_of")["referred"].min()
    done = clients[(clients["status"] == "discharged") & clients["iop_start"].notna()]
    gap = (first_again.reindex(done["id"]).to_numpy() - done["left"].to_numpy()) / HOURS_PER_DAY
    left = done["left"].to_numpy()
    for days in READMISSION_DAYS:
        seen = (left >= start) & (left <= end - days * HOURS_PER_DAY)
        within = np.nan_to_num(gap, nan=np.inf) <= days
        out[f"readmitted_within_{days}_days_share"] = _share(
            int((within & seen).sum()), int(seen.sum())
        )
    return out


def payer_kpis(
    scenario: Scenario, recorder: Recorder, clients: pd.DataFrame, start: float, end: float
) -> dict[str, float]:
    """Money by payer over the reporting period: revenue collected and denied a week, the
    days in accounts receivable (days to payment, weighted by what is billed) and the share of
    utilisation reviews that refused an extension."""
    c = recorder.claims
    if c is None:
        attendance = recorder.attendance_table()
        payers = payer_lookup(scenario, clients)
        days = billable_days(scenario, attendance, payers)
        c = claims(scenario, days, attendance, payers, video_lookup(scenario, clients))
    day = c["day"].to_numpy()
    keep = (day >= start / HOURS_PER_DAY) & (day < end / HOURS_PER_DAY)
    billed = c["billed"].to_numpy()[keep]  # (numpy: pandas indexing was most of the cost)
    denied = c["denied"].to_numpy()[keep]
    wait = c["days_to_payment"].to_numpy()[keep]
    payer = c["payer"].to_numpy()[keep]
    weeks = (end - start) / HOURS_PER_WEEK
    k: dict[str, float] = {
        "denied_revenue_per_week": float(denied.sum() / weeks),
        "days_in_accounts_receivable": float((billed * wait).sum() / billed.sum())
        if billed.sum() > 0
        else math.nan,
    }
    for index, p in enumerate(scenario.payers):
        mine = payer == index
        k[group_kpi("revenue_per_week", "payer", p.name)] = float(
            (billed[mine] - denied[mine]).sum() / weeks
        )
        k[group_kpi("denied_revenue_per_week", "payer", p.name)] = float(denied[mine].sum() / weeks)
    iop_start = clients["iop_start"].to_numpy(dtype=float)
    started = (iop_start >= start) & (iop_start < end)
    reviewed = {p.name for p in scenario.payers if p.authorised_days is not None}
    mine = started & clients["payer"].isin(reviewed).to_numpy()
    refused = clients["review_denied"].to_numpy(dtype=bool)
    k["extensions_refused_share"] = _share(int((refused & mine).sum()), int(mine.sum()))
    return k


def prescriber_kpis(
    scenario: Scenario,
    recorder: Recorder,
    clients: pd.DataFrame,
    appointments: pd.DataFrame,
    start: float,
    end: float,
) -> dict[str, float]:
    """What prescribers gate: medication visits due that found no slot in their week, how
    late the visits that happened were, the share of clients needing an evaluation who had it
    within ``iop.evaluation_within_days`` of starting (among those who started early enough
    for the window to be seen), and the wait for an evaluation required before starting."""
    iop = scenario.iop
    due = appointments[(appointments["kind"] == "medication") & (appointments["time"] >= start)]
    k = {
        "medication_visits_unbooked_share": _share(int((~due["booked"]).sum()), len(due)),
    }
    delays = np.array(recorder.medication_delays, dtype=float).reshape(-1, 2)
    k["medication_visit_days_late_mean"] = _mean(delays[delays[:, 0] >= start, 1] / HOURS_PER_DAY)
    began = clients["iop_start"].to_numpy(dtype=float)
    evaluated = clients["evaluated"].to_numpy(dtype=float)
    window = iop.evaluation_within_days * HOURS_PER_DAY
    needs = clients["needs_medication"].to_numpy(dtype=bool) | np.isfinite(evaluated)
    seen = needs & (began >= start) & (began <= end - window)
    in_time = np.isfinite(evaluated) & (evaluated <= began + window)
    k["evaluated_in_time_share"] = _share(int((seen & in_time).sum()), int(seen.sum()))
    asked = clients["evaluation_requested"].to_numpy(dtype=float)
    waited = (asked >= start) & np.isfinite(evaluated) & np.isfinite(asked)
    k["wait_for_evaluation_days_mean"] = _mean((evaluated - asked)[waited] / HOURS_PER_DAY)
    return k


def caseload_table(scenario: Scenario, clients: pd.DataFrame, staff) -> pd.DataFrame:
    """Each primary therapist's mean IOP caseload over the reporting period, against the cap
    (a place is held from placement on the waitlist to leaving the IOP)."""
    start = scenario.warmup_weeks * HOURS_PER_WEEK
    end = scenario.total_weeks * HOURS_PER_WEEK
    people = staff.members(scenario.iop.therapist_pools)
    held = clients[clients["therapist"] != ""]
    began = held["placed"].to_numpy(dtype=float)
    ended = held["iop_end"].to_numpy(dtype=float)
    ended = np.where(np.isfinite(ended), ended, end)
    overlap = np.clip(np.minimum(ended, end) - np.maximum(began, start), 0, None)
    mean_held = pd.Series(overlap, index=held["therapist"].to_numpy()).groupby(level=0).sum()
    rows = [
        {
            "therapist": p.name,
            "pool": p.pool,
            "cap": p.iop_cap,
            "mean_caseload": float(mean_held.get(p.name, 0.0)) / (end - start),
        }
        for p in people
        if p.iop_cap > 0
    ]
    table = pd.DataFrame(rows, columns=["therapist", "pool", "cap", "mean_caseload"])
    table["occupancy"] = table["mean_caseload"] / table["cap"].where(table["cap"] > 0)
    return table


def replication_kpis(
    scenario: Scenario,
    recorder: Recorder,
    weekly: pd.DataFrame,
    clients: pd.DataFrame,
    client_weeks: pd.DataFrame,
    resources: pd.DataFrame,
    sessions: pd.DataFrame,
    caseloads: pd.DataFrame | None = None,
    by_group: bool = True,
) -> dict[str, float]:
    """The KPIs of one replication, over the reporting period (warm-up excluded); with
    ``by_group``, also for each track, age group and referral source."""
    start = scenario.warmup_weeks * HOURS_PER_WEEK
    end = scenario.total_weeks * HOURS_PER_WEEK
    weeks = scenario.horizon_weeks
    report = weekly[~weekly["warmup"]]
    referred = clients[clients["referred"] >= start]
    k: dict[str, float] = {"referrals_per_week": len(referred) / weeks}
    k.update(client_kpis(clients, client_weeks, start, end, weeks))
    m = recorder.monitors

    def mean_of(name: str) -> float:
        return float(m[name].bin_means(np.array([start, end]))[0])

    k["iop_waitlist_mean"] = mean_of("iop_waitlist")
    k["iop_waitlist_max"] = m["iop_waitlist"].max_between(start, end)
    k["intake_waitlist_mean"] = mean_of("intake_waitlist")
    k["op_waitlist_mean"] = mean_of("op_waitlist")
    k["evaluation_waitlist_mean"] = mean_of("evaluation")
    k["iop_census_mean"] = mean_of("iop") + mean_of("blocked")
    k["op_census_mean"] = mean_of("op")
    left_iop = clients[clients["iop_end"] >= start]
    n_left = len(left_iop)
    k["completion_share"] = _share(int((left_iop["exit_reason"] == "completed").sum()), n_left)
    k["dropout_share"] = _share(int((left_iop["exit_reason"] == "dropped_out").sum()), n_left)
    k["escalation_share"] = _share(int((left_iop["exit_reason"] == "escalated").sum()), n_left)
    k["authorisation_ended_share"] = _share(
        int((left_iop["exit_reason"] == "authorisation_ended").sum()), n_left
    )
    k["iop_length_of_stay_days_mean"] = _mean(
        (left_iop["iop_end"] - left_iop["iop_start"]) / HOURS_PER_DAY
    )

    for name, value in pooled_utilisation(resources, scenario.warmup_weeks).items():
        k[f"{UTILISATION_PREFIX}{name}"] = float(value)
    roles = pooled_utilisation(resources.assign(resource=resources["role"]), scenario.warmup_weeks)
    for role, kpi in [
        *ROLE_KPIS.items(),
        ("room", "room_utilisation"),
        ("office", "office_utilisation"),
    ]:
        k[kpi] = float(roles.get(role, math.nan))
    k["seat_occupancy"] = _mean(report["seat_occupancy"])
    k.update(staff_time_kpis(scenario, resources, k["iop_census_mean"], recorder))
    held = report["sessions_held"].sum()
    cancelled = report["sessions_cancelled"].sum()
    held_sessions = sessions[(sessions["time"] >= start) & sessions["held"]]
    k["mean_group_size"] = _mean(held_sessions["attendees"])
    k["sessions_cancelled_share"] = _share(int(cancelled), int(held + cancelled))
    outcome = sessions.loc[sessions["time"] >= start, "outcome"]
    low = int(outcome.isin(["merged", "cancelled_low_attendance"]).sum())
    k["sessions_low_attendance_share"] = _share(low, int(held + cancelled) + low)
    refused = sum(n for t, n in recorder.turned_away if t >= start)
    came = int(sessions.loc[sessions["time"] >= start, "attendees"].sum())
    k["group_turned_away_share"] = _share(refused, came + refused)
    appointments = recorder.appointment_table()
    individual = appointments[
        (appointments["kind"] == "individual") & (appointments["time"] >= start)
    ]
    k["individual_sessions_unbooked_share"] = _share(
        int((~individual["booked"]).sum()), len(individual)
    )
    k.update(prescriber_kpis(scenario, recorder, clients, appointments, start, end))
    stepped = clients[(clients["op_start"] >= start)]
    blocked_days = (stepped["op_start"] - stepped["blocked_from"]).fillna(0.0) / HOURS_PER_DAY
    k["blocked_step_down_days_mean"] = _mean(blocked_days)
    k.update(growth_kpis(report))
    # what limits admissions: shares of time someone waited for a place that could not be given
    k["admission_blocked_share"] = mean_of("blocked_any")
    k["admission_blocked_by_seats_share"] = mean_of("blocked_by_seats")
    k["admission_blocked_by_caseload_share"] = mean_of("blocked_by_caseload")
    k["admission_blocked_by_cohort_share"] = mean_of("blocked_by_cohort")
    if caseloads is not None and len(caseloads):
        k["caseload_occupancy"] = float(caseloads["mean_caseload"].sum() / caseloads["cap"].sum())
        pools = caseloads.groupby("pool")[["mean_caseload", "cap"]].sum()
        for pool, row in pools.iterrows():
            k[f"{CASELOAD_PREFIX}{pool}"] = float(row["mean_caseload"] / row["cap"])
    else:
        k["caseload_occupancy"] = math.nan
    k.update(workforce_kpis(scenario, recorder, start))
    k["billable_days_per_week"] = float(report["billable_days"].mean())
    k["revenue_per_week"] = float(report["revenue"].mean())
    k["cost_per_week"] = float(report["cost"].mean())
    k["margin_per_week"] = float(report["margin"].mean())
    if scenario.payers:
        k.update(payer_kpis(scenario, recorder, clients, start, end))
    if scenario.readmission.share.any():
        k.update(readmission_kpis(clients, start, end))
    if by_group:
        k.update(group_kpis(scenario, clients, client_weeks, start, end))
    return k


# ---------------------------------------------------------------------------------------------
# Across replications
# ---------------------------------------------------------------------------------------------


def t_interval(values, confidence: float = 0.95) -> tuple[float, float, float, float, int]:
    """(mean, std, ci_low, ci_high, n) of the non-missing values, Student t interval."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return (math.nan, math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n == 1:
        return (mean, math.nan, math.nan, math.nan, 1)
    std = float(x.std(ddof=1))
    half = t_quantile(0.5 + confidence / 2, n - 1) * std / math.sqrt(n)
    return (mean, std, mean - half, mean + half, n)


def t_quantile(p: float, dof: float) -> float:
    """Student t quantile (scipy.special, which loads in a fraction of scipy.stats' time)."""
    from scipy.special import stdtrit

    return float(stdtrit(dof, p))


def bounded_interval(
    values, unit: str, signed: bool = False, confidence: float = 0.95
) -> tuple[float, float, float, float, int]:
    """(mean, std, ci_low, ci_high, n) of a KPI's replication values, an interval that cannot
    leave the range the measure lives in. The Student t interval where it stays in range;
    where it would not (few replications, a mean near a bound), the same t interval built on a
    scale that respects the bound and transformed back (the delta method): the logit of a
    share, so it stays in (0, 1); the log of a non-negative measure, so it stays above 0.
    Signed measures (a margin, a trend) keep the t interval. Zero spread gives a zero-width
    interval at the mean."""
    mean, std, low, high, n = t_interval(values, confidence)
    if n < 2 or not math.isfinite(low) or std == 0 or signed:
        return mean, std, low, high, n
    top = 1.0 if unit == "share" else math.inf
    if low >= 0 and high <= top:
        return mean, std, low, high, n
    q = t_quantile(0.5 + confidence / 2, n - 1)
    se = std / math.sqrt(n)
    if unit == "share" and 0 < mean < 1:
        centre, half = math.log(mean / (1 - mean)), q * se / (mean * (1 - mean))
        low, high = (1 / (1 + math.exp(-(centre + d))) for d in (-half, half))
    elif mean > 0:
        half = q * se / mean
        low, high = mean * math.exp(-half), min(mean * math.exp(half), top)
    return mean, std, low, high, n


def summarise(kpis: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """summary.csv: one row per KPI with unit, mean, std, a 95% CI that stays in the measure's
    range (``bounded_interval``) and n."""
    rows = []
    for name in kpis.columns:
        if name == "replication":
            continue
        kpi = describe(name)
        mean, std, low, high, n = bounded_interval(kpis[name], kpi.unit, kpi.signed, confidence)
        rows.append(
            {
                "kpi": name,
                "unit": kpi.unit,
                "mean": mean,
                "std": std,
                "ci_low": low,
                "ci_high": high,
                "n": n,
            }
        )
    return pd.DataFrame(rows, columns=["kpi", "unit", "mean", "std", "ci_low", "ci_high", "n"])


def evaluate_targets(summary: pd.DataFrame, targets: list[tuple[str, str, float]]) -> pd.DataFrame:
    """Each (kpi, '<=' or '>=', bound) met or not: met only when the pessimistic end of the
    95% CI meets it (the mean itself when there is one replication); None without data."""
    rows = []
    by_kpi = summary.set_index("kpi")
    for kpi, op, bound in targets:
        row = by_kpi.loc[kpi] if kpi in by_kpi.index else None
        mean = math.nan if row is None else row["mean"]
        worst = math.nan if row is None else (row["ci_high"] if op == "<=" else row["ci_low"])
        if not np.isfinite(worst):
            worst = mean
        met = None
        if np.isfinite(worst):
            met = bool(worst <= bound) if op == "<=" else bool(worst >= bound)
        rows.append(
            {
                "kpi": kpi,
                "target": f"{op} {bound:g}",
                "value": mean,
                "worst_case": worst,
                "met": met,
            }
        )
    return pd.DataFrame(rows, columns=["kpi", "target", "value", "worst_case", "met"])


def target_status(scenario: Scenario, summary: pd.DataFrame) -> pd.DataFrame:
    """The scenario's targets, met or not (see ``evaluate_targets``)."""
    return evaluate_targets(summary, scenario.target_list())


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


# ---------------------------------------------------------------------------------------------
# Precision, warm-up and overload
# ---------------------------------------------------------------------------------------------

PRECISION_KPIS = (
    "wait_to_intake_days_mean",
    "wait_to_iop_days_mean",
    "therapist_utilisation",
    "prescriber_utilisation",
    "intake_utilisation",
    "room_utilisation",
)
"""KPIs whose precision ``--replications auto`` controls by default: waits and utilisations."""


def relative_half_width(values, confidence: float = 0.95) -> float:
    """Half-width of the t interval divided by |mean| (0 when every value is the same)."""
    mean, _, low, high, n = t_interval(values, confidence)
    if n < 2:
        return math.inf
    half = (high - low) / 2
    if half == 0:
        return 0.0
    return half / abs(mean) if mean != 0 else math.inf


def replications_needed(
    kpis: pd.DataFrame, names: list[str], precision: float, minimum: int
) -> int | None:
    """The smallest n >= minimum for which the first n replications give every KPI in
    ``names`` a relative CI half-width within ``precision``; None if no prefix does."""
    usable = [n for n in names if n in kpis and kpis[n].notna().any()]
    for n in range(minimum, len(kpis) + 1):
        head = kpis.iloc[:n]
        if all(relative_half_width(head[name]) <= precision for name in usable):
            return n
    return None


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
"""The weekly series whose MSER-5 truncation points make the warm-up suggestion."""


def suggest_warmup(weekly: pd.DataFrame) -> dict[str, int]:
    """MSER-5 truncation (weeks) of the replication-mean weekly IOP census and waitlist."""
    means = weekly.groupby("week")[list(WARMUP_SERIES)].mean()
    return {name: mser5(means[name].to_numpy()) for name in WARMUP_SERIES}


def moving_average(series, window: int) -> np.ndarray:
    """Welch's centred moving average, with shorter windows at the start."""
    y = np.asarray(series, dtype=float)
    out = np.empty(len(y))
    for i in range(len(y)):
        half = min(window, i, len(y) - 1 - i)
        out[i] = y[i - half : i + half + 1].mean()
    return out


ADMISSION_LIMITS = {
    "admission_blocked_by_caseload_share": "every primary therapist at their caseload cap",
    "admission_blocked_by_seats_share": "no free seat in a track for the client's age group",
    "admission_blocked_by_cohort_share": "free seats only in cohort tracks between cohort starts",
}


def limiting_factors(summary: pd.DataFrame) -> list[str]:
    """What held admissions up, in plain sentences from a summary: the share of time someone
    waited for a place that could not be given and why, the caseload occupancy, and the other
    constraints (facilitators, intake clinicians, prescribers) with their figures."""
    by = summary.set_index("kpi")["mean"]

    def value(name: str) -> float:
        return float(by.get(name, math.nan))

    lines = []
    intake = value("intake_utilisation")
    never = value("referrals_never_assessed_share")
    low = (
        summary.set_index("kpi")["ci_low"].get("intake_waitlist_growth_per_week", math.nan)
        if "ci_low" in summary
        else math.nan
    )
    # growing beyond doubt, by at least a client every 20 weeks
    growing = bool(low > 0 and value("intake_waitlist_growth_per_week") >= 0.05)
    intake_binds = growing or (math.isfinite(never) and never >= 0.05)
    if intake_binds:
        lines.append(
            "Intake assessments limit admissions: "
            + (
                f"the intake waitlist grows by about {value('intake_waitlist_growth_per_week'):.2f} "
                "a week; "
                if growing
                else ""
            )
            + f"{100 * never:.0f}% of the period's referrals were still waiting for an "
            f"assessment at the end, the mean wait for one is "
            f"{value('wait_to_intake_days_mean'):.1f} days, and intake clinicians are "
            f"{100 * intake:.0f}% busy (their bookable time is full). More intake hours admit "
            "more before any seat or therapist does."
        )
    blocked = value("admission_blocked_share")
    if math.isfinite(blocked):
        reasons = sorted(
            ((value(k), text) for k, text in ADMISSION_LIMITS.items() if value(k) > 0.005),
            reverse=True,
        )
        if blocked < 0.005 or not reasons:
            lines.append(
                "Admissions: nobody waited for an IOP place that could not be given "
                "(seats and caseloads had room whenever someone was waiting)."
            )
        else:
            binding = [text for share, text in reasons if share >= 0.9 * reasons[0][0]]
            lines.append(
                f"Admissions were held up {100 * blocked:.0f}% of the time by: "
                + "; ".join(f"{text} ({100 * share:.0f}% of the time)" for share, text in reasons)
                + "."
            )
            if len(binding) > 1:
                lines.append(
                    "These bind together: adding only one of them will admit few more clients."
                )
    occupancy = value("caseload_occupancy")
    if math.isfinite(occupancy):
        lines.append(
            f"Primary-therapist caseload places held: {100 * occupancy:.0f}% on average; "
            f"seats held: {100 * value('seat_occupancy'):.0f}%."
        )
    evaluation = value("wait_for_evaluation_days_mean")
    unbooked = value("medication_visits_unbooked_share")
    waiting = value("evaluation_waitlist_mean")
    if (
        (math.isfinite(evaluation) and evaluation >= 2)
        or (math.isfinite(unbooked) and unbooked >= 0.25)
        or (math.isfinite(waiting) and waiting >= 0.5)
    ):
        lines.append(
            f"Prescribers: {100 * unbooked:.0f}% of due medication visits found no slot, "
            f"{100 * value('evaluated_in_time_share'):.0f}% of those needing an evaluation had "
            "it in time"
            + (
                f"; {waiting:.1f} clients on average waited for an evaluation required before "
                f"their first IOP day (those seen waited {evaluation:.1f} days)"
                if math.isfinite(evaluation)
                else ""
            )
            + "."
        )
    cancelled = value("sessions_cancelled_share")
    if math.isfinite(cancelled) and cancelled > 0.005:
        lines.append(f"Group sessions cancelled for want of a facilitator: {100 * cancelled:.1f}%.")
    if math.isfinite(intake) and not intake_binds:
        lines.append(
            f"Intake clinicians are {100 * intake:.0f}% busy; the mean wait for an "
            f"assessment is {value('wait_to_intake_days_mean'):.1f} days."
        )
    return lines


QUEUES = {
    "intake_waitlist": "intake waitlist",
    "iop_waitlist": "IOP waitlist",
    "op_waitlist": "outpatient step-down waitlist",
}
"""Every queue a referral can stand in, by its weekly column; each gets a growth KPI
``<queue>_growth_per_week`` and is checked for overload."""

WEEKS_PER_YEAR = 365.25 / 7

LOSSES_ABSORB = 0.2
"""A share of the IOP waitlist giving up from which losses, not the waitlist, absorb demand."""


def queue_growth(weeks: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """The trend (clients a week) of each column of ``levels`` over ``weeks``: the slope of a
    least-squares line, fitted together with a yearly cycle when the series spans a year or
    more, so that a waitlist that swings with the seasons shows no growth while one that
    climbs does, whatever level it reached during the warm-up. NaN for under 4 weeks."""
    t = np.asarray(weeks, dtype=float)
    y = np.asarray(levels, dtype=float)
    if len(t) < 4:
        return np.full(y.shape[1], math.nan)
    columns = [np.ones_like(t), t - t.mean()]
    if seasonal_fit(len(t)):
        angle = 2 * math.pi * t / WEEKS_PER_YEAR
        columns += [np.sin(angle), np.cos(angle)]
    coefficients = np.linalg.lstsq(np.column_stack(columns), y, rcond=None)[0]
    return coefficients[1]


def seasonal_fit(weeks: int) -> bool:
    """Whether a trend over so many weeks is fitted with a yearly cycle (a year or more)."""
    return weeks >= WEEKS_PER_YEAR - 1


def growth_kpis(report: pd.DataFrame) -> dict[str, float]:
    """``<queue>_growth_per_week`` of one replication over the reporting period."""
    queues = [q for q in QUEUES if q in report]
    slopes = queue_growth(report["week"].to_numpy(), report[queues].to_numpy())
    return {f"{q}_growth_per_week": float(g) for q, g in zip(queues, slopes, strict=True)}


def _seasonal(scenario: Scenario) -> bool:
    """Whether the scenario's referrals vary by season (months, school terms or a source's own)."""
    r = scenario.referrals
    return (
        len(set(r.seasonality)) > 1
        or r.school_holiday_multiplier is not None
        or any(s.seasonality is not None and len(set(s.seasonality)) > 1 for s in r.sources)
    )


def overload_notes(scenario: Scenario, weekly: pd.DataFrame, kpis: pd.DataFrame) -> list[str]:
    """Plain-language warnings when demand exceeds capacity.

    A queue (intake, IOP or step-down waitlist) is called overloaded when, across
    replications, its trend over the reporting period (``queue_growth``: a yearly cycle taken
    out when the period spans a year) is positive beyond doubt (t > 3 on the per-replication
    slopes) and it grows by at least 5 clients over the period. The level it reached during
    the warm-up does not excuse it. Over less than a year of a scenario whose referrals vary
    by season, growth short of the queue's mean level could be the season: it is said as
    GROWING, with that caveat, rather than OVERLOADED.
    """
    notes = []
    report = weekly[~weekly["warmup"]]
    queues = [q for q in QUEUES if q in report]
    slopes = np.array(
        [
            queue_growth(rows["week"].to_numpy(), rows[queues].to_numpy())
            for _, rows in report.groupby("replication")
        ]
    ).reshape(-1, len(queues))
    weeks = scenario.horizon_weeks
    seasons = _seasonal(scenario) and not seasonal_fit(weeks)
    means = report.groupby("week")[queues].mean()
    for i, column in enumerate(queues):
        mean, std, low, high, n = t_interval(slopes[:, i])
        if n < 2:
            continue
        growth = mean * weeks
        t_stat = mean / (std / math.sqrt(n)) if std > 0 else (math.inf if mean > 0 else 0)
        level = report[column].mean()
        if not (t_stat > 3 and growth >= 5.0):
            continue
        first, last = means[column].iloc[:4].mean(), means[column].iloc[-4:].mean()
        trend = (
            f"the {QUEUES[column]} grows by about {mean:.2f} clients a week "
            f"(95% CI {low:.2f} to {high:.2f}; about {first:.0f} waiting at the start of the "
            f"measured period, {last:.0f} at its end)"
        )
        if seasons and growth < level:
            notes.append(
                f"GROWING: {trend}. Referrals vary by season and under a year is measured, so "
                "this may be the season rather than overload: measure a year or more to tell."
            )
        else:
            notes.append(
                f"OVERLOADED: {trend} and does not settle: demand exceeds capacity, so its mean "
                "and the waits depend on how long the run is and mean little. Add capacity or "
                "reduce referrals."
            )
    lost = (
        kpis["lost_from_iop_waitlist_share"].mean() if "lost_from_iop_waitlist_share" in kpis else 0
    )
    blocked = kpis["admission_blocked_share"].mean() if "admission_blocked_share" in kpis else 0
    if lost >= LOSSES_ABSORB and blocked >= 0.5:
        worst = max(ADMISSION_LIMITS, key=lambda k: kpis[k].mean() if k in kpis else -1.0)
        notes.append(
            f"DEMAND ABSORBED BY LOSSES: {100 * lost:.0f}% of clients waiting for an IOP place "
            f"gave up, and admissions were held up {100 * blocked:.0f}% of the time, mostly by "
            f"{ADMISSION_LIMITS[worst]} ({100 * kpis[worst].mean():.0f}%). The waitlist stays "
            "level because people leave it, not because capacity is enough: more referrals "
            "would mostly mean more people giving up."
        )
    if "turned_away_share" in kpis and kpis["turned_away_share"].mean() > 0.05:
        notes.append(
            f"{100 * kpis['turned_away_share'].mean():.0f}% of referrals were turned away "
            "because a waitlist was full."
        )
    return notes


def with_hours(
    clients: pd.DataFrame, attendance: pd.DataFrame, client_weeks: pd.DataFrame
) -> pd.DataFrame:
    """The clients table with IOP hours attended, full weeks in IOP and weeks meeting the rule."""
    iop = attendance[attendance["kind"].isin(IOP_SERVICES)]
    hours = iop.groupby("client_id")["hours"].sum()
    weeks = client_weeks.groupby("client_id")["meets_rule"].agg(["size", "sum"])
    out = clients.copy()
    out["iop_hours_attended"] = out["id"].map(hours).fillna(0.0)
    out["full_weeks_in_iop"] = out["id"].map(weeks["size"]).fillna(0).astype(int)
    out["weeks_meeting_hours_rule"] = out["id"].map(weeks["sum"]).fillna(0).astype(int)
    return out


def activity_hours(busy: pd.DataFrame, group_of: dict[str, str], from_time: float) -> pd.DataFrame:
    """Busy hours of each person and room by activity over the reporting period."""
    rows = busy[busy["end"] > from_time]
    hours = (rows["end"] - rows["start"].clip(lower=from_time)).rename("busy_hours")
    table = (
        rows.assign(busy_hours=hours)
        .groupby(["resource", "activity"], as_index=False)["busy_hours"]
        .sum()
    )
    table.insert(1, "pool", table["resource"].map(lambda r: group_of.get(r, r)))
    return table


# ---------------------------------------------------------------------------------------------
# Forecasts and back-tests
# ---------------------------------------------------------------------------------------------

FORECAST_SERIES = (
    "referrals",
    "iop_census",
    "iop_waitlist",
    "intake_waitlist",
    "admissions",
    "discharges",
)
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def forecast_bands(weekly: pd.DataFrame, as_recorded: bool = False) -> pd.DataFrame:
    """Week-by-week prediction bands across replications: the 50% (p25-p75) and 90% (p5-p95)
    bands, the median and the mean of each forecast series (long table). ``as_recorded``
    (back-tests): the census and IOP waitlist as dated records count them, to compare like
    with like with an extract."""
    w = weekly.assign(discharges=weekly[[f"discharged_{r}" for r in DISCHARGE_REASONS]].sum(axis=1))
    if as_recorded:
        w = w.assign(iop_census=w["iop_census_recorded"], iop_waitlist=w["iop_waitlist_recorded"])
    rows = []
    for series in FORECAST_SERIES:
        grouped = w.groupby(["week", "date"])[series]
        q = grouped.quantile(list(QUANTILES)).unstack()
        q.columns = ["p5", "p25", "p50", "p75", "p95"]
        q["mean"] = grouped.mean()
        rows.append(q.reset_index().assign(series=series))
    return pd.concat(rows, ignore_index=True)[
        ["series", "week", "date", "p5", "p25", "p50", "p75", "p95", "mean"]
    ]


BACKTEST_SERIES = ("referrals", "iop_census", "iop_waitlist", "admissions")
"""Compared with the extract: referrals (demand: where losses before assessment grow with the
wait, a surge shows here before it shows in the IOP), the IOP census, the IOP waitlist (joining
it to the first IOP day, or giving up: a client placed on a track waits for its next session)
and admissions."""


def backtest_table(bands: pd.DataFrame, observed: pd.DataFrame, last: dict) -> pd.DataFrame:
    """Per series: the share of weeks whose observed value falls inside the 50% and 90% bands,
    the mean absolute error of the median forecast and of the naive forecast (the last value
    seen before the forecast carried forward), and which was better."""
    rows = []
    for series in BACKTEST_SERIES:
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
