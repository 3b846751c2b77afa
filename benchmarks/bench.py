"""Speed and memory benchmarks of iopsim: prints figures and ratios against the targets.

    python benchmarks/bench.py            # everything (a few minutes on 2 cores)
    python benchmarks/bench.py --only events,replication

Sections:
  events       model events per second against a plain SimPy M/M/c queue, same run
  reference    a baseline replication-year (every table; and the KPI-only path of sweeps and
               plans) against a plain SimPy M/M/4 run of 10,000 customers, interleaved
  replication  median wall time of one baseline replication-year (tables and KPIs included)
  continuum    the same for the continuum scenario (levels of care), against the baseline
  workers      throughput of 2 worker processes against 1 on 40 replications
  memory       peak resident memory of 200 baseline replication-years, event log off
  scaling      cost against horizon (13, 52, 208 weeks) and clinic size (1, 4, 16 x baseline)
  features     a replication-year with every staff and calendar feature on against none
  network      a 20-site network (each site a baseline clinic and 2 levels) against the baseline
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import simpy

from simulation import config as scenarios
from simulation.compiled import compile_scenario
from simulation.experiment import run_replications
from simulation.model.clinic import ClinicModel
from simulation.replication import collector_paused, run_replication
from simulation.streams import Streams

BASELINE = scenarios.load(scenarios.bundled("baseline"))
YEAR = ["warmup_weeks=0", "horizon_weeks=52"]


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that counts the events it processes."""

    events = 0

    def step(self):
        CountingEnvironment.events += 1
        return super().step()


def plain_mmc(env, rng, arrival_rate, service_mean, servers, customers):
    """The textbook SimPy M/M/c: a source process and one process per customer."""
    server = simpy.Resource(env, capacity=servers)

    def customer():
        with server.request() as request:
            yield request
            yield env.timeout(rng.exponential(service_mean))

    def source():
        for _ in range(customers):
            yield env.timeout(rng.exponential(1 / arrival_rate))
            env.process(customer())

    env.process(source())


def events_per_second(make_and_run, repeats=5):
    """(events, median seconds) of a simulation, events counted in a separate run."""
    original = simpy.Environment
    simpy.Environment = CountingEnvironment
    CountingEnvironment.events = 0
    try:
        make_and_run()
    finally:
        simpy.Environment = original
    events = CountingEnvironment.events
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        make_and_run()
        times.append(time.perf_counter() - start)
    return events, statistics.median(times)


def bench_events():
    sc = scenarios.apply_overrides(BASELINE, YEAR)

    def model():
        import simulation.model.clinic as clinic_module

        clinic_module.simpy.Environment = simpy.Environment  # follow the patch above
        ClinicModel(compile_scenario(sc), Streams(sc.seed, 0)).run()

    def plain():
        env = simpy.Environment()
        plain_mmc(env, np.random.default_rng(1), 0.9, 1.0, 1, 20_000)
        env.run()

    m_events, m_time = events_per_second(model)
    p_events, p_time = events_per_second(plain)
    m_rate, p_rate = m_events / m_time, p_events / p_time
    # The model does several things per SimPy event (a session credits every attendee, the
    # Monday event books the whole week), so also count what happened in the clinic: every
    # record written (attendance, staff and room use, session, appointment, client milestone).
    rec = ClinicModel(compile_scenario(sc), Streams(sc.seed, 0)).run()
    clients = rec.client_table()
    milestones = int(
        clients[["referred", "assessed", "iop_start", "iop_end", "op_start", "left"]]
        .notna()
        .sum()
        .sum()
    )
    happenings = (
        len(rec.attendance)
        + len(rec.busy_log)
        + len(rec.sessions)
        + len(rec.appointments)
        + milestones
    )
    d_rate = happenings / m_time
    print(
        f"events: model {m_events} SimPy events in {m_time * 1000:.1f} ms = {m_rate:,.0f} events/s"
    )
    print(
        f"events: plain SimPy M/M/1 {p_events} events in {p_time * 1000:.1f} ms = {p_rate:,.0f} events/s"
    )
    print(f"events: ratio model/plain = {m_rate / p_rate:.2f} (target >= 0.5)")
    print(
        f"events: model clinic happenings {happenings} = {d_rate:,.0f}/s; ratio to plain SimPy events/s = {d_rate / p_rate:.2f}"
    )
    return {
        "model_events_per_s": m_rate,
        "plain_events_per_s": p_rate,
        "ratio": m_rate / p_rate,
        "happenings_per_s": d_rate,
        "happenings_ratio": d_rate / p_rate,
    }


