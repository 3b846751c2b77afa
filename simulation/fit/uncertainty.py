"""Uncertainty in fitted values, carried into forecasts: each replication draws the fitted
values from their sampling distributions (normal approximations to the 95% CIs), so a
forecast's bands hold both the clinic's randomness and what the data cannot pin down."""

from __future__ import annotations

import copy

import numpy as np

from simulation.config import Scenario, to_data, validate
from simulation.fit.evidence import Evidence
from simulation.fit.survival import Z95

GROUPS = {"intake.outcomes": 3, "iop.exit_shares": 3, "referrals.sources": 3}


def _draw(e: Evidence, rng: np.random.Generator) -> float:
    centre = float(e.value["mean"]) if isinstance(e.value, dict) else float(e.value)
    sd = (e.high - e.low) / (2 * Z95)
    return centre + sd * rng.standard_normal()


def scenario_draws(
    scenario: Scenario, evidence: list[Evidence], n: int, seed: int
) -> list[Scenario]:
    """``n`` versions of the fitted scenario, one per replication, with the fitted values
    drawn from their CIs (shares kept in [0, 1] and summing to 1; a stay or patience
    distribution is scaled, keeping its shape)."""
    rng = np.random.default_rng([seed, 7919])
    base = to_data(scenario)
    usable = [e for e in evidence if np.isfinite(e.low) and np.isfinite(e.high)]
    out = []
    for _ in range(n):
        data = copy.deepcopy(base)
        for e in usable:
            value = _draw(e, rng)
            parts = e.key.split(".")
            if isinstance(e.value, dict):  # a distribution: scale it
                node = data
                for part in parts[:-1]:
                    node = node[part]
                spec = dict(node[parts[-1]])
                scale = max(value, 1e-3) / float(spec["mean"])
                spec["mean"] = float(spec["mean"]) * scale
                if "sd" in spec:
                    spec["sd"] = float(spec["sd"]) * scale
                node[parts[-1]] = spec
            elif parts[0] == "referrals" and parts[1] == "sources":
                name = ".".join(parts[2:-1])
                for s in data["referrals"]["sources"]:
                    if s["name"] == name:
                        s["share"] = float(np.clip(value, 1e-4, 1.0))
            elif e.key == "referrals.per_week":
                data["referrals"]["per_week"] = float(max(value, 0.0))
            else:
                node = data
                for part in parts[:-1]:
                    node = node[part]
                node[parts[-1]] = float(np.clip(value, 0.0, 1.0))
        for shares in (data["intake"]["outcomes"], data["iop"]["exit_shares"]):
            total = sum(shares.values())
            for key in shares:
                shares[key] = shares[key] / total
        total = sum(s["share"] for s in data["referrals"]["sources"])
        for s in data["referrals"]["sources"]:
            s["share"] = s["share"] / total
        out.append(validate(data, "a draw of the fitted values"))
    return out


def run_with_uncertainty(scenario: Scenario, evidence, replications: int, workers: int = 1):
    """An experiment whose replication r runs draw r of the fitted values."""
    from simulation.experiment import assemble, describe_executor, now_iso, run_jobs

    started = now_iso()
    draws = scenario_draws(scenario, evidence, replications, scenario.seed)
    jobs = [(sc, r, scenario.seed, False, "forecast") for r, sc in enumerate(draws)]
    results = sorted((res for _, res in run_jobs(jobs, workers)), key=lambda res: res.replication)
    return assemble(scenario, results, scenario.seed, started, describe_executor(workers, None))
