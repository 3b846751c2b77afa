"""The least capacity that meets the targets: a search along one capacity with a bisection, trimmed by what more capacity can never worsen."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from simulation import results
from simulation.config import Scenario, ScenarioError, parse_target
from simulation.config.paths import _key_parts
from simulation.experiment import run_experiment
from simulation.kpis import UTILISATION_PREFIX, describe
from simulation.planning.sweep import Factor, cells

Target = tuple[str, str, float]


def parse_targets(texts: list[str] | tuple[str, ...]) -> list[Target]:
    """'wait_to_iop_days_p90<=14' or 'wait_to_iop_days_p90 <= 14' -> (kpi, op, bound)."""
    out = []
    for text in texts:
        for op in ("<=", ">="):
            if op in text:
                kpi, _, bound = text.partition(op)
                kpi = kpi.strip()
                try:
                    describe(kpi)
                except KeyError:
                    raise ScenarioError([f"--target {text!r}: '{kpi}' is not a KPI"]) from None
                try:
                    out.append((kpi, *parse_target(f"{op} {bound}")))
                except ValueError:
                    raise ScenarioError(
                        [f"--target {text!r}: the bound {bound.strip()!r} is not a number"]
                    ) from None
                break
        else:
            raise ScenarioError([f"--target {text!r}: write KPI<=NUMBER or KPI>=NUMBER"])
    return out


def capacity_monotone(targets: list[Target], factors=(), scenario: Scenario | None = None) -> bool:
    """True when more capacity can only help every target (so failures prune).

    Waits, waitlists and losses ('lower is better') fall with capacity, shares of timely
    starts ('higher is better') rise, and utilisation falls: '<=' on those and '>=' on these.
    Not so between levels of care: more places at a level (or more of the staff who run its
    programme) send more clients on to the next level sooner, whose waits may grow (pressure
    moves downstream), so a level's capacity prunes only when every target is that level's
    own.
    """
    for key in (f.key for f in factors):
        level = _level_of(key, scenario)
        if level is not None and any(not kpi.endswith(f"[level={level}]") for kpi, _, _ in targets):
            return False
    for kpi, op, _ in targets:
        better = describe(kpi).better
        if kpi.startswith(UTILISATION_PREFIX) or kpi.endswith("_utilisation"):
            better = "lower"
        if not ((op == "<=" and better == "lower") or (op == ">=" and better == "higher")):
            return False
    return True


def _level_of(key: str, scenario: Scenario | None) -> str | None:
    """The level of care whose capacity ``key`` sets (its places, or the count of a staff pool
    that runs its programme), else None."""
    parts = _key_parts(key)
    if parts[0] == "levels" and len(parts) >= 2:
        return parts[1]
    if parts[0] == "staff" and len(parts) >= 2 and scenario is not None:
        for level in scenario.levels:
            if level.programme is not None and parts[1] in level.programme.staff_pools:
                return level.name
    return None


def unpaid_factors(factors: list[Factor], scenario: Scenario) -> list[str]:
    """Varied staff pools whose people cost nothing (no annual_cost): the plan cannot weigh
    them against anything else, so the cheapest combination takes as many as help."""
    notes = []
    for f in factors:
        parts = _key_parts(f.key)
        pool = scenario.staff.get(parts[1]) if parts[0] == "staff" and len(parts) > 2 else None
        if pool is not None and pool.annual_cost == 0:
            notes.append(
                f"staff.{parts[1]}.annual_cost is not set (0): more {parts[1]} cost nothing "
                f"in this plan, so {f.key} is chosen only by the targets and the cost "
                "understates what the plan asks for (set the pool's salary plus benefits a "
                "year)"
            )
    return notes


@dataclass
class Candidate:
    """A combination of capacities in the plan's search."""

    values: tuple
    overrides: tuple[str, ...]
    scenario: Scenario | None
    cost: float
    # unknown, met, not met, pruned (known not to meet), overloaded (the targets met, but some
    # queue climbs without end: never recommended), infeasible: ..., over budget
    status: str = "unknown"
    summary: pd.DataFrame | None = None
    target_table: pd.DataFrame | None = None
    verdict: object | None = None  # with --robust: how it fares across the futures
    overloaded: list[str] = field(default_factory=list)  # queues that climb without end

    def dominated_by(self, other: Candidate) -> bool:
        """True if every capacity here is at most the other's."""
        return all(a <= b for a, b in zip(self.values, other.values, strict=True))


