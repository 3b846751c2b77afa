"""iopsim from Python: ``import iopsim`` (this package, installed under that name; the code
lives in ``simulation/``). A small surface for notebooks and scripts, returning the tables the
command line writes:

>>> import iopsim
>>> clinic = iopsim.load("baseline")                       # a bundled scenario, or a .toml path
>>> clinic = iopsim.change(clinic, ["staff.therapists.count=2", "horizon_weeks=8"])
>>> result = iopsim.run(clinic, replications=2)
>>> row = result.summary.set_index("kpi").loc["wait_to_iop_days_mean"]
>>> bool(row["ci_low"] <= row["mean"] <= row["ci_high"])
True
>>> table = iopsim.compare([clinic, iopsim.change(clinic, ["staff.intake.count=2"])],
...                        labels=["now", "second intake"], replications=2)
>>> sorted(set(table["scenario"]))
['now', 'second intake']

Bad input raises ``iopsim.ScenarioError`` naming the field, the value and what is allowed:

>>> iopsim.change(clinic, ["staff.therapists.count=-1"])
Traceback (most recent call last):
...
simulation.config.base.ScenarioError: ...staff.therapists.count...
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from simulation.config import Scenario, ScenarioError, apply_overrides, bundled, validate
from simulation.config import load as _load

__all__ = [
    "Scenario",
    "ScenarioError",
    "load",
    "validate",
    "change",
    "run",
    "compare",
    "sweep",
    "plan",
    "fit",
    "forecast",
]


def load(scenario: str | Path) -> Scenario:
    """A scenario by bundled name (``"baseline"``, ``"network"``) or from a TOML file,
    checked as the command line checks it."""
    path = Path(scenario)
    if path.suffix == ".toml" or path.exists():
        return _load(path)
    return _load(bundled(str(scenario)))


def change(scenario: Scenario, overrides: list[str]) -> Scenario:
    """The scenario with ``KEY=VALUE`` changes (as ``--set``), checked again; a change to a
    value nothing in the scenario uses is warned of (``UserWarning``), as ``--set`` does."""
    changed = apply_overrides(scenario, list(overrides))
    _warn_unused(changed, [str(o).split("=", 1)[0].strip() for o in overrides])
    return changed


def _warn_unused(scenario: Scenario, keys: list[str]) -> None:
    import warnings

    from simulation.config import unused_change_warnings

    for note in unused_change_warnings(scenario, keys):
        warnings.warn(note, UserWarning, stacklevel=3)


def run(
    scenario: Scenario | str,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
):
    """Run a scenario: an ExperimentResult with ``summary`` (summary.csv), ``kpis``
    (kpis.csv), ``targets``, ``tables`` (the run folder's tables by name) and ``notes`` (the
    scenario's warnings first, as ``iopsim run`` prints them)."""
    from simulation.experiment import run_experiment

    sc = load(scenario) if isinstance(scenario, str | Path) else scenario
    result = run_experiment(sc, replications=replications, seed=seed, workers=workers)
    return result.say_scenario_warnings()


def compare(
    scenarios: list[Scenario],
    labels: list[str] | None = None,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
) -> pd.DataFrame:
    """Several scenarios on the same seed (common random numbers): comparison.csv, each KPI
    of each with its CI and the paired difference to the first."""
    from simulation.planning import comparison_table

    labels = labels or [sc.name for sc in scenarios]
    seed = scenarios[0].seed if seed is None else seed
    results = [run(sc, replications, seed, workers) for sc in scenarios]
    return comparison_table(labels, [r.kpis for r in results], [seed] * len(results))


def sweep(
    scenario: Scenario,
    grid: list[str],
    folder: str | Path,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
) -> pd.DataFrame:
    """Every combination of ``KEY=LOW..HIGH`` or ``KEY=a,b,c`` values (as ``--grid``), each
    cell written to ``folder`` as it finishes (a rerun resumes): the sweep's long table."""
    from simulation import planning

    factors = [planning.parse_factor(text, "--grid") for text in grid]
    _warn_unused(scenario, [f.key for f in factors])
    table, _ = planning.run_sweep(
        scenario,
        factors,
        Path(folder),
        replications or scenario.replications,
        scenario.seed if seed is None else seed,
        workers,
    )
    return table


def plan(
    scenario: Scenario,
    vary: list[str],
    targets: list[str] | None = None,
    replications: int | None = None,
    budget: float | None = None,
    workers: int = 1,
):
    """The cheapest combination of ``vary`` capacities (``KEY=LOW..HIGH``) that meets every
    target (the scenario's, and ``targets`` such as ``"wait_to_iop_days_p90<=28"``): a
    PlanResult (``recommendation``, ``table()``, ``notes``)."""
    from simulation import planning

    factors = [planning.parse_factor(text, "--vary") for text in vary]
    chosen = {k: (k, op, bound) for k, op, bound in scenario.target_list()}
    chosen.update({t[0]: t for t in planning.parse_targets(list(targets or []))})
    return planning.plan(
        scenario,
        factors,
        list(chosen.values()),
        replications or scenario.replications,
        scenario.seed,
        workers=workers,
        budget=budget,
    )


def fit(
    extract: str | Path,
    template: Scenario | str = "baseline",
    with_state: bool = True,
    timezone: str | None = None,
):
    """A clinic's scenario from its records (an episode extract: .csv, .xlsx, .parquet or a
    FHIR bundle): (the fitted Scenario, the fit with its evidence, its TOML text).
    ``timezone``: the clinic's (e.g. "America/New_York"), for an export whose times are in UTC."""
    from simulation.data.extract import Mapping, read_episodes
    from simulation.fit.clinic import fitted_scenario

    sc = load(template) if isinstance(template, str | Path) else template
    records = read_episodes(Path(extract), Mapping(timezone=timezone))
    return fitted_scenario(records, sc, with_state=with_state)


def forecast(scenario: Scenario, weeks: int | None = None, replications: int | None = None):
    """The coming weeks from the scenario's ``[state]`` (a fitted clinic on a date): the
    forecast table of ``iopsim forecast`` (forecast.csv: each series' median and 50% and 90%
    bands, week by week). Raises ScenarioError for a scenario without a state."""
    from simulation import results
    from simulation.experiment import run_experiment

    if scenario.state is None:
        raise ScenarioError(
            ["the scenario has no [state]: fit one with iopsim.fit(extract) (docs/data.md)"]
        )
    if weeks is not None:
        scenario = change(scenario, [f"horizon_weeks={int(weeks)}"])
    result = run_experiment(scenario, replications=replications, detail="forecast")
    return results.forecast_bands(result.tables["weekly"], begins=scenario.state.as_of)
