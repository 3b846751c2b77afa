"""Probability distributions described in scenario files, and their samplers.

A distribution is an inline TOML table such as
``{dist = "lognormal", mean = 8.0, sd = 3.0, min = 4, max = 16}``; a bare number means a
fixed value. ``sampler(spec)`` turns a spec into a function ``(rng, size) -> ndarray``.
Optional ``min``/``max`` truncate by redrawing values outside the bounds (so the shape inside
the bounds is kept), falling back to clipping after a few rounds for extreme bounds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Literal

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PositiveFloat,
    model_validator,
)

Sampler = Callable[[np.random.Generator, int], np.ndarray]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, strict=True)
    min: NonNegative | None = None
    max: NonNegative | None = None

    @model_validator(mode="after")
    def _bounds_ordered(self):
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) must not be above max ({self.max})")
        return self


class Fixed(_Spec):
    """Always the same value."""

    dist: Literal["fixed"]
    value: NonNegative


class Exponential(_Spec):
    """Exponential with the given mean."""

    dist: Literal["exponential"]
    mean: PositiveFloat = Field(allow_inf_nan=False)


class Lognormal(_Spec):
    """Lognormal given by its own mean and standard deviation (not those of the log)."""

    dist: Literal["lognormal"]
    mean: PositiveFloat = Field(allow_inf_nan=False)
    sd: PositiveFloat = Field(allow_inf_nan=False)


class Gamma(_Spec):
    """Gamma given by its mean and standard deviation."""

    dist: Literal["gamma"]
    mean: PositiveFloat = Field(allow_inf_nan=False)
    sd: PositiveFloat = Field(allow_inf_nan=False)


class Triangular(_Spec):
    """Triangular between low and high with the given mode."""

    dist: Literal["triangular"]
    low: NonNegative
    mode: NonNegative
    high: NonNegative

    @model_validator(mode="after")
    def _ordered(self):
        if not (self.low <= self.mode <= self.high) or self.low == self.high:
            raise ValueError(
                f"need low <= mode <= high and low < high, got {self.low}, {self.mode}, {self.high}"
            )
        return self


class Uniform(_Spec):
    """Uniform between low and high."""

    dist: Literal["uniform"]
    low: NonNegative
    high: NonNegative

    @model_validator(mode="after")
    def _ordered(self):
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not be above high ({self.high})")
        return self


class Empirical(_Spec):
    """One of the listed values, with the given weights (equal weights when omitted)."""

    dist: Literal["empirical"]
    values: list[NonNegative] = Field(min_length=1)
    weights: list[NonNegative] | None = None

    @model_validator(mode="after")
    def _weights_match(self):
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"weights has {len(self.weights)} entries but values has {len(self.values)}"
                )
            if sum(self.weights) <= 0:
                raise ValueError("weights must not all be zero")
        return self


def _number_is_fixed(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return {"dist": "fixed", "value": value}
    return value


Distribution = Annotated[
    Fixed | Exponential | Lognormal | Gamma | Triangular | Uniform | Empirical,
    Field(discriminator="dist"),
    BeforeValidator(_number_is_fixed),
]


def mean_of(spec) -> float:
    """The mean of a spec before truncation (used for capacity estimates and docs)."""
    match spec:
        case Fixed():
            return spec.value
        case Exponential() | Lognormal() | Gamma():
            return spec.mean
        case Triangular():
            return (spec.low + spec.mode + spec.high) / 3
        case Uniform():
            return (spec.low + spec.high) / 2
        case Empirical():
            w = np.ones(len(spec.values)) if spec.weights is None else np.asarray(spec.weights)
            return float(np.dot(spec.values, w / w.sum()))
    raise TypeError(f"not a distribution: {spec!r}")


def largest_of(spec) -> float:
    """The largest value a spec can draw (inf when unbounded above)."""
    match spec:
        case Fixed():
            top = spec.value
        case Triangular() | Uniform():
            top = spec.high
        case Empirical():
            top = max(spec.values)
        case _:
            top = math.inf
    return top if spec.max is None else min(top, spec.max)


def _raw_sampler(spec) -> Sampler:
    match spec:
        case Fixed():
            value = spec.value
            return lambda rng, size: np.full(size, value, dtype=float)
        case Exponential():
            mean = spec.mean
            return lambda rng, size: rng.exponential(mean, size)
        case Lognormal():
            sigma2 = math.log1p((spec.sd / spec.mean) ** 2)
            mu, sigma = math.log(spec.mean) - sigma2 / 2, math.sqrt(sigma2)
            return lambda rng, size: rng.lognormal(mu, sigma, size)
        case Gamma():
            shape = (spec.mean / spec.sd) ** 2
            scale = spec.sd**2 / spec.mean
            return lambda rng, size: rng.gamma(shape, scale, size)
        case Triangular():
            low, mode, high = spec.low, spec.mode, spec.high
            return lambda rng, size: rng.triangular(low, mode, high, size)
        case Uniform():
            low, high = spec.low, spec.high
            return lambda rng, size: rng.uniform(low, high, size)
        case Empirical():
            values = np.asarray(spec.values, dtype=float)
            p = None if spec.weights is None else np.asarray(spec.weights) / sum(spec.weights)
            return lambda rng, size: rng.choice(values, size=size, p=p)
    raise TypeError(f"not a distribution: {spec!r}")


def sampler(spec) -> Sampler:
    """A function ``(rng, size) -> ndarray`` drawing from ``spec``, truncated to [min, max]."""
    raw = _raw_sampler(spec)
    low = -np.inf if spec.min is None else spec.min
    high = np.inf if spec.max is None else spec.max
    if spec.min is None and spec.max is None:
        return raw

    def truncated(rng: np.random.Generator, size: int) -> np.ndarray:
        values = raw(rng, size)
        for _ in range(20):  # redraw out-of-bounds values; bounded so it always ends
            outside = (values < low) | (values > high)
            n = int(outside.sum())
            if n == 0:
                return values
            values[outside] = raw(rng, n)
        return np.clip(values, low, high)

    return truncated