@dataclass
class PlanResult:
    factors: list[Factor]
    targets: list[Target]
    cost_kpi: str
    candidates: list[Candidate]
    recommendation: Candidate | None
    runners_up: list[Candidate]
    evaluated: int
    monotone: bool
    notes: list[str] = field(default_factory=list)
    futures: object | None = None  # with --robust: the futures every combination faced

    def table(self) -> pd.DataFrame:
        """One row per candidate: factor values, cost, status, and each target KPI's CI."""
        rows = []
        for c in self.candidates:
            row = {f.key: v for f, v in zip(self.factors, c.values, strict=True)}
            row.update(
                {
                    "cost_per_week": c.cost,
                    "status": c.status,
                    "recommended": c is self.recommendation,
                    "queues_without_end": "; ".join(c.overloaded),
                }
            )
            if c.verdict is not None:
                v = c.verdict
                row.update(
                    {
                        "futures_met_share": v.share,
                        "futures_met_ci_low": v.low,
                        "futures_met_ci_high": v.high,
                        **{f"{kpi}_futures_met_share": x for kpi, x in v.by_target.items()},
                    }
                )
            if c.summary is not None and len(c.summary):
                by_kpi = c.summary.set_index("kpi")
                for kpi in dict.fromkeys([t[0] for t in self.targets] + [self.cost_kpi]):
                    if kpi in by_kpi.index:
                        row[f"{kpi}_mean"] = by_kpi.loc[kpi, "mean"]
                        row[f"{kpi}_ci_low"] = by_kpi.loc[kpi, "ci_low"]
                        row[f"{kpi}_ci_high"] = by_kpi.loc[kpi, "ci_high"]
            rows.append(row)
        return pd.DataFrame(rows)


def plan(
    base: Scenario,
    factors: list[Factor],
    targets: list[Target],
    replications: int,
    seed: int,
    cost_kpi: str = "cost_per_week",
    runners_up: int = 2,
    workers: int = 1,
    scheduler: str | None = None,
    progress: Callable[[str], None] | None = None,
    futures=None,
    budget: float | None = None,
) -> PlanResult:
    """The cheapest combination of the factors that meets every target with confidence; with
    ``futures`` (``simulation.robust.Futures``), that meets them all in at least the required
    share of the plausible futures (``replications`` then runs in each future)."""
    if not targets:
        raise ScenarioError(
            ["plan needs at least one target: add [targets] to the scenario or --target KPI<=VALUE"]
        )
    for f in factors:
        if not all(isinstance(v, int | float) for v in f.values):
            raise ScenarioError(
                [f"--vary {f.key}: plan varies numbers (staff counts, seats, caseloads)"]
            )
    grid = cells(base, factors)
    everything = [
        Candidate(
            c.values,
            c.overrides,
            c.scenario,
            results.plan_cost(c.scenario, c.scenario.finance.overhead_in_plans),
        )
        if c.scenario is not None
        else Candidate(c.values, c.overrides, None, math.nan, c.status)
        for c in grid
    ]
    # Cheapest first; among equal cost, most capacity first: if that fails, everything
    # below it fails too and is never simulated. Infeasible combinations are never tried.
    candidates = [c for c in everything if c.scenario is not None]
    candidates.sort(key=lambda c: (c.cost, tuple(-v for v in c.values)))
    over = []
    if budget is not None:  # a budget across the network: dearer combinations are never run
        over = [c for c in candidates if c.cost > budget + 1e-9]
        for c in over:
            c.status = "over budget"
        candidates = [c for c in candidates if c.cost <= budget + 1e-9]
        if not candidates:
            raise ScenarioError(
                [
                    f"--budget {budget:,.0f}: every combination costs more (the cheapest "
                    f"{min(c.cost for c in over):,.0f} a week)"
                ]
            )
    monotone = capacity_monotone(targets, factors, base)
    notes = unpaid_factors(factors, base) if cost_kpi == "cost_per_week" else []
    if not monotone:
        notes.append(
            "Some target can get harder to meet with more capacity, so nothing was pruned."
        )
    evaluated = 0

    def evaluate(c: Candidate) -> None:
        nonlocal evaluated
        if futures is not None:
            c.verdict = futures.judge(c.scenario, targets, replications, seed, workers, scheduler)
            c.summary = c.verdict.summary
            c.target_table = results.evaluate_targets(c.summary, targets)
            c.status = "met" if c.verdict.share >= futures.required else "not met"
            how = f"(every target holds in {100 * c.verdict.share:.0f}% of futures) "
        else:
            result = run_experiment(
                c.scenario,
                replications=replications,
                seed=seed,
                workers=workers,
                scheduler=scheduler,
                detail="kpis",  # only the summary is read
            )
            c.summary = result.summary
            c.target_table = results.evaluate_targets(result.summary, targets)
            c.status = "met" if all(m is True for m in c.target_table["met"]) else "not met"
            weekly = result.tables["weekly"]
            c.overloaded = list(results.overloaded_queues(c.scenario, weekly).values())
            if c.status == "met" and c.overloaded:  # its waits depend on the run's length
                c.status = "overloaded"
            how = ""
        evaluated += 1
        if progress is not None:
            progress(f"{', '.join(c.overrides)}: {c.status} {how}(cost {c.cost:,.0f}/wk)")
        if c.status == "not met" and monotone:
            for other in candidates:
                if other.status == "unknown" and other.dominated_by(c):
                    other.status = "pruned"

    analytic_cost = cost_kpi == "cost_per_week"
    if monotone:
        # If even the most of everything fails, nothing can meet the targets.
        top = max(candidates, key=lambda c: c.values)
        if all(top.values[i] == max(f.values) for i, f in enumerate(factors)):
            evaluate(top)
    if len(factors) == 1 and monotone and analytic_cost:
        _bisect(candidates, evaluate)
    else:
        for c in candidates:
            if c.status != "unknown":
                continue
            evaluate(c)
            if c.status == "met" and analytic_cost:
                _trim(c, candidates, evaluate)  # the same cost with less capacity, if it works
                break
    met = [c for c in candidates if c.status == "met"]
    if analytic_cost:
        met.sort(key=lambda c: (c.cost, sum(c.values)))  # cheapest, then least capacity
    else:
        met.sort(key=lambda c: float(c.summary.set_index("kpi").loc[cost_kpi, "mean"]))
    recommendation = met[0] if met else None
    # runners-up: the next cheapest combinations that also meet the targets
    extra = []
    if recommendation is not None:
        for c in sorted(candidates, key=lambda c: (c.cost, sum(c.values), c.values)):
            if len(extra) >= runners_up:
                break
            if c is recommendation or c.status not in ("unknown", "met"):
                continue
            if c.status == "unknown":
                evaluate(c)
            if c.status == "met":
                extra.append(c)
    elif budget is not None:
        notes.append(
            f"No combination within the budget of {budget:,.0f} a week meets every target"
            + _closest(candidates, targets)
        )
    else:
        notes.append(
            "No combination in the ranges meets every target: widen the ranges or relax the "
            "targets" + _closest(candidates, targets)
        )
    overloaded = [c for c in candidates if c.status == "overloaded"]
    if overloaded:
        first = overloaded[0]
        notes.append(
            f"{len(overloaded)} combination(s) met the targets while a queue climbed without "
            f"end (e.g. {', '.join(first.overrides)}: the {' and the '.join(first.overloaded)}): "
            "their waits depend on how long the run is, so they are not recommended."
        )
    if futures is not None and any(
        c.verdict is not None and c.verdict.overloaded for c in candidates
    ):
        notes.append(
            "In some futures the targets held while a queue climbed without end: those "
            "futures count as failed."
        )
    if over:
        notes.append(
            f"{len(over)} combination(s) cost more than the budget of {budget:,.0f} a week and "
            "were not run."
        )
    infeasible = [c for c in everything if c.scenario is None]
    return PlanResult(
        factors,
        targets,
        cost_kpi,
        candidates + over + infeasible,
        recommendation,
        extra,
        evaluated,
        monotone,
        notes,
        futures,
    )


