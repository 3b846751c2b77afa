"""Uncertain inputs: which scenario values a director is unsure of, and how far they may be off.

An uncertain input is a dotted scenario key (``referrals.per_week``,
``intake.patience_days.mean``, ``tracks.evening.seats``) with a range. Ranges come from, in
order: ``--vary KEY=LOW..HIGH`` on the command line, the scenario's ``[uncertainty]`` table
(``[low, high]``, ``"+-20%"`` or a distribution), and otherwise every number the scenario file
marks as an estimate (``[E]`` in its comment), taken +-20%. One-at-a-time sensitivity uses each
input's low and high (a distribution's 5th and 95th percentiles); global sensitivity and robust
plans draw inputs from their ranges (uniform over ``[low, high]``, or the distribution).
"""

from __future__ import annotations

import contextlib
import math
import re
import tomllib
from dataclasses import dataclass

import numpy as np

from simulation.config import Scenario, ScenarioError, apply_overrides, value_at, why_unused
from simulation.config.paths import _key_parts
from simulation.config.ranges import PERCENT, range_problem

DEFAULT_SPREAD = 0.20  # an estimate with no range of its own: +-20% [E]
SHARE_WORDS = ("share", "attendance", "probability", "multiplier_share")
EXCLUDED = ("seed", "replications", "warmup_weeks", "horizon_weeks")
# shares that sum to 1 with their siblings cannot move alone
IN_A_MIX = re.compile(r"^(referrals\.sources\.[^.]+|payers\.[^.]+)\.share$|exit_shares|outcomes")


@dataclass(frozen=True)
class UncertainInput:
    """One uncertain input: its key, the scenario's value, its range and where that came from.
    ``quantiles`` (a distribution's) maps probabilities to values; None: uniform."""

    key: str
    base: float
    low: float
    high: float
    source: str
    integer: bool = False
    quantiles: tuple[float, ...] | None = None

    def at(self, u: np.ndarray | float) -> np.ndarray:
        """The input's value at probability ``u`` in [0, 1] (its inverse CDF)."""
        u = np.asarray(u, dtype=float)
        if self.quantiles is None:
            values = self.low + u * (self.high - self.low)
        else:
            grid = np.linspace(0.0, 1.0, len(self.quantiles))
            values = np.interp(u, grid, self.quantiles)
        return np.round(values) if self.integer else values

    def override(self, value: float) -> str:
        number = int(round(value)) if self.integer else float(value)
        return f"{self.key}={number!r}"


def _quantiles(spec) -> tuple[float, ...]:
    from simulation.distributions import sampler

    draws = sampler(spec)(np.random.default_rng(20261127), 20_000)
    return tuple(float(x) for x in np.quantile(draws, np.linspace(0.0, 1.0, 201)))


def _make(key: str, spec, base: float, source: str) -> UncertainInput:
    integer = isinstance(base, int) and not isinstance(base, bool)
    share = _is_share(key, base)
    if isinstance(spec, list | tuple):
        low, high = float(spec[0]), float(spec[1])
        return UncertainInput(key, base, low, high, source, integer)
    if isinstance(spec, str):
        spread = float(PERCENT.match(spec).group(1)) / 100
        low, high = base * (1 - spread), base * (1 + spread)
        if share:
            low, high = max(low, 0.0), min(high, 1.0)
        return UncertainInput(key, base, min(low, high), max(low, high), source, integer)
    q = _quantiles(spec)
    low, high = q[10], q[190]  # the 5th and 95th percentiles
    return UncertainInput(key, base, low, high, source, integer, q)


def _is_share(key: str, base: float) -> bool:
    last = key.rsplit(".", 1)[-1]
    return 0.0 <= base <= 1.0 and any(w in last for w in SHARE_WORDS)


def estimates_in(text: str) -> list[str]:
    """Dotted keys of the numbers a scenario file marks as estimates (``[E]`` in the comment
    on their line): plain numbers, and a distribution's mean when the whole table is marked.
    Integers (counts, seats) are decisions, not estimates, and are left out."""
    keys: list[str] = []
    table: list[str] = []
    pending: list[str] | None = None  # an array-of-tables item waiting for its name
    for raw in text.splitlines():
        line = raw.strip()
        header = re.match(r"^\[\[\s*([^\]]+?)\s*\]\]", line) or re.match(
            r"^\[\s*([^\]]+?)\s*\]", line
        )
        if header:
            parts = _key_parts(header.group(1))
            if line.startswith("[["):
                table, pending = parts, parts
            else:
                table, pending = parts, None
            continue
        if not line or line.startswith("#") or "=" not in line:
            continue
        code, _, comment = line.partition("#")
        name, _, value = code.partition("=")
        name, value = name.strip().strip("\"'"), value.strip()
        if pending is not None and name == "name":
            with contextlib.suppress(tomllib.TOMLDecodeError):
                table = [*pending, str(tomllib.loads(f"v = {value}")["v"])]
            pending = None
            continue
        if "[E]" not in comment:
            continue
        try:
            parsed = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            continue
        dotted = ".".join([*table, name])
        if isinstance(parsed, float):
            keys.append(dotted)
        elif isinstance(parsed, dict) and "mean" in parsed and "dist" in parsed:
            keys.append(f"{dotted}.mean")
    return keys