def plain_mm4() -> None:
    """The reference: the textbook SimPy M/M/4 (load 0.9) serving 10,000 customers."""
    env = simpy.Environment()
    plain_mmc(env, np.random.default_rng(1), 3.6, 1.0, 4, 10_000)
    env.run()


def bench_reference(repeats=15):
    """Interleaved medians: a baseline replication-year with every table, the same on the
    KPI-only path (sweeps, plans, robust plans, comparisons), and plain SimPy M/M/4."""
    sc = scenarios.apply_overrides(BASELINE, YEAR)
    runs = {
        "tables": lambda r: run_replication(sc, r, sc.seed),
        "kpis": lambda r: run_replication(sc, r, sc.seed, detail="kpis"),
        "mm4": lambda r: plain_mm4(),
    }
    times = {label: [] for label in runs}
    for run in runs.values():
        run(0)  # warm imports and caches
    for r in range(repeats):
        for label, run in runs.items():
            start = time.perf_counter()
            run(r)
            times[label].append(time.perf_counter() - start)
    m = {label: statistics.median(t) for label, t in times.items()}
    print(f"reference: plain SimPy M/M/4, 10,000 customers: {m['mm4'] * 1000:.0f} ms")
    print(
        f"reference: baseline replication-year, every table: {m['tables'] * 1000:.0f} ms, "
        f"ratio {m['tables'] / m['mm4']:.2f} (goal <= 0.40)"
    )
    print(
        f"reference: baseline replication-year, KPI-only path: {m['kpis'] * 1000:.0f} ms, "
        f"ratio {m['kpis'] / m['mm4']:.2f} (goal <= 0.25)"
    )
    return m


def _replication_year(sc, repeats: int) -> list[float]:
    sc = scenarios.apply_overrides(sc, YEAR)
    run_replication(sc, 0, sc.seed)  # warm imports and caches
    times = []
    for r in range(repeats):
        start = time.perf_counter()
        run_replication(sc, r, sc.seed)
        times.append(time.perf_counter() - start)
    return times


def bench_replication(repeats=15):
    times = _replication_year(BASELINE, repeats)
    median = statistics.median(times)
    print(
        f"replication: baseline replication-year median {median * 1000:.0f} ms over {repeats} (target <= 200 ms)"
    )
    return {"median_s": median, "min_s": min(times), "max_s": max(times)}


