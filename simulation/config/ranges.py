"""How far an uncertain input may be off (``[uncertainty]``): the check of one entry."""

from __future__ import annotations

import math
import re

from simulation.config.paths import value_at

PERCENT = re.compile(r"^\s*(?:\+-|±|\+/-)\s*(\d+(?:\.\d+)?)\s*%\s*$")


def range_problem(key: str, spec, data: dict) -> str:
    """A readable problem with an ``[uncertainty]`` entry, or '' when it is usable."""
    where = f"uncertainty.{key}"
    try:
        value = value_at(data, key)
    except KeyError as exc:
        return f"{where}: not a scenario value ({exc.args[0]})"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{where}: the scenario's value is {value!r}, not a number that can vary"
    if isinstance(spec, list):
        if len(spec) != 2 or not all(math.isfinite(x) for x in spec) or spec[0] >= spec[1]:
            return f"{where} = {spec}: write [low, high] with low < high"
    elif isinstance(spec, str) and not PERCENT.match(spec):
        return f'{where} = {spec!r}: write "+-20%", [low, high] or a distribution'
    return ""