def parse_vary(text: str) -> tuple[str, list[float]]:
    """``KEY=LOW..HIGH`` -> (key, [low, high]); ScenarioError naming the flag otherwise."""
    key, sep, rest = text.partition("=")
    low, dots, high = rest.partition("..")
    try:
        pair = [float(low), float(high)]
    except ValueError:
        pair = []
    if not sep or not dots or len(pair) != 2 or not pair[0] < pair[1]:
        raise ScenarioError(
            [f"--vary {text!r}: write KEY=LOW..HIGH with LOW < HIGH, e.g. referrals.per_week=6..9"]
        )
    return key.strip(), pair


def uncertain_inputs(
    scenario: Scenario, text: str | None = None, vary: list[str] | tuple[str, ...] = ()
) -> list[UncertainInput]:
    """The scenario's uncertain inputs (see the module's docstring), in key order."""
    data = scenario.model_dump(mode="python", exclude_none=True)
    specs: dict[str, tuple[object, str]] = {}
    if scenario.uncertainty:
        specs = {k: (v, "[uncertainty]") for k, v in scenario.uncertainty.items()}
    elif text is not None:
        for key in estimates_in(text):
            if key.startswith(EXCLUDED) or IN_A_MIX.search(key) or not _holds(data, key):
                continue  # (an option the scenario turned off, e.g. by a --set, is no input)
            if why_unused(scenario, key) is None:  # (a value nothing uses moves nothing)
                specs[key] = (f"+-{100 * DEFAULT_SPREAD:g}%", "[E] +-20%")
    for item in vary:
        key, pair = parse_vary(item)
        specs[key] = (pair, "--vary")
    problems = []
    inputs = []
    for key, (spec, source) in sorted(specs.items()):
        problem = range_problem(key, spec if not hasattr(spec, "dist") else None, data)
        if problem:
            problems.append(
                problem.replace("uncertainty.", "" if source == "--vary" else "uncertainty.")
            )
            continue
        base = value_at(data, key)
        inputs.append(_within_what_the_scenario_allows(scenario, _make(key, spec, base, source)))
    if problems:
        raise ScenarioError(problems)
    return inputs


def _holds(data: dict, key: str) -> bool:
    """Whether the scenario holds a value at ``key`` (an optional one may be off)."""
    try:
        return value_at(data, key) is not None
    except KeyError:
        return False


def _within_what_the_scenario_allows(scenario: Scenario, item: UncertainInput) -> UncertainInput:
    """An input's range kept where the scenario stays valid: attendance with clients who
    differ (``iop.attendance_sd``) must leave room for the spread (a mean a with a(1 - a) above
    the sd squared); the baseline's 0.82 +-20% reached 0.984, which no sd of 0.15 allows, and
    its high level was never simulated. Said in the input's source."""
    sd = scenario.iop.attendance_sd
    if item.key != "iop.attendance" or not sd or item.quantiles is not None:
        return item
    room = math.sqrt(max(1 - 4 * sd * sd, 0.0)) / 2
    low, high = max(item.low, 0.5 - room + 1e-3), min(item.high, 0.5 + room - 1e-3)
    if (low, high) == (item.low, item.high):
        return item
    said = f"{item.source}, kept to {low:.3g}-{high:.3g}: what iop.attendance_sd = {sd:g} allows"
    return UncertainInput(item.key, item.base, low, high, said, item.integer)


def latin_hypercube(
    inputs: list[UncertainInput], count: int, key: list[int], spread: bool = False
) -> np.ndarray:
    """``count`` draws of the inputs (rows) on a Latin hypercube over their ranges, from the
    random stream ``key``; ``spread``: optimised so the points fill the space evenly."""
    from scipy.stats import qmc

    sampler = qmc.LatinHypercube(
        d=len(inputs),
        optimization="random-cd" if spread else None,
        seed=np.random.default_rng(key),
    )
    u = sampler.random(count)
    return np.column_stack([item.at(u[:, j]) for j, item in enumerate(inputs)])


def with_values(scenario: Scenario, inputs: list[UncertainInput], values) -> Scenario:
    """The scenario with each input set to its value (validated: ScenarioError if the
    combination is not a valid clinic)."""
    return apply_overrides(scenario, [i.override(v) for i, v in zip(inputs, values, strict=True)])
