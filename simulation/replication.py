"""One replication: build the clinic, run it, and turn its records into result tables."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from simulation import analysis
from simulation.model.clinic import ClinicModel
from simulation.model.recorder import busy_by_hour_of_week, event_log
from simulation.scenario import Scenario
from simulation.streams import Streams


@dataclass
class ReplicationResult:
    """What one replication sends back: plain tables, no model objects.

    kpis: KPI name -> value (warm-up excluded). weekly: one row per week. clients: one row per
    referral. sessions: one row per timetabled group session. resources: busy and available
    hours per week per staff pool and room. usage: mean busy hours per hour of the week per
    resource (reporting period). client_weeks: IOP hours per full client-week. events: the
    event log, only when asked for.
    """

    replication: int
    kpis: dict[str, float]
    weekly: pd.DataFrame
    clients: pd.DataFrame
    sessions: pd.DataFrame
    resources: pd.DataFrame
    usage: pd.DataFrame
    client_weeks: pd.DataFrame
    events: pd.DataFrame | None = None
    extra: dict = field(default_factory=dict)


def run_replication(
    scenario: Scenario, replication: int, seed: int, with_event_log: bool = False
) -> ReplicationResult:
    """Run replication ``replication`` of ``scenario`` with streams from (seed, replication)."""
    model = ClinicModel(scenario, Streams(seed, replication))
    recorder = model.run()
    clients = recorder.client_table()
    attendance = recorder.attendance_table()
    resources = analysis.resource_weeks(scenario, recorder, model.staff)
    weekly = analysis.weekly_table(scenario, recorder, resources)
    client_weeks = analysis.hours_by_client_week(scenario, clients, attendance)
    kpis = analysis.replication_kpis(scenario, recorder, weekly, clients, client_weeks, resources)
    busy = recorder.busy_table()
    usage = busy_by_hour_of_week(busy, scenario.warmup_weeks * 168.0, model.end)
    pools = {p.name: p.pool for p in model.staff.people.values()}
    if not usage.empty:
        # Heatmap rows are pools and rooms (people summed into their pool).
        usage = usage.groupby(lambda r: pools.get(r, r)).sum()
    usage = (
        usage.rename_axis("resource")
        .reset_index()
        .melt(id_vars="resource", var_name="hour_of_week", value_name="busy_hours")
    )
    usage = analysis.hourly_capacity(scenario).merge(
        usage, on=["resource", "hour_of_week"], how="left"
    )
    usage["busy_hours"] = usage["busy_hours"].fillna(0.0)
    events = event_log(clients, busy, replication) if with_event_log else None
    return ReplicationResult(
        replication=replication,
        kpis=kpis,
        weekly=weekly,
        clients=clients,
        sessions=recorder.session_table(),
        resources=resources,
        usage=usage,
        client_weeks=client_weeks,
        events=events,
    )
