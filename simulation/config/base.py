"""Values every part of a scenario is built from: the strict base model, the number types (shares, hours, names, weekdays) and the error that lists a scenario's problems."""

from __future__ import annotations

import difflib
import math
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
)

from simulation.problems import ProblemsError

Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


Hours = Annotated[float, Field(gt=0, le=24, allow_inf_nan=False)]


NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]


Name = Annotated[str, Field(min_length=1, max_length=200)]


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


SHARE_TOLERANCE = 1e-6


class _Model(BaseModel):
    # strict: a string is not a number ("8" is refused for seats), 1 is not true
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, strict=True)


def _check_sum_to_one(values: dict[str, float] | list[float], what: str) -> None:
    total = sum(values.values() if isinstance(values, dict) else values)
    if not math.isclose(total, 1.0, abs_tol=SHARE_TOLERANCE):
        raise ValueError(f"{what} must sum to 1, they sum to {total:.6g}")


class ScenarioError(ProblemsError):
    """A scenario (file, override or flag) that cannot be used; ``problems`` has one line each."""

    what = "the scenario"


def _did_you_mean(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _a(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun
