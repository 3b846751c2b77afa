"""Shared fixtures: the bundled scenarios and small, fast variants of them."""

from __future__ import annotations

import functools

import pytest

from simulation import scenario as scenarios
from simulation.replication import run_replication


@functools.cache
def baseline() -> scenarios.Scenario:
    return scenarios.load(scenarios.bundled("baseline"))


def variant(*overrides: str, base: scenarios.Scenario | None = None) -> scenarios.Scenario:
    """The baseline (or ``base``) with ``KEY=VALUE`` overrides."""
    return scenarios.apply_overrides(base or baseline(), list(overrides))


def short(*overrides: str) -> scenarios.Scenario:
    """A quick baseline: 4 weeks warm-up, 20 weeks measured."""
    return variant("warmup_weeks=4", "horizon_weeks=20", *overrides)


@functools.cache
def _cached_run(scenario_json: str, replication: int, seed: int):
    sc = scenarios.Scenario.model_validate_json(scenario_json)
    return run_replication(sc, replication, seed)


def run(scenario: scenarios.Scenario, replication: int = 0, seed: int | None = None):
    """One replication (cached: several tests read the same run)."""
    return _cached_run(
        scenario.model_dump_json(), replication, scenario.seed if seed is None else seed
    )


@pytest.fixture
def baseline_scenario() -> scenarios.Scenario:
    return baseline()
