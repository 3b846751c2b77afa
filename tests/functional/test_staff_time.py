"""Therapist time beyond face-to-face work."""

from __future__ import annotations

import pytest

from simulation import config as scenarios
from simulation.experiment import run_experiment
from tests.conftest import run, short

NOTES = [
    "staff.therapists.indirect_hours_per_week=5",
    "staff.evening therapists.indirect_hours_per_week=6",
    "staff.therapists.documentation_minutes_per_hour=15",
    "staff.evening therapists.documentation_minutes_per_hour=15",
]


def test_indirect_time_raises_time_committed_and_leaves_less_for_clients():
    # common random numbers: same referrals and clients, only the therapists' time differs
    plain = run_experiment(short(), replications=3).summary.set_index("kpi")["mean"]
    busy = run_experiment(short(*NOTES), replications=3).summary.set_index("kpi")["mean"]
    assert busy["therapist_time_committed"] > plain["therapist_time_committed"] + 0.1
    assert busy["individual_sessions_unbooked_share"] > plain["individual_sessions_unbooked_share"]
    assert plain["therapist_time_committed"] == plain["therapist_utilisation"]  # none by default


def test_intake_indirect_time_lengthens_the_wait_for_an_assessment():
    plain = run_experiment(short(), replications=3).summary.set_index("kpi")["mean"]
    busy = run_experiment(short("staff.intake.indirect_hours_per_week=6"), replications=3)
    waits = busy.summary.set_index("kpi")["mean"]
    assert waits["wait_to_intake_days_mean"] > plain["wait_to_intake_days_mean"]


def test_notes_never_overlap_client_work_and_stay_within_the_roster():
    from simulation.compiled import compile_scenario
    from simulation.model.clinic import ClinicModel
    from simulation.streams import Streams

    sc = short(*NOTES)
    model = ClinicModel(compile_scenario(sc), Streams(sc.seed, 0))
    recorder = model.run()
    busy = recorder.busy_table()
    notes = recorder.indirect_table()
    assert len(notes) > 100
    for person, rows in notes.groupby("resource"):
        work = busy[busy["resource"] == person]
        for row in rows.itertuples():
            overlap = (work["start"] < row.end - 1e-9) & (row.start < work["end"] - 1e-9)
            assert not overlap.any(), (person, row)
            assert int(row.start // 24) == int((row.end - 1e-9) // 24)  # the same day
    k = run(sc).kpis
    assert 0 < k["therapist_productivity"] <= k["therapist_time_committed"] <= 1


def test_caseload_caps_may_scale_with_fte():
    """8 IOP clients per FTE at 0.625 FTE is the baseline's cap of 5 (same numbers); at
    0.75 FTE (the evening therapists) it is 6; both ways of giving a cap is an error."""
    from simulation.compiled import compile_scenario
    from simulation.model.clinic import ClinicModel
    from simulation.streams import Streams

    per_fte = [
        "staff.therapists.iop_caseload_cap=0",
        "staff.therapists.iop_caseload_per_fte=8",
        "staff.evening therapists.iop_caseload_cap=0",
        "staff.evening therapists.iop_caseload_per_fte=8",
    ]
    sc = short(*per_fte)
    people = ClinicModel(compile_scenario(sc), Streams(sc.seed, 0)).staff.people
    assert {p.iop_cap for p in people.values() if p.pool == "therapists"} == {5}
    assert {p.iop_cap for p in people.values() if p.pool == "evening therapists"} == {6}
    same = short(*per_fte[:2])
    assert run(same).kpis == run(short()).kpis
    with pytest.raises(scenarios.ScenarioError, match="not both"):
        short("staff.therapists.iop_caseload_per_fte=8")
