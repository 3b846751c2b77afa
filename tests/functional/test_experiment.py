"""Experiments: identical numbers whatever the executor, precision-driven replications."""

import pandas as pd
import pytest

from simulation import results
from simulation.experiment import run_experiment, run_to_precision
from tests.conftest import plain_short, short

SC = short("horizon_weeks=10", "warmup_weeks=2")


def _same(a, b):
    pd.testing.assert_frame_equal(a.kpis, b.kpis)
    for name in ("weekly", "clients", "sessions"):
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])


def test_processes_give_identical_results_to_serial():
    serial = run_experiment(SC, replications=4, workers=1)
    parallel = run_experiment(SC, replications=4, workers=2)
    _same(serial, parallel)
    assert list(parallel.kpis["replication"]) == [0, 1, 2, 3]


@pytest.fixture(scope="module")
def dask_scheduler():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None, processes=True
    )
    yield cluster.scheduler_address
    cluster.close()


def test_dask_gives_identical_results_to_serial(dask_scheduler):
    assert dask_scheduler.startswith("tcp://127.0.0.1:")
    serial = run_experiment(SC, replications=4, workers=1)
    on_dask = run_experiment(SC, replications=4, scheduler=dask_scheduler)
    _same(serial, on_dask)
    assert on_dask.executor.startswith("dask:")


def test_event_log_only_when_asked():
    assert "events" not in run_experiment(SC, replications=1).tables
    events = run_experiment(SC, replications=1, event_log=True).tables["events"]
    expected = ["run_number", "entity_id", "event_type", "event", "time", "resource_id", "pathway"]
    assert list(events.columns[: len(expected)]) == expected
    assert set(events["event_type"]) <= {
        "arrival_departure",
        "queue",
        "resource_use",
        "resource_use_end",
    }
    assert (events["time"].diff().dropna() >= 0).all()


def test_auto_replications_stop_at_the_same_n_whatever_the_workers():
    one = run_to_precision(SC, 0.2, kpis=["wait_to_intake_days_mean"], workers=1, maximum=60)
    two = run_to_precision(SC, 0.2, kpis=["wait_to_intake_days_mean"], workers=2, maximum=60)
    assert one.replications == two.replications
    pd.testing.assert_frame_equal(one.kpis, two.kpis)
    row = one.summary.set_index("kpi").loc["wait_to_intake_days_mean"]
    assert row["precision_met"] and row["relative_half_width"] <= 0.2


def test_auto_replications_report_an_unreached_precision():
    result = run_to_precision(SC, 0.001, kpis=["wait_to_iop_days_mean"], maximum=6)
    assert result.replications == 6
    assert any("not reached" in note for note in result.notes)


def test_progress_is_reported_for_every_replication():
    seen = []
    run_experiment(SC, replications=3, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_overload_is_said_plainly():
    """A queue that grows is said (the plain baseline: a fixed loss share, so nothing bounds
    the intake queue); where patience bounds it, the losses that absorb the demand are said."""
    overloaded = run_experiment(
        plain_short("referrals.per_week=25", "horizon_weeks=30"), replications=3
    )
    assert any(note.startswith("OVERLOADED") for note in overloaded.notes)
    patient = run_experiment(short("referrals.per_week=25", "horizon_weeks=30"), replications=3)
    assert any(note.startswith("DEMAND ABSORBED BY LOSSES") for note in patient.notes)
    assert run_experiment(short("horizon_weeks=30"), replications=3).notes == []


def test_an_intake_short_of_demand_with_places_full_too_is_not_said_to_admit_more():
    """Half again the referrals the plain baseline's one intake clinician can assess: the
    intake waitlist climbs over the measured period from the level it reached in the warm-up.
    The run says so and names intake a bottleneck; but its seats and caseloads are full nearly
    all the time, so more intake hours would only lengthen the IOP waitlist."""
    result = run_experiment(
        plain_short(
            "referrals.per_week=16",
            "warmup_weeks=20",
            "horizon_weeks=30",
            "referrals.seasonality=[1,1,1,1,1,1,1,1,1,1,1,1]",  # growth, not a season
        ),
        replications=3,
    )
    assert any(n.startswith("OVERLOADED: the intake waitlist") for n in result.notes)
    assert result.kpis["admission_blocked_share"].mean() > 0.9
    limits = results.limiting_factors(result.summary)
    assert limits[0].startswith("Intake assessments are a bottleneck too")
    assert "more intake hours alone would lengthen the IOP waitlist" in limits[0]
    assert not any("limit admissions" in line for line in limits)


def test_an_intake_clinic_one_day_a_week_is_named_as_what_limits_admissions():
    """The plain baseline's intake clinician for one 6-hour clinic a week (4 assessments for
    about 5 referrals that wait): clients queue weeks beyond the first slot the roster offers
    while seats stay free, so intake is what limits admissions."""
    result = run_experiment(
        plain_short('staff.intake.roster=[{days=["mon"], start="09:00", end="15:00"}]'),
        replications=3,
    )
    assert result.kpis["intake_queue_days_mean"].min() > 7
    assert result.kpis["admission_blocked_share"].mean() < 0.5
    limits = results.limiting_factors(result.summary)
    assert limits[0].startswith("Intake assessments limit admissions")
    assert "More intake hours admit more" in limits[0]


def test_a_quiet_clinics_last_referrals_still_waiting_do_not_make_intake_a_bottleneck():
    """Two referrals a week measured for 8 weeks: those referred in the last days are still
    waiting for their assessment when the run ends (over 5% of the period's referrals, which
    once read as intake binding), but nobody queued for intake beyond what the roster's
    clinic days impose, and intake is not named."""
    result = run_experiment(plain_short("referrals.per_week=2", "horizon_weeks=8"), replications=3)
    assert result.kpis["referrals_never_assessed_share"].mean() >= 0.05
    assert result.kpis["intake_queue_days_mean"].mean() < 1
    limits = results.limiting_factors(result.summary)
    assert not any(line.startswith("Intake assessments") for line in limits)
    assert any(line.startswith("Intake clinicians are") for line in limits)


def test_a_network_sweep_on_dask_gives_the_numbers_of_a_local_run(dask_scheduler, tmp_path):
    """Which site gets the next therapist: a sweep over two sites' therapist counts runs on
    the cluster started by this module with exactly the numbers of a local run."""
    from simulation import config as scenarios
    from simulation import planning

    base = scenarios.apply_overrides(
        scenarios.load(scenarios.bundled("network")), ["warmup_weeks=4", "horizon_weeks=8"]
    )
    factors = [
        planning.parse_factor('staff."suburban therapists".count=1..2'),
        planning.parse_factor('staff."rural therapists".count=1..2'),
    ]
    local, _ = planning.run_sweep(base, factors, tmp_path / "local", replications=2, seed=3)
    remote, _ = planning.run_sweep(
        base, factors, tmp_path / "dask", replications=2, seed=3, scheduler=dask_scheduler
    )
    pd.testing.assert_frame_equal(local, remote)
    assert "admissions_per_week[site=rural]" in set(local["kpi"])
    assert len(set(local["cell"])) == 4