def _closest(candidates: list[Candidate], targets: list[Target]) -> str:
    """'; the closest: ...' - of the combinations run, the one whose targets fall short by the
    least (relative shortfalls summed); '' if none was run."""
    run = [c for c in candidates if c.summary is not None]
    if not run:
        return "."

    def shortfall(c: Candidate) -> float:
        means = c.summary.set_index("kpi")["mean"]
        total = 0.0
        for kpi, op, bound in targets:
            value = float(means.get(kpi, math.nan))
            gap = value - bound if op == "<=" else bound - value
            total += max(gap, 0.0) / max(abs(bound), 1e-9) if math.isfinite(gap) else math.inf
        return total

    best = min(run, key=lambda c: (shortfall(c), c.cost, c.values))
    return (
        f"; the closest of those run: {', '.join(best.overrides)} (cost {best.cost:,.0f} a week)"
        + _missed(best)
        + "."
    )


def _missed(c: Candidate) -> str:
    """', still missing: <kpi> <worst end> against <target>; ...' for a combination run: what
    a director must move (a wider range, or the target) to get a plan."""
    from simulation.kpis import describe, fmt

    if c.target_table is None:
        return ""
    said = []
    for row in c.target_table.itertuples():
        if row.met is True:
            continue
        unit = describe(row.kpi).unit
        op, _, bound = str(row.target).partition(" ")
        worst = (
            "too few replications had any"
            if row.met is None
            else f"{fmt(row.worst_case, unit, weeks=False)} at the worst end of its 95% CI"
        )
        said.append(f"{row.kpi} {worst}, against {op} {fmt(float(bound), unit, weeks=False)}")
    return f", still missing: {'; '.join(said)}" if said else ""


def _trim(
    best: Candidate, candidates: list[Candidate], evaluate: Callable[[Candidate], None]
) -> None:
    """From a success, step each capacity down one level at a time while the cost stays the
    same and the targets are still met: ends at a combination where no single step down works."""
    by_values = {c.values: c for c in candidates}
    levels = [sorted({c.values[i] for c in candidates}) for i in range(len(best.values))]
    moved = True
    while moved:
        moved = False
        for i, value in enumerate(best.values):
            position = levels[i].index(value)
            if position == 0:
                continue
            lower = by_values.get(
                (*best.values[:i], levels[i][position - 1], *best.values[i + 1 :])
            )
            if lower is None or lower.cost != best.cost or lower.status not in ("unknown", "met"):
                continue
            if lower.status == "unknown":
                evaluate(lower)
            if lower.status == "met":
                best, moved = lower, True
                break


def _bisect(candidates: list[Candidate], evaluate: Callable[[Candidate], None]) -> None:
    """One capacity, cost rising with it: bisect for the smallest value that meets targets."""
    chain = sorted(candidates, key=lambda c: c.values)
    low, high = 0, len(chain) - 1
    if chain[high].status == "unknown":
        evaluate(chain[high])
    if chain[high].status != "met":
        return
    while low < high:
        mid = (low + high) // 2
        evaluate(chain[mid])
        if chain[mid].status == "met":
            high = mid
        else:
            low = mid + 1
