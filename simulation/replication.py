"""One replication: build the clinic, run it, and turn its records into result tables."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simulation import results
from simulation.compiled import compile_scenario
from simulation.config import Scenario
from simulation.model.clinic import ClinicModel
from simulation.model.recorder import as_text, busy_by_hour_of_week, event_log
from simulation.streams import Streams


@dataclass
class ReplicationResult:
    """What one replication sends back: plain tables, no model objects.

    kpis: KPI name -> value (warm-up excluded). weekly: one row per week. clients: one row per
    referral. sessions: one row per timetabled group session. resources: busy and available
    hours per week per staff pool and room. usage: mean busy hours per hour of the week per
    resource (reporting period). client_weeks: IOP hours per full client-week. caseloads: each
    primary therapist's mean IOP caseload against the cap. events: the event log, only when
    asked for. extra: what else was asked for. level_visits: every stay at a level of care
    (scenarios with levels).
    """

    replication: int
    kpis: dict[str, float]
    weekly: pd.DataFrame
    clients: pd.DataFrame
    sessions: pd.DataFrame
    resources: pd.DataFrame
    usage: pd.DataFrame
    client_weeks: pd.DataFrame
    activity: pd.DataFrame
    caseloads: pd.DataFrame
    events: pd.DataFrame | None = None
    extra: dict = field(default_factory=dict)
    level_visits: pd.DataFrame | None = None  # one row per stay at a level of care (levels)


DETAILS = ("tables", "kpis", "forecast")
"""How much a replication computes. ``tables``: every table (runs, comparisons). ``kpis``: every
KPI (by group too) and the weekly table, no other table (sweeps, plans, robust plans: only
their summaries are read, so the tables are never built or sent back). ``forecast``: the
weekly table and the KPIs without their breakdown by group, the hours rule and caseloads."""


def run_replication(
    scenario: Scenario,
    replication: int,
    seed: int,
    with_event_log: bool = False,
    detail: str = "tables",
    attendance_records: bool = False,
) -> ReplicationResult:
    """Run replication ``replication`` of ``scenario`` with streams from (seed, replication).

    ``detail``: one of DETAILS; the numbers are the same whatever the detail (the same
    draws), only what is computed from them differs.
    ``attendance_records`` (synthetic extracts): keep every group session each client was
    expected at in ``extra["group_attendance"]``."""
    if detail not in DETAILS:
        raise ValueError(f"detail {detail!r}: one of {', '.join(DETAILS)}")
    with collector_paused():
        return _run(scenario, replication, seed, with_event_log, detail, attendance_records)


@contextmanager
def collector_paused():
    """Python's cycle collector off while a replication runs, as it was after. A replication
    makes hundreds of thousands of small records that live until it ends; the collector
    walked them again and again (3-5% of the time) and found no cycles to free among them.
    The run is let go of at its end (``ClinicModel.close``): what little it leaves in cycles
    is freed at the next collection after it."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _run(
    scenario: Scenario,
    replication: int,
    seed: int,
    with_event_log: bool,
    detail: str,
    attendance_records: bool,
) -> ReplicationResult:
    model = ClinicModel(compile_scenario(scenario), Streams(seed, replication))
    try:
        return _results(scenario, replication, model, with_event_log, detail, attendance_records)
    finally:
        model.close()  # (frees the run at once, not by the cycle collector)


def _results(
    scenario: Scenario,
    replication: int,
    model: ClinicModel,
    with_event_log: bool,
    detail: str,
    attendance_records: bool,
) -> ReplicationResult:
    """Run ``model`` and compute what ``detail`` asks of it."""
    light = detail == "forecast"
    recorder = model.run()
    clients = recorder.client_table()
    attendance = recorder.attendance_table()
    sessions = recorder.session_table()
    visits = results.visit_table(recorder)
    resources = results.resource_weeks(scenario, recorder, model.staff)
    weekly = results.weekly_table(
        scenario, recorder, resources, clients, attendance, sessions, visits
    )
    if light:  # forecasts show waits, census and utilisation; not the hours rule or caseloads
        client_weeks = pd.DataFrame({"client_id": [], "week": [], "meets_rule": []}).astype(
            {"client_id": int, "week": int, "meets_rule": bool}
        )
        caseloads = None
    else:
        client_weeks = results.hours_by_client_week(scenario, clients, attendance)
        caseloads = results.caseload_table(scenario, clients, model.staff)
    kpis = results.replication_kpis(
        scenario,
        recorder,
        weekly,
        clients,
        client_weeks,
        resources,
        sessions,
        visits,
        caseloads,
        not light,
    )
    if detail != "tables":
        empty = pd.DataFrame()
        return ReplicationResult(
            replication, kpis, weekly, empty, empty, empty, empty, empty, empty, empty
        )
    busy = recorder.busy_table()
    groups, group_of = results.resource_groups(scenario, model.staff.employment)
    names = [g[0] for g in groups]
    per_hour = busy_by_hour_of_week(
        busy, group_of, names, scenario.measured_from_week * 168.0, model.end
    )
    capacity = results.hourly_capacity(scenario)
    usage = pd.DataFrame(
        {
            "resource": np.repeat(names, 168),
            "hour_of_week": np.tile(np.arange(168), len(names)),
            "busy_hours": per_hour.ravel(),
            "available_hours": capacity.ravel(),
        }
    )
    clients = as_text(results.with_hours(clients, attendance, client_weeks))
    activity = results.activity_hours(busy, group_of, scenario.measured_from_week * 168.0)
    events = event_log(clients, busy, replication) if with_event_log else None
    return ReplicationResult(
        replication=replication,
        kpis=kpis,
        weekly=weekly,
        clients=clients,
        sessions=as_text(sessions),
        resources=as_text(resources),
        usage=usage,
        client_weeks=as_text(client_weeks),
        activity=activity,
        caseloads=as_text(caseloads),
        events=events,
        level_visits=as_text(visits) if scenario.levels else None,
        extra={"group_attendance": recorder.group_attendance_table(attendance)}
        if attendance_records
        else {},
    )
