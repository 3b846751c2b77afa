"""The KPIs of one replication: clients, groups, staff and workforce, readmissions, payers and prescribers, gathered by replication_kpis."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from simulation.clock import HOURS_PER_DAY, HOURS_PER_WEEK
from simulation.config import Scenario, intake_holds
from simulation.kpis import (
    CASELOAD_PREFIX,
    GROUP_KPIS,
    SITE_LIMIT_KPIS,
    TRACK_APPOINTMENT_KPIS,
    UTILISATION_PREFIX,
    group_kpi,
    split_group,
)
from simulation.model.network import SITE_LIMITS
from simulation.model.recorder import Recorder
from simulation.results.levels import level_kpis
from simulation.results.money import (
    billable_days,
    claims,
    in_post,
    payer_lookup,
    video_lookup,
    weekly_pay,
)
from simulation.results.queues import growth_kpis

ROLE_KPIS = {
    "therapist": "therapist_utilisation",
    "prescriber": "prescriber_utilisation",
    "intake": "intake_utilisation",
}


def workforce_kpis(scenario: Scenario, recorder: Recorder, start: float) -> dict[str, float]:
    """Posts empty below each pool's establishment (its size in the scenario) and the clients
    of leavers, a year over the reporting period."""
    years = scenario.horizon_weeks / 52.0
    weeks = np.arange(scenario.measured_from_week, scenario.total_weeks)
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
    therapists = [n for n, p in scenario.staff.items() if p.role == "therapist"]
    mine = (
        (resources["week"].to_numpy() >= scenario.measured_from_week)
        & (resources["kind"].to_numpy(dtype=object) == "staff")
        & np.isin(resources["resource"].to_numpy(dtype=object), therapists)
    )
    full_time = scenario.finance.full_time_hours
    fte = sum(scenario.staff[n].paid_fte(full_time) * scenario.staff[n].size for n in therapists)
    paid = fte * full_time * scenario.horizon_weeks

    def total(column: str) -> float:  # (pandas' sum: the same pairwise sum as before)
        return float(pd.Series(resources[column].to_numpy(dtype=float)[mine]).sum())

    rostered = total("available_hours")
    facing = total("busy_hours")
    return {
        "therapist_productivity": facing / paid if paid > 0 else math.nan,
        "therapist_time_committed": (
            (facing + total("indirect_hours")) / rostered if rostered > 0 else math.nan
        ),
        "clients_per_therapist_fte": census / fte if fte > 0 else math.nan,
        "documentation_unbooked_hours_per_week": recorder.documentation_unbooked
        / scenario.total_weeks,
    }


def pooled_utilisation(resources: pd.DataFrame, from_week: int, by: str = "resource") -> pd.Series:
    """Busy / available hours over the weeks from ``from_week``, per resource (or per value of
    another column, ``by``: role)."""
    keep = resources["week"].to_numpy() >= from_week
    names, at = np.unique(
        resources[by].to_numpy(dtype=object)[keep].astype(str), return_inverse=True
    )
    busy = np.bincount(at, resources["busy_hours"].to_numpy(float)[keep], minlength=len(names))
    available = np.bincount(
        at, resources["available_hours"].to_numpy(float)[keep], minlength=len(names)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(available > 0, busy / np.where(available > 0, available, 1.0), np.nan)
    return pd.Series(share, index=pd.Index(names, name="resource"), dtype=float)


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
    return quantile(values, 0.9)


def quantile(values, q: float) -> float:
    """``np.quantile(values, q)`` (its default, linear method), number for number, without its
    overhead (a tenth of the time on the few hundred values of a replication's waits): the
    two order statistics around (n - 1) q by partition, then numpy's own interpolation."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    if not n:
        return math.nan
    if np.isnan(values).any():
        return math.nan
    virtual = (n - 1) * q
    below = math.floor(virtual)
    above = min(below + 1, n - 1)
    part = np.partition(values, [below, above]) if n > 1 else values
    a, b, t = float(part[below]), float(part[above]), virtual - below
    diff = b - a
    return b - diff * (1 - t) if t >= 0.5 else a + diff * t


def _share(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else math.nan


_FLOAT_COLUMNS = (
    "referred",
    "intake_start",
    "intake_first_rostered",
    "assessed",
    "iop_start",
    "iop_end",
    "iop_waitlisted",
)


def client_columns(clients: pd.DataFrame) -> dict[str, np.ndarray]:
    """The client columns the KPIs read, as numpy arrays (converted once per replication)."""
    cols = {name: clients[name].to_numpy(dtype=float) for name in _FLOAT_COLUMNS if name in clients}
    cols["status"] = clients["status"].to_numpy(dtype=object)
    cols["outcome"] = clients["outcome"].to_numpy(dtype=object)
    return cols


def client_weeks_of(
    clients: pd.DataFrame, client_weeks: pd.DataFrame, start: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(each client-week's row in ``clients``, -1 if none; whether it is a full client-week of
    the period with a client; whether it met the hours rule), once per replication."""
    at = pd.Index(clients["id"].to_numpy()).get_indexer(client_weeks["client_id"].to_numpy())
    in_period = (client_weeks["week"].to_numpy() >= int(start // HOURS_PER_WEEK)) & (at >= 0)
    return at, in_period, client_weeks["meets_rule"].to_numpy()


def client_kpis(
    clients: pd.DataFrame, client_weeks: pd.DataFrame, start: float, end: float, weeks: int
) -> dict[str, float]:
    """KPIs computed from clients' milestones (for everyone, or for one group of clients)."""
    _, in_period, meets_rule = client_weeks_of(clients, client_weeks, start)
    return _client_kpis(client_columns(clients), in_period, meets_rule, start, end, weeks)


def _client_kpis(
    cols: dict[str, np.ndarray],
    client_weeks: np.ndarray,
    meets_rule: np.ndarray,
    start: float,
    end: float,
    weeks: int,
) -> dict[str, float]:
    """``client_kpis`` on columns already converted: ``client_weeks`` marks the full
    client-weeks of these clients in the period, ``meets_rule`` every client-week's verdict."""
    referred, intake_start, assessed = cols["referred"], cols["intake_start"], cols["assessed"]
    iop_start, waitlisted = cols["iop_start"], cols["iop_waitlisted"]
    status, outcome = cols["status"], cols["outcome"]
    k: dict[str, float] = {}
    is_referred = referred >= start
    seen = is_referred & ~np.isnan(intake_start)
    intake_wait = (intake_start[seen] - referred[seen]) / HOURS_PER_DAY
    k["wait_to_intake_days_mean"] = _mean(intake_wait)
    k["wait_to_intake_days_p90"] = _p90(intake_wait)
    if "intake_first_rostered" in cols:  # (the wait less what the rosters alone impose)
        rostered = cols["intake_first_rostered"][seen]
        queued = np.isfinite(rostered)
        k["intake_queue_days_mean"] = _mean(
            (intake_start[seen][queued] - rostered[queued]) / HOURS_PER_DAY
        )
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
    k["client_weeks_meeting_hours_share"] = _share(
        int(meets_rule[client_weeks].sum()), int(client_weeks.sum())
    )
    return k


def _time_in_iop(began: np.ndarray, ended: np.ndarray, start: float, end: float) -> float:
    """Mean number of these clients in the IOP (first day ``began`` to leaving it, ``ended``)
    over [start, end)."""
    ok = np.isfinite(began)
    ended = np.where(np.isfinite(ended), ended, end)
    overlap = np.clip(np.minimum(ended, end) - np.maximum(began, start), 0, None)
    return float(overlap[ok].sum() / (end - start))


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
        "site": sorted(s.name for s in scenario.sites),
        "region": sorted(r.name for r in scenario.network.regions),
    }
    named = {split_group(k)[1].partition("=")[0] for k in scenario.targets if split_group(k)[1]}
    return {kind: names for kind, names in groups.items() if len(names) > 1 or kind in named}


def group_kpis(
    scenario: Scenario,
    clients: pd.DataFrame,
    client_weeks: pd.DataFrame,
    start: float,
    end: float,
    converted: tuple | None = None,
) -> dict[str, float]:
    """Waits, losses, census, admissions and the hours rule for each track, age group and
    referral source, as ``<kpi>[<kind>=<name>]``. The columns are converted once (or given:
    ``converted`` = (``client_columns``, ``client_weeks_of``)); each group is a boolean row
    mask over them (and over the client-weeks, through each week's client)."""
    k: dict[str, float] = {}
    weeks = scenario.horizon_weeks
    cols, (at, in_period, meets_rule) = converted or (
        client_columns(clients),
        client_weeks_of(clients, client_weeks, start),
    )
    for kind, names in reported_groups(scenario).items():
        wanted = GROUP_TRACK_KPIS if kind == "track" else GROUP_KPIS
        column = clients[kind].to_numpy()
        for name in names:
            rows = column == name
            mine = {n: v[rows] for n, v in cols.items()}
            values = _client_kpis(mine, in_period & rows[at], meets_rule, start, end, weeks)
            values["iop_census_mean"] = _time_in_iop(mine["iop_start"], mine["iop_end"], start, end)
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
    names = clients["payer"].to_numpy(dtype=object)
    for p in scenario.payers:  # whose reviews end stays
        if p.authorised_days is not None:
            theirs = started & (names == p.name)
            k[group_kpi("extensions_refused_share", "payer", p.name)] = _share(
                int((refused & theirs).sum()), int(theirs.sum())
            )
    return k


def appointments_by_track(
    scenario: Scenario, appointments: dict[str, np.ndarray], start: float
) -> dict[str, float]:
    """Individual sessions and medication visits due that found no slot, for the clients of
    each track (``<kpi>[track=<name>]``): whose appointments the clinic's hours cannot hold
    (an evening track's clients at work by day, a therapist's free hours elsewhere)."""
    k = {}
    due = appointments["time"] >= start
    booked, track, kind = appointments["booked"], appointments["track"], appointments["kind"]
    for kpi, name in TRACK_APPOINTMENT_KPIS.items():
        of_kind = due & (kind == name)
        for t in sorted(x.name for x in scenario.tracks):
            mine = of_kind & (track == t)
            k[group_kpi(kpi, "track", t)] = _share(int((~booked[mine]).sum()), int(mine.sum()))
    return k


def prescriber_kpis(
    scenario: Scenario,
    recorder: Recorder,
    clients: pd.DataFrame,
    appointments: dict[str, np.ndarray],
    start: float,
    end: float,
) -> dict[str, float]:
    """What prescribers gate: medication visits due that found no slot in their week, how
    late the visits that happened were, the share of clients needing an evaluation who had it
    within ``iop.evaluation_within_days`` of starting (among those who started early enough
    for the window to be seen), and the wait for an evaluation required before starting."""
    iop = scenario.iop
    due = (appointments["kind"] == "medication") & (appointments["time"] >= start)
    k = {
        "medication_visits_unbooked_share": _share(
            int((~appointments["booked"][due]).sum()), int(due.sum())
        ),
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
    # those whose wait for it ended: seen, or gone (given up) without being seen
    status = clients["status"].to_numpy(dtype=object)
    asked_in_period = np.isfinite(asked) & (asked >= start)
    gave_up = asked_in_period & ~np.isfinite(evaluated) & (status == "lost")
    ended = asked_in_period & (np.isfinite(evaluated) | (status != "evaluation"))
    k["lost_waiting_for_evaluation_share"] = _share(int(gave_up.sum()), int(ended.sum()))
    return k


def replication_kpis(
    scenario: Scenario,
    recorder: Recorder,
    weekly: pd.DataFrame,
    clients: pd.DataFrame,
    client_weeks: pd.DataFrame,
    resources: pd.DataFrame,
    sessions: pd.DataFrame,
    visits: pd.DataFrame,
    caseloads: pd.DataFrame | None = None,
    by_group: bool = True,
) -> dict[str, float]:
    """The KPIs of one replication, over the reporting period (warm-up excluded); with
    ``by_group``, also for each track, age group and referral source; ``visits``: the stays
    at levels of care (``visit_table``)."""
    start = scenario.measured_from_week * HOURS_PER_WEEK
    end = scenario.total_weeks * HOURS_PER_WEEK
    weeks = scenario.horizon_weeks
    report = weekly[~weekly["warmup"]]
    cols = client_columns(clients)  # converted once for every client KPI below
    by_week = client_weeks_of(clients, client_weeks, start)
    k: dict[str, float] = {"referrals_per_week": int((cols["referred"] >= start).sum()) / weeks}
    k.update(_client_kpis(cols, by_week[1], by_week[2], start, end, weeks))
    m = recorder.monitors

    def mean_of(name: str) -> float:
        return float(m[name].bin_means(np.array([start, end]))[0])

    k["iop_waitlist_mean"] = mean_of("iop_waitlist")
    k["iop_waitlist_max"] = m["iop_waitlist"].max_between(start, end)
    k["intake_waitlist_mean"] = mean_of("intake_waitlist")
    k["op_waitlist_mean"] = mean_of("op_waitlist")
    k["evaluation_waitlist_mean"] = mean_of("evaluation")
    k["iop_census_mean"] = mean_of("iop") + mean_of("blocked")
    k["blocked_in_iop_mean"] = mean_of("blocked")
    k["op_census_mean"] = mean_of("op")
    left_iop = cols["iop_end"] >= start
    n_left = int(left_iop.sum())
    exit_reason = clients["exit_reason"].to_numpy(dtype=object)[left_iop]
    for kpi, reason in (
        ("completion_share", "completed"),
        ("dropout_share", "dropped_out"),
        ("escalation_share", "escalated"),
        ("authorisation_ended_share", "authorisation_ended"),
    ):
        k[kpi] = _share(int((exit_reason == reason).sum()), n_left)
    k["iop_length_of_stay_days_mean"] = _mean(
        (cols["iop_end"][left_iop] - cols["iop_start"][left_iop]) / HOURS_PER_DAY
    )

    for name, value in pooled_utilisation(resources, scenario.measured_from_week).items():
        k[f"{UTILISATION_PREFIX}{name}"] = float(value)
    roles = pooled_utilisation(resources, scenario.measured_from_week, by="role")
    for role, kpi in [
        *ROLE_KPIS.items(),
        ("room", "room_utilisation"),
        ("office", "office_utilisation"),
    ]:
        k[kpi] = float(roles.get(role, math.nan))
    holds = intake_holds(scenario)
    k["intake_fillable_share"] = holds.filled_share if holds is not None else math.nan
    k["seat_occupancy"] = _mean(report["seat_occupancy"])
    k.update(staff_time_kpis(scenario, resources, k["iop_census_mean"], recorder))
    held = report["sessions_held"].sum()
    cancelled = report["sessions_cancelled"].sum()
    in_period = sessions["time"].to_numpy(dtype=float) >= start
    attendees = sessions["attendees"].to_numpy()
    k["mean_group_size"] = _mean(attendees[in_period & sessions["held"].to_numpy(dtype=bool)])
    k["sessions_cancelled_share"] = _share(int(cancelled), int(held + cancelled))
    outcome = sessions["outcome"].to_numpy(dtype=object)[in_period]
    low = int(np.isin(outcome, ["merged", "cancelled_low_attendance"]).sum())
    k["sessions_low_attendance_share"] = _share(low, int(held + cancelled) + low)
    refused = sum(n for t, n in recorder.turned_away if t >= start)
    came = int(attendees[in_period].sum())
    k["group_turned_away_share"] = _share(refused, came + refused)
    appointments = recorder.appointment_arrays()
    individual = (appointments["kind"] == "individual") & (appointments["time"] >= start)
    k["individual_sessions_unbooked_share"] = _share(
        int((~appointments["booked"][individual]).sum()), int(individual.sum())
    )
    k.update(prescriber_kpis(scenario, recorder, clients, appointments, start, end))
    k.update(appointments_by_track(scenario, appointments, start))
    op_start = clients["op_start"].to_numpy(dtype=float)
    stepped = op_start >= start
    blocked_days = op_start[stepped] - clients["blocked_from"].to_numpy(dtype=float)[stepped]
    k["blocked_step_down_days_mean"] = _mean(
        np.where(np.isnan(blocked_days), 0.0, blocked_days) / HOURS_PER_DAY
    )
    k.update(growth_kpis(report))
    # what limits admissions: shares of time someone waited for a place that could not be given
    k["admission_blocked_share"] = mean_of("blocked_any")
    k["admission_blocked_by_seats_share"] = mean_of("blocked_by_seats")
    k["admission_blocked_by_caseload_share"] = mean_of("blocked_by_caseload")
    k["admission_blocked_by_cohort_share"] = mean_of("blocked_by_cohort")
    if caseloads is not None and len(caseloads):
        # places offered: each therapist's cap for the share of the period they were in post
        offered = caseloads["cap"].to_numpy() * caseloads["in_post_share"].to_numpy()
        k["caseload_occupancy"] = float(caseloads["mean_caseload"].sum() / offered.sum())
        pool = caseloads["pool"].to_numpy(dtype=object)
        # (pandas' grouped sums: the same compensated sums, in the same order, as before)
        held = pd.Series(caseloads["mean_caseload"].to_numpy(dtype=float)).groupby(pool).sum()
        cap = pd.Series(offered).groupby(pool).sum()
        for name in held.index:
            k[f"{CASELOAD_PREFIX}{name}"] = float(held[name] / cap[name])
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
        k.update(group_kpis(scenario, clients, client_weeks, start, end, (cols, by_week)))
    k.update(level_kpis(scenario, recorder, clients, visits, start, end))
    k.update(network_kpis(scenario, recorder, clients, start, end))
    k.update(site_utilisation(scenario, resources))
    k.update(site_money(scenario, recorder, clients, start, end))
    return k


def site_money(
    scenario: Scenario, recorder: Recorder, clients: pd.DataFrame, start: float, end: float
) -> dict[str, float]:
    """Each site's revenue (its clients' claims less denials), its own costs (the pay of its
    pools, its rooms) and the difference, a week over the period (with sites and payers)."""
    if not scenario.sites or recorder.claims is None:
        return {}
    c = recorder.claims
    day = c["day"].to_numpy()
    keep = (day >= start / HOURS_PER_DAY) & (day < end / HOURS_PER_DAY)
    site_of = clients.set_index("id")["site"]
    where = site_of.reindex(c["client_id"].to_numpy()[keep]).to_numpy()
    net = (c["billed"] - c["denied"]).to_numpy()[keep]
    weeks = (end - start) / HOURS_PER_WEEK
    k: dict[str, float] = {}
    for name in sorted(s.name for s in scenario.sites):
        revenue = float(net[where == name].sum() / weeks)
        cost = weekly_pay(scenario, [p for p in scenario.staff.values() if p.site == name])
        cost += scenario.finance.room_cost_per_week * sum(r.site == name for r in scenario.rooms)
        k[group_kpi("site_revenue_per_week", "site", name)] = revenue
        k[group_kpi("site_direct_cost_per_week", "site", name)] = float(cost)
        k[group_kpi("site_contribution_per_week", "site", name)] = revenue - float(cost)
    return k


def site_utilisation(scenario: Scenario, resources: pd.DataFrame) -> dict[str, float]:
    """Each site's therapists', prescribers' and intake clinicians' utilisation, from the pools
    that work there (pools of every site are not any one site's), as ``<kpi>[site=<name>]``."""
    if not scenario.sites:
        return {}
    where = {name: pool.site for name, pool in scenario.staff.items()}
    site = resources["resource"].map(where)
    k: dict[str, float] = {}
    for name in sorted(s.name for s in scenario.sites):
        mine = resources[(site == name).to_numpy()]
        if mine.empty:
            continue
        roles = pooled_utilisation(mine, scenario.measured_from_week, by="role")
        for role, kpi in ROLE_KPIS.items():
            if role in roles:
                k[group_kpi(kpi, "site", name)] = float(roles[role])
    return k


def network_kpis(
    scenario: Scenario, recorder: Recorder, clients: pd.DataFrame, start: float, end: float
) -> dict[str, float]:
    """A network's travel burden: the mean travel minutes from a client's region to the site
    they were seen at, over the period's IOP starts (none for those who join by video; empty
    without sites)."""
    if not scenario.sites:
        return {}
    minutes = {
        (region.name, site): value
        for region in scenario.network.regions
        for site, value in region.travel_minutes.items()
    }
    virtual = {t.name for t in scenario.tracks if t.modality == "virtual"}
    iop_start = clients["iop_start"].to_numpy(dtype=float)
    started = clients[(iop_start >= start) & (iop_start < end)]
    travel = [
        0.0 if track in virtual or video else minutes.get((r, s), math.nan)
        for r, s, track, video in zip(
            started["region"], started["site"], started["track"], started["by_video"], strict=True
        )
    ]
    known = [t for t in travel if not math.isnan(t)]
    k = {"travel_minutes_mean": float(np.mean(known)) if known else math.nan}
    edges = np.array([start, end])
    for site in sorted(s.name for s in scenario.sites):  # what holds admissions up there
        for monitor, kpi in zip(SITE_LIMITS, SITE_LIMIT_KPIS, strict=True):
            series = recorder.monitors.get(f"{monitor}:{site}")
            if series is not None:
                k[group_kpi(kpi, "site", site)] = float(series.bin_means(edges)[0])
    return k
