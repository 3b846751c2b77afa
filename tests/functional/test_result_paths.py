"""How much a replication computes, and where, never changes a number.

Plans, sweeps, comparisons and robust plans read only KPIs and the weekly table, so their
replications compute nothing else (``detail="kpis"``); runs keep every table. The worker pool
is shared by a command's experiments and sends jobs in chunks; the pages of a run may be built
by idle workers. Each of these must give the numbers of the plain serial path exactly.
"""

from __future__ import annotations

import gc

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulation import config as scenarios
from simulation import experiment, outputs, planning, workers
from simulation.replication import run_replication

SHORT = ["warmup_weeks=4", "horizon_weeks=12"]


def _short(name: str):
    return scenarios.apply_overrides(scenarios.load(scenarios.bundled(name)), SHORT)


@pytest.mark.parametrize("name", ["baseline", "continuum", "network"])
def test_the_kpi_only_path_gives_the_full_paths_kpis_and_weekly_table_bit_for_bit(name):
    sc = _short(name)
    full = run_replication(sc, 1, sc.seed)
    light = run_replication(sc, 1, sc.seed, detail="kpis")
    assert list(light.kpis) == list(full.kpis)
    for kpi, value in full.kpis.items():  # exact: the same computation on the same records
        assert light.kpis[kpi] == value or (value != value and light.kpis[kpi] != light.kpis[kpi])
    pd.testing.assert_frame_equal(light.weekly, full.weekly, check_exact=True)
    assert light.clients.empty and light.usage.empty  # and nothing else was built
    assert not full.clients.empty


@pytest.mark.parametrize("name", ["baseline", "continuum", "network"])
def test_a_finished_replication_leaves_nothing_for_the_cycle_collector(name):
    sc = _short(name)
    run_replication(sc, 0, sc.seed, detail="kpis")  # (imports and caches made once)
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        run_replication(sc, 1, sc.seed, detail="kpis")
        left = gc.collect()
    finally:
        if was:
            gc.enable()
    # Kept in cycles, a replication's records (about 5,000 objects even in these 16 weeks, more
    # with every week) were freed only by the collector, after it had walked them all; let go
    # of at the end, they are freed as they are dropped. What is left is what waited at the
    # end (300-450 here): a SimPy process and the event it waits on hold each other.
    assert left < 1000


def test_an_unknown_detail_is_refused():
    sc = _short("baseline")
    with pytest.raises(ValueError, match="tables, kpis, forecast"):
        run_replication(sc, 0, sc.seed, detail="everything")


def test_outside_a_command_no_worker_outlives_its_experiment():
    sc = _short("baseline")
    experiment.run_experiment(sc, replications=2, workers=2)
    assert workers._POOL is None  # (a worker holds its parent's pipes while it lives)


def test_a_sweeps_cells_equal_runs_of_the_same_scenarios():
    base = _short("baseline")
    cells = [scenarios.apply_overrides(base, [f"staff.therapists.count={n}"]) for n in (2, 3)]
    swept = planning.run_many(cells, 2, base.seed, workers=2)
    for i, sc in enumerate(cells):
        alone = experiment.run_experiment(sc, replications=2, seed=base.seed, workers=1)
        pd.testing.assert_frame_equal(swept[i].kpis, alone.kpis, check_exact=True)
        pd.testing.assert_frame_equal(swept[i].summary, alone.summary, check_exact=True)


def test_a_sweep_keeps_no_cell_once_it_is_handed_over():
    base = _short("baseline")
    cells = [scenarios.apply_overrides(base, [f"tracks.evening.seats={n}"]) for n in (8, 10, 12)]
    handed = []
    kept = planning.run_many(
        cells, 2, base.seed, workers=2, on_done=lambda i, r: handed.append((i, r.replications))
    )
    assert kept == {}
    assert sorted(handed) == [(0, 2), (1, 2), (2, 2)]


def test_one_pool_serves_a_commands_experiments_with_serial_numbers():
    sc = _short("baseline")
    with workers.one_pool():
        first = experiment.run_experiment(sc, replications=3, workers=2)
        pool = workers.shared_pool(2)
        second = experiment.run_experiment(sc, replications=3, workers=2, detail="kpis")
        assert workers.shared_pool(2) is pool  # started once, reused
        processes = list(pool._processes.values())
    assert workers._POOL is None  # shut down with its scope
    assert all(not p.is_alive() for p in processes)
    serial = experiment.run_experiment(sc, replications=3, workers=1)
    pd.testing.assert_frame_equal(first.kpis, serial.kpis, check_exact=True)
    pd.testing.assert_frame_equal(second.kpis, serial.kpis, check_exact=True)


@given(st.integers(0, 5000), st.integers(1, 64))
def test_chunks_cover_every_job_once_in_order(count, n_workers):
    parts = workers.chunks(count, n_workers)
    assert [i for part in parts for i in part] == list(range(count))
    assert all(len(part) >= 1 for part in parts)
    if count <= 64 * n_workers:  # few jobs: one each, so the last ones balance the load
        assert all(len(part) == 1 for part in parts)


def test_a_file_built_elsewhere_is_collected_in_its_turn(tmp_path):
    order = []

    def page():
        order.append("page")
        return "<html></html>"

    files = {"a.csv": pd.DataFrame({"x": [1]}), "page.html": page}
    outputs.write_folder(tmp_path / "run", files)
    assert (tmp_path / "run" / "page.html").read_text() == "<html></html>"
    assert order == ["page"]


def test_a_page_that_fails_to_build_leaves_no_folder(tmp_path):
    def broken():
        raise RuntimeError("the page could not be built")

    with pytest.raises(RuntimeError):
        outputs.write_folder(tmp_path / "run", {"a.txt": "x", "page.html": broken})
    assert list(tmp_path.iterdir()) == []  # no folder, no temporary left
