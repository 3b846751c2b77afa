"""Uncertainty in fitted values, carried into forecasts: each replication draws the fitted
values from their sampling distributions (normal approximations to the 95% CIs), so a
forecast's bands hold both the clinic's randomness and what the data cannot pin down."""

from __future__ import annotations

import copy
import zlib

import numpy as np

from simulation.config import Scenario, to_data, validate
from simulation.config.paths import item_index
from simulation.fit.evidence import Evidence
from simulation.fit.survival import Z95

GROUPS = {"intake.outcomes": 3, "iop.exit_shares": 3, "referrals.sources": 3}


def _draw(e: Evidence, rng: np.random.Generator) -> float:
    centre = float(e.value["mean"]) if isinstance(e.value, dict) else float(e.value)
    sd = (e.high - e.low) / (2 * Z95)
    return centre + sd * rng.standard_normal()


def _parent(data: dict, parts: list[str]) -> tuple[dict, str]:
    """The table holding the value a dotted evidence key names, and the value's key. A list on
    the way (levels, their routes, regions, sources, tracks) is entered at the item whose name
    (or a route's destination or reason) is the longest run of the key's next parts, so names
    with dots in them are found too."""
    node, i = data, 0
    while i < len(parts) - 1:
        if isinstance(node, list):
            for j in range(len(parts) - 1, i, -1):
                label = ".".join(parts[i:j])
                index = item_index(node, label)
                if index is not None:
                    node, i = node[index], j
                    break
            else:
                raise KeyError(".".join(parts))
        else:
            node, i = node[parts[i]], i + 1
    return node, parts[-1]


def _shares_valid(data: dict) -> None:
    """Drawn shares back within their rules: intake outcomes, exit shares, sources, regions,
    each region's split and the payers' shares (overall, by age group, by source) add up to 1;
    a level's routes add up to at most 1."""
    groups = [data["intake"]["outcomes"], data["iop"]["exit_shares"]]
    groups += [r["split"] for r in data.get("network", {}).get("regions", []) if r.get("split")]
    for shares in groups:
        _add_to_one([(shares, key) for key in shares])
    for items in (data["referrals"]["sources"], data.get("network", {}).get("regions", [])):
        _add_to_one([(x, "share") for x in items])
    payers = data.get("payers") or []
    if payers:  # (their overall shares, and their shares for each age group and source)
        _add_to_one([(p, "share") for p in payers])
        for table in ("shares_by_age_group", "shares_by_source"):
            for group in {g for p in payers for g in p.get(table, {})}:
                _add_to_one([(p[table], group) for p in payers if group in p.get(table, {})])
    for level in data.get("levels", []):
        total = sum(r["share"] for r in level.get("routes", []))
        if total > 1:  # (what the routes leave is discharge: never below none)
            for r in level["routes"]:
                r["share"] = r["share"] / total


def _add_to_one(cells: list[tuple[dict, str]]) -> None:
    """Shares (each ``node[key]``) scaled to add up to 1 (left as they are if all are 0)."""
    total = sum(node[key] for node, key in cells)
    if total > 0:
        for node, key in cells:
            node[key] = node[key] / total


def scenario_draws(
    scenario: Scenario, evidence: list[Evidence], n: int, seed: int
) -> list[Scenario]:
    """``n`` versions of the fitted scenario, one per replication, with the fitted values
    drawn from their CIs (shares kept in [0, 1] and within their groups' rules; a stay or
    patience distribution is scaled, keeping its shape). Levels of care, their routes and a
    network's regions are drawn like the IOP's values."""
    base = to_data(scenario)
    usable = [e for e in evidence if np.isfinite(e.low) and np.isfinite(e.high)]
    out = []
    for draw in range(n):
        data = copy.deepcopy(base)
        for e in usable:
            # each value's own stream, keyed by its name: a value fitted beside it (a new
            # column in the records) leaves its draws as they were
            stream = np.random.default_rng([seed, 7919, draw, zlib.crc32(e.key.encode())])
            value = _draw(e, stream)
            if e.key == "referrals.per_week":
                data["referrals"]["per_week"] = float(max(value, 0.0))
                continue
            node, key = _parent(data, e.key.split("."))
            if isinstance(e.value, dict):  # a distribution: scale it
                spec = dict(node[key])
                scale = max(value, 1e-3) / float(spec["mean"])
                spec["mean"] = float(spec["mean"]) * scale
                if "sd" in spec:
                    spec["sd"] = float(spec["sd"]) * scale
                node[key] = spec
            elif key == "share" and e.key.startswith("referrals.sources."):
                node[key] = float(np.clip(value, 1e-4, 1.0))
            else:
                node[key] = float(np.clip(value, 0.0, 1.0))
        _shares_valid(data)
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
