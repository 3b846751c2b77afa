"""Shared fixtures: the bundled scenarios and small, fast variants of them."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from simulation import config as scenarios
from simulation.replication import run_replication

CLINIC = Path(__file__).with_name("clinic.toml")
"""The test clinic: the bundled baseline as it was before its re-staffing (2026-12), fixed so
that re-calibrating the bundled baseline moves no test of a single mechanism."""


@functools.cache
def baseline() -> scenarios.Scenario:
    """The test clinic (``CLINIC``) that the tests of mechanisms vary."""
    return scenarios.load(CLINIC)


@functools.cache
def bundled_baseline() -> scenarios.Scenario:
    """The bundled baseline, for tests of what ships (what-ifs, calibration)."""
    return scenarios.load(scenarios.bundled("baseline"))


@functools.cache
def plain_baseline() -> scenarios.Scenario:
    """The baseline without the behaviours that make clients' fates depend on what happens to
    them: a fixed 40% lost before assessment, one attendance chance for all, exits
    drawn at the start with the published mix, appointments at any hour. Tests of a single
    mechanism switch it on against this."""
    data = scenarios.to_data(baseline())
    del data["intake"]["patience_days"]
    data["intake"]["lost_share"] = 0.40
    for key in ("attendance_sd", "dropout_per_missed_session"):
        del data["iop"][key]
    data["iop"]["exit_shares"] = {
        "completed": 0.40,
        "dropped_out": 0.36,
        "escalated": 0.07,
        "other": 0.17,
    }
    for track in data["tracks"]:
        track["client_hours"] = "always"
    return scenarios.validate(data, "the plain baseline")


def variant(*overrides: str, base: scenarios.Scenario | None = None) -> scenarios.Scenario:
    """The baseline (or ``base``) with ``KEY=VALUE`` overrides."""
    return scenarios.apply_overrides(base or baseline(), list(overrides))


def short(*overrides: str) -> scenarios.Scenario:
    """A quick baseline: 4 weeks warm-up, 20 weeks measured."""
    return variant("warmup_weeks=4", "horizon_weeks=20", *overrides)


def plain_short(*overrides: str) -> scenarios.Scenario:
    """``short`` on the plain baseline (see ``plain_baseline``)."""
    return variant("warmup_weeks=4", "horizon_weeks=20", *overrides, base=plain_baseline())


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