def bench_continuum(repeats=15):
    """The continuum scenario (a PHP of 12 places above the baseline IOP, 50% more referrals)
    against the baseline, interleaved in pairs so that the machine's drift falls on both."""
    continuum = scenarios.load(scenarios.bundled("continuum"))
    base, cont = [], []
    for _ in range(3):
        base += _replication_year(BASELINE, repeats // 3)
        cont += _replication_year(continuum, repeats // 3)
    b, c = statistics.median(base), statistics.median(cont)
    print(
        f"continuum: replication-year median {c * 1000:.0f} ms against the baseline's "
        f"{b * 1000:.0f} ms (ratio {c / b:.2f}; it simulates 50% more referrals and the PHP)"
    )
    return {"continuum_median_s": c, "baseline_median_s": b}


def bench_workers(replications=40, repeats=3):
    sc = BASELINE
    times: dict[int, list[float]] = {1: [], 2: []}
    # Interleaved, best of each: this machine's speed drifts, and drift only slows a run down.
    for _ in range(repeats):
        for workers in (1, 2):
            start = time.perf_counter()
            run_replications(sc, range(replications), sc.seed, workers=workers)
            times[workers].append(time.perf_counter() - start)
    out = {w: min(t) for w, t in times.items()}
    for workers, best in out.items():
        print(
            f"workers: {workers} worker(s), {replications} replications: best {best:.2f} s of {repeats}"
        )
    ratio = out[1] / out[2]
    print(f"workers: throughput 2 workers / 1 worker = {ratio:.2f} (target >= 1.7)")
    return {"one_s": out[1], "two_s": out[2], "ratio": ratio}


MEMORY_CHILD = """
import resource, sys
from simulation import config as s
from simulation.experiment import run_experiment
sc = s.apply_overrides(s.load(s.bundled("baseline")), ["warmup_weeks=0", "horizon_weeks=52"])
result = run_experiment(sc, replications=int(sys.argv[1]), workers=1)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def bench_memory(replications=200):
    child = subprocess.run(
        [sys.executable, "-c", MEMORY_CHILD, str(replications)],
        capture_output=True,
        text=True,
        check=True,
    )
    peak = float(child.stdout.strip().splitlines()[-1])
    base = subprocess.run(
        [sys.executable, "-c", MEMORY_CHILD, "1"], capture_output=True, text=True, check=True
    )
    one = float(base.stdout.strip().splitlines()[-1])
    print(
        f"memory: peak RSS {peak:.0f} MB for {replications} replication-years, event log off (target <= 500 MB)"
    )
    print(f"memory: peak RSS {one:.0f} MB for 1 replication-year (interpreter and libraries)")
    return {"peak_mb": peak, "one_replication_mb": one}


def scaled(factor: int) -> scenarios.Scenario:
    """The baseline with every track, room, staff pool and the referrals multiplied."""
    data = scenarios.to_data(BASELINE)
    data["tracks"] = [
        {**t, "name": f"{t['name']} {k}"} for k in range(factor) for t in data["tracks"]
    ]
    data["rooms"] = [
        {**r, "name": f"{r['name']} {k}"} for k in range(factor) for r in data["rooms"]
    ]
    for pool in data["staff"].values():
        if "members" in pool:
            pool["members"] = [f"{m} {k}" for k in range(factor) for m in pool["members"]]
        else:
            pool["count"] *= factor
    data["referrals"]["per_week"] *= factor
    return scenarios.validate(data)


def _median_time(sc, repeats=3, **kwargs):
    times = []
    for r in range(repeats):
        start = time.perf_counter()
        run_replication(sc, r, sc.seed, **kwargs)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _simulation_time(sc, repeats=3) -> tuple[float, int]:
    """(median seconds of the simulation alone, referrals simulated)."""
    times, referrals = [], 0
    for r in range(repeats):
        start = time.perf_counter()
        with collector_paused():  # as a replication runs it
            model = ClinicModel(compile_scenario(sc), Streams(sc.seed, r))
            referrals = len(model.run().clients)
        times.append(time.perf_counter() - start)
        model.close()  # let go of at once, as a replication is (not left to the collector)
    return statistics.median(times), referrals


def bench_scaling():
    rows = {"horizon": {}, "size": {}}
    base = None
    for weeks in (13, 52, 208):
        sc = scenarios.apply_overrides(BASELINE, ["warmup_weeks=0", f"horizon_weeks={weeks}"])
        t = _median_time(sc)
        base = base or t / 13
        rows["horizon"][weeks] = t
        print(
            f"scaling: horizon {weeks:>3} weeks: {t * 1000:7.0f} ms  ({t / weeks * 1000:.2f} ms a week)"
        )
    # the sizes interleaved, every mode of every size once a round, medians over the rounds:
    # this machine's speed drifts from one minute to the next, and a ratio of sizes measured
    # minutes apart took the drift for growth
    sizes = {factor: scenarios.apply_overrides(scaled(factor), YEAR) for factor in (1, 4, 16)}
    times = {(factor, mode): [] for factor in sizes for mode in ("tables", "kpis", "sim")}
    referrals = {}
    for sc in sizes.values():  # warm each size's imports and caches
        run_replication(sc, 0, sc.seed, detail="kpis")
    for _round in range(5):
        for factor, sc in sizes.items():
            times[factor, "tables"].append(_median_time(sc, repeats=1))
            times[factor, "kpis"].append(_median_time(sc, repeats=1, detail="kpis"))
            sim, referrals[factor] = _simulation_time(sc, repeats=1)
            times[factor, "sim"].append(sim)
    per_referral = {}
    for factor, sc in sizes.items():
        t, kpis, sim = (statistics.median(times[factor, m]) for m in ("tables", "kpis", "sim"))
        n = referrals[factor]
        per_referral[factor] = (t / n, kpis / n, sim / n)
        rows["size"][factor] = {"tables_s": t, "kpis_s": kpis, "simulation_s": sim}
        print(
            f"scaling: clinic x{factor:<2} ({len(sc.tracks)} tracks, {n} referrals): "
            f"{t * 1000:7.0f} ms with tables, {kpis * 1000:.0f} ms KPI-only, "
            f"{sim * 1000:.0f} ms simulating; per referral {t / n * 1e6:.0f} / "
            f"{kpis / n * 1e6:.0f} / {sim / n * 1e6:.0f} us"
        )
    ratios = [a / b for a, b in zip(per_referral[16], per_referral[1], strict=True)]
    print(
        "scaling: cost per referral, x16 over x1: "
        f"{ratios[0]:.2f} with tables, {ratios[1]:.2f} KPI-only, {ratios[2]:.2f} simulating "
        "(goal <= 1.1)"
    )
    rows["per_referral_ratio"] = ratios
    return rows


FEATURES = [  # every staff, calendar, group, office and video feature on
    'calendar.holidays="us"',
    "calendar.closure_weeks=[{from_date = 2027-12-27, to_date = 2027-12-31}]",
    "staff.therapists.indirect_hours_per_week=5",
    "staff.evening therapists.indirect_hours_per_week=6",
    "staff.intake.indirect_hours_per_week=2",
    "staff.therapists.documentation_minutes_per_hour=15",
    "staff.evening therapists.documentation_minutes_per_hour=15",
    "staff.intake.documentation_minutes_per_hour=15",
    "staff.therapists.annual_turnover=0.3",
    "staff.evening therapists.annual_turnover=0.3",
    "staff.evening therapists.agency_cover=true",
    'staff_changes=[{pool = "therapists", week = 20, change = "join"}]',
    "tracks.morning.min_attendance=4",
    "tracks.morning.clients_per_facilitator=8",
    'tracks.evening.modality="virtual"',
    'tracks.morning.modality="hybrid"',
    "tracks.morning.hybrid_video_share=0.3",
    'offices=[{name = "Office", count = 2}]',
    "iop.virtual_appointment_share=0.3",
]


def _interleaved(runs: dict, repeats: int) -> dict[str, float]:
    """The median replication-year of each labelled scenario, interleaved so that the host's
    drift falls on all alike."""
    for sc in runs.values():
        run_replication(sc, 0, sc.seed)  # warm imports and caches
    times = {label: [] for label in runs}
    for r in range(repeats):
        for label, sc in runs.items():
            start = time.perf_counter()
            run_replication(sc, r, sc.seed)
            times[label].append(time.perf_counter() - start)
    return {label: statistics.median(t) for label, t in times.items()}


def bench_features(repeats=15):
    """A replication-year with every staff and calendar feature on against none."""
    plain = scenarios.apply_overrides(BASELINE, YEAR)
    full = scenarios.apply_overrides(plain, FEATURES)
    medians = _interleaved({"off": plain, "on": full}, repeats)
    off, on = medians["off"], medians["on"]
    print(
        f"features: replication-year {off * 1000:.0f} ms off, {on * 1000:.0f} ms with every "
        f"staff, calendar and group feature on: growth {100 * (on / off - 1):+.0f}% (target <= +30%)"
    )
    return {"off_s": off, "on_s": on}


def bench_baselines(repeats=15):
    """A replication-year of the re-staffed baseline (four group days, 24 seats, longer stays,
    the prescriber's gate) against the clinic it replaced (tests/clinic.toml)."""
    from pathlib import Path

    before = scenarios.apply_overrides(
        scenarios.load(Path(__file__).parent.parent / "tests" / "clinic.toml"), YEAR
    )
    medians = _interleaved(
        {"before": before, "now": scenarios.apply_overrides(BASELINE, YEAR)}, repeats
    )
    old, new = medians["before"], medians["now"]
    print(
        f"baselines: replication-year {old * 1000:.0f} ms (the clinic before re-staffing), "
        f"{new * 1000:.0f} ms (the baseline now): ratio {new / old:.2f}"
    )
    return {"before_s": old, "now_s": new}


def network_of(sites: int) -> scenarios.Scenario:
    """``sites`` copies of the baseline as sites of one network: each site's tracks, room and
    staff at that site (the prescriber shared by all), and a region for each site sending its
    referrals there (split routing): the cost of the network's bookkeeping per site."""
    data = scenarios.to_data(BASELINE)
    names = [f"site {k:02d}" for k in range(sites)]
    data["tracks"] = [
        {
            **t,
            "name": f"{t['name']} {k}",
            "site": k,
            "facilitator_pools": [f"{p} {k}" for p in t["facilitator_pools"]],
        }
        for k in names
        for t in data["tracks"]
    ]
    data["rooms"] = [
        {**r, "name": f"{r['name']} {k}", "site": k} for k in names for r in data["rooms"]
    ]
    pools = {}
    for name, pool in data["staff"].items():
        if pool["role"] == "prescriber":
            pools[name] = pool
            continue
        for k in names:
            pools[f"{name} {k}"] = {**pool, "site": k}
    data["staff"] = pools
    for key in ("intake",):
        data[key]["pools"] = [f"{p} {k}" for k in names for p in data[key]["pools"]]
    data["iop"]["therapist_pools"] = [
        f"{p} {k}" for k in names for p in data["iop"]["therapist_pools"]
    ]
    data["step_down"]["pools"] = [f"{p} {k}" for k in names for p in data["step_down"]["pools"]]
    data["referrals"]["per_week"] *= sites
    data["sites"] = [{"name": k} for k in names]
    data["network"] = {
        "routing": "split",
        "regions": [{"name": f"region {k}", "share": 1 / sites, "split": {k: 1.0}} for k in names],
    }
    data["targets"] = {}
    # two levels of care at every site: a PHP above the IOP (inpatient step-downs placed there,
    # intake's higher care, IOP step-ups; a quarter step down to the IOP) and outpatient care
    # below it (intake's outpatient outcome)
    data["levels"] = [
        {
            "name": "php",
            "places_by_site": {k: 12 for k in names},
            "stay_days": {"dist": "lognormal", "mean": 10.0, "sd": 6.0, "min": 1, "max": 60},
            "routes": [{"to": "iop", "share": 0.25}],
        },
        {
            "name": "op",
            "places_by_site": {k: 30 for k in names},
            "stay_days": {"dist": "exponential", "mean": 56.0},
        },
    ]
    for source in data["referrals"]["sources"]:  # (60% of referrals as before, 40% to the PHP)
        source["share"] *= 0.6
    data["referrals"]["sources"].append(
        {"name": "inpatient step-down", "share": 0.4, "priority": 1, "level": "php"}
    )
    data["referrals"]["per_week"] *= 1.5
    data["intake"]["higher_care_to"] = "php"
    data["intake"]["outpatient_to"] = "op"
    data["iop"]["escalate_to"] = "php"
    return scenarios.validate(data)


def bench_network(repeats=3, sites=20):
    """A replication-year of a 20-site network (each site a baseline clinic with a PHP above
    it and outpatient care below it) against the baseline's, per site: the bound is 10x."""
    network = scenarios.apply_overrides(network_of(sites), YEAR)
    medians = _interleaved(
        {"baseline": scenarios.apply_overrides(BASELINE, YEAR), "network": network}, repeats
    )
    per_site = medians["network"] / sites
    ratio = per_site / medians["baseline"]
    print(
        f"network: {sites} sites, replication-year {medians['network']:.1f} s "
        f"({per_site * 1000:.0f} ms a site) against the baseline's "
        f"{medians['baseline'] * 1000:.0f} ms: {ratio:.2f}x a site (target <= 10x)"
    )
    return {"network_s": medians["network"], "baseline_s": medians["baseline"], "ratio": ratio}


SECTIONS = {
    "baselines": bench_baselines,
    "events": bench_events,
    "features": bench_features,
    "reference": bench_reference,
    "replication": bench_replication,
    "continuum": bench_continuum,
    "workers": bench_workers,
    "memory": bench_memory,
    "scaling": bench_scaling,
    "network": bench_network,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", help="comma-separated sections: " + ",".join(SECTIONS))
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()
    chosen = args.only.split(",") if args.only else list(SECTIONS)
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    results = {name: SECTIONS[name]() for name in chosen}
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2, default=str)


if __name__ == "__main__":
    main()
