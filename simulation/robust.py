"""Plans that hold across plausible futures: second-order Monte Carlo.

The outer level draws the uncertain inputs (``simulation.uncertainty``): K futures on a Latin
hypercube over their ranges, the same futures for every combination a plan tries (common random
numbers across combinations, so one beats another for its capacities, not for luckier
futures). The inner level runs each future's replications (replication numbers k x R + r: each
future its own random streams). A target holds in a future when the mean of its inner
replications meets it; a combination meets the plan when every target holds together, with
every queue settled (a future where some queue climbs without end counts as failed, as a run
would say OVERLOADED), in at least a share P of the futures. The share is an estimate from K
futures: its 95% Wilson interval is stated beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulation import results
from simulation.config import Scenario, ScenarioError
from simulation.experiment import run_jobs
from simulation.fit.survival import wilson
from simulation.uncertainty import UncertainInput, latin_hypercube, with_values


@dataclass
class Verdict:
    """How a combination fares across the futures."""

    share: float  # futures in which every target holds
    low: float
    high: float
    by_target: dict[str, float]  # kpi -> share of futures in which that target holds
    futures: int  # futures simulated (valid clinics)
    invalid: int  # futures whose inputs made this combination no valid clinic (count as failed)
    summary: pd.DataFrame  # KPIs over every future's replications
    overloaded: int = 0  # futures whose targets held but where some queue climbs without end


@dataclass
class Futures:
    """K plausible futures of the uncertain inputs and the share P a plan must hold in."""

    inputs: list[UncertainInput]
    draws: np.ndarray  # futures x inputs
    required: float

    @classmethod
    def draw(cls, inputs: list[UncertainInput], count: int, required: float, seed: int) -> Futures:
        if not inputs:
            raise ScenarioError(
                [
                    "--robust needs uncertain inputs: an [uncertainty] table, --uncertain, or [E] marks"
                ]
            )
        return cls(inputs, latin_hypercube(inputs, count, [seed, 6151]), required)

    def judge(
        self,
        scenario: Scenario,
        targets: list[tuple[str, str, float]],
        replications: int,
        seed: int,
        workers: int = 1,
        scheduler: str | None = None,
    ) -> Verdict:
        """Run the combination in every future and count the futures where the targets hold."""
        valid, invalid = [], 0
        for k, values in enumerate(self.draws):
            try:
                valid.append((k, with_values(scenario, self.inputs, values)))
            except ScenarioError:
                invalid += 1
        jobs = [
            (sc, k * replications + r, seed, False, "kpis")
            for k, sc in valid
            for r in range(replications)
        ]
        per_future: dict[int, list[dict]] = {k: [] for k, _ in valid}
        weeks: dict[int, list[pd.DataFrame]] = {k: [] for k, _ in valid}
        rows = []
        for index, result in run_jobs(jobs, workers, scheduler):
            k = valid[index // replications][0]
            per_future[k].append(result.kpis)
            weeks[k].append(result.weekly.assign(replication=result.replication))
            rows.append({"replication": result.replication, **result.kpis})
        held = {kpi: [] for kpi, _, _ in targets}
        every, overloaded = [], 0
        for k, future in valid:
            frame = pd.DataFrame(per_future[k])
            ok_all = True
            for kpi, op, bound in targets:
                mean = float(frame[kpi].mean()) if kpi in frame else math.nan
                ok = bool(mean <= bound) if op == "<=" else bool(mean >= bound)
                ok = ok and np.isfinite(mean)
                held[kpi].append(ok)
                ok_all = ok_all and ok
            if ok_all and results.overloaded_queues(future, pd.concat(weeks[k])):
                ok_all = False  # targets met by waits that depend on the run's length
                overloaded += 1
            every.append(ok_all)
        total = len(self.draws)
        hits = int(sum(every))
        _, low, high = wilson(hits, total)
        by_target = {kpi: float(sum(v)) / total for kpi, v in held.items()}
        summary = (
            results.summarise(pd.DataFrame(rows))
            if rows  # every future made this combination no valid clinic: nothing to summarise
            else pd.DataFrame(columns=["kpi", "unit", "mean", "std", "ci_low", "ci_high", "n"])
        )
        return Verdict(hits / total, low, high, by_target, len(valid), invalid, summary, overloaded)
