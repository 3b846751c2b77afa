"""Waitlists under overload: the cost per client stays flat as the waitlist grows, and the
run-time estimate is an upper bound within 2x.

    python benchmarks/waitlist.py

Every referral is an adolescent and every track is for adults, with no intake assessment and
no patience: nobody is ever admitted and the IOP waitlist grows all run long (52 weeks). The
cost per client is the run time less that of a run with no referrals, divided by the
referrals; it is compared for a waitlist averaging about 100 and about 10,000 clients (target:
within 2x). Then the estimate against the measured time for 150, 300 and 600 referrals a week
(target: measured <= estimate <= 2 x measured).
"""

from __future__ import annotations

import statistics
import time

from simulation import config as scenarios
from simulation import workload
from simulation.replication import run_replication

OVERLOAD = [
    'referrals.sources=[{name = "schools", share = 1.0, age_group = "adolescent"}]',
    "intake.enabled=false",
    "warmup_weeks=0",
    "horizon_weeks=52",
]


def scenario(per_week: float, *extra: str) -> scenarios.Scenario:
    base = scenarios.load(scenarios.bundled("baseline"))
    return scenarios.apply_overrides(base, [*OVERLOAD, f"referrals.per_week={per_week}", *extra])


def timed(sc: scenarios.Scenario, repeats: int = 3) -> tuple[float, dict]:
    times, kpis = [], {}
    for r in range(repeats):
        start = time.perf_counter()
        kpis = run_replication(sc, r, sc.seed).kpis
        times.append(time.perf_counter() - start)
    return statistics.median(times), kpis


def main() -> None:
    empty, _ = timed(scenario(0.0))
    rows = []
    for per_week in (4.0, 400.0):
        sc = scenario(per_week, 'waitlist.iop_patience_days={dist = "fixed", value = 10000.0}')
        seconds, kpis = timed(sc)
        referrals = kpis["referrals_per_week"] * sc.horizon_weeks
        per_client = (seconds - empty) / referrals
        rows.append(per_client)
        print(
            f"waitlist mean {kpis['iop_waitlist_mean']:>8,.0f}: {referrals:>7,.0f} referrals, "
            f"{seconds:.2f} s, {1e6 * per_client:.0f} us per client"
        )
    print(f"per-client cost, long waitlist / short: {rows[1] / rows[0]:.2f} (target <= 2)")
    for per_week in (150.0, 300.0, 600.0):
        sc = scenario(per_week, "horizon_weeks=104")
        seconds, _ = timed(sc, repeats=1)
        estimate = workload.estimate(sc, 1).cpu_seconds
        print(
            f"{per_week:>5.0f} referrals/week, 104 weeks: measured {seconds:.1f} s, estimate "
            f"{estimate:.1f} s, estimate / measured {estimate / seconds:.2f} (target 1 to 2)"
        )


if __name__ == "__main__":
    main()
